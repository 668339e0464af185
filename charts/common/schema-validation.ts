/**
 * Strict schema validation of synthesized objects by apiVersion and kind, with the schemas that
 * kubernetes-models and the @kubernetes-models CRD packages compile from the upstream OpenAPI.
 *
 * The compiled validators check types, enums, patterns and required fields but accept unknown
 * fields, which is how a misspelt `readinesProbe` reaches a cluster and is silently dropped. So the
 * object is validated through a proxy that records which properties the validator asked for. A
 * compiled validator asks for every property its schema declares on each object it checks
 * (`data.runAsNonRoot !== undefined`), whether the object has it or not, and asks for every key
 * of a map it checks (`for (k in data) check(data[k])`). So on an object the validator asked
 * anything of, an own key it never asked for is unknown to the schema. An object it asked nothing
 * of is free-form (`type: object` with no properties, such as RawExtension or a Helm
 * `valuesObject`) and is not judged.
 *
 * Only reads by name count. Enumeration does not: a validator that checks `minProperties` calls
 * `Object.keys` on a typed object, and counting that as reading every key would hide unknown fields
 * there (ExternalSecret `sourceRef`). Where the assumption can break: `anyOf` stops at the first
 * branch that passes, so a property declared only in a later branch would be reported as unknown
 * (loud, never silent); none of the schemas in the registry use anyOf (int-or-string and quantity
 * are `oneOf` over scalars, which evaluates every branch). The tests inject an unknown field into
 * every object node of the real output to hold this.
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

/**
 * API versions Kubernetes (or an operator) stopped serving, with when and what replaces them; by
 * `apiVersion/kind` where kinds of one version went at different releases, else by `apiVersion`.
 */
const REMOVED: Record<string, string> = {
  'extensions/v1beta1/Ingress': 'removed in Kubernetes 1.22; use networking.k8s.io/v1',
  'extensions/v1beta1/NetworkPolicy': 'removed in Kubernetes 1.16; use networking.k8s.io/v1',
  'extensions/v1beta1/PodSecurityPolicy': 'removed in Kubernetes 1.16, and PodSecurityPolicy itself in 1.25; use Pod Security Admission (pod-security.kubernetes.io labels on the Namespace)',
  'extensions/v1beta1': 'removed in Kubernetes 1.16 (Ingress in 1.22); use apps/v1 (Deployment, DaemonSet, ReplicaSet) or networking.k8s.io/v1 (NetworkPolicy, Ingress)',
  'apps/v1beta1': 'removed in Kubernetes 1.16; use apps/v1',
  'apps/v1beta2': 'removed in Kubernetes 1.16; use apps/v1',
  'networking.k8s.io/v1beta1': 'removed in Kubernetes 1.22; use networking.k8s.io/v1',
  'rbac.authorization.k8s.io/v1beta1': 'removed in Kubernetes 1.22; use rbac.authorization.k8s.io/v1',
  'scheduling.k8s.io/v1beta1': 'removed in Kubernetes 1.22; use scheduling.k8s.io/v1',
  'admissionregistration.k8s.io/v1beta1': 'removed in Kubernetes 1.22; use admissionregistration.k8s.io/v1',
  'apiextensions.k8s.io/v1beta1': 'removed in Kubernetes 1.22; use apiextensions.k8s.io/v1',
  'policy/v1beta1/PodSecurityPolicy': 'removed in Kubernetes 1.25; use Pod Security Admission (pod-security.kubernetes.io labels on the Namespace)',
  'policy/v1beta1': 'removed in Kubernetes 1.25; use policy/v1',
  'batch/v1beta1': 'removed in Kubernetes 1.25; use batch/v1',
  'autoscaling/v2beta1': 'removed in Kubernetes 1.25; use autoscaling/v2',
  'autoscaling/v2beta2': 'removed in Kubernetes 1.26; use autoscaling/v2',
  'discovery.k8s.io/v1beta1': 'removed in Kubernetes 1.25; use discovery.k8s.io/v1',
  'gateway.networking.k8s.io/v1beta1': 'superseded (deprecated since Gateway API 1.0); use gateway.networking.k8s.io/v1',
  'cert-manager.io/v1alpha2': 'removed in cert-manager 1.7; use cert-manager.io/v1',
  'cert-manager.io/v1alpha3': 'removed in cert-manager 1.7; use cert-manager.io/v1',
  'cert-manager.io/v1beta1': 'removed in cert-manager 1.7; use cert-manager.io/v1',
  'external-secrets.io/v1beta1': 'removed in External Secrets 0.17; use external-secrets.io/v1',
};

interface Visit {
  /** JSON pointer of the object within the validated one. */
  readonly path: string;
  readonly value: object;
  /** Property names the validator asked for, present or not. */
  readonly read: Set<string>;
}

/** One segment of a JSON pointer (RFC 6901), as the validators write `instancePath`. */
const pointerSegment = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** A read-only view of `value` that records, per object, which properties were asked for. */
function tracked(value: unknown, path: string, visits: Visit[]): unknown {
  if (value === null || typeof value !== 'object') return value;
  const visit: Visit = { path, value, read: new Set() };
  visits.push(visit);
  const children = new Map<string, unknown>();
  const note = (target: object, key: string | symbol) => {
    // `constructor`, `toString` and the like are asked of any object by generic code, not by schema.
    if (typeof key === 'string' && (Object.hasOwn(target, key) || !(key in Object.prototype))) visit.read.add(key);
  };
  const readOnly = () => {
    throw new Error('validators must not modify the object');
  };
  return new Proxy(value, {
    get(target, key, receiver) {
      note(target, key);
      if (typeof key !== 'string' || !Object.hasOwn(target, key)) return Reflect.get(target, key, receiver);
      if (!children.has(key)) children.set(key, tracked(Reflect.get(target, key), `${path}/${pointerSegment(key)}`, visits));
      return children.get(key);
    },
    has(target, key) {
      note(target, key);
      return Reflect.has(target, key);
    },
    set: readOnly,
    defineProperty: readOnly,
    deleteProperty: readOnly,
  });
}

interface AjvError { instancePath?: string; keyword?: string; message?: string; params?: Record<string, unknown> }

/** The value at a JSON pointer. */
function at(root: unknown, pointer: string): unknown {
  return pointer.split('/').slice(1).reduce<unknown>((v, seg) =>
    (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[seg.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined), root);
}

/** ` (got "x")` for a scalar, so the reader sees what was wrong without opening the file. */
function got(root: unknown, pointer: string): string {
  const value = at(root, pointer);
  return value === null || typeof value !== 'object' ? ` (got ${JSON.stringify(value)})` : '';
}

/** `<json pointer> <what is wrong>` per error; a failed oneOf over scalars is one line of alternatives. */
function schemaErrors(e: unknown, root: unknown): string[] {
  const details = (e as { errors?: AjvError[] }).errors;
  if (!Array.isArray(details)) return [(e as Error).message];
  const message = (d: AjvError) => {
    const allowed = d.params?.allowedValues ? ` (${(d.params.allowedValues as unknown[]).join(', ')})` : '';
    return `${d.message ?? 'is invalid'}${allowed}`;
  };
  // int-or-string and quantity: "must be string", "must be integer", "must match exactly one schema
  // in oneOf" at one path become "must be string or must be integer".
  const oneOfPaths = new Set(details.filter((d) => d.keyword === 'oneOf' && d.params?.passingSchemas === null).map((d) => d.instancePath ?? ''));
  const lines: string[] = [];
  for (const d of details) {
    const path = d.instancePath ?? '';
    const what = oneOfPaths.has(path)
      ? details.filter((o) => (o.instancePath ?? '') === path && o.keyword !== 'oneOf').map(message).join(' or ')
      : message(d);
    lines.push(`${path || '/'} ${what}${got(root, path)}`);
  }
  return [...new Set(lines)];
}

/** Edit distance counting a swap of two neighbours as one edit (optimal string alignment), for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The declared property `key` is most likely a misspelling of, if any is close. */
function suggestion(key: string, declared: Iterable<string>): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const d of declared) {
    const dist = d.toLowerCase() === key.toLowerCase() ? 0 : distance(d, key);
    if (dist < bestDistance) [best, bestDistance] = [d, dist];
  }
  return best ? ` (did you mean ${best}?)` : '';
}

/** Problems of one object against its schema: `[]` when valid. */
export async function validateObject(obj: Record<string, unknown>): Promise<string[]> {
  const apiVersion = String(obj.apiVersion ?? '');
  const kind = String(obj.kind ?? '');
  const removed = REMOVED[`${apiVersion}/${kind}`] ?? REMOVED[apiVersion];
  if (removed) return [`apiVersion ${apiVersion} (${kind}) is ${removed}`];
  const load = REGISTRY[`${apiVersion}/${kind}`];
  if (!load) {
    return [`apiVersion ${JSON.stringify(apiVersion)} kind ${JSON.stringify(kind)} is not an API this project may emit (add its schema to the registry in charts/common/schema-validation.ts)`];
  }
  const model = await load();
  // A copy: the proxy must hand out proxies for nested objects, which a frozen original forbids.
  const copy = structuredClone(obj);
  const visits: Visit[] = [];
  const problems: string[] = [];
  try {
    model.prototype.validate.call(tracked(copy, '', visits));
  } catch (e) {
    problems.push(...schemaErrors(e, copy));
  }
  for (const v of visits) {
    if (Array.isArray(v.value) || v.read.size === 0) continue;
    for (const key of Object.keys(v.value)) {
      if (!v.read.has(key)) {
        problems.push(`${v.path}/${pointerSegment(key)} is not a field of ${apiVersion} ${kind}${suggestion(key, v.read)}`);
      }
    }
  }
  return problems;
}
