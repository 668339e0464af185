/**
 * The limits of the configuration, at their edges. Every bound the zod schema declares (min, max,
 * gt and lt of numbers, and the length bounds of lists and strings) is found by walking the schema,
 * so a new bound is tested as soon as it exists: the value at the bound resolves, the value one
 * step beyond is refused with exactly the line the loader prints (`<env>: <field path> <message>`).
 * A message the schema words itself must state the bound it guards, so a limit changed without its
 * message (or the reverse) fails here. Where a cross-field rule refuses the value at a bound for its
 * own reason, the case says which rule, or sets the fields the value depends on. The reference
 * (docs/configuration.md) must state each bound as the schema has it.
 *
 * Then the numeric limits of environments/rules.ts whose messages promise one, each on both sides.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EnvironmentDefinition } from '../environments/define';
import { ConfigError, resolveEnvironment } from '../environments/load';
import { MAX_CONNECTIONS } from '../environments/model/postgres';
import { production } from '../environments/production';
import { parseQuantity } from '../environments/quantity';
import { EnvironmentSchema } from '../environments/schema';
import { fields, type Field, type ZodLike } from '../environments/schema-walk';
import { staging } from '../environments/staging';
import { REPO } from './support/repository-copy';

const DEFS = { staging, production } as const;
type EnvName = keyof typeof DEFS;
const ENVS = Object.keys(DEFS) as EnvName[];
type Config = Record<string, unknown>;

/** The problems resolveEnvironment reports for `config` as `env`, sorted; [] when it resolves. */
function problemsOf(env: EnvName, input: unknown): string[] {
  const def: EnvironmentDefinition = { ...DEFS[env], config: input as EnvironmentDefinition['config'] };
  try {
    resolveEnvironment(def, REPO);
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return [...e.problems].sort();
  }
}

const config = (env: EnvName): Config => structuredClone(DEFS[env].config) as Config;

// ---- the bounds of the schema ---------------------------------------------------------------

type Origin = 'number' | 'array' | 'string';

interface Bound {
  /** Walk path: `services.<name>.autoscaling.minReplicas`, `hosts[].routes`. */
  readonly path: string;
  readonly side: 'min' | 'max';
  readonly value: number;
  /** false for gt and lt: the bound itself is refused. */
  readonly inclusive: boolean;
  readonly origin: Origin;
  /** Integers step by 1; other numbers by one representable double. */
  readonly integer: boolean;
  /** The schema words the message of this check itself. */
  readonly worded: boolean;
}

const FIELDS = fields(EnvironmentSchema as unknown as ZodLike);

function boundsOf(field: Field): Bound[] {
  const def = field.schema._zod.def;
  const origin: Origin | undefined = def.type === 'number' || def.type === 'array' || def.type === 'string' ? def.type : undefined;
  const checks = (def.checks ?? []).map((c) => c._zod.def);
  const integer = checks.some((c) => c.check === 'number_format' && /int/.test(c.format ?? ''));
  return checks.flatMap((c): Bound[] => {
    const common = { path: field.path, origin: origin as Origin, integer, worded: c.error !== undefined };
    switch (c.check) {
      case 'greater_than': return [{ ...common, side: 'min', value: Number(c.value), inclusive: c.inclusive === true }];
      case 'less_than': return [{ ...common, side: 'max', value: Number(c.value), inclusive: c.inclusive === true }];
      case 'min_length': return [{ ...common, side: 'min', value: Number(c.minimum), inclusive: true, integer: true }];
      case 'max_length': return [{ ...common, side: 'max', value: Number(c.maximum), inclusive: true, integer: true }];
      case 'length_equals': throw new Error(`${field.path}: exact lengths are not tested here yet; add them`);
      default: return [];
    }
  });
}

const BOUNDS = FIELDS.flatMap(boundsOf);
const key = (b: Pick<Bound, 'path' | 'side'>) => `${b.path} ${b.side}`;

/** The next representable double from `x` upwards (+1) or downwards (-1). */
function nextDouble(x: number, direction: 1 | -1): number {
  if (x === 0) return direction * Number.MIN_VALUE;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  view.setBigUint64(0, (x > 0) === (direction > 0) ? bits + 1n : bits - 1n);
  return view.getFloat64(0);
}

/** The accepted value nearest the bound, and the refused one just past it. */
function edge(b: Bound): { inside: number; outside: number } {
  const outward = b.side === 'min' ? -1 : 1;
  const step = (x: number, direction: 1 | -1) => (b.integer ? x + direction : nextDouble(x, direction));
  return b.inclusive ? { inside: b.value, outside: step(b.value, outward) } : { inside: step(b.value, outward === 1 ? -1 : 1), outside: b.value };
}

/** Values of `n` entries (or characters) for the list and string fields that have length bounds. */
const MAKERS: Record<string, (n: number, c: Config) => unknown> = {
  hosts: (n, c) => {
    const [first] = c.hosts as { hostname: string }[];
    return Array.from({ length: n }, (_, i) => (i === 0 ? first : { hostname: `h${i}.${first.hostname}`, routes: [{ path: '/', service: 'web' }] }));
  },
  'hosts[].routes': (n) => Array.from({ length: n }, (_, i) => (i === 0 ? { path: '/', service: 'web' } : { path: `/p${i}`, service: 'api' })),
  'services.<name>.description': (n) => 'x'.repeat(n),
  'workers.<name>.description': (n) => 'x'.repeat(n),
  'jobs.<name>.description': (n) => 'x'.repeat(n),
  'workers.<name>.liveness.command': (n, c) => {
    delete at(c, 'workers.documents.liveness').path;
    return Array.from({ length: n }, (_, i) => `arg${i}`);
  },
  'workers.<name>.liveness.command[]': (n, c) => {
    delete at(c, 'workers.documents.liveness').path;
    return 'x'.repeat(n);
  },
  'workers.<name>.liveness.none': (n, c) => {
    delete at(c, 'workers.documents.liveness').path;
    return 'x'.repeat(n);
  },
  'backups.verifyTables': (n) => Array.from({ length: n }, (_, i) => `public.t${i}`),
  'objectStorage.cidrs': (n) => Array.from({ length: n }, (_, i) => `203.0.113.${i}/32`),
  'loadTest.paths': (n) => Array.from({ length: n }, (_, i) => `/p${i}`),
  'gateway.loadBalancerCidrs': (n) => Array.from({ length: n }, (_, i) => `10.20.30.${i}/32`),
  'delivery.developerGroups[]': (n) => 'g'.repeat(n),
  'delivery.releaseGroups[]': (n) => 'g'.repeat(n),
  'logging.audit.bulkAccess.resourceTypes': (n) => Array.from({ length: n }, (_, i) => `record_type_${i}`),
  // A whole freeze, so that only its description is at the bound.
  'delivery.syncFreezes[].description': (n, c) => {
    (c.delivery as Config).syncFreezes = [{ description: '', schedule: '0 0 1 1 *', duration: '24h', timeZone: 'UTC' }];
    return 'x'.repeat(n);
  },
};

/**
 * Messages the schema words itself, as functions of the value and of the bound: each must state
 * the bound it guards. A worded check missing here, or an entry no check uses, fails a test.
 */
const WORDED: Record<string, (value: number, bound: number) => string> = {
  'services.<name>.port min': (v, b) => `(${v}) is a privileged port: containers run as non-root and must listen on ${b}-65535`,
  'services.<name>.port max': (v, b) => `(${v}) is not a TCP port (1024-${b})`,
  'workers.<name>.managementPort min': (v, b) => `(${v}) is a privileged port: containers run as non-root and must listen on ${b}-65535`,
  'workers.<name>.managementPort max': (v, b) => `(${v}) is not a TCP port (1024-${b})`,
  'workers.<name>.liveness.none min': (_v, b) => (b === 20 ? 'must say why the worker has no liveness check, in a sentence a reviewer can judge' : `bound ${b} changed without its message`),
  'hosts[].routes max': (_v, b) => `has more than ${b} paths, the most one HTTPRoute can hold (Gateway API limit on rules)`,
  'hosts max': (_v, b) => `has more than ${b} hosts, the most the HTTP-to-HTTPS redirect route can list (Gateway API limit on hostnames)`,
  'data.postgres.archiveTimeoutSeconds max': (v, b) => `(${v}) is above ${b}: the archive could lag more than a minute in quiet periods, too close to the 5-minute RPO`,
  'data.postgres.pooler.instances min': (v, b) => `(${v}) must be at least ${b}: the pooler is on every request's path`,
  'slo.availability min': (v, b) => `(${v}) must be between ${b} and 1, exclusive`,
  'slo.availability max': (v, b) => `(${v}) must be between 0 and ${b}, exclusive`,
  'slo.latency min': (v, b) => `(${v}) must be between ${b} and 1, exclusive`,
  'slo.latency max': (v, b) => `(${v}) must be between 0 and ${b}, exclusive`,
  'logging.audit.bulkAccess.resourceTypes min': (_v, b) => `must name at least ${b} resource type (an empty list alerts on nothing: leave bulkAccess out instead)`,
};

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** The loader's own wording (environments/load.ts, issueMessage), for checks the schema leaves to it. */
function generic(b: Bound, v: number): string {
  if (b.origin === 'array') return b.side === 'min' ? `needs at least ${plural(b.value, 'entry', 'entries')}` : `may have at most ${plural(b.value, 'entry', 'entries')}`;
  if (b.origin === 'string') {
    if (b.side === 'min') return b.value === 1 ? 'must not be empty' : `(${JSON.stringify('x'.repeat(v))}) must be at least ${plural(b.value, 'character', 'characters')} long`;
    return `(${JSON.stringify('x'.repeat(v))}) must be at most ${plural(b.value, 'character', 'characters')} long`;
  }
  if (b.side === 'min') return `(${v}) must be ${b.inclusive ? 'at least' : 'greater than'} ${b.value}`;
  return `(${v}) must be ${b.inclusive ? 'at most' : 'less than'} ${b.value}`;
}

/** What another rule has to say at a bound the schema accepts. */
interface Interaction {
  /** Sets the fields the value at the bound depends on, so that only the bound is judged. */
  readonly adjust?: (c: Config, value: number) => void;
  /** Lines a cross-field rule (environments/rules.ts) reports at the bound, by design. */
  readonly atBound?: (env: EnvName, value: number) => string[];
}

const belowProductionReplicas = (path: string, noun = 'service') => (env: EnvName, v: number) => (env === 'production'
  ? [`production: ${path} (${v}) is below 2: production runs at least 2 replicas of every ${noun} so one pod can fail or be evicted`] : []);
/** Connections the pooler may open (rules.ts keeps 20 of max_connections for replication, backups and administration). */
const POOLER_CONNECTIONS = MAX_CONNECTIONS - 20;

/** Production refuses a load test whatever its values (environments/rules.ts). */
const loadTestInProduction = (env: EnvName) => (env === 'production'
  ? ['production: loadTest is refused in production: the load test runs in staging, so that a release that misses the SLO stops there; '
    + 'in production it would spend the error budget on synthetic traffic, in front of real users'] : []);
const LOAD_TEST_BOUNDS = ['requestsPerSecond min', 'requestsPerSecond max', 'virtualUsers min', 'virtualUsers max', 'paths min', 'paths max'];

const INTERACTIONS: Record<string, Interaction> = {
  // The latency objective is read off the gateway's histogram: only its bucket bounds are thresholds.
  'slo.latencyThresholdSeconds min': {
    atBound: (env, v) => [`${env}: slo.latencyThresholdSeconds (${v}) is not a bucket of the gateway's request-time histogram, which the latency objective `
      + 'is read from: one of 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60 (seconds)'],
  },
  // Production's rule: at least 2 replicas of every service.
  'services.<name>.autoscaling.minReplicas min': { atBound: belowProductionReplicas('services.api.autoscaling.minReplicas') },
  'services.<name>.autoscaling.maxReplicas min': {
    // minReplicas may not exceed maxReplicas.
    adjust: (c, v) => { at(c, 'services.api.autoscaling').minReplicas = v; },
    atBound: belowProductionReplicas('services.api.autoscaling.minReplicas'),
  },
  'services.<name>.replicas min': {
    // replicas and autoscaling exclude each other.
    adjust: (c) => { delete at(c, 'services.api').autoscaling; },
    atBound: belowProductionReplicas('services.api.replicas'),
  },
  // The same for workers.
  'workers.<name>.autoscaling.minReplicas min': { atBound: belowProductionReplicas('workers.documents.autoscaling.minReplicas', 'worker') },
  'workers.<name>.autoscaling.maxReplicas min': {
    adjust: (c, v) => { at(c, 'workers.documents.autoscaling').minReplicas = v; },
    atBound: belowProductionReplicas('workers.documents.autoscaling.minReplicas', 'worker'),
  },
  'workers.<name>.replicas min': {
    adjust: (c) => { delete at(c, 'workers.documents').autoscaling; },
    atBound: belowProductionReplicas('workers.documents.replicas', 'worker'),
  },
  // Production's rule: 3 database instances, so that a synchronous standby is always there.
  'data.postgres.instances min': {
    atBound: (env, v) => (env === 'production'
      ? [`production: data.postgres.instances (${v}) is below 3: synchronous replication with required durability needs a standby to spare`] : []),
  },
  // The pooler's server connections must fit into max_connections.
  'data.postgres.pooler.instances max': { adjust: (c, v) => { at(c, 'data.postgres.pooler').defaultPoolSize = Math.floor(POOLER_CONNECTIONS / v); } },
  'data.postgres.pooler.defaultPoolSize max': {
    // No pooler of at least 2 instances fits the largest pool size: the rule refuses it whatever the instances.
    atBound: (env, v) => [`${env}: data.postgres.pooler.defaultPoolSize (${v}) × 2 pooler instances opens more than ${POOLER_CONNECTIONS} server connections `
      + `(max_connections ${MAX_CONNECTIONS}, 20 kept for replication, backups and administration)`],
  },
  // The restore test's staleness limit must be longer than the longest gap between two runs.
  'backups.maxSnapshotAgeHours min': {
    atBound: (env, v) => [['databaseSchedule', '15 2 * * *', 24], ['filesSchedule', '40 * * * *', 1]].map(([field, schedule, hours]) =>
      `${env}: backups.maxSnapshotAgeHours (${v}) is not longer than the longest gap between two runs of backups.${field} ("${schedule}": ${hours} h): `
      + 'the restore test would call a backup stale between two good runs'),
  },
  ...Object.fromEntries(LOAD_TEST_BOUNDS.map((b) => [`loadTest.${b}`, { atBound: loadTestInProduction }])),
  // Production is on the HSTS preload list, which needs a year of max-age.
  'hsts.maxAgeSeconds min': {
    atBound: (env, v) => (env === 'production' ? [`production: hsts.maxAgeSeconds (${v}) is below 31536000, the minimum the HSTS preload list accepts`] : []),
  },
};

/**
 * `services.<name>.x` → `services.api.x`, `workers.<name>.x` → `workers.documents.x`,
 * `jobs.<name>.x` → `jobs.purge-documents.x`, `hosts[].routes` → `hosts[0].routes`.
 */
const concrete = (path: string) => path.replace(/^workers\.<name>/, 'workers.documents').replace(/^jobs\.<name>/, 'jobs.purge-documents')
  .replaceAll('<name>', 'api').replaceAll('[]', '[0]');

function segments(path: string): (string | number)[] {
  return path.split('.').flatMap((part) => {
    const [name, ...indexes] = part.split(/\[(\d+)\]/).filter((s) => s !== '');
    return [name, ...indexes.map(Number)];
  });
}

/** The object at a concrete path of `c`, which must exist. */
function at(c: Config, path: string): Config {
  const node = segments(path).reduce<unknown>((n, seg) => (n as Config | undefined)?.[seg], c);
  if (node === null || typeof node !== 'object') throw new Error(`fixture: no object at ${path}`);
  return node as Config;
}

/** The walked field of a concrete path prefix, for the default of an object that is not there yet. */
function defaultOf(walkPath: string): unknown {
  const presence = FIELDS.find((f) => f.path === walkPath)?.presence;
  return presence !== undefined && typeof presence === 'object' ? structuredClone(presence.default) : undefined;
}

/** Sets the field at `walkPath` (made concrete) to `value`, filling absent objects with their defaults. */
function setAt(c: Config, walkPath: string, value: unknown): void {
  const segs = segments(concrete(walkPath));
  const walkSegs = segments(walkPath.replaceAll('[]', '[0]'));
  let node: Config = c;
  for (const [i, seg] of segs.slice(0, -1).entries()) {
    if ((node as Record<string | number, unknown>)[seg] === undefined) {
      const parentWalk = walkSegs.slice(0, i + 1).reduce<string>((p, s) => (typeof s === 'number' ? `${p}[]` : p ? `${p}.${s}` : String(s)), '');
      node[seg] = defaultOf(parentWalk) ?? (typeof segs[i + 1] === 'number' ? [] : {});
    }
    node = node[seg] as Config;
  }
  node[segs[segs.length - 1]] = value;
}

/** The configuration of `env` with the bounded field at `n` (a number, or n entries or characters). */
function withValue(env: EnvName, b: Bound, n: number): Config {
  const c = config(env);
  let value: unknown = n;
  if (b.origin !== 'number') {
    const make = MAKERS[b.path];
    if (!make) throw new Error(`no value maker for ${b.path}: add one to MAKERS`);
    value = make(n, c);
  }
  setAt(c, b.path, value);
  return c;
}

describe('the walk over the schema', () => {
  test('finds the bounds (a walk that finds nothing would test nothing)', () => {
    expect(BOUNDS.length).toBeGreaterThanOrEqual(60);
    // The bounds whose changes went unnoticed before these tests, and one of each kind.
    for (const k of [
      'data.postgres.archiveTimeoutSeconds max', 'data.postgres.archiveTimeoutSeconds min', 'data.postgres.pooler.instances min',
      'services.<name>.port min', 'services.<name>.internetEgressPorts[] max', 'slo.latency max', 'slo.latencyThresholdSeconds min',
      'hosts max', 'hosts[].routes min', 'services.<name>.description min', 'backups.verifyTables min', 'objectStorage.cidrs min',
    ]) expect(BOUNDS.map(key)).toContain(k);
  });

  test('reads exclusive bounds, integers and worded messages', () => {
    const find = (k: string) => BOUNDS.find((b) => key(b) === k);
    expect(find('slo.latency min')).toMatchObject({ value: 0, inclusive: false, integer: false, worded: true });
    expect(find('slo.latencyThresholdSeconds max')).toMatchObject({ value: 60, inclusive: true, integer: false, worded: false });
    expect(find('data.postgres.archiveTimeoutSeconds max')).toMatchObject({ value: 60, inclusive: true, integer: true, worded: true });
    expect(find('hosts[].routes min')).toMatchObject({ value: 1, origin: 'array', worded: false });
  });

  test('every worded message is in WORDED, and every entry of WORDED and INTERACTIONS names a bound', () => {
    const worded = BOUNDS.filter((b) => b.worded).map(key).sort();
    expect(worded).toEqual(Object.keys(WORDED).sort());
    const all = new Set(BOUNDS.map(key));
    expect(Object.keys(INTERACTIONS).filter((k) => !all.has(k))).toEqual([]);
  });

  test('one step beyond is the next integer, or the next representable number', () => {
    expect(nextDouble(1, -1)).toBe(0.9999999999999999);
    expect(nextDouble(60, 1)).toBe(60.00000000000001);
    expect(nextDouble(0, 1)).toBe(Number.MIN_VALUE);
    expect(nextDouble(-1, 1)).toBeGreaterThan(-1);
  });
});

describe.each(ENVS)('%s: every bound of the schema', (env) => {
  test.each(BOUNDS.map((b) => [key(b), b] as const))('%s', (_key, b) => {
    const { inside, outside } = edge(b);
    const interaction = INTERACTIONS[key(b)] ?? {};

    const accepted = withValue(env, b, inside);
    interaction.adjust?.(accepted, inside);
    expect(problemsOf(env, accepted)).toEqual(interaction.atBound?.(env, inside) ?? []);

    const message = b.worded ? WORDED[key(b)](outside, b.value) : generic(b, outside);
    expect(problemsOf(env, withValue(env, b, outside))).toEqual([`${env}: ${concrete(b.path)} ${message}`]);
  });
});

// ---- the reference documents the same bounds ------------------------------------------------

const DOC = readFileSync(join(REPO, 'docs/configuration.md'), 'utf8');

/** The Type cell of the reference's row for `path`. */
function typeCell(path: string): string | undefined {
  const line = DOC.split('\n').find((l) => l.startsWith(`| \`${path}\` |`));
  return line?.split(/(?<!\\)\|/)[2]?.trim();
}

type Stated = Pick<Bound, 'side' | 'value' | 'inclusive'>;

/** The bounds a Type cell states: `integer 10–60`, `integer ≥ 1`, `list, 1 to 16`, `number in (0, 1)`, `number, > 0 and ≤ 60`, `string, not empty`. */
function statedBounds(cell: string): Stated[] {
  const n = Number;
  const patterns: [RegExp, (m: RegExpMatchArray) => Stated[]][] = [
    [/(\d+)–(\d+)/, (m) => [{ side: 'min', value: n(m[1]), inclusive: true }, { side: 'max', value: n(m[2]), inclusive: true }]],
    [/(\d+) to (\d+)/, (m) => [{ side: 'min', value: n(m[1]), inclusive: true }, { side: 'max', value: n(m[2]), inclusive: true }]],
    [/≥ (\d+)/, (m) => [{ side: 'min', value: n(m[1]), inclusive: true }]],
    [/at least (\d+)/, (m) => [{ side: 'min', value: n(m[1]), inclusive: true }]],
    [/in \(([\d.]+), ([\d.]+)\)/, (m) => [{ side: 'min', value: n(m[1]), inclusive: false }, { side: 'max', value: n(m[2]), inclusive: false }]],
    [/> ([\d.]+) and ≤ ([\d.]+)/, (m) => [{ side: 'min', value: n(m[1]), inclusive: false }, { side: 'max', value: n(m[2]), inclusive: true }]],
    [/^string, not empty/, () => [{ side: 'min', value: 1, inclusive: true }]],
  ];
  for (const [re, read] of patterns) {
    const m = cell.match(re);
    if (m) return read(m);
  }
  return [];
}

describe('docs/configuration.md states each bound as the schema has it', () => {
  // A list's entries are documented in the list's row: `list of integers 1–65535`.
  const rowOf = (path: string) => path.replace(/\[\]$/, '');
  const paths = [...new Set(BOUNDS.map((b) => b.path))];

  test.each(paths)('%s', (path) => {
    const cell = typeCell(rowOf(path));
    expect(cell).toBeDefined();
    const schema = BOUNDS.filter((b) => b.path === path).map(({ side, value, inclusive }) => ({ side, value, inclusive }));
    expect(statedBounds(cell as string)).toEqual(schema);
  });

  test('the reference states no bound the schema does not have', () => {
    const bounded = new Set(paths.map(rowOf));
    const rows = FIELDS.map((f) => f.path).filter((p) => !bounded.has(p) && /^(integer|number|list|string)\b/.test(typeCell(p) ?? ''));
    expect(rows.length).toBeGreaterThanOrEqual(5);
    expect(rows.filter((p) => statedBounds(typeCell(p) as string).length > 0)).toEqual([]);
  });
});

// ---- the numeric limits of the cross-field rules ----------------------------------------------

describe('limits of the cross-field rules, on both sides', () => {
  const change = (env: EnvName, edit: (c: Config) => void) => {
    const c = config(env);
    edit(c);
    return problemsOf(env, c);
  };

  test('production runs at least 2 replicas of every service (autoscaling or fixed)', () => {
    expect(change('production', (c) => { at(c, 'services.web.autoscaling').minReplicas = 2; })).toEqual([]);
    expect(change('production', (c) => { at(c, 'services.web.autoscaling').minReplicas = 1; })).toEqual([
      'production: services.web.autoscaling.minReplicas (1) is below 2: production runs at least 2 replicas of every service so one pod can fail or be evicted',
    ]);
    const fixed = (n: number) => (c: Config) => {
      delete at(c, 'services.api').autoscaling;
      at(c, 'services.api').replicas = n;
    };
    expect(change('production', fixed(2))).toEqual([]);
    expect(change('production', fixed(1))).toEqual([
      'production: services.api.replicas (1) is below 2: production runs at least 2 replicas of every service so one pod can fail or be evicted',
    ]);
  });

  test('autoscaling minReplicas may equal maxReplicas, not exceed it', () => {
    expect(change('staging', (c) => { at(c, 'services.api.autoscaling').minReplicas = 4; })).toEqual([]);
    expect(change('staging', (c) => { at(c, 'services.api.autoscaling').minReplicas = 5; })).toEqual([
      'staging: services.api.autoscaling.minReplicas (5) is greater than maxReplicas (4)',
    ]);
  });

  test('production runs 3 database instances', () => {
    expect(change('production', (c) => { at(c, 'data.postgres').instances = 3; })).toEqual([]);
    expect(change('production', (c) => { at(c, 'data.postgres').instances = 2; })).toEqual([
      'production: data.postgres.instances (2) is below 3: synchronous replication with required durability needs a standby to spare',
    ]);
  });

  test(`the pooler opens at most ${POOLER_CONNECTIONS} server connections (max_connections ${MAX_CONNECTIONS} less 20)`, () => {
    const pooler = (instances: number, defaultPoolSize: number) => (c: Config) => {
      at(c, 'data.postgres').pooler = { ...(defaultOf('data.postgres.pooler') as Config), instances, defaultPoolSize };
    };
    // 4 × 45 = 180 exactly; one more connection per instance is over.
    expect(POOLER_CONNECTIONS % 4).toBe(0);
    const size = POOLER_CONNECTIONS / 4;
    expect(change('production', pooler(4, size))).toEqual([]);
    expect(change('production', pooler(4, size + 1))).toEqual([
      `production: data.postgres.pooler.defaultPoolSize (${size + 1}) × 4 pooler instances opens more than ${POOLER_CONNECTIONS} server connections `
      + `(max_connections ${MAX_CONNECTIONS}, 20 kept for replication, backups and administration)`,
    ]);
  });

  test('HSTS preload needs a max-age of at least a year (31536000 s)', () => {
    expect(change('production', (c) => { at(c, 'hsts').maxAgeSeconds = 31536000; })).toEqual([]);
    expect(change('production', (c) => { at(c, 'hsts').maxAgeSeconds = 31535999; })).toEqual([
      'production: hsts.maxAgeSeconds (31535999) is below 31536000, the minimum the HSTS preload list accepts',
    ]);
  });

  test('renewBefore is at least 24h and shorter than the 2160h certificate lifetime', () => {
    const renew = (d: string) => (c: Config) => { at(c, 'tls').renewBefore = d; };
    expect(change('staging', renew('24h'))).toEqual([]);
    expect(change('staging', renew('23h59m59s'))).toEqual([
      'staging: tls.renewBefore ("23h59m59s") must be at least 24h: leave a day to notice and fix a failed renewal',
    ]);
    expect(change('production', renew('2159h59m59s'))).toEqual([]);
    expect(change('production', renew('2160h'))).toEqual([
      'production: tls.renewBefore ("2160h") must be shorter than the certificate lifetime (2160h, Let\'s Encrypt\'s 90 days)',
    ]);
  });

  test('app.name leaves room for the Redis StatefulSet (52 characters) and every derived name (63)', () => {
    // A name of n characters: the StatefulSet <name>-redis has n + 6, the longest derived name n + 15.
    const named = (n: number) => (c: Config) => { at(c, 'app').name = `portal-${'x'.repeat(n - 7)}`; };
    const name = (n: number) => `portal-${'x'.repeat(n - 7)}`;
    expect(change('production', named(46))).toEqual([]);
    expect(change('production', named(47))).toEqual([
      `production: app.name ("${name(47)}") is too long: the StatefulSet "${name(47)}-redis", made from it, has 53 characters and Kubernetes allows 52`,
    ]);
    // At 48 the longest derived name has exactly 63 characters, which Kubernetes allows: the StatefulSet's limit is what applies.
    expect(change('production', named(48))).toEqual([
      `production: app.name ("${name(48)}") is too long: the StatefulSet "${name(48)}-redis", made from it, has 54 characters and Kubernetes allows 52`,
    ]);
    expect(change('production', named(49))).toEqual([
      `production: app.name ("${name(49)}") is too long: "${name(49)}-redis-headless", made from it, has 64 characters and Kubernetes allows 63`,
    ]);
  });

  test('Redis maxmemory leaves half of the memory limit after 64 MiB for a fork\'s copy-on-write', () => {
    const c = config('production');
    const limit = String(at(c, 'data.redis.resources.limits').memory);
    const kb = (parseQuantity(limit) - 64 * 2 ** 20) / 2 / 1024;
    expect(Number.isInteger(kb)).toBe(true);
    expect(change('production', (x) => { at(x, 'data.redis').maxmemory = `${kb}kb`; })).toEqual([]);
    expect(change('production', (x) => { at(x, 'data.redis').maxmemory = `${kb + 1}kb`; })).toEqual([
      `production: data.redis.maxmemory (${kb + 1}kb) leaves too little of the memory limit (${limit}) for a background save's copy-on-write: `
      + `at most ${kb / 1024}mb (half of the limit after 64 MiB for buffers), or leave it out for that`,
    ]);
  });

  test('requests may equal limits, not exceed them', () => {
    const c = config('production');
    const limits = at(c, 'services.api.resources.limits');
    const cpuMillis = parseQuantity(String(limits.cpu)) * 1000;
    const memory = parseQuantity(String(limits.memory));
    const requests = (cpu: string, mem: string) => (x: Config) => { at(x, 'services.api.resources').requests = { cpu, memory: mem }; };
    expect(change('production', requests(`${cpuMillis}m`, String(memory)))).toEqual([]);
    expect(change('production', requests(`${cpuMillis + 1}m`, String(memory + 1)))).toEqual([
      `production: services.api.resources.requests.cpu (${cpuMillis + 1}m) is greater than limits.cpu (${limits.cpu})`,
      `production: services.api.resources.requests.memory (${memory + 1}) is greater than limits.memory (${limits.memory})`,
    ]);
  });
});

test('the fixtures start from definitions that resolve', () => {
  for (const env of ENVS) expect(problemsOf(env, config(env))).toEqual([]);
});
