import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { gatewayProxyPodLabels, hostRoutes } from '../../environments/model/gateway';
import type { Model } from '../../environments/model/model';
import { FIXED_NAMES, UPTIME_PROBERS } from '../../environments/model/names';
import { serviceObjectives } from '../../environments/model/slo';
import { PUBLICLY_TRUSTED_ISSUER } from '../../environments/model/tls';
import { BackupAlerts, watchedBackupJobs } from './backup-alerts';
import { environmentDashboards } from './dashboards/environment-dashboards';
import { GrafanaDashboard } from './dashboards/grafana-dashboard';
import { EnvoyGatewayMonitor } from './envoy-gateway-monitor';
import { GatewayAlerts } from './gateway-alerts';
import { GatewayProxyMonitor } from './gateway-proxy-monitor';
import { GeneralAlerts } from './general-alerts';
import { LoggingAlerts } from './logging-alerts';
import { PlatformAlerts } from './platform-alerts';
import { PostgresAlerts, postgresAlertsProps } from './postgres-alerts';
import { RedisAlerts, redisAlertsProps } from './redis-alerts';
import { repositoryFilesUrl } from './runbooks';
import { ScheduledJobAlerts, watchedScheduledJobs } from './scheduled-job-alerts';
import { SloRules } from './slo-rules';
import { UptimeChecks } from './uptime-checks';
import { watchedVolumes, WorkloadAlerts } from './workload-alerts';

export interface ObservabilityChartProps {
  /** The environment's model: a chart is where the model meets the constructs. */
  readonly model: Model;
}

/**
 * What watches the application and the platform it runs on: the monitors Prometheus scrapes them
 * with, the uptime checks of its public hosts, its objectives' recording and alerting rules, the
 * failure alerts of every tier, and the Grafana dashboards. Alertmanager's routing is the
 * platform's (charts/gitops/alertmanager-config.ts).
 */
export class ObservabilityChart extends Chart {
  constructor(scope: Construct, id: string, props: ObservabilityChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    const { env, identity } = props.model;
    const runbookBase = repositoryFilesUrl(env.delivery.repoURL, env.delivery.targetRevision);
    new GatewayProxyMonitor(this, FIXED_NAMES.gatewayProxyMonitor, {
      identity, name: FIXED_NAMES.gatewayProxyMonitor, proxyNamespace: env.gateway.proxyNamespace, proxyPodLabels: gatewayProxyPodLabels(env),
    });
    // Grafana's dashboards sidecar reads them from any namespace, each application's into its own
    // directory (a Grafana folder once the provider's foldersFromFilesStructure is on; until then, General).
    for (const { name, dashboard } of environmentDashboards(props.model)) {
      new GrafanaDashboard(this, name, { identity, name, dashboard, folder: identity.instance });
    }
    const objectives = serviceObjectives(env);
    for (const service of [...new Set(objectives.map((o) => o.service))]) {
      new SloRules(this, `${service}-slo`, { identity, service, objectives: objectives.filter((o) => o.service === service), runbookBase });
    }
    // The data tier's failure alerts, for the components the environment has.
    const postgresAlerts = postgresAlertsProps(props.model, runbookBase);
    if (postgresAlerts) new PostgresAlerts(this, 'postgres-alerts', postgresAlerts);
    const redisAlerts = redisAlertsProps(props.model, runbookBase);
    if (redisAlerts) new RedisAlerts(this, 'redis-alerts', redisAlerts);
    new WorkloadAlerts(this, 'workload-alerts', { identity, volumes: watchedVolumes(props.model.data), runbookBase });
    new BackupAlerts(this, 'backup-alerts', { identity, jobs: watchedBackupJobs(props.model), runbookBase });
    new ScheduledJobAlerts(this, 'scheduled-job-alerts', { identity, jobs: watchedScheduledJobs(env), runbookBase });
    new GatewayAlerts(this, 'gateway-alerts', { identity, routes: hostRoutes(env), runbookBase });
    new GeneralAlerts(this, 'general-alerts', { identity, monitoringNamespace: env.monitoringNamespace, runbookBase });
    // The platform's components, watched from here: one application per cluster (argocd/<env>/).
    new EnvoyGatewayMonitor(this, 'envoy-gateway-monitor', { identity, controllerNamespace: env.gateway.proxyNamespace });
    new PlatformAlerts(this, 'platform-alerts', { identity, runbookBase });
    new LoggingAlerts(this, 'logging-alerts', { identity, audit: env.logging.audit, runbookBase });
    // With the exporter's flows (environments/model/flows.ts): only where there are public hosts.
    if (env.hosts.length > 0) {
      new UptimeChecks(this, 'uptime', {
        identity, exporterName: FIXED_NAMES.blackboxExporter, probers: UPTIME_PROBERS,
        hosts: hostRoutes(env).map((h) => ({ hostname: h.hostname, route: h.name })),
        clusterDomain: env.clusterDomain, verifyCertificate: PUBLICLY_TRUSTED_ISSUER[env.tls.issuer], renewBefore: env.tls.renewBefore,
        runbookBase, zoneSpread: env.zoneSpread, priorityClassName: props.model.priorityClasses.serving,
      });
    }
  }
}
