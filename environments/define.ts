import { mergeConfig, type DeepPartial, type EnvironmentDefinition } from './load';
import type { EnvironmentInput } from './schema';
import { shared } from './shared';

/**
 * An environment: the shared description of the application with this environment's overrides
 * on top. Objects merge key by key; arrays (hosts, paths, receivers) replace as a whole.
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
