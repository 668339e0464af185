/**
 * The PostgreSQL and PgBouncer alerts (charts/observability/postgres-alerts.ts) as synthesized for
 * each environment: promtool accepts them; their thresholds are the output's own values (the
 * Cluster's instances and max_connections, the ScheduledBackup's schedule, the dump's application
 * name, the PodMonitors' names that make Prometheus's job label); a page is no slower than 3
 * minutes of `for`; and promtool runs every alert of production's rules on series shaped as
 * CloudNativePG 1.30 and the Barman Cloud plugin expose them (test/fixtures/metrics/), where it must
 * fire, with its labels and annotations, and where it must stay silent.
 */
import {
  BASE_BACKUP_GRACE_SECONDS, CONNECTIONS_WARNING_RATIO, LONG_TRANSACTION_SECONDS, POSTGRES_ALERTS, REPLICATION_LAG_WARNING_SECONDS, scheduleGapSeconds,
} from '../charts/observability/postgres-alerts';
import { repositoryFilesUrl, runbookUrl } from '../charts/observability/runbooks';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { dataEndpoints } from '../environments/model/names';
import { MAX_CONNECTIONS } from '../environments/model/postgres';
import { parseDuration } from '../environments/quantity';
import type { Environment } from '../environments/schema';
import type { K8sObject } from '../pipeline/k8s-object';
import { synthObjects } from '../pipeline/synth';
import { alertNames, checkRules, rulesOf, testRules, testsOf, untestedAlerts, type AlertRuleTest, type RuleTest } from './support/alert-rules';
import { only } from './support/synth-construct';

const envs = resolveEnvironments(environments, process.cwd());
const production = envs.find((e) => e.name === 'production') as Environment;

/** The output's PrometheusRule of a cluster's alerts, and the objects its thresholds come from. */
function output(env: Environment) {
  const objects = synthObjects(env).map((o) => o.object);
  const pg = dataEndpoints(env).postgres;
  if (!pg) throw new Error(`${env.name} has no PostgreSQL`);
  return { objects, pg, rule: only(objects, 'PrometheusRule', POSTGRES_ALERTS) };
}


describe.each(envs.map((e) => [e.name, e] as const))('%s', (_name, env) => {
  const { objects, pg, rule } = output(env);
  const ns = env.app.namespace;
  const cluster = only(objects, 'Cluster', pg.cluster);

  test('promtool check rules accepts the rules', () => {
    const r = checkRules(rule);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });

  test('every alert names its namespace and service (the Cluster or the Pooler); a page fires within 3 minutes of `for`', () => {
    for (const r of rulesOf(rule)) {
      expect([r.alert, r.labels.namespace]).toEqual([r.alert, ns]);
      expect([r.alert, r.labels.service]).toEqual([r.alert, r.alert.startsWith('PgBouncer') ? pg.pooler : pg.cluster]);
      if (r.labels.severity === 'critical') expect([r.alert, parseDuration(r.for) <= 180]).toEqual([r.alert, true]);
    }
    expect(rulesOf(rule).filter((r) => r.labels.severity === 'critical').map((r) => r.alert)).toEqual([
      'PostgresClusterDown', 'PostgresHaDegraded', 'PostgresWalArchivingFailing',
    ]);
  });

  test('the series are selected by the job the PodMonitors give them (<namespace>/<name>): the Cluster\'s and the Pooler\'s', () => {
    for (const name of [pg.cluster, pg.pooler]) expect(only(objects, 'PodMonitor', name).metadata.namespace).toBe(ns);
    const exprs = rulesOf(rule).map((r) => r.expr as string).join('\n');
    expect(exprs).toContain(`job="${ns}/${pg.cluster}"`);
    expect(exprs).toContain(`job="${ns}/${pg.pooler}"`);
    expect([...exprs.matchAll(/job="([^"]+)"/g)].map((m) => m[1]).filter((j) => j !== `${ns}/${pg.cluster}` && j !== `${ns}/${pg.pooler}`)).toEqual([]);
  });

  test('thresholds are the output\'s: instances, max_connections, the base backup schedule, the dump\'s application name', () => {
    const expr = (alert: string, severity = 'warning') => rulesOf(rule).find((r) => r.alert === alert && r.labels.severity === severity)?.expr as string;
    expect(expr('PostgresHaDegraded')).toMatch(new RegExp(`\\) < ${cluster.spec.instances}$`));
    const maxConnections = Number(cluster.spec.postgresql.parameters.max_connections);
    expect(maxConnections).toBe(MAX_CONNECTIONS);
    expect(expr('PostgresConnectionsNearMax')).toContain(`/ ${maxConnections} > ${CONNECTIONS_WARNING_RATIO}`);
    const schedule = only(objects, 'ScheduledBackup', pg.cluster).spec.schedule as string;
    expect(expr('PostgresBaseBackupTooOld')).toContain(` > ${scheduleGapSeconds(schedule) + BASE_BACKUP_GRACE_SECONDS}\n`);
    const dump = only(objects, 'CronJob', 'backup-database').spec.jobTemplate.spec.template.spec.initContainers
      .find((c: K8sObject) => c.name === 'dump').env.find((e: K8sObject) => e.name === 'PGAPPNAME').value;
    expect(expr('PostgresLongTransaction')).toContain(`application_name!="${dump}"`);
  });
});

test('production\'s values that the thresholds are read from', () => {
  const { objects, pg } = output(production);
  expect(only(objects, 'Cluster', pg.cluster).spec.instances).toBe(3);
  expect(only(objects, 'Cluster', pg.cluster).spec.postgresql.parameters.max_connections).toBe('200');
  expect(only(objects, 'ScheduledBackup', pg.cluster).spec.schedule).toBe('0 0 1 * * *');
  // Daily: 24 h between two backups, and the grace on top.
  expect(scheduleGapSeconds('0 0 1 * * *')).toBe(86400);
  expect(scheduleGapSeconds('0 30 */6 * * *')).toBe(6 * 3600);
  expect(REPLICATION_LAG_WARNING_SECONDS).toBe(60);
  expect(LONG_TRANSACTION_SECONDS).toBe(1800);
});

describe('production, by promtool', () => {
  const { pg, rule } = output(production);
  const NS = production.app.namespace;
  const RUNBOOKS = repositoryFilesUrl(production.delivery.repoURL, production.delivery.targetRevision);
  const C = pg.cluster;
  const P = pg.pooler;
  const pods = [1, 2, 3].map((i) => `${C}-${i}`);

  /** The labels Prometheus gives an instance's series (the PodMonitor's job, the pod, its container and port). */
  const instance = (pod: string): Record<string, string> => ({
    namespace: NS, job: `${NS}/${C}`, pod, container: 'postgres', endpoint: 'metrics', instance: `10.1.0.${pod.slice(-1)}:9187`,
  });
  const bouncer = (pod: string): Record<string, string> => ({
    namespace: NS, job: `${NS}/${P}`, pod, container: 'pgbouncer', endpoint: 'metrics', instance: '10.2.0.1:9127',
  });
  const s = (name: string, labels: Record<string, string>, values: string) =>
    ({ series: `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')}}`, values });
  /** An instance's health as the instance manager reports it: PostgreSQL up, primary or not, its WAL receiver. */
  const member = (pod: string, o: { up?: string; recovery: string; receiver?: string; scraped?: string }) => [
    s('cnpg_collector_up', { ...instance(pod), cluster: C }, o.up ?? '1x12'),
    s('up', instance(pod), o.scraped ?? '1x12'),
    s('cnpg_pg_replication_in_recovery', instance(pod), o.recovery),
    s('cnpg_pg_replication_is_wal_receiver_up', instance(pod), o.receiver ?? (o.recovery.startsWith('0') ? '0x12' : '1x12')),
  ];
  const healthy = () => [...member(pods[0], { recovery: '0x12' }), ...member(pods[1], { recovery: '1x12' }), ...member(pods[2], { recovery: '1x12' })];

  const fired = (alert: string, severity: string, labels: Record<string, string>, summary: string, description: string) => ({
    exp_labels: { severity, namespace: NS, service: alert.startsWith('PgBouncer') ? P : C, ...labels },
    exp_annotations: { summary, description, runbook_url: runbookUrl(RUNBOOKS, alert) },
  });
  const at = (evalTime: string, alertname: string, exp: AlertRuleTest['exp_alerts'] = []): AlertRuleTest => ({ eval_time: evalTime, alertname, exp_alerts: exp });

  const TESTS: RuleTest[] = [
    {
      name: 'PostgresInstanceDown: PostgreSQL down in one pod, after 5 minutes',
      interval: '30s',
      input_series: [...member(pods[0], { recovery: '0x12' }), ...member(pods[1], { up: '0x12', recovery: '1x12' }), ...member(pods[2], { recovery: '1x12' })],
      alert_rule_test: [
        at('4m', 'PostgresInstanceDown'),
        at('6m', 'PostgresInstanceDown', [fired('PostgresInstanceDown', 'warning', { pod: pods[1] },
          `PostgreSQL instance ${pods[1]} of ${C} is down`,
          `PostgreSQL in ${pods[1]} (cluster ${NS}/${C}) has not answered its instance manager, or the instance manager's metrics endpoint could not be scraped, `
          + 'for 5 minutes. The other instances serve meanwhile.')]),
      ],
    },
    {
      name: 'PostgresInstanceDown: an instance manager that cannot be scraped (no cnpg_collector_up at all)',
      interval: '30s',
      input_series: [...member(pods[0], { recovery: '0x12' }), ...member(pods[1], { recovery: '1x12' }),
        s('up', instance(pods[2]), '0x12')],
      alert_rule_test: [at('6m', 'PostgresInstanceDown', [fired('PostgresInstanceDown', 'warning', { pod: pods[2] },
        `PostgreSQL instance ${pods[2]} of ${C} is down`,
        `PostgreSQL in ${pods[2]} (cluster ${NS}/${C}) has not answered its instance manager, or the instance manager's metrics endpoint could not be scraped, `
        + 'for 5 minutes. The other instances serve meanwhile.')])],
    },
    {
      name: 'healthy: three instances up, one primary, two streaming standbys, the synchronous one among them',
      interval: '30s',
      input_series: [
        ...healthy(),
        s('cnpg_pg_replication_streaming_replicas', instance(pods[0]), '2x12'),
        s('cnpg_collector_sync_replicas', { ...instance(pods[0]), value: 'observed' }, '1x12'),
      ],
      alert_rule_test: ['PostgresInstanceDown', 'PostgresClusterDown', 'PostgresHaDegraded'].map((a) => at('6m', a)),
    },
    {
      name: 'PostgresClusterDown: the primary stops and no standby is promoted, for 2 minutes',
      interval: '30s',
      input_series: [...member(pods[0], { up: '0x12', recovery: '0x12' }), ...member(pods[1], { recovery: '1x12' }), ...member(pods[2], { recovery: '1x12' })],
      alert_rule_test: [
        at('1m', 'PostgresClusterDown'),
        at('3m', 'PostgresClusterDown', [fired('PostgresClusterDown', 'critical', {}, `PostgreSQL cluster ${C} has no primary`,
          `No instance of ${NS}/${C} has been an answering primary for 2 minutes: the application cannot write, and the operator has not promoted a standby.`)]),
      ],
    },
    {
      name: 'PostgresClusterDown stays silent through a failover: a standby promoted within a minute',
      interval: '30s',
      input_series: [...member(pods[0], { up: '0x12', recovery: '0x12' }), ...member(pods[1], { recovery: '1 1 0x10', receiver: '1 1 0x10' }),
        ...member(pods[2], { recovery: '1x12' })],
      alert_rule_test: [at('3m', 'PostgresClusterDown'), at('6m', 'PostgresClusterDown')],
    },
    {
      name: 'PostgresHaDegraded: a standby whose WAL receiver is down, for 5 minutes',
      interval: '30s',
      input_series: [
        ...member(pods[0], { recovery: '0x12' }), ...member(pods[1], { recovery: '1x12' }), ...member(pods[2], { recovery: '1x12', receiver: '0x12' }),
        s('cnpg_pg_replication_streaming_replicas', instance(pods[0]), '1x12'),
        s('cnpg_collector_sync_replicas', { ...instance(pods[0]), value: 'observed' }, '1x12'),
      ],
      alert_rule_test: [
        at('4m', 'PostgresHaDegraded'),
        at('6m', 'PostgresHaDegraded', [fired('PostgresHaDegraded', 'warning', {},
          `PostgreSQL cluster ${C} runs with fewer healthy instances than its 3`,
          `Only 2 of the 3 instances of ${NS}/${C} have been up and either primary or streaming from it for 5 minutes: `
          + 'one more failure and the cluster may lose its synchronous standby or its primary.')]),
      ],
    },
    {
      name: 'PostgresHaDegraded: an instance missing altogether',
      interval: '30s',
      input_series: [...member(pods[0], { recovery: '0x12' }), ...member(pods[1], { recovery: '1x12' })],
      alert_rule_test: [at('6m', 'PostgresHaDegraded', [fired('PostgresHaDegraded', 'warning', {},
        `PostgreSQL cluster ${C} runs with fewer healthy instances than its 3`,
        `Only 2 of the 3 instances of ${NS}/${C} have been up and either primary or streaming from it for 5 minutes: `
        + 'one more failure and the cluster may lose its synchronous standby or its primary.')])],
    },
    {
      name: 'PostgresHaDegraded pages: no standby connected to a primary that requires one, for 2 minutes; commits wait',
      interval: '30s',
      input_series: [
        ...member(pods[0], { recovery: '0x12' }), ...member(pods[1], { recovery: '1x12', receiver: '0x12' }), ...member(pods[2], { recovery: '1x12', receiver: '0x12' }),
        s('cnpg_pg_replication_streaming_replicas', instance(pods[0]), '0x12'),
        s('cnpg_collector_sync_replicas', { ...instance(pods[0]), value: 'observed' }, '1x12'),
      ],
      alert_rule_test: [
        at('1m', 'PostgresHaDegraded'),
        // The page only: the ticket for the same standbys waits its 5 minutes.
        // Matched on the pod alone, the result keeps only that label.
        at('3m', 'PostgresHaDegraded', [fired('PostgresHaDegraded', 'critical', { pod: pods[0] },
          `PostgreSQL cluster ${C} has no synchronous standby: commits wait`,
          `The primary ${pods[0]} of ${NS}/${C} has had 0 standbys connected for 2 minutes, fewer than its synchronous replication requires `
          + '(dataDurability: required): every commit waits for a standby, so the application\'s writes hang.')]),
      ],
    },
    {
      name: 'PostgresHaDegraded stays silent after a switchover: the old primary keeps its last synchronous count, but is a standby now',
      interval: '30s',
      input_series: [
        ...member(pods[0], { recovery: '1x12' }), ...member(pods[1], { recovery: '0x12' }), ...member(pods[2], { recovery: '1x12' }),
        s('cnpg_pg_replication_streaming_replicas', instance(pods[0]), '0x12'),
        s('cnpg_collector_sync_replicas', { ...instance(pods[0]), value: 'observed' }, '1x12'),
        s('cnpg_pg_replication_streaming_replicas', instance(pods[1]), '2x12'),
        s('cnpg_collector_sync_replicas', { ...instance(pods[1]), value: 'observed' }, '1x12'),
      ],
      alert_rule_test: [at('6m', 'PostgresHaDegraded')],
    },
    {
      name: 'PostgresReplicationLag: a standby 2 minutes behind for 5 minutes; one 30 s behind is fine',
      interval: '30s',
      input_series: [
        s('cnpg_pg_replication_lag', instance(pods[0]), '0x12'),
        s('cnpg_pg_replication_lag', instance(pods[1]), '120x12'),
        s('cnpg_pg_replication_lag', instance(pods[2]), '30x12'),
      ],
      alert_rule_test: [
        at('4m', 'PostgresReplicationLag'),
        at('6m', 'PostgresReplicationLag', [fired('PostgresReplicationLag', 'warning', instance(pods[1]),
          `PostgreSQL standby ${pods[1]} of ${C} lags behind the primary`,
          `The standby ${pods[1]} of ${NS}/${C} has been replaying WAL 2m 0s behind the primary (more than 1m) for 5 minutes: `
          + 'a failover to it would wait for it to catch up.')]),
      ],
    },
    {
      name: 'PostgresWalArchivingFailing: the last attempt failed, after a success 5 minutes ago',
      interval: '30s',
      input_series: [
        s('cnpg_pg_stat_archiver_seconds_since_last_archival', instance(pods[0]), '300x12'),
        s('cnpg_pg_stat_archiver_last_archived_time', instance(pods[0]), '1000x12'),
        s('cnpg_pg_stat_archiver_last_failed_time', instance(pods[0]), '1100x12'),
      ],
      alert_rule_test: [
        at('1m', 'PostgresWalArchivingFailing'),
        at('3m', 'PostgresWalArchivingFailing', [fired('PostgresWalArchivingFailing', 'critical', instance(pods[0]),
          `PostgreSQL cluster ${C} fails to archive WAL`,
          `The primary ${pods[0]} of ${NS}/${C} has failed to archive WAL to the object store since its last success 5m 0s ago: `
          + 'point-in-time recovery cannot reach past it, and pg_wal grows until archiving works again.')]),
      ],
    },
    {
      name: 'PostgresWalArchivingFailing: nothing archived since the primary started',
      interval: '30s',
      input_series: [
        s('cnpg_pg_stat_archiver_seconds_since_last_archival', instance(pods[0]), '-1x12'),
        s('cnpg_pg_stat_archiver_last_archived_time', instance(pods[0]), '-1x12'),
        s('cnpg_pg_stat_archiver_last_failed_time', instance(pods[0]), '50x12'),
      ],
      alert_rule_test: [at('3m', 'PostgresWalArchivingFailing', [fired('PostgresWalArchivingFailing', 'critical', instance(pods[0]),
        `PostgreSQL cluster ${C} fails to archive WAL`,
        `The primary ${pods[0]} of ${NS}/${C} has failed to archive WAL to the object store since it started (no segment archived yet): `
        + 'point-in-time recovery cannot reach past it, and pg_wal grows until archiving works again.')])],
    },
    {
      name: 'PostgresWalArchivingFailing stays silent once a segment is archived after the last failure',
      interval: '30s',
      input_series: [
        s('cnpg_pg_stat_archiver_seconds_since_last_archival', instance(pods[0]), '20x12'),
        s('cnpg_pg_stat_archiver_last_archived_time', instance(pods[0]), '1000x12'),
        s('cnpg_pg_stat_archiver_last_failed_time', instance(pods[0]), '900x12'),
      ],
      alert_rule_test: [at('6m', 'PostgresWalArchivingFailing')],
    },
    {
      // promtool's clock starts at 0, so the backup's completion is written before it: 26 h 50 min
      // before, within the daily schedule's 24 h and its 3 h of grace until 10 minutes in, then
      // over them (and `for` 10 minutes more).
      name: 'PostgresBaseBackupTooOld: the last base backup over 27 hours old, on every instance',
      interval: '1m',
      input_series: pods.map((p) => s('barman_cloud_cloudnative_pg_io_last_available_backup_timestamp', instance(p), `${-(97200 - 600)}x40`)),
      alert_rule_test: [
        at('15m', 'PostgresBaseBackupTooOld'),
        at('30m', 'PostgresBaseBackupTooOld', [fired('PostgresBaseBackupTooOld', 'warning', {}, `PostgreSQL cluster ${C} has no recent base backup`,
          `The last base backup of ${NS}/${C} completed 1d 3h 20m 0s ago; the schedule "0 0 1 * * *" leaves at most 1d between two.`)]),
      ],
    },
    {
      name: 'PostgresBaseBackupTooOld stays silent with a backup completed an hour ago',
      interval: '1m',
      input_series: pods.map((p) => s('barman_cloud_cloudnative_pg_io_last_available_backup_timestamp', instance(p), '-3600x40')),
      alert_rule_test: [at('30m', 'PostgresBaseBackupTooOld')],
    },
    {
      // The plugin reports 0 when the ObjectStore records no backup of this server.
      name: 'PostgresBaseBackupTooOld: no base backup at all, 3 hours on',
      interval: '5m',
      input_series: pods.map((p) => s('barman_cloud_cloudnative_pg_io_last_available_backup_timestamp', instance(p), '0x48')),
      alert_rule_test: [
        at('2h', 'PostgresBaseBackupTooOld'),
        at('3h30m', 'PostgresBaseBackupTooOld', [fired('PostgresBaseBackupTooOld', 'warning', { last_backup: 'none' }, `PostgreSQL cluster ${C} has no recent base backup`,
          `No base backup of ${NS}/${C} has been recorded in the object store for 3h: point-in-time recovery has nothing to start from.`)]),
      ],
    },
    {
      name: 'PostgresConnectionsNearMax: 170 of 200 connections on the primary for 5 minutes; 150 on a standby is fine',
      interval: '30s',
      input_series: [
        s('cnpg_backends_total', { ...instance(pods[0]), datname: 'portal', usename: 'portal', application_name: '', state: 'active' }, '100x12'),
        s('cnpg_backends_total', { ...instance(pods[0]), datname: 'portal', usename: 'portal', application_name: '', state: 'idle' }, '70x12'),
        s('cnpg_backends_total', { ...instance(pods[1]), datname: 'portal', usename: 'portal', application_name: '', state: 'active' }, '150x12'),
      ],
      alert_rule_test: [
        at('4m', 'PostgresConnectionsNearMax'),
        at('6m', 'PostgresConnectionsNearMax', [fired('PostgresConnectionsNearMax', 'warning', { pod: pods[0] },
          `PostgreSQL instance ${pods[0]} of ${C} is near max_connections`,
          `${pods[0]} of ${NS}/${C} has had 85% of its 200 connections in use for 5 minutes; at the limit new connections are refused `
          + '(the pooler\'s, migrations\', backups\').')]),
      ],
    },
    {
      name: 'PostgresTransactionIdAge: 600 million on portal; 200 million on postgres is what autovacuum keeps',
      interval: '30s',
      input_series: pods.flatMap((p) => [
        s('cnpg_pg_database_xid_age', { ...instance(p), datname: 'portal' }, '600000000x4'),
        s('cnpg_pg_database_xid_age', { ...instance(p), datname: 'postgres' }, '200000000x4'),
      ]),
      alert_rule_test: [at('1m', 'PostgresTransactionIdAge', [fired('PostgresTransactionIdAge', 'warning', { datname: 'portal' },
        `PostgreSQL database portal of ${C} is heading for transaction ID wraparound`,
        `The oldest unfrozen transaction ID of database portal in ${NS}/${C} is 600M transactions old (over 500 million): vacuum is not freezing it. `
        + 'At about 2,100 million PostgreSQL stops taking writes.')])],
    },
    {
      name: 'PostgresTransactionIdAge stays silent at 200 million',
      interval: '30s',
      input_series: pods.map((p) => s('cnpg_pg_database_xid_age', { ...instance(p), datname: 'portal' }, '200000000x4')),
      alert_rule_test: [at('1m', 'PostgresTransactionIdAge')],
    },
    {
      name: 'PostgresLongTransaction: an application transaction open 33 minutes; the nightly dump\'s two hours are expected',
      interval: '30s',
      input_series: [
        s('cnpg_backends_max_tx_duration_seconds',
          { ...instance(pods[0]), datname: 'portal', usename: 'portal', application_name: 'PostgreSQL JDBC Driver', state: 'active' }, '2000x4'),
        s('cnpg_backends_max_tx_duration_seconds',
          { ...instance(pods[0]), datname: 'portal', usename: 'portal', application_name: 'PostgreSQL JDBC Driver', state: 'idle' }, '0x4'),
        s('cnpg_backends_max_tx_duration_seconds',
          { ...instance(pods[1]), datname: 'portal', usename: 'portal', application_name: 'backup-database', state: 'active' }, '7200x4'),
      ],
      alert_rule_test: [at('1m', 'PostgresLongTransaction', [fired('PostgresLongTransaction', 'warning',
        { pod: pods[0], datname: 'portal', usename: 'portal', application_name: 'PostgreSQL JDBC Driver' },
        `A transaction on ${pods[0]} of ${C} has been open for over 30m`,
        `A transaction of portal (PostgreSQL JDBC Driver) on database portal, instance ${pods[0]} of ${NS}/${C}, has been open for 33m 20s: `
        + 'it holds back vacuum on the whole cluster and keeps its locks.')])],
    },
    {
      name: 'PostgresLongTransaction stays silent for transactions of a few seconds',
      interval: '30s',
      input_series: [s('cnpg_backends_max_tx_duration_seconds',
        { ...instance(pods[0]), datname: 'portal', usename: 'portal', application_name: 'PostgreSQL JDBC Driver', state: 'active' }, '2x4')],
      alert_rule_test: [at('1m', 'PostgresLongTransaction')],
    },
    {
      name: 'PgBouncerClientsWaiting: 12 clients queued, the oldest 3 s, for 5 minutes',
      interval: '30s',
      input_series: [
        s('cnpg_pgbouncer_pools_cl_waiting', { ...bouncer(`${P}-7d9c-abcde`), database: 'portal', user: 'portal' }, '12x12'),
        s('cnpg_pgbouncer_pools_maxwait', { ...bouncer(`${P}-7d9c-abcde`), database: 'portal', user: 'portal' }, '3x12'),
      ],
      alert_rule_test: [
        at('4m', 'PgBouncerClientsWaiting'),
        at('6m', 'PgBouncerClientsWaiting', [fired('PgBouncerClientsWaiting', 'warning', { ...bouncer(`${P}-7d9c-abcde`), database: 'portal', user: 'portal' },
          `PgBouncer ${P}-7d9c-abcde of ${P} keeps clients waiting for a server connection`,
          `12 clients of portal on database portal have been waiting in ${P}-7d9c-abcde (${NS}/${P}), the oldest for over 1 s, for 5 minutes: `
          + `every server connection of the pool (default_pool_size ${production.data.postgres?.pooler.defaultPoolSize}) is busy.`)]),
      ],
    },
    {
      name: 'PgBouncerClientsWaiting stays silent when clients queue for under a second',
      interval: '30s',
      input_series: [
        s('cnpg_pgbouncer_pools_cl_waiting', { ...bouncer(`${P}-7d9c-abcde`), database: 'portal', user: 'portal' }, '5x12'),
        s('cnpg_pgbouncer_pools_maxwait', { ...bouncer(`${P}-7d9c-abcde`), database: 'portal', user: 'portal' }, '0x12'),
      ],
      alert_rule_test: [at('6m', 'PgBouncerClientsWaiting')],
    },
  ];

  test('every alert has a test where it fires and one where it stays silent', () => {
    expect(alertNames([rule]).length).toBe(10);
    expect(untestedAlerts([rule], TESTS)).toEqual({ neverFires: [], neverSilent: [] });
  });

  test.each(alertNames([rule]))('%s fires and stays silent as expected', (alert) => {
    const r = testRules([rule], testsOf(alert, TESTS));
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });
});
