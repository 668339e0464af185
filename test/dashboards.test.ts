/**
 * The Grafana dashboards (charts/observability/dashboards) as each environment synthesizes them,
 * read back from the files Argo CD applies: ConfigMaps that the Grafana sidecar of the deployed
 * kube-prometheus-stack picks up (its label, in the application's namespace), holding dashboard
 * JSON that Grafana accepts (unique UIDs, titles and panel ids; the Prometheus data source from
 * a variable) and whose every query parses, with Prometheus' web UI parser (lezer-promql) and
 * with Prometheus' own (promtool). The SLO dashboard reads exactly what the SLO rules record; the
 * other dashboards follow the model (routes, services, backup CronJobs, HPAs), and PostgreSQL,
 * Redis and backups have a dashboard only where the application has them.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { parse } from 'yaml';
import { repositoryRoot } from '../charts/common/shipped-files';
import { PLATFORM_RELEASES } from '../charts/gitops/platform-releases';
import { environmentDashboards } from '../charts/observability/dashboards/environment-dashboards';
import { DASHBOARD_LABEL, FOLDER_ANNOTATION } from '../charts/observability/dashboards/grafana-dashboard';
import {
  asSentToPrometheus, dashboardExpressions, dashboardUid, DATASOURCE_VARIABLE, matcher, MAX_UID_LENGTH, panelsOf,
} from '../charts/observability/dashboards/kit';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { buildModel } from '../environments/model/model';
import type { Environment } from '../environments/schema';
import type { K8sObject } from '../pipeline/k8s-object';
import { synthesizeEnvironment, type EnvironmentResult } from '../pipeline/synth';
import { boxDesigner, boxDesignerPostgresOnly, boxDesignerWithoutData, shop, variant } from './support/fixtures';
import { parsePromql } from './support/promql';
import { promtool } from './support/promtool';

const envs = resolveEnvironments(environments, process.cwd());
const SHARED = process.env.SHARED_DIR ?? resolve(repositoryRoot(), '..', 'shared');

/** kubectl's client-side apply (Argo CD's default) copies the object into an annotation; all annotations together may not exceed 256 KiB. */
const ANNOTATIONS_LIMIT = 256 * 1024;

interface Shipped {
  readonly configMap: K8sObject;
  readonly dashboard: Dashboard;
}

/** The dashboard ConfigMaps of an environment, as the files under dist/<env>/ hold them. */
function shippedDashboards(result: EnvironmentResult): Shipped[] {
  return [...result.files.entries()]
    .filter(([file]) => file.startsWith('observability/configmap-'))
    .map(([, text]) => parse(text) as K8sObject)
    .filter((o) => o.metadata.labels?.[DASHBOARD_LABEL.key] !== undefined)
    .map((configMap) => {
      const values = Object.values(configMap.data ?? {}) as string[];
      return { configMap, dashboard: JSON.parse(values[0]) as Dashboard };
    });
}

const kindsOf = (shipped: readonly Shipped[]) => shipped.map((s) => s.configMap.metadata.name.replace(/^grafana-dashboard-/, '')).sort();
const byKind = (shipped: readonly Shipped[], kind: string) => {
  const found = shipped.find((s) => s.configMap.metadata.name === `grafana-dashboard-${kind}`);
  if (!found) throw new Error(`no ${kind} dashboard`);
  return found.dashboard;
};
/** Every query target of a dashboard, read from the JSON itself (not through the code under test). */
const targetsOf = (d: Dashboard) => (d.panels ?? []).flatMap((p: any) => [p, ...(p.panels ?? [])]).flatMap((p: any) => p.targets ?? []);
/** The values a label is matched against in a set of expressions (`label="value"`). */
const labelValues = (exprs: readonly string[], label: string) =>
  [...new Set(exprs.flatMap((e) => [...e.matchAll(new RegExp(`[{,]${label}="([^"]+)"`, 'g'))].map((m) => m[1])))].sort();

describe.each(envs.map((e) => [e.name, e] as const))('%s', (_name, env) => {
  let result: EnvironmentResult;
  let shipped: Shipped[];
  beforeAll(async () => {
    result = await synthesizeEnvironment(env);
    shipped = shippedDashboards(result);
  });
  const objects = (kind: string) => result.objects.filter((o) => o.kind === kind);

  test('a dashboard ConfigMap of each kind the application needs, in its namespace, labelled for the sidecar and in one folder', () => {
    // Both environments have PostgreSQL, Redis and uploaded files (the fixtures below cover the rest).
    expect(kindsOf(shipped)).toEqual(['backups', 'capacity', 'postgresql', 'redis', 'services', 'slo']);
    for (const { configMap, dashboard } of shipped) {
      expect(configMap.metadata.namespace).toBe(env.app.namespace);
      expect(configMap.metadata.labels[DASHBOARD_LABEL.key]).toBe(DASHBOARD_LABEL.value);
      expect(configMap.metadata.annotations[FOLDER_ANNOTATION]).toBe(`${env.app.name}-${env.name}`);
      expect(Object.keys(configMap.data)).toEqual([`${dashboard.uid}.json`]);
    }
  });

  test('the gate (strict schema, policy) finds nothing wrong with the dashboard ConfigMaps', () => {
    expect(shipped.length).toBeGreaterThan(0);
    const ours = shipped.map((s) => `ConfigMap ${s.configMap.metadata.namespace}/${s.configMap.metadata.name}:`);
    expect(result.problems.filter((p) => ours.some((o) => p.includes(o)))).toEqual([]);
  });

  test('the deployed Grafana loads them: its dashboards sidecar is on, watches every namespace, selects this label and reads this folder annotation', () => {
    const release = PLATFORM_RELEASES['kube-prometheus-stack'];
    const upstream = parse(readFileSync(join(SHARED, 'charts', `${release.chart}-${release.version}`, 'values.yaml'), 'utf8'));
    const application = result.argocdObjects.find((o) => o.kind === 'Application' && o.metadata.name === 'kube-prometheus-stack');
    const ours = application?.spec.source.helm.valuesObject.grafana;
    expect(ours?.enabled).toBe(true);
    const sidecar = { ...upstream.grafana.sidecar.dashboards, ...ours.sidecar.dashboards };
    expect(sidecar.enabled).toBe(true);
    expect(sidecar.searchNamespace).toBe('ALL');
    expect(sidecar.label).toBe(DASHBOARD_LABEL.key);
    expect(String(sidecar.labelValue)).toBe(DASHBOARD_LABEL.value);
    // Unset, the sidecar reads its default annotation (FOLDER_ANNOTATION); set, it would read another one.
    expect(sidecar.folderAnnotation).toBeUndefined();
  });

  test('Grafana accepts the dashboards: UIDs and titles unique, panel ids and titles unique, the data source only from the variable', () => {
    const dashboards = shipped.map((s) => s.dashboard);
    expect(new Set(dashboards.map((d) => d.uid)).size).toBe(dashboards.length);
    expect(new Set(dashboards.map((d) => d.title)).size).toBe(dashboards.length);
    for (const d of dashboards) {
      expect(d.uid?.length).toBeLessThanOrEqual(MAX_UID_LENGTH);
      expect(d.uid).toMatch(/^[a-zA-Z0-9_-]+$/);
      expect(d.title).toContain(env.name);
      const all = (d.panels ?? []).flatMap((p: any) => [p, ...(p.panels ?? [])]);
      const ids = all.map((p: any) => p.id);
      expect(ids.every((id) => Number.isInteger(id))).toBe(true);
      expect(new Set(ids).size).toBe(ids.length);
      const titles = all.map((p: any) => p.title);
      expect(titles.every((t) => typeof t === 'string' && t.length > 0)).toBe(true);
      expect(new Set(titles).size).toBe(titles.length);
      const variables = d.templating.list ?? [];
      expect(variables).toContainEqual(expect.objectContaining({ type: 'datasource', name: DATASOURCE_VARIABLE, query: 'prometheus' }));
      const byVariable = { type: 'prometheus', uid: `\${${DATASOURCE_VARIABLE}}` };
      for (const p of all.filter((x: any) => x.targets)) {
        expect(p.datasource).toEqual(byVariable);
        for (const t of p.targets) expect(t.datasource).toEqual(byVariable);
      }
      // A panel's queries are told apart by refId.
      for (const p of all.filter((x: any) => x.targets)) expect(new Set(p.targets.map((t: any) => t.refId)).size).toBe(p.targets.length);
    }
  });

  test('every query parses, with lezer-promql and with promtool, once Grafana has put in its variables', () => {
    const exprs = shipped.flatMap((s) => dashboardExpressions(s.dashboard));
    // dashboardExpressions is what the metric-name test reads: it must give every query there is.
    expect(exprs.length).toBe(shipped.flatMap((s) => targetsOf(s.dashboard)).length);
    expect(exprs.length).toBeGreaterThan(100);
    const sent = exprs.map(asSentToPrometheus);
    for (const [i, e] of sent.entries()) {
      expect({ expr: exprs[i], variables: e.match(/\$\S*/g) ?? [] }).toEqual({ expr: exprs[i], variables: [] });
      const parsed = parsePromql(e);
      expect({ expr: e, errors: parsed.errors }).toEqual({ expr: e, errors: [] });
      expect(parsed.metricNames.length).toBeGreaterThan(0);
    }
    const unique = [...new Set(sent)];
    const rules = { groups: [{ name: 'dashboards', rules: unique.map((expr, i) => ({ record: `dashboard:query_${i}`, expr })) }] };
    const check = promtool(['check', 'rules', 'rules.yaml'], { 'rules.yaml': rules });
    expect(check.output).toMatch(new RegExp(`SUCCESS: ${unique.length} rules found`));
    expect(check.status).toBe(0);
  });

  test('the SLO dashboard reads exactly the series the SLO rules record, for exactly their objectives', () => {
    const sloRules = objects('PrometheusRule').filter((r) => r.metadata.name.endsWith('-slo'));
    const records = sloRules.flatMap((r) => r.spec.groups.flatMap((g: any) => g.rules.filter((x: any) => x.record)));
    expect(records.length).toBeGreaterThan(0);
    const exprs = dashboardExpressions(byKind(shipped, 'slo'));
    const read = [...new Set(exprs.flatMap((e) => parsePromql(e).metricNames))].sort();
    expect(read).toEqual([...new Set(records.map((r: any) => r.record as string))].sort());
    const objectives = (pairs: readonly string[]) => [...new Set(pairs)].sort();
    expect(objectives(exprs.flatMap((e) => [...e.matchAll(/namespace="([^"]+)",service="([^"]+)",slo="([^"]+)"/g)].map((m) => `${m[1]} ${m[2]} ${m[3]}`))))
      .toEqual(objectives(records.map((r: any) => `${r.labels.namespace} ${r.labels.service} ${r.labels.slo}`)));
  });

  test('the service overview has a series for every rule of every synthesized HTTPRoute and panels for every service\'s Deployment', () => {
    const exprs = dashboardExpressions(byKind(shipped, 'services'));
    const clusters = objects('HTTPRoute')
      .filter((r) => r.spec.rules.some((rule: any) => rule.backendRefs))
      .flatMap((r) => r.spec.rules.map((_: unknown, i: number) => `httproute/${r.metadata.namespace}/${r.metadata.name}/rule/${i}`));
    expect(clusters.length).toBeGreaterThan(0);
    for (const c of clusters) expect(exprs.some((e) => e.includes(`{${matcher('envoy_cluster_name', [c])}}`))).toBe(true);
    // The services' Deployments (component `workload`), not the monitoring ones beside them.
    // The services' Deployments: a worker serves no requests (the capacity dashboard has it).
    const services = objects('Deployment').filter((d) => d.metadata.labels['app.kubernetes.io/component'] === 'workload' && !Object.hasOwn(env.workers, d.metadata.name));
    expect(Object.keys(env.workers).length).toBeGreaterThan(0);
    expect(services.length).toBe(Object.keys(env.services).length);
    expect(labelValues(exprs, 'deployment')).toEqual(services.map((d) => d.metadata.name).sort());
  });

  test('the backups dashboard follows every backup CronJob, and capacity planning every HPA', () => {
    const backups = dashboardExpressions(byKind(shipped, 'backups'));
    const component = (kind: string, name: string) => objects(kind).filter((o) => o.metadata.labels['app.kubernetes.io/component'] === name);
    expect(component('CronJob', 'backup').length).toBeGreaterThan(0);
    expect(labelValues(backups, 'cronjob')).toEqual(component('CronJob', 'backup').map((c) => c.metadata.name).sort());
    const capacity = dashboardExpressions(byKind(shipped, 'capacity'));
    expect(labelValues(capacity, 'horizontalpodautoscaler')).toEqual(component('HorizontalPodAutoscaler', 'workload').map((h) => h.metadata.name).sort());
  });

  test('each ConfigMap stays below what client-side apply can annotate, and the same code gives the same JSON, with no timestamp', () => {
    for (const { configMap } of shipped) expect(JSON.stringify(configMap).length).toBeLessThan(ANNOTATIONS_LIMIT / 2);
    const again = environmentDashboards(buildModel(env)).map((d) => JSON.parse(JSON.stringify(d.dashboard)));
    expect(again).toEqual(shipped.map((s) => s.dashboard));
    for (const { dashboard } of shipped) expect(JSON.stringify(dashboard)).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:/);
  });
});

const fixtures: [string, Environment, string[]][] = [
  ['shop (PostgreSQL, Redis, uploaded files; fixed replicas)', variant(shop), ['backups', 'capacity', 'postgresql', 'redis', 'services', 'slo']],
  ['box designer (PostgreSQL and uploaded files, no Redis)', variant(boxDesigner), ['backups', 'capacity', 'postgresql', 'services', 'slo']],
  ['box designer with PostgreSQL only', boxDesignerPostgresOnly(), ['backups', 'capacity', 'postgresql', 'services', 'slo']],
  ['box designer without data', boxDesignerWithoutData(), ['capacity', 'services', 'slo']],
];

describe.each(fixtures)('%s', (_name, env, kinds) => {
  let result: EnvironmentResult;
  let shipped: Shipped[];
  beforeAll(async () => {
    result = await synthesizeEnvironment(env);
    shipped = shippedDashboards(result);
  });

  test('dashboards only for what the application has, and every query parses', () => {
    expect(kindsOf(shipped)).toEqual(kinds);
    const exprs = shipped.flatMap((s) => dashboardExpressions(s.dashboard)).map(asSentToPrometheus);
    for (const e of exprs) expect({ expr: e, errors: parsePromql(e).errors }).toEqual({ expr: e, errors: [] });
    const capacity = panelsOf(byKind(shipped, 'capacity')).map((p) => p.title);
    // Volumes only where there are some; replicas from the HPA or the fixed count, as configured.
    const hasVolumes = Boolean(env.data.postgres || env.data.redis || env.data.uploads);
    expect(capacity.some((t) => t?.startsWith('Volume used'))).toBe(hasVolumes);
    for (const [service, config] of Object.entries(env.services)) {
      expect(capacity).toContain(config.autoscaling ? `${service}: replicas and HPA bounds` : `${service}: replicas`);
    }
    const backups = shipped.find((s) => s.configMap.metadata.name === 'grafana-dashboard-backups');
    if (backups) {
      const exprsOf = dashboardExpressions(backups.dashboard);
      const cronJobs = result.objects.filter((o) => o.kind === 'CronJob' && o.metadata.labels['app.kubernetes.io/component'] === 'backup');
      expect(labelValues(exprsOf, 'cronjob')).toEqual(cronJobs.map((c) => c.metadata.name).sort());
      // Base backups and the database's size with PostgreSQL; the uploads volume with uploaded files.
      expect(exprsOf.some((e) => e.includes('barman_cloud_cloudnative_pg_io_last_available_backup_timestamp'))).toBe(Boolean(env.data.postgres));
      expect(exprsOf.some((e) => e.includes('kubelet_volume_stats_used_bytes'))).toBe(Boolean(env.data.uploads));
    }
  });
});

test('a service no route reaches has its pods on the service overview and no traffic panels, nor objectives', async () => {
  const env = variant(shop, { hosts: [{ hostname: 'shop.test', routes: [{ path: '/', service: 'web' }] }] });
  const shipped = shippedDashboards(await synthesizeEnvironment(env));
  const titles = panelsOf(byKind(shipped, 'services')).map((p) => p.title);
  expect(titles).toEqual(expect.arrayContaining(['api: pods ready', 'api: container restarts', 'web: latency', 'web: pods ready']));
  expect(titles.filter((t) => t?.startsWith('api: ') && /requests|errors|latency/.test(t))).toEqual([]);
  expect(labelValues(dashboardExpressions(byKind(shipped, 'slo')), 'service')).toEqual(['web']);
});

test('a UID longer than Grafana allows keeps its start and stays unique', () => {
  const long = 'a-very-long-application-name-production';
  const a = dashboardUid(long, 'postgresql');
  const b = dashboardUid(long, 'capacity');
  expect(a.length).toBe(MAX_UID_LENGTH);
  expect(b.length).toBe(MAX_UID_LENGTH);
  expect(a).not.toBe(b);
  expect(a.startsWith(long.slice(0, 20))).toBe(true);
  expect(dashboardUid('shop-test', 'redis')).toBe('shop-test-redis');
});

test('a label matcher on several values escapes what a regular expression would read otherwise', () => {
  expect(matcher('envoy_cluster_name', ['httproute/ns/a/rule/0'])).toBe('envoy_cluster_name="httproute/ns/a/rule/0"');
  const m = matcher('name', ['a.b', 'c']);
  expect(m).toBe('name=~"a\\\\.b|c"');
  expect(parsePromql(`up{${m}}`).errors).toEqual([]);
});
