/**
 * The logs dashboards, made of the saved searches (log-searches.ts) and nothing else: every panel
 * shows one search, on the Loki data source of the search's tenant (fixed UIDs,
 * charts/gitops/values/kube-prometheus-stack.ts), with the search's variables as the dashboard's.
 *
 * - The application's, in Grafana's main organization: log volume by service and level, the errors
 *   of a chosen service, one request end to end by its id, the gateway's server errors.
 * - The audit trail's, only in the auditors' organization (`logging.audit.grafanaOrgId`): one
 *   actor's trail, what one actor did to one record, failed sign-ins, Argo CD's syncs, Falco's
 *   security events, and from the API server's audit log what one Kubernetes user did, who read or
 *   changed Secrets, and who opened a session in a pod. Its ConfigMap names the auditors'
 *   dashboards directory, which only the auditors' provider reads.
 *
 * Panel ids and refIds are numbered by position and nothing carries a timestamp, as in
 * charts/observability/dashboards/kit.ts, so the same code gives the same JSON.
 */
import type { Builder } from '@grafana/grafana-foundation-sdk/cog';
import {
  LegendDisplayMode, LegendPlacement, LogsDedupStrategy, LogsSortOrder, SortOrder, TooltipDisplayMode, VizLegendOptionsBuilder, VizTooltipOptionsBuilder,
} from '@grafana/grafana-foundation-sdk/common';
import {
  QueryVariableBuilder, RowBuilder, TextBoxVariableBuilder, VariableRefresh, VariableSort,
  type Dashboard, type Panel, type VariableModel,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as LogsPanelBuilder } from '@grafana/grafana-foundation-sdk/logs';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/loki';
import { PanelBuilder as TimeseriesPanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { LOKI_DATASOURCE_UIDS } from '../gitops/values/kube-prometheus-stack';
import { dashboardBuilder, dashboardMeta, note, panelsOf, type DashboardContext, type DashboardMeta } from '../observability/dashboards/kit';
import type { LogSearch, LogSearches, SearchVariable } from './log-searches';

export const LOGS_DASHBOARD_KIND = 'logs';
export const AUDIT_DASHBOARD_KIND = 'audit-trail';

/** The data source a search runs on: its tenant's. */
export function searchDataSource(search: LogSearch): { type: 'loki'; uid: string } {
  return { type: 'loki', uid: LOKI_DATASOURCE_UIDS[search.tenant] };
}

function target(search: LogSearch): DataqueryBuilder {
  const query = new DataqueryBuilder().expr(search.query).datasource(searchDataSource(search)).queryType('range');
  return search.legend === undefined ? query : query.legendFormat(search.legend);
}

/** A search's lines, newest first, each expandable to its labels and structured metadata. */
function lines(search: LogSearch, width = 24, height = 10): LogsPanelBuilder {
  if (search.kind !== 'lines') throw new Error(`${search.title} is not a search for lines`);
  return new LogsPanelBuilder()
    .title(search.title)
    .description(search.description)
    .datasource(searchDataSource(search))
    .targets([target(search)])
    .span(width)
    .height(height)
    .showTime(true)
    .showLabels(false)
    .showCommonLabels(false)
    .wrapLogMessage(true)
    .prettifyLogMessage(false)
    .enableLogDetails(true)
    .sortOrder(LogsSortOrder.Descending)
    .dedupStrategy(LogsDedupStrategy.None);
}

/** A metric search's series over the dashboard's time range. */
function series(search: LogSearch, width = 24, height = 8): TimeseriesPanelBuilder {
  if (search.kind !== 'metric') throw new Error(`${search.title} is not a metric search`);
  return new TimeseriesPanelBuilder()
    .title(search.title)
    .description(search.description)
    .datasource(searchDataSource(search))
    .targets([target(search)])
    .span(width)
    .height(height)
    .unit('short')
    .min(0)
    .legend(new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom))
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending))
    .lineWidth(1)
    .fillOpacity(10);
}

/** A search's variable as the dashboard's: a list of label values, or a text box. */
function dashboardVariable(v: SearchVariable, search: LogSearch): Builder<VariableModel> {
  if (v.valuesOf === undefined) return new TextBoxVariableBuilder(v.name).label(v.label).description(v.description);
  return new QueryVariableBuilder(v.name)
    .label(v.label)
    .description(v.description)
    .datasource(searchDataSource(search))
    // The Loki data source's own variable query syntax (label_values(<selector>, <label>)).
    .query(`label_values(${v.valuesOf.selector}, ${v.valuesOf.label})`)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc);
}

interface LogsSection {
  readonly title: string;
  readonly panels: readonly (readonly [LogSearch, Builder<Panel>])[];
}

/**
 * The dashboard: the searches' variables, once each (two searches that name one variable must mean
 * the same by it), then each section as a row of its panels.
 */
function build(meta: DashboardMeta, intro: Builder<Panel>, sections: readonly LogsSection[]): Dashboard {
  const builder = dashboardBuilder(meta);
  const variables = new Map<string, SearchVariable>();
  for (const [search] of sections.flatMap((s) => s.panels)) {
    for (const v of search.variables) {
      const known = variables.get(v.name);
      if (known !== undefined && JSON.stringify(known) !== JSON.stringify(v)) throw new Error(`two searches mean different things by $${v.name}`);
      if (known === undefined) builder.withVariable(dashboardVariable(v, search));
      variables.set(v.name, v);
    }
  }
  builder.withPanel(intro);
  for (const section of sections) {
    builder.withRow(new RowBuilder(section.title));
    for (const [, panel] of section.panels) builder.withPanel(panel);
  }
  const dashboard = builder.build();
  (dashboard.panels ?? []).forEach((panel, i) => { panel.id = i + 1; });
  // Grafana's own names for a panel's queries: A, B… (each panel here has one).
  for (const panel of panelsOf(dashboard)) {
    (panel.targets ?? []).forEach((t, j) => { (t as unknown as { refId: string }).refId = String.fromCharCode(65 + j); });
  }
  return dashboard;
}

/** The application's logs, on the application tenant's data source. */
export function logsDashboard(context: DashboardContext, searches: LogSearches): Dashboard {
  const meta = dashboardMeta(context, LOGS_DASHBOARD_KIND, 'logs',
    'The application\'s logs: volume by service and level, one service\'s errors, one request end to end, the gateway\'s server errors.');
  const intro = note('About these logs', [
    'Application logs are kept for the application retention and searchable here and in Explore (data source **Loki application**).',
    'Audit events, Argo CD\'s syncs and the other audit logs are not here: they are shown only in the auditors\' Grafana organization.',
    'A request id from an error page, an access log entry or a line below finds every line of that request.',
  ].join(' '));
  const { logVolume, serviceErrors, requestEndToEnd, gatewayServerErrors } = searches;
  return build(meta, intro, [
    { title: 'Volume', panels: [[logVolume, series(logVolume)]] },
    { title: 'Errors of one service', panels: [[serviceErrors, lines(serviceErrors)]] },
    { title: 'One request end to end', panels: [[requestEndToEnd, lines(requestEndToEnd, 24, 12)]] },
    { title: 'Gateway', panels: [[gatewayServerErrors, lines(gatewayServerErrors)]] },
  ]);
}

/** The audit trail, on the audit tenant's data source: for the auditors' organization only. */
export function auditDashboard(context: DashboardContext, searches: LogSearches): Dashboard {
  const meta = dashboardMeta(context, AUDIT_DASHBOARD_KIND, 'audit trail',
    'The audit trail: one actor\'s events, what one actor did to one record, failed sign-ins, Argo CD\'s syncs, Falco\'s security events, '
    + 'what one Kubernetes user did, who read or changed Secrets, exec and port-forward into pods.');
  const intro = note('About the audit trail', [
    'The application\'s audit events (docs/audit-events.md), Argo CD\'s syncs, Falco\'s runtime security events and the Kubernetes API',
    'server\'s audit log, all kept for the audit retention. Type an actor (and a record type and id), a Kubernetes user or a namespace',
    'in the boxes above. The API server\'s panels stay empty on a cluster whose provider keeps its audit log (docs/logging.md).',
    'Anything else: Explore, data source **Loki audit**.',
  ].join(' '), 24, 4);
  const {
    auditTrail, actorOnRecord, failedLogins, deliverySyncs, securityEventCounts, namespaceSecurityEvents, kubernetesUserActions, secretAccess, podSessions,
  } = searches;
  return build(meta, intro, [
    { title: 'One actor', panels: [[auditTrail, lines(auditTrail, 24, 12)], [actorOnRecord, lines(actorOnRecord)]] },
    { title: 'Sign-ins', panels: [[failedLogins, lines(failedLogins)]] },
    { title: 'Delivery', panels: [[deliverySyncs, lines(deliverySyncs)]] },
    { title: 'Runtime security (Falco)', panels: [[securityEventCounts, series(securityEventCounts)], [namespaceSecurityEvents, lines(namespaceSecurityEvents)]] },
    {
      title: 'Kubernetes API',
      panels: [[kubernetesUserActions, lines(kubernetesUserActions, 24, 12)], [secretAccess, lines(secretAccess)], [podSessions, lines(podSessions)]],
    },
  ]);
}
