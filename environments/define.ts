/**
 * An environment: the shared description of the application with this environment's overrides
 * on top, before image pins, defaults and validation.
 */
import type { Extension } from './extension';
import type { EnvironmentInput } from './schema';
import { shared } from './shared';

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
  /** Constructs of the user's own added to the environment's output (docs/extending.md). @default none */
  readonly extensions?: readonly Extension[];
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
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

/**
 * The environment `name`: the shared description with these overrides on top. Objects merge key
 * by key; arrays (hosts, paths, receivers) replace as a whole.
 */
export function defineEnvironment(
  overrides: DeepPartial<EnvironmentInput> & { readonly name: string },
): EnvironmentDefinition {
  return {
    name: overrides.name,
    config: mergeConfig(shared, overrides),
    imagePinsFile: `environments/images/${overrides.name}.yaml`,
  };
}
