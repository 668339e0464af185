/**
 * The application's PostgreSQL cluster as CloudNativePG's instance manager exports it (`cnpg_*`:
 * its own collector and the default monitoring queries of config/manager/default-monitoring.yaml,
 * `cnpg_<query>_<column>`), its base backups as the Barman Cloud plugin reports them through the
 * same endpoint (`barman_cloud_cloudnative_pg_io_*`, not the deprecated in-core
 * `cnpg_collector_*backup*`), and its PgBouncer pooler (`cnpg_pgbouncer_*`).
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import type { PostgresEndpoints } from '../../../environments/model/names';
import { buildDashboard, dashboardMeta, stat, timeseries, type DashboardContext } from './kit';

export interface PostgresDashboardProps {
  readonly context: DashboardContext;
  readonly namespace: string;
  /** The cluster, its database and its pooler, as the data tier names them. */
  readonly postgres: Pick<PostgresEndpoints, 'cluster' | 'database' | 'pooler'>;
  /** Instances the cluster should have (1 primary + replicas). */
  readonly instances: number;
  /** `archive_timeout`: the longest a quiet database waits before archiving a WAL segment. */
  readonly archiveTimeoutSeconds: number;
  /** Age of the newest base backup beyond which one is overdue (a run is due) and missed (one was skipped). */
  readonly baseBackupAge: { readonly dueSeconds: number; readonly missedSeconds: number };
}

export const POSTGRES_DASHBOARD_KIND = 'postgresql';

/** Newest base backup's age, from the Barman Cloud plugin (0 until the first backup: no age then). */
export const baseBackupAgeExpr = (instances: string) =>
  `time() - max(barman_cloud_cloudnative_pg_io_last_available_backup_timestamp{${instances}} > 0)`;

/** The cluster's instance pods (`<cluster>-<serial>`), not its Job pods nor the pooler's. */
export const instancePods = (namespace: string, cluster: string) => `namespace="${namespace}",pod=~"${cluster}-[0-9]+"`;

export function postgresDashboard(props: PostgresDashboardProps): Dashboard {
  const { cluster, database, pooler } = props.postgres;
  const inst = instancePods(props.namespace, cluster);
  // The pooler's Deployment pods: `<pooler>-<hash>-<suffix>`.
  const bouncer = `namespace="${props.namespace}",pod=~"${pooler}-.+"`;
  const n = props.instances;
  return buildDashboard(
    dashboardMeta(props.context, POSTGRES_DASHBOARD_KIND, 'PostgreSQL',
      `CloudNativePG cluster ${cluster}: instances, replication, connections, transactions, WAL archiving, base backups and the ${pooler} PgBouncer pooler.`),
    [
      {
        title: `Instances of ${cluster}`,
        panels: [
          stat({
            title: 'Instances up',
            description: `Instances whose PostgreSQL answers the instance manager, of the ${n} configured.`,
            width: 4, decimals: 0, thresholds: { base: 'red', steps: [[n, 'green']] },
            queries: [{ expr: `sum(cnpg_collector_up{${inst}})`, legend: 'up' }],
          }),
          stat({
            title: 'Streaming replicas',
            description: `Replicas streaming from the primary, of the ${n - 1} there should be: fewer means a replica is down or too far behind to stream.`,
            width: 4, decimals: 0, thresholds: { base: n > 1 ? 'red' : 'green', steps: n > 1 ? [[n - 1, 'green']] : [] },
            queries: [{ expr: `max(cnpg_pg_replication_streaming_replicas{${inst}})`, legend: 'streaming' }],
          }),
          timeseries({
            title: 'Role by instance',
            description: '1 for a replica (in recovery), 0 for the primary: a switch shows when a failover or switchover happened.',
            width: 8, min: 0, max: 1, decimals: 0,
            queries: [{ expr: `max by (pod) (cnpg_pg_replication_in_recovery{${inst}})`, legend: '{{pod}}' }],
          }),
          timeseries({
            title: 'Replication lag',
            description: 'Seconds a replica\'s replay is behind the primary\'s last transaction (0 while it has replayed everything it received).',
            unit: 's', width: 8, min: 0,
            queries: [{ expr: `max by (pod) (cnpg_pg_replication_lag{${inst}})`, legend: '{{pod}}' }],
          }),
        ],
      },
      {
        title: 'Connections and transactions',
        panels: [
          timeseries({
            title: 'Connections vs max_connections',
            description: 'Backends per instance (every state) and the server\'s max_connections: new connections fail at the limit.',
            width: 8, min: 0,
            queries: [
              { expr: `sum by (pod) (cnpg_backends_total{${inst}})`, legend: '{{pod}}' },
              { expr: `max(cnpg_pg_settings_setting{${inst},name="max_connections"})`, legend: 'max_connections' },
            ],
          }),
          timeseries({
            title: 'Transactions per second',
            description: `Commits and rollbacks in the ${database} database, all instances.`,
            unit: 'ops', width: 8, min: 0,
            queries: [
              { expr: `sum(rate(cnpg_pg_stat_database_xact_commit{${inst},datname="${database}"}[$__rate_interval]))`, legend: 'commits' },
              { expr: `sum(rate(cnpg_pg_stat_database_xact_rollback{${inst},datname="${database}"}[$__rate_interval]))`, legend: 'rollbacks' },
            ],
          }),
          timeseries({
            title: 'Longest open transaction',
            description: 'Age of the oldest transaction per instance: a long one holds locks and keeps vacuum from cleaning up.',
            unit: 's', width: 8, min: 0,
            queries: [{ expr: `max by (pod) (cnpg_backends_max_tx_duration_seconds{${inst}})`, legend: '{{pod}}' }],
          }),
          timeseries({
            title: 'Database size',
            description: `Disk space the ${database} database takes.`,
            unit: 'bytes', width: 12, min: 0,
            queries: [{ expr: `max(cnpg_pg_database_size_bytes{${inst},datname="${database}"})`, legend: database }],
          }),
          timeseries({
            title: 'Transaction ID age',
            description: 'Transactions since each database\'s oldest unfrozen XID, and autovacuum_freeze_max_age, where an anti-wraparound vacuum is forced.',
            width: 12, min: 0,
            queries: [
              { expr: `max by (datname) (cnpg_pg_database_xid_age{${inst}})`, legend: '{{datname}}' },
              { expr: `max(cnpg_pg_settings_setting{${inst},name="autovacuum_freeze_max_age"})`, legend: 'autovacuum_freeze_max_age' },
            ],
          }),
        ],
      },
      {
        title: 'WAL archiving and base backups',
        panels: [
          stat({
            title: 'Since the last base backup',
            description: 'Age of the newest base backup in the object store, as the Barman Cloud plugin reports it. '
              + 'Orange once the next scheduled backup is due, red once one was missed.',
            unit: 's', width: 6,
            thresholds: { base: 'green', steps: [[props.baseBackupAge.dueSeconds, 'orange'], [props.baseBackupAge.missedSeconds, 'red']] },
            queries: [{ expr: baseBackupAgeExpr(inst), legend: 'age' }],
          }),
          stat({
            title: 'Recovery window',
            description: 'How far back a point-in-time recovery can go: the first recoverability point of the base backups and WAL kept.',
            unit: 's', width: 6,
            queries: [{ expr: `time() - min(barman_cloud_cloudnative_pg_io_first_recoverability_point{${inst}} > 0)`, legend: 'window' }],
          }),
          stat({
            title: 'Last failed base backup',
            description: 'When a base backup last failed, if one ever did.',
            unit: 'dateTimeFromNow', width: 6,
            queries: [{ expr: `max(barman_cloud_cloudnative_pg_io_last_failed_backup_timestamp{${inst}} > 0) * 1000`, legend: 'failed' }],
          }),
          stat({
            title: 'Since the last archived WAL segment',
            description: `Seconds since the primary last archived a WAL segment; a quiet database archives at least every archive_timeout (${props.archiveTimeoutSeconds} s). `
              + 'Red from 5 minutes, the recovery point objective: what is not archived is lost with the primary\'s volume.',
            unit: 's', width: 6,
            thresholds: { base: 'green', steps: [[props.archiveTimeoutSeconds * 2, 'orange'], [300, 'red']] },
            queries: [{ expr: `max(cnpg_pg_stat_archiver_seconds_since_last_archival{${inst}})`, legend: 'age' }],
          }),
          timeseries({
            title: 'WAL segments archived and failed per minute',
            description: 'Segments the primary archived to the object store, and archiving attempts that failed (the plugin retries them).',
            width: 12, min: 0,
            queries: [
              { expr: `sum(rate(cnpg_pg_stat_archiver_archived_count{${inst}}[$__rate_interval])) * 60`, legend: 'archived' },
              { expr: `sum(rate(cnpg_pg_stat_archiver_failed_count{${inst}}[$__rate_interval])) * 60`, legend: 'failed' },
            ],
          }),
          timeseries({
            title: 'WAL segments waiting to be archived',
            description: 'Segments marked ready in pg_wal/archive_status and not yet archived: a growing count means archiving falls behind, and pg_wal fills.',
            width: 12, min: 0, decimals: 0,
            queries: [{ expr: `max by (pod) (cnpg_collector_pg_wal_archive_status{${inst},value="ready"})`, legend: '{{pod}}' }],
          }),
        ],
      },
      {
        title: `PgBouncer ${pooler}`,
        panels: [
          stat({
            title: 'Pooler instances up',
            description: 'PgBouncer instances whose exporter reaches PgBouncer.',
            width: 4, decimals: 0, thresholds: { base: 'red', steps: [[1, 'green']] },
            queries: [{ expr: `sum(cnpg_pgbouncer_up{${bouncer}})`, legend: 'up' }],
          }),
          timeseries({
            title: 'Client connections',
            description: 'Clients linked to a server connection (active) and clients waiting for one: waiting clients mean the pool is too small or queries too slow.',
            width: 10, min: 0,
            queries: [
              { expr: `sum(cnpg_pgbouncer_pools_cl_active{${bouncer}})`, legend: 'active' },
              { expr: `sum(cnpg_pgbouncer_pools_cl_waiting{${bouncer}})`, legend: 'waiting' },
            ],
          }),
          timeseries({
            title: 'Server connections',
            description: 'Connections from the poolers to PostgreSQL, in use and idle.',
            width: 10, min: 0,
            queries: [
              { expr: `sum(cnpg_pgbouncer_pools_sv_active{${bouncer}})`, legend: 'active' },
              { expr: `sum(cnpg_pgbouncer_pools_sv_idle{${bouncer}})`, legend: 'idle' },
            ],
          }),
        ],
      },
    ],
  );
}
