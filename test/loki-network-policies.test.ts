/**
 * Who can reach Loki, judged by the NetworkPolicy evaluator (test/support/network-policy-evaluator.ts)
 * on the policies synthesized into argocd/<env>/, with pods labelled as their charts label them.
 * Loki's gateway trusts the tenant a request names, so these policies are what keeps the audit
 * tenant from any pod of the cluster: the collector and Grafana reach the gateway, Prometheus the
 * metrics port, Loki's own pods each other, and nobody else anything.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repositoryRoot } from '../charts/common/shipped-files';
import { LOKI_PORTS, POD_APP_NAMES } from '../charts/gitops/loki-network-policies';
import { PLATFORM_RELEASES } from '../charts/gitops/platform-releases';
import { buildModel } from '../environments/model/model';
import type { K8sObject } from '../pipeline/k8s-object';
import { argocdObjects, modelObjects } from '../pipeline/synth';
import { shop, variant } from './support/fixtures';
import { chartDefaults } from './support/helm-values';
import { allowed, networkPolicyProblems, type Pod } from './support/network-policy-evaluator';

const SHARED = process.env.SHARED_DIR ?? join(repositoryRoot(), '..', 'shared');

const env = variant(shop);
const model = buildModel(env);
const objects = argocdObjects(model, modelObjects(model));
const LOKI_NS = PLATFORM_RELEASES.loki.namespace;
const policies = objects.filter((o: K8sObject) => o.kind === 'NetworkPolicy' && o.metadata.namespace === LOKI_NS);

const loki = { 'app.kubernetes.io/name': POD_APP_NAMES.loki, 'app.kubernetes.io/instance': 'loki' };
const P: Record<string, Pod> = {
  gateway: { namespace: LOKI_NS, labels: { ...loki, 'app.kubernetes.io/component': 'gateway' } },
  loki: { namespace: LOKI_NS, labels: { ...loki, 'app.kubernetes.io/component': 'single-binary' } },
  collector: { namespace: PLATFORM_RELEASES.alloy.namespace, labels: { 'app.kubernetes.io/name': POD_APP_NAMES.alloy, 'app.kubernetes.io/instance': 'alloy' } },
  grafana: { namespace: env.monitoringNamespace, labels: { 'app.kubernetes.io/name': POD_APP_NAMES.grafana, 'app.kubernetes.io/instance': 'kube-prometheus-stack' } },
  prometheus: { namespace: env.monitoringNamespace, labels: { 'app.kubernetes.io/name': POD_APP_NAMES.prometheus, prometheus: 'kube-prometheus-stack-prometheus' } },
  alertmanager: { namespace: env.monitoringNamespace, labels: { 'app.kubernetes.io/name': 'alertmanager' } },
  api: { namespace: env.app.namespace, labels: { 'app.kubernetes.io/name': 'api' } },
  // A pod that wears Grafana's labels in the wrong namespace is not Grafana.
  impostor: { namespace: env.app.namespace, labels: { 'app.kubernetes.io/name': POD_APP_NAMES.grafana } },
};
const MEMBERLIST = 7946;

test('three policies in Loki\'s namespace, each well formed, before Loki in the root\'s waves', () => {
  expect(policies.map((p) => p.metadata.name).sort()).toEqual(['loki-deny-ingress', 'loki-gateway-ingress', 'loki-metrics-ingress']);
  for (const p of policies) {
    expect(networkPolicyProblems(p)).toEqual([]);
    expect(Number(p.metadata.annotations['argocd.argoproj.io/sync-wave'])).toBeLessThan(PLATFORM_RELEASES.loki.wave);
    // Egress is Loki's to make (object storage, DNS, the API server, Alertmanager): never restricted here.
    expect(p.spec.policyTypes).toEqual(['Ingress']);
  }
  // The bootstrap project may hold them there.
  const bootstrap = objects.find((o) => o.kind === 'AppProject' && o.metadata.name === model.delivery.bootstrapProject) as K8sObject;
  expect(bootstrap.spec.destinations.map((d: { namespace: string }) => d.namespace)).toContain(LOKI_NS);
  expect(bootstrap.spec.namespaceResourceWhitelist).toContainEqual({ group: 'networking.k8s.io', kind: 'NetworkPolicy' });
});

test('the collector and Grafana reach the gateway; no application pod, and no other monitoring pod, does', () => {
  expect(allowed(policies, P.collector, P.gateway, LOKI_PORTS.gateway)).toBe(true);
  expect(allowed(policies, P.grafana, P.gateway, LOKI_PORTS.gateway)).toBe(true);
  for (const other of [P.api, P.impostor, P.alertmanager, P.prometheus]) {
    expect(allowed(policies, other, P.gateway, LOKI_PORTS.gateway)).toBe(false);
  }
  // Only the gateway's port: the collector cannot reach Loki around it.
  expect(allowed(policies, P.collector, P.loki, LOKI_PORTS.http)).toBe(false);
  expect(allowed(policies, P.grafana, P.loki, LOKI_PORTS.http)).toBe(false);
  expect(allowed(policies, P.api, P.loki, LOKI_PORTS.http)).toBe(false);
});

test('Prometheus scrapes Loki; Loki\'s own pods reach each other (the gateway its upstream, the replicas their memberlist)', () => {
  expect(allowed(policies, P.prometheus, P.loki, LOKI_PORTS.http)).toBe(true);
  expect(allowed(policies, P.prometheus, P.loki, MEMBERLIST)).toBe(false);
  expect(allowed(policies, P.gateway, P.loki, LOKI_PORTS.http)).toBe(true);
  expect(allowed(policies, P.loki, P.loki, MEMBERLIST)).toBe(true);
});

test('the ports and names are the pinned charts\'', () => {
  const values = chartDefaults('loki') as { gateway: { containerPort: number }; loki: { server: { http_listen_port: number } } };
  expect(LOKI_PORTS).toEqual({ gateway: values.gateway.containerPort, http: values.loki.server.http_listen_port });
  // Each chart's selector labels name the pods after the chart (nameOverride left alone).
  for (const [release, app] of [['loki', POD_APP_NAMES.loki], ['alloy', POD_APP_NAMES.alloy]] as const) {
    const chart = parse(readFileSync(join(SHARED, 'charts', `${PLATFORM_RELEASES[release].chart}-${PLATFORM_RELEASES[release].version}`, 'Chart.yaml'), 'utf8')) as { name: string };
    expect(chart.name).toBe(app);
    expect([undefined, null, '']).toContain((chartDefaults(release) as { nameOverride?: unknown }).nameOverride);
    const application = objects.find((o) => o.kind === 'Application' && o.metadata.name === release) as K8sObject;
    expect(application.spec.source.helm.valuesObject.nameOverride).toBeUndefined();
  }
});
