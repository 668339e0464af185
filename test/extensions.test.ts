/**
 * The extension point (environments/extension.ts, charts/extensions/): a cdk8s-plus-28 Deployment
 * added through it, made production-ready by productionWorkload(), passes the whole gate and is
 * written under extensions/ with its NetworkPolicy from the model; the same Deployment with
 * cdk8s-plus's defaults fails with messages naming the construct and the fix; an object in another
 * namespace, a cluster-wide one, a failing build and a malformed declaration are refused clearly.
 * docs/extending.md shows test/fixtures/extensions/thumbnails.ts as it is.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiObject, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { injectedEnvVariables, productionWorkload } from '../charts/extensions/production-workload';
import type { Extension } from '../environments/extension';
import { ConfigError, resolveEnvironment } from '../environments/load';
import { buildModel } from '../environments/model/model';
import type { K8sObject } from '../pipeline/k8s-object';
import { synthesizeEnvironment } from '../pipeline/synth';
import { thumbnails } from './fixtures/extensions/thumbnails';
import { boxDesigner, configProblems, REPOSITORY_ROOT, variant } from './support/fixtures';
import { REPO } from './support/repository-copy';

const withExtensions = (...extensions: Extension[]) => variant({ ...boxDesigner, extensions });
const IMAGE = 'registry.test.invalid/box-designer/thumbnailer:0.2.0@sha256:6666666666666666666666666666666666666666666666666666666666666666';

describe('a cdk8s-plus-28 workload through productionWorkload()', () => {
  const env = withExtensions(thumbnails);

  test('passes schema, defaults, CEL and policy, and is written under extensions/', async () => {
    const result = await synthesizeEnvironment(env);
    expect(result.problems).toEqual([]);
    expect([...result.files.keys()].filter((f) => f.startsWith('extensions/')).sort()).toEqual([
      'extensions/deployment-thumbnailer.yaml', 'extensions/poddisruptionbudget-thumbnailer.yaml',
    ]);
    const deployment = result.objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'thumbnailer')!;
    expect(deployment.metadata.namespace).toBe('box-designer');
    expect(deployment.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'thumbnailer', 'app.kubernetes.io/instance': 'box-designer-box-designer' });
    expect(JSON.stringify(deployment)).not.toContain('cdk8s.io/metadata.addr');
  });

  test('its declared flows are the model\'s: a NetworkPolicy of its name, to PgBouncer', async () => {
    const flows = buildModel(env).network.flows.filter((f) => f.from.some((p) => p.name === 'thumbnailer'))
      .map((f) => `${f.to.map((p) => p.name).join(',')} ${f.ports.map((p) => p.port).join(',')}`);
    expect(flows).toEqual(['PgBouncer (box-designer-db-pooler) 5432']);
    const result = await synthesizeEnvironment(env);
    expect(result.files.has('security/networkpolicy-thumbnailer.yaml')).toBe(true);
  });
});

describe('cdk8s-plus-28\'s own defaults fail with the construct and the fix', () => {
  const raw: Extension = {
    name: 'raw',
    description: 'the thumbnailer as cdk8s-plus writes it',
    workloads: { thumbnailer: { uses: ['postgres'] } },
    build(scope) {
      new kplus.Deployment(scope, 'thumbnailer', { containers: [{ name: 'thumbnailer', image: IMAGE }] });
    },
  };

  test('every default production policy refuses, each line naming the construct, then how to fix them all', async () => {
    const { problems } = await synthesizeEnvironment(withExtensions(raw));
    const at = '(construct extensions/raw/thumbnailer/Resource)';
    const deployment = 'box-designer: Deployment box-designer/extensions-raw-thumbnailer';
    expect(problems).toEqual(expect.arrayContaining([
      `${deployment}: policy pod-security-restricted: container thumbnailer: capabilities must drop ALL ${at}`,
      `${deployment}: policy pod-security-restricted: container thumbnailer: seccompProfile must be RuntimeDefault or Localhost (on the container or the pod) ${at}`,
      `${deployment}: policy image-pull-policy: container thumbnailer pulls Always: set imagePullPolicy IfNotPresent (the image is pinned by tag or digest; `
        + `Always makes every start depend on the registry answering) ${at}`,
      `${deployment}: policy pdb-for-multi-replica: runs more than one replica but no PodDisruptionBudget selects its pods ${at}`,
      `${deployment}: policy network-policy-coverage: no NetworkPolicy selects its pods by label: its allowed flows are undeclared ${at}`,
      `${deployment}: policy no-cdk8s-hash-labels: carries the cdk8s.io/metadata.addr label ${at}`,
      `${deployment}: policy recommended-labels: has no app.kubernetes.io/name label ${at}`,
      expect.stringMatching(/^box-designer: extensions \(raw\): a cdk8s-plus-28 Deployment not yet given to productionWorkload\(\) \(charts\/extensions\/production-workload\.ts\) gets there/),
    ]));
    // Every line about the object names its construct.
    expect(problems.filter((p) => p.startsWith(`${deployment}:`) && !p.endsWith(at))).toEqual([]);
  });
});

describe('what an extension may not do', () => {
  const configMap = (metadata: object): Extension => ({
    name: 'settings',
    description: 'a ConfigMap',
    build(scope) {
      new ApiObject(scope, 'settings', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', ...metadata }, data: { a: '1' } });
    },
  });

  test('an object in another namespace, or a cluster-wide one', async () => {
    const other = await synthesizeEnvironment(withExtensions(configMap({ namespace: 'kube-system' })));
    expect(other.problems).toContain('box-designer: ConfigMap kube-system/settings: is in namespace kube-system; an extension\'s objects belong in the application\'s '
      + 'namespace, box-designer (leave metadata.namespace out: the extensions chart sets it) (construct extensions/settings/settings)');
    const clusterWide: Extension = {
      name: 'admin', description: 'a ClusterRole',
      build(scope) {
        new ApiObject(scope, 'role', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'everything' }, rules: [] });
      },
    };
    expect((await synthesizeEnvironment(withExtensions(clusterWide))).problems).toContain(
      'box-designer: ClusterRole box-designer/everything: extensions may only add objects of the application\'s namespace, not a cluster-wide ClusterRole (construct extensions/admin/role)',
    );
  });

  test('a build that throws is a problem with its message, not a stack trace', async () => {
    const failing: Extension = { name: 'broken', description: 'fails', build() { throw new Error('needs data.redis'); } };
    await expect(synthesizeEnvironment(withExtensions(failing))).rejects.toEqual(new ConfigError(['box-designer: extensions (broken): its build failed: needs data.redis']));
  });

  test('a malformed declaration, a workload name a service takes, a component the environment lacks', () => {
    const problems = (extensions: unknown[]) =>
      configProblems(() => resolveEnvironment({ ...boxDesigner, extensions: extensions as Extension[] }, REPOSITORY_ROOT));
    expect(problems([{ name: 'Bad Name', description: 'x', build: 'not code' }])).toEqual([
      expect.stringMatching(/^box-designer: extensions\[0\] \(Bad Name\)\.name \("Bad Name"\) is not a valid Kubernetes Service name/),
      'box-designer: extensions[0] (Bad Name).build must be a function (scope, context) => void that adds the extension\'s constructs to scope',
    ]);
    expect(problems([{ ...thumbnails, workloads: { api: { uses: ['redis'] } } }])).toEqual([
      'box-designer: extensions[0] (thumbnails).workloads.api uses the name "api", which services.api already takes',
      'box-designer: extensions[0] (thumbnails).workloads.api.uses[0] ("redis") is not configured: add data.redis, or remove it from uses',
    ]);
  });
});

describe('what an extension may add, and what it may not', () => {
  const ns = 'box-designer';
  const adding = (name: string, make: (scope: any) => void, workloads: Extension['workloads'] = {}): Extension => ({ name, description: name, workloads, build: make });
  const problemsOf = async (...extensions: Extension[]) => (await synthesizeEnvironment(withExtensions(...extensions))).problems;
  const labels = { 'app.kubernetes.io/name': 'x', 'app.kubernetes.io/instance': 'box-designer-box-designer', 'app.kubernetes.io/component': 'workload',
    'app.kubernetes.io/part-of': 'box-designer', 'app.kubernetes.io/managed-by': 'shipshape' };

  test('a NetworkPolicy of its own (policies add up: an allow-all one would open the namespace)', async () => {
    const open = adding('open', (scope) => new ApiObject(scope, 'allow-all', {
      apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'allow-all', labels },
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'], ingress: [{}], egress: [{}] },
    }));
    expect(await problemsOf(open)).toContain(`box-designer: NetworkPolicy ${ns}/allow-all: an extension declares its workloads' flows (workloads.<name>), `
      + 'and the model writes their NetworkPolicies: it may not add one (construct extensions/open/allow-all)');
  });

  test('an object with the kind and name of one the configuration makes', async () => {
    const clash = adding('clash', (scope) => new ApiObject(scope, 'sa', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'api', labels } }));
    expect(await problemsOf(clash)).toContain(`box-designer: ServiceAccount ${ns}/api: is made twice (app/serviceaccount-api.yaml and extensions/serviceaccount-api.yaml); `
      + 'Argo CD would apply only one of them: give one another name');
  });

  test('a Service around the Gateway, a RoleBinding for another namespace, a pod of an undeclared workload', async () => {
    const lb = adding('lb', (scope) => new ApiObject(scope, 'svc', {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'direct', labels }, spec: { type: 'LoadBalancer', selector: { 'app.kubernetes.io/name': 'api' }, ports: [{ port: 80 }] },
    }));
    expect(await problemsOf(lb)).toContain(`box-designer: Service ${ns}/direct: a Service of type LoadBalancer would reach its pods around the Gateway: only ClusterIP (construct extensions/lb/svc)`);
    const binding = adding('grant', (scope) => new ApiObject(scope, 'rb', {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'grant', labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' }, subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: 'kube-system' }],
    }));
    expect(await problemsOf(binding)).toContain(`box-designer: RoleBinding ${ns}/grant: binds ServiceAccount kube-system/default: only ServiceAccounts of ${ns} (construct extensions/grant/rb)`);
    const undeclared: Extension = { ...thumbnails, workloads: {} };
    expect(await problemsOf(undeclared)).toContain(`box-designer: Deployment ${ns}/thumbnailer: its pods are labelled app.kubernetes.io/name=thumbnailer, `
      + 'which is not a workload extensions (thumbnails) declares: declare it and its flows in workloads (construct extensions/thumbnails/thumbnailer/Resource)');
  });

  test('cdk8s-plus checks that fail when the objects render name the construct; default resources are refused', async () => {
    const empty = adding('empty', (scope) => new kplus.Deployment(scope, 'd'));
    await expect(synthesizeEnvironment(withExtensions(empty))).rejects.toEqual(new ConfigError([
      'box-designer: extensions (empty): extensions/empty/d/Resource cannot be rendered: PodSpec must have at least 1 container',
    ]));
    const sized = adding('sized', (scope) => {
      const context = { identity: { namespace: ns } } as never;
      const d = new kplus.Deployment(scope, 'd', { containers: [{ name: 'main', image: IMAGE }] });
      productionWorkload(d, { context, name: 'x', runAsUser: 1000 });
    });
    await expect(synthesizeEnvironment(withExtensions(sized))).rejects.toEqual(new ConfigError([
      'box-designer: extensions (sized): its build failed: x: container main has cdk8s-plus-28\'s default resources (1 CPU requested, 2 GiB of memory as its limit): '
        + 'give it resources sized to its work',
    ]));
  });

  test('two workloads of one extension read the same Secrets; the environment\'s zone spread is the default', async () => {
    const env = variant({ ...boxDesigner, extensions: [{
      ...thumbnails,
      workloads: { thumbnailer: { uses: ['postgres', 'uploads'] }, 'thumbnail-sweeper': { uses: ['postgres'] } },
      build(scope, context) {
        thumbnails.build(scope, context);
        const sweeper = new kplus.Deployment(scope, 'sweeper', {
          containers: [{
            name: 'sweeper', image: IMAGE, envVariables: injectedEnvVariables(scope, context.injectedEnv(['postgres'])),
            resources: {
              cpu: { request: kplus.Cpu.millis(50), limit: kplus.Cpu.millis(100) }, memory: { request: Size.mebibytes(64), limit: Size.mebibytes(64) },
            },
            liveness: kplus.Probe.fromCommand(['true'], {
              periodSeconds: Duration.seconds(10), timeoutSeconds: Duration.seconds(1), failureThreshold: 3, successThreshold: 1,
            }),
          }],
        });
        productionWorkload(sweeper, { context, name: 'thumbnail-sweeper', runAsUser: 1000, replicas: 1 });
      },
    }] }, { zoneSpread: 'required' });
    const result = await synthesizeEnvironment(env);
    expect(result.problems).toEqual([]);
    const spread = (name: string) => result.objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name)!.spec.template.spec.topologySpreadConstraints[0];
    expect([spread('thumbnailer').whenUnsatisfiable, spread('thumbnail-sweeper').whenUnsatisfiable]).toEqual(['DoNotSchedule', 'DoNotSchedule']);
  });
});

test('docs/extending.md shows the worked example as the tested fixture has it', () => {
  const doc = readFileSync(join(REPO, 'docs/extending.md'), 'utf8');
  const fixture = readFileSync(join(REPO, 'test/fixtures/extensions/thumbnails.ts'), 'utf8');
  // The page's example is the fixture's code from its first import, as environments/thumbnails.ts would import.
  const code = fixture.slice(fixture.indexOf('import ')).replaceAll('../../../charts/', '../charts/').replaceAll('../../../environments/', './');
  expect(doc).toContain(`\`\`\`ts\n${code}\`\`\``);
});

test('the objects an extension makes are checked like any other (the harness can fail)', async () => {
  const object: K8sObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { a: 1 } };
  const typed: Extension = { name: 'typed', description: 'a ConfigMap with a number', build(scope) { new ApiObject(scope, 'x', object as never); } };
  const { problems } = await synthesizeEnvironment(withExtensions(typed));
  expect(problems.some((p) => p.startsWith('box-designer: ConfigMap box-designer/x: schema:') && p.endsWith('(construct extensions/typed/x)'))).toBe(true);
});
