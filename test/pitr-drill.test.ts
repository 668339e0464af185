/**
 * The point-in-time recovery drill, with real PostgreSQL 15: the recovery steps of
 * runbooks/restore-database-point-in-time.md (its switch, a commit adopting the recovered cluster,
 * is test/restore-plan.test.ts's), with the object store replaced by a local folder and
 * CloudNativePG's bootstrap.recovery by what it does underneath (base backup + restore_command +
 * recovery_target_time + recovery.signal). The servers run what is synthesized: the production
 * Cluster's `postgresql.parameters` (archive_timeout scaled down: a pure delay) and its archive path
 * (Barman server name); the recovery runs the Cluster that `npm run restore-plan` writes: its
 * parameters, its recovery target, the archive it reads and the new one it writes.
 *
 *   1. WAL archiving on (archive_mode, an archive_command copying to the "object store" under the
 *      Cluster's server name, and the Cluster's archive_timeout, scaled down to seconds)
 *   2. a base backup (the ScheduledBackup)
 *   3. rows written after the backup, then the time noted (what an operator reads from the logs)
 *      and `npm run restore-plan --to` that time
 *   4. a destructive change (DROP TABLE, DELETE)
 *   5. recovery of the base backup into a NEW data directory to the plan's target time, reading the
 *      plan's source archive and archiving to the plan's NEW server name, promoted at the target
 *   6. the rows are back, the destructive change is not, and the original archive is untouched.
 *
 * PostgreSQL here is Debian's 15; the Cluster and the recovery Cluster run POSTGRES_IMAGE
 * (PostgreSQL 17, charts/common/images.ts). WAL archiving, restore_command and recovery targets
 * work alike in both; a Cluster parameter that only 17 knows would fail this drill (and would have
 * to be left out here, saying so).
 *
 * Every wait is bounded; every server started is stopped by PID (SIGINT, then SIGKILL). The
 * servers write their logs straight to files (see startPostgres), never through a pipe this
 * process must drain.
 */
import type { ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { dataEndpoints } from '../environments/model/names';
import type { K8sObject } from '../pipeline/k8s-object';
import {
  asPostgres, PG_BIN, postgresDir, production, sql, sqlAsync, startPostgres, stopPostgres, type Server,
} from './support/backup-harness';
import { commandEnv, runCommand, type CommandResult } from './support/command';
import { REPO } from './support/repository-copy';
import { waitFor } from './support/wait';

/**
 * Scaled-down archive_timeout: production's (≤ 60 s, asserted below) bounds how far the archive lags
 * a quiet database; here the same mechanism with 2 s, so the drill takes seconds.
 */
const ARCHIVE_TIMEOUT_SECONDS = 2;

const { env, objects } = production();
const clusterName = dataEndpoints(env).postgres?.cluster;
const archiveTimeoutSeconds = env.data.postgres?.archiveTimeoutSeconds;
const cluster = objects.find((o) => o.kind === 'Cluster' && o.metadata.name === clusterName);
if (!cluster || archiveTimeoutSeconds === undefined) throw new Error(`no Cluster ${clusterName} in the production output`);

/** The Cluster's WAL archiver: the Barman Cloud plugin, its object store and server name (archive path). */
function walArchiver(c: K8sObject): { barmanObjectName: string; serverName: string } {
  const archivers = (c.spec.plugins ?? []).filter((p: K8sObject) => p.isWALArchiver === true);
  expect(archivers).toHaveLength(1);
  return archivers[0].parameters;
}

/**
 * A Cluster's `postgresql.parameters` as postgresql.conf lines, archive_timeout scaled down. They
 * come after the drill's own archiving settings, so a parameter that broke archiving or recovery
 * (wal_level = minimal, archive_mode = off) would break the drill too.
 */
function clusterParameters(c: K8sObject): string[] {
  const parameters: Record<string, string> = { ...c.spec.postgresql.parameters, archive_timeout: `${ARCHIVE_TIMEOUT_SECONDS}s` };
  return Object.entries(parameters).map(([name, value]) => `${name} = '${value.replace(/'/g, "''")}'`);
}

/**
 * `npm run restore-plan -- --env <env> --to <to> --out <out>`, as the runbook runs it, without npm's
 * own start-up (seconds on a loaded machine): package.json's command in a shell, with
 * node_modules/.bin on PATH and the arguments appended, which is what npm does. Resolves with its output.
 */
function restorePlan(to: string, out: string): Promise<CommandResult> {
  const command = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).scripts['restore-plan'];
  expect(command).toMatch(/scripts\/restore-plan\.ts$/);
  return runCommand('sh', ['-c', `${command} "$@"`, 'restore-plan', '--env', env.name, '--to', to, '--out', out], {
    cwd: REPO, env: commandEnv({ PATH: `${join(REPO, 'node_modules', '.bin')}:${process.env.PATH}` }), started: (c) => commands.push(c),
  });
}

/**
 * PostgreSQL's recovery_target_time does not take RFC 3339's `T` and `Z` ("invalid value");
 * CloudNativePG converts targetTime to PostgreSQL's format the same way before writing it.
 */
const postgresTime = (rfc3339: string) => rfc3339.replace('T', ' ').replace(/Z$/i, '+00');

let work: string;
const servers: Server[] = [];
/** Commands still running when a test fails are killed at the end. */
const commands: ChildProcess[] = [];

/** One SQL script through psql in the drill's database; tuples only, unaligned. */
const portal = (server: Server, script: string) => sql(server, 'portal', script);

/** WAL segment files (not .history, .partial or backup labels) in an archive folder. */
function segments(dir: string): string[] {
  return readdirSync(dir).filter((f) => /^[0-9A-F]{24}$/.test(f)).sort();
}

beforeAll(() => {
  work = postgresDir(mkdtempSync(join(tmpdir(), 'shipshape-pitr-')));
});

afterAll(async () => {
  for (const c of commands) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(servers.map(stopPostgres));
  if (work) rmSync(work, { recursive: true, force: true });
}, 60_000);

test('production archives within at most 60 s, under its own server name', () => {
  // What the drill cannot run at its own pace: the RPO bound docs/disaster-recovery.md promises.
  const timeout = cluster.spec.postgresql.parameters.archive_timeout;
  expect(timeout).toBe(`${archiveTimeoutSeconds}s`);
  expect(Number(/^(\d+)s$/.exec(timeout)?.[1])).toBeLessThanOrEqual(60);
  expect(walArchiver(cluster).serverName).toBe(clusterName);
});

test('a base backup plus archived WAL recovers, as the restore plan says, to a time between the rows and the destructive change', async () => {
  const objectStore = postgresDir(join(work, 'object-store'));
  const archive = postgresDir(join(objectStore, walArchiver(cluster).serverName));
  const primary = await startPostgres(work, {
    name: 'primary',
    // 1 MB segments keep the copies small; the archiving mechanism is the same as with 16 MB.
    initdb: ['--wal-segsize=1'],
    conf: [
      'wal_level = replica',
      'archive_mode = on',
      // Never overwrite a segment already archived (what Barman Cloud refuses too).
      `archive_command = 'test ! -f ${archive}/%f && cp %p ${archive}/%f'`,
      ...clusterParameters(cluster),
    ],
  });
  servers.push(primary);
  sql(primary, 'postgres', 'CREATE DATABASE portal');
  portal(primary, `CREATE TABLE students (id int PRIMARY KEY, name text NOT NULL);
    CREATE TABLE enrollments (student_id int NOT NULL, course text NOT NULL);
    INSERT INTO students SELECT g, 'before backup ' || g FROM generate_series(1, 100) g;
    INSERT INTO enrollments SELECT g, 'course ' || (g % 7) FROM generate_series(1, 100) g;`);

  // 2. The base backup; pg_basebackup waits until the WAL it needs is archived, as Barman does.
  const backup = join(work, 'base-backup');
  asPostgres(join(PG_BIN, 'pg_basebackup'), ['-h', primary.socket, '-U', 'postgres', '-D', backup, '-X', 'none', '--checkpoint=fast', '--no-sync']);

  // 3. Rows written after the backup: only the archived WAL can bring these back.
  portal(primary, `INSERT INTO students SELECT g, 'after backup ' || g FROM generate_series(101, 250) g;
    INSERT INTO enrollments SELECT g, 'course ' || (g % 7) FROM generate_series(101, 250) g;`);
  const target = portal(primary, `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`);
  expect(target).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  // The plan is synthesized while the damage happens and the archive catches up.
  const planFile = join(work, 'restore-plan.yaml');
  const planned = restorePlan(target, planFile);

  // 4. The destructive change.
  portal(primary, 'DELETE FROM enrollments WHERE course = \'course 3\'; DROP TABLE students;');
  const destructiveLsn = portal(primary, 'SELECT pg_current_wal_lsn()');
  const destructiveSegment = portal(primary, `SELECT pg_walfile_name('${destructiveLsn}')`);
  const written = Date.now();

  // The new data directory the recovery starts from: the base backup (copied while the plan runs).
  const restoredData = join(work, 'restored-data');
  cpSync(backup, restoredData, { recursive: true });

  // No pg_switch_wal(): archive_timeout alone must bring the last commits to the archive, which is
  // the RPO bound the configuration promises for a quiet database.
  const primaryLog = () => `--- ${primary.log}\n${readFileSync(primary.log, 'utf8')}`;
  const archived = await waitFor(`segment ${destructiveSegment} in the archive through archive_timeout`, 30_000,
    () => segments(archive).find((s) => s.slice(8) >= destructiveSegment.slice(8)), { context: primaryLog });
  // When the archiver copied it (the copy's mtime), not when this busy process looked.
  expect(statSync(join(archive, archived)).mtimeMs - written).toBeLessThan((ARCHIVE_TIMEOUT_SECONDS + 10) * 1000);

  // 5. The plan: a recovery Cluster of the production archive, to the noted time, archiving anew.
  const plan = await planned;
  if (plan.status !== 0) throw new Error(`npm run restore-plan failed (${plan.status}):\n${plan.stdout}${plan.stderr}`);
  // The runbook's warning for a target this recent: wait archive_timeout before trusting the archive.
  expect(plan.stdout).toContain(`the target is less than archive_timeout (${archiveTimeoutSeconds}s) ago`);
  const planObjects = parseAllDocuments(readFileSync(planFile, 'utf8')).map((d) => d.toJS() as K8sObject);
  const recoveryCluster = planObjects.find((o) => o.kind === 'Cluster');
  if (!recoveryCluster) throw new Error(`the plan holds no Cluster:\n${readFileSync(planFile, 'utf8')}`);
  const { recovery } = recoveryCluster.spec.bootstrap;
  expect(recovery.recoveryTarget).toEqual({ targetTime: target });
  const source = recoveryCluster.spec.externalClusters.find((e: K8sObject) => e.name === recovery.source)?.plugin.parameters;
  expect(source).toEqual(walArchiver(cluster));
  // The application reaches it through the plan's own Pooler, once the environment adopts it.
  expect(planObjects.filter((o) => o.kind === 'Pooler').map((o) => o.spec.cluster.name)).toEqual([recoveryCluster.metadata.name]);
  const newServerName = walArchiver(recoveryCluster).serverName;
  expect(newServerName).toBe(recoveryCluster.metadata.name);
  expect(newServerName).not.toBe(source.serverName);
  expect(walArchiver(recoveryCluster).barmanObjectName).toBe(source.barmanObjectName);
  const sourceArchive = join(objectStore, source.serverName);
  const newArchive = postgresDir(join(objectStore, newServerName));

  // Recovery into a new data directory, beside the damaged server (which keeps running, as the
  // production cluster does until the application is switched).
  writeFileSync(join(restoredData, 'recovery.signal'), '');
  const restored = await startPostgres(work, {
    name: 'restored',
    data: restoredData,
    conf: [
      ...clusterParameters(recoveryCluster),
      `restore_command = 'cp ${sourceArchive}/%f %p'`,
      `recovery_target_time = '${postgresTime(recovery.recoveryTarget.targetTime)}'`,
      'recovery_target_action = promote',
      // The recovered server archives to a new path: the old one stays as it was, for another try.
      `archive_command = 'test ! -f ${newArchive}/%f && cp %p ${newArchive}/%f'`,
    ],
  });
  servers.push(restored);
  const restoredLog = () => `--- ${restored.log}\n${readFileSync(restored.log, 'utf8')}`;
  const promoted = async () => (await sqlAsync(restored, 'portal', 'SELECT pg_is_in_recovery()')) === 'f';
  await waitFor('the recovered server to be promoted', 30_000, promoted, {
    check: () => {
      if (restored.process.exitCode !== null) throw new Error(`the recovered server exited with ${restored.process.exitCode}:\n${restoredLog()}`);
    },
    context: restoredLog,
  });

  // 6. The rows are back and the destructive change is not.
  expect(portal(restored, 'SELECT count(*), min(id), max(id) FROM students')).toBe('250|1|250');
  expect(portal(restored, "SELECT count(*) FROM students WHERE name LIKE 'after backup %'")).toBe('150');
  expect(portal(restored, "SELECT count(*) FROM enrollments WHERE course = 'course 3'")).toBe(String(
    Array.from({ length: 250 }, (_, i) => i + 1).filter((g) => g % 7 === 3).length));
  // The startup process writes this line to the log file itself before recovery ends, so it is
  // there once the server is promoted.
  expect(readFileSync(restored.log, 'utf8')).toMatch(/recovery stopping before commit of transaction \d+, time /);
  // A new timeline, and it goes to the new archive path only.
  expect(portal(restored, 'SELECT timeline_id FROM pg_control_checkpoint()')).not.toBe('1');
  portal(restored, 'CREATE TABLE after_recovery (id int); SELECT pg_switch_wal();');
  await waitFor('the recovered server to archive to the new path', 15_000,
    () => readdirSync(newArchive).some((f) => f.endsWith('.history')) && segments(newArchive).length > 0, { context: restoredLog });
  // The original archive only ever received timeline 1 (the damaged server's own WAL).
  expect(readdirSync(archive).filter((f) => !f.startsWith('00000001'))).toEqual([]);
  // The damaged server still shows the damage: nothing was recovered in place.
  expect(portal(primary, "SELECT to_regclass('public.students') IS NULL")).toBe('t');

  await stopPostgres(restored);
  await stopPostgres(primary);
}, 90_000);
