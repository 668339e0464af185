/**
 * The recommended labels, in one place: the selector labels of the model
 * (environments/model/identity.ts) plus what an object is within the application.
 */
import { selectorLabels } from '../../environments/model/identity';
import type { Environment } from '../../environments/schema';

export const MANAGED_BY = 'shipshape';

/** What an object is within the application, for `app.kubernetes.io/component`. */
export type Component =
  | 'namespace' | 'gateway' | 'tls' | 'network-policy' | 'workload' | 'database' | 'cache'
  | 'storage' | 'backup' | 'monitoring';

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
