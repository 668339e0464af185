import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { Model } from '../../environments/model/model';
import { AUDIT_DASHBOARDS_DIR } from '../gitops/values/kube-prometheus-stack';
import { GrafanaDashboard } from '../observability/dashboards/grafana-dashboard';
import { logSearches } from './log-searches';
import { AUDIT_DASHBOARD_KIND, auditDashboard, LOGS_DASHBOARD_KIND, logsDashboard } from './logs-dashboard';

export interface LoggingChartProps {
  /** The environment's model: a chart is where the model meets the constructs. */
  readonly model: Model;
}

/**
 * What reads the application's logs: the logs dashboards. The Loki ruler's rules on the audit trail
 * (charts/logging/audit-alerts.ts) live in Loki's namespace, made by the gitops chart: not here, in
 * the application's namespace, where whoever deploys there could add rules on the audit tenant.
 * Loki and the collector are platform releases (charts/gitops/values/loki.ts, alloy.ts); how logs
 * are labelled and routed is charts/logging/log-streams.ts.
 */
export class LoggingChart extends Chart {
  constructor(scope: Construct, id: string, props: LoggingChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    const { env, identity } = props.model;
    const searches = logSearches({ appNamespace: identity.namespace, gatewayNamespace: env.gateway.proxyNamespace });
    const context = { app: identity.app, environment: env.name, instance: identity.instance };
    new GrafanaDashboard(this, 'logs-dashboard', {
      identity, name: `grafana-dashboard-${LOGS_DASHBOARD_KIND}`, dashboard: logsDashboard(context, searches), folder: identity.instance,
    });
    // Only where the auditors' organization exists: elsewhere no provider would read it.
    if (env.logging.audit.grafanaOrgId !== undefined) {
      new GrafanaDashboard(this, 'audit-dashboard', {
        identity, name: `grafana-dashboard-${AUDIT_DASHBOARD_KIND}`, dashboard: auditDashboard(context, searches), folder: AUDIT_DASHBOARDS_DIR,
      });
    }
  }
}
