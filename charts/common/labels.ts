/**
 * The recommended labels, in one place. Selectors use only the two labels that never change for
 * the life of a workload (name and instance), so relabeling component or part-of never orphans pods.
 */
import type { Environment } from '../../environments/schema';

export const MANAGED_BY = 'shipshape';

/** What an object is within the application, for `app.kubernetes.io/component`. */
export type Component =
  | 'namespace' | 'gateway' | 'tls' | 'network-policy' | 'workload' | 'database' | 'cache'
  | 'storage' | 'backup' | 'monitoring';

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

/** All recommended labels of an object. */
export function recommendedLabels(env: Environment, name: string, component: Component): Record<string, string> {
  return {
    ...selectorLabels(env, name),
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/part-of': env.app.name,
    'app.kubernetes.io/managed-by': MANAGED_BY,
  };
}

/** Metadata of a namespaced object of this application. */
export function appMetadata(env: Environment, objectName: string, labelName: string, component: Component) {
  return { name: objectName, namespace: env.app.namespace, labels: recommendedLabels(env, labelName, component) };
}
