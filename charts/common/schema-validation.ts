/**
 * Strict schema validation of synthesized objects by apiVersion and kind, with the schemas that
 * kubernetes-models and the @kubernetes-models CRD packages compile from the upstream OpenAPI.
 *
 * The compiled validators check types, enums, patterns and required fields but accept unknown
 * fields, which is how a misspelt `readinesProbe` reaches a cluster and is silently dropped. So the
 * object is validated through a proxy that records which properties the validator looked at: a
 * validator reads every property its schema declares on an object it checks, so a property that it
 * never read on such an object is unknown to the schema. Objects it enumerates (maps such as
 * labels) and objects it does not look into at all (free-form fields) are not judged.
 */

/** Validator of one kind: kubernetes-models' `Model.prototype.validate`, run with the object as `this`. */
type Validate = (this: unknown) => void;
type Loader = () => Promise<{ prototype: { validate: Validate } }>;

const core = (kind: string): Loader => () => import(`kubernetes-models/v1/${kind}`).then((m) => m[kind]);
const group = (path: string, kind: string): Loader => () => import(`kubernetes-models/${path}/${kind}`).then((m) => m[kind]);

/**
 * The API versions and kinds this project may emit, each with its schema. Anything else is refused:
 * an object the cluster does not serve fails the whole sync.
 */
const REGISTRY: Record<string, Loader> = {
  'v1/Namespace': core('Namespace'),
  'v1/Service': core('Service'),
  'v1/ServiceAccount': core('ServiceAccount'),
  'v1/ConfigMap': core('ConfigMap'),
  'v1/Secret': core('Secret'),
  'v1/PersistentVolumeClaim': core('PersistentVolumeClaim'),
  'apps/v1/Deployment': group('apps/v1', 'Deployment'),
  'apps/v1/StatefulSet': group('apps/v1', 'StatefulSet'),
  'apps/v1/DaemonSet': group('apps/v1', 'DaemonSet'),
  'batch/v1/Job': group('batch/v1', 'Job'),
  'batch/v1/CronJob': group('batch/v1', 'CronJob'),
  'autoscaling/v2/HorizontalPodAutoscaler': group('autoscaling/v2', 'HorizontalPodAutoscaler'),
  'policy/v1/PodDisruptionBudget': group('policy/v1', 'PodDisruptionBudget'),
  'networking.k8s.io/v1/NetworkPolicy': group('networking.k8s.io/v1', 'NetworkPolicy'),
  'rbac.authorization.k8s.io/v1/Role': group('rbac.authorization.k8s.io/v1', 'Role'),
  'rbac.authorization.k8s.io/v1/RoleBinding': group('rbac.authorization.k8s.io/v1', 'RoleBinding'),
  'rbac.authorization.k8s.io/v1/ClusterRole': group('rbac.authorization.k8s.io/v1', 'ClusterRole'),
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': group('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding'),
  'scheduling.k8s.io/v1/PriorityClass': group('scheduling.k8s.io/v1', 'PriorityClass'),
  'gateway.networking.k8s.io/v1/Gateway': () => import('@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway').then((m) => m.Gateway),
  'gateway.networking.k8s.io/v1/HTTPRoute': () => import('@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute').then((m) => m.HTTPRoute),
  'cert-manager.io/v1/Certificate': () => import('@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate').then((m) => m.Certificate),
  'cert-manager.io/v1/ClusterIssuer': () => import('@kubernetes-models/cert-manager/cert-manager.io/v1/ClusterIssuer').then((m) => m.ClusterIssuer),
  'monitoring.coreos.com/v1/ServiceMonitor': () => import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor').then((m) => m.ServiceMonitor),
  'monitoring.coreos.com/v1/PodMonitor': () => import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor').then((m) => m.PodMonitor),
  'monitoring.coreos.com/v1/PrometheusRule': () => import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule').then((m) => m.PrometheusRule),
  'external-secrets.io/v1/ExternalSecret': () => import('@kubernetes-models/external-secrets/external-secrets.io/v1/ExternalSecret').then((m) => m.ExternalSecret),
  'argoproj.io/v1alpha1/Application': () => import('@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application').then((m) => m.Application),
  'argoproj.io/v1alpha1/AppProject': () => import('@kubernetes-models/argo-cd/argoproj.io/v1alpha1/AppProject').then((m) => m.AppProject),
};

/** API versions Kubernetes removed, with the release that removed them and the replacement. */
const REMOVED: Record<string, string> = {
  'extensions/v1beta1': 'removed in Kubernetes 1.22; use apps/v1 or networking.k8s.io/v1',
  'apps/v1beta1': 'removed in Kubernetes 1.16; use apps/v1',
  'apps/v1beta2': 'removed in Kubernetes 1.16; use apps/v1',
  'networking.k8s.io/v1beta1': 'removed in Kubernetes 1.22; use networking.k8s.io/v1',
  'batch/v1beta1': 'removed in Kubernetes 1.25; use batch/v1',
  'policy/v1beta1': 'removed in Kubernetes 1.25; use policy/v1',
  'autoscaling/v2beta1': 'removed in Kubernetes 1.25; use autoscaling/v2',
  'autoscaling/v2beta2': 'removed in Kubernetes 1.26; use autoscaling/v2',
  'rbac.authorization.k8s.io/v1beta1': 'removed in Kubernetes 1.22; use rbac.authorization.k8s.io/v1',
  'scheduling.k8s.io/v1beta1': 'removed in Kubernetes 1.22; use scheduling.k8s.io/v1',
  'gateway.networking.k8s.io/v1beta1': 'superseded; use gateway.networking.k8s.io/v1',
  'cert-manager.io/v1alpha2': 'removed in cert-manager 1.7; use cert-manager.io/v1',
  'external-secrets.io/v1beta1': 'removed in External Secrets 0.17; use external-secrets.io/v1',
};

interface Visit {
  readonly path: string;
  readonly value: Record<string, unknown>;
  readonly read: Set<string>;
  enumerated: boolean;
}

/** A read-only view of `value` that records, per object, which properties were asked for. */
function tracked(value: unknown, path: string, visits: Visit[]): unknown {
  if (value === null || typeof value !== 'object') return value;
  const visit: Visit = { path, value: value as Record<string, unknown>, read: new Set(), enumerated: false };
  visits.push(visit);
  const children = new Map<string, unknown>();
  return new Proxy(value as object, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver);
      if (typeof key !== 'string' || !Object.prototype.hasOwnProperty.call(target, key)) return v;
      visit.read.add(key);
      if (!children.has(key)) children.set(key, tracked(v, `${path}/${key}`, visits));
      return children.get(key);
    },
    has(target, key) {
      if (typeof key === 'string') visit.read.add(key);
      return Reflect.has(target, key);
    },
    getOwnPropertyDescriptor(target, key) {
      if (typeof key === 'string') visit.read.add(key);
      return Reflect.getOwnPropertyDescriptor(target, key);
    },
    ownKeys(target) {
      visit.enumerated = true;
      return Reflect.ownKeys(target);
    },
    set() {
      throw new Error('validators must not modify the object');
    },
  });
}

interface AjvError { instancePath?: string; message?: string; params?: Record<string, unknown> }

function schemaErrors(e: unknown): string[] {
  const details = (e as { errors?: AjvError[] }).errors;
  if (!Array.isArray(details)) return [(e as Error).message];
  return details.map((d) => {
    const extra = d.params?.allowedValues ? ` (${(d.params.allowedValues as unknown[]).join(', ')})` : '';
    return `${d.instancePath || '/'} ${d.message ?? 'is invalid'}${extra}`;
  });
}

/** Problems of one object against its schema: `[]` when valid. */
export async function validateObject(obj: Record<string, unknown>): Promise<string[]> {
  const apiVersion = String(obj.apiVersion ?? '');
  const kind = String(obj.kind ?? '');
  if (REMOVED[apiVersion]) return [`apiVersion ${apiVersion} is ${REMOVED[apiVersion]}`];
  const load = REGISTRY[`${apiVersion}/${kind}`];
  if (!load) return [`${apiVersion} ${kind} is not an API this project may emit (add its schema to the registry in charts/common/schema-validation.ts)`];
  const model = await load();
  const visits: Visit[] = [];
  const problems: string[] = [];
  try {
    model.prototype.validate.call(tracked(obj, '', visits));
  } catch (e) {
    problems.push(...schemaErrors(e));
  }
  for (const v of visits) {
    if (Array.isArray(v.value) || v.enumerated || v.read.size === 0) continue;
    for (const key of Object.keys(v.value)) {
      if (!v.read.has(key)) problems.push(`${v.path}/${key} is not a field of ${apiVersion} ${kind}`);
    }
  }
  return problems;
}
