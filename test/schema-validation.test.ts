/**
 * Strict schema validation: the real output of every environment validates with no problem; unknown
 * fields are found at every depth (including on objects that hold nothing but unknown fields, and
 * on objects whose schema counts their keys); wrong types, enums and missing fields read well;
 * removed and unknown APIs are refused; free-form fields are left alone.
 */
import { synthObjects } from '../charts/synth';
import { ref, type K8sObject } from '../charts/common/policy';
import { validateObject } from '../charts/common/schema-validation';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';

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

describe('the real output', () => {
  const cases = Object.entries(real).flatMap(([env, objects]) => objects.map((o) => [env, ref(o), o] as const));
  test.each(cases)('%s: %s validates', async (_env, _ref, o) => {
    expect(await validateObject(o)).toEqual([]);
  });

  /**
   * The proxy's premise, checked on every object node of the real output: a field added to a typed
   * object is reported, exactly once, at its path; a key added to a map is not. A node that is
   * neither (a new free-form field) fails here until it is listed.
   */
  const MAPS = /\/(labels|annotations|matchLabels|nodeSelector|limits|requests|data|stringData|binaryData|commonLabels|commonAnnotations)$/;
  /** Free-form objects and everything in them: the schema says nothing of their keys. */
  const FREE_FORM = /\/(helm\/valuesObject|webhook\/config)(\/|$)/;
  const isMap = (o: K8sObject, path: string) => MAPS.test(path) || FREE_FORM.test(path) || (o.kind === 'Service' && path === '/spec/selector');
  const nodes = (value: unknown, path: string): string[] => {
    if (value === null || typeof value !== 'object') return [];
    const own = Array.isArray(value) ? [] : [path];
    return [...own, ...Object.entries(value).flatMap(([k, v]) => nodes(v, `${path}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`))];
  };
  const at = (root: K8sObject, path: string): K8sObject => path.split('/').slice(1)
    .reduce((v, seg) => v[seg.replace(/~1/g, '/').replace(/~0/g, '~')], root);
  const byObject = Object.entries(real).flatMap(([env, objects]) => objects.map((o) => [env, ref(o), o] as const));

  test.each(byObject)('%s: %s: a field added to any of its objects is judged correctly', async (_env, _ref, o) => {
    const wrong: string[] = [];
    for (const path of nodes(o, '')) {
      const copy = structuredClone(o);
      at(copy, path).zzUnknownField = '1'; // valid as a label, an annotation and a quantity
      const expected = isMap(o, path) ? [] : [`${path}/zzUnknownField is not a field of ${o.apiVersion} ${o.kind}`];
      const actual = await validateObject(copy);
      if (JSON.stringify(actual) !== JSON.stringify(expected)) wrong.push(`${path || '/'}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
    }
    expect(wrong).toEqual([]);
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
      `apiVersion ${JSON.stringify(apiVersion)} kind ${JSON.stringify(kind)} is not an API this project may emit (add its schema to the registry in charts/common/schema-validation.ts)`,
    ]);
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
