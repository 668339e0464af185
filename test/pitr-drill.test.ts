/**
 * The point-in-time recovery drill, with real PostgreSQL 15: the same steps as
 * runbooks/restore-database-point-in-time.md, with the object store replaced by a local folder and
 * CloudNativePG's bootstrap.recovery by what it does underneath (base backup + restore_command +
 * recovery_target_time + recovery.signal).
 *
 *   1. WAL archiving on (archive_mode, an archive_command copying to the "object store", and
 *      archive_timeout, as the Cluster's archiveTimeoutSeconds sets it, scaled down to seconds)
 *   2. a base backup (the ScheduledBackup)
 *   3. rows written after the backup, then the time noted (what an operator reads from the logs)
 *   4. a destructive change (DROP TABLE, DELETE)
 *   5. recovery of the base backup into a NEW data directory to the noted time, archiving to a
 *      NEW archive path (the restore plan's new serverName), promoted when the target is reached
 *   6. the rows are back, the destructive change is not, and the original archive is untouched.
 *
 * Every wait is bounded; every server started is stopped by PID (SIGINT, then SIGKILL).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = '/usr/lib/postgresql/15/bin';
/**
 * Scaled-down archive_timeout: production's archiveTimeoutSeconds (≤ 60) bounds how far the archive
 * lags a quiet database; here the same mechanism with 2 s, so the drill takes seconds.
 */
const ARCHIVE_TIMEOUT_SECONDS = 2;

const postgresUser = (() => {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('no postgres user: install postgresql-15 (scripts/test-tools.sh)');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
})();

let work: string;
const servers: ChildProcess[] = [];

function asPostgres(path: string): void {
  chownSync(path, postgresUser.uid, postgresUser.gid);
}

function runAsPostgres(cmd: string, args: string[], timeout = 30_000): string {
  const r = spawnSync(join(BIN, cmd), args, { ...postgresUser, encoding: 'utf8', timeout, cwd: work, env: { PATH: process.env.PATH, LC_ALL: 'C' } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Server { readonly data: string; readonly socket: string; readonly log: string; readonly process: ChildProcess }

/** Start postgres on a data directory, listening only on a socket in its own folder. */
async function start(data: string, name: string): Promise<Server> {
  const socket = join(work, `${name}-socket`);
  mkdirSync(socket, { mode: 0o755 });
  asPostgres(socket);
  const log = join(work, `${name}.log`);
  const child = spawn(join(BIN, 'postgres'), ['-D', data, '-k', socket, '-c', 'listen_addresses='], {
    ...postgresUser, cwd: work, stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH, LC_ALL: 'C' },
  });
  servers.push(child);
  child.stderr?.on('data', (chunk: Buffer) => appendFileSync(log, chunk));
  const server = { data, socket, log, process: child };
  await waitFor(`${name} to accept connections (log: ${log})`, 30_000, () => {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${existsSync(log) ? readFileSync(log, 'utf8') : ''}`);
    return spawnSync(join(BIN, 'pg_isready'), ['-h', socket, '-q'], { timeout: 5_000 }).status === 0;
  });
  return server;
}

/** SIGINT (fast shutdown), then SIGKILL if it is not gone within 15 s. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); resolve(); }, 15_000);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill('SIGINT');
  });
}

/** One SQL script through psql; tuples only, unaligned. */
function sql(server: Server, script: string): string {
  return runAsPostgres('psql', ['-h', server.socket, '-U', 'postgres', '-d', 'portal', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', script]).trim();
}

/** WAL segment files (not .history, .partial or backup labels) in an archive folder. */
function segments(dir: string): string[] {
  return readdirSync(dir).filter((f) => /^[0-9A-F]{24}$/.test(f)).sort();
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'shipshape-pitr-'));
  chmodSync(work, 0o755);
  asPostgres(work);
});

afterAll(async () => {
  await Promise.all(servers.map(stop));
  if (work) rmSync(work, { recursive: true, force: true });
}, 60_000);

test('a base backup plus archived WAL recovers to a time between the rows and the destructive change', async () => {
  const primaryData = join(work, 'primary');
  const archive = join(work, 'archive', 'student-portal-db');
  const newArchive = join(work, 'archive', 'student-portal-db-restore');
  for (const dir of [join(work, 'archive'), archive, newArchive]) {
    mkdirSync(dir, { recursive: true });
    asPostgres(dir);
  }
  // 1 MB segments keep the copies small; the archiving mechanism is the same as with 16 MB.
  runAsPostgres('initdb', ['-D', primaryData, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--wal-segsize=1']);
  appendFileSync(join(primaryData, 'postgresql.conf'), [
    'fsync = off',
    'wal_level = replica',
    'archive_mode = on',
    // Never overwrite a segment already archived (what Barman Cloud refuses too).
    `archive_command = 'test ! -f ${archive}/%f && cp %p ${archive}/%f'`,
    `archive_timeout = '${ARCHIVE_TIMEOUT_SECONDS}s'`,
    '',
  ].join('\n'));
  const primary = await start(primaryData, 'primary');
  runAsPostgres('createdb', ['-h', primary.socket, '-U', 'postgres', 'portal']);
  sql(primary, `CREATE TABLE students (id int PRIMARY KEY, name text NOT NULL);
    CREATE TABLE enrollments (student_id int NOT NULL, course text NOT NULL);
    INSERT INTO students SELECT g, 'before backup ' || g FROM generate_series(1, 100) g;
    INSERT INTO enrollments SELECT g, 'course ' || (g % 7) FROM generate_series(1, 100) g;`);

  // 2. The base backup; pg_basebackup waits until the WAL it needs is archived, as Barman does.
  const backup = join(work, 'base-backup');
  runAsPostgres('pg_basebackup', ['-h', primary.socket, '-U', 'postgres', '-D', backup, '-X', 'none', '--checkpoint=fast', '--no-sync']);

  // 3. Rows written after the backup: only the archived WAL can bring these back.
  sql(primary, `INSERT INTO students SELECT g, 'after backup ' || g FROM generate_series(101, 250) g;
    INSERT INTO enrollments SELECT g, 'course ' || (g % 7) FROM generate_series(101, 250) g;`);
  const target = sql(primary, `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`);
  expect(target).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

  // 4. The destructive change.
  sql(primary, 'DELETE FROM enrollments WHERE course = \'course 3\'; DROP TABLE students;');
  const destructiveLsn = sql(primary, 'SELECT pg_current_wal_lsn()');
  const destructiveSegment = sql(primary, `SELECT pg_walfile_name('${destructiveLsn}')`);

  // No pg_switch_wal(): archive_timeout alone must bring the last commits to the archive, which is
  // the RPO bound the configuration promises for a quiet database.
  const written = Date.now();
  await waitFor(`segment ${destructiveSegment} in the archive through archive_timeout`, (ARCHIVE_TIMEOUT_SECONDS + 10) * 1000,
    () => segments(archive).some((s) => s.slice(8) >= destructiveSegment.slice(8)));
  expect(Date.now() - written).toBeLessThan((ARCHIVE_TIMEOUT_SECONDS + 10) * 1000);

  // 5. Recovery into a new data directory, beside the damaged server (which keeps running, as the
  // production cluster does until the application is switched).
  const restoredData = join(work, 'restored');
  cpSync(backup, restoredData, { recursive: true });
  spawnSync('chown', ['-R', `${postgresUser.uid}:${postgresUser.gid}`, restoredData]);
  chmodSync(restoredData, 0o700);
  appendFileSync(join(restoredData, 'postgresql.conf'), [
    `restore_command = 'cp ${archive}/%f %p'`,
    // PostgreSQL's recovery_target_time does not take RFC 3339's `T` and `Z` ("invalid value");
    // CloudNativePG converts targetTime to PostgreSQL's format the same way before writing it.
    `recovery_target_time = '${target.replace('T', ' ').replace(/Z$/, '+00')}'`,
    'recovery_target_action = promote',
    // The recovered server archives to a new path: the old one stays as it was, for another try.
    `archive_command = 'test ! -f ${newArchive}/%f && cp %p ${newArchive}/%f'`,
    '',
  ].join('\n'));
  writeFileSync(join(restoredData, 'recovery.signal'), '');
  asPostgres(join(restoredData, 'recovery.signal'));
  const restored = await start(restoredData, 'restored');
  await waitFor('the recovered server to be promoted', 30_000, () => sql(restored, 'SELECT pg_is_in_recovery()') === 'f');

  // 6. The rows are back and the destructive change is not.
  expect(sql(restored, 'SELECT count(*), min(id), max(id) FROM students')).toBe('250|1|250');
  expect(sql(restored, "SELECT count(*) FROM students WHERE name LIKE 'after backup %'")).toBe('150');
  expect(sql(restored, "SELECT count(*) FROM enrollments WHERE course = 'course 3'")).toBe(String(
    Array.from({ length: 250 }, (_, i) => i + 1).filter((g) => g % 7 === 3).length));
  expect(readFileSync(restored.log, 'utf8')).toMatch(/recovery stopping before commit of transaction \d+, time /);
  // A new timeline, and it goes to the new archive path only.
  expect(sql(restored, 'SELECT timeline_id FROM pg_control_checkpoint()')).not.toBe('1');
  sql(restored, 'CREATE TABLE after_recovery (id int); SELECT pg_switch_wal();');
  await waitFor('the recovered server to archive to the new path', 15_000,
    () => readdirSync(newArchive).some((f) => f.endsWith('.history')) && segments(newArchive).length > 0);
  // The original archive only ever received timeline 1 (the damaged server's own WAL).
  expect(readdirSync(archive).filter((f) => !f.startsWith('00000001'))).toEqual([]);
  // The damaged server still shows the damage: nothing was recovered in place.
  expect(sql(primary, "SELECT to_regclass('public.students') IS NULL")).toBe('t');

  await stop(restored.process);
  await stop(primary.process);
}, 90_000);
