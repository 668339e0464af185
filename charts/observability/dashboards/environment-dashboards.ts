/**
 * The dashboards of one environment, from its model: the service overview, capacity planning, the
 * SLOs when a service is routed, and PostgreSQL, Redis and backups only when the application has
 * them. Each is a plain Grafana dashboard object (schema of the Grafana Foundation SDK); the
 * observability chart ships each in its own ConfigMap (grafana-dashboard.ts).
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { longestGapMinutes } from '../../../environments/cron';
import { hostRoutes } from '../../../environments/model/gateway';
import type { Model } from '../../../environments/model/model';
import { REDIS_REPLICAS } from '../../../environments/model/names';
import { latencyThresholdMs, serviceObjectives } from '../../../environments/model/slo';
import { byCodepoint } from '../../../environments/order';
import type { CronJobTiming } from '../../backup/backup-cron-job';
import { TIMING } from '../../backup/backup-jobs';
import { BACKUPS_DASHBOARD_KIND, backupsDashboard, type BackupJob } from './backups-dashboard';
import { CAPACITY_DASHBOARD_KIND, capacityDashboard, type Workload } from './capacity-dashboard';
import type { DashboardContext } from './kit';
import { instancePods, POSTGRES_DASHBOARD_KIND, postgresDashboard } from './postgres-dashboard';
import { REDIS_DASHBOARD_KIND, redisDashboard } from './redis-dashboard';
import { SERVICE_OVERVIEW_KIND, serviceOverviewDashboard } from './service-overview';
import { SLO_DASHBOARD_KIND, sloDashboard } from './slo-dashboard';

export interface EnvironmentDashboard {
  /** Name of the ConfigMap that carries it. */
  readonly name: string;
  readonly dashboard: Dashboard;
}

/** `grafana-dashboard-<kind>`: the ConfigMap of one kind of dashboard. */
const configMapName = (kind: string) => `grafana-dashboard-${kind}`;

export function environmentDashboards(model: Model): EnvironmentDashboard[] {
  const { env, identity, data } = model;
  const context: DashboardContext = { app: identity.app, environment: env.name, instance: identity.instance };
  const namespace = identity.namespace;
  const services = Object.keys(env.services).sort(byCodepoint);
  const workers = Object.keys(env.workers).sort(byCodepoint);
  const objectives = serviceObjectives(env);
  const postgres = env.data.postgres;
  const baseBackupGap = postgres ? gapSeconds(postgres.baseBackupSchedule.split(/\s+/).slice(1).join(' ')) : 0;
  const baseBackupAge = { dueSeconds: baseBackupGap, missedSeconds: 2 * baseBackupGap };

  const dashboards: [string, Dashboard][] = [
    [SERVICE_OVERVIEW_KIND, serviceOverviewDashboard({
      context, namespace, services, routes: hostRoutes(env), availability: env.slo.availability, latencyThresholdMs: latencyThresholdMs(env),
    })],
  ];
  if (objectives.length > 0) dashboards.push([SLO_DASHBOARD_KIND, sloDashboard({ context, namespace, objectives })]);
  if (data.postgres && postgres) {
    dashboards.push([POSTGRES_DASHBOARD_KIND, postgresDashboard({
      context, namespace, postgres: data.postgres, instances: postgres.instances, archiveTimeoutSeconds: postgres.archiveTimeoutSeconds, baseBackupAge,
    })]);
  }
  if (data.redis) {
    const { name: statefulSet, headlessService } = data.redis;
    dashboards.push([REDIS_DASHBOARD_KIND, redisDashboard({ context, namespace, statefulSet, headlessService, members: REDIS_REPLICAS })]);
  }
  if (data.backups && env.backups) {
    const schedules = env.backups;
    const job = (cronJob: string, what: string, schedule: string, timing: CronJobTiming): BackupJob => ({
      cronJob, what, overdueSeconds: gapSeconds(schedule) + timing.startingDeadlineSeconds + timing.activeDeadlineSeconds,
    });
    const jobs: BackupJob[] = [
      ...(data.backups.database && schedules.databaseSchedule ? [job(data.backups.database.job, 'PostgreSQL dump', schedules.databaseSchedule, TIMING.database)] : []),
      ...(data.backups.uploads && schedules.filesSchedule ? [job(data.backups.uploads.job, 'uploaded files backup', schedules.filesSchedule, TIMING.files)] : []),
      job(data.backups.verifyJob, 'restore test', schedules.verifySchedule, TIMING.verify),
    ];
    const instances = data.postgres ? instancePods(namespace, data.postgres.cluster) : undefined;
    dashboards.push([BACKUPS_DASHBOARD_KIND, backupsDashboard({
      context, namespace, jobs,
      baseBackups: instances ? { instances, ...baseBackupAge } : undefined,
      database: instances && data.postgres ? { instances, name: data.postgres.database } : undefined,
      uploadsClaim: data.uploads?.claim,
    })]);
  }

  const workloads: Workload[] = [
    // A service's own container in its Deployment's pods, not its migration Job's (container `migrate`).
    ...services.map((s) => ({ name: s, container: s, pods: `${s}-.+` })),
    ...workers.map((w) => ({ name: w, container: w, pods: `${w}-.+` })),
    ...(data.postgres ? [
      { name: 'postgresql', container: 'postgres', pods: `${data.postgres.cluster}-[0-9]+` },
      { name: 'pgbouncer', container: 'pgbouncer', pods: `${data.postgres.pooler}-.+` },
    ] : []),
    ...(data.redis ? [{ name: 'redis', container: 'redis', pods: `${data.redis.name}-[0-9]+` }] : []),
  ];
  dashboards.push([CAPACITY_DASHBOARD_KIND, capacityDashboard({
    context, namespace, workloads,
    // Services and workers alike: each a Deployment of its own name.
    autoscaled: [...services.filter((s) => env.services[s].autoscaling), ...workers.filter((w) => env.workers[w].autoscaling)],
    fixedReplicas: [...services.filter((s) => !env.services[s].autoscaling), ...workers.filter((w) => !env.workers[w].autoscaling)],
    volumes: Boolean(data.postgres || data.redis || data.uploads),
  })]);

  return dashboards.map(([kind, dashboard]) => ({ name: configMapName(kind), dashboard }));
}

/** The longest time between two runs of a 5-field schedule, in seconds. */
function gapSeconds(schedule: string): number {
  const minutes = longestGapMinutes(schedule);
  if (minutes === undefined) throw new Error(`the schedule ${schedule} never runs`);
  return minutes * 60;
}
