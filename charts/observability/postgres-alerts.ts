/**
 * Failure alerts of the application's PostgreSQL: the CloudNativePG Cluster (its instance
 * manager's exporter, scraped by the Cluster's PodMonitor) and its PgBouncer Pooler (the pooler's
 * exporter, scraped by the Pooler's PodMonitor). Names and labels are those of CloudNativePG 1.30
 * and the Barman Cloud plugin 0.14 (test/fixtures/metrics/cloudnative-pg.txt and
 * plugin-barman-cloud.txt say where each comes from):
 *
 * - `cnpg_collector_*`: the instance manager's own (pkg/management/postgres/webserver/metricserver);
 * - `cnpg_<query>_<column>`: the operator's default monitoring queries (the cloudnative-pg chart's
 *   `cnpg-default-monitoring` ConfigMap, the same as config/manager/default-monitoring.yaml);
 * - `barman_cloud_cloudnative_pg_io_*`: the Barman Cloud plugin's, which its sidecar hands to the
 *   instance manager over CNPG-I and the instance manager serves on its own metrics port, on every
 *   instance. They replace the deprecated `cnpg_collector_last_available_backup_timestamp` and its
 *   siblings, which stay 0 with a plugin. The plugin has no WAL archiving metric: PostgreSQL's own
 *   pg_stat_archiver (whose archive_command is the plugin) says whether archiving works;
 * - `cnpg_pgbouncer_*`: the pooler's (pkg/management/pgbouncer/metricsserver).
 */
import { Construct } from 'constructs';
import { longestGapMinutes } from '../../environments/cron';
import type { AppIdentity } from '../../environments/model/identity';
import type { Model } from '../../environments/model/model';
import type { PostgresEndpoints } from '../../environments/model/names';
import { postgresParameters } from '../data/postgres-parameters';
import { AlertRules, type Alert } from './alert-rules';

/**
 * Connections in use, as a share of max_connections, that raise a ticket: beyond it, a pooler
 * opening its pools after a restart, a migration or a backup is refused next.
 */
export const CONNECTIONS_WARNING_RATIO = 0.8;
/**
 * How far a standby may fall behind in replay before a ticket: a standby a minute behind needs that
 * minute before it can be promoted, which a failover then waits for.
 */
export const REPLICATION_LAG_WARNING_SECONDS = 60;
/**
 * Age of the oldest unfrozen transaction ID of a database that raises a ticket. PostgreSQL stops
 * taking writes 3 million short of 2^31; autovacuum starts freezing a table at
 * autovacuum_freeze_max_age (200 million, PostgreSQL's default, which the Cluster keeps). A healthy
 * database stays near that; 2.5 times it means freezing has been failing for a long while (a held
 * transaction, an abandoned replication slot) with most of the 2^31 still ahead to fix it in.
 */
export const XID_AGE_WARNING = 500_000_000;
/**
 * A transaction open this long raises a ticket: it holds back vacuum on every table of the cluster
 * (bloat, transaction ID age) and keeps its locks. Idle transactions end after 5 minutes
 * (idle_in_transaction_session_timeout); a request of the application's lasts well under a second.
 */
export const LONG_TRANSACTION_SECONDS = 30 * 60;
/**
 * How long the oldest client may have waited in PgBouncer's queue before it counts as waiting: a
 * second of waiting for a server connection already breaks the latency objective.
 */
export const POOLER_WAIT_SECONDS = 1;
/**
 * Beyond the longest gap between two scheduled base backups, how much longer the last one may be
 * old: the next backup running longer than the last one did, or failing and being run again.
 */
export const BASE_BACKUP_GRACE_SECONDS = 3 * 3600;

export interface PostgresAlertsProps {
  /** The application in its environment: namespace and labels. */
  readonly identity: AppIdentity;
  /** The Cluster and Pooler names; each PodMonitor has its object's name. */
  readonly endpoints: Pick<PostgresEndpoints, 'cluster' | 'pooler'>;
  /** Instances of the Cluster. */
  readonly instances: number;
  /** The ScheduledBackup's schedule (6 fields, seconds first). */
  readonly baseBackupSchedule: string;
  /** `max_connections` of the instances, as the Cluster's parameters set it. */
  readonly maxConnections: number;
  /** PgBouncer's default_pool_size, for the description. */
  readonly defaultPoolSize: number;
  /**
   * `application_name` of the nightly logical dump (its PGAPPNAME), whose hour-long transaction on a
   * standby is expected: hot_standby_feedback holds vacuum back for it by design.
   * @default none: every transaction counts
   */
  readonly dumpApplicationName?: string;
  /** Where the runbooks are read: the repository's web address at the synced revision. */
  readonly runbookBase: string;
}

/** What the alerts of the model's PostgreSQL watch, taken where the data chart takes it; none without PostgreSQL. */
export function postgresAlertsProps(model: Model, runbookBase: string): PostgresAlertsProps | undefined {
  const { env, identity, data } = model;
  const pg = env.data.postgres;
  if (!pg || !data.postgres) return undefined;
  // The very parameters the Cluster gets (charts/data/postgres-cluster.ts).
  const parameters = postgresParameters({ memoryLimit: pg.resources.limits.memory, archiveTimeoutSeconds: pg.archiveTimeoutSeconds });
  return {
    identity,
    endpoints: data.postgres,
    instances: pg.instances,
    baseBackupSchedule: pg.baseBackupSchedule,
    maxConnections: Number(parameters.max_connections),
    defaultPoolSize: pg.pooler.defaultPoolSize,
    dumpApplicationName: data.backups?.database?.job,
    runbookBase,
  };
}

/** The longest time between two runs of a 6-field schedule, in seconds (its seconds field aside). */
export function scheduleGapSeconds(schedule6: string): number {
  const minutes = longestGapMinutes(schedule6.trim().split(/\s+/).slice(1).join(' '));
  if (minutes === undefined) throw new Error(`base backup schedule "${schedule6}" never runs`);
  return minutes * 60;
}

/**
 * The object's name: fixed, not the Cluster's, so a recovered cluster adopted under another name
 * keeps the same object (npm run restore-plan then leaves it out: applied during the recovery, it
 * would page for the cluster being restored).
 */
export const POSTGRES_ALERTS = 'postgresql-alerts';

/** `1800` → `30m`, `97200` → `1d 3h`: how a threshold reads in a description. */
function duration(seconds: number): string {
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join(' ') || '0s';
}

export class PostgresAlerts extends Construct {
  constructor(scope: Construct, id: string, props: PostgresAlertsProps) {
    super(scope, id);
    const { identity, endpoints: { cluster, pooler }, instances } = props;
    const ns = identity.namespace;
    // The PodMonitors (charts/data) have their object's name: Prometheus's job is <namespace>/<name>.
    const pg = `namespace="${ns}",job="${ns}/${cluster}"`;
    const bouncer = `namespace="${ns}",job="${ns}/${pooler}"`;
    const onCluster = { namespace: ns, service: cluster };
    const onPooler = { namespace: ns, service: pooler };
    const backupAfter = scheduleGapSeconds(props.baseBackupSchedule) + BASE_BACKUP_GRACE_SECONDS;
    const lastBackup = `barman_cloud_cloudnative_pg_io_last_available_backup_timestamp{${pg}}`;
    const dumpExcluded = props.dumpApplicationName ? `,application_name!="${props.dumpApplicationName}"` : '';

    const availability: Alert[] = [
      {
        // PostgreSQL stopped or crashed in one pod (the instance manager reports it), or the
        // instance manager itself cannot be scraped. One instance: the others serve; a rolling
        // update restarts each for about a minute, hence 5.
        alert: 'PostgresInstanceDown',
        expr: `min by (pod) (cnpg_collector_up{${pg}} or up{${pg}}) == 0`,
        for: '5m',
        severity: 'warning',
        labels: onCluster,
        summary: `PostgreSQL instance {{ $labels.pod }} of ${cluster} is down`,
        description: `PostgreSQL in {{ $labels.pod }} (cluster ${ns}/${cluster}) has not answered its instance manager, or the instance manager's `
          + 'metrics endpoint could not be scraped, for 5 minutes. The other instances serve meanwhile.',
      },
      {
        // No instance is a primary that answers: every write of the application fails. A failover
        // promotes a standby within seconds; 2 minutes without one means the operator could not.
        alert: 'PostgresClusterDown',
        expr: `(\n  count(cnpg_pg_replication_in_recovery{${pg}} == 0 and on (pod) cnpg_collector_up{${pg}} == 1)\n  or vector(0)\n) == 0`,
        for: '2m',
        severity: 'critical',
        labels: onCluster,
        summary: `PostgreSQL cluster ${cluster} has no primary`,
        description: `No instance of ${ns}/${cluster} has been an answering primary for 2 minutes: the application cannot write, `
          + 'and the operator has not promoted a standby.',
      },
      {
        // An instance missing, down or not streaming: the cluster survives the next failure only
        // with all of them. A rolling update takes one out for about a minute.
        alert: 'PostgresHaDegraded',
        expr: `(\n  count(\n    cnpg_collector_up{${pg}} == 1\n    and on (pod) (cnpg_pg_replication_in_recovery{${pg}} == 0 or cnpg_pg_replication_is_wal_receiver_up{${pg}} == 1)\n  )\n  or vector(0)\n) < ${instances}`,
        for: '5m',
        severity: 'warning',
        labels: onCluster,
        summary: `PostgreSQL cluster ${cluster} runs with fewer healthy instances than its ${instances}`,
        description: `Only {{ $value }} of the ${instances} instances of ${ns}/${cluster} have been up and either primary or streaming from it `
          + 'for 5 minutes: one more failure and the cluster may lose its synchronous standby or its primary.',
      },
      {
        // Synchronous replication with `dataDurability: required`: with fewer standbys connected
        // than synchronous_standby_names asks for, every commit waits, so writes hang.
        alert: 'PostgresHaDegraded',
        expr: `(\n  cnpg_pg_replication_streaming_replicas{${pg}}\n  and on (pod) cnpg_pg_replication_in_recovery{${pg}} == 0\n)\n`
          + `< on (pod) cnpg_collector_sync_replicas{${pg},value="observed"}`,
        for: '2m',
        severity: 'critical',
        labels: onCluster,
        summary: `PostgreSQL cluster ${cluster} has no synchronous standby: commits wait`,
        description: `The primary {{ $labels.pod }} of ${ns}/${cluster} has had {{ $value }} standbys connected for 2 minutes, fewer than its `
          + 'synchronous replication requires (dataDurability: required): every commit waits for a standby, so the application\'s writes hang.',
      },
      {
        alert: 'PostgresReplicationLag',
        expr: `cnpg_pg_replication_lag{${pg}} > ${REPLICATION_LAG_WARNING_SECONDS}`,
        // A bulk write (a migration, an import) can put a standby a minute or two behind.
        for: '5m',
        severity: 'warning',
        labels: onCluster,
        summary: `PostgreSQL standby {{ $labels.pod }} of ${cluster} lags behind the primary`,
        description: `The standby {{ $labels.pod }} of ${ns}/${cluster} has been replaying WAL {{ $value | humanizeDuration }} behind the primary `
          + `(more than ${duration(REPLICATION_LAG_WARNING_SECONDS)}) for 5 minutes: a failover to it would wait for it to catch up.`,
      },
    ];

    const durability: Alert[] = [
      {
        // The primary's last attempt to archive a WAL segment failed and none has succeeded since.
        // Until one does, the 5-minute recovery point of a restore from the object store is not
        // kept, and pg_wal fills its volume. PostgreSQL retries every minute: 2 minutes of only
        // failures is no blip.
        alert: 'PostgresWalArchivingFailing',
        expr: `cnpg_pg_stat_archiver_seconds_since_last_archival{${pg}}\n`
          + `and on (pod) (cnpg_pg_stat_archiver_last_failed_time{${pg}} > cnpg_pg_stat_archiver_last_archived_time{${pg}})`,
        for: '2m',
        severity: 'critical',
        labels: onCluster,
        summary: `PostgreSQL cluster ${cluster} fails to archive WAL`,
        description: `The primary {{ $labels.pod }} of ${ns}/${cluster} has failed to archive WAL to the object store since `
          + '{{ if lt $value 0.0 }}it started (no segment archived yet){{ else }}its last success {{ $value | humanizeDuration }} ago{{ end }}: '
          + 'point-in-time recovery cannot reach past it, and pg_wal grows until archiving works again.',
      },
      {
        // Point-in-time recovery starts from the last base backup: without a recent one, a restore
        // replays days of WAL, or is impossible once retention removes the old one.
        alert: 'PostgresBaseBackupTooOld',
        expr: `time() - max(${lastBackup}) > ${backupAfter}\nunless max(${lastBackup}) == 0`,
        // A moment without the ObjectStore's status (the plugin then reports 0) is no reason to raise it.
        for: '10m',
        severity: 'warning',
        labels: onCluster,
        summary: `PostgreSQL cluster ${cluster} has no recent base backup`,
        description: `The last base backup of ${ns}/${cluster} completed {{ $value | humanizeDuration }} ago; `
          + `the schedule "${props.baseBackupSchedule}" leaves at most ${duration(backupAfter - BASE_BACKUP_GRACE_SECONDS)} between two.`,
      },
      {
        // No base backup of this cluster at all (the plugin reports 0): a new cluster's first one
        // (the ScheduledBackup's `immediate`) has had as long as a backup may take, and failed.
        alert: 'PostgresBaseBackupTooOld',
        expr: `max(${lastBackup}) == 0`,
        for: duration(BASE_BACKUP_GRACE_SECONDS).replaceAll(' ', ''),
        severity: 'warning',
        // Told apart from the rule above (the same alert, severity and object).
        labels: { ...onCluster, last_backup: 'none' },
        summary: `PostgreSQL cluster ${cluster} has no recent base backup`,
        description: `No base backup of ${ns}/${cluster} has been recorded in the object store for ${duration(BASE_BACKUP_GRACE_SECONDS)}: `
          + 'point-in-time recovery has nothing to start from.',
      },
    ];

    const capacity: Alert[] = [
      {
        alert: 'PostgresConnectionsNearMax',
        expr: `sum by (pod) (cnpg_backends_total{${pg}}) / ${props.maxConnections} > ${CONNECTIONS_WARNING_RATIO}`,
        for: '5m',
        severity: 'warning',
        labels: onCluster,
        summary: `PostgreSQL instance {{ $labels.pod }} of ${cluster} is near max_connections`,
        description: `{{ $labels.pod }} of ${ns}/${cluster} has had {{ $value | humanizePercentage }} of its ${props.maxConnections} connections `
          + 'in use for 5 minutes; at the limit new connections are refused (the pooler\'s, migrations\', backups\').',
      },
      {
        alert: 'PostgresTransactionIdAge',
        expr: `max by (datname) (cnpg_pg_database_xid_age{${pg}}) > ${XID_AGE_WARNING}`,
        severity: 'warning',
        labels: onCluster,
        summary: `PostgreSQL database {{ $labels.datname }} of ${cluster} is heading for transaction ID wraparound`,
        description: `The oldest unfrozen transaction ID of database {{ $labels.datname }} in ${ns}/${cluster} is {{ $value | humanize }} transactions old `
          + `(over ${XID_AGE_WARNING / 1e6} million): vacuum is not freezing it. At about 2,100 million PostgreSQL stops taking writes.`,
      },
      {
        alert: 'PostgresLongTransaction',
        expr: `max by (pod, datname, usename, application_name) (cnpg_backends_max_tx_duration_seconds{${pg}${dumpExcluded}}) > ${LONG_TRANSACTION_SECONDS}`,
        severity: 'warning',
        labels: onCluster,
        summary: `A transaction on {{ $labels.pod }} of ${cluster} has been open for over ${duration(LONG_TRANSACTION_SECONDS)}`,
        description: `A transaction of {{ $labels.usename }} ({{ $labels.application_name }}) on database {{ $labels.datname }}, `
          + `instance {{ $labels.pod }} of ${ns}/${cluster}, has been open for {{ $value | humanizeDuration }}: `
          + 'it holds back vacuum on the whole cluster and keeps its locks.',
      },
    ];

    const pgbouncer: Alert[] = [
      {
        // Clients queue for a server connection for over a second, for 5 minutes: the pools are
        // too small for the load or PostgreSQL answers too slowly; requests wait meanwhile.
        alert: 'PgBouncerClientsWaiting',
        expr: `cnpg_pgbouncer_pools_cl_waiting{${bouncer}} > 0\nand cnpg_pgbouncer_pools_maxwait{${bouncer}} >= ${POOLER_WAIT_SECONDS}`,
        for: '5m',
        severity: 'warning',
        labels: onPooler,
        summary: `PgBouncer {{ $labels.pod }} of ${pooler} keeps clients waiting for a server connection`,
        description: `{{ $value }} clients of {{ $labels.user }} on database {{ $labels.database }} have been waiting in {{ $labels.pod }} (${ns}/${pooler}), `
          + `the oldest for over ${POOLER_WAIT_SECONDS} s, for 5 minutes: every server connection of the pool (default_pool_size ${props.defaultPoolSize}) is busy.`,
      },
    ];

    new AlertRules(this, 'rules', {
      identity,
      name: POSTGRES_ALERTS,
      labelName: 'postgresql',
      runbookBase: props.runbookBase,
      groups: [
        { name: `${cluster}.availability`, alerts: availability },
        { name: `${cluster}.durability`, alerts: durability },
        { name: `${cluster}.capacity`, alerts: capacity },
        { name: `${pooler}.pgbouncer`, alerts: pgbouncer },
      ],
    });
  }
}
