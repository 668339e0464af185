/**
 * Which application, in which environment, an object belongs to: the labels every selector uses.
 * Selectors use only the two labels that never change for the life of a workload (name and
 * instance), so relabelling component or part-of never orphans pods.
 */
import type { Environment } from '../schema';

/** `app.kubernetes.io/instance`: the application in one environment. */
export function instanceOf(env: Environment): string {
  return `${env.app.name}-${env.name}`;
}

/** The labels a selector may use: stable for the life of the workload. */
export function selectorLabels(env: Environment, name: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/instance': instanceOf(env),
  };
}
