import type { EnvironmentDefinition } from './define';
import { production } from './production';
import { staging } from './staging';

/** Every environment `npm run synth` builds, in output order. */
export const environments: readonly EnvironmentDefinition[] = [staging, production];
