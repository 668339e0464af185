/** AppNamespace: the one namespace of an environment, with Pod Security Standards restricted enforced. */
import { Testing } from 'cdk8s';
import { AppNamespace } from '../charts/platform/app-namespace';
import { PlatformChart } from '../charts/platform/platform-chart';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { appIdentity } from '../environments/model/identity';
import type { Environment } from '../environments/schema';
import type { K8sObject } from '../pipeline/k8s-object';
import { synthObjects } from '../pipeline/synth';
import { boxDesigner, shop, variant, variantModel } from './support/fixtures';
import { only, synthConstruct } from './support/synth-construct';

function namespace(env: Environment, kubernetesVersion = env.kubernetesVersion): K8sObject {
  return only(synthConstruct((scope) => new AppNamespace(scope, 'namespace', { identity: appIdentity(env), kubernetesVersion })), 'Namespace');
}

const shopEnv = variant(shop);

test('named as configured', () => {
  expect(namespace(shopEnv).metadata.name).toBe('shop-test');
  expect(namespace(variant(boxDesigner)).metadata.name).toBe('box-designer');
});

test('restricted is enforced, audited and warned, pinned to the version it is given', () => {
  const { labels } = namespace(shopEnv, '1.33').metadata;
  for (const mode of ['enforce', 'audit', 'warn']) {
    expect(labels[`pod-security.kubernetes.io/${mode}`]).toBe('restricted');
    expect(labels[`pod-security.kubernetes.io/${mode}-version`]).toBe('v1.33');
  }
});

test('the platform chart pins the cluster\'s configured version', () => {
  const model = variantModel(shop, { kubernetesVersion: '1.32' });
  const ns = only(Testing.synth(new PlatformChart(Testing.app({ outdir: 'unused' }), 'platform', { model })), 'Namespace');
  expect(ns.metadata.name).toBe('shop-test');
  expect(ns.metadata.labels['pod-security.kubernetes.io/enforce-version']).toBe('v1.32');
});

test('carries the recommended labels', () => {
  expect(namespace(shopEnv).metadata.labels).toMatchObject({
    'app.kubernetes.io/name': 'shop-test',
    'app.kubernetes.io/instance': 'shop-shop',
    'app.kubernetes.io/component': 'namespace',
    'app.kubernetes.io/part-of': 'shop',
    'app.kubernetes.io/managed-by': 'shipshape',
  });
});

test('removing it from git never deletes it, and the data volumes with it', () => {
  expect(namespace(shopEnv).metadata.annotations['argocd.argoproj.io/sync-options']).toBe('Delete=false');
});

test('every namespaced object of the application, its platform and its policies lives in it', () => {
  for (const env of resolveEnvironments(environments, process.cwd())) {
    const namespaced = synthObjects(env).filter((o) => ['app', 'platform', 'security'].includes(o.chart))
      .map((o) => o.object).filter((o) => o.metadata.namespace !== undefined);
    expect(namespaced.length).toBeGreaterThan(0);
    expect([...new Set(namespaced.map((o) => o.metadata.namespace))]).toEqual([env.app.namespace]);
  }
});
