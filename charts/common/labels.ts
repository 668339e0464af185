/**
 * The recommended labels, in one place: the selector labels of the model
 * (environments/model/identity.ts) plus what an object is within the application.
 */
import { selectorLabels, type AppIdentity } from '../../environments/model/identity';

export const MANAGED_BY = 'shipshape';

/** What an object is within the application, for `app.kubernetes.io/component`. */
export type Component =
  | 'namespace' | 'gateway' | 'tls' | 'network-policy' | 'workload' | 'database' | 'cache'
  | 'storage' | 'backup' | 'monitoring' | 'scheduling' | 'delivery' | 'migration' | 'smoke-test' | 'load-test' | 'scheduled-job';

/** All recommended labels of an object. */
export function recommendedLabels(id: AppIdentity, name: string, component: Component): Record<string, string> {
  return {
    ...selectorLabels(id, name),
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/part-of': id.app,
    'app.kubernetes.io/managed-by': MANAGED_BY,
  };
}

export interface ObjectNaming {
  /** `metadata.name`. */
  readonly name: string;
  /** `app.kubernetes.io/name`: what the object is of (a service, `postgresql` …). @default name */
  readonly labelName?: string;
  readonly component: Component;
}

/** Metadata of a namespaced object of this application. */
export function appMetadata(id: AppIdentity, o: ObjectNaming): { name: string; namespace: string; labels: Record<string, string> } {
  return { name: o.name, namespace: id.namespace, labels: recommendedLabels(id, o.labelName ?? o.name, o.component) };
}
