/**
 * The logs dashboards (charts/logging/logs-dashboard.ts) as the logging chart ships them: ConfigMaps
 * the Grafana dashboards sidecar picks up, whose every panel shows one saved search
 * (log-searches.ts, the searches made here from the environment, not read from the code under
 * test) on the Loki data source of the tenant the search's log types belong to. The application's
 * dashboard is always there; the audit trail's only with an auditors' organization, and then only
 * that organization's dashboard provider reads it: the sidecar's rule for where a ConfigMap's files
 * go, applied to the kube-prometheus-stack values the gitops chart synthesizes, puts it under the
 * auditors' provider's path and outside the main organization's.
 */
import { posix } from 'node:path';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import {
  AUDIT_DASHBOARDS_DIR, AUDITORS_DASHBOARD_PROVIDER, GRAFANA_MAIN_ORG_ID, LOKI_DATASOURCE_UIDS, TENANT_HEADER,
} from '../charts/gitops/values/kube-prometheus-stack';
import { logSearches, variablesIn, withExamples, type LogSearch, type LogSearches } from '../charts/logging/log-searches';
import { LOG_LABELS, LOG_TYPES } from '../charts/logging/log-streams';
import { auditDashboard, logsDashboard } from '../charts/logging/logs-dashboard';
import { DASHBOARD_LABEL, FOLDER_ANNOTATION } from '../charts/observability/dashboards/grafana-dashboard';
import { MAX_UID_LENGTH } from '../charts/observability/dashboards/kit';
import type { Model } from '../environments/model/model';
import type { K8sObject } from '../pipeline/k8s-object';
import { argocdObjects, CHART_FOLDERS, modelObjects, synthesizeEnvironment, type SynthObject } from '../pipeline/synth';
import { shop, variant, variantModel } from './support/fixtures';
import { chartDefaults } from './support/helm-values';
import { parseLogql } from './support/logql';
import { only } from './support/synth-construct';

const AUDITORS_ORG = 7;

interface Shipped {
  readonly chart: string;
  readonly configMap: K8sObject;
  readonly dashboard: Dashboard;
}

/** Every dashboard ConfigMap the environment synthesizes, in any chart. */
const dashboardsOf = (objects: readonly SynthObject[]): Shipped[] => objects
  .filter((o) => o.object.kind === 'ConfigMap' && o.object.metadata.labels?.[DASHBOARD_LABEL.key] === DASHBOARD_LABEL.value)
  .map((o) => ({ chart: o.chart, configMap: o.object, dashboard: JSON.parse(Object.values(o.object.data as Record<string, string>)[0]) as Dashboard }));

/** Panels, those in rows included, read from the JSON itself. */
const panels = (d: Dashboard): any[] => (d.panels ?? []).flatMap((p: any) => [p, ...(p.panels ?? [])]).filter((p: any) => p.type !== 'row');
const queryPanels = (d: Dashboard) => panels(d).filter((p) => p.targets);

const searchesOf = (model: Model): LogSearches =>
  logSearches({ appNamespace: model.env.app.namespace, gatewayNamespace: model.env.gateway.proxyNamespace });

/** The search a query is, by its exact text; fails when it is none of them. */
function searchOf(searches: LogSearches, expr: string): LogSearch {
  const found = Object.values(searches).filter((s) => s.query === expr);
  if (found.length !== 1) throw new Error(`not a saved search: ${expr}`);
  return found[0];
}

/** The tenant a search's declared log types go to, from LOG_TYPES itself. */
const tenantOfTypes = (s: LogSearch) => [...new Set(s.logTypes.map((t) => LOG_TYPES[t].tenant))];

const plain = variantModel(shop);
const withAuditors = variantModel(shop, { logging: { audit: { grafanaOrgId: AUDITORS_ORG } } });
const plainShipped = dashboardsOf(modelObjects(plain));
const auditShipped = dashboardsOf(modelObjects(withAuditors));
const loggingOf = (shipped: readonly Shipped[]) => shipped.filter((s) => s.chart === CHART_FOLDERS.logging);
const named = (shipped: readonly Shipped[], name: string) => {
  const found = shipped.filter((s) => s.configMap.metadata.name === name);
  if (found.length !== 1) throw new Error(`expected one ${name}, found ${found.length}`);
  return found[0];
};

describe.each([['without an auditors\' organization', plain, plainShipped], ['with one', withAuditors, auditShipped]] as const)('%s', (_name, model, shipped) => {
  const searches = searchesOf(model);

  test('every panel shows a saved search, on the data source of the tenant its log types go to, the same for panel and query', () => {
    const all = loggingOf(shipped).flatMap((s) => queryPanels(s.dashboard));
    expect(all.length).toBeGreaterThan(0);
    for (const panel of all) {
      expect(panel.targets).toHaveLength(1);
      const [t] = panel.targets;
      const search = searchOf(searches, t.expr);
      const tenants = tenantOfTypes(search);
      expect(tenants).toHaveLength(1);
      const dataSource = { type: 'loki', uid: LOKI_DATASOURCE_UIDS[tenants[0]] };
      expect({ title: panel.title, panel: panel.datasource, query: t.datasource }).toEqual({ title: panel.title, panel: dataSource, query: dataSource });
      expect(panel.title).toBe(search.title);
      expect(panel.description).toBe(search.description);
      expect(panel.type).toBe(search.kind === 'lines' ? 'logs' : 'timeseries');
      expect(t.refId).toBe('A');
      if (search.legend !== undefined) expect(t.legendFormat).toBe(search.legend);
    }
  });

  test('the application\'s dashboard: volume, one service\'s errors, one request end to end, the gateway\'s server errors, all on the application tenant', () => {
    const { configMap, dashboard } = named(loggingOf(shipped), 'grafana-dashboard-logs');
    const shown = queryPanels(dashboard).map((p) => searchOf(searches, p.targets[0].expr));
    expect(shown.map((s) => s.query)).toEqual(
      [searches.logVolume, searches.serviceErrors, searches.requestEndToEnd, searches.gatewayServerErrors].map((s) => s.query));
    for (const p of queryPanels(dashboard)) expect(p.datasource.uid).toBe(LOKI_DATASOURCE_UIDS.application);
    expect(configMap.metadata.namespace).toBe(model.env.app.namespace);
    // The same folder as the observability dashboards: a relative one, below the main organization's directory.
    expect(configMap.metadata.annotations[FOLDER_ANNOTATION]).toBe(model.identity.instance);
    expect(Object.keys(configMap.data)).toEqual([`${dashboard.uid}.json`]);
  });

  test('every variable a query reads is a variable of its dashboard, of the kind the search says; lists come from collector labels', () => {
    for (const { dashboard } of loggingOf(shipped)) {
      const variables = dashboard.templating.list ?? [];
      const names = variables.map((v) => v.name);
      expect(new Set(names).size).toBe(names.length);
      const read = [...new Set(queryPanels(dashboard).flatMap((p) => variablesIn(p.targets[0].expr)))].sort();
      expect([...names].sort()).toEqual(read);
      for (const search of queryPanels(dashboard).map((p) => searchOf(searches, p.targets[0].expr))) {
        for (const sv of search.variables) {
          const v = variables.find((x) => x.name === sv.name)!;
          if (sv.valuesOf === undefined) {
            expect(v.type).toBe('textbox');
          } else {
            expect(v.type).toBe('query');
            expect(v.datasource).toEqual({ type: 'loki', uid: LOKI_DATASOURCE_UIDS[search.tenant] });
            const m = /^label_values\((\{.*\}), (\w+)\)$/.exec(String(v.query));
            expect(m).not.toBeNull();
            expect(parseLogql(m![1]).errors).toEqual([]);
            expect(Object.values(LOG_LABELS)).toEqual(expect.arrayContaining(parseLogql(m![1]).selectorLabels));
            expect(m![2]).toBe(sv.name);
          }
        }
      }
    }
  });

  test('Grafana accepts them: UIDs and titles unique and short enough, panel ids unique, read-only, no timestamp', () => {
    const all = shipped.map((s) => s.dashboard);
    expect(new Set(all.map((d) => d.uid)).size).toBe(all.length);
    expect(new Set(all.map((d) => d.title)).size).toBe(all.length);
    for (const { dashboard } of loggingOf(shipped)) {
      expect(dashboard.uid!.length).toBeLessThanOrEqual(MAX_UID_LENGTH);
      expect(dashboard.uid).toMatch(/^[a-zA-Z0-9_-]+$/);
      expect(dashboard.title).toContain(model.env.name);
      expect(dashboard.editable).toBe(false);
      const ids = (dashboard.panels ?? []).flatMap((p: any) => [p, ...(p.panels ?? [])]).map((p: any) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.every(Number.isInteger)).toBe(true);
      expect(JSON.stringify(dashboard)).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:/);
    }
  });

  test('the same model gives the same JSON', () => {
    const context = { app: model.identity.app, environment: model.env.name, instance: model.identity.instance };
    expect(JSON.parse(JSON.stringify(logsDashboard(context, searchesOf(model))))).toEqual(named(shipped, 'grafana-dashboard-logs').dashboard);
  });
});

describe('the audit trail\'s dashboard', () => {
  test('is made only with an auditors\' organization', () => {
    expect(loggingOf(plainShipped).map((s) => s.configMap.metadata.name)).toEqual(['grafana-dashboard-logs']);
    expect(loggingOf(auditShipped).map((s) => s.configMap.metadata.name).sort()).toEqual(['grafana-dashboard-audit-trail', 'grafana-dashboard-logs']);
    // No other chart's dashboard reads the audit tenant, with or without the organization.
    for (const s of [...plainShipped, ...auditShipped].filter((x) => x.configMap.metadata.name !== 'grafana-dashboard-audit-trail')) {
      expect(JSON.stringify(s.dashboard)).not.toContain(LOKI_DATASOURCE_UIDS.audit);
    }
  });

  test('one actor\'s trail, what one actor did to one record, failed sign-ins, Argo CD\'s syncs, Falco\'s events, the API server\'s audit log: '
    + 'all on the audit tenant, variables as free text', () => {
    const searches = searchesOf(withAuditors);
    const { dashboard } = named(auditShipped, 'grafana-dashboard-audit-trail');
    expect(queryPanels(dashboard).map((p) => p.targets[0].expr)).toEqual([
      searches.auditTrail, searches.actorOnRecord, searches.failedLogins, searches.deliverySyncs,
      searches.securityEventCounts, searches.namespaceSecurityEvents,
      searches.kubernetesUserActions, searches.secretAccess, searches.podSessions,
    ].map((s) => s.query));
    // Every audit log type has a panel: none of the audit tenant's logs is only in Explore.
    const shownTypes = new Set(queryPanels(dashboard).flatMap((p) => searchOf(searches, p.targets[0].expr).logTypes));
    expect([...shownTypes].sort()).toEqual(Object.keys(LOG_TYPES).filter((t) => LOG_TYPES[t as keyof typeof LOG_TYPES].tenant === 'audit').sort());
    // The rows, each above its own panels.
    const rows = (dashboard.panels ?? []).filter((p: any) => p.type === 'row').map((p: any) => p.title);
    expect(rows).toEqual(['One actor', 'Sign-ins', 'Delivery', 'Runtime security (Falco)', 'Kubernetes API']);
    const below = (row: string) => {
      const all = dashboard.panels ?? [];
      const start = all.findIndex((p: any) => p.type === 'row' && p.title === row);
      const end = all.findIndex((p: any, i) => i > start && p.type === 'row');
      return all.slice(start + 1, end === -1 ? undefined : end).map((p: any) => p.title);
    };
    expect(below('Runtime security (Falco)')).toEqual([searches.securityEventCounts.title, searches.namespaceSecurityEvents.title]);
    expect(below('Kubernetes API')).toEqual([searches.kubernetesUserActions.title, searches.secretAccess.title, searches.podSessions.title]);
    for (const p of queryPanels(dashboard)) expect(p.datasource).toEqual({ type: 'loki', uid: LOKI_DATASOURCE_UIDS.audit });
    expect((dashboard.templating.list ?? []).map((v) => [v.name, v.type])).toEqual([
      ['actor', 'textbox'], ['resource_type', 'textbox'], ['resource_id', 'textbox'], ['k8s_namespace', 'textbox'], ['k8s_user', 'textbox'],
    ]);
    // Every query parses once its variables are in (test/log-searches.test.ts checks the labels).
    for (const p of queryPanels(dashboard)) expect(parseLogql(withExamples(searchOf(searches, p.targets[0].expr))).errors).toEqual([]);
  });

  // kiwigrid/k8s-sidecar 2.10.1 src/resources.py _get_destination_folder: an absolute annotation as it is, else below FOLDER.
  const destination = (sidecarFolder: string, configMap: K8sObject) => {
    const annotation: string | undefined = configMap.metadata.annotations?.[FOLDER_ANNOTATION];
    if (annotation === undefined) return sidecarFolder;
    return posix.isAbsolute(annotation) ? annotation : posix.join(sidecarFolder, annotation);
  };
  // Grafana's file provider reads its path and every directory below it.
  const reads = (path: string, dir: string) => dir === path || dir.startsWith(`${path}/`);
  const kps = only(argocdObjects(withAuditors, modelObjects(withAuditors)), 'Application', 'kube-prometheus-stack').spec.source.helm.valuesObject;

  test('reaches only the auditors\' organization: the sidecar writes it where only the auditors\' provider reads', () => {
    const sidecar = kps.grafana.sidecar.dashboards;
    // The grafana subchart's templates (_pod.tpl FOLDER, _config.tpl the sidecar provider's path): folder[/defaultFolderName].
    const sidecarFolder = posix.join(sidecar.folder, sidecar.defaultFolderName);
    // The sidecar provider's organization stays the subchart's default (1): neither kube-prometheus-stack nor we set it.
    expect((chartDefaults('kube-prometheus-stack').grafana as any).sidecar.dashboards.provider.orgid).toBe(1);
    expect(sidecar).not.toHaveProperty('provider');
    const providers = kps.grafana.dashboardProviders[AUDITORS_DASHBOARD_PROVIDER].providers;
    expect(providers).toEqual([expect.objectContaining({ orgId: AUDITORS_ORG, type: 'file', options: expect.objectContaining({ path: AUDIT_DASHBOARDS_DIR }) })]);
    const auditorsPath: string = providers[0].options.path;
    expect(auditShipped.length).toBeGreaterThan(2);
    for (const { configMap } of auditShipped) {
      const dir = destination(sidecarFolder, configMap);
      const audit = configMap.metadata.name === 'grafana-dashboard-audit-trail';
      expect({ name: configMap.metadata.name, main: reads(sidecarFolder, dir), auditors: reads(auditorsPath, dir) })
        .toEqual({ name: configMap.metadata.name, main: !audit, auditors: audit });
    }
    // The audit data source is in the same organization, under the UID the panels name.
    const auditSource = kps.grafana.additionalDataSources.find((d: any) => d.uid === LOKI_DATASOURCE_UIDS.audit);
    expect(auditSource).toMatchObject({ orgId: AUDITORS_ORG, jsonData: { httpHeaderName1: TENANT_HEADER }, secureJsonData: { httpHeaderValue1: 'audit' } });
    expect(AUDITORS_ORG).not.toBe(GRAFANA_MAIN_ORG_ID);
  });

  test('without the main organization\'s subdirectory its provider would read the auditors\' dashboard too (why defaultFolderName is set)', () => {
    const audit = named(auditShipped, 'grafana-dashboard-audit-trail').configMap;
    const root: string = kps.grafana.sidecar.dashboards.folder;
    expect(reads(root, destination(root, audit))).toBe(true);
    // Nothing of this without the organization.
    const without = only(argocdObjects(plain, modelObjects(plain)), 'Application', 'kube-prometheus-stack').spec.source.helm.valuesObject;
    expect(without.grafana).not.toHaveProperty('dashboardProviders');
    expect(without.grafana.sidecar.dashboards).toEqual({ enabled: true, searchNamespace: 'ALL' });
  });

  test('the same model gives the same JSON', () => {
    const context = { app: withAuditors.identity.app, environment: withAuditors.env.name, instance: withAuditors.identity.instance };
    expect(JSON.parse(JSON.stringify(auditDashboard(context, searchesOf(withAuditors))))).toEqual(named(auditShipped, 'grafana-dashboard-audit-trail').dashboard);
  });

  test('the gate (strict schema, policy) finds nothing wrong with the logging chart\'s ConfigMaps', async () => {
    const result = await synthesizeEnvironment(variant(shop, { logging: { audit: { grafanaOrgId: AUDITORS_ORG } } }));
    const files = [...result.files.keys()].filter((f) => f.startsWith(`${CHART_FOLDERS.logging}/`)).sort();
    expect(files).toEqual(expect.arrayContaining(['logging/configmap-grafana-dashboard-audit-trail.yaml', 'logging/configmap-grafana-dashboard-logs.yaml']));
    const ours = ['grafana-dashboard-logs', 'grafana-dashboard-audit-trail'].map((name) => `ConfigMap ${withAuditors.env.app.namespace}/${name}:`);
    expect(result.problems.filter((p) => ours.some((o) => p.includes(o)))).toEqual([]);
  });
});
