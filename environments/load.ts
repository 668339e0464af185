/**
 * From what an environment file says to a validated Environment: merge the shared defaults with
 * the environment's overrides, fill in the image pins, then check everything and report every
 * problem at once, each naming the environment and the field.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { crossFieldProblems, type Problem } from './rules';
import { EnvironmentSchema, ImageSchema, type Environment, type EnvironmentInput } from './schema';

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
    if (v !== undefined) out[k] = k in base ? mergeConfig(base[k], v) : v;
  }
  return out as T;
}

/** `services.api.autoscaling.minReplicas`, `hosts[0].routes[1].path`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, seg) =>
    typeof seg === 'number' ? `${acc}[${seg}]` : acc ? `${acc}.${String(seg)}` : String(seg), '');
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** One zod issue as problems phrased for a person (unknown keys give one problem each). */
function fromIssue(issue: z.core.$ZodIssue): Problem[] {
  const path = formatPath(issue.path);
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) => ({ path: formatPath([...issue.path, k]), message: 'is not a known field' }));
    case 'invalid_type':
      return [{ path, message: input === undefined ? 'is required' : `(${describe(input)}) must be ${issue.expected === 'record' ? 'an object' : `a ${issue.expected}`}` }];
    case 'too_small':
      return [{ path, message: issue.origin === 'array' ? `needs at least ${String(issue.minimum)} entr${issue.minimum === 1 ? 'y' : 'ies'}` : `(${describe(input)}) must be at least ${String(issue.minimum)}` }];
    case 'too_big':
      return [{ path, message: `(${describe(input)}) must be at most ${String(issue.maximum)}` }];
    case 'invalid_value':
      return [{ path, message: `(${describe(input)}) must be one of ${issue.values.map((v) => describe(v)).join(', ')}` }];
    case 'invalid_key':
      return issue.issues.flatMap((i) => fromIssue({ ...i, path: [...issue.path, String((issue as { input?: unknown }).input ?? '')] } as z.core.$ZodIssue));
    default:
      return [{ path, message: issue.message }];
  }
}

const PinsSchema = z.strictObject({ services: z.record(z.string(), ImageSchema) });

function readPins(file: string, root: string): { pins?: z.output<typeof PinsSchema>; problems: Problem[] } {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(join(root, file), 'utf8'));
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `is not valid YAML: ${(e as Error).message.split('\n')[0]}`;
    return { problems: [{ path: file, message: reason }] };
  }
  const parsed = PinsSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    return { problems: parsed.error.issues.flatMap(fromIssue).map((p) => ({ path: `${file}: ${p.path}`, message: p.message })) };
  }
  return { pins: parsed.data, problems: [] };
}

/**
 * Validate one environment. Returns the Environment, or throws ConfigError listing every problem
 * as `<env>: <path> <message>`.
 */
export function resolveEnvironment(def: EnvironmentDefinition, root: string): Environment {
  const { pins, problems } = readPins(def.imagePinsFile, root);
  let input: Record<string, unknown> = def.config as Record<string, unknown>;
  if (pins) {
    const services = (isPlainObject(input.services) ? input.services : {}) as Record<string, unknown>;
    for (const name of Object.keys(pins.services)) {
      if (!(name in services)) problems.push({ path: `${def.imagePinsFile}: services.${name}`, message: 'pins an image for a service this environment does not have' });
    }
    input = mergeConfig(input, {
      services: Object.fromEntries(Object.keys(services).map((name) => [name, { image: pins.services[name] }])),
    });
  }
  const parsed = EnvironmentSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) problems.push(...parsed.error.issues.flatMap(fromIssue));
  else if (problems.length === 0) problems.push(...crossFieldProblems(parsed.data));
  if (parsed.success && def.name !== parsed.data.name) {
    problems.push({ path: 'name', message: `("${parsed.data.name}") differs from the environment's file name (${def.name})` });
  }
  if (problems.length > 0 || !parsed.success) {
    throw new ConfigError(problems.map((p) => `${def.name}: ${p.path} ${p.message}`));
  }
  return parsed.data;
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
  if (problems.length > 0) throw new ConfigError(problems);
  return envs;
}
