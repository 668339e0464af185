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
 *
 * Custom resources no npm package ships validators for (CloudNativePG, the Barman Cloud plugin), and
 * Argo CD's, are checked with JSON Schemas generated from their CRDs into imports/schemas/ by
 * scripts/import-crds.sh, each with an ajv validator precompiled from the schema's strict form: every
 * object closed unless `x-kubernetes-preserve-unknown-fields` or a map, as the API server prunes what
 * its schema does not declare (scripts/crd-schemas.mjs says exactly what is and is not checked; CEL
 * `x-kubernetes-validations` rules are not, for want of a CEL evaluator). Their `metadata` is checked
 * as ObjectMeta with kubernetes-models, as above.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closestName } from '../environments/suggest';

/** Validator of one kind: kubernetes-models' `Model.prototype.validate`, run with the object as `this`. */
type Validate = (this: unknown) => void;
type Loader = () => Promise<{ prototype: { validate: Validate } }>;

// Literal module paths, so that a bundler can see (and include) every validator.

/** A kind checked with a JSON Schema generated from its CRD: the base name of its files in imports/schemas/. */
interface CrdSchema { readonly schema: string }
const crd = (schema: string): CrdSchema => ({ schema });

/**
 * The API versions and kinds this project may emit, each with its schema. Anything else is refused:
 * an object the cluster does not serve fails the whole sync.
 */
const REGISTRY: Record<string, Loader | CrdSchema> = {
  'v1/Namespace': () => import('kubernetes-models/v1/Namespace').then((m) => m.Namespace),
  'v1/Service': () => import('kubernetes-models/v1/Service').then((m) => m.Service),
  'v1/ServiceAccount': () => import('kubernetes-models/v1/ServiceAccount').then((m) => m.ServiceAccount),
  'v1/ConfigMap': () => import('kubernetes-models/v1/ConfigMap').then((m) => m.ConfigMap),
  'v1/Secret': () => import('kubernetes-models/v1/Secret').then((m) => m.Secret),
  'v1/PersistentVolumeClaim': () => import('kubernetes-models/v1/PersistentVolumeClaim').then((m) => m.PersistentVolumeClaim),
  'apps/v1/Deployment': () => import('kubernetes-models/apps/v1/Deployment').then((m) => m.Deployment),
  'apps/v1/StatefulSet': () => import('kubernetes-models/apps/v1/StatefulSet').then((m) => m.StatefulSet),
  'apps/v1/DaemonSet': () => import('kubernetes-models/apps/v1/DaemonSet').then((m) => m.DaemonSet),
  'batch/v1/Job': () => import('kubernetes-models/batch/v1/Job').then((m) => m.Job),
  'batch/v1/CronJob': () => import('kubernetes-models/batch/v1/CronJob').then((m) => m.CronJob),
  'autoscaling/v2/HorizontalPodAutoscaler': () => import('kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler').then((m) => m.HorizontalPodAutoscaler),
  'policy/v1/PodDisruptionBudget': () => import('kubernetes-models/policy/v1/PodDisruptionBudget').then((m) => m.PodDisruptionBudget),
  'networking.k8s.io/v1/NetworkPolicy': () => import('kubernetes-models/networking.k8s.io/v1/NetworkPolicy').then((m) => m.NetworkPolicy),
  'rbac.authorization.k8s.io/v1/Role': () => import('kubernetes-models/rbac.authorization.k8s.io/v1/Role').then((m) => m.Role),
  'rbac.authorization.k8s.io/v1/RoleBinding': () => import('kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding').then((m) => m.RoleBinding),
  'rbac.authorization.k8s.io/v1/ClusterRole': () => import('kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole').then((m) => m.ClusterRole),
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': () => import('kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding').then((m) => m.ClusterRoleBinding),
  'scheduling.k8s.io/v1/PriorityClass': () => import('kubernetes-models/scheduling.k8s.io/v1/PriorityClass').then((m) => m.PriorityClass),
  'gateway.networking.k8s.io/v1/GatewayClass': () => import('@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/GatewayClass').then((m) => m.GatewayClass),
  'gateway.networking.k8s.io/v1/Gateway': () => import('@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway').then((m) => m.Gateway),
  'gateway.networking.k8s.io/v1/HTTPRoute': () => import('@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute').then((m) => m.HTTPRoute),
  'cert-manager.io/v1/Certificate': () => import('@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate').then((m) => m.Certificate),
  'cert-manager.io/v1/ClusterIssuer': () => import('@kubernetes-models/cert-manager/cert-manager.io/v1/ClusterIssuer').then((m) => m.ClusterIssuer),
  'monitoring.coreos.com/v1/ServiceMonitor': () => import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor').then((m) => m.ServiceMonitor),
  'monitoring.coreos.com/v1/PodMonitor': () => import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor').then((m) => m.PodMonitor),
  'monitoring.coreos.com/v1/PrometheusRule': () => import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule').then((m) => m.PrometheusRule),
  'monitoring.coreos.com/v1/Probe': () => import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/Probe').then((m) => m.Probe),
  'external-secrets.io/v1/ExternalSecret': () => import('@kubernetes-models/external-secrets/external-secrets.io/v1/ExternalSecret').then((m) => m.ExternalSecret),
  // Argo CD's CRDs, not @kubernetes-models/argo-cd's schemas, which lost every `description` field
  // (an AppProject's, a role's, a sync window's) and would refuse them.
  'argoproj.io/v1alpha1/Application': crd('argoproj.io_v1alpha1_Application'),
  'argoproj.io/v1alpha1/AppProject': crd('argoproj.io_v1alpha1_AppProject'),
  'postgresql.cnpg.io/v1/Cluster': crd('postgresql.cnpg.io_v1_Cluster'),
  'postgresql.cnpg.io/v1/Pooler': crd('postgresql.cnpg.io_v1_Pooler'),
  'postgresql.cnpg.io/v1/ScheduledBackup': crd('postgresql.cnpg.io_v1_ScheduledBackup'),
  'postgresql.cnpg.io/v1/Backup': crd('postgresql.cnpg.io_v1_Backup'),
  'barmancloud.cnpg.io/v1/ObjectStore': crd('barmancloud.cnpg.io_v1_ObjectStore'),
};

/** Every `<apiVersion> <kind>` this project may emit (scripts/crd-defaults.ts generates the custom ones' defaults). */
export const EMITTABLE_KINDS: readonly string[] = Object.keys(REGISTRY)
  .map((key) => `${key.slice(0, key.lastIndexOf('/'))} ${key.slice(key.lastIndexOf('/') + 1)}`);

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

/** An error as ajv reports it (its ErrorObject; kubernetes-models' validators are ajv's too): every field but `message` is always set. */
interface AjvError { instancePath: string; schemaPath: string; keyword: string; message?: string; params: Record<string, unknown> }

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
    const allowed = d.params.allowedValues ? ` (${(d.params.allowedValues as unknown[]).join(', ')})` : '';
    return `${d.message ?? 'is invalid'}${allowed}`;
  };
  // int-or-string and quantity: "must be string", "must be integer", "must match exactly one schema
  // in oneOf" at one path become "must be string or must be integer".
  const oneOfPaths = new Set(details.filter((d) => d.keyword === 'oneOf' && d.params.passingSchemas === null).map((d) => d.instancePath));
  const lines: string[] = [];
  for (const d of details) {
    const path = d.instancePath;
    const what = oneOfPaths.has(path)
      ? details.filter((o) => o.instancePath === path && o.keyword !== 'oneOf').map(message).join(' or ')
      : message(d);
    lines.push(`${path || '/'} ${what}${got(root, path)}`);
  }
  return [...new Set(lines)];
}

/** ` (did you mean …?)` when a declared property is close to `key`. */
function suggestion(key: string, declared: Iterable<string>): string {
  const best = closestName(key, declared);
  return best ? ` (did you mean ${best}?)` : '';
}

interface Problems {
  /** Wrong types, values and missing fields. */
  readonly schema: string[];
  /** Fields the schema does not declare. */
  readonly unknown: string[];
}

/** Problems of `obj` against a kubernetes-models validator, unknown fields found through the proxy. */
function modelProblems(model: { prototype: { validate: Validate } }, obj: Record<string, unknown>, label: string): Problems {
  // A copy: the proxy must hand out proxies for nested objects, which a frozen original forbids.
  const copy = structuredClone(obj);
  const visits: Visit[] = [];
  const schema: string[] = [];
  const unknown: string[] = [];
  try {
    model.prototype.validate.call(tracked(copy, '', visits));
  } catch (e) {
    schema.push(...schemaErrors(e, copy));
  }
  for (const v of visits) {
    if (Array.isArray(v.value) || v.read.size === 0) continue;
    for (const key of Object.keys(v.value)) {
      if (!v.read.has(key)) unknown.push(`${v.path}/${pointerSegment(key)} is not a field of ${label}${suggestion(key, v.read)}`);
    }
  }
  return { schema, unknown };
}

/** A validator compiled by ajv from the strict form of a CRD schema (scripts/crd-schemas.mjs). */
export type CompiledSchema = ((data: unknown) => boolean) & { errors?: AjvError[] | null };
/** The part of a JSON Schema read here: where its properties are declared. */
export interface JsonSchema { readonly [keyword: string]: unknown }

/**
 * imports/schemas/: found from this module's location, which is pipeline/ when run from
 * source and the repository (or bench/) when bundled by esbuild, which keeps one `import.meta.url`.
 */
let schemasDirectory: string | undefined;
function schemasDir(): string {
  if (schemasDirectory) return schemasDirectory;
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'imports', 'schemas'))) return (schemasDirectory = join(dir, 'imports', 'schemas'));
    if (dirname(dir) === dir) throw new Error(`no imports/schemas/ above ${fileURLToPath(import.meta.url)} (generate it with \`npm run import\`)`);
  }
}

/**
 * The validators are CommonJS (scripts/crd-schemas.mjs), loaded with require: a command runs as a
 * CommonJS bundle compiled from V8's code cache (scripts/run.mjs), where import() of a path would
 * need Node's experimental loader for scripts.
 */
const requireValidator = createRequire(import.meta.url);

/** Loaded once per kind, when the first object of the kind is validated. */
const crdValidators = new Map<string, Promise<CompiledSchema>>();
function crdValidator(name: string): Promise<CompiledSchema> {
  let validator = crdValidators.get(name);
  if (!validator) {
    const file = join(schemasDir(), `${name}.validate.cjs`);
    validator = Promise.resolve().then(() => requireValidator(file) as CompiledSchema).catch((e: unknown) => {
      throw new Error(`cannot load the validator ${file} (regenerate imports/ with \`npm run import\`): ${(e as Error).message}`);
    });
    crdValidators.set(name, validator);
  }
  return validator;
}

/** The generated JSON Schema itself: read only to suggest a field name for an unknown one. */
const crdSchemas = new Map<string, JsonSchema>();
function crdJsonSchema(name: string): JsonSchema {
  let schema = crdSchemas.get(name);
  if (!schema) crdSchemas.set(name, schema = JSON.parse(readFileSync(join(schemasDir(), `${name}.json`), 'utf8')) as JsonSchema);
  return schema;
}

/** The property names the schema declares for the object at `pointer` (a JSON pointer into the resource). */
function declaredAt(schema: JsonSchema, pointer: string): string[] {
  let node: JsonSchema | undefined = schema;
  for (const seg of pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))) {
    if (!node) break;
    const properties = node.properties as Record<string, JsonSchema> | undefined;
    const additional: unknown = node.additionalProperties;
    // A declared property, else an array's items (whose segments are indexes) or a map's values.
    node = properties?.[seg]
      ?? (node.items as JsonSchema | undefined)
      ?? (additional && typeof additional === 'object' ? additional as JsonSchema : undefined);
  }
  const names = Object.keys((node?.properties ?? {}) as object);
  return node?.['x-kubernetes-embedded-resource'] === true ? ['apiVersion', 'kind', 'metadata', ...names] : names;
}

/** The pattern controller-gen gives resource.Quantity; said as a format, as kubernetes-models does. */
const QUANTITY_PATTERN = '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';

/**
 * Problems of a custom resource against a validator compiled from the strict form of its CRD schema,
 * in the same words as the kubernetes-models path: `<json pointer> <what is wrong>`, then unknown
 * fields. `schema` gives the JSON Schema the validator was compiled from (read only for "did you
 * mean"). The resource's `metadata` is checked as ObjectMeta by kubernetes-models (the CRD schema
 * says only `type: object` there; the API server reads it as ObjectMeta and drops what it does not
 * know).
 */
export async function crdProblems(obj: Record<string, unknown>, validate: CompiledSchema, schema: () => JsonSchema): Promise<string[]> {
  const label = `${String(obj.apiVersion ?? '')} ${String(obj.kind ?? '')}`;
  const errors = validate(obj) ? [] : validate.errors ?? [];
  const lines: string[] = [];
  const unknown: string[] = [];
  // int-or-string: "must be integer", "must be string" and "must match a schema in anyOf" at one
  // path become one line, "must be integer or must be string".
  const anyOf = errors.filter((d) => d.keyword === 'anyOf');
  const branchOf = (d: AjvError) => anyOf.find((a) => a !== d && a.instancePath === d.instancePath && d.schemaPath.startsWith(`${a.schemaPath}/`));
  const message = (d: AjvError): string => {
    if (d.keyword === 'required') return `must have required property ${String(d.params.missingProperty)}`;
    if (d.keyword === 'pattern' && d.params.pattern === QUANTITY_PATTERN) return 'must match format "quantity"';
    const allowed = d.params.allowedValues ? ` (${(d.params.allowedValues as unknown[]).join(', ')})` : '';
    return `${d.message ?? 'is invalid'}${allowed}`;
  };
  for (const d of errors) {
    const path = d.instancePath;
    if (d.keyword === 'additionalProperties') {
      const key = String(d.params.additionalProperty);
      unknown.push(`${path}/${pointerSegment(key)} is not a field of ${label}${suggestion(key, declaredAt(schema(), path))}`);
      continue;
    }
    if (branchOf(d)) continue;
    const what = d.keyword === 'anyOf' ? errors.filter((b) => branchOf(b) === d).map(message).join(' or ') || message(d) : message(d);
    lines.push(`${path || '/'} ${what}${got(obj, path)}`);
  }
  // kubernetes-models' ObjectMeta validator, reached through a ConfigMap holding only this metadata
  // (the ObjectMeta model itself is in a package this project does not depend on). A metadata that
  // is not an object is the one problem both find, said once.
  const configMap = await (REGISTRY['v1/ConfigMap'] as Loader)();
  const meta = modelProblems(configMap, { apiVersion: 'v1', kind: 'ConfigMap', metadata: obj.metadata }, label);
  lines.push(...meta.schema);
  unknown.unshift(...meta.unknown);
  return [...new Set([...lines, ...unknown])];
}

/** Problems of one object against its schema: `[]` when valid. */
export async function validateObject(obj: Record<string, unknown>): Promise<string[]> {
  const apiVersion = String(obj.apiVersion ?? '');
  const kind = String(obj.kind ?? '');
  const removed = REMOVED[`${apiVersion}/${kind}`] ?? REMOVED[apiVersion];
  if (removed) return [`apiVersion ${apiVersion} (${kind}) is ${removed}`];
  const entry = REGISTRY[`${apiVersion}/${kind}`];
  if (!entry) {
    return [`apiVersion ${JSON.stringify(apiVersion)} kind ${JSON.stringify(kind)} is not an API this project may emit (add its schema to the registry in pipeline/schema-validation.ts)`];
  }
  if (typeof entry !== 'function') return crdProblems(obj, await crdValidator(entry.schema), () => crdJsonSchema(entry.schema));
  const { schema, unknown } = modelProblems(await entry(), obj, `${apiVersion} ${kind}`);
  return [...schema, ...unknown];
}
