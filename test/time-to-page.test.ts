/**
 * From a failure to the page, for every critical alert of every environment, under 5 minutes:
 * the worst case of each term, read from the synthesized objects and the values Prometheus and
 * Alertmanager run with.
 * - scrape: the longest interval of any ServiceMonitor, PodMonitor or Probe of the output, of any
 *   monitor a platform chart renders (its values with ours merged over them: cert-manager's is 60s),
 *   and Prometheus' own default for those that set none (the operator's 30s: the Prometheus CRD,
 *   `scrapeInterval` "Default: 30s"; kube-prometheus-stack leaves it unset);
 * - evaluation: the interval of the alert's group, plus that of every group recording a series
 *   the alert reads (a recorded series is up to one of its group's intervals old);
 * - `for`;
 * - Alertmanager's group_wait before a new group's first notification, the longest of any route
 *   of the configuration it loads.
 * A critical alert that joins a group already notified (the same alert name and component) waits
 * for the group's interval instead: someone has been paged for that component already.
 * An interval's worst case is a whole interval: the failure lands just after a scrape, and the
 * scrape just after an evaluation.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PLATFORM_RELEASES, type PlatformReleaseName } from '../charts/gitops/platform-releases';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { buildModel } from '../environments/model/model';
import { parseDuration } from '../environments/quantity';
import type { K8sObject } from '../pipeline/k8s-object';
import { argocdObjects, modelObjects } from '../pipeline/synth';
import { chartDefaults, coalesce } from './support/helm-values';
import { parsePromql } from './support/promql';
import { REPO } from './support/repository-copy';

/** The Prometheus operator's default scrape and evaluation interval (Prometheus CRD v0.93). */
const OPERATOR_DEFAULT_INTERVAL_S = 30;
const BUDGET_S = 5 * 60;

const seconds = (d: string | undefined, fallback: number) => (d === undefined || d === '' ? fallback : parseDuration(d));

const envs = resolveEnvironments(environments, REPO);

/**
 * The platform releases whose monitors expose a metric: from the exporters' lists
 * (test/fixtures/metrics/<exporter>.txt), a list named after a release being that release's, and
 * kube-state-metrics, the kubelet and Prometheus kube-prometheus-stack's.
 */
const LISTS = join(REPO, 'test/fixtures/metrics');
const listed = readdirSync(LISTS).filter((f) => f.endsWith('.txt')).map((f) => ({
  release: f.replace(/\.txt$/, ''),
  names: new Set(readFileSync(join(LISTS, f), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))),
}));
const KUBE_PROMETHEUS_STACK_EXPORTERS = new Set(['kube-state-metrics', 'kubelet', 'prometheus']);
function exportersOf(metric: string): string[] {
  return listed.filter((l) => l.names.has(metric))
    .map((l) => (KUBE_PROMETHEUS_STACK_EXPORTERS.has(l.release) ? 'kube-prometheus-stack' : l.release));
}

/** The `interval`s set anywhere under a values key naming a monitor (`serviceMonitor`, `servicemonitor`, `podMonitor`…), seconds. */
function monitorIntervals(value: unknown, underMonitor = false): number[] {
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, v]) => {
    const monitor = underMonitor || /monitor/i.test(key);
    if (monitor && /^(interval|scrapeInterval)$/.test(key) && typeof v === 'string' && v !== '') return [seconds(v, OPERATOR_DEFAULT_INTERVAL_S)];
    return monitorIntervals(v, monitor);
  });
}

describe.each(envs.map((e) => [e.name, e] as const))('%s', (_name, env) => {
  const model = buildModel(env);
  const synthesized = modelObjects(model);
  const objects = synthesized.map((o) => o.object);
  const argocd = argocdObjects(model, synthesized);
  const monitors = objects.filter((o) => ['ServiceMonitor', 'PodMonitor', 'Probe'].includes(o.kind));
  const ownIntervals = monitors.flatMap((m) => (m.kind === 'Probe' ? [m.spec.interval] : (m.spec.endpoints ?? m.spec.podMetricsEndpoints).map((e: K8sObject) => e.interval)));
  const groups = objects.filter((o) => o.kind === 'PrometheusRule').flatMap((r) => r.spec.groups as K8sObject[]);
  /** The interval of the group that records each series. */
  const recordedEvery = new Map(groups.flatMap((g) => (g.rules as K8sObject[]).filter((r) => r.record)
    .map((r) => [r.record as string, seconds(g.interval, OPERATOR_DEFAULT_INTERVAL_S)] as const)));
  /** Every platform chart's values as Helm renders it: its defaults with the Application's over them. */
  const platformApplications = argocd.filter((o) => o.kind === 'Application' && Object.hasOwn(PLATFORM_RELEASES, o.metadata.name));
  /** Per platform release, the longest interval its chart's monitors scrape at. */
  const platformScrapeS = new Map(platformApplications.map((a) => {
    const values = coalesce(chartDefaults(a.metadata.name as PlatformReleaseName), a.spec.source.helm?.valuesObject ?? {});
    return [a.metadata.name as string, Math.max(OPERATOR_DEFAULT_INTERVAL_S, ...monitorIntervals(values))];
  }));
  const ownScrapeS = Math.max(OPERATOR_DEFAULT_INTERVAL_S, ...ownIntervals.map((i: string | undefined) => seconds(i, OPERATOR_DEFAULT_INTERVAL_S)));
  /** The scrape term of an expression: the slowest monitor any of its metrics can come from. */
  const scrapeOf = (metrics: readonly string[]) =>
    Math.max(ownScrapeS, ...metrics.flatMap((m) => exportersOf(m).map((e) => platformScrapeS.get(e) ?? OPERATOR_DEFAULT_INTERVAL_S)));
  const kpsValues = argocd.find((o) => o.kind === 'Application' && o.metadata.name === 'kube-prometheus-stack')?.spec.source.helm.valuesObject;
  const amConfig = coalesce((chartDefaults('kube-prometheus-stack').alertmanager as K8sObject).config, kpsValues.alertmanager.config) as K8sObject;
  const groupWaits = (route: K8sObject): number[] =>
    [seconds(route.group_wait, NaN), ...((route.routes ?? []) as K8sObject[]).flatMap(groupWaits)].filter((n) => !Number.isNaN(n));
  const critical = groups.flatMap((g) => (g.rules as K8sObject[]).filter((r) => r.alert && r.labels?.severity === 'critical').map((rule) => ({ group: g, rule })));

  test('the Prometheus it runs on leaves scrape and evaluation intervals at the operator\'s default, or faster', () => {
    const kps = argocd.find((o) => o.kind === 'Application' && o.metadata.name === 'kube-prometheus-stack');
    const spec = kps?.spec.source.helm.valuesObject.prometheus.prometheusSpec;
    expect(spec).toBeDefined();
    expect(seconds(spec.scrapeInterval, OPERATOR_DEFAULT_INTERVAL_S)).toBeLessThanOrEqual(OPERATOR_DEFAULT_INTERVAL_S);
    expect(seconds(spec.evaluationInterval, OPERATOR_DEFAULT_INTERVAL_S)).toBeLessThanOrEqual(OPERATOR_DEFAULT_INTERVAL_S);
  });

  test('every critical alert pages within 5 minutes of the failure', () => {
    expect(critical.length).toBeGreaterThan(0);
    const groupWaitS = Math.max(...groupWaits(amConfig.route));
    expect(groupWaitS).toBeGreaterThan(0);
    // cert-manager's monitor scrapes every minute, and its metrics' alerts count that.
    expect(scrapeOf(['certmanager_certificate_expiration_timestamp_seconds'])).toBe(60);
    const times = critical.map(({ group, rule }) => {
      const metrics = parsePromql(rule.expr as string).metricNames;
      const recordings = metrics.map((n) => recordedEvery.get(n) ?? 0);
      const total = scrapeOf(metrics) + Math.max(0, ...recordings) + seconds(group.interval, OPERATOR_DEFAULT_INTERVAL_S) + seconds(rule.for, 0) + groupWaitS;
      return { alert: `${group.name}/${rule.alert}`, for: seconds(rule.for, 0), total };
    });
    // In seconds, every term counted: the longest is over its own `for` and the three 30 s terms.
    const longest = times.reduce((a, b) => (b.total > a.total ? b : a));
    expect(longest.total).toBeGreaterThanOrEqual(longest.for + 3 * OPERATOR_DEFAULT_INTERVAL_S);
    expect(times.filter((a) => !(a.total < BUDGET_S))).toEqual([]);
  });
});
