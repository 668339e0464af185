/**
 * The formats of the configuration's strings, at their edges. Each pattern accepts the forms it
 * documents and refuses a valid value with anything before or after it, so a pattern that loses an
 * anchor or a quantifier fails here; each refusal prints exactly the field's own message (and only
 * that one: a check that stops at the first failure must stop). The numeric bounds are
 * config-boundaries.test.ts's; the cross-field rules are config-corpus.test.ts's.
 */
import { ConfigError, resolveEnvironment } from '../environments/load';
import { ImageSchema } from '../environments/schema';
import { staging } from '../environments/staging';
import { REPO } from './support/repository-copy';

type Config = Record<string, any>;

/** Sets `path` (dots and `[n]`) in a copy of staging's configuration and returns what the loader reports. */
function problemsWith(path: string, value: unknown): string[] {
  const config = structuredClone(staging.config) as Config;
  const keys = path.replace(/\[(\d+)\]/g, '.$1').split('.');
  let at: Config = config;
  for (const [i, k] of keys.slice(0, -1).entries()) at = at[k] ??= /^\d+$/.test(keys[i + 1]) ? [] : {};
  at[keys[keys.length - 1]] = value;
  try {
    resolveEnvironment({ ...staging, config }, REPO);
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return [...e.problems];
  }
}

interface Format {
  readonly path: string;
  readonly accepted: readonly unknown[];
  /** Each refused value is reported as `staging: <path> (<value as JSON>) <message>`. */
  readonly refused: readonly string[];
  readonly message: string;
}

const DNS_NAME = "is not a valid Kubernetes name: lowercase letters, digits and '-', at most 63 characters, starting and ending with a letter or digit";
const IDENTIFIER = "is not a PostgreSQL identifier: lowercase letters, digits and '_', at most 63 characters";
/** A valid value with something before it and after it: what a pattern without its anchors lets through. */
const framed = (valid: string, junk = '!') => [`${junk}${valid}`, `${valid}${junk}`];

const FORMATS: readonly Format[] = [
  {
    path: 'app.namespace',
    accepted: ['a', '0', 'a-0', 'x'.repeat(63)],
    refused: ['-a', 'a-', 'A', 'x'.repeat(64), ...framed('portal')],
    message: DNS_NAME,
  },
  {
    path: 'app.name',
    accepted: ['p', 'portal-2'],
    refused: ['2portal', 'portal-', ...framed('portal')],
    message: "is not a valid Kubernetes Service name: lowercase letters, digits and '-', at most 63 characters, starting with a letter and ending with a letter or digit",
  },
  {
    path: 'hosts[0].hostname',
    // One-letter labels, and a name of exactly 253 characters.
    accepted: ['a.b.example', `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`],
    refused: ['portal', 'portal.example.', `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`, '*.example.org', ...framed('portal.example')],
    message: 'is not a valid DNS host name',
  },
  {
    path: 'services.api.resources.requests.cpu',
    accepted: ['250m', '2', '0.5', '1.25', '.5', '.25m'],
    refused: ['1.', '1.x', '.x', 'm', '250mm', '1e3', ...framed('250m', 'x')],
    message: 'is not a valid Kubernetes CPU quantity (for example 250m or 2)',
  },
  {
    path: 'services.api.resources.requests.memory',
    accepted: ['1536Mi', '1.25Gi', '.5Gi', '1073741824', '1G'],
    refused: ['512m', '1.xGi', '.xGi', '1Gib', ...framed('1Gi', 'x')],
    message: 'is not a valid Kubernetes memory quantity (for example 512Mi or 2Gi)',
  },
  {
    path: 'services.web.health.livenessPath',
    accepted: ['/', '/healthz', "/a-b_c.d~e!$&'()*+,;=:@%/"],
    refused: ['healthz', '/health z', ...framed('/healthz', ' ')],
    message: 'is not an absolute HTTP path',
  },
  {
    path: 'services.api.writablePaths[0]',
    accepted: ['/tmp', '/a/b', '/.cache', '/a..b', '/a b'],
    refused: ['/', 'tmp', '/tmp/', '//tmp', '/a//b', '/.', '/..', '/./a', '/../a', '/a/./b', '/a/..'],
    message: "is not a normalized absolute path such as /tmp (no trailing '/', '//', '.' or '..')",
  },
  {
    path: 'tls.acmeEmail',
    accepted: ['a@b.co', 'team.portal+acme@mail.university.example', 'O\'Brien@x.example'],
    // A display name or brackets (<team@x.example>) are not part of an address; no TLD has one letter.
    refused: ['a@b', '@b.co', 'a@@b.co', 'a@b.c', '<team@x.example>', 'Team <team@x.example>', 'a..b@x.example', 'a@-x.example', ...framed('a@b.co', ' ')],
    message: 'is not an email address',
  },
  {
    path: 'data.postgres.database',
    accepted: ['a', '_a', 'portal_2', `a${'b'.repeat(62)}`],
    refused: ['2a', 'Portal', 'a-b', `a${'b'.repeat(63)}`, ...framed('portal')],
    message: IDENTIFIER,
  },
  {
    path: 'data.postgres.owner',
    accepted: ['portal_owner'],
    refused: framed('portal'),
    message: IDENTIFIER,
  },
  {
    path: 'data.postgres.name',
    accepted: ['p', 'portal-db-2', `c${'x'.repeat(49)}`],
    refused: ['2portal-db', 'portal-db-', 'Portal', ...framed('portal-db')],
    message: "is not a valid PostgreSQL cluster name: lowercase letters, digits and '-', starting with a letter and ending with a letter or digit",
  },
  {
    path: 'data.postgres.retentionPolicy',
    accepted: ['3d', '30d', '100d', '4w', '12m'],
    refused: ['0d', '03d', 'd', '30', '30x', '30dd', ...framed('30d', 'x')],
    message: 'is not a retention policy such as 30d, 4w or 3m',
  },
  {
    path: 'data.redis.maxmemory',
    accepted: ['200mb', '512kb'],
    refused: ['200MB', '200m', 'mb', ...framed('200mb', 'x')],
    message: 'is not a Redis memory size such as 256mb',
  },
  {
    path: 'backups.verifyTables[0]',
    accepted: ['students', 'public.students', '_a._b'],
    refused: ['a.b.c', 'public.', '.students', 'Public.students', ...framed('public.students')],
    message: 'is not a table name (schema.table or table, lowercase)',
  },
  {
    path: 'objectStorage.endpointURL',
    accepted: ['https://s3.example', 'https://s3.example/', 'https://minio.internal:9000'],
    refused: ['http://s3.example', 'https://s3.example:x', 'https://s3.example/bucket', ...framed('https://s3.example', ' ')],
    message: 'is not an https endpoint such as https://s3.eu-central-1.amazonaws.com',
  },
  {
    path: 'objectStorage.endpointURL',
    accepted: ['https://10.0.0.5:9000', 'https://s3.example:65535', 'https://s3.example:1'],
    // Well-formed but not a host or port: a port a URL parser refuses, a name of empty labels, a bare word.
    refused: ['https://s3.example:99999', 'https://s3.example:65536', 'https://s3.example:0', 'https://...', 'https://s3', 'https://-s3.example', 'https://999.1.1.1'],
    message: 'is not an https endpoint: the host must be a DNS name or an IPv4 address, the port 1-65535',
  },
  {
    path: 'clusterDomain',
    accepted: ['cluster.local', 'k8s.university.internal', 'local', 'c-1.example'],
    refused: ['.local', 'cluster..local', 'cluster.local.', 'Cluster.local', '-a.local', 'a_b.local', ...framed('cluster.local')],
    message: 'is not a DNS domain such as cluster.local',
  },
  {
    path: 'objectStorage.bucket',
    accepted: ['abc', 'backups.portal-2'],
    refused: ['ab', '-abc', 'abc-', 'Abc', ...framed('portal-backups')],
    message: 'is not an S3 bucket name',
  },
  {
    path: 'objectStorage.region',
    accepted: ['eu-central-1'],
    refused: ['EU', 'eu_central', ...framed('eu-central-1')],
    message: 'is not a region name',
  },
  {
    path: 'objectStorage.cidrs[0]',
    accepted: ['10.0.0.0/8', '203.0.113.7/32', '0.0.0.0/0', '2001:db8::/32', '::/128'],
    refused: [
      '10.0.0.0', '10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/x', '10.0.0.0/8/1', '10.0.0.0/', 'x/8',
      '::/129', '::/0128', '10.0.0/8', ' 10.0.0.0/8', '10.0.0.0/8 ',
    ],
    message: 'is not an address range in CIDR notation such as 203.0.113.0/24',
  },
  {
    // The same check as objectStorage.cidrs: a NetworkPolicy ipBlock takes both.
    path: 'gateway.loadBalancerCidrs[0]',
    accepted: ['10.20.30.0/28', '192.168.1.240/32', '2001:db8::/64'],
    refused: ['10.20.30.0', '10.20.30.0/33', '10.20.30/28', 'metallb-pool', '::/129', ' 10.20.30.0/28'],
    message: 'is not an address range in CIDR notation such as 203.0.113.0/24',
  },
  {
    path: 'externalSecrets.keyPrefix',
    accepted: ['student-portal/staging', 'A_b.c'],
    refused: ['a b', ...framed('portal/staging', ' ')],
    message: 'is not a secret-manager key prefix',
  },
  {
    path: 'alerting.slack.channel',
    accepted: ['#a', '#portal_alerts-2', `#${'a'.repeat(80)}`],
    refused: ['portal', '#', '#Portal', `#${'a'.repeat(81)}`, ...framed('#portal')],
    message: 'is not a Slack channel such as #portal-alerts',
  },
  {
    path: 'kubernetesVersion',
    accepted: ['1.31', '1.40'],
    refused: ['1.9', '2.31', '1.310', 'v1.31', '1.31.0'],
    message: 'is not a Kubernetes minor version such as 1.31',
  },
  {
    path: 'tls.renewBefore',
    accepted: ['720h', '48h30m', '2000h'],
    refused: ['30d', '1h 30m', '720', ...framed('720h', 'x')],
    message: 'is not a duration such as 720h or 90m',
  },
];

describe.each(FORMATS)('$path', ({ path, accepted, refused, message }) => {
  test.each(accepted.map((v) => [v]))('accepts %j', (value) => {
    expect(problemsWith(path, value)).toEqual([]);
  });
  test.each(refused.map((v) => [v]))('refuses %j with its message', (value) => {
    expect(problemsWith(path, value)).toEqual([`staging: ${path} (${JSON.stringify(value)}) ${message}`]);
  });
});

test('a PostgreSQL cluster name one character longer than CloudNativePG accepts', () => {
  expect(problemsWith('data.postgres.name', `c${'x'.repeat(50)}`)).toEqual([
    `staging: data.postgres.name ("c${'x'.repeat(50)}") is too long: CloudNativePG accepts cluster names of at most 50 characters`,
  ]);
});

describe('checks that stop at the first failure', () => {
  test('an empty duration is reported once, as empty', () => {
    expect(problemsWith('tls.renewBefore', '')).toEqual(['staging: tls.renewBefore must not be empty']);
  });

  test('a zero duration is reported as zero', () => {
    expect(problemsWith('externalSecrets.refreshInterval', '0h')).toEqual(['staging: externalSecrets.refreshInterval ("0h") must be longer than zero']);
  });

  test('a storage size that is not a quantity is not also reported as zero', () => {
    expect(problemsWith('data.uploads.storage.size', 'lots')).toEqual([
      'staging: data.uploads.storage.size ("lots") is not a valid Kubernetes storage quantity (for example 20Gi)',
    ]);
    expect(problemsWith('data.uploads.storage.size', '0Gi')).toEqual(['staging: data.uploads.storage.size ("0Gi") must be larger than zero']);
  });
});

describe('cron schedules name the field and the reason', () => {
  test('a 5-field schedule', () => {
    const [problem, ...rest] = problemsWith('backups.databaseSchedule', '15 2 * *');
    expect(rest).toEqual([]);
    expect(problem).toMatch(/^staging: backups\.databaseSchedule \("15 2 \* \*"\) is not a valid cron expression: .+/);
  });

  test('the 6-field schedule of base backups says that seconds come first', () => {
    const [problem, ...rest] = problemsWith('data.postgres.baseBackupSchedule', '0 1 * * *');
    expect(rest).toEqual([]);
    expect(problem).toMatch(
      /^staging: data\.postgres\.baseBackupSchedule \("0 1 \* \* \*"\) is not a valid 6-field cron expression \(seconds first, as CloudNativePG takes it\): .+/,
    );
  });
});

describe('image pins', () => {
  const valid = { repository: 'registry.example:5000/team/api', tag: '1.0.0', digest: `sha256:${'a'.repeat(64)}` };
  const messages = (pin: object) => {
    const r = ImageSchema.safeParse(pin);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')} ${i.message}`);
  };

  test.each([
    ['api'], ['team/api'], ['registry.example/team/api'], ['registry.example:5000/api'], ['localhost:5000/a.b_c-d/e.f.g'],
  ])('accepts the repository %j', (repository) => {
    expect(messages({ ...valid, repository })).toEqual([]);
  });

  test.each([
    ['Team/api'], ['team/api:1.0'], ['team//api'], ['team/api/'], ['registry.example:x/api'], ['!team/api'], ['team/api!'],
  ])('refuses the repository %j', (repository) => {
    expect(messages({ ...valid, repository })).toEqual([
      `repository (${JSON.stringify(repository)}) is not an image repository (no tag or digest here; those are separate fields)`,
    ]);
  });

  test.each([['1.0.0'], ['v2'], ['_x'], ['a'.repeat(128)]])('accepts the tag %j', (tag) => {
    expect(messages({ ...valid, tag })).toEqual([]);
  });

  test.each([['-1'], ['.1'], ['a'.repeat(129)], ['!1.0'], ['1.0!']])('refuses the tag %j', (tag) => {
    expect(messages({ ...valid, tag })).toEqual([`tag (${JSON.stringify(tag)}) is not a valid image tag`]);
  });

  test('refuses the tag "latest"', () => {
    expect(messages({ ...valid, tag: 'latest' })).toEqual(['tag must be an explicit version, not "latest"']);
  });

  test.each([[`sha256:${'a'.repeat(63)}`], [`sha256:${'A'.repeat(64)}`], [`x${valid.digest}`], [`${valid.digest}0`], [`sha512:${'a'.repeat(64)}`]])(
    'refuses the digest %j',
    (digest) => {
      expect(messages({ ...valid, digest })[0]).toMatch(new RegExp(`^digest \\(${JSON.stringify(digest)}\\) `));
      expect(messages({ ...valid, digest })).toHaveLength(1);
    },
  );
});
