/** AppNamespace: the one namespace of an environment, with Pod Security Standards restricted enforced. */
import { Chart, Testing } from 'cdk8s';
import type { K8sObject } from '../pipeline/k8s-object';
import { synthObjects } from '../pipeline/synth';
import { AppNamespace } from '../charts/platform/app-namespace';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import type { Environment } from '../environments/schema';

const envs = resolveEnvironments(environments, process.cwd());
const [stagingEnv, productionEnv] = envs;

/** Nothing is written, so the App's outdir is never created. */
function namespace(env: Environment): K8sObject {
  const chart = new Chart(Testing.app({ outdir: 'unused' }), 'test', { disableResourceNameHashes: true });
  new AppNamespace(chart, 'namespace', { env });
  return Testing.synth(chart)[0];
}

test('named as configured', () => {
  expect(namespace(productionEnv).metadata.name).toBe('student-portal');
  expect(namespace(stagingEnv).metadata.name).toBe('student-portal-staging');
});

test('restricted is enforced, audited and warned, pinned to the cluster\'s version', () => {
  const { labels } = namespace(productionEnv).metadata;
  for (const mode of ['enforce', 'audit', 'warn']) {
    expect(labels[`pod-security.kubernetes.io/${mode}`]).toBe('restricted');
    expect(labels[`pod-security.kubernetes.io/${mode}-version`]).toBe(`v${productionEnv.kubernetesVersion}`);
  }
});

test('carries the recommended labels', () => {
  expect(namespace(productionEnv).metadata.labels).toMatchObject({
    'app.kubernetes.io/name': 'student-portal',
    'app.kubernetes.io/instance': 'student-portal-production',
    'app.kubernetes.io/component': 'namespace',
    'app.kubernetes.io/part-of': 'student-portal',
    'app.kubernetes.io/managed-by': 'shipshape',
  });
});

test('removing it from git never deletes it, and the data volumes with it', () => {
  expect(namespace(productionEnv).metadata.annotations['argocd.argoproj.io/sync-options']).toBe('Delete=false');
});

test('every namespaced object of the application, its platform and its policies lives in it', () => {
  for (const env of envs) {
    const namespaced = synthObjects(env).filter((o) => ['app', 'platform', 'security'].includes(o.chart))
      .map((o) => o.object).filter((o) => o.metadata.namespace !== undefined);
    expect(namespaced.length).toBeGreaterThan(0);
    expect([...new Set(namespaced.map((o) => o.metadata.namespace))]).toEqual([env.app.namespace]);
  }
});
