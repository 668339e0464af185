/**
 * From what an environment file says to a validated Environment: merge the shared defaults with
 * the environment's overrides, fill in the image pins, then check everything and report every
 * problem at once, each naming the environment and the field.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { crossFieldProblems, DIGEST_REQUIRED, type Problem } from './rules';
import { EnvironmentSchema, ImageSchema, ServiceNameSchema, type Environment, type EnvironmentInput } from './schema';

export type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/** What an environment file exports: its overrides merged over the shared defaults. */
export interface EnvironmentDefinition {
  readonly name: string;
  /** The merged configuration, before image pins, defaults and validation. */
  readonly config: DeepPartial<EnvironmentInput>;
  /** Pin file, relative to the repository root. */
  readonly imagePinsFile: string;
}

/** Raised for input that cannot be built; `problems` are complete, user-facing lines. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge where objects merge key by key and anything else (arrays included) replaces. */
export function mergeConfig<T>(base: T, override: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(override)) return (override === undefined ? base : override) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) {
    if (v === undefined) continue;
    // defineProperty, not assignment: a key named __proto__ (YAML can produce one) stays a key.
    Object.defineProperty(out, k, {
      value: Object.hasOwn(base, k) ? mergeConfig(base[k], v) : v,
      enumerable: true, writable: true, configurable: true,
    });
  }
  return out as T;
}

/** `services.api.autoscaling.minReplicas`, `hosts[0].routes[1].path`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, seg) =>
    typeof seg === 'number' ? `${acc}[${seg}]` : acc ? `${acc}.${String(seg)}` : String(seg), '');
}

/** A value as a message quotes it: strings in quotes, lists and objects by kind. */
function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'a list';
  if (isPlainObject(value)) return 'an object';
  return String(value);
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string', number: 'a number', int: 'an integer', boolean: 'true or false',
  object: 'an object', record: 'an object', array: 'a list',
};

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * The wording of every issue the schema does not phrase itself (zod's per-parse error map: a
 * message given in the schema wins over this). Phrased to follow the field's path.
 */
export const issueMessage: z.core.$ZodErrorMap = (issue) => {
  const input = describe(issue.input);
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'is required' : `(${input}) must be ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'array' || issue.origin === 'set') return `needs at least ${plural(min, 'entry', 'entries')}`;
      if (issue.origin === 'string') return min === 1 ? 'must not be empty' : `(${input}) must be at least ${plural(min, 'character', 'characters')} long`;
      return `(${input}) must be ${issue.inclusive === false ? 'greater than' : 'at least'} ${min}`;
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'array' || issue.origin === 'set') return `may have at most ${plural(max, 'entry', 'entries')}`;
      if (issue.origin === 'string') return `(${input}) must be at most ${plural(max, 'character', 'characters')} long`;
      return `(${input}) must be ${issue.inclusive === false ? 'less than' : 'at most'} ${max}`;
    }
    case 'invalid_value':
      return issue.values.length === 1
        ? `(${input}) must be ${describe(issue.values[0])}`
        : `(${input}) must be one of ${issue.values.map((v) => describe(v)).join(', ')}`;
    case 'invalid_format':
      return `(${input}) is not in the expected format`;
    case 'not_multiple_of':
      return `(${input}) must be a multiple of ${String(issue.divisor)}`;
    default:
      return undefined;
  }
};

/** The parts of zod's schema objects the walk below reads. */
interface SchemaNode {
  readonly _zod: { readonly def: { readonly type: string; readonly shape?: Record<string, SchemaNode>; readonly valueType?: SchemaNode; readonly element?: SchemaNode; readonly innerType?: SchemaNode } };
}

/** The schema of the field at `path` (wrappers such as default and optional removed), if any. */
function schemaAt(schema: unknown, path: readonly PropertyKey[]): SchemaNode | undefined {
  let node = schema as SchemaNode | undefined;
  const unwrap = () => {
    while (node?._zod.def.innerType) node = node._zod.def.innerType;
  };
  unwrap();
  for (const seg of path) {
    const def: SchemaNode['_zod']['def'] | undefined = node?._zod.def;
    node = def?.shape ? def.shape[String(seg)] : def?.valueType ?? def?.element;
    unwrap();
  }
  return node;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}

/** `replicaz` → `replicas`: the known field a misspelt key most likely meant. */
function suggestion(schema: unknown, path: readonly PropertyKey[], key: string): string | undefined {
  const known = Object.keys(schemaAt(schema, path)?._zod.def.shape ?? {});
  const scored = known
    .map((k) => ({ k, d: k.toLowerCase() === key.toLowerCase() ? 0 : editDistance(k.toLowerCase(), key.toLowerCase()) }))
    .filter(({ d }) => d <= Math.max(1, Math.floor(key.length / 3)))
    .sort((a, b) => a.d - b.d);
  return scored[0]?.k;
}

/** One zod issue as problems phrased for a person (unknown keys give one problem each). */
function fromIssue(issue: z.core.$ZodIssue, schema: unknown): Problem[] {
  const path = formatPath(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) => {
        const hint = suggestion(schema, issue.path, k);
        return { path: formatPath([...issue.path, k]), message: `is not a known field${hint ? ` (did you mean ${hint}?)` : ''}` };
      });
    case 'invalid_key':
      // The path already ends with the offending key; the inner issues say what is wrong with it.
      return issue.issues.map((i) => ({ path, message: i.message }));
    default:
      return [{ path, message: issue.message }];
  }
}

/** Parse with the messages above; `data` only when there is no issue. */
function check(schema: z.ZodType, input: unknown): { data?: unknown; issues: z.core.$ZodIssue[] } {
  const parsed = schema.safeParse(input, { reportInput: true, error: issueMessage });
  return parsed.success ? { data: parsed.data, issues: [] } : { issues: parsed.error.issues };
}

const PinsSchema = z.strictObject({ services: z.record(z.string(), ImageSchema) });

interface Pins {
  /** Raw pin of each service, as the file has it (validated separately). */
  readonly images: Record<string, unknown>;
  /** Services whose pin has a problem already reported against the pin file ('all': the file is unusable). */
  readonly broken: Set<string> | 'all';
  readonly problems: Problem[];
}

/**
 * Read and check a pin file against the services the environment defines (undefined: unknown).
 * Production's digest rule is checked here too, so it is reported even when another field of the
 * same pin is wrong.
 */
function readPins(file: string, root: string, production: boolean, services: readonly string[] | undefined, needsPin: (name: string) => boolean): Pins {
  const unusable = (message: string): Pins => ({ images: {}, broken: 'all', problems: [{ path: file, message }] });
  let text: string;
  try {
    text = readFileSync(join(root, file), 'utf8');
  } catch (e) {
    return unusable((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    return unusable(`is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (raw === null || raw === undefined) return unusable('is empty: it must map services.<name> to { repository, tag, digest }');
  const { issues } = check(PinsSchema, raw);
  const problems: Problem[] = [];
  const brokenPins = new Set<string>();
  let fileBroken = false;
  for (const issue of issues) {
    for (const p of fromIssue(issue, PinsSchema)) problems.push({ path: p.path ? `${file}: ${p.path}` : file, message: p.message });
    if (issue.path[0] === 'services' && issue.path.length >= 2) brokenPins.add(String(issue.path[1]));
    else if (issue.code !== 'unrecognized_keys') fileBroken = true;
  }
  const broken = fileBroken ? 'all' : brokenPins;
  const images = isPlainObject(raw) && isPlainObject(raw.services) ? raw.services : {};
  if (production) {
    for (const [name, pin] of Object.entries(images)) {
      if (isPlainObject(pin) && pin.digest === undefined) {
        problems.push({ path: `${file}: services.${name}.digest`, message: DIGEST_REQUIRED });
        brokenPins.add(name);
      }
    }
  }
  if (services && broken !== 'all') {
    for (const name of services) {
      if (!Object.hasOwn(images, name) && needsPin(name)) {
        problems.push({ path: `${file}: services.${name}`, message: 'is required: every service of the environment needs an image pin' });
        broken.add(name);
      }
    }
    for (const name of Object.keys(images)) {
      if (!services.includes(name)) problems.push({ path: `${file}: services.${name}`, message: 'pins an image for a service this environment does not have' });
    }
  }
  return { images, broken, problems };
}

/** The line a person reads: `<env>: <path> <message>`. */
function line(env: string, p: Problem): string {
  return p.path ? `${env}: ${p.path} ${p.message}` : `${env}: ${p.message}`;
}

/**
 * Validate one environment. Returns the Environment, or throws ConfigError listing every problem
 * as `<env>: <path> <message>`.
 */
export function resolveEnvironment(def: EnvironmentDefinition, root: string): Environment {
  const config: unknown = def.config;
  const services = isPlainObject(config) && isPlainObject(config.services) ? config.services : undefined;
  const production = isPlainObject(config) && config.production === true;
  // A service whose name is invalid is reported by the schema; asking for its pin would only add noise.
  const pins = readPins(def.imagePinsFile, root, production, services ? Object.keys(services) : undefined,
    (name) => ServiceNameSchema.safeParse(name).success);
  const problems: Problem[] = [...pins.problems];
  let input = config;
  if (services) {
    const images: Record<string, unknown> = {};
    for (const [name, s] of Object.entries(services)) {
      if (isPlainObject(s) && s.image !== undefined) {
        problems.push({ path: `services.${name}.image`, message: `is set here, but images come only from ${def.imagePinsFile}` });
      }
      if (Object.hasOwn(pins.images, name)) images[name] = { image: pins.images[name] };
    }
    input = mergeConfig(config, { services: images });
  }
  const { data, issues } = check(EnvironmentSchema, input);
  // A pin the pin file's own check already reported would be reported again here, less precisely.
  const reportedInPins = (path: readonly PropertyKey[]) =>
    path[0] === 'services' && path[2] === 'image' && (pins.broken === 'all' || pins.broken.has(String(path[1])));
  problems.push(...issues.filter((i) => !reportedInPins(i.path)).flatMap((i) => fromIssue(i, EnvironmentSchema)));
  const env = data as Environment | undefined;
  if (env) {
    problems.push(...crossFieldProblems(env, { imagePinsFile: def.imagePinsFile }));
    if (def.name !== env.name) {
      problems.push({ path: 'name', message: `("${env.name}") differs from the environment's file name (${def.name})` });
    }
  }
  if (problems.length > 0 || !env) {
    // The pin check and the cross-field rules both know production's digest rule: say it once.
    throw new ConfigError([...new Set(problems.map((p) => line(def.name, p)))]);
  }
  return env;
}

/** Rules across environments: they share a cluster, so they must not share names in it. */
function crossEnvironmentProblems(envs: readonly Environment[]): string[] {
  const out: string[] = [];
  const namespaces = new Map<string, string>();
  const hosts = new Map<string, string>();
  for (const env of envs) {
    const ns = namespaces.get(env.app.namespace);
    if (ns !== undefined) out.push(`${env.name}: app.namespace ("${env.app.namespace}") is also the namespace of ${ns}: each environment needs its own`);
    else namespaces.set(env.app.namespace, env.name);
    for (const [i, h] of env.hosts.entries()) {
      const other = hosts.get(h.hostname);
      if (other !== undefined && other !== env.name) out.push(`${env.name}: hosts[${i}].hostname ("${h.hostname}") is also a host of ${other}`);
      else hosts.set(h.hostname, env.name);
    }
  }
  return out;
}

/** Validate every environment, collecting the problems of all of them before failing. */
export function resolveEnvironments(defs: readonly EnvironmentDefinition[], root: string): Environment[] {
  const problems: string[] = [];
  const envs: Environment[] = [];
  const names = new Set<string>();
  for (const def of defs) {
    if (names.has(def.name)) problems.push(`${def.name}: name is used by two environments`);
    names.add(def.name);
    try {
      envs.push(resolveEnvironment(def, root));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(...e.problems);
    }
  }
  problems.push(...crossEnvironmentProblems(envs));
  if (problems.length > 0) throw new ConfigError(problems);
  return envs;
}
