/**
 * Every metric name a rule or a dashboard selects exists in what the deployed exporters expose: each name is in
 * the list of one exporter at its deployed version (test/fixtures/metrics/<exporter>.txt, each
 * saying where its names come from), or is recorded by a rule of the same output. A renamed
 * metric (an exporter upgrade, a typo) would otherwise give a rule that silently never fires.
 * Exporters that run on this machine are also scraped for real by their own suites.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DASHBOARD_LABEL } from '../charts/observability/dashboards/grafana-dashboard';
import { asSentToPrometheus } from '../charts/observability/dashboards/kit';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import type { K8sObject } from '../pipeline/k8s-object';
import { synthObjects } from '../pipeline/synth';
import { parsePromql } from './support/promql';
import { REPO } from './support/repository-copy';

const LISTS = join(REPO, 'test/fixtures/metrics');
/** Series Prometheus makes itself for every alerting rule. */
const PROMETHEUS_OWN = new Set(['ALERTS', 'ALERTS_FOR_STATE']);

interface MetricList { readonly file: string; readonly exporter: string; readonly source: string; readonly names: readonly string[] }

const lists: MetricList[] = readdirSync(LISTS).filter((f) => f.endsWith('.txt')).sort().map((file) => {
  const lines = readFileSync(join(LISTS, file), 'utf8').split('\n');
  const header = (key: string) => lines.find((l) => l.startsWith(`# ${key}: `))?.slice(key.length + 4).trim() ?? '';
  return { file, exporter: header('exporter'), source: header('source'), names: lines.filter((l) => l.trim() !== '' && !l.startsWith('#')).map((l) => l.trim()) };
});
const known = new Set(lists.flatMap((l) => l.names));

const envs = resolveEnvironments(environments, REPO);

/**
 * Every Prometheus panel query of the synthesized dashboards (the sidecar's ConfigMaps), as Prometheus
 * receives it. The logs dashboards' LogQL (Loki data sources) is checked by test/log-searches.test.ts.
 */
function dashboardQueries(objects: readonly K8sObject[]): { at: string; expr: string }[] {
  const panels = (list: K8sObject[]): K8sObject[] => list.flatMap((p) => (p.type === 'row' ? panels(p.panels ?? []) : [p]));
  return objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.[DASHBOARD_LABEL.key] === DASHBOARD_LABEL.value)
    .flatMap((cm) => Object.values(cm.data as Record<string, string>).flatMap((json) => {
      const dashboard = JSON.parse(json) as K8sObject;
      return panels(dashboard.panels ?? []).flatMap((p) => (p.targets ?? []).filter((t: K8sObject) => t.expr && t.datasource?.type !== 'loki')
        .map((t: K8sObject) => ({ at: `${dashboard.title}/${p.title}`, expr: asSentToPrometheus(t.expr as string) })));
    }));
}

/** Every rule of the PrometheusRules of an environment, with where it is. */
function rulesOf(objects: readonly K8sObject[]) {
  return objects.filter((o) => o.kind === 'PrometheusRule').flatMap((r) => (r.spec.groups as K8sObject[])
    .flatMap((g) => (g.rules as K8sObject[]).map((rule) => ({ at: `${r.metadata.name}/${g.name}/${rule.alert ?? rule.record}`, rule }))));
}

test.each(lists.map((l) => [l.file, l] as const))('%s says which exporter at which version, where its names come from, and lists valid metric names once', (_file, list) => {
  expect(list.exporter).toMatch(/\S+ \S+/);
  expect(list.source.length).toBeGreaterThan(20);
  expect(list.names.length).toBeGreaterThan(0);
  for (const name of list.names) expect(name).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
  expect(new Set(list.names).size).toBe(list.names.length);
});

describe.each(envs.map((e) => [e.name, e] as const))('%s', (_name, env) => {
  const objects = synthObjects(env).map((o) => o.object);
  const rules = rulesOf(objects);
  const recorded = new Set(rules.map((r) => r.rule.record).filter((r): r is string => typeof r === 'string'));
  const queries = dashboardQueries(objects);

  test('every rule\'s expression parses', () => {
    expect(rules.length).toBeGreaterThan(0);
    expect(rules.map((r) => [r.at, parsePromql(r.rule.expr as string).errors]).filter(([, e]) => e.length > 0)).toEqual([]);
  });

  test('every dashboard query parses, and every metric it selects is exposed by a deployed exporter or recorded by a rule', () => {
    expect(queries.length).toBeGreaterThan(20);
    expect(queries.map((q) => [q.at, parsePromql(q.expr).errors]).filter(([, e]) => e.length > 0)).toEqual([]);
    const unknown = queries.flatMap((q) => parsePromql(q.expr).metricNames.filter((n) => !known.has(n) && !recorded.has(n)).map((n) => `${q.at}: ${n}`));
    expect(unknown).toEqual([]);
  });

  test('every metric a rule selects is exposed by a deployed exporter or recorded by a rule', () => {
    const unknown = rules.flatMap((r) => parsePromql(r.rule.expr as string).metricNames
      .filter((n) => !known.has(n) && !recorded.has(n) && !PROMETHEUS_OWN.has(n)).map((n) => `${r.at}: ${n}`));
    expect(unknown).toEqual([]);
  });
});

test('the check itself: an unknown name and a broken expression are caught', () => {
  expect(parsePromql('sum(rate(envoy_cluster_upstream_rq_xx{a="b"}[5m])) / on() group_left {__name__="up"}').metricNames).toEqual(['envoy_cluster_upstream_rq_xx', 'up']);
  expect(parsePromql('sum(rate(foo[5m])').errors.length).toBeGreaterThan(0);
  expect(known.has('envoy_cluster_upstream_rq_xx_typo')).toBe(false);
});
