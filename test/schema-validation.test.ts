/**
 * Strict schema validation: the real output of every environment validates with no problem; unknown
 * fields are found at every depth (including on objects that hold nothing but unknown fields, and
 * on objects whose schema counts their keys); wrong types, enums and missing fields read well;
 * removed and unknown APIs are refused; free-form fields are left alone. The custom resources
 * checked with JSON Schemas generated from their CRDs (CloudNativePG, Barman Cloud) are held to the
 * same, and imports/schemas/ is held to be what scripts/import-crds.sh generates.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { crdBundleFiles, PLATFORM_RELEASES } from '../charts/gitops/platform-releases';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { ref, type K8sObject } from '../pipeline/k8s-object';
import { crdProblems, validateObject, type JsonSchema } from '../pipeline/schema-validation';
import { synthObjects } from '../pipeline/synth';
import { compileStrict, extractSchemas, validatorModule } from '../scripts/crd-schemas.mjs';
import { REPO } from './support/repository-copy';

const real = Object.fromEntries(resolveEnvironments(environments, process.cwd())
  .map((env) => [env.name, synthObjects(env).map((o) => o.object)])) as Record<'staging' | 'production', K8sObject[]>;

/** A deep copy of one real production object. */
function object(kind: string, name?: string): K8sObject {
  const found = real.production.find((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
  if (!found) throw new Error(`fixture: production has no ${kind} ${name ?? ''}`);
  return structuredClone(found);
}

/** The HTTPRoute that serves the app (the one with backends and filters). */
const publicRoute = () => structuredClone(real.production.find((o) => o.kind === 'HTTPRoute' && o.spec.rules.some((r: K8sObject) => r.backendRefs))!);

/**
 * The proxy's premise (and the strict CRD schemas'), checked on every object node of the real
 * output: a field added to a typed object is reported, exactly once, at its path; a key added to a
 * map is not. A node that is neither (a new free-form field) fails here until it is listed.
 */
const MAPS = /\/(labels|annotations|matchLabels|nodeSelector|limits|requests|commonLabels|commonAnnotations)$/;
/** Free-form objects and everything in them: the schema says nothing of their keys. */
const FREE_FORM = /\/(helm\/valuesObject|webhook\/config)(\/|$)/;
/** Maps of one kind only (a ConfigMap's data; CloudNativePG's PostgreSQL, plugin and PgBouncer parameters). */
const KIND_MAPS: Record<string, RegExp> = {
  ConfigMap: /^\/(data|binaryData)$/,
  Secret: /^\/(data|stringData)$/,
  Service: /^\/spec\/selector$/,
  Cluster: /^\/spec\/(postgresql\/parameters|plugins\/\d+\/parameters)$/,
  Pooler: /^\/spec\/pgbouncer\/parameters$/,
  ExternalSecret: /^\/spec\/target\/template\/data$/,
};
/** Maps whose values are lists of strings (a ServiceMonitor endpoint's URL parameters): a key added holds a list. */
const LIST_MAPS: Record<string, RegExp> = {
  ServiceMonitor: /^\/spec\/endpoints\/\d+\/params$/,
};
const isListMap = (o: K8sObject, path: string) => LIST_MAPS[o.kind]?.test(path) ?? false;
const isMap = (o: K8sObject, path: string) => MAPS.test(path) || FREE_FORM.test(path) || (KIND_MAPS[o.kind]?.test(path) ?? false) || isListMap(o, path);
const nodes = (value: unknown, path: string): string[] => {
  if (value === null || typeof value !== 'object') return [];
  const own = Array.isArray(value) ? [] : [path];
  return [...own, ...Object.entries(value).flatMap(([k, v]) => nodes(v, `${path}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`))];
};
const at = (root: K8sObject, path: string): K8sObject => path.split('/').slice(1)
  .reduce((v, seg) => v[seg.replace(/~1/g, '/').replace(/~0/g, '~')], root);
/** Paths where a field added to `o` is not judged as above: `[]` when the premise holds for `o`. */
async function misjudgedInjections(o: K8sObject): Promise<string[]> {
  const wrong: string[] = [];
  for (const path of nodes(o, '')) {
    const copy = structuredClone(o);
    at(copy, path).zzUnknownField = isListMap(o, path) ? ['1'] : '1'; // valid as a label, an annotation and a quantity
    const expected = isMap(o, path) ? [] : [`${path}/zzUnknownField is not a field of ${o.apiVersion} ${o.kind}`];
    const actual = await validateObject(copy);
    if (JSON.stringify(actual) !== JSON.stringify(expected)) wrong.push(`${path || '/'}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
  return wrong;
}

describe('the real output', () => {
  const cases = Object.entries(real).flatMap(([env, objects]) => objects.map((o) => [env, ref(o), o] as const));
  test.each(cases)('%s: %s validates', async (_env, _ref, o) => {
    expect(await validateObject(o)).toEqual([]);
  });

  const byObject = Object.entries(real).flatMap(([env, objects]) => objects.map((o) => [env, ref(o), o] as const));

  test.each(byObject)('%s: %s: a field added to any of its objects is judged correctly', async (_env, _ref, o) => {
    expect(await misjudgedInjections(o)).toEqual([]);
  });

  test('covers typed objects and maps (the injection test is not vacuous)', () => {
    const kinds = byObject.flatMap(([, , o]) => nodes(o, '').map((path) => isMap(o, path)));
    expect(kinds.filter((m) => m).length).toBeGreaterThan(20);
    expect(kinds.filter((m) => !m).length).toBeGreaterThan(200);
  });
});

describe('unknown fields', () => {
  const cases: [string, () => K8sObject, string][] = [
    ['metadata', () => {
      const d = object('Deployment', 'api');
      d.metadata.lables = d.metadata.labels;
      return d;
    }, '/metadata/lables is not a field of apps/v1 Deployment (did you mean labels?)'],
    ['spec', () => {
      const d = object('Deployment', 'api');
      d.spec.replica = 3;
      return d;
    }, '/spec/replica is not a field of apps/v1 Deployment (did you mean replicas?)'],
    ['container', () => {
      const d = object('Deployment', 'web');
      const c = d.spec.template.spec.containers[0];
      c.readinesProbe = c.readinessProbe;
      return d;
    }, '/spec/template/spec/containers/0/readinesProbe is not a field of apps/v1 Deployment (did you mean readinessProbe?)'],
    ['securityContext, next to known fields', () => {
      const d = object('Deployment', 'web');
      d.spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem = true;
      return d;
    }, '/spec/template/spec/containers/0/securityContext/readOnlyRootFileSystem is not a field of apps/v1 Deployment (did you mean readOnlyRootFilesystem?)'],
    ['securityContext holding nothing but an unknown field', () => {
      const d = object('Deployment', 'web');
      d.spec.template.spec.securityContext = { runAsNonroot: true };
      return d;
    }, '/spec/template/spec/securityContext/runAsNonroot is not a field of apps/v1 Deployment (did you mean runAsNonRoot?)'],
    ['probe', () => {
      const d = object('Deployment', 'api');
      const get = d.spec.template.spec.containers[0].livenessProbe.httpGet;
      get.paht = get.path;
      delete get.path;
      return d;
    }, '/spec/template/spec/containers/0/livenessProbe/httpGet/paht is not a field of apps/v1 Deployment (did you mean path?)'],
    ['HTTPRoute filter', () => {
      const r = publicRoute();
      r.spec.rules[0].filters[0].responseHeaderModifier.sett = [];
      return r;
    }, '/spec/rules/0/filters/0/responseHeaderModifier/sett is not a field of gateway.networking.k8s.io/v1 HTTPRoute (did you mean set?)'],
    ['Certificate spec', () => {
      const c = object('Certificate');
      c.spec.dnsName = c.spec.dnsNames[0];
      return c;
    }, '/spec/dnsName is not a field of cert-manager.io/v1 Certificate (did you mean dnsNames?)'],
    ['ClusterIssuer solver', () => {
      const i = object('ClusterIssuer', 'letsencrypt-production');
      const http01 = i.spec.acme.solvers[0].http01;
      http01.gatewayHttpRoute = http01.gatewayHTTPRoute;
      delete http01.gatewayHTTPRoute;
      return i;
    }, '/spec/acme/solvers/0/http01/gatewayHttpRoute is not a field of cert-manager.io/v1 ClusterIssuer (did you mean gatewayHTTPRoute?)'],
    ['NetworkPolicy rule', () => {
      const p = object('NetworkPolicy', 'api');
      p.spec.ingress[0].form = p.spec.ingress[0].from;
      delete p.spec.ingress[0].from;
      return p;
    }, '/spec/ingress/0/form is not a field of networking.k8s.io/v1 NetworkPolicy (did you mean from?)'],
    ['ServiceMonitor endpoint', () => {
      const m = object('ServiceMonitor');
      m.spec.endpoints[0].intervall = '15s';
      return m;
    }, '/spec/endpoints/0/intervall is not a field of monitoring.coreos.com/v1 ServiceMonitor (did you mean interval?)'],
    ['HPA behavior', () => {
      const h = object('HorizontalPodAutoscaler', 'api');
      h.spec.behavior.scaleDown.stabilisationWindowSeconds = 600;
      return h;
    }, '/spec/behavior/scaleDown/stabilisationWindowSeconds is not a field of autoscaling/v2 HorizontalPodAutoscaler (did you mean stabilizationWindowSeconds?)'],
    ['top level, with no close match', () => {
      const s = object('Service', 'api');
      s.zzUnknown = { a: 1 };
      return s;
    }, '/zzUnknown is not a field of v1 Service'],
    ['a key with a slash is escaped as in JSON pointers', () => {
      const s = object('Service', 'api');
      s.spec['example.com/thing'] = true;
      return s;
    }, '/spec/example.com~1thing is not a field of v1 Service'],
  ];
  test.each(cases)('%s', async (_name, make, problem) => {
    expect(await validateObject(make())).toEqual([problem]);
  });
});

describe('unknown fields where the validator counts keys (minProperties/maxProperties)', () => {
  const externalSecret = (): K8sObject => ({
    apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', metadata: { name: 'db', namespace: 'student-portal' },
    spec: {
      refreshInterval: '1h',
      secretStoreRef: { kind: 'ClusterSecretStore', name: 'vault' },
      target: { name: 'db', creationPolicy: 'Owner' },
      data: [{ secretKey: 'password', remoteRef: { key: 'portal/db', property: 'password' } }],
      dataFrom: [{ sourceRef: { generatorRef: { apiVersion: 'generators.external-secrets.io/v1alpha1', kind: 'Password', name: 'pw' } } }],
    },
  });

  test('a valid ExternalSecret validates', async () => {
    expect(await validateObject(externalSecret())).toEqual([]);
  });

  test('a misspelt field is found on an object the validator ran Object.keys over', async () => {
    const es = externalSecret();
    es.spec.dataFrom[0].sourceRef = { generatorReff: es.spec.dataFrom[0].sourceRef.generatorRef };
    expect(await validateObject(es)).toEqual([
      '/spec/dataFrom/0/sourceRef/generatorReff is not a field of external-secrets.io/v1 ExternalSecret (did you mean generatorRef?)',
    ]);
  });

  test('Gateway listener TLS: a misspelt field next to a counted map (options)', async () => {
    const g = object('Gateway');
    const tls = g.spec.listeners.find((l: K8sObject) => l.tls).tls;
    tls.options = { 'example.com/cipher-suites': 'modern' };
    tls.certificateRef = tls.certificateRefs;
    expect(await validateObject(g)).toEqual([
      `/spec/listeners/${g.spec.listeners.indexOf(g.spec.listeners.find((l: K8sObject) => l.tls))}/tls/certificateRef is not a field of gateway.networking.k8s.io/v1 Gateway (did you mean certificateRefs?)`,
    ]);
  });
});

describe('wrong values', () => {
  test('types, enums, required fields, int-or-string and quantities, each at its JSON path', async () => {
    const d = object('Deployment', 'api');
    const c = d.spec.template.spec.containers[0];
    delete d.spec.selector;
    c.ports[0].containerPort = '8080';
    c.ports[0].protocol = 'HTTP';
    c.readinessProbe.httpGet.port = { name: 'http' };
    c.resources.limits.cpu = 'two';
    d.spec.template.spec.securityContext = 'restricted';
    expect(await validateObject(d)).toEqual([
      '/spec must have required property selector',
      '/spec/template/spec/containers/0/ports/0/containerPort must be integer (got "8080")',
      '/spec/template/spec/containers/0/ports/0/protocol must be equal to one of the allowed values (SCTP, TCP, UDP) (got "HTTP")',
      '/spec/template/spec/containers/0/readinessProbe/httpGet/port must be string or must be integer',
      '/spec/template/spec/containers/0/resources/limits/cpu must be number or must match format "quantity" (got "two")',
      '/spec/template/spec/securityContext must be object (got "restricted")',
    ]);
  });

  test('enums and bounds in CRDs (HTTPRoute, Certificate, Gateway)', async () => {
    const r = publicRoute();
    r.spec.rules[0].matches[0].path.type = 'Prefix';
    const c = object('Certificate');
    c.spec.privateKey.algorithm = 'DSA';
    const g = object('Gateway');
    g.spec.listeners[0].port = 70000;
    expect(await validateObject(r)).toEqual([
      '/spec/rules/0/matches/0/path/type must be equal to one of the allowed values (Exact, PathPrefix, RegularExpression) (got "Prefix")',
    ]);
    expect(await validateObject(c)).toEqual(['/spec/privateKey/algorithm must be equal to one of the allowed values (RSA, ECDSA, Ed25519) (got "DSA")']);
    expect(await validateObject(g)).toEqual(['/spec/listeners/0/port must be <= 65535 (got 70000)']);
  });

  test('a missing required field of a CRD (Certificate issuerRef)', async () => {
    const c = object('Certificate');
    delete c.spec.issuerRef;
    expect(await validateObject(c)).toEqual(['/spec must have required property issuerRef']);
  });

  test('keys holding / or ~ are escaped in the pointer and the value is still shown; null is shown as null', async () => {
    expect(await validateObject({
      apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', 'example.com~owner': 'me' },
      data: { 'tls/crt': 5, 'a~b': 'not base64!', empty: null },
    })).toEqual([
      '/data/tls~1crt must be string (got 5)',
      '/data/a~0b must match format "byte" (got "not base64!")',
      '/data/empty must be string (got null)',
      '/metadata/example.com~0owner is not a field of v1 Secret',
    ]);
  });

  test('null where the schema allows it (nullable) is valid', async () => {
    expect(await validateObject({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: null, labels: null }, type: null, data: null })).toEqual([]);
  });

  test('two problems of one value are two lines (only int-or-string and quantity alternatives are joined)', async () => {
    const s = object('Service', 'api');
    s.spec.ports[0].protocol = 6;
    expect(await validateObject(s)).toEqual([
      '/spec/ports/0/protocol must be string (got 6)',
      '/spec/ports/0/protocol must be equal to one of the allowed values (SCTP, TCP, UDP) (got 6)',
    ]);
  });

  test('int-or-string alternatives are joined per value, in a map holding several', async () => {
    const d = object('Deployment', 'api');
    d.spec.template.spec.containers[0].resources.limits = { cpu: true, memory: [] };
    expect(await validateObject(d)).toEqual([
      '/spec/template/spec/containers/0/resources/limits/cpu must be number or must be string (got true)',
      '/spec/template/spec/containers/0/resources/limits/memory must be number or must be string',
    ]);
  });
});

describe('APIs', () => {
  test.each([
    ['autoscaling/v2beta2', 'HorizontalPodAutoscaler', 'apiVersion autoscaling/v2beta2 (HorizontalPodAutoscaler) is removed in Kubernetes 1.26; use autoscaling/v2'],
    ['autoscaling/v2beta1', 'HorizontalPodAutoscaler', 'apiVersion autoscaling/v2beta1 (HorizontalPodAutoscaler) is removed in Kubernetes 1.25; use autoscaling/v2'],
    ['policy/v1beta1', 'PodDisruptionBudget', 'apiVersion policy/v1beta1 (PodDisruptionBudget) is removed in Kubernetes 1.25; use policy/v1'],
    ['policy/v1beta1', 'PodSecurityPolicy', 'apiVersion policy/v1beta1 (PodSecurityPolicy) is removed in Kubernetes 1.25; use Pod Security Admission (pod-security.kubernetes.io labels on the Namespace)'],
    ['batch/v1beta1', 'CronJob', 'apiVersion batch/v1beta1 (CronJob) is removed in Kubernetes 1.25; use batch/v1'],
    ['extensions/v1beta1', 'Deployment', 'apiVersion extensions/v1beta1 (Deployment) is removed in Kubernetes 1.16 (Ingress in 1.22); use apps/v1 (Deployment, DaemonSet, ReplicaSet) or networking.k8s.io/v1 (NetworkPolicy, Ingress)'],
    ['extensions/v1beta1', 'Ingress', 'apiVersion extensions/v1beta1 (Ingress) is removed in Kubernetes 1.22; use networking.k8s.io/v1'],
    ['extensions/v1beta1', 'NetworkPolicy', 'apiVersion extensions/v1beta1 (NetworkPolicy) is removed in Kubernetes 1.16; use networking.k8s.io/v1'],
    ['apps/v1beta2', 'Deployment', 'apiVersion apps/v1beta2 (Deployment) is removed in Kubernetes 1.16; use apps/v1'],
    ['rbac.authorization.k8s.io/v1beta1', 'Role', 'apiVersion rbac.authorization.k8s.io/v1beta1 (Role) is removed in Kubernetes 1.22; use rbac.authorization.k8s.io/v1'],
    ['extensions/v1beta1', 'PodSecurityPolicy', 'apiVersion extensions/v1beta1 (PodSecurityPolicy) is removed in Kubernetes 1.16, and PodSecurityPolicy itself in 1.25; use Pod Security Admission (pod-security.kubernetes.io labels on the Namespace)'],
    ['apps/v1beta1', 'StatefulSet', 'apiVersion apps/v1beta1 (StatefulSet) is removed in Kubernetes 1.16; use apps/v1'],
    ['networking.k8s.io/v1beta1', 'Ingress', 'apiVersion networking.k8s.io/v1beta1 (Ingress) is removed in Kubernetes 1.22; use networking.k8s.io/v1'],
    ['scheduling.k8s.io/v1beta1', 'PriorityClass', 'apiVersion scheduling.k8s.io/v1beta1 (PriorityClass) is removed in Kubernetes 1.22; use scheduling.k8s.io/v1'],
    ['admissionregistration.k8s.io/v1beta1', 'ValidatingWebhookConfiguration', 'apiVersion admissionregistration.k8s.io/v1beta1 (ValidatingWebhookConfiguration) is removed in Kubernetes 1.22; use admissionregistration.k8s.io/v1'],
    ['apiextensions.k8s.io/v1beta1', 'CustomResourceDefinition', 'apiVersion apiextensions.k8s.io/v1beta1 (CustomResourceDefinition) is removed in Kubernetes 1.22; use apiextensions.k8s.io/v1'],
    ['discovery.k8s.io/v1beta1', 'EndpointSlice', 'apiVersion discovery.k8s.io/v1beta1 (EndpointSlice) is removed in Kubernetes 1.25; use discovery.k8s.io/v1'],
    ['gateway.networking.k8s.io/v1beta1', 'HTTPRoute', 'apiVersion gateway.networking.k8s.io/v1beta1 (HTTPRoute) is superseded (deprecated since Gateway API 1.0); use gateway.networking.k8s.io/v1'],
    ['cert-manager.io/v1alpha2', 'Certificate', 'apiVersion cert-manager.io/v1alpha2 (Certificate) is removed in cert-manager 1.7; use cert-manager.io/v1'],
    ['cert-manager.io/v1alpha3', 'ClusterIssuer', 'apiVersion cert-manager.io/v1alpha3 (ClusterIssuer) is removed in cert-manager 1.7; use cert-manager.io/v1'],
    ['cert-manager.io/v1beta1', 'Issuer', 'apiVersion cert-manager.io/v1beta1 (Issuer) is removed in cert-manager 1.7; use cert-manager.io/v1'],
    ['external-secrets.io/v1beta1', 'ExternalSecret', 'apiVersion external-secrets.io/v1beta1 (ExternalSecret) is removed in External Secrets 0.17; use external-secrets.io/v1'],
  ])('%s %s is refused as removed', async (apiVersion, kind, problem) => {
    expect(await validateObject({ apiVersion, kind, metadata: { name: 'x' }, spec: {} })).toEqual([problem]);
  });

  test('a removed version is refused whatever the object says otherwise', async () => {
    const h = object('HorizontalPodAutoscaler', 'api');
    h.apiVersion = 'autoscaling/v2beta2';
    expect(await validateObject(h)).toEqual(['apiVersion autoscaling/v2beta2 (HorizontalPodAutoscaler) is removed in Kubernetes 1.26; use autoscaling/v2']);
  });

  test.each([
    ['example.com/v1', 'Widget'],
    ['v1', 'Pod'],
    ['cert-manager.io/v1', 'Issuer'],
    ['apps/v1', 'Deploymnet'],
    ['', ''],
  ])('%s %s is refused as unknown', async (apiVersion, kind) => {
    const o: K8sObject = { metadata: { name: 'x' } };
    if (apiVersion) o.apiVersion = apiVersion;
    if (kind) o.kind = kind;
    expect(await validateObject(o)).toEqual([
      `apiVersion ${JSON.stringify(apiVersion)} kind ${JSON.stringify(kind)} is not an API this project may emit (add its schema to the registry in pipeline/schema-validation.ts)`,
    ]);
  });
});

/**
 * Kinds the registry allows that the real output does not hold today: each is checked against its
 * own schema, as the suggestion (a field only that kind declares) shows.
 */
describe('kinds of the registry beyond the real output', () => {
  const pod = { containers: [{ name: 'main', image: 'registry.example.com/main:1.0.0' }] };
  const cases: [string, K8sObject, (o: K8sObject) => void, string[]][] = [
    ['Secret', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, type: 'Opaque', stringData: { password: 'x' } },
      (o) => { o.strigData = o.stringData; delete o.stringData; },
      ['/strigData is not a field of v1 Secret (did you mean stringData?)']],
    ['DaemonSet', {
      apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'd' },
      spec: { selector: { matchLabels: { a: 'b' } }, updateStrategy: { type: 'RollingUpdate' }, template: { metadata: { labels: { a: 'b' } }, spec: pod } },
    }, (o) => { o.spec.updateStrategi = o.spec.updateStrategy; delete o.spec.updateStrategy; },
    ['/spec/updateStrategi is not a field of apps/v1 DaemonSet (did you mean updateStrategy?)']],
    ['Job', { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, spec: { backoffLimit: 0, template: { spec: { ...pod, restartPolicy: 'Never' } } } },
      (o) => { o.spec.backofLimit = 0; delete o.spec.backoffLimit; },
      ['/spec/backofLimit is not a field of batch/v1 Job (did you mean backoffLimit?)']],
    ['Role', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'r' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] },
      (o) => { o.rules[0].verb = o.rules[0].verbs; delete o.rules[0].verbs; },
      ['/rules/0 must have required property verbs', '/rules/0/verb is not a field of rbac.authorization.k8s.io/v1 Role (did you mean verbs?)']],
    ['RoleBinding', {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'r' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' }, subjects: [{ kind: 'ServiceAccount', name: 'a', namespace: 'n' }],
    }, (o) => { o.subject = o.subjects; delete o.subjects; },
    ['/subject is not a field of rbac.authorization.k8s.io/v1 RoleBinding (did you mean subjects?)']],
    ['ClusterRole', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'r' }, rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['list'] }] },
      (o) => { o.rules[0].resource = o.rules[0].resources; delete o.rules[0].resources; },
      ['/rules/0/resource is not a field of rbac.authorization.k8s.io/v1 ClusterRole (did you mean resources?)']],
    ['ClusterRoleBinding', {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'r' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'r' }, subjects: [{ kind: 'ServiceAccount', name: 'a', namespace: 'n' }],
    }, (o) => { o.roleref = o.roleRef; delete o.roleRef; },
    ['/ must have required property roleRef', '/roleref is not a field of rbac.authorization.k8s.io/v1 ClusterRoleBinding (did you mean roleRef?)']],
    ['PriorityClass', { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'p' }, value: 1000, globalDefault: false, preemptionPolicy: 'Never' },
      (o) => { o.globalDefualt = o.globalDefault; delete o.globalDefault; },
      ['/globalDefualt is not a field of scheduling.k8s.io/v1 PriorityClass (did you mean globalDefault?)']],
    ['PrometheusRule', {
      apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: { name: 'p' },
      spec: { groups: [{ name: 'g', rules: [{ alert: 'Down', expr: 'up == 0', for: '5m', labels: { severity: 'critical' } }] }] },
    }, (o) => { o.spec.groups[0].rules[0].exp = o.spec.groups[0].rules[0].expr; delete o.spec.groups[0].rules[0].expr; },
    ['/spec/groups/0/rules/0 must have required property expr', '/spec/groups/0/rules/0/exp is not a field of monitoring.coreos.com/v1 PrometheusRule (did you mean expr?)']],
    ['AppProject', {
      apiVersion: 'argoproj.io/v1alpha1', kind: 'AppProject', metadata: { name: 'p', namespace: 'argocd' },
      spec: { sourceRepos: ['https://git.example.com/portal.git'], destinations: [{ server: 'https://kubernetes.default.svc', namespace: 'portal' }] },
    }, (o) => { o.spec.sourceRepo = o.spec.sourceRepos; delete o.spec.sourceRepos; },
    ['/spec/sourceRepo is not a field of argoproj.io/v1alpha1 AppProject (did you mean sourceRepos?)']],
  ];
  test.each(cases)('%s: a valid one validates; a misspelt field is found', async (_kind, valid, misspell, problems) => {
    expect(await validateObject(valid)).toEqual([]);
    const wrong = structuredClone(valid);
    misspell(wrong);
    expect(await validateObject(wrong)).toEqual(problems);
  });
});

describe('free-form fields are not judged', () => {
  test('ConfigMap data, labels and annotations with any keys', async () => {
    expect(await validateObject({
      apiVersion: 'v1', kind: 'ConfigMap',
      metadata: { name: 'redis', labels: { 'example.com/anything': 'x' }, annotations: { 'checksum/config': 'abc', note: 'free text' } },
      data: { 'redis.conf': 'maxmemory 256mb', 'sentinel.conf': 'sentinel monitor m 127.0.0.1 6379 2' },
    })).toEqual([]);
  });

  test('resources with extended resources', async () => {
    const d = object('Deployment', 'api');
    Object.assign(d.spec.template.spec.containers[0].resources.limits, { 'ephemeral-storage': '1Gi', 'example.com/gpu': 1 });
    expect(await validateObject(d)).toEqual([]);
  });

  const application = (): K8sObject => ({
    apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'cert-manager', namespace: 'argocd' },
    spec: {
      project: 'platform',
      source: {
        repoURL: 'https://charts.jetstack.io', chart: 'cert-manager', targetRevision: 'v1.16.2',
        helm: { releaseName: 'cert-manager', valuesObject: { crds: { enabled: true }, replicaCount: 2, prometheus: { servicemonitor: { enabled: true, labels: { a: 'b' } } }, extraArgs: ['--enable-gateway-api'] } },
      },
      destination: { server: 'https://kubernetes.default.svc', namespace: 'cert-manager' },
      syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ['ServerSideApply=true'] },
      ignoreDifferences: [{ group: 'apps', kind: 'Deployment', jsonPointers: ['/spec/replicas'] }],
    },
  });

  test('an Argo CD Application\'s Helm valuesObject, at any depth', async () => {
    expect(await validateObject(application())).toEqual([]);
  });

  test('while the fields around it are still judged', async () => {
    const app = application();
    app.spec.source.helm.valueObject = app.spec.source.helm.valuesObject;
    expect(await validateObject(app)).toEqual([
      '/spec/source/helm/valueObject is not a field of argoproj.io/v1alpha1 Application (did you mean valuesObject?)',
    ]);
  });

  test('a ClusterIssuer DNS-01 webhook config (arbitrary JSON)', async () => {
    const issuer = object('ClusterIssuer', 'letsencrypt-production');
    issuer.spec.acme.solvers.push({ dns01: { webhook: { groupName: 'acme.example.com', solverName: 'example', config: { apiKeySecretRef: { name: 'k', key: 'v' }, ttl: 60, zones: [{ name: 'a' }] } } } });
    expect(await validateObject(issuer)).toEqual([]);
  });
});

describe('the validator leaves the object alone', () => {
  const deepFreeze = <T>(o: T): T => {
    if (o && typeof o === 'object') {
      for (const v of Object.values(o)) deepFreeze(v);
      Object.freeze(o);
    }
    return o;
  };

  test('the object is not modified and a frozen object validates', async () => {
    const d = object('Deployment', 'api');
    const before = structuredClone(d);
    expect(await validateObject(deepFreeze(d))).toEqual([]);
    expect(d).toEqual(before);
  });
});

/** Small valid custom resources of every CloudNativePG and Barman Cloud kind the project may emit. */
const CNPG: Record<string, () => K8sObject> = {
  Cluster: () => ({
    apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster', metadata: { name: 'db', namespace: 'portal', labels: { 'app.kubernetes.io/name': 'postgresql' } },
    spec: {
      instances: 3,
      storage: { size: '10Gi' },
      bootstrap: { initdb: { database: 'portal', owner: 'portal', dataChecksums: true } },
      postgresql: { parameters: { archive_timeout: '60s', max_connections: '200' }, synchronous: { method: 'any', number: 1 } },
      plugins: [{ name: 'barman-cloud.cloudnative-pg.io', isWALArchiver: true, parameters: { barmanObjectName: 'db-backups' } }],
      resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '1Gi' } },
    },
  }),
  Pooler: () => ({
    apiVersion: 'postgresql.cnpg.io/v1', kind: 'Pooler', metadata: { name: 'db-pooler', namespace: 'portal' },
    spec: {
      cluster: { name: 'db' }, instances: 2, type: 'rw',
      pgbouncer: { poolMode: 'transaction', parameters: { max_client_conn: '1000' } },
      template: { metadata: { labels: { app: 'pgbouncer' } }, spec: { containers: [{ name: 'pgbouncer', resources: { requests: { cpu: '100m' } } }] } },
    },
  }),
  ScheduledBackup: () => ({
    apiVersion: 'postgresql.cnpg.io/v1', kind: 'ScheduledBackup', metadata: { name: 'db', namespace: 'portal' },
    spec: { cluster: { name: 'db' }, schedule: '0 0 1 * * *', method: 'plugin', pluginConfiguration: { name: 'barman-cloud.cloudnative-pg.io' } },
  }),
  Backup: () => ({
    apiVersion: 'postgresql.cnpg.io/v1', kind: 'Backup', metadata: { name: 'db-before-upgrade', namespace: 'portal' },
    spec: { cluster: { name: 'db' }, method: 'plugin', pluginConfiguration: { name: 'barman-cloud.cloudnative-pg.io' } },
  }),
  ObjectStore: () => ({
    apiVersion: 'barmancloud.cnpg.io/v1', kind: 'ObjectStore', metadata: { name: 'db-backups', namespace: 'portal' },
    spec: {
      configuration: {
        destinationPath: 's3://backups/portal',
        s3Credentials: { accessKeyId: { name: 'object-storage', key: 'ACCESS_KEY_ID' }, secretAccessKey: { name: 'object-storage', key: 'ACCESS_SECRET_KEY' } },
        wal: { compression: 'zstd' },
      },
      retentionPolicy: '30d',
    },
  }),
};

describe('CloudNativePG and Barman Cloud resources (JSON Schemas generated from their CRDs)', () => {
  test.each(Object.keys(CNPG))('a valid %s validates', async (kind) => {
    expect(await validateObject(CNPG[kind]())).toEqual([]);
  });

  test.each(Object.keys(CNPG))('%s: a field added to any of its objects is judged correctly', async (kind) => {
    expect(await misjudgedInjections(CNPG[kind]())).toEqual([]);
  });

  test('a valid Cluster is not modified, and validates frozen', async () => {
    const deepFreeze = <T>(o: T): T => {
      if (o && typeof o === 'object') {
        for (const v of Object.values(o)) deepFreeze(v);
        Object.freeze(o);
      }
      return o;
    };
    const c = CNPG.Cluster();
    expect(await validateObject(deepFreeze(c))).toEqual([]);
    expect(c).toEqual(CNPG.Cluster());
  });

  describe('unknown fields, at any depth', () => {
    const cases: [string, () => K8sObject, string][] = [
      ['spec', () => {
        const c = CNPG.Cluster();
        c.spec.instance = 3;
        return c;
      }, '/spec/instance is not a field of postgresql.cnpg.io/v1 Cluster (did you mean instances?)'],
      ['spec.postgresql', () => {
        const c = CNPG.Cluster();
        c.spec.postgresql.synchronus = c.spec.postgresql.synchronous;
        delete c.spec.postgresql.synchronous;
        return c;
      }, '/spec/postgresql/synchronus is not a field of postgresql.cnpg.io/v1 Cluster (did you mean synchronous?)'],
      ['spec.bootstrap.initdb', () => {
        const c = CNPG.Cluster();
        c.spec.bootstrap.initdb.dataChecksum = true;
        return c;
      }, '/spec/bootstrap/initdb/dataChecksum is not a field of postgresql.cnpg.io/v1 Cluster (did you mean dataChecksums?)'],
      ['spec.plugins[0]', () => {
        const c = CNPG.Cluster();
        c.spec.plugins[0].isWalArchiver = true;
        delete c.spec.plugins[0].isWALArchiver;
        return c;
      }, '/spec/plugins/0/isWalArchiver is not a field of postgresql.cnpg.io/v1 Cluster (did you mean isWALArchiver?)'],
      ['metadata (checked as ObjectMeta)', () => {
        const c = CNPG.Cluster();
        c.metadata.lables = c.metadata.labels;
        return c;
      }, '/metadata/lables is not a field of postgresql.cnpg.io/v1 Cluster (did you mean labels?)'],
      ['an object the CRD declares no fields of (the API server prunes them all)', () => {
        const c = CNPG.Cluster();
        c.spec.ephemeralVolumeSource = { volumeClaimTemplate: { metadata: { labels: { a: 'b' } }, spec: { accessModes: ['ReadWriteOnce'] } } };
        return c;
      }, '/spec/ephemeralVolumeSource/volumeClaimTemplate/metadata/labels is not a field of postgresql.cnpg.io/v1 Cluster'],
      ['Pooler pod template container', () => {
        const p = CNPG.Pooler();
        p.spec.template.spec.containers[0].readinesProbe = { tcpSocket: { port: 5432 } };
        return p;
      }, '/spec/template/spec/containers/0/readinesProbe is not a field of postgresql.cnpg.io/v1 Pooler (did you mean readinessProbe?)'],
      ['ScheduledBackup spec', () => {
        const b = CNPG.ScheduledBackup();
        b.spec.pluginConfig = b.spec.pluginConfiguration;
        delete b.spec.pluginConfiguration;
        return b;
      }, '/spec/pluginConfig is not a field of postgresql.cnpg.io/v1 ScheduledBackup'],
      ['ObjectStore spec.configuration.s3Credentials', () => {
        const o = CNPG.ObjectStore();
        const creds = o.spec.configuration.s3Credentials;
        creds.accessKeyID = creds.accessKeyId;
        delete creds.accessKeyId;
        return o;
      }, '/spec/configuration/s3Credentials/accessKeyID is not a field of barmancloud.cnpg.io/v1 ObjectStore (did you mean accessKeyId?)'],
      ['top level, a key with a slash escaped as in JSON pointers', () => {
        const b = CNPG.Backup();
        b['example.com/x'] = true;
        return b;
      }, '/example.com~1x is not a field of postgresql.cnpg.io/v1 Backup'],
    ];
    test.each(cases)('%s', async (_name, make, problem) => {
      expect(await validateObject(make())).toEqual([problem]);
    });

    test('several at once, each at its path', async () => {
      const c = CNPG.Cluster();
      c.spec.storage.sise = '10Gi';
      c.spec.plugins.push({ name: 'other', enable: false });
      expect(await validateObject(c)).toEqual([
        '/spec/plugins/1/enable is not a field of postgresql.cnpg.io/v1 Cluster (did you mean enabled?)',
        '/spec/storage/sise is not a field of postgresql.cnpg.io/v1 Cluster (did you mean size?)',
      ]);
    });
  });

  describe('wrong values', () => {
    test.each([
      ['Pooler poolMode', () => {
        const p = CNPG.Pooler();
        p.spec.pgbouncer.poolMode = 'statement2';
        return p;
      }, ['/spec/pgbouncer/poolMode must be equal to one of the allowed values (session, transaction) (got "statement2")']],
      ['ScheduledBackup method', () => {
        const b = CNPG.ScheduledBackup();
        b.spec.method = 'foo';
        return b;
      }, ['/spec/method must be equal to one of the allowed values (barmanObjectStore, volumeSnapshot, plugin) (got "foo")']],
      ['Cluster types, bounds, formats and quantities', () => {
        const c = CNPG.Cluster();
        c.spec.instances = '3';
        c.spec.postgresql.synchronous.number = 0.5;
        c.spec.resources.limits.memory = 'lots';
        c.spec.stopDelay = 2 ** 40;
        c.spec.enableSuperuserAccess = 'false';
        return c;
      }, [
        '/spec/enableSuperuserAccess must be boolean (got "false")',
        '/spec/instances must be integer (got "3")',
        '/spec/postgresql/synchronous/number must be integer (got 0.5)',
        '/spec/resources/limits/memory must match format "quantity" (got "lots")',
        '/spec/stopDelay must match format "int32" (got 1099511627776)',
      ]],
      ['a bound', () => {
        const c = CNPG.Cluster();
        c.spec.instances = 0;
        return c;
      }, ['/spec/instances must be >= 1 (got 0)']],
      ['int-or-string given neither', () => {
        const p = CNPG.Pooler();
        p.spec.deploymentStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: true } };
        return p;
      }, ['/spec/deploymentStrategy/rollingUpdate/maxUnavailable must be integer or must be string (got true)']],
      ['a pattern that is not a quantity\'s is quoted as it is', () => {
        const o = CNPG.ObjectStore();
        o.spec.retentionPolicy = 'forever';
        return o;
      }, ['/spec/retentionPolicy must match pattern "^[1-9][0-9]*[dwm]$" (got "forever")']],
      ['int-or-string given neither, twice in one map: each value its own line', () => {
        const c = CNPG.Cluster();
        c.spec.resources.limits = { cpu: true, memory: 1.5 };
        return c;
      }, [
        '/spec/resources/limits/cpu must be integer or must be string (got true)',
        '/spec/resources/limits/memory must be integer or must be string (got 1.5)',
      ]],
      ['ObjectMeta of a custom resource', () => {
        const o = CNPG.ObjectStore();
        o.metadata.labels = 'backup';
        return o;
      }, ['/metadata/labels must be object (got "backup")']],
      ['metadata that is not an object (the CRD schema and ObjectMeta both say so, once)', () => {
        const o = CNPG.ObjectStore();
        o.metadata = 'db-backups';
        return o;
      }, ['/metadata must be object (got "db-backups")']],
      ['an object where an array belongs', () => {
        const c = CNPG.Cluster();
        c.spec.plugins = c.spec.plugins[0];
        return c;
      }, ['/spec/plugins must be array']],
    ] as [string, () => K8sObject, string[]][])('%s', async (_name, make, problems) => {
      expect(await validateObject(make())).toEqual(problems);
    });

    test('int-or-string accepts an integer and a string', async () => {
      for (const value of [1, '25%']) {
        const p = CNPG.Pooler();
        p.spec.deploymentStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: value, maxSurge: value } };
        p.spec.template.spec.containers[0].resources.limits = { cpu: value === 1 ? 1 : '500m' };
        expect(await validateObject(p)).toEqual([]);
      }
    });
  });

  describe('missing required fields', () => {
    test.each([
      ['Cluster spec.instances', () => {
        const c = CNPG.Cluster();
        delete c.spec.instances;
        return c;
      }, '/spec must have required property instances'],
      ['Cluster spec', () => {
        const c = CNPG.Cluster();
        delete c.spec;
        return c;
      }, '/ must have required property spec'],
      ['a plugin\'s name', () => {
        const c = CNPG.Cluster();
        delete c.spec.plugins[0].name;
        return c;
      }, '/spec/plugins/0 must have required property name'],
      ['Pooler spec.cluster', () => {
        const p = CNPG.Pooler();
        delete p.spec.cluster;
        return p;
      }, '/spec must have required property cluster'],
      ['ScheduledBackup spec.schedule', () => {
        const b = CNPG.ScheduledBackup();
        delete b.spec.schedule;
        return b;
      }, '/spec must have required property schedule'],
      ['Backup spec.cluster.name', () => {
        const b = CNPG.Backup();
        b.spec.cluster = {};
        return b;
      }, '/spec/cluster must have required property name'],
      ['ObjectStore spec.configuration.destinationPath', () => {
        const o = CNPG.ObjectStore();
        delete o.spec.configuration.destinationPath;
        return o;
      }, '/spec/configuration must have required property destinationPath'],
    ] as [string, () => K8sObject, string][])('%s', async (_name, make, problem) => {
      expect(await validateObject(make())).toEqual([problem]);
    });
  });

  test.each([
    ['postgresql.cnpg.io/v1beta1', 'Cluster'],
    ['postgresql.cnpg.io/v1', 'Database'],
    ['barmancloud.cnpg.io/v1alpha1', 'ObjectStore'],
  ])('%s %s is refused as unknown', async (apiVersion, kind) => {
    expect(await validateObject({ apiVersion, kind, metadata: { name: 'x' }, spec: {} })).toEqual([
      `apiVersion ${JSON.stringify(apiVersion)} kind ${JSON.stringify(kind)} is not an API this project may emit (add its schema to the registry in pipeline/schema-validation.ts)`,
    ]);
  });
});

describe('the strict form of a CRD schema (Kubernetes\' extensions)', () => {
  /** A made-up CRD schema with each construct the CloudNativePG CRDs may one day use. */
  const schema: JsonSchema = {
    type: 'object',
    required: ['spec'],
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object' },
      spec: {
        type: 'object',
        properties: {
          free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
          anything: { 'x-kubernetes-preserve-unknown-fields': true },
          partlyFree: {
            type: 'object', 'x-kubernetes-preserve-unknown-fields': true,
            properties: { known: { type: 'object', properties: { size: { type: 'string' } } } },
          },
          port: { 'x-kubernetes-int-or-string': true },
          template: {
            type: 'object', 'x-kubernetes-embedded-resource': true,
            properties: { spec: { type: 'object', properties: { replicas: { type: 'integer' } } } },
          },
          raw: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true },
          byName: { type: 'object', additionalProperties: { type: 'object', properties: { value: { type: 'string' } } } },
          empty: { type: 'object' },
          'example.com/a~b': { type: 'object', properties: { size: { type: 'string' } } },
          list: { type: 'array', items: { type: 'object', properties: { value: { type: 'string' } } } },
          protocol: { 'x-kubernetes-int-or-string': true, enum: [6, 'TCP'] },
          // Not made by the CloudNativePG CRDs (their only junctor is int-or-string's anyOf), but legal.
          exclusive: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } }, oneOf: [{ minProperties: 2 }, { maxProperties: 0 }] },
          // Not structural (Kubernetes wants fields declared outside junctors too); ajv compiles it.
          loose: {
            type: 'object', 'x-kubernetes-preserve-unknown-fields': true,
            anyOf: [{ properties: { deep: { type: 'object', properties: { inner: { type: 'object', properties: { n: { type: 'integer' } }, additionalProperties: false } } } } }],
          },
          checked: {
            type: 'string',
            'x-kubernetes-validations': [{ rule: 'self != "forbidden"', message: 'CEL rules are not evaluated here' }],
          },
        },
      },
    },
  };
  const validate = compileStrict(schema);
  const problems = (spec: K8sObject, metadata: K8sObject = { name: 'w' }) =>
    crdProblems({ apiVersion: 'example.com/v1', kind: 'Widget', metadata, spec }, validate, () => schema);

  test('x-kubernetes-preserve-unknown-fields: anything goes, at any depth', async () => {
    expect(await problems({
      free: { a: { b: [1, { c: 2 }] }, x: 'y' },
      raw: { apiVersion: 'v1', kind: 'ConfigMap', whatever: { deep: true } },
    })).toEqual([]);
    for (const anything of ['text', 3, true, null, [1, 'two'], { any: { thing: 1 } }]) {
      expect(await problems({ anything })).toEqual([]);
    }
  });

  test('x-kubernetes-preserve-unknown-fields beside properties: the declared ones are still checked', async () => {
    expect(await problems({ partlyFree: { other: 1, known: { size: 'big' } } })).toEqual([]);
    expect(await problems({ partlyFree: { known: { sise: 'big', size: 1 } } })).toEqual([
      '/spec/partlyFree/known/size must be string (got 1)',
      '/spec/partlyFree/known/sise is not a field of example.com/v1 Widget (did you mean size?)',
    ]);
  });

  test('x-kubernetes-int-or-string: an integer or a string, nothing else', async () => {
    expect(await problems({ port: 8080 })).toEqual([]);
    expect(await problems({ port: 'http' })).toEqual([]);
    expect(await problems({ port: 80.5 })).toEqual(['/spec/port must be integer or must be string (got 80.5)']);
    expect(await problems({ port: { number: 80 } })).toEqual(['/spec/port must be integer or must be string']);
  });

  test('x-kubernetes-embedded-resource: apiVersion, kind and metadata besides the declared fields', async () => {
    const template = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x', labels: { a: 'b' } }, spec: { replicas: 2 } };
    expect(await problems({ template })).toEqual([]);
    expect(await problems({ template: { ...template, kinds: 'Deployment', spec: { replica: 2 } } })).toEqual([
      '/spec/template/kinds is not a field of example.com/v1 Widget (did you mean kind?)',
      '/spec/template/spec/replica is not a field of example.com/v1 Widget (did you mean replicas?)',
    ]);
    expect(await problems({ template: { apiVerson: 'apps/v1', kind: 'Deployment', metdata: { name: 'x' } } })).toEqual([
      '/spec/template/apiVerson is not a field of example.com/v1 Widget (did you mean apiVersion?)',
      '/spec/template/metdata is not a field of example.com/v1 Widget (did you mean metadata?)',
    ]);
  });

  test('additionalProperties: any key, each value checked', async () => {
    expect(await problems({ byName: { a: { value: 'x' }, 'b/c': { value: 'y' } } })).toEqual([]);
    expect(await problems({ byName: { a: { valeu: 'x' } } })).toEqual([
      '/spec/byName/a/valeu is not a field of example.com/v1 Widget (did you mean value?)',
    ]);
  });

  test('an object schema with no properties is closed (the API server prunes every field of it)', async () => {
    expect(await problems({ empty: {} })).toEqual([]);
    expect(await problems({ empty: { x: 1 } })).toEqual(['/spec/empty/x is not a field of example.com/v1 Widget']);
    // apiVersion, kind and metadata are suggested only where the schema embeds a resource.
    expect(await problems({ empty: { kinds: 'Deployment' } })).toEqual(['/spec/empty/kinds is not a field of example.com/v1 Widget']);
  });

  test('a property whose name holds / or ~: escaped in the pointer, and its declared fields still suggested', async () => {
    expect(await problems({ 'example.com/a~b': { size: 'big' } })).toEqual([]);
    expect(await problems({ 'example.com/a~b': { sise: 'big' } })).toEqual([
      '/spec/example.com~1a~0b/sise is not a field of example.com/v1 Widget (did you mean size?)',
    ]);
  });

  test('array items: an unknown field in any item, at its index, with its suggestion', async () => {
    const list: K8sObject[] = Array.from({ length: 12 }, () => ({ value: 'x' }));
    expect(await problems({ list })).toEqual([]);
    list[10] = { valeu: 'x' };
    expect(await problems({ list })).toEqual(['/spec/list/10/valeu is not a field of example.com/v1 Widget (did you mean value?)']);
  });

  test('int-or-string with an enum: a wrong type and a wrong value are separate lines', async () => {
    expect(await problems({ protocol: 6 })).toEqual([]);
    expect(await problems({ protocol: 'TCP' })).toEqual([]);
    expect(await problems({ protocol: 'UDP' })).toEqual(['/spec/protocol must be equal to one of the allowed values (6, TCP) (got "UDP")']);
    expect(await problems({ protocol: true })).toEqual([
      '/spec/protocol must be equal to one of the allowed values (6, TCP) (got true)',
      '/spec/protocol must be integer or must be string (got true)',
    ]);
  });

  test('oneOf is not int-or-string: what each alternative wants is listed, then the oneOf', async () => {
    expect(await problems({ exclusive: { a: 'x', b: 'y' } })).toEqual([]);
    expect(await problems({ exclusive: { a: 'x' } })).toEqual([
      '/spec/exclusive must NOT have fewer than 2 properties',
      '/spec/exclusive must NOT have more than 0 properties',
      '/spec/exclusive must match exactly one schema in oneOf',
    ]);
  });

  test('fields declared only inside a junctor: an unknown one is still reported (with no suggestion to offer)', async () => {
    expect(await problems({ loose: { deep: { inner: { n: 1 } } } })).toEqual([]);
    expect(await problems({ loose: { deep: { inner: { m: 1 } } } })).toEqual([
      '/spec/loose must match a schema in anyOf',
      '/spec/loose/deep/inner/m is not a field of example.com/v1 Widget',
    ]);
  });

  test('metadata is ObjectMeta whatever the CRD says of it', async () => {
    expect(await problems({}, { name: 'w', labels: { a: 'b' }, annotations: { 'example.com/x': 'y' } })).toEqual([]);
    expect(await problems({}, { name: 'w', nmespace: 'x' })).toEqual([
      '/metadata/nmespace is not a field of example.com/v1 Widget (did you mean namespace?)',
    ]);
  });

  test('x-kubernetes-validations (CEL) are not evaluated: no CEL evaluator here', async () => {
    expect(await problems({ checked: 'forbidden' })).toEqual([]);
  });
});

/**
 * Without the generated schemas (a partial checkout, an interrupted `npm run import`) validation
 * fails with a message that says what is missing and what to run. The module is loaded from a copy
 * in a temporary directory, above which the tree holds only what each case needs.
 */
describe('imports/schemas missing or incomplete', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  /** `pipeline/schema-validation.ts` (with what it imports from the repository) copied below a new directory holding `folders`. */
  async function moduleIn(folders: string[]): Promise<{ dir: string; module: string; validate: typeof validateObject }> {
    const dir = mkdtempSync(join(tmpdir(), 'shipshape-schema-validation-'));
    dirs.push(dir);
    for (const file of ['pipeline/schema-validation.ts', 'environments/suggest.ts']) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      copyFileSync(join(REPO, file), join(dir, file));
    }
    for (const folder of folders) mkdirSync(join(dir, folder), { recursive: true });
    const module = join(dir, 'pipeline', 'schema-validation.ts');
    const { validateObject: validate } = await import(module) as { validateObject: typeof validateObject };
    return { dir, module, validate };
  }

  test.each([
    ['no imports/', []],
    ['imports/ without schemas/', ['imports']],
  ])('%s above the module: says where it looked and how to generate it', async (_name, folders) => {
    const { module, validate } = await moduleIn(folders);
    await expect(validate(CNPG.Cluster())).rejects.toThrow(`no imports/schemas/ above ${module} (generate it with \`npm run import\`)`);
  });

  test('a validator missing from imports/schemas/: names the file and how to regenerate it', async () => {
    const { dir, validate } = await moduleIn(['imports/schemas']);
    const file = join(dir, 'imports', 'schemas', 'postgresql.cnpg.io_v1_Cluster.validate.cjs');
    const problem = await validate(CNPG.Cluster()).then(() => 'no error', (e: unknown) => (e as Error).message);
    expect(problem.startsWith(`cannot load the validator ${file} (regenerate imports/ with \`npm run import\`): `)).toBe(true);
    // The loader's own reason follows, naming the file.
    expect(problem.slice(problem.indexOf('): ') + 3)).toContain('postgresql.cnpg.io_v1_Cluster.validate.cjs');
  });
});

/**
 * Whether imports/schemas is compared with the CRDs it was generated from: on a developer's machine
 * without ../shared/crds the comparison is skipped with a warning; in CI (CI=true) a missing
 * directory is a failure, or a broken checkout would pass by testing less.
 */
describe('imports/schemas', () => {
  const DIR = join(REPO, 'imports', 'schemas');
  const files = readdirSync(DIR).sort();
  const schemas = files.filter((f) => f.endsWith('.json'));

  test('has a JSON Schema and a validator of every CloudNativePG, Barman Cloud and Argo CD kind we emit, and nothing else', () => {
    const kinds = [
      ...Object.values(CNPG).map((make) => make()).map((o) => `${o.apiVersion.replace('/', '_')}_${o.kind}`),
      'argoproj.io_v1alpha1_Application', 'argoproj.io_v1alpha1_AppProject',
    ].sort();
    expect(files).toEqual(kinds.flatMap((k) => [`${k}.json`, `${k}.validate.cjs`]).sort());
  });

  test.each(schemas)('%s: the validator beside it is the one generated from it', (file) => {
    const validator = readFileSync(join(DIR, file.replace(/\.json$/, '.validate.cjs')), 'utf8');
    // Not toBe: a diff of half a megabyte of generated code helps no one.
    expect(validator === validatorModule(file, readFileSync(join(DIR, file), 'utf8'))).toBe(true);
  });

  // CRDS_DIR and ARGOCD_CRDS_DIR: where the CRDs are, as for scripts/import-crds.sh, which reads the
  // files of the bundles charts/gitops/platform-releases.ts names (scripts/crd-bundles.ts).
  const CRDS = process.env.CRDS_DIR ?? resolve(REPO, '..', 'shared', 'crds');
  const ARGOCD_CRDS = process.env.ARGOCD_CRDS_DIR ?? resolve(REPO, '..', 'shared', PLATFORM_RELEASES['argo-cd'].crds.dir);
  const pinned = (file: string) => [PLATFORM_RELEASES['cloudnative-pg'].crds, PLATFORM_RELEASES['plugin-barman-cloud'].crds]
    .some((bundle) => crdBundleFiles(bundle).includes(file));
  const comparison = existsSync(CRDS) && existsSync(ARGOCD_CRDS) ? 'run' : process.env.CI === 'true' ? 'fail' : 'skip';
  /** The folder scripts/import-crds.sh gives crd-schemas.mjs: the pinned CloudNativePG and Barman Cloud CRDs and Argo CD's two. */
  const sources = (into: string) => {
    for (const f of readdirSync(CRDS).filter(pinned)) copyFileSync(join(CRDS, f), join(into, f));
    for (const f of ['application-crd.yaml', 'appproject-crd.yaml']) copyFileSync(join(ARGOCD_CRDS, f), join(into, f));
    return into;
  };
  if (comparison === 'skip') {
    console.warn(`imports/schemas is not compared with what scripts/import-crds.sh generates: ${CRDS} is absent (CI has it beside the repository).`);
  }

  if (comparison === 'fail') {
    test('../shared/crds is there to compare with (CI may not skip the comparison)', () => {
      throw new Error(`${CRDS} is absent, so imports/schemas cannot be compared with what scripts/import-crds.sh generates from it: `
        + 'CI must have the CRDs beside the repository (or CRDS_DIR naming them)');
    });
  }

  const haveCrds = comparison === 'run';
  (haveCrds ? test : test.skip)('is what scripts/import-crds.sh generates from ../shared/crds and Argo CD\'s CRDs', () => {
    const script = readFileSync(join(REPO, 'scripts', 'import-crds.sh'), 'utf8');
    expect(script).toMatch(/^cp "\$\{cnpg\[@\]\}" "\$\{barman\[@\]\}" "\$tmp\/schemas\/"$/m);
    expect(script).toMatch(/^cp "\$argocd_crds\/application-crd\.yaml" "\$argocd_crds\/appproject-crd\.yaml" "\$tmp\/schemas\/"$/m);
    expect(script).toMatch(/^node scripts\/crd-schemas\.mjs "\$tmp\/schemas" imports\/schemas$/m);
    const out = mkdtempSync(join(tmpdir(), 'shipshape-crd-schemas-'));
    const src = sources(mkdtempSync(join(tmpdir(), 'shipshape-crd-sources-')));
    try {
      const r = spawnSync(process.execPath, ['scripts/crd-schemas.mjs', src, out], { cwd: REPO, encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const generated = readdirSync(out).sort();
      expect(generated).toEqual(files);
      const stale = generated.filter((f) => !readFileSync(join(out, f)).equals(readFileSync(join(DIR, f))));
      expect(stale).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
      rmSync(src, { recursive: true, force: true });
    }
  });

  (haveCrds ? test : test.skip)('every generated schema says where it came from', () => {
    const src = sources(mkdtempSync(join(tmpdir(), 'shipshape-crd-sources-')));
    try {
      const extracted = extractSchemas(src);
      expect([...extracted.keys()].sort()).toEqual(schemas);
      for (const text of extracted.values()) {
        expect(JSON.parse(text).$comment).toMatch(/^Generated by scripts\/import-crds\.sh \(scripts\/crd-schemas\.mjs\) from [\w.-]+\.yaml: the openAPIV3Schema of CustomResourceDefinition [\w.]+, version v1(alpha1)?\. Do not edit\.$/);
        expect(text.endsWith('}\n')).toBe(true);
      }
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
  });
});
