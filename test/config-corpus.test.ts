/**
 * The corpus of invalid configurations: each case is a small change to the real production or
 * staging definition (or to its image pin file), and asserts the complete list of messages, so an
 * extra or a missing message fails the test as surely as a wrong one.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { isCronExpression } from '../environments/cron';
import { mergeConfig, type EnvironmentDefinition } from '../environments/define';
import { ConfigError, resolveEnvironment, resolveEnvironments } from '../environments/load';
import { production } from '../environments/production';
import { parseDuration, parseQuantity, parseRedisMemory } from '../environments/quantity';
import { crossFieldProblems, DIGEST_REQUIRED } from '../environments/rules';
import { staging } from '../environments/staging';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DEFS = { production, staging } as const;
type EnvName = keyof typeof DEFS;

const PRODUCTION_DIGEST_API = 'sha256:3c5e7a9b1d2f4a6c8e0b2d4f6a8c0e1b3d5f7a9c1e3b5d7f9a0c2e4b6d8f0a13';

interface Case {
  readonly name: string;
  readonly env: EnvName;
  /** Merged over the environment's definition (objects merge, arrays replace). */
  readonly overrides?: unknown;
  /** Dotted paths deleted from the merged definition (merging cannot remove a key). */
  readonly remove?: readonly string[];
  /** Content of the environment's pin file; null: no pin file at all; absent: the real one. */
  readonly pins?: string | null;
  readonly expected: readonly string[];
}

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'shipshape-corpus-'));
  mkdirSync(join(root, 'environments/images'), { recursive: true });
  for (const env of Object.keys(DEFS)) {
    copyFileSync(join(REPO, `environments/images/${env}.yaml`), join(root, `environments/images/${env}.yaml`));
  }
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** The real pin file of `env` with some fields of some services changed (undefined: removed). */
function pinsWith(env: EnvName, changes: Record<string, Record<string, unknown> | null>, options: { readonly workers?: boolean } = {}): string {
  const pins = parseYaml(readFileSync(join(REPO, `environments/images/${env}.yaml`), 'utf8')) as { services: Record<string, Record<string, unknown>> };
  for (const [service, fields] of Object.entries(changes)) {
    if (fields === null) {
      delete pins.services[service];
      continue;
    }
    const pin = { ...pins.services[service], ...fields };
    for (const [k, v] of Object.entries(pin)) if (v === undefined) delete pin[k];
    pins.services[service] = pin;
  }
  // Services last, so that a test may append one more service's pin to the text.
  const { services, workers, ...others } = pins as typeof pins & { workers?: unknown };
  return stringifyYaml({ ...others, ...(options.workers === false ? {} : { workers }), services });
}

function removePath(config: Record<string, unknown>, dotted: string): void {
  const keys = dotted.split('.');
  let node: Record<string, unknown> = config;
  for (const k of keys.slice(0, -1)) {
    node[k] = { ...(node[k] as Record<string, unknown>) };
    node = node[k] as Record<string, unknown>;
  }
  delete node[keys[keys.length - 1]];
}

function definition(c: Pick<Case, 'env' | 'overrides' | 'remove'>): EnvironmentDefinition {
  const base = DEFS[c.env];
  const config = mergeConfig(base.config, c.overrides ?? {}) as Record<string, unknown>;
  for (const p of c.remove ?? []) removePath(config, p);
  return { ...base, config };
}

/** The problems resolveEnvironment reports for a case, sorted; [] when it accepts the input. */
function problemsOf(c: Case): string[] {
  const file = join(root, `environments/images/${c.env}.yaml`);
  if (c.pins === null) rmSync(file);
  else if (c.pins !== undefined) writeFileSync(file, c.pins);
  try {
    resolveEnvironment(definition(c), root);
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return [...e.problems].sort();
  }
}

const PROD_PINS = 'production: environments/images/production.yaml:';
const STAGING_PINS = 'staging: environments/images/staging.yaml:';
const DNS_NAME = "is not a valid Kubernetes name: lowercase letters, digits and '-', at most 63 characters, starting and ending with a letter or digit";
const PROD_HOST = 'portal.university.example';

const cases: Case[] = [
  // Replicas
  {
    name: 'autoscaling minReplicas greater than maxReplicas',
    env: 'production',
    overrides: { services: { api: { autoscaling: { minReplicas: 5, maxReplicas: 3 } } } },
    expected: ['production: services.api.autoscaling.minReplicas (5) is greater than maxReplicas (3)'],
  },
  {
    name: 'production autoscaling minimum below 2',
    env: 'production',
    overrides: { services: { web: { autoscaling: { minReplicas: 1 } } } },
    expected: ['production: services.web.autoscaling.minReplicas (1) is below 2: production runs at least 2 replicas of every service so one pod can fail or be evicted'],
  },
  {
    name: 'production fixed replica count below 2',
    env: 'production',
    overrides: { services: { api: { replicas: 1 } } },
    remove: ['services.api.autoscaling'],
    expected: ['production: services.api.replicas (1) is below 2: production runs at least 2 replicas of every service so one pod can fail or be evicted'],
  },
  {
    name: 'replicas and autoscaling both set',
    env: 'staging',
    overrides: { services: { api: { replicas: 3 } } },
    expected: ['staging: services.api.replicas and autoscaling are both set: choose one (the HorizontalPodAutoscaler owns replicas when autoscaling is on)'],
  },
  {
    name: 'neither replicas nor autoscaling',
    env: 'staging',
    remove: ['services.web.autoscaling'],
    expected: ['staging: services.web needs either replicas or autoscaling'],
  },
  {
    name: 'replica count zero',
    env: 'staging',
    overrides: { services: { web: { autoscaling: { minReplicas: 0 } } } },
    expected: ['staging: services.web.autoscaling.minReplicas (0) must be at least 1'],
  },

  // Images and their pin files
  {
    name: 'production image without digest (tag only)',
    env: 'production',
    pins: pinsWith('production', { api: { digest: undefined } }),
    expected: [`${PROD_PINS} services.api.digest is required in production: application images are pinned by digest, not by tag alone`],
  },
  {
    name: 'tag latest (staging)',
    env: 'staging',
    pins: pinsWith('staging', { web: { tag: 'latest' } }),
    expected: [`${STAGING_PINS} services.web.tag must be an explicit version, not "latest"`],
  },
  {
    name: 'production tag latest and no digest: both reported',
    env: 'production',
    pins: pinsWith('production', { web: { tag: 'latest', digest: undefined } }),
    expected: [
      `${PROD_PINS} services.web.digest is required in production: application images are pinned by digest, not by tag alone`,
      `${PROD_PINS} services.web.tag must be an explicit version, not "latest"`,
    ],
  },
  {
    name: 'digest that is not a sha256 digest',
    env: 'production',
    pins: pinsWith('production', { api: { digest: 'sha256:abc123' } }),
    expected: [`${PROD_PINS} services.api.digest ("sha256:abc123") is not an image digest (sha256: followed by 64 lowercase hex digits)`],
  },
  {
    name: 'repository with a tag in it',
    env: 'production',
    pins: pinsWith('production', { web: { repository: 'registry.university.example/student-portal/web:2.14.0' } }),
    expected: [`${PROD_PINS} services.web.repository ("registry.university.example/student-portal/web:2.14.0") is not an image repository (no tag or digest here; those are separate fields)`],
  },
  {
    name: 'repository with upper-case letters',
    env: 'staging',
    pins: pinsWith('staging', { api: { repository: 'Registry/API' } }),
    expected: [`${STAGING_PINS} services.api.repository ("Registry/API") is not an image repository (no tag or digest here; those are separate fields)`],
  },
  {
    name: 'pin file pins an unknown service',
    env: 'production',
    pins: pinsWith('production', { worker: { repository: 'registry.university.example/student-portal/worker', tag: '1.0.0', digest: PRODUCTION_DIGEST_API } }),
    expected: [`${PROD_PINS} services.worker pins an image for a service this environment does not have`],
  },
  {
    name: 'pin file misses a service',
    env: 'staging',
    pins: pinsWith('staging', { web: null }),
    expected: [`${STAGING_PINS} services.web is required: every service of the environment needs an image pin`],
  },
  {
    name: 'pin with an unknown field',
    env: 'staging',
    pins: pinsWith('staging', { api: { digests: PRODUCTION_DIGEST_API } }),
    expected: [`${STAGING_PINS} services.api.digests is not a known field (did you mean digest?)`],
  },
  {
    name: 'pin file that is not valid YAML',
    env: 'production',
    pins: 'services:\n  web: [repository\n',
    expected: ['production: environments/images/production.yaml is not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ] at line 3, column 1:'],
  },
  {
    name: 'pin file that is empty',
    env: 'staging',
    pins: '# nothing pinned yet\n',
    expected: ['staging: environments/images/staging.yaml is empty: it must map services.<name> to { repository, tag, digest }'],
  },
  {
    name: 'pin file without services',
    env: 'staging',
    pins: 'images: {}\n',
    expected: [
      `${STAGING_PINS} images is not a known field`,
      `${STAGING_PINS} services is required`,
    ],
  },
  {
    name: 'missing pin file',
    env: 'production',
    pins: null,
    expected: ['production: environments/images/production.yaml does not exist'],
  },
  {
    name: 'image written in the environment file instead of the pin file',
    env: 'staging',
    overrides: { services: { web: { image: { tag: '2.16.0' } } } },
    expected: ['staging: services.web.image is set here, but images come only from environments/images/staging.yaml'],
  },

  // Migrations (a Sync hook Job per service that has one)
  {
    name: 'a migration of a service that does not use PostgreSQL',
    env: 'staging',
    overrides: { services: { web: { migration: { command: ['npm', 'run', 'migrate'] } } } },
    expected: ['staging: services.web.migration is set, but services.web does not use postgres: a migration changes data.postgres\'s schema (add \'postgres\' to uses)'],
  },
  {
    name: 'a migration that runs the service\'s own image without a command',
    env: 'production',
    remove: ['services.api.migration.command'],
    expected: [
      'production: services.api.migration.command is required with the service\'s own image: its entrypoint starts the service, which never exits '
      + '(or pin an image of its own under migrations.api in the pin file)',
    ],
  },
  {
    name: 'a migration image written in the environment file instead of the pin file',
    env: 'staging',
    overrides: { services: { api: { migration: { image: { repository: 'docker.io/flyway/flyway', tag: '11.8.2' } } } } },
    expected: ['staging: services.api.migration.image is set here, but images come only from environments/images/staging.yaml (migrations.api)'],
  },
  {
    name: 'a migration image without a digest in production, reported once',
    env: 'production',
    pins: `${pinsWith('production', {})}migrations:\n  api:\n    repository: registry.university.example/student-portal/api-migrations\n    tag: 3.7.2\n`,
    expected: [`${PROD_PINS} migrations.api.digest ${DIGEST_REQUIRED}`],
  },
  {
    name: 'a malformed migration pin, reported at the pin file only',
    env: 'staging',
    pins: `${pinsWith('staging', {})}migrations:\n  api:\n    repository: registry.university.example/student-portal/api-migrations\n    tag: latest\n`,
    expected: [`${STAGING_PINS} migrations.api.tag must be an explicit version, not "latest"`],
  },
  {
    name: 'migration pins for a service without a migration and for no service at all',
    env: 'staging',
    pins: `${pinsWith('staging', {})}migrations:\n`
      + '  web:\n    repository: registry.university.example/student-portal/web-migrations\n    tag: 1.0.0\n'
      + '  worker:\n    repository: registry.university.example/student-portal/worker-migrations\n    tag: 1.0.0\n',
    expected: [
      `${STAGING_PINS} migrations.web pins a migration image, but services.web has no migration`,
      `${STAGING_PINS} migrations.worker pins a migration image for a service this environment does not have`,
    ],
  },
  {
    name: 'migration variables that set an injected one or refer to what a migration does not get',
    env: 'staging',
    overrides: { services: { api: { migration: { env: { DATABASE_PASSWORD: 'hunter2', SPRING_DATA_REDIS_PASSWORD: '$(REDIS_PASSWORD)' } } } } },
    expected: [
      'staging: services.api.migration.env.DATABASE_PASSWORD is injected for the migration (pointing at the primary); remove it from env',
      'staging: services.api.migration.env.SPRING_DATA_REDIS_PASSWORD refers to $(REDIS_PASSWORD), which a migration does not get: '
      + 'it gets only PostgreSQL\'s variables (DATABASE_HOST, DATABASE_PORT, DATABASE_NAME, DATABASE_USER, DATABASE_PASSWORD)',
    ],
  },
  {
    name: 'a migration deadline over an hour and a negative retry count',
    env: 'production',
    overrides: { services: { api: { migration: { timeoutSeconds: 7200, backoffLimit: -1 } } } },
    expected: [
      'production: services.api.migration.backoffLimit (-1) must be at least 0',
      'production: services.api.migration.timeoutSeconds (7200) must be at most 3600',
    ],
  },

  // Unknown keys, missing fields, wrong types
  {
    name: 'unknown keys at top level and nested',
    env: 'production',
    overrides: { replicas: 3, services: { api: { replicaz: 4 } }, data: { postgres: { Instances: 3 } } },
    expected: [
      'production: data.postgres.Instances is not a known field (did you mean instances?)',
      'production: replicas is not a known field',
      'production: services.api.replicaz is not a known field (did you mean replicas?)',
    ],
  },
  {
    name: 'missing required fields',
    env: 'staging',
    remove: ['slo.latency', 'data.postgres.owner'],
    expected: ['staging: data.postgres.owner is required', 'staging: slo.latency is required'],
  },
  {
    name: 'wrong types',
    env: 'staging',
    overrides: { services: { web: { port: '3000', env: { PORT: 3000 }, writablePaths: '/tmp' } }, hosts: { hostname: 'x.example' }, production: 'no' },
    expected: [
      'staging: hosts (an object) must be a list',
      'staging: production ("no") must be true or false',
      'staging: services.web.env.PORT (3000) must be a string',
      'staging: services.web.port ("3000") must be a number',
      'staging: services.web.writablePaths ("/tmp") must be a list',
    ],
  },
  {
    name: 'fractional replica count and too many database instances',
    env: 'staging',
    overrides: { services: { web: { autoscaling: { maxReplicas: 4.5 } } }, data: { postgres: { instances: 12 } } },
    expected: [
      'staging: data.postgres.instances (12) must be at most 9',
      'staging: services.web.autoscaling.maxReplicas (4.5) must be an integer',
    ],
  },
  {
    name: 'value outside an enum',
    env: 'staging',
    overrides: { data: { redis: { maxmemoryPolicy: 'lru' } }, services: { api: { uses: ['postgres', 'mysql'] } } },
    expected: [
      'staging: data.redis.maxmemoryPolicy ("lru") must be one of "noeviction", "allkeys-lru", "volatile-lru", "allkeys-lfu", "volatile-lfu", "allkeys-random", "volatile-random", "volatile-ttl"',
      'staging: services.api.uses[1] ("mysql") must be one of "postgres", "redis", "uploads"',
    ],
  },
  {
    name: 'empty lists and strings',
    env: 'staging',
    overrides: { hosts: [{ hostname: 'portal.staging.university.example', routes: [] }], services: { web: { description: '' } } },
    expected: [
      'staging: hosts[0].routes needs at least 1 entry',
      'staging: services.web.description must not be empty',
    ],
  },

  // Names
  {
    name: 'invalid namespace name',
    env: 'production',
    overrides: { app: { namespace: 'Student_Portal' } },
    expected: [`production: app.namespace ("Student_Portal") ${DNS_NAME}`],
  },
  {
    name: 'service name that is not a Service name (record key)',
    env: 'staging',
    overrides: { services: { API: { description: 'upper case' }, '2fa': { description: 'starts with a digit' } } },
    expected: [
      "staging: services.2fa (\"2fa\") is not a valid Kubernetes Service name: lowercase letters, digits and '-', at most 63 characters, starting with a letter and ending with a letter or digit",
      "staging: services.API (\"API\") is not a valid Kubernetes Service name: lowercase letters, digits and '-', at most 63 characters, starting with a letter and ending with a letter or digit",
    ],
  },
  {
    name: 'service named like an object of the data tier',
    env: 'staging',
    overrides: { services: { redis: { ...(staging.config.services?.web ?? {}), calls: [] } } },
    pins: `${pinsWith('staging', {})}  redis:\n    repository: registry.university.example/student-portal/redis\n    tag: 7.4.0\n`,
    expected: ['staging: services.redis uses the name "redis", which the data tier or a fixed object of the environment already takes'],
  },
  {
    name: 'application name too long for the names made from it',
    env: 'production',
    overrides: { app: { name: 'student-portal-of-the-university-of-somewhere-far' } },
    expected: ['production: app.name ("student-portal-of-the-university-of-somewhere-far") is too long: "student-portal-of-the-university-of-somewhere-far-redis-headless", made from it, has 64 characters and Kubernetes allows 63'],
  },
  {
    name: 'invalid environment variable name',
    env: 'staging',
    overrides: { services: { web: { env: { 'next-public-url': 'x' } } } },
    expected: ["staging: services.web.env.next-public-url (\"next-public-url\") is not a valid environment variable name: letters, digits and '_', not starting with a digit"],
  },
  {
    name: 'environment name differs from its file',
    env: 'staging',
    overrides: { name: 'stage' },
    expected: ['staging: name ("stage") differs from the environment\'s file name (staging)'],
  },

  // Quantities
  {
    name: 'invalid CPU quantity',
    env: 'production',
    overrides: { services: { api: { resources: { requests: { cpu: '500 m' } } } } },
    expected: ['production: services.api.resources.requests.cpu ("500 m") is not a valid Kubernetes CPU quantity (for example 250m or 2)'],
  },
  {
    name: 'invalid memory quantities (GB, and m meaning thousandths)',
    env: 'production',
    overrides: { services: { web: { resources: { limits: { memory: '1GB' } } } }, data: { redis: { resources: { requests: { memory: '512m' } } } } },
    expected: [
      'production: data.redis.resources.requests.memory ("512m") is not a valid Kubernetes memory quantity (for example 512Mi or 2Gi)',
      'production: services.web.resources.limits.memory ("1GB") is not a valid Kubernetes memory quantity (for example 512Mi or 2Gi)',
    ],
  },
  {
    name: 'requests greater than limits',
    env: 'production',
    overrides: {
      services: { api: { resources: { requests: { memory: '2Gi', cpu: '2500m' } } } },
      data: { postgres: { resources: { requests: { memory: '9Gi' } } }, redis: { resources: { requests: { cpu: '1500m' } } } },
    },
    expected: [
      'production: data.postgres.resources.requests.memory (9Gi) is greater than limits.memory (8Gi)',
      'production: data.redis.resources.requests.cpu (1500m) is greater than limits.cpu (1)',
      'production: services.api.resources.requests.cpu (2500m) is greater than limits.cpu (2)',
      'production: services.api.resources.requests.memory (2Gi) is greater than limits.memory (1536Mi)',
    ],
  },
  {
    name: 'invalid storage sizes',
    env: 'production',
    overrides: { data: { postgres: { storage: { size: '100GB' }, walStorage: { size: '0Gi' } } } },
    expected: [
      'production: data.postgres.storage.size ("100GB") is not a valid Kubernetes storage quantity (for example 20Gi)',
      'production: data.postgres.walStorage.size ("0Gi") must be larger than zero',
    ],
  },
  {
    name: 'redis maxmemory at 75% of the memory limit: no room for a fork\'s copy-on-write',
    env: 'production',
    overrides: { data: { redis: { maxmemory: '1536mb' } } },
    expected: [
      'production: data.redis.maxmemory (1536mb) leaves too little of the memory limit (2Gi) for a background save\'s copy-on-write: '
      + 'at most 992mb (half of the limit after 64 MiB for buffers), or leave it out for that',
    ],
  },
  {
    name: 'redis maxmemory 0, which Redis reads as no limit',
    env: 'production',
    overrides: { data: { redis: { maxmemory: '0mb' } } },
    expected: ['production: data.redis.maxmemory ("0mb") must be larger than zero: 0 means no limit to Redis'],
  },
  {
    name: 'restore test scratch smaller than the database volume',
    env: 'production',
    overrides: { backups: { scratchSize: '99Gi' } },
    expected: ['production: backups.scratchSize (99Gi) is smaller than data.postgres.storage.size (100Gi): the weekly restore test restores the whole database into it'],
  },
  {
    name: 'restore test scratch in other units, not smaller',
    env: 'production',
    overrides: { backups: { scratchSize: '102400Mi' } },
    expected: [],
  },

  // Hosts and routes
  {
    name: 'invalid host name',
    env: 'production',
    overrides: { hosts: [{ hostname: 'portal_university.example', routes: [{ path: '/', service: 'web' }] }] },
    expected: ['production: hosts[0].hostname ("portal_university.example") is not a valid DNS host name'],
  },
  {
    name: 'host name that is not fully qualified',
    env: 'staging',
    overrides: { hosts: [{ hostname: 'localhost', routes: [{ path: '/', service: 'web' }] }] },
    expected: ['staging: hosts[0].hostname ("localhost") is not a valid DNS host name'],
  },
  {
    name: 'load balancer ranges that are not CIDR ranges',
    env: 'production',
    overrides: { gateway: { loadBalancerCidrs: ['10.20.30.0/28', '10.20.30.5', 'metallb-pool', '10.20.30.0/33'] } },
    expected: [
      'production: gateway.loadBalancerCidrs[1] ("10.20.30.5") is not an address range in CIDR notation such as 203.0.113.0/24',
      'production: gateway.loadBalancerCidrs[2] ("metallb-pool") is not an address range in CIDR notation such as 203.0.113.0/24',
      'production: gateway.loadBalancerCidrs[3] ("10.20.30.0/33") is not an address range in CIDR notation such as 203.0.113.0/24',
    ],
  },
  {
    name: 'a load balancer range listed twice',
    env: 'staging',
    overrides: { gateway: { loadBalancerCidrs: ['10.20.30.0/28', '2001:db8::/64', '10.20.30.0/28'] } },
    expected: ['staging: gateway.loadBalancerCidrs[2] ("10.20.30.0/28") is listed twice'],
  },
  {
    name: 'duplicate host',
    env: 'production',
    overrides: {
      hosts: [
        { hostname: PROD_HOST, routes: [{ path: '/', service: 'web' }] },
        { hostname: PROD_HOST, routes: [{ path: '/api', service: 'api' }] },
      ],
    },
    expected: [`production: hosts[1].hostname ("${PROD_HOST}") is listed twice`],
  },
  {
    name: 'route to an unknown service',
    env: 'production',
    overrides: { hosts: [{ hostname: PROD_HOST, routes: [{ path: '/', service: 'web' }, { path: '/admin', service: 'admin' }] }] },
    expected: ['production: hosts[0].routes[1].service ("admin") is not a service of this environment'],
  },
  {
    name: 'duplicate paths, also with a trailing slash',
    env: 'production',
    overrides: {
      hosts: [{
        hostname: PROD_HOST,
        routes: [{ path: '/', service: 'web' }, { path: '/api', service: 'api' }, { path: '/api/', service: 'web' }, { path: '/', service: 'api' }],
      }],
    },
    expected: [
      `production: hosts[0].routes[2].path ("/api/") is the same prefix as "/api" on ${PROD_HOST} (a trailing '/' does not count)`,
      `production: hosts[0].routes[3].path ("/") is routed twice on ${PROD_HOST}`,
    ],
  },
  {
    name: 'route path that is not absolute',
    env: 'staging',
    overrides: { hosts: [{ hostname: 'portal.staging.university.example', routes: [{ path: 'api', service: 'api' }] }] },
    expected: ['staging: hosts[0].routes[0].path ("api") is not an absolute HTTP path'],
  },

  // Calls and dependencies
  {
    name: 'calls an unknown service',
    env: 'production',
    overrides: { services: { web: { calls: ['api', 'search'] } } },
    expected: ['production: services.web.calls[1] ("search") is not a service of this environment'],
  },
  {
    name: 'calls and routes to names that only exist on Object.prototype',
    env: 'staging',
    overrides: {
      services: { web: { calls: ['api', 'constructor'] } },
      hosts: [{ hostname: 'portal.staging.university.example', routes: [{ path: '/', service: 'toString' }] }],
    },
    expected: [
      'staging: hosts[0].routes[0].service ("toString") is not a service of this environment',
      'staging: services.web.calls[1] ("constructor") is not a service of this environment',
    ],
  },
  {
    name: 'calls itself',
    env: 'production',
    overrides: { services: { web: { calls: ['api', 'web'] } } },
    expected: ['production: services.web.calls[1] ("web") is the service itself'],
  },
  {
    name: 'duplicates in uses, calls and egress ports',
    env: 'staging',
    overrides: { services: { web: { calls: ['api', 'api'], internetEgressPorts: [443, 443] }, api: { uses: ['postgres', 'redis', 'postgres'] } } },
    expected: [
      'staging: services.api.uses[2] ("postgres") is listed twice',
      'staging: services.web.calls[1] ("api") is listed twice',
      'staging: services.web.internetEgressPorts[1] (443) is listed twice',
    ],
  },
  {
    name: 'environment variable injected by uses set by hand',
    env: 'production',
    overrides: { services: { api: { env: { DATABASE_HOST: 'db.example', REDIS_PASSWORD: 'hunter2' } } } },
    expected: [
      'production: services.api.env.DATABASE_HOST is injected by uses: postgres; remove it from env',
      'production: services.api.env.REDIS_PASSWORD is injected by uses: redis; remove it from env',
    ],
  },
  {
    name: 'env refers to variables Kubernetes would not expand',
    env: 'staging',
    overrides: {
      services: {
        web: {
          env: {
            A_URL: 'http://$(HOSTNAME):$(PORT)', DB: '$(DATABASE_HOST)', LITERAL: '$$(NOT_A_REF)', TYPO: '$(NODE_EMV)',
            PING: 'x$(PONG)', PONG: 'y$(PING)', SELF: '$(SELF)-again',
          },
        },
      },
    },
    expected: [
      'staging: services.web.env.DB refers to $(DATABASE_HOST), which only uses: postgres injects',
      'staging: services.web.env.PING refers to $(PONG), which refers back to PING: Kubernetes cannot expand a cycle',
      'staging: services.web.env.PONG refers to $(PING), which refers back to PONG: Kubernetes cannot expand a cycle',
      'staging: services.web.env.SELF refers to itself ($(SELF)), which Kubernetes cannot expand',
      'staging: services.web.env.TYPO refers to $(NODE_EMV), which is not defined: Kubernetes would keep the text "$(NODE_EMV)"',
    ],
  },
  {
    // A cycle the referring variable is not part of: the search must still end, and report only the cycle.
    name: 'env refers into a cycle of other variables',
    env: 'staging',
    overrides: { services: { web: { env: { START: '$(LOOP_A)', LOOP_A: '$(LOOP_B)', LOOP_B: '$(LOOP_A)' } } } },
    expected: [
      'staging: services.web.env.LOOP_A refers to $(LOOP_B), which refers back to LOOP_A: Kubernetes cannot expand a cycle',
      'staging: services.web.env.LOOP_B refers to $(LOOP_A), which refers back to LOOP_B: Kubernetes cannot expand a cycle',
    ],
  },
  {
    name: 'the uploads directory: injected by uses: uploads only',
    env: 'staging',
    overrides: { services: { api: { env: { UPLOADS_DIR: '/srv' } }, web: { env: { FILES: '$(UPLOADS_DIR)/public' } } } },
    expected: [
      'staging: services.api.env.UPLOADS_DIR is injected by uses: uploads; remove it from env',
      'staging: services.web.env.FILES refers to $(UPLOADS_DIR), which only uses: uploads injects',
    ],
  },

  // Data components are optional, and each brings the sections it needs
  {
    name: 'a service uses a component the environment does not configure',
    env: 'staging',
    remove: ['data.redis', 'data.uploads', 'backups.filesSchedule'],
    expected: [
      'staging: services.api.uses[1] ("redis") is not configured: add data.redis, or remove it from uses',
      'staging: services.api.uses[2] ("uploads") is not configured: add data.uploads, or remove it from uses',
      // A worker's uses alike.
      'staging: workers.documents.uses[1] ("redis") is not configured: add data.redis, or remove it from uses',
      'staging: workers.documents.uses[2] ("uploads") is not configured: add data.uploads, or remove it from uses',
      // And a scheduled job's.
      'staging: jobs.purge-documents.uses[1] ("uploads") is not configured: add data.uploads, or remove it from uses',
    ],
  },
  {
    name: 'settings of components that are not configured',
    env: 'staging',
    // Without the worker, which uses every data component, and the job that runs its image.
    pins: pinsWith('staging', {}, { workers: false }),
    overrides: { services: { api: { uses: ['redis'] } } },
    remove: ['workers', 'jobs', 'data.postgres', 'data.uploads'],
    // objectStorage stays: Loki keeps its logs there.
    expected: ['staging: backups is set, but data.postgres or data.uploads is not configured'],
  },
  {
    name: 'backup settings of one missing component',
    env: 'staging',
    // Without the worker, which uses every data component, and the job that runs its image.
    pins: pinsWith('staging', {}, { workers: false }),
    overrides: { services: { api: { uses: ['postgres', 'redis'] } } },
    remove: ['workers', 'jobs', 'data.uploads'],
    expected: ['staging: backups.filesSchedule is set, but data.uploads is not configured'],
  },
  {
    name: 'the sections the data components need are missing',
    env: 'staging',
    remove: ['backups', 'objectStorage', 'externalSecrets'],
    expected: [
      'staging: backups is required: data.postgres and data.uploads are backed up on its schedules',
      'staging: externalSecrets is required: the credentials of data.postgres, data.redis, data.uploads come from the secret manager',
      'staging: objectStorage is required: data.postgres and data.uploads are backed up there',
    ],
  },
  {
    name: 'the database backup settings are missing',
    env: 'staging',
    remove: ['backups.databaseSchedule', 'backups.verifyTables', 'backups.filesSchedule'],
    expected: [
      'staging: backups.databaseSchedule is required: data.postgres is dumped on it',
      'staging: backups.filesSchedule is required: data.uploads is snapshotted on it',
      'staging: backups.verifyTables is required: the restore test checks these tables of data.postgres',
    ],
  },
  {
    name: 'cluster names CloudNativePG refuses',
    env: 'staging',
    overrides: { data: { postgres: { name: `c${'x'.repeat(50)}`, recovery: { source: 'student-portal-db', targetTime: '2026-11-22T03:15:00Z' } } } },
    expected: [`staging: data.postgres.name ("c${'x'.repeat(50)}") is too long: CloudNativePG accepts cluster names of at most 50 characters`],
  },
  {
    name: 'a cluster name that starts with a digit',
    env: 'staging',
    overrides: { data: { postgres: { name: '2portal-db' } } },
    expected: [`staging: data.postgres.name ("2portal-db") is not a valid PostgreSQL cluster name: lowercase letters, digits and '-', starting with a letter and ending with a letter or digit`],
  },
  {
    // Without Redis, whose StatefulSet name is the tighter limit.
    name: 'an application name that makes the default cluster name too long',
    env: 'staging',
    // Without the worker, which uses every data component, and the job that runs its image.
    pins: pinsWith('staging', {}, { workers: false }),
    overrides: { app: { name: `p${'x'.repeat(47)}` }, services: { api: { uses: ['postgres', 'uploads'] } } },
    remove: [
      'workers', 'jobs',
      'data.redis', 'services.api.env.SPRING_DATA_REDIS_SENTINEL_MASTER', 'services.api.env.SPRING_DATA_REDIS_SENTINEL_NODES',
      'services.api.env.SPRING_DATA_REDIS_PASSWORD', 'services.api.env.SPRING_DATA_REDIS_SENTINEL_PASSWORD',
    ],
    expected: [`staging: app.name ("p${'x'.repeat(47)}") is too long: the PostgreSQL cluster "p${'x'.repeat(47)}-db", made from it, has 51 characters and CloudNativePG accepts 50`],
  },
  {
    name: 'the recovery source is the cluster itself',
    env: 'staging',
    overrides: { data: { postgres: { name: 'portal-db-2', recovery: { source: 'portal-db-2', targetTime: '2026-11-22T03:15:00' } } } },
    expected: [
      'staging: data.postgres.recovery.targetTime ("2026-11-22T03:15:00") is not an RFC 3339 time with a time zone, such as 2026-11-22T03:15:00Z',
    ],
  },

  // Ports, paths and probes
  {
    name: 'privileged port 80',
    env: 'production',
    overrides: { services: { web: { port: 80 } } },
    expected: ['production: services.web.port (80) is a privileged port: containers run as non-root and must listen on 1024-65535'],
  },
  {
    name: 'port above 65535',
    env: 'staging',
    overrides: { services: { api: { port: 80800 } } },
    expected: ['staging: services.api.port (80800) is not a TCP port (1024-65535)'],
  },
  {
    name: 'metrics on a health path',
    env: 'staging',
    overrides: { services: { api: { metrics: { path: '/actuator/health/readiness' } } } },
    expected: ['staging: services.api.metrics.path ("/actuator/health/readiness") is also the readiness path; metrics and health checks need separate endpoints'],
  },
  {
    name: 'more paths on one host than an HTTPRoute holds',
    env: 'staging',
    overrides: {
      hosts: [{
        hostname: 'portal.staging.university.example',
        routes: Array.from({ length: 17 }, (_, i) => ({ path: `/p${i}`, service: 'web' })),
      }],
    },
    expected: ['staging: hosts[0].routes has more than 16 paths, the most one HTTPRoute can hold (Gateway API limit on rules)'],
  },
  {
    name: 'more hosts than the redirect route can list',
    env: 'staging',
    overrides: {
      hosts: Array.from({ length: 17 }, (_, i) => ({ hostname: `h${i}.staging.university.example`, routes: [{ path: '/', service: 'web' }] })),
    },
    expected: ['staging: hosts has more than 16 hosts, the most the HTTP-to-HTTPS redirect route can list (Gateway API limit on hostnames)'],
  },
  {
    name: 'pooler opening more server connections than PostgreSQL accepts',
    env: 'production',
    overrides: { data: { postgres: { pooler: { instances: 4, defaultPoolSize: 50, maxClientConnections: 1000, resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } } } } } },
    expected: ['production: data.postgres.pooler.defaultPoolSize (50) × 4 pooler instances opens more than 180 server connections (max_connections 200, 20 kept for replication, backups and administration)'],
  },
  {
    name: 'application name too long for the Redis StatefulSet',
    env: 'staging',
    overrides: { app: { name: 'a'.repeat(47) } },
    expected: [`staging: app.name ("${'a'.repeat(47)}") is too long: the StatefulSet "${'a'.repeat(47)}-redis", made from it, has 53 characters and Kubernetes allows 52`],
  },
  {
    name: 'service named like a fixed NetworkPolicy',
    env: 'staging',
    overrides: { services: { 'allow-dns': { ...(staging.config.services?.web ?? {}), calls: [] } } },
    pins: `${pinsWith('staging', {})}  allow-dns:\n    repository: registry.university.example/student-portal/dns\n    tag: 1.0.0\n`,
    expected: ['staging: services.allow-dns uses the name "allow-dns", which the data tier or a fixed object of the environment already takes'],
  },
  {
    name: 'two writable paths that would share a volume name',
    env: 'staging',
    overrides: { services: { web: { writablePaths: ['/tmp', '/app/.next/cache', '/app/next/cache'] } } },
    expected: ['staging: services.web.writablePaths[2] ("/app/next/cache") gets the same volume name as "/app/.next/cache" (scratch-app-next-cache); rename one of the directories'],
  },
  {
    name: 'uploads path listed in writablePaths',
    env: 'production',
    overrides: { services: { api: { writablePaths: ['/tmp', '/var/lib/portal/uploads', '/var/lib/portal/uploads/tmp'] } } },
    expected: [
      'production: services.api.writablePaths[1] ("/var/lib/portal/uploads") is the uploaded-files volume; it must not be a scratch directory',
      'production: services.api.writablePaths[2] ("/var/lib/portal/uploads/tmp") is inside the uploaded-files volume (/var/lib/portal/uploads); a scratch directory there would hide uploaded files',
    ],
  },
  {
    name: 'writable path listed twice',
    env: 'staging',
    overrides: { services: { api: { writablePaths: ['/tmp', '/data', '/tmp'] } } },
    expected: ['staging: services.api.writablePaths[2] ("/tmp") is listed twice'],
  },
  {
    name: 'writable paths that are not normalized',
    env: 'staging',
    overrides: { services: { web: { writablePaths: ['/tmp/', 'cache', '/app/../etc', '/tmp'] } } },
    expected: [
      "staging: services.web.writablePaths[0] (\"/tmp/\") is not a normalized absolute path such as /tmp (no trailing '/', '//', '.' or '..')",
      "staging: services.web.writablePaths[1] (\"cache\") is not a normalized absolute path such as /tmp (no trailing '/', '//', '.' or '..')",
      "staging: services.web.writablePaths[2] (\"/app/../etc\") is not a normalized absolute path such as /tmp (no trailing '/', '//', '.' or '..')",
    ],
  },
  {
    name: 'probe timing out of range',
    env: 'staging',
    overrides: { services: { api: { health: { startup: { periodSeconds: 0, failureThreshold: 500 } } } } },
    expected: [
      'staging: services.api.health.startup.failureThreshold (500) must be at most 120',
      'staging: services.api.health.startup.periodSeconds (0) must be at least 1',
    ],
  },

  // SLOs
  {
    name: 'SLO availability 1',
    env: 'production',
    overrides: { slo: { availability: 1 } },
    expected: ['production: slo.availability (1) must be between 0 and 1, exclusive'],
  },
  {
    name: 'SLO availability 0',
    env: 'production',
    overrides: { slo: { availability: 0 } },
    expected: ['production: slo.availability (0) must be between 0 and 1, exclusive'],
  },
  {
    name: 'SLO availability 1.5 and latency threshold 0',
    env: 'staging',
    overrides: { slo: { availability: 1.5, latencyThresholdSeconds: 0 } },
    expected: [
      'staging: slo.availability (1.5) must be between 0 and 1, exclusive',
      'staging: slo.latencyThresholdSeconds (0) must be greater than 0',
    ],
  },
  {
    name: 'SLO given as a percentage',
    env: 'staging',
    overrides: { slo: { latency: 99 } },
    expected: ['staging: slo.latency (99) must be between 0 and 1, exclusive'],
  },
  {
    name: 'SLO latency threshold between two buckets of the gateway\'s histogram',
    env: 'production',
    overrides: { slo: { latencyThresholdSeconds: 0.3 } },
    expected: ['production: slo.latencyThresholdSeconds (0.3) is not a bucket of the gateway\'s request-time histogram, which the latency objective is read from: '
      + 'one of 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60 (seconds)'],
  },
  {
    name: 'SLO latency threshold off the gateway\'s buckets, with every routed service measured by its own timer',
    env: 'production',
    overrides: { slo: { latencyThresholdSeconds: 0.3 }, services: { web: { sli: 'spring-boot', metrics: { path: '/actuator/prometheus' } } } },
    expected: [],
  },
  {
    name: 'spring-boot SLI without metrics, and a service setting what it injects',
    env: 'production',
    overrides: { services: { web: { sli: 'spring-boot', env: { MANAGEMENT_METRICS_DISTRIBUTION_SLO_HTTP_SERVER_REQUESTS: '1s' } } } },
    expected: [
      'production: services.web.env.MANAGEMENT_METRICS_DISTRIBUTION_SLO_HTTP_SERVER_REQUESTS is injected by sli: spring-boot (the latency objective needs its bucket); remove it from env',
      'production: services.web.sli ("spring-boot") reads the objectives off the service\'s own metrics: set metrics (Spring Boot Actuator\'s Prometheus endpoint, such as /actuator/prometheus)',
    ],
  },
  {
    name: 'SLI not a known source',
    env: 'staging',
    overrides: { services: { web: { sli: 'nextjs' } } },
    expected: ['staging: services.web.sli ("nextjs") must be one of "gateway", "spring-boot"'],
  },

  // Cron
  {
    name: 'cron with 6 fields',
    env: 'production',
    overrides: { backups: { databaseSchedule: '0 15 2 * * *' } },
    expected: ['production: backups.databaseSchedule ("0 15 2 * * *") is not a valid cron expression: has 6 fields, expected 5 (minute hour day-of-month month day-of-week)'],
  },
  {
    name: 'cron values out of range',
    env: 'production',
    overrides: { backups: { filesSchedule: '15 25 * * *', verifySchedule: '30 4 * * 7' } },
    expected: [
      'production: backups.filesSchedule ("15 25 * * *") is not a valid cron expression: hour value 25 is out of range 0-23',
      'production: backups.verifySchedule ("30 4 * * 7") is not a valid cron expression: day-of-week value 7 is out of range 0-6 (Sunday is 0)',
    ],
  },
  {
    name: 'cron garbage',
    env: 'staging',
    overrides: { backups: { databaseSchedule: 'every night', filesSchedule: 'a b c d e', verifySchedule: '30 4 * * fri-mon' } },
    expected: [
      'staging: backups.databaseSchedule ("every night") is not a valid cron expression: has 2 fields, expected 5 (minute hour day-of-month month day-of-week)',
      'staging: backups.filesSchedule ("a b c d e") is not a valid cron expression: minute field "a" is not a value, range, list or step',
      'staging: backups.verifySchedule ("30 4 * * fri-mon") is not a valid cron expression: day-of-week range "fri-mon" runs backwards',
    ],
  },
  {
    name: 'cron that never runs (the 31st of February, the 31st of a 30-day month; in 6 fields too)',
    env: 'production',
    overrides: { backups: { databaseSchedule: '0 0 31 2 *', verifySchedule: '0 4 31 4,6 *' }, data: { postgres: { baseBackupSchedule: '0 0 0 30 2 *' } } },
    expected: [
      'production: data.postgres.baseBackupSchedule ("0 0 0 30 2 *") never runs: no month it names has a day it names (and no day of the week is named instead)',
      'production: backups.databaseSchedule ("0 0 31 2 *") never runs: no month it names has a day it names (and no day of the week is named instead)',
      'production: backups.verifySchedule ("0 4 31 4,6 *") never runs: no month it names has a day it names (and no day of the week is named instead)',
    ],
  },
  {
    name: 'the restore test would call a backup stale between two good runs',
    env: 'production',
    overrides: { backups: { databaseSchedule: '15 2 * * 1,4', maxSnapshotAgeHours: 72, filesSchedule: '40 */6 * * *' } },
    expected: [
      'production: backups.maxSnapshotAgeHours (72) is not longer than the longest gap between two runs of backups.databaseSchedule ("15 2 * * 1,4": 96 h): '
      + 'the restore test would call a backup stale between two good runs',
    ],
  },
  {
    name: 'a weekly dump with a week and a day of staleness allowed passes',
    env: 'production',
    overrides: { backups: { databaseSchedule: '15 2 * * 0', maxSnapshotAgeHours: 192 } },
    expected: [],
  },

  // TLS, HSTS, alerting
  {
    name: 'HSTS preload with a short max-age and without subdomains',
    env: 'production',
    overrides: { hsts: { maxAgeSeconds: 86400, includeSubDomains: false } },
    expected: [
      'production: hsts.includeSubDomains must be true when preload is on (the preload list requires it)',
      'production: hsts.maxAgeSeconds (86400) is below 31536000, the minimum the HSTS preload list accepts',
    ],
  },
  {
    name: 'production HSTS without preload, shorter than a year or off',
    env: 'production',
    overrides: { hsts: { maxAgeSeconds: 0, preload: false } },
    expected: ['production: hsts.maxAgeSeconds (0) is below one year (31536000): production keeps browsers on HTTPS for at least that long'],
  },
  {
    name: 'staging HSTS may be short, or off',
    env: 'staging',
    overrides: { hsts: { maxAgeSeconds: 0 } },
    expected: [],
  },
  {
    name: 'zero CPU and memory requests',
    env: 'production',
    overrides: { services: { api: { resources: { requests: { cpu: '0', memory: '0Mi' } } } }, data: { redis: { resources: { requests: { cpu: '0m' } } } } },
    expected: [
      'production: services.api.resources.requests.cpu ("0") must be larger than zero',
      'production: services.api.resources.requests.memory ("0Mi") must be larger than zero',
      'production: data.redis.resources.requests.cpu ("0m") must be larger than zero',
    ],
  },
  {
    name: 'production with the letsencrypt-staging issuer',
    env: 'production',
    overrides: { tls: { issuer: 'letsencrypt-staging' } },
    expected: ['production: tls.issuer ("letsencrypt-staging") issues untrusted certificates; production uses letsencrypt-production'],
  },
  {
    name: 'renewBefore as long as the certificate',
    env: 'production',
    overrides: { tls: { renewBefore: '2160h' } },
    expected: ['production: tls.renewBefore ("2160h") must be shorter than the certificate lifetime (2160h, Let\'s Encrypt\'s 90 days)'],
  },
  {
    name: 'renewBefore shorter than a day',
    env: 'staging',
    overrides: { tls: { renewBefore: '12h' } },
    expected: ['staging: tls.renewBefore ("12h") must be at least 24h: leave a day to notice and fix a failed renewal'],
  },
  {
    name: 'renewBefore in days, and zero',
    env: 'staging',
    overrides: { tls: { renewBefore: '30d' }, services: { api: { metrics: { interval: '0s' } } } },
    expected: [
      'staging: services.api.metrics.interval ("0s") must be longer than zero',
      'staging: tls.renewBefore ("30d") is not a duration such as 720h or 90m',
    ],
  },
  {
    name: 'invalid email addresses',
    env: 'production',
    overrides: { tls: { acmeEmail: 'platform-team' }, alerting: { email: { to: 'oncall@localhost' } } },
    expected: [
      'production: alerting.email.to ("oncall@localhost") is not an email address',
      'production: tls.acmeEmail ("platform-team") is not an email address',
    ],
  },
  {
    name: 'production without PagerDuty',
    env: 'production',
    remove: ['alerting.pagerduty'],
    expected: ['production: alerting.pagerduty is required in production: critical alerts must page someone'],
  },
  {
    name: 'a load test in production',
    env: 'production',
    overrides: { loadTest: { requestsPerSecond: 20 } },
    expected: [
      'production: loadTest is refused in production: the load test runs in staging, so that a release that misses the SLO stops there; '
        + 'in production it would spend the error budget on synthetic traffic, in front of real users',
    ],
  },
  {
    name: 'a load test too short, and a path no host routes',
    env: 'staging',
    overrides: { loadTest: { duration: '30s', paths: ['/', '/api/x', '/api/x'] } },
    expected: [
      'staging: loadTest.duration ("30s") must be between 1m (fewer requests say nothing of a p(99)) and 1h (the sync waits for it)',
      'staging: loadTest.paths[2] ("/api/x") is listed twice',
    ],
  },
  {
    name: 'no alert receiver at all',
    env: 'staging',
    remove: ['alerting.slack'],
    expected: ['staging: alerting names no receiver: alerts would go nowhere'],
  },
  {
    name: 'Slack channel without #',
    env: 'staging',
    overrides: { alerting: { slack: { channel: 'student-portal-staging' } } },
    expected: ['staging: alerting.slack.channel ("student-portal-staging") is not a Slack channel such as #portal-alerts'],
  },
  {
    name: 'staging with PagerDuty: only production pages',
    env: 'staging',
    overrides: { alerting: { pagerduty: { secretName: 'alertmanager-pagerduty' } } },
    expected: [
      'staging: alerting.pagerduty is refused outside production: only production pages; this environment\'s critical alerts and failed syncs go to Slack (or email)',
    ],
  },
  {
    name: 'production without a dead man\'s switch',
    env: 'production',
    remove: ['alerting.deadMansSwitch'],
    expected: [
      'production: alerting.deadMansSwitch is required in production: if Prometheus or Alertmanager stops, no alert is sent, not even that one; '
        + 'only an outside service that misses the Watchdog notices',
    ],
  },
  {
    name: 'production with PagerDuty alone: warnings and info would go nowhere',
    env: 'production',
    remove: ['alerting.slack', 'alerting.email'],
    expected: [
      'production: alerting needs slack or email besides pagerduty in production: PagerDuty gets critical alerts only, and warnings and info alerts would go nowhere',
    ],
  },
  {
    name: 'production with PagerDuty and email, no Slack, passes',
    env: 'production',
    remove: ['alerting.slack'],
    expected: [],
  },
  {
    name: 'email: a mail server without a port, a sender that is no address, a user name with a space',
    env: 'production',
    overrides: { alerting: { email: { smarthost: 'smtp.university.example', from: 'Alertmanager <am@university.example>', username: 'student portal' } } },
    expected: [
      'production: alerting.email.from ("Alertmanager <am@university.example>") is not an email address',
      'production: alerting.email.smarthost ("smtp.university.example") is not a mail server as host:port, such as smtp.university.example:587',
      'production: alerting.email.username ("student portal") is not an SMTP user name: 1 to 254 printable characters, no spaces',
    ],
  },
  {
    name: 'email: a user name without the secret of its password',
    env: 'production',
    remove: ['alerting.email.secretName'],
    expected: ['production: alerting.email.secretName is required with username: the SMTP password is read from this secret'],
  },
  {
    name: 'email: a password secret without a user name',
    env: 'production',
    remove: ['alerting.email.username'],
    expected: [
      'production: alerting.email.username is required with secretName: a password is only sent with a user name (leave both out for a server without authentication)',
    ],
  },
  {
    name: 'email without authentication, to a server by IPv4 address on port 25, passes',
    env: 'production',
    overrides: { alerting: { email: { smarthost: '192.0.2.25:25' } } },
    remove: ['alerting.email.username', 'alerting.email.secretName'],
    expected: [],
  },
  {
    name: 'a mail server on a port above 65535',
    env: 'production',
    overrides: { alerting: { email: { smarthost: 'smtp.university.example:65536' } } },
    expected: ['production: alerting.email.smarthost ("smtp.university.example:65536") is not a mail server as host:port, such as smtp.university.example:587'],
  },

  // Data
  {
    name: 'postgres owner is the superuser',
    env: 'production',
    overrides: { data: { postgres: { owner: 'postgres' } } },
    expected: ['production: data.postgres.owner must not be the superuser "postgres"'],
  },
  {
    name: 'production with 2 postgres instances',
    env: 'production',
    overrides: { data: { postgres: { instances: 2 } } },
    expected: ['production: data.postgres.instances (2) is below 3: synchronous replication with required durability needs a standby to spare'],
  },
  {
    name: 'postgres identifiers',
    env: 'staging',
    overrides: { data: { postgres: { database: 'student-portal' } } },
    expected: ["staging: data.postgres.database (\"student-portal\") is not a PostgreSQL identifier: lowercase letters, digits and '_', at most 63 characters"],
  },

  // Delivery and platform
  {
    name: 'repository URL with credentials',
    env: 'production',
    overrides: { delivery: { repoURL: 'https://deploy:hunter2@git.university.example/platform/deploy.git' } },
    expected: ['production: delivery.repoURL ("https://deploy:hunter2@git.university.example/platform/deploy.git") is not a git repository URL such as https://git.example.org/team/deploy.git (https or ssh, no credentials)'],
  },
  {
    name: 'repository URL over plain http',
    env: 'staging',
    overrides: { delivery: { repoURL: 'http://git.university.example/platform/deploy.git' } },
    expected: ['staging: delivery.repoURL ("http://git.university.example/platform/deploy.git") is not a git repository URL such as https://git.example.org/team/deploy.git (https or ssh, no credentials)'],
  },
  {
    name: 'branch name git refuses',
    env: 'staging',
    overrides: { delivery: { targetRevision: 'release..2' } },
    expected: ['staging: delivery.targetRevision ("release..2") is not a git branch or tag name'],
  },
  {
    name: 'Argo CD in the application namespace',
    env: 'production',
    overrides: { delivery: { namespace: 'student-portal' } },
    expected: ['production: delivery.namespace ("student-portal") is the application\'s namespace; Argo CD runs in its own'],
  },
  {
    name: 'a group listed twice',
    env: 'staging',
    overrides: { delivery: { developerGroups: ['devs', 'devs'] } },
    expected: ['staging: delivery.developerGroups[1] ("devs") is listed twice'],
  },
  {
    name: 'sync freeze in an unknown time zone, never running, without duration',
    env: 'production',
    overrides: { delivery: { syncFreezes: [{ description: 'Exams', schedule: '0 0 31 2 *', duration: '', timeZone: 'Eastern Time' }] } },
    expected: [
      'production: delivery.syncFreezes[0].schedule ("0 0 31 2 *") never runs: no month it names has a day it names (and no day of the week is named instead)',
      'production: delivery.syncFreezes[0].duration must not be empty',
      'production: delivery.syncFreezes[0].timeZone ("Eastern Time") is not an IANA time zone such as America/New_York',
    ],
  },
  {
    name: 'Prometheus retention size as large as its volume',
    env: 'production',
    overrides: { platform: { prometheus: { retentionSize: '100GB' } } },
    expected: ['production: platform.prometheus.retentionSize ("100GB") leaves too little of the 100Gi volume: at most 90 % of it (90GB), since the write-ahead log and the newest block need the rest'],
  },
  {
    name: 'Prometheus retention shorter than the SLOs\' 30 days (in weeks and hours: 4w23h)',
    env: 'staging',
    overrides: { platform: { prometheus: { retention: '4w23h' } } },
    expected: ['staging: platform.prometheus.retention ("4w23h") is shorter than the 30 days the service level objectives are measured over: '
      + 'their error budget would be reckoned on what is left'],
  },
  {
    name: 'Prometheus retention of 30 days written as 720h',
    env: 'staging',
    overrides: { platform: { prometheus: { retention: '720h' } } },
    expected: [],
  },
  {
    name: 'Prometheus retention and size in Kubernetes units',
    env: 'staging',
    overrides: { platform: { prometheus: { retention: '2w3x', retentionSize: '40Gi' } } },
    expected: [
      'staging: platform.prometheus.retention ("2w3x") is not a Prometheus duration such as 15d',
      'staging: platform.prometheus.retentionSize ("40Gi") is not a Prometheus size such as 45GB',
    ],
  },
  // Logging (Loki): retention per tenant, where the logs are kept
  {
    name: 'production keeps the audit trail at least a year',
    env: 'production',
    overrides: { logging: { retention: { audit: '720h' } } },
    expected: [
      'production: logging.retention.audit ("720h") is shorter than a year (8760h): production keeps the audit trail of who read or changed student records '
        + 'at least that long (FERPA records of access are commonly kept a year or more)',
    ],
  },
  {
    name: 'outside production the audit trail may be kept shorter',
    env: 'staging',
    overrides: { logging: { retention: { audit: '720h' } } },
    expected: [],
  },
  {
    name: 'exactly a year of audit trail, a day of application logs: accepted in production',
    env: 'production',
    overrides: { logging: { retention: { application: '24h', audit: '8760h' } } },
    expected: [],
  },
  {
    name: 'application logs shorter than a day, and not whole days',
    env: 'staging',
    overrides: { logging: { retention: { application: '12h' } } },
    expected: [
      'staging: logging.retention.application ("12h") is not a whole number of days (a multiple of 24h): Loki\'s compactor deletes logs a day\'s index at a time',
      'staging: logging.retention.application ("12h") is shorter than 24h: Loki keeps at least a day of logs',
    ],
  },
  {
    name: 'retention that is not whole days',
    env: 'production',
    overrides: { logging: { retention: { audit: '8761h' } } },
    expected: [
      'production: logging.retention.audit ("8761h") is not a whole number of days (a multiple of 24h): Loki\'s compactor deletes logs a day\'s index at a time',
    ],
  },
  {
    name: 'retention in days, which the duration format does not take, and a misspelt section',
    env: 'staging',
    overrides: { logging: { retention: { application: '30d' }, retension: { audit: '9600h' } } },
    expected: [
      'staging: logging.retension is not a known field (did you mean retention?)',
      'staging: logging.retention.application ("30d") is not a duration such as 720h or 90m',
    ],
  },
  {
    name: 'production without data still needs objectStorage: Loki keeps the logs there',
    env: 'production',
    // Without the worker, which uses every data component, and the job that runs its image.
    pins: pinsWith('production', {}, { workers: false }),
    overrides: { services: { api: { uses: [] } } },
    remove: ['workers', 'jobs', 'data', 'backups', 'objectStorage', 'services.api.migration', 'services.api.env'],
    expected: ['production: objectStorage is required in production: Loki keeps the logs and the audit trail there (on its own volume, one lost disk would lose them all)'],
  },
  {
    name: 'objectStorage without data needs externalSecrets: Loki reads the bucket\'s credentials from it',
    env: 'staging',
    // Without the worker, which uses every data component, and the job that runs its image.
    pins: pinsWith('staging', {}, { workers: false }),
    overrides: { services: { api: { uses: [] } } },
    remove: ['workers', 'jobs', 'data', 'backups', 'externalSecrets', 'services.api.migration', 'services.api.env'],
    expected: [
      'staging: externalSecrets is required: Alertmanager and Argo CD\'s notifications read the credentials of alerting.slack from the secret manager',
      'staging: externalSecrets is required: Loki reads the objectStorage credentials from the secret manager',
    ],
  },
  // Many at once
  {
    name: 'many schema errors at once, pins included',
    env: 'production',
    overrides: {
      app: { namespace: 'Portal' },
      slo: { availability: 1.5 },
      backups: { databaseSchedule: '* * *' },
      services: { web: { replicaz: 3 } },
      kubernetesVersion: '1.31.2',
    },
    pins: pinsWith('production', { api: { tag: 'latest' } }),
    expected: [
      `${PROD_PINS} services.api.tag must be an explicit version, not "latest"`,
      `production: app.namespace ("Portal") ${DNS_NAME}`,
      'production: backups.databaseSchedule ("* * *") is not a valid cron expression: has 3 fields, expected 5 (minute hour day-of-month month day-of-week)',
      'production: kubernetesVersion ("1.31.2") is not a Kubernetes minor version such as 1.31',
      'production: services.web.replicaz is not a known field (did you mean replicas?)',
      'production: slo.availability (1.5) must be between 0 and 1, exclusive',
    ],
  },
  {
    name: 'many cross-field errors at once',
    env: 'production',
    overrides: {
      services: { api: { autoscaling: { minReplicas: 5, maxReplicas: 3 } }, web: { calls: ['web'] } },
      tls: { issuer: 'letsencrypt-staging' },
      data: { postgres: { owner: 'postgres', instances: 1 } },
    },
    pins: pinsWith('production', { web: { digest: undefined } }),
    expected: [
      `${PROD_PINS} services.web.digest is required in production: application images are pinned by digest, not by tag alone`,
      'production: data.postgres.instances (1) is below 3: synchronous replication with required durability needs a standby to spare',
      'production: data.postgres.owner must not be the superuser "postgres"',
      'production: services.api.autoscaling.minReplicas (5) is greater than maxReplicas (3)',
      'production: services.web.calls[0] ("web") is the service itself',
      'production: tls.issuer ("letsencrypt-staging") issues untrusted certificates; production uses letsencrypt-production',
    ],
  },
];

describe('the cross-field rules called on their own', () => {
  // The loader reports the digest rule once, from the pin file; the rule itself must hold without one.
  const env = resolveEnvironment(production, REPO);
  const withoutDigest = { ...env, services: { ...env.services, api: { ...env.services.api, image: { ...env.services.api.image, digest: undefined } } } };

  test('a production image without a digest is reported at the service when no pin file is named', () => {
    expect(crossFieldProblems(withoutDigest)).toEqual([{ path: 'services.api.image.digest', message: DIGEST_REQUIRED }]);
  });

  test('and at the pin file when one is named', () => {
    expect(crossFieldProblems(withoutDigest, { imagePinsFile: 'pins.yaml' })).toEqual([{ path: 'pins.yaml: services.api.digest', message: DIGEST_REQUIRED }]);
  });
});

describe('defaults', () => {
  test('external secrets come from a ClusterSecretStore unless the environment says otherwise', () => {
    const config = structuredClone(staging.config) as any;
    delete config.externalSecrets.storeKind;
    expect(resolveEnvironment({ ...staging, config }, REPO).externalSecrets?.storeKind).toBe('ClusterSecretStore');
  });
});

describe('invalid configurations', () => {
  test('the corpus is large enough', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  test.each(cases)('$env: $name', (c) => {
    expect(problemsOf(c)).toEqual([...c.expected].sort());
  });

  test('every message names the environment and a field path', () => {
    for (const c of cases) {
      for (const line of c.expected) expect(line).toMatch(new RegExp(`^${c.env}: [A-Za-z0-9_.<>/\\[\\]-]+(\\.yaml)?(: [A-Za-z0-9_.\\[\\]-]+)? `));
    }
  });
});

describe('valid configurations', () => {
  test.each(['production', 'staging'] as const)('the reference %s definition resolves without a problem', (env) => {
    expect(problemsOf({ name: 'reference', env, expected: [] })).toEqual([]);
  });

  test('defaults are filled in', () => {
    const env = resolveEnvironment(definition({ env: 'staging' }), root);
    expect(env.monitoringNamespace).toBe('monitoring');
    expect(env.services.api.autoscaling?.targetCPUUtilization).toBe(70);
    expect(env.services.api.health.readiness).toEqual({ periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 });
    expect(env.services.web.uses).toEqual([]);
  });

  test('decimal memory quantities and fixed replicas are accepted', () => {
    expect(problemsOf({
      name: 'ok',
      env: 'staging',
      overrides: { services: { web: { replicas: 2, resources: { requests: { memory: '0.5Gi' } } } } },
      remove: ['services.web.autoscaling'],
      expected: [],
    })).toEqual([]);
  });
});

describe('resolveEnvironments', () => {
  test('reports the problems of both environments in one run', () => {
    const defs = [
      definition({ env: 'staging', overrides: { services: { api: { autoscaling: { minReplicas: 5, maxReplicas: 4 } } } } }),
      definition({ env: 'production', overrides: { slo: { availability: 1 }, services: { web: { replicaz: 2 } } } }),
    ];
    writeFileSync(join(root, 'environments/images/production.yaml'), pinsWith('production', { api: { tag: 'latest', digest: undefined } }));
    let problems: string[] = [];
    try {
      resolveEnvironments(defs, root);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems = [...e.problems].sort();
    }
    expect(problems).toEqual([
      `${PROD_PINS} services.api.digest is required in production: application images are pinned by digest, not by tag alone`,
      `${PROD_PINS} services.api.tag must be an explicit version, not "latest"`,
      'production: services.web.replicaz is not a known field (did you mean replicas?)',
      'production: slo.availability (1) must be between 0 and 1, exclusive',
      'staging: services.api.autoscaling.minReplicas (5) is greater than maxReplicas (4)',
    ]);
  });

  test('environments may not share a namespace or a host', () => {
    const defs = [
      definition({ env: 'staging' }),
      definition({
        env: 'production',
        overrides: {
          app: { namespace: 'student-portal-staging' },
          hosts: [{ hostname: 'portal.staging.university.example', routes: [{ path: '/', service: 'web' }] }],
        },
      }),
    ];
    expect(() => resolveEnvironments(defs, root)).toThrow(new ConfigError([
      'production: app.namespace ("student-portal-staging") is also the namespace of staging: each environment needs its own',
      'production: hosts[0].hostname ("portal.staging.university.example") is also a host of staging',
    ]));
  });

  test('environments may not share a bucket (at one endpoint) or a secret-manager prefix', () => {
    const defs = [
      definition({ env: 'staging' }),
      definition({
        env: 'production',
        overrides: {
          objectStorage: { endpointURL: 'https://s3.university.example/', bucket: 'student-portal-backups-staging' },
          externalSecrets: { keyPrefix: 'student-portal/staging' },
        },
      }),
    ];
    expect(() => resolveEnvironments(defs, root)).toThrow(new ConfigError([
      'production: objectStorage.bucket ("student-portal-backups-staging" at https://s3.university.example/) is also the bucket of staging: '
      + 'their WAL archives and backup repositories would be the same paths; each environment needs its own',
      'production: externalSecrets.keyPrefix ("student-portal/staging") is also the prefix of staging in the same store: they would share credentials; each environment needs its own',
    ]));
    // The same prefix in another store is another entry.
    const otherStore = [definition({ env: 'staging' }), definition({
      env: 'production', overrides: { externalSecrets: { store: 'production-vault', keyPrefix: 'student-portal/staging' } },
    })];
    expect(resolveEnvironments(otherStore, root).map((e) => e.name)).toEqual(['staging', 'production']);
    // The same bucket name at another endpoint is another bucket.
    const elsewhere = [definition({ env: 'staging' }), definition({
      env: 'production', overrides: { objectStorage: { endpointURL: 'https://s3.elsewhere.example', bucket: 'student-portal-backups-staging' } },
    })];
    expect(resolveEnvironments(elsewhere, root).map((e) => e.name)).toEqual(['staging', 'production']);
  });

  test('the same environment twice', () => {
    expect(() => resolveEnvironments([staging, staging], root)).toThrow(/staging: name is used by two environments/);
  });

  test('returns the environments in order when all are valid', () => {
    expect(resolveEnvironments([staging, production], root).map((e) => e.name)).toEqual(['staging', 'production']);
  });
});

describe('isCronExpression', () => {
  test.each([
    '15 2 * * *', '*/5 * * * *', '0 0 1 1 *', '30 4 * * 0', '30 4 * * 6', '0 9-17 * * mon-fri', '0 0 * jan,jul SUN',
    '0,15,30,45 * * * *', '5/15 * * * *', '0 0 ? * *', '  0 0 * * *  ', '@daily', '@hourly', '@weekly', '59 23 31 12 *',
  ])('5 fields: %s is valid', (expr) => {
    expect(isCronExpression(expr, 5)).toBe(true);
  });

  test.each([
    '', '* * * *', '0 0 * * * *', '60 * * * *', '* 24 * * *', '* * 0 * *', '* * 32 * *', '* * * 13 *', '* * * * 7',
    '*/0 * * * *', '*/61 * * * *', '1,,2 * * * *', '5-1 * * * *', '*-5 * * * *', '1-2-3 * * * *', 'a b c d e',
    '0 0 * * funday', '@reboot', '@daily ', '@DAILY', 'TZ=UTC 0 0 * * *', '0 0 * * 1/2/3', '-1 * * * *',
  ])('5 fields: %j is invalid', (expr) => {
    expect(isCronExpression(expr, 5)).toBe(false);
  });

  test.each(['0 0 2 * * *', '*/30 * * * * *', '0 15 2 * * 1-5', '59 59 23 31 12 sat'])('6 fields: %s is valid', (expr) => {
    expect(isCronExpression(expr, 6)).toBe(true);
  });

  test.each(['0 2 * * *', '60 0 2 * * *', '0 0 2 * * 7', '@daily', '0 0 0 2 * * *'])('6 fields: %j is invalid', (expr) => {
    expect(isCronExpression(expr, 6)).toBe(false);
  });
});

describe('quantities and durations', () => {
  test.each([
    ['250m', 0.25], ['2', 2], ['0.5', 0.5], ['.5', 0.5], ['1k', 1000], ['1M', 1e6], ['1Ki', 1024], ['512Mi', 512 * 2 ** 20],
    ['1.5Gi', 1.5 * 2 ** 30], ['2Ti', 2 * 2 ** 40], ['1G', 1e9],
  ] as const)('parseQuantity(%s) = %d', (q, v) => {
    expect(parseQuantity(q)).toBeCloseTo(v);
  });

  test.each(['', 'abc', '1GB', '1 Gi', '1x'])('parseQuantity(%j) throws', (q) => {
    expect(() => parseQuantity(q)).toThrow(/not a quantity/);
  });

  test('parseRedisMemory counts in powers of 1024', () => {
    expect(parseRedisMemory('256mb')).toBe(256 * 2 ** 20);
    expect(parseRedisMemory('2gb')).toBe(2 * 2 ** 30);
    expect(parseRedisMemory('1kb')).toBe(1024);
    expect(() => parseRedisMemory('1g')).toThrow();
  });

  test('parseDuration', () => {
    expect(parseDuration('720h')).toBe(2592000);
    expect(parseDuration('1h30m')).toBe(5400);
    expect(parseDuration('30s')).toBe(30);
    expect(parseDuration('0s')).toBe(0);
    expect(() => parseDuration('30d')).toThrow();
    expect(() => parseDuration('')).toThrow();
  });
});

describe('mergeConfig', () => {
  test('objects merge key by key, at any depth', () => {
    expect(mergeConfig({ a: 1, b: { c: 2, d: { e: 3, f: 4 } } }, { b: { d: { e: 5 } }, g: 6 }))
      .toEqual({ a: 1, b: { c: 2, d: { e: 5, f: 4 } }, g: 6 });
  });

  test('arrays replace as a whole', () => {
    expect(mergeConfig({ list: [1, 2, 3], hosts: [{ a: 1, b: 2 }] }, { list: [4], hosts: [{ a: 9 }] }))
      .toEqual({ list: [4], hosts: [{ a: 9 }] });
  });

  test('scalars, nulls and type changes replace; undefined keeps the base', () => {
    expect(mergeConfig({ a: 1, b: { c: 2 }, d: 'x', e: 3 }, { a: 2, b: null, d: { y: 1 }, e: undefined }))
      .toEqual({ a: 2, b: null, d: { y: 1 }, e: 3 });
    expect(mergeConfig({ a: 1 }, undefined)).toEqual({ a: 1 });
  });

  test('neither input is modified', () => {
    const base = { a: { b: 1 } };
    const override = { a: { c: 2 } };
    mergeConfig(base, override);
    expect(base).toEqual({ a: { b: 1 } });
    expect(override).toEqual({ a: { c: 2 } });
  });

  test('a key named __proto__ stays a key and does not change the prototype', () => {
    const merged = mergeConfig<Record<string, unknown>>({ a: 1 }, JSON.parse('{"__proto__": {"polluted": true}}'));
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(Object.keys(merged)).toEqual(['a', '__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('environments override the shared defaults', () => {
    const cfg = staging.config as Record<string, any>;
    expect(cfg.services.web.port).toBe(3000);
    expect(cfg.services.web.autoscaling).toEqual({ minReplicas: 2, maxReplicas: 4 });
    expect(cfg.tls).toEqual({ acmeEmail: 'platform-team@university.example', renewBefore: '720h', issuer: 'letsencrypt-staging' });
  });
});
