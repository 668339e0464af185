/**
 * The recommended labels (charts/common/labels.ts) and how the output uses them: every object
 * carries all five, selectors use only the two that never change, names are stable.
 */
import { appMetadata, MANAGED_BY, recommendedLabels } from '../charts/common/labels';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { appIdentity, selectorLabels } from '../environments/model/identity';
import type { Environment } from '../environments/schema';
import type { K8sObject } from '../pipeline/k8s-object';
import { podTemplate } from '../pipeline/policy';
import { synthObjects } from '../pipeline/synth';
import { boxDesigner, shop, variant } from './support/fixtures';

const envs = resolveEnvironments(environments, process.cwd());
const RECOMMENDED = ['name', 'instance', 'component', 'part-of', 'managed-by'].map((l) => `app.kubernetes.io/${l}`);
const shopIdentity = appIdentity(variant(shop));

test('the identity: the application, the application in this environment, and its namespace', () => {
  expect(shopIdentity).toEqual({ app: 'shop', instance: 'shop-shop', namespace: 'shop-test' });
  expect(appIdentity(variant(boxDesigner, { app: { namespace: 'boxes' } }))).toEqual({ app: 'box-designer', instance: 'box-designer-box-designer', namespace: 'boxes' });
});

test('selector labels are name and instance, and nothing that may change', () => {
  expect(selectorLabels(shopIdentity, 'api')).toEqual({
    'app.kubernetes.io/name': 'api',
    'app.kubernetes.io/instance': 'shop-shop',
  });
});

test('the instance tells environments apart', () => {
  expect(new Set(envs.map((env) => appIdentity(env).instance)).size).toBe(envs.length);
});

test('recommended labels add component, part-of and managed-by to the selector labels', () => {
  expect(recommendedLabels(shopIdentity, 'api', 'workload')).toEqual({
    ...selectorLabels(shopIdentity, 'api'),
    'app.kubernetes.io/component': 'workload',
    'app.kubernetes.io/part-of': 'shop',
    'app.kubernetes.io/managed-by': MANAGED_BY,
  });
});

test('appMetadata: the name, the namespace, and the labels of what the object is of', () => {
  expect(appMetadata(shopIdentity, { name: 'obj', labelName: 'api', component: 'workload' })).toEqual({
    name: 'obj', namespace: 'shop-test', labels: recommendedLabels(shopIdentity, 'api', 'workload'),
  });
  // Without a labelName the object is of itself.
  expect(appMetadata(shopIdentity, { name: 'obj', component: 'gateway' })).toEqual({
    name: 'obj', namespace: 'shop-test', labels: recommendedLabels(shopIdentity, 'obj', 'gateway'),
  });
});

/** Every object of an environment: the real ones, and the second application (no Redis). */
const outputs: [string, Environment][] = [...envs, variant(boxDesigner)].map((env) => [env.name, env]);

describe.each(outputs)('%s output', (_, env) => {
  const objects = synthObjects(env).map((o) => o.object);

  test('every object and every pod template carries the five recommended labels', () => {
    const missing = objects.flatMap((o) => {
      const label = `${o.kind} ${o.metadata.name}`;
      const own = RECOMMENDED.filter((l) => !o.metadata.labels?.[l]).map((l) => `${label}: ${l}`);
      const template = podTemplate(o);
      const pods = template ? RECOMMENDED.filter((l) => !template.metadata?.labels?.[l]).map((l) => `${label} pods: ${l}`) : [];
      return [...own, ...pods];
    });
    expect(missing).toEqual([]);
  });

  test('selectors hold on name and instance, never on a label that may change or the cdk8s hash', () => {
    const selectors: [string, Record<string, string>][] = [];
    for (const o of objects) {
      const at = `${o.kind} ${o.metadata.name}`;
      if (o.kind === 'Service') selectors.push([at, o.spec.selector]);
      if (['Deployment', 'StatefulSet', 'PodDisruptionBudget'].includes(o.kind)) selectors.push([at, o.spec.selector.matchLabels]);
      if (o.kind === 'ServiceMonitor') selectors.push([at, o.spec.selector.matchLabels]);
      // A spread over several of our workloads (the uptime probers) names them in a set: `app.kubernetes.io/name In (…)`.
      for (const t of podTemplate(o)?.spec.topologySpreadConstraints ?? []) {
        const names = (t.labelSelector.matchExpressions ?? []).filter((e: K8sObject) => e.key === 'app.kubernetes.io/name' && e.operator === 'In');
        selectors.push([`${at} spread`, { ...t.labelSelector.matchLabels, ...(names.length === 1 ? { 'app.kubernetes.io/name': names[0].values.join(',') } : {}) }]);
      }
    }
    expect(selectors.length).toBeGreaterThan(0);
    const mutable = ['component', 'part-of', 'managed-by'].map((l) => `app.kubernetes.io/${l}`);
    for (const [at, labels] of selectors) {
      const keys = Object.keys(labels);
      expect([at, keys.filter((k) => mutable.includes(k) || k.startsWith('cdk8s.io/'))]).toEqual([at, []]);
      // Pods an operator creates are selected by the operator's own stable label (cnpg.io/…).
      const ours = labels['app.kubernetes.io/name'] !== undefined && labels['app.kubernetes.io/instance'] === appIdentity(env).instance;
      const operators = keys.length > 0 && keys.every((k) => k.startsWith('cnpg.io/'));
      expect([at, ours || operators]).toEqual([at, true]);
    }
    expect(JSON.stringify(objects)).not.toContain('cdk8s.io/metadata.addr');
  });

  test('names are the human ones, with no hash suffix', () => {
    const names = objects.map((o: K8sObject) => o.metadata.name as string);
    for (const name of names) expect(name).not.toMatch(/-(?=[a-z0-9]*\d)[a-z0-9]{8}$/);
    const ours = [...Object.keys(env.services), env.app.name, env.app.namespace, 'https-redirect', 'default-deny', 'allow-dns'];
    for (const name of ours) expect(names).toContain(name);
  });
});
