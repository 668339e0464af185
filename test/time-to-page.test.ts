/**
 * From a failure to the page, for every critical alert of every environment, under 5 minutes:
 * the worst case of each term, read from the synthesized objects and the values Prometheus and
 * Alertmanager run with.
 * - scrape: the longest interval of any ServiceMonitor, PodMonitor or Probe of the output, and
 *   Prometheus' own default for the platform charts' monitors that set none (the operator's 30s:
 *   the Prometheus CRD, `scrapeInterval` "Default: 30s"; kube-prometheus-stack leaves it unset);
 * - evaluation: the interval of the alert's group, plus that of every group recording a series
 *   the alert reads (a recorded series is up to one of its group's intervals old);
 * - `for`;
 * - Alertmanager's group_wait before a new group's first notification.
 * An interval's worst case is a whole interval: the failure lands just after a scrape, and the
 * scrape just after an evaluation.
 */
import { ALERTMANAGER_TIMING } from '../charts/gitops/alertmanager-config';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { buildModel } from '../environments/model/model';
import { parseDuration } from '../environments/quantity';
import type { K8sObject } from '../pipeline/k8s-object';
import { argocdObjects, modelObjects } from '../pipeline/synth';
import { parsePromql } from './support/promql';
import { REPO } from './support/repository-copy';

/** The Prometheus operator's default scrape and evaluation interval (Prometheus CRD v0.93). */
const OPERATOR_DEFAULT_INTERVAL_S = 30;
const BUDGET_S = 5 * 60;

const seconds = (d: string | undefined, fallback: number) => (d === undefined || d === '' ? fallback : parseDuration(d));

const envs = resolveEnvironments(environments, REPO);

describe.each(envs.map((e) => [e.name, e] as const))('%s', (_name, env) => {
  const model = buildModel(env);
  const synthesized = modelObjects(model);
  const objects = synthesized.map((o) => o.object);
  const argocd = argocdObjects(model, synthesized);
  const monitors = objects.filter((o) => ['ServiceMonitor', 'PodMonitor', 'Probe'].includes(o.kind));
  const intervals = monitors.flatMap((m) => (m.kind === 'Probe' ? [m.spec.interval] : (m.spec.endpoints ?? m.spec.podMetricsEndpoints).map((e: K8sObject) => e.interval)));
  const scrapeS = Math.max(OPERATOR_DEFAULT_INTERVAL_S, ...intervals.map((i: string | undefined) => seconds(i, OPERATOR_DEFAULT_INTERVAL_S)));
  const groups = objects.filter((o) => o.kind === 'PrometheusRule').flatMap((r) => r.spec.groups as K8sObject[]);
  /** The interval of the group that records each series. */
  const recordedEvery = new Map(groups.flatMap((g) => (g.rules as K8sObject[]).filter((r) => r.record)
    .map((r) => [r.record as string, seconds(g.interval, OPERATOR_DEFAULT_INTERVAL_S)] as const)));
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
    const groupWaitS = seconds(ALERTMANAGER_TIMING.groupWait, NaN);
    const times = critical.map(({ group, rule }) => {
      const recordings = parsePromql(rule.expr as string).metricNames.map((n) => recordedEvery.get(n) ?? 0);
      const total = scrapeS + Math.max(0, ...recordings) + seconds(group.interval, OPERATOR_DEFAULT_INTERVAL_S) + seconds(rule.for, 0) + groupWaitS;
      return { alert: `${group.name}/${rule.alert}`, for: seconds(rule.for, 0), total };
    });
    // In seconds, every term counted: the longest is over its own `for` and the three 30 s terms.
    const longest = times.reduce((a, b) => (b.total > a.total ? b : a));
    expect(longest.total).toBeGreaterThanOrEqual(longest.for + 3 * OPERATOR_DEFAULT_INTERVAL_S);
    expect(times.filter((a) => !(a.total < BUDGET_S))).toEqual([]);
  });
});
