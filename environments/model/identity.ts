/**
 * Which application, in which environment, an object belongs to: its namespace and the labels
 * every selector uses. Selectors use only the two labels that never change for the life of a
 * workload (name and instance), so relabelling component or part-of never orphans pods.
 */
import type { Environment } from '../schema';

export interface AppIdentity {
  /** The application (`app.kubernetes.io/part-of`). */
  readonly app: string;
  /** The application in one environment (`app.kubernetes.io/instance`). */
  readonly instance: string;
  /** The namespace of every namespaced object. */
  readonly namespace: string;
}

export function appIdentity(env: Environment): AppIdentity {
  return { app: env.app.name, instance: `${env.app.name}-${env.name}`, namespace: env.app.namespace };
}

/** The labels a selector may use: stable for the life of the workload. */
export function selectorLabels(id: AppIdentity, name: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/instance': id.instance,
  };
}
