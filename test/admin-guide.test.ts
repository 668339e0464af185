/**
 * docs/admin-guide.md states facts of the code (the Argo CD release, the operators' waves, the
 * sync retries): they are checked against it here, so a change of one without the other fails.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARGOCD_VERSION, ROOT_WAVES } from '../charts/gitops/gitops-chart';
import { PLATFORM_RELEASES, type PlatformReleaseName } from '../charts/gitops/platform-releases';
import { SYNC_RETRY } from '../charts/gitops/sync-policy';

const GUIDE = readFileSync(join(process.cwd(), 'docs/admin-guide.md'), 'utf8');
const oneLine = GUIDE.replace(/\s+/g, ' ');

/** How the guide names each release in its list of waves. */
const NAMED: Record<PlatformReleaseName, string> = {
  'argo-cd': 'Argo CD itself', 'kube-prometheus-stack': 'kube-prometheus-stack', 'envoy-gateway': 'Envoy Gateway',
  'cert-manager': 'cert-manager', 'external-secrets': 'External Secrets', 'cloudnative-pg': 'CloudNativePG',
  'plugin-barman-cloud': 'its Barman Cloud plugin', loki: 'Loki', alloy: 'Alloy', 'trivy-operator': 'Trivy Operator',
  falcosidekick: 'Falcosidekick', falco: 'Falco',
};

test('the CRDs it installs are those of the Argo CD release that runs', () => {
  expect(GUIDE).toContain(`manifests/crds?ref=${ARGOCD_VERSION}`);
  expect(oneLine).toContain(`the Argo CD release that runs (${ARGOCD_VERSION.slice(1)})`);
});

test('the waves it lists are the root Application\'s', () => {
  const list = /projects \((-?\d+)\), then the operators wave by wave \((.*?)\), then the application's two Applications \(wave (-?\d+)\)/.exec(oneLine);
  expect(list).not.toBeNull();
  const [, projects, operators, application] = list as RegExpExecArray;
  expect(Number(projects)).toBe(ROOT_WAVES.projects);
  expect(Number(application)).toBe(ROOT_WAVES.application);
  expect(oneLine).toContain(`the platform namespaces (wave ${ROOT_WAVES.namespaces})`);
  // "A -8, B and C -6": every release named once, at its wave.
  const stated = new Map<string, number>();
  for (const [, names, wave] of operators.matchAll(/(.*?) (-?\d+)(?:, |$)/g)) {
    for (const name of names.split(/, | and /)) stated.set(name.replace(/ at$/, ''), Number(wave));
  }
  const expected = new Map((Object.keys(NAMED) as PlatformReleaseName[]).map((r) => [NAMED[r], PLATFORM_RELEASES[r].wave]));
  expect(Object.fromEntries(stated)).toEqual(Object.fromEntries(expected));
});

test('the retries it describes are the Applications\'', () => {
  const { limit, backoff } = SYNC_RETRY;
  expect(oneLine).toContain(`(${backoff.duration.replace('s', ' s')} doubling to ${backoff.maxDuration.replace('m', ' minutes')}, ${limit} times)`);
  expect(backoff.factor).toBe(2);
});
