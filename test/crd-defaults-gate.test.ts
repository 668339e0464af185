/**
 * The gate refuses a custom resource the API server would silently alter with its CRD's structural
 * defaults (pipeline/crd-defaults.ts, reading imports/defaults/ generated from the CRDs): through
 * synthesizeEnvironment, each change is one problem naming the object, the JSON path, the default and
 * the CRD; through `npm run synth`, nothing is written. The real outputs of both environments pass.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Chart } from 'cdk8s';
import { AppChart } from '../charts/app/app-chart';
import { DataChart } from '../charts/data/data-chart';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { buildModel } from '../environments/model/model';
import { defaultsProblems } from '../pipeline/crd-defaults';
import type { K8sObject } from '../pipeline/k8s-object';
import { crdDefaultsProblems, modelObjects } from '../pipeline/synth';
import { readTree } from '../pipeline/tree-diff';
import { everyObject, problemsWith } from './support/gate';
import { copyEditor, copyRepository, REPO } from './support/repository-copy';
import { only } from './support/synth-construct';

const envs = resolveEnvironments(environments, REPO);
const staging = envs.find((e) => e.name === 'staging')!;

const HTTPROUTE_CRD = 'httproutes.gateway.networking.k8s.io, gateway-api v1.6.1';
const CLUSTER_CRD = 'clusters.postgresql.cnpg.io, cloudnative-pg 1.30.0';
const line = (ref: string, path: string, value: string, crd: string) =>
  `${ref}: defaults: ${path}: the API server would set ${value} (default of CRD ${crd}); write it out, or Argo CD never sees the object in sync`;

/** Staging's gate problems with `change` applied to what one chart class renders. */
const stagingWith = (chart: { prototype: Chart }, change: (objects: K8sObject[]) => void) => problemsWith(staging, chart, change);

describe('the real output', () => {
  test.each(envs.map((e) => [e.name, e] as const))('%s: no object of dist/ or argocd/ would be altered by its CRD\'s defaults', (_name, env) => {
    const all = everyObject(env);
    // Not vacuous: custom resources of every pinned project are checked, and some CRDs do default fields we write.
    expect(new Set(all.map((o) => o.apiVersion.split('/')[0])).size).toBeGreaterThan(7);
    expect(crdDefaultsProblems(env, all)).toEqual([]);
  });
});

describe('a construct that leaves a default to the API server fails synthesis', () => {
  test('an HTTPRoute backendRef without weight, in the second rule', async () => {
    const problems = await stagingWith(AppChart, (objects) => {
      delete only(objects, 'HTTPRoute', 'portal-staging-university-example').spec.rules[1].backendRefs[0].weight;
    });
    expect(problems).toEqual([
      line('staging: HTTPRoute student-portal-staging/portal-staging-university-example', '/spec/rules/1/backendRefs/0/weight', '1', HTTPROUTE_CRD),
    ]);
  });

  test('an HTTPRoute rule without matches: the whole default, itself defaulted', async () => {
    const problems = await stagingWith(AppChart, (objects) => {
      delete only(objects, 'HTTPRoute', 'https-redirect').spec.rules[0].matches;
    });
    expect(problems).toEqual([
      line('staging: HTTPRoute student-portal-staging/https-redirect', '/spec/rules/0/matches', '[{"path":{"type":"PathPrefix","value":"/"}}]', HTTPROUTE_CRD),
    ]);
  });

  test('a CloudNativePG Cluster plugin without enabled and isWALArchiver, and a null where the schema allows none', async () => {
    const problems = await stagingWith(DataChart, (objects) => {
      const cluster = only(objects, 'Cluster', 'student-portal-db');
      delete cluster.spec.plugins[0].enabled;
      delete cluster.spec.plugins[0].isWALArchiver;
      cluster.spec.startDelay = null;
    });
    const ref = 'staging: Cluster student-portal-staging/student-portal-db';
    expect(problems).toEqual([
      // The strict schema refuses the null too; the API server would default it, then store what we did not write.
      `${ref}: schema: /spec/startDelay must be integer (got null)`,
      line(ref, '/spec/plugins/0/enabled', 'true', CLUSTER_CRD),
      line(ref, '/spec/plugins/0/isWALArchiver', 'false', CLUSTER_CRD),
      line(ref, '/spec/startDelay', '3600', CLUSTER_CRD),
    ]);
  });
});

describe('what is and is not checked', () => {
  const route = (): K8sObject => structuredClone(only(modelObjects(buildModel(staging)).map((o) => o.object), 'HTTPRoute', 'https-redirect'));

  test('a custom kind with no generated defaults is a problem, never a silent pass', () => {
    const widget = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'n' }, spec: {} };
    expect(defaultsProblems('staging', [widget])).toEqual([
      'staging: Widget n/w: defaults: no structural defaults of example.com/v1 Widget in imports/defaults/ (generate them with `npm run import`)',
    ]);
  });

  test('Kubernetes\' own kinds get their list items\' defaults from pipeline/core-defaults.ts, not from a CRD', () => {
    const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { template: { spec: { containers: [{ name: 'c', image: 'x:1' }] } } } };
    expect(defaultsProblems('staging', [deployment]).map((l) => l.slice(0, l.indexOf(': the API server')))).toEqual([
      'staging: Deployment d: defaults: /spec/template/spec/containers/0/imagePullPolicy',
      'staging: Deployment d: defaults: /spec/template/spec/containers/0/terminationMessagePath',
      'staging: Deployment d: defaults: /spec/template/spec/containers/0/terminationMessagePolicy',
    ]);
  });

  test('status is the controller\'s: not compared', () => {
    const o = route();
    o.status = { parents: [{ conditions: [] }] };
    expect(defaultsProblems('staging', [o])).toEqual([]);
  });

  test('the object itself is left as it was', () => {
    const o = route();
    delete o.spec.rules[0].matches;
    const before = structuredClone(o);
    expect(defaultsProblems('staging', [o])).toHaveLength(1);
    expect(o).toEqual(before);
  });
});

/** `npm run synth` on a copy of the repository whose HTTPRoute construct forgot the backends' weight. */
describe('npm run synth', () => {
  let work: string;
  const { edit } = copyEditor(() => work);
  beforeAll(() => {
    work = copyRepository('shipshape-crd-defaults-');
    for (const dir of ['dist', 'argocd']) cpSync(join(REPO, dir), join(work, dir), { recursive: true });
  });
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('refuses the output, lists each object and path, and writes nothing', () => {
    edit('charts/app/public-routes.ts', "port: SERVICE_PORT, weight: 1 }]", 'port: SERVICE_PORT }]');
    const before = { dist: readTree(join(work, 'dist')), argocd: readTree(join(work, 'argocd')) };
    const env = { ...process.env };
    for (const k of ['SHIPSHAPE_DEBUG', 'CDK8S_OUTDIR', 'NODE_OPTIONS']) delete env[k];
    const r = spawnSync(process.execPath, ['scripts/synth.mjs'], { cwd: work, env, encoding: 'utf8', timeout: 120_000 });
    const routes = [
      ['staging', 'student-portal-staging', 'portal-staging-university-example'],
      ['production', 'student-portal', 'portal-university-example'],
    ];
    const problems = routes.flatMap(([e, ns, name]) => [0, 1].map((i) =>
      line(`${e}: HTTPRoute ${ns}/${name}`, `/spec/rules/${i}/backendRefs/0/weight`, '1', HTTPROUTE_CRD)));
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
      status: 1,
      stdout: '',
      stderr: [`shipshape: nothing was written; fix these ${problems.length} problem(s):`, ...problems.map((p) => `  ${p}`), ''].join('\n'),
    });
    expect({ dist: readTree(join(work, 'dist')), argocd: readTree(join(work, 'argocd')) }).toEqual(before);
  }, 180_000);
});
