/**
 * The gate evaluates the CEL rules (`x-kubernetes-validations`) of the CRDs of the versions we run on
 * every custom resource of dist/ and argocd/ (pipeline/cel-gate.ts, reading imports/validations/
 * generated from the CRDs), as the API server would after defaulting: through synthesizeEnvironment a
 * violation is one problem with the CRD's own message; a rule the checker cannot evaluate is a problem
 * too; transition rules refuse an update of a committed object unless it is allowed; through
 * `npm run synth`, nothing is written. The real outputs of both environments pass.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@bufbuild/cel';
import type { Chart } from 'cdk8s';
import { AppChart } from '../charts/app/app-chart';
import { DataChart } from '../charts/data/data-chart';
import { PlatformChart } from '../charts/platform/platform-chart';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { buildModel } from '../environments/model/model';
import { decodeExpr } from '../pipeline/cel/ast';
import { ruleSites } from '../pipeline/cel/rules';
import { celProblems, kindValidations } from '../pipeline/cel-gate';
import { groupOf, KUBERNETES_GROUPS } from '../pipeline/crd-defaults';
import { refusalMessage } from '../pipeline/immutable-fields';
import type { K8sObject } from '../pipeline/k8s-object';
import { refusedChangesOf, type Synthesis } from '../pipeline/pipeline';
import { EMITTABLE_KINDS } from '../pipeline/schema-validation';
import { argocdObjects, modelObjects } from '../pipeline/synth';
import { readTree } from '../pipeline/tree-diff';
import { everyObject, problemsWith } from './support/gate';
import { copyEditor, copyRepository, REPO } from './support/repository-copy';
import { only } from './support/synth-construct';

const envs = resolveEnvironments(environments, REPO);
const staging = envs.find((e) => e.name === 'staging')!;

const CRD = {
  httpRoute: 'httproutes.gateway.networking.k8s.io, gateway-api v1.6.1',
  gateway: 'gateways.gateway.networking.k8s.io, gateway-api v1.6.1',
  gatewayClass: 'gatewayclasses.gateway.networking.k8s.io, gateway-api v1.6.1',
  cluster: 'clusters.postgresql.cnpg.io, cloudnative-pg 1.30.0',
  pooler: 'poolers.postgresql.cnpg.io, cloudnative-pg 1.30.0',
  objectStore: 'objectstores.barmancloud.cnpg.io, plugin-barman-cloud v0.14.0',
  clusterIssuer: 'clusterissuers.cert-manager.io, cert-manager v1.21.1',
};

/** Staging's gate problems with `change` applied to what one chart class renders. */
const stagingWith = (chart: { prototype: Chart }, change: (objects: K8sObject[]) => void) => problemsWith(staging, chart, change);

describe('the real output', () => {
  test.each(envs.map((e) => [e.name, e] as const))('%s: every custom resource of dist/ and argocd/ passes its CRD\'s CEL rules', (_name, env) => {
    const all = everyObject(env);
    // Not vacuous: objects of every CRD group with rules are evaluated.
    const withRules = all.filter((o) => Object.keys(kindValidations(o.apiVersion, o.kind)?.schema ?? {}).length > 0);
    expect(new Set(withRules.map((o) => o.apiVersion.split('/')[0]))).toEqual(new Set([
      'gateway.networking.k8s.io', 'postgresql.cnpg.io', 'barmancloud.cnpg.io', 'cert-manager.io',
    ]));
    expect(celProblems(env.name, all)).toEqual([]);
  });

  test('the emitted kinds of Argo CD, External Secrets and prometheus-operator have no CEL rule at their served version', () => {
    const custom = EMITTABLE_KINDS.map((gvk) => gvk.split(' ')).filter(([apiVersion]) => !KUBERNETES_GROUPS.has(groupOf(apiVersion)));
    const rules = Object.fromEntries(custom.map(([apiVersion, kind]) => {
      const v = kindValidations(apiVersion, kind);
      if (!v) throw new Error(`no imports/validations file for ${apiVersion} ${kind}`);
      return [`${apiVersion} ${kind}`, ruleSites(v.schema).length];
    }));
    const without = Object.entries(rules).filter(([, n]) => n === 0).map(([gvk]) => gvk).sort();
    expect(without).toEqual([
      'argoproj.io/v1alpha1 AppProject', 'argoproj.io/v1alpha1 Application',
      'cert-manager.io/v1 Certificate',
      'external-secrets.io/v1 ExternalSecret',
      'monitoring.coreos.com/v1 PodMonitor', 'monitoring.coreos.com/v1 Probe', 'monitoring.coreos.com/v1 PrometheusRule', 'monitoring.coreos.com/v1 ServiceMonitor',
    ]);
    expect(rules['gateway.networking.k8s.io/v1 HTTPRoute']).toBeGreaterThan(20);
  });
});

describe('the expressions stored parsed (imports/validations/, so that synthesis parses nothing)', () => {
  test('each gives back the tree the parser gives for its source, for every stored rule and messageExpression', () => {
    const stored = EMITTABLE_KINDS.flatMap((gvk) => {
      const [apiVersion, kind] = gvk.split(' ');
      return Object.entries(kindValidations(apiVersion, kind)?.expressions ?? {});
    });
    expect(stored.length).toBeGreaterThan(50);
    // The same tree but for ids (numbering only) and message type names.
    const shape = (x: unknown): unknown => {
      if (Array.isArray(x)) return x.map(shape);
      if (x === null || typeof x !== 'object' || x instanceof Uint8Array) return x;
      return Object.fromEntries(Object.entries(x).filter(([k]) => k !== 'id' && k !== '$typeName').map(([k, v]) => [k, shape(v)]));
    };
    for (const [source, encoded] of stored) expect([source, shape(decodeExpr(encoded))]).toEqual([source, shape(parse(source).expr)]);
    // Every rule of every file is stored: none is parsed at synthesis.
    const rules = EMITTABLE_KINDS.flatMap((gvk) => {
      const [apiVersion, kind] = gvk.split(' ');
      const v = kindValidations(apiVersion, kind);
      return v ? ruleSites(v.schema).map(({ rule }) => [rule.rule, v.expressions?.[rule.rule]]) : [];
    });
    expect(rules.filter(([, encoded]) => encoded === undefined)).toEqual([]);
  });
});

describe('a construct that breaks a CEL rule of its CRD fails synthesis with the CRD\'s message', () => {
  test('Gateway API: an HTTPRoute whose backend timeout is longer than the request timeout', async () => {
    const problems = await stagingWith(AppChart, (objects) => {
      only(objects, 'HTTPRoute', 'portal-staging-university-example').spec.rules[1].timeouts = { request: '10s', backendRequest: '1m' };
    });
    expect(problems).toEqual([
      'staging: HTTPRoute student-portal-staging/portal-staging-university-example: spec.rules[1].timeouts: '
      + `backendRequest timeout cannot be longer than request timeout (CEL rule of ${CRD.httpRoute})`,
    ]);
  });

  test('Gateway API: a Gateway with TLS on its HTTP listener', async () => {
    const problems = await stagingWith(PlatformChart, (objects) => {
      const gateway = only(objects, 'Gateway', 'student-portal');
      const https = gateway.spec.listeners.find((l: K8sObject) => l.protocol === 'HTTPS');
      gateway.spec.listeners.find((l: K8sObject) => l.protocol === 'HTTP').tls = structuredClone(https.tls);
    });
    expect(problems).toEqual([
      `staging: Gateway student-portal-staging/student-portal: spec.listeners: tls must not be specified for protocols ['HTTP', 'TCP', 'UDP'] (CEL rule of ${CRD.gateway})`,
    ]);
  });

  test('CloudNativePG: a Cluster with both imageName and imageCatalogRef', async () => {
    const problems = await stagingWith(DataChart, (objects) => {
      only(objects, 'Cluster', 'student-portal-db').spec.imageCatalogRef = { apiGroup: 'postgresql.cnpg.io', kind: 'ImageCatalog', name: 'pg', major: 17 };
    });
    expect(problems).toEqual([
      `staging: Cluster student-portal-staging/student-portal-db: spec: imageName and imageCatalogRef are mutually exclusive (CEL rule of ${CRD.cluster})`,
    ]);
  });

  test('Barman Cloud: an ObjectStore naming the server itself (the rule\'s fieldPath names the field)', async () => {
    const problems = await stagingWith(DataChart, (objects) => {
      only(objects, 'ObjectStore', 'student-portal-db-backups').spec.configuration.serverName = 'old';
    });
    expect(problems).toEqual([
      'staging: ObjectStore student-portal-staging/student-portal-db-backups: spec.configuration.serverName: '
      + `use the 'serverName' plugin parameter in the Cluster resource (CEL rule of ${CRD.objectStore})`,
    ]);
  });

  test('cert-manager: a ClusterIssuer with two Venafi connections', async () => {
    const problems = await stagingWith(PlatformChart, (objects) => {
      const issuer = only(objects, 'ClusterIssuer', 'letsencrypt-staging');
      issuer.spec.venafi = {
        zone: 'z', tpp: { url: 'https://tpp.example/vedsdk', credentialsRef: { name: 'tpp' } }, cloud: { apiTokenSecretRef: { name: 'c', key: 'k' } },
      };
    });
    expect(problems).toEqual([
      `staging: ClusterIssuer letsencrypt-staging: spec.venafi: exactly one of tpp, cloud, or ngts must be configured (CEL rule of ${CRD.clusterIssuer})`,
    ]);
  });
});

describe('what the checker cannot evaluate is a problem, never a pass', () => {
  test('a rule reading a field the object lacks (no default fills it): the rule is named', async () => {
    const problems = await stagingWith(PlatformChart, (objects) => {
      const listener = only(objects, 'Gateway', 'student-portal').spec.listeners.find((l: K8sObject) => l.protocol === 'HTTPS');
      delete listener.tls.certificateRefs;
    });
    expect(problems).toEqual([
      'staging: Gateway student-portal-staging/student-portal: spec.listeners[1].tls: the CEL checker cannot evaluate a rule of CRD '
      + `${CRD.gateway}: rule evaluation error: self.mode == 'Terminate' ? size(self.certificateRefs) > 0 || size(self.options) > 0 : true: `
      + 'field not found: certificateRefs',
    ]);
  });

  test('a custom kind with no generated rules', () => {
    const widget = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'n' }, spec: {} };
    expect(celProblems('staging', [widget])).toEqual([
      'staging: Widget n/w: no CEL rules of example.com/v1 Widget in imports/validations/ (generate them with `npm run import`)',
    ]);
  });
});

describe('transition rules, against the committed dist/ and argocd/', () => {
  const committed = readTree(join(REPO, 'dist'));
  const stagingObjects = modelObjects(buildModel(staging)).map((o) => o.object);
  /** A synthesis of staging whose Pooler serves another cluster, everything else as committed. */
  const withPoolerOf = (cluster: string): Synthesis => {
    const objects = stagingObjects.map((o) => (o.kind === 'Pooler' ? { ...o, spec: { ...o.spec, cluster: { name: cluster } } } : o));
    const files = new Map([...committed].filter(([path]) => path.startsWith('staging/') && !path.includes('/pooler-')));
    return { files, argocd: new Map(), documents: new Map(), objects: new Map([['staging', objects]]), argocdObjects: new Map() };
  };

  test('a Pooler serving another cluster is refused with the CRD\'s message, the runbook and the flag; allowed, it passes', () => {
    const refused = refusedChangesOf(committed, withPoolerOf('other-db'), new Set());
    expect(refused.map(refusalMessage)).toEqual([
      'staging/Pooler/student-portal-db-pooler: spec.cluster {"name":"student-portal-db"} → {"name":"other-db"}: '
      + `cluster reference is immutable after creation (CEL rule of ${CRD.pooler}), which Kubernetes refuses on an existing object `
      + '(the Argo CD sync would fail); follow runbooks/change-immutable-field.md#pooler-cluster, '
      + 'then run with --allow-immutable-change staging/Pooler/student-portal-db-pooler',
    ]);
    expect(refusedChangesOf(committed, withPoolerOf('other-db'), new Set(['staging/Pooler/student-portal-db-pooler']))).toEqual([]);
    // The same cluster is no change.
    expect(refusedChangesOf(committed, withPoolerOf('student-portal-db'), new Set())).toEqual([]);
  });

  test('the committed argocd/ too: a GatewayClass naming another controller is refused; without argocd/ given, or allowed, it passes', () => {
    const committedArgocd = readTree(join(REPO, 'argocd'));
    const model = buildModel(staging);
    const argocd = argocdObjects(model, modelObjects(model)).map((o) => (o.kind === 'GatewayClass'
      ? { ...o, spec: { ...o.spec, controllerName: 'example.com/other-controller' } }
      : o));
    // The committed GatewayClass file differs from this synthesis' (it is not written): it is parsed and compared.
    const argocdFiles = new Map([...committedArgocd].filter(([path]) => path.startsWith('staging/') && !path.includes('/gatewayclass-')));
    const synthesis: Synthesis = {
      files: new Map(), argocd: argocdFiles, documents: new Map(), objects: new Map([['staging', []]]), argocdObjects: new Map([['staging', argocd]]),
    };
    const refused = refusedChangesOf(new Map(), synthesis, new Set(), committedArgocd);
    expect(refused.map(refusalMessage)).toEqual([
      'staging/GatewayClass/envoy-gateway: spec.controllerName "gateway.envoyproxy.io/gatewayclass-controller" → "example.com/other-controller": '
      + `Value is immutable (CEL rule of ${CRD.gatewayClass}), which Kubernetes refuses on an existing object `
      + '(the Argo CD sync would fail); follow runbooks/change-immutable-field.md#gateway-class-controller, '
      + 'then run with --allow-immutable-change staging/GatewayClass/envoy-gateway',
    ]);
    expect(refusedChangesOf(new Map(), synthesis, new Set())).toEqual([]);
    expect(refusedChangesOf(new Map(), synthesis, new Set(['staging/GatewayClass/envoy-gateway']), committedArgocd)).toEqual([]);
  });

  test('a transition rule is not run at creation: a new Pooler of another cluster passes the synth pass', () => {
    const pooler = only(stagingObjects, 'Pooler', 'student-portal-db-pooler');
    expect(celProblems('staging', [{ ...pooler, spec: { ...pooler.spec, cluster: { name: 'other-db' } } }])).toEqual([]);
  });
});

/** `npm run synth` on a copy of the repository whose ObjectStore construct names the server itself. */
describe('npm run synth', () => {
  let work: string;
  const { edit, restore } = copyEditor(() => work);
  beforeAll(() => {
    work = copyRepository('shipshape-cel-gate-');
    for (const dir of ['dist', 'argocd']) cpSync(join(REPO, dir), join(work, dir), { recursive: true });
  });
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });
  afterEach(() => restore());
  const synth = (...args: string[]) => {
    const env = { ...process.env };
    for (const k of ['SHIPSHAPE_DEBUG', 'CDK8S_OUTDIR', 'NODE_OPTIONS']) delete env[k];
    return spawnSync(process.execPath, ['scripts/synth.mjs', ...args], { cwd: work, env, encoding: 'utf8', timeout: 120_000 });
  };

  test('refuses the output with the CRD\'s message for each object and writes nothing', () => {
    edit('charts/data/postgres-object-store.ts', 'destinationPath: props.destinationPath,', "destinationPath: props.destinationPath, serverName: 'old',");
    const before = { dist: readTree(join(work, 'dist')), argocd: readTree(join(work, 'argocd')) };
    const r = synth();
    const problems = [['staging', 'student-portal-staging'], ['production', 'student-portal']].map(([e, ns]) =>
      `${e}: ObjectStore ${ns}/student-portal-db-backups: spec.configuration.serverName: `
      + `use the 'serverName' plugin parameter in the Cluster resource (CEL rule of ${CRD.objectStore})`);
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
      status: 1,
      stdout: '',
      stderr: [`shipshape: nothing was written; fix these ${problems.length} problem(s):`, ...problems.map((p) => `  ${p}`), ''].join('\n'),
    });
    expect({ dist: readTree(join(work, 'dist')), argocd: readTree(join(work, 'argocd')) }).toEqual(before);
  }, 180_000);

  test('refuses a Pooler moved to another cluster (a transition rule) until it is allowed, and logs the allowed change', () => {
    edit('charts/data/postgres-pooler.ts', 'cluster: { name: props.cluster },', "cluster: { name: 'other-db' },");
    const before = readTree(join(work, 'dist'));
    const refused = synth('--env', 'staging');
    expect({ status: refused.status, stdout: refused.stdout }).toEqual({ status: 1, stdout: '' });
    expect(refused.stderr).toBe([
      'shipshape: nothing was written; 1 change(s) Kubernetes refuses on existing objects:',
      '  staging/Pooler/student-portal-db-pooler: spec.cluster {"name":"student-portal-db"} → {"name":"other-db"}: '
      + `cluster reference is immutable after creation (CEL rule of ${CRD.pooler}), which Kubernetes refuses on an existing object `
      + '(the Argo CD sync would fail); follow runbooks/change-immutable-field.md#pooler-cluster, '
      + 'then run with --allow-immutable-change staging/Pooler/student-portal-db-pooler',
      '',
    ].join('\n'));
    expect(readTree(join(work, 'dist'))).toEqual(before);
    const allowed = synth('--env', 'staging', '--allow-immutable-change', 'staging/Pooler/student-portal-db-pooler');
    expect({ status: allowed.status, stderr: allowed.stderr }).toEqual({ status: 0, stderr: '' });
    expect(allowed.stdout).toMatch(/^shipshape: allowed by --allow-immutable-change: staging\/Pooler\/student-portal-db-pooler: spec\.cluster /);
    expect(readTree(join(work, 'dist')).get('staging/data/pooler-student-portal-db-pooler.yaml')).toMatch(/cluster:\n {4}name: other-db\n/);
  }, 180_000);
});
