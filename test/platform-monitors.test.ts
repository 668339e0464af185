/**
 * Every platform release is scraped, or says why not. For each release of
 * charts/gitops/platform-releases.ts, either the values Helm would use (the chart's values.yaml in
 * ../shared/charts with the values of its synthesized Argo CD Application merged over them) turn
 * on the chart's own ServiceMonitors or PodMonitors, or it is listed here with the reason it has
 * none, and that reason is checked. Which Service and port each chart's monitor selects was read
 * from the chart's templates at the pinned commit (the SOURCE of each chart), and is written next
 * to it. Prometheus selects monitors of every namespace, with or without a release label
 * (kube-prometheus-stack's values, test/platform-values.test.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { repositoryRoot } from '../charts/common/shipped-files';
import { PLATFORM_RELEASES, releaseNamespace, type PlatformReleaseName } from '../charts/gitops/platform-releases';
import { ENVOY_GATEWAY_METRICS_PORT, ENVOY_GATEWAY_MONITOR, ENVOY_GATEWAY_RELEASE } from '../charts/observability/envoy-gateway-monitor';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { buildModel } from '../environments/model/model';
import { dataEndpoints } from '../environments/model/names';
import type { Environment } from '../environments/schema';
import type { K8sObject } from '../pipeline/k8s-object';
import { argocdObjects, modelObjects } from '../pipeline/synth';
import { coalesce } from './support/helm-values';

const CHARTS = join(process.env.SHARED_DIR ?? resolve(repositoryRoot(), '..', 'shared'), 'charts');
const envs = resolveEnvironments(environments, process.cwd());
const NAMES = Object.keys(PLATFORM_RELEASES) as PlatformReleaseName[];

type Json = Record<string, unknown>;
const isMap = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);


const at = (values: unknown, path: string) => path.split('.').reduce<unknown>((v, key) => (isMap(v) ? v[key] : undefined), values);

/** Every key of a values document, at any depth. */
const keysOf = (values: unknown): string[] => (isMap(values) ? Object.entries(values).flatMap(([k, v]) => [k, ...keysOf(v)]) : []);

const defaults = new Map<PlatformReleaseName, Json>();
/** A chart's values.yaml (a fresh copy: callers may merge into it). */
function chartDefaults(name: PlatformReleaseName): Json {
  if (!defaults.has(name)) {
    const { chart, version } = PLATFORM_RELEASES[name];
    const file = join(CHARTS, `${chart}-${version}`, 'values.yaml');
    if (!existsSync(file)) throw new Error(`${file} is missing: point SHARED_DIR at the pinned charts`);
    defaults.set(name, parse(readFileSync(file, 'utf8')) as Json);
  }
  return structuredClone(defaults.get(name) as Json);
}

/** A monitor the chart renders when the values at `on` are all true. */
interface ChartMonitor {
  readonly on: readonly string[];
  /** What it selects, as the chart's templates at its pinned commit say. */
  readonly selects: string;
}

type Scraping =
  | { readonly monitors: readonly ChartMonitor[] }
  | { readonly none: string; readonly check: (env: Environment, objects: readonly K8sObject[], values: Json) => void };

/** One entry per release: a Record, so a release added without one does not compile. */
const SCRAPING: Readonly<Record<PlatformReleaseName, Scraping>> = {
  'argo-cd': {
    monitors: ['controller', 'server', 'repoServer', 'applicationSet', 'notifications'].map((c) => ({
      on: [`${c}.metrics.enabled`, `${c}.metrics.serviceMonitor.enabled`],
      // templates/argocd-*/servicemonitor.yaml, rendered once the cluster serves monitoring.coreos.com/v1
      // (Argo CD re-renders with the cluster's API versions after kube-prometheus-stack's wave).
      selects: `the Service <fullname>-${c}-metrics (templates/…/metrics.yaml), port http-metrics (controller 8082, server 8083, repo-server 8084, `
        + 'applicationset 8080, notifications 9001)',
    })),
  },
  'cert-manager': {
    monitors: [{
      on: ['prometheus.enabled', 'prometheus.servicemonitor.enabled'],
      selects: 'the Services cert-manager, cert-manager-cainjector and cert-manager-webhook (templates/servicemonitor.yaml, service.yaml), targetPort '
        + 'http-metrics (9402); honorLabels false',
    }],
  },
  'external-secrets': {
    monitors: [{
      on: ['serviceMonitor.enabled'],
      selects: 'the Services external-secrets-metrics, external-secrets-webhook-metrics and external-secrets-cert-controller-metrics '
        + '(templates/servicemonitor.yaml), port metrics (8080); honorLabels false',
    }],
  },
  'kube-prometheus-stack': {
    // The chart's defaults: the stack watches itself and the cluster (kubelet, API server, kube-state-metrics).
    monitors: [
      'prometheus.serviceMonitor.selfMonitor', 'alertmanager.serviceMonitor.selfMonitor', 'prometheusOperator.serviceMonitor.selfMonitor',
      'grafana.serviceMonitor.enabled', 'kube-state-metrics.prometheus.monitor.enabled', 'kubelet.serviceMonitor.enabled', 'kubeApiServer.serviceMonitor.enabled',
    ].map((path) => ({ on: [path], selects: 'the component\'s own Service (templates/…/servicemonitor.yaml)' })),
  },
  'envoy-gateway': {
    none: 'gateway-helm v1.9.0 has no ServiceMonitor or PodMonitor template; the controller\'s pods, container port metrics (19001, '
      + 'plain HTTP /metrics), are scraped by the observability chart\'s PodMonitor (charts/observability/envoy-gateway-monitor.ts)',
    check: (env, objects, values) => {
      expect(keysOf(chartDefaults('envoy-gateway')).filter((k) => /monitor/i.test(k))).toEqual([]);
      // The controller container's ports are `deployment.ports` (templates/envoy-gateway-deployment.yaml).
      expect((at(values, 'deployment.ports') as Json[]).find((p) => p.name === ENVOY_GATEWAY_METRICS_PORT)).toMatchObject({ port: 19001 });
      const monitor = objects.find((o) => o.kind === 'PodMonitor' && o.metadata.name === ENVOY_GATEWAY_MONITOR);
      const configured = { argocd: env.delivery.namespace, monitoring: env.monitoringNamespace, gateway: env.gateway.proxyNamespace };
      expect(monitor?.spec.namespaceSelector).toEqual({ matchNames: [releaseNamespace(PLATFORM_RELEASES[ENVOY_GATEWAY_RELEASE], configured)] });
      // The pod template's labels: control-plane and the chart's selector labels, instance = release name.
      expect(monitor?.spec.selector.matchLabels).toEqual({ 'control-plane': 'envoy-gateway', 'app.kubernetes.io/instance': ENVOY_GATEWAY_RELEASE });
      expect(PLATFORM_RELEASES[ENVOY_GATEWAY_RELEASE].chart).toBe('gateway-helm');
      expect(monitor?.spec.podMetricsEndpoints).toEqual([{ port: ENVOY_GATEWAY_METRICS_PORT, path: '/metrics', interval: '30s' }]);
    },
  },
  'cloudnative-pg': {
    monitors: [{ on: ['monitoring.podMonitorEnabled'], selects: 'the operator\'s pods (templates/podmonitor.yaml), container port metrics (8080)' }],
  },
  'plugin-barman-cloud': {
    none: 'the plugin\'s Deployment serves no metrics (`--metrics-bind-address` defaults to 0; the chart has no port or monitor for it); '
      + 'its backup metrics (barman_cloud_cloudnative_pg_io_*) come from its sidecar through each PostgreSQL instance\'s exporter, '
      + 'which the data chart\'s PodMonitor of the Cluster scrapes',
    check: (env, objects, values) => {
      expect(keysOf(chartDefaults('plugin-barman-cloud')).filter((k) => /monitor|metric/i.test(k))).toEqual([]);
      expect(JSON.stringify(at(values, 'additionalArgs'))).not.toContain('metrics-bind-address');
      const postgres = dataEndpoints(env).postgres;
      if (!postgres) return;
      const podMonitors = objects.filter((o) => o.kind === 'PodMonitor' && o.metadata.namespace === env.app.namespace);
      expect(podMonitors.map((m) => m.spec.selector.matchLabels)).toContainEqual(postgres.instancePodLabels);
    },
  },
  loki: {
    monitors: [{ on: ['monitoring.serviceMonitor.enabled'], selects: 'the release\'s Services not labelled prometheus.io/service-monitor: "false" (templates/monitoring/servicemonitor.yaml), port http-metrics (3100)' }],
  },
  alloy: {
    monitors: [{ on: ['service.enabled', 'serviceMonitor.enabled'], selects: 'the Service alloy (templates/servicemonitor.yaml), port http-metrics (12345)' }],
  },
  'trivy-operator': {
    monitors: [{
      on: ['serviceMonitor.enabled', 'operator.metricsFindingsEnabled', 'serviceMonitor.honorLabels'],
      selects: 'the Service trivy-operator (templates/monitor/), port metrics (80 → 8080); honorLabels true, which the platform alerts rely on',
    }],
  },
  falcosidekick: {
    monitors: [{ on: ['serviceMonitor.enabled'], selects: 'the Service falcosidekick (templates/servicemonitor.yaml), port http (2801), /metrics' }],
  },
  falco: {
    monitors: [{
      on: ['metrics.enabled', 'metrics.service.create', 'serviceMonitor.create'],
      selects: 'the Service falco-metrics (templates/service.yaml, serviceMonitor.yaml), port metrics (8765); honorLabels true',
    }],
  },
};

test('every platform release has an entry, and nothing else does', () => {
  expect(Object.keys(SCRAPING).sort()).toEqual([...NAMES].sort());
});

describe.each(envs.map((e) => [e.name, e] as const))('%s', (_name, env) => {
  const model = buildModel(env);
  const objects = modelObjects(model);
  const applications = argocdObjects(model, objects).filter((o) => o.kind === 'Application');
  /** The values Helm renders a release's chart with: its defaults, and the Application's values over them. */
  const valuesOf = (name: PlatformReleaseName) => {
    const app = applications.find((a) => a.metadata.name === name);
    expect(app?.spec.source.chart).toBe(PLATFORM_RELEASES[name].chart);
    return coalesce(chartDefaults(name), app?.spec.source.helm.valuesObject ?? {}) as Json;
  };

  const scraped = NAMES.filter((n) => 'monitors' in SCRAPING[n]);
  test.each(scraped)('%s: the values turn on the chart\'s monitors', (name) => {
    const values = valuesOf(name);
    const entry = SCRAPING[name] as { monitors: readonly ChartMonitor[] };
    expect(entry.monitors.length).toBeGreaterThan(0);
    for (const m of entry.monitors) for (const path of m.on) expect([path, at(values, path)]).toEqual([path, true]);
  });

  const unscraped = NAMES.filter((n) => 'none' in SCRAPING[n]);
  test.each(unscraped)('%s: has no monitor of its own, for the reason given', (name) => {
    const entry = SCRAPING[name] as Extract<Scraping, { none: string }>;
    expect(entry.none.length).toBeGreaterThan(40);
    entry.check(env, objects.map((o) => o.object), valuesOf(name));
  });
});

test('the check itself: a monitor switched off, or left at a chart default of off, is caught', () => {
  const defaults = chartDefaults('cert-manager');
  expect(at(coalesce(defaults, { prometheus: { enabled: true, servicemonitor: { enabled: false } } }), 'prometheus.servicemonitor.enabled')).toBe(false);
  expect(at(coalesce(defaults, {}), 'prometheus.servicemonitor.enabled')).toBe(false);
  expect(at(coalesce(chartDefaults('falcosidekick'), {}), 'serviceMonitor.enabled')).toBe(false);
  expect(at(coalesce(chartDefaults('trivy-operator'), { serviceMonitor: { honorLabels: false } }), 'serviceMonitor.honorLabels')).toBe(false);
});
