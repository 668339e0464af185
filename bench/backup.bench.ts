/**
 * `npm run bench:backup`: backup and restore throughput with real PostgreSQL 15 and restic on a
 * generated database of at least 1 GB, the recovery time that projects to production's database
 * size, and the recovery point the configuration guarantees. Figures for docs/disaster-recovery.md.
 *
 * What runs (all local: a PostgreSQL on a Unix socket, a restic repository in a folder):
 *   generate  a portal-like schema (students, courses, enrollments; primary keys, a unique index,
 *             foreign keys, a secondary index) sized to --size-gb, calibrated on a small sample
 *   dump      pg_dump --format=custom, as charts/backup/scripts/dump-database.sh runs it
 *   store     restic backup --stdin of the dump, as backup-database.sh does
 *   fetch     restic dump of that snapshot back to a file (the first step of a restore)
 *   restore   pg_restore --jobs N into a new database, then row counts compared
 *   replay    WAL replay rate: a base backup, a write workload, then recovery of the base backup
 *             through restore_command to the end of the archive (what point-in-time recovery does
 *             after the base backup is down)
 *   archive   archive lag of a quiet database with archive_timeout at production's value: a
 *             commit right after a segment switch, until its segment is archived (the RPO bound)
 *
 * The server runs with production's memory settings (charts/data/postgres-parameters.ts) and with
 * fsync on while measuring (off only while generating). Throughput is reported in MB/s (10^6
 * bytes) of the database size (pg_database_size) for dump and restore, of dump bytes for restic.
 *
 * Options
 *   --size-gb X           database size to generate, GB (10^9 bytes); at least 1 (default 1.1)
 *   --jobs N              pg_restore --jobs (default 2, this machine's cores)
 *   --replay-mb N         WAL to generate for the replay measurement, MB (default 512)
 *   --overhead-minutes N  fixed time of a restore besides moving data: scheduling, volumes, image
 *                         pulls, checks, switching the application. An assumption (default 15)
 *   --fill F              share of production's data volume the database fills (default 1: the
 *                         volume's size, an upper bound)
 *   --skip-archive-lag    skip the archive-lag measurement (it waits up to archive_timeout)
 *   --work DIR            where to put the data (default: a new folder in the system temp dir)
 *   --keep                keep the work folder
 *   --json FILE           also write the results as JSON
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, cpSync, createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { postgresParameters } from '../charts/data/postgres-parameters';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { parseQuantity } from '../environments/quantity';
import { synthObjects } from '../pipeline/synth';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = '/usr/lib/postgresql/15/bin';
const MB = 1e6;
const GB = 1e9;

// ---------------------------------------------------------------------------------------------
// Options

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}
function numberOption(name: string, fallback: number, min: number): number {
  const raw = option(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number of at least ${min}, not ${raw}`);
  return n;
}
const SIZE_GB = numberOption('size-gb', 1.1, 1);
const JOBS = Math.round(numberOption('jobs', 2, 1));
const REPLAY_MB = numberOption('replay-mb', 512, 16);
const OVERHEAD_MINUTES = numberOption('overhead-minutes', 15, 0);
const FILL = numberOption('fill', 1, 0.01);
const SKIP_ARCHIVE_LAG = process.argv.includes('--skip-archive-lag');
const KEEP = process.argv.includes('--keep');
const JSON_OUT = option('json');

// ---------------------------------------------------------------------------------------------
// Configuration the projections start from

const production = (() => {
  const env = resolveEnvironments(environments, repo).find((e) => e.production);
  if (!env) throw new Error('no production environment in environments/');
  return env;
})();
const pgConfig = production.data.postgres ?? (() => { throw new Error('the production environment has no data.postgres to benchmark'); })();
const backupConfig = production.backups ?? (() => { throw new Error('the production environment has no backups to benchmark'); })();
const liveCluster = synthObjects(production).map((o) => o.object).find((o) => o.kind === 'Cluster');
if (!liveCluster) throw new Error('production synthesizes no CloudNativePG Cluster');
const synchronous = liveCluster.spec.postgresql?.synchronous as { method?: string; number?: number; dataDurability?: string } | undefined;

// ---------------------------------------------------------------------------------------------
// PostgreSQL as the postgres user, on a socket in the work folder

const postgresUser = (() => {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('no postgres user: apt-get install -y --no-install-recommends postgresql-15');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
})();
const asRoot = process.getuid?.() === 0;
const runAs = asRoot ? postgresUser : {};
const chown = (path: string) => { if (asRoot) chownSync(path, postgresUser.uid, postgresUser.gid); };
const childEnv = { PATH: `${BIN}:${process.env.PATH ?? ''}`, LC_ALL: 'C', HOME: tmpdir() };

const work = option('work') ? resolve(option('work') as string) : mkdtempSync(join(tmpdir(), 'shipshape-bench-backup-'));
mkdirSync(work, { recursive: true });
chmodSync(work, 0o755);
chown(work);

function mkdir(path: string): string {
  mkdirSync(path, { recursive: true });
  chown(path);
  return path;
}

function log(message: string): void {
  process.stderr.write(`bench:backup: ${message}\n`);
}

/** Run a tool (as postgres when we are root); throws with its output when it fails. */
function run(cmd: string, args: string[], options: { input?: string; timeoutMs?: number } = {}): string {
  const r = spawnSync(cmd, args, {
    ...runAs, cwd: work, env: childEnv, encoding: 'utf8', input: options.input,
    timeout: options.timeoutMs ?? 60 * 60 * 1000, maxBuffer: 256 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal ?? r.error?.message}):\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  return r.stdout;
}

/** Seconds a function takes. */
function timed<T>(f: () => T): [T, number] {
  const start = process.hrtime.bigint();
  const value = f();
  return [value, Number(process.hrtime.bigint() - start) / 1e9];
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(what: string, timeoutMs: number, probe: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(100);
  }
}

interface Server { readonly name: string; readonly data: string; readonly socket: string; readonly child: ChildProcess; readonly log: string }
const servers: Server[] = [];

async function startServer(name: string, data: string, timeoutMs = 120_000): Promise<Server> {
  const socket = mkdir(join(work, `${name}-socket`));
  const logFile = join(work, `${name}.log`);
  const child = spawn(join(BIN, 'postgres'), ['-D', data, '-k', socket, '-c', 'listen_addresses='], {
    ...runAs, cwd: work, env: childEnv, stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', (chunk: Buffer) => appendFileSync(logFile, chunk));
  const server = { name, data, socket, child, log: logFile };
  servers.push(server);
  await waitFor(`${name} to accept connections (see ${logFile})`, timeoutMs, () => {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''}`);
    return spawnSync(join(BIN, 'pg_isready'), ['-h', socket, '-q'], { timeout: 5000 }).status === 0;
  });
  return server;
}

async function stopServer(server: Server): Promise<void> {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolveStop) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); resolveStop(); }, 60_000);
    child.once('exit', () => { clearTimeout(timer); resolveStop(); });
    child.kill('SIGINT');
  });
}

function sql(server: Server, db: string, script: string): string {
  return run(join(BIN, 'psql'), ['-h', server.socket, '-U', 'postgres', '-d', db, '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', script]).trim();
}

// ---------------------------------------------------------------------------------------------
// The generated database

const STUDENTS_PER_UNIT = 10_000;
const SCHEMA = `
CREATE TABLE students (id bigint NOT NULL, email text NOT NULL, name text NOT NULL, enrolled_at timestamptz NOT NULL, profile text NOT NULL);
CREATE TABLE courses (id int NOT NULL, code text NOT NULL, title text NOT NULL, description text NOT NULL);
CREATE TABLE enrollments (student_id bigint NOT NULL, course_id int NOT NULL, term text NOT NULL, grade numeric(4,2), created_at timestamptz NOT NULL);
INSERT INTO courses SELECT c, 'C' || lpad(c::text, 5, '0'), initcap(md5(c::text)), repeat(md5((c * 13)::text), 8) FROM generate_series(1, 5000) c;`;
/** Students (and twelve enrollments each) from..to: text that compresses like real text does not, on purpose. */
const unitRows = (from: number, to: number) => `
INSERT INTO students SELECT g, 'student' || g || '@university.example', initcap(md5(g::text)) || ' ' || initcap(md5((g + 1)::text)),
  timestamptz '2020-09-01' + (g % 2000) * interval '1 day', md5((g * 7)::text) || md5((g * 11)::text) || md5((g * 17)::text)
  FROM generate_series(${from}, ${to}) g;
INSERT INTO enrollments SELECT s, 1 + ((s * 31 + t) % 5000), 'T' || t, ((s + t) % 400) / 100.0, timestamptz '2021-01-01' + ((s + t) % 20000) * interval '1 hour'
  FROM generate_series(${from}, ${to}) s, generate_series(1, 12) t;`;
const CONSTRAINTS = `
ALTER TABLE students ADD PRIMARY KEY (id);
CREATE UNIQUE INDEX students_email ON students (email);
ALTER TABLE courses ADD PRIMARY KEY (id);
ALTER TABLE enrollments ADD PRIMARY KEY (student_id, course_id, term);
ALTER TABLE enrollments ADD FOREIGN KEY (student_id) REFERENCES students (id);
ALTER TABLE enrollments ADD FOREIGN KEY (course_id) REFERENCES courses (id);
CREATE INDEX enrollments_course ON enrollments (course_id);`;

async function generate(server: Server, db: string, units: number): Promise<void> {
  run(join(BIN, 'createdb'), ['-h', server.socket, '-U', 'postgres', db]);
  sql(server, db, SCHEMA);
  const students = units * STUDENTS_PER_UNIT;
  const chunk = 100_000;
  for (let from = 1; from <= students; from += chunk) {
    sql(server, db, unitRows(from, Math.min(students, from + chunk - 1)));
    if ((from - 1) % (chunk * 10) === 0) log(`  ${db}: ${Math.min(students, from + chunk - 1)} of ${students} students`);
  }
  sql(server, db, CONSTRAINTS);
  sql(server, db, 'VACUUM ANALYZE');
}

const dbSize = (server: Server, db: string) => Number(sql(server, db, 'SELECT pg_database_size(current_database())'));
const counts = (server: Server, db: string) =>
  sql(server, db, 'SELECT (SELECT count(*) FROM students) || \' \' || (SELECT count(*) FROM courses) || \' \' || (SELECT count(*) FROM enrollments)');

// ---------------------------------------------------------------------------------------------
// The measurement

interface Results {
  readonly machine: { cpus: number; cpuModel: string; node: string; postgres: string; restic: string; loadAverageBefore: number; loadAverageAfter: number };
  readonly database: { bytes: number; rows: string; generateSeconds: number };
  readonly dump: { seconds: number; bytes: number; mbPerSecond: number };
  readonly resticBackup: { seconds: number; mbPerSecond: number; repositoryBytes: number };
  readonly resticFetch: { seconds: number; mbPerSecond: number };
  readonly restore: { jobs: number; seconds: number; mbPerSecond: number };
  readonly replay?: { walBytes: number; seconds: number; mbPerSecond: number };
  readonly archiveLag?: { archiveTimeoutSeconds: number; seconds: number };
  readonly projection: Record<string, unknown>;
  readonly rpo: Record<string, unknown>;
}

function duSize(path: string): number {
  return Number(spawnSync('du', ['-sb', path], { encoding: 'utf8' }).stdout.split('\t')[0]);
}

/** Pipe a file into a command's stdin (restic backup --stdin), time it. */
function pipeInto(file: string, cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolveRun, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd: work, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => { stderr += c; });
    child.stdout.resume();
    createReadStream(file).pipe(child.stdin);
    child.on('error', reject);
    child.on('close', (code) => code === 0
      ? resolveRun(Number(process.hrtime.bigint() - start) / 1e9)
      : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}: ${stderr}`)));
  });
}

/** Run a command with stdout into a file, time it. */
function pipeFrom(file: string, cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolveRun, reject) => {
    const start = process.hrtime.bigint();
    const out = createWriteStream(file);
    const child = spawn(cmd, args, { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => { stderr += c; });
    child.stdout.pipe(out);
    child.on('error', reject);
    child.on('close', (code) => out.end(() => code === 0
      ? resolveRun(Number(process.hrtime.bigint() - start) / 1e9)
      : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}: ${stderr}`))));
  });
}

async function main(): Promise<Results> {
  // The machine may be shared: the load average says how much else ran meanwhile.
  const loadAverageBefore = loadavg()[0];
  log(`work folder ${work}`);
  const archive = mkdir(join(work, 'wal-archive'));
  const data = join(work, 'primary');
  run(join(BIN, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const parameters = postgresParameters({ memoryLimit: pgConfig.resources.limits.memory, archiveTimeoutSeconds: pgConfig.archiveTimeoutSeconds });
  appendFileSync(join(data, 'postgresql.conf'), [
    '# production\'s settings (charts/data/postgres-parameters.ts)',
    ...Object.entries(parameters).map(([k, v]) => `${k} = '${v}'`),
    'wal_level = replica',
    'archive_mode = on',
    `archive_command = 'test ! -f ${archive}/%f && cp %p ${archive}/%f'`,
    // Generation only; switched on before anything is measured.
    'fsync = off',
    'synchronous_commit = off',
    '',
  ].join('\n'));
  const primary = await startServer('primary', data);

  // Calibrate: bytes per unit of rows, indexes included, on a small sample.
  log('calibrating on a sample');
  await generate(primary, 'sample', 5);
  const empty = Number(sql(primary, 'postgres', 'SELECT pg_database_size(current_database())'));
  const perUnit = (dbSize(primary, 'sample') - empty) / 5;
  sql(primary, 'postgres', 'DROP DATABASE sample');
  // A little over: the sample's per-row size is an estimate.
  const units = Math.ceil((SIZE_GB * GB * 1.03) / perUnit);
  log(`generating ${units * STUDENTS_PER_UNIT} students, ${units * STUDENTS_PER_UNIT * 12} enrollments (about ${(units * perUnit / GB).toFixed(2)} GB)`);
  const genStart = Date.now();
  await generate(primary, 'portal', units);
  const generated = (Date.now() - genStart) / 1000;
  const bytes = dbSize(primary, 'portal');
  if (bytes < GB) throw new Error(`generated only ${(bytes / GB).toFixed(2)} GB; the benchmark needs at least 1 GB`);
  const rows = counts(primary, 'portal');
  log(`database portal: ${(bytes / GB).toFixed(3)} GB, rows (students courses enrollments) ${rows}`);

  for (const statement of ['ALTER SYSTEM SET fsync = on', 'ALTER SYSTEM SET synchronous_commit = on', 'SELECT pg_reload_conf()']) sql(primary, 'postgres', statement);
  sql(primary, 'postgres', 'CHECKPOINT');
  spawnSync('sync');

  // Dump, as dump-database.sh does.
  const dumpFile = join(mkdir(join(work, 'dump')), 'portal.dump');
  log('pg_dump --format=custom');
  const [, dumpSeconds] = timed(() => run(join(BIN, 'pg_dump'), ['-h', primary.socket, '-U', 'postgres', '--format=custom', '--file', dumpFile, 'portal']));
  const dumpBytes = statSync(dumpFile).size;

  // Store it in restic, as backup-database.sh does, and fetch it back.
  const resticRepo = join(work, 'restic');
  const passwordFile = join(work, 'restic-password');
  writeFileSync(passwordFile, 'benchmark\n', { mode: 0o600 });
  const resticEnv = { ...process.env, RESTIC_REPOSITORY: resticRepo, RESTIC_PASSWORD_FILE: passwordFile, RESTIC_CACHE_DIR: join(work, 'restic-cache') };
  const restic = (args: string[]) => {
    const r = spawnSync('restic', args, { env: resticEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`restic ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };
  restic(['init']);
  log('restic backup --stdin');
  const backupSeconds = await pipeInto(dumpFile, 'restic', ['backup', '--stdin', '--stdin-filename', 'portal.dump', '--host', 'bench', '--tag', 'database'], resticEnv);
  const snapshot = (JSON.parse(restic(['snapshots', '--json', '--latest', '1'])) as Array<{ short_id: string }>)[0].short_id;
  const fetched = join(work, 'dump', 'fetched.dump');
  log('restic dump (fetch the dump back)');
  const fetchSeconds = await pipeFrom(fetched, 'restic', ['dump', snapshot, '/portal.dump'], resticEnv);
  if (statSync(fetched).size !== dumpBytes) throw new Error('the dump read back from restic differs in size');
  chown(fetched);

  // Restore into a new database with parallel jobs.
  run(join(BIN, 'createdb'), ['-h', primary.socket, '-U', 'postgres', 'restored']);
  log(`pg_restore --jobs ${JOBS}`);
  const [, restoreSeconds] = timed(() => run(join(BIN, 'pg_restore'), ['-h', primary.socket, '-U', 'postgres', '--jobs', String(JOBS), '--exit-on-error', '--no-owner', '-d', 'restored', fetched]));
  const restoredRows = counts(primary, 'restored');
  if (restoredRows !== rows) throw new Error(`restored rows ${restoredRows} differ from ${rows}`);
  sql(primary, 'postgres', 'DROP DATABASE restored');
  rmSync(join(work, 'dump'), { recursive: true, force: true });

  // WAL replay rate: base backup, a write workload, recovery to the end of the archive.
  log('WAL replay: base backup, write workload, recovery');
  const base = join(work, 'base');
  run(join(BIN, 'pg_basebackup'), ['-h', primary.socket, '-U', 'postgres', '-D', base, '-X', 'none', '--checkpoint=fast']);
  const startLsn = sql(primary, 'postgres', 'SELECT pg_current_wal_lsn()');
  // Updates touching rows and indexes, like an application's writes, until enough WAL is written.
  let batch = 0;
  while (Number(sql(primary, 'postgres', `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '${startLsn}')`)) < REPLAY_MB * MB) {
    sql(primary, 'portal', `UPDATE enrollments SET grade = (grade + 0.01) % 4, created_at = created_at + interval '1 second' WHERE student_id % 50 = ${batch % 50}`);
    batch++;
  }
  const endLsn = sql(primary, 'postgres', 'SELECT pg_current_wal_lsn()');
  const walBytes = Number(sql(primary, 'postgres', `SELECT pg_wal_lsn_diff('${endLsn}', '${startLsn}')`));
  const lastSegment = sql(primary, 'postgres', 'SELECT pg_walfile_name(pg_current_wal_lsn())');
  sql(primary, 'postgres', 'SELECT pg_switch_wal()');
  await waitFor('the workload\'s WAL to be archived', 10 * 60_000, () => existsSync(join(archive, lastSegment)));
  const replayData = join(work, 'replayed');
  cpSync(base, replayData, { recursive: true });
  if (asRoot) spawnSync('chown', ['-R', `${postgresUser.uid}:${postgresUser.gid}`, replayData]);
  chmodSync(replayData, 0o700);
  appendFileSync(join(replayData, 'postgresql.conf'), [
    `restore_command = 'cp ${archive}/%f %p'`,
    'recovery_target_action = promote',
    "archive_mode = 'off'",
    '',
  ].join('\n'));
  writeFileSync(join(replayData, 'recovery.signal'), '');
  chown(join(replayData, 'recovery.signal'));
  const replayStart = Date.now();
  const replica = await startServer('replayed', replayData, 60 * 60_000);
  await waitFor('recovery to finish', 60 * 60_000, () => sql(replica, 'postgres', 'SELECT pg_is_in_recovery()') === 'f');
  const replaySeconds = (Date.now() - replayStart) / 1000;
  await stopServer(replica);
  rmSync(replayData, { recursive: true, force: true });
  rmSync(base, { recursive: true, force: true });

  // Archive lag of a quiet database at production's archive_timeout.
  let archiveLag: Results['archiveLag'];
  if (!SKIP_ARCHIVE_LAG) {
    log(`archive lag at archive_timeout = ${pgConfig.archiveTimeoutSeconds}s (waits about that long)`);
    sql(primary, 'portal', 'CREATE TABLE IF NOT EXISTS heartbeat (at timestamptz)');
    const switched = sql(primary, 'postgres', 'SELECT pg_walfile_name(pg_switch_wal())');
    await waitFor('the switched segment to be archived', 120_000, () => existsSync(join(archive, switched)));
    sql(primary, 'portal', 'INSERT INTO heartbeat VALUES (now())');
    const committed = Date.now();
    const segment = sql(primary, 'postgres', 'SELECT pg_walfile_name(pg_current_wal_lsn())');
    await waitFor(`segment ${segment} to be archived`, (pgConfig.archiveTimeoutSeconds + 120) * 1000, () => existsSync(join(archive, segment)));
    archiveLag = { archiveTimeoutSeconds: pgConfig.archiveTimeoutSeconds, seconds: (Date.now() - committed) / 1000 };
  }

  const postgresVersion = run(join(BIN, 'postgres'), ['--version']).trim();
  const resticVersion = spawnSync('restic', ['version'], { encoding: 'utf8' }).stdout.trim();
  await stopServer(primary);

  // Projections for production's database.
  const volumeBytes = parseQuantity(pgConfig.storage.size);
  const projectedBytes = volumeBytes * FILL;
  const scale = projectedBytes / bytes;
  const logicalSeconds = scale * (fetchSeconds + restoreSeconds);
  const replayRate = walBytes / replaySeconds;
  const results: Results = {
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, postgres: postgresVersion, restic: resticVersion, loadAverageBefore, loadAverageAfter: loadavg()[0] },
    database: { bytes, rows, generateSeconds: generated },
    dump: { seconds: dumpSeconds, bytes: dumpBytes, mbPerSecond: bytes / MB / dumpSeconds },
    resticBackup: { seconds: backupSeconds, mbPerSecond: dumpBytes / MB / backupSeconds, repositoryBytes: duSize(resticRepo) },
    resticFetch: { seconds: fetchSeconds, mbPerSecond: dumpBytes / MB / fetchSeconds },
    restore: { jobs: JOBS, seconds: restoreSeconds, mbPerSecond: bytes / MB / restoreSeconds },
    replay: { walBytes, seconds: replaySeconds, mbPerSecond: replayRate / MB },
    archiveLag,
    projection: {
      storageSize: pgConfig.storage.size,
      fill: FILL,
      databaseBytes: projectedBytes,
      logicalRestoreSeconds: logicalSeconds,
      overheadMinutes: OVERHEAD_MINUTES,
      logicalRtoMinutes: logicalSeconds / 60 + OVERHEAD_MINUTES,
      dumpSeconds: scale * dumpSeconds,
      walReplaySecondsPerGB: GB / replayRate,
    },
    rpo: {
      archiveTimeoutSeconds: pgConfig.archiveTimeoutSeconds,
      synchronous,
      instances: pgConfig.instances,
      databaseDumpSchedule: backupConfig.databaseSchedule,
      filesSchedule: backupConfig.filesSchedule,
      baseBackupSchedule: pgConfig.baseBackupSchedule,
      retentionPolicy: pgConfig.retentionPolicy,
    },
  };
  return results;
}

function report(r: Results): string {
  const f = (n: number, d = 1) => n.toFixed(d);
  const p = r.projection as {
    storageSize: string; fill: number; databaseBytes: number; logicalRestoreSeconds: number;
    overheadMinutes: number; logicalRtoMinutes: number; dumpSeconds: number; walReplaySecondsPerGB: number;
  };
  const sync = r.rpo.synchronous as { method?: string; number?: number; dataDurability?: string } | undefined;
  return [
    `Machine: ${r.machine.cpus} × ${r.machine.cpuModel}; ${r.machine.postgres}; ${r.machine.restic}; Node ${r.machine.node}; 1-minute load average ${f(r.machine.loadAverageBefore, 2)} before, ${f(r.machine.loadAverageAfter, 2)} after`,
    `Database: ${f(r.database.bytes / GB, 3)} GB (pg_database_size), rows students/courses/enrollments ${r.database.rows.replaceAll(' ', '/')}, generated in ${f(r.database.generateSeconds)} s`,
    '',
    '| step | seconds | MB/s | of |',
    '|---|---:|---:|---|',
    `| pg_dump --format=custom | ${f(r.dump.seconds)} | ${f(r.dump.mbPerSecond)} | database size (dump file ${f(r.dump.bytes / MB, 0)} MB) |`,
    `| restic backup --stdin of the dump | ${f(r.resticBackup.seconds)} | ${f(r.resticBackup.mbPerSecond)} | dump size (repository ${f(r.resticBackup.repositoryBytes / MB, 0)} MB) |`,
    `| restic dump (fetch the dump back) | ${f(r.resticFetch.seconds)} | ${f(r.resticFetch.mbPerSecond)} | dump size |`,
    `| pg_restore --jobs ${r.restore.jobs} into a new database | ${f(r.restore.seconds)} | ${f(r.restore.mbPerSecond)} | database size |`,
    ...(r.replay ? [`| WAL replay (recovery of a base backup through restore_command) | ${f(r.replay.seconds)} | ${f(r.replay.mbPerSecond)} | WAL (${f(r.replay.walBytes / MB, 0)} MB) |`] : []),
    '',
    `Projected for production (data.postgres.storage.size ${p.storageSize} × fill ${p.fill} = ${f(p.databaseBytes / GB)} GB of database):`,
    `  logical restore (restic dump + pg_restore --jobs ${r.restore.jobs}): ${f(p.logicalRestoreSeconds / 60)} min of data movement + ${p.overheadMinutes} min assumed fixed overhead = RTO ${f(p.logicalRtoMinutes)} min`,
    `  nightly pg_dump would take about ${f(p.dumpSeconds / 60)} min`,
    `  point-in-time recovery replays WAL at ${f(p.walReplaySecondsPerGB)} s per GB, after the base backup is downloaded`,
    '',
    `RPO inputs: archive_timeout ${r.rpo.archiveTimeoutSeconds}s; synchronous ${sync ? `method ${sync.method}, number ${sync.number}, dataDurability ${sync.dataDurability}` : 'off'}; ${r.rpo.instances} instances`,
    ...(r.archiveLag ? [`  measured: a commit right after a segment switch reached the archive ${f(r.archiveLag.seconds)} s later (archive_timeout ${r.archiveLag.archiveTimeoutSeconds} s)`] : []),
    '',
  ].join('\n');
}

main().then((r) => {
  process.stdout.write(report(r));
  if (JSON_OUT) writeFileSync(JSON_OUT, `${JSON.stringify(r, null, 2)}\n`);
}, (e: unknown) => {
  process.stderr.write(`bench:backup: failed: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exitCode = 1;
}).finally(async () => {
  for (const s of servers) await stopServer(s);
  if (KEEP) log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
});
