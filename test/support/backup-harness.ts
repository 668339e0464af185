/**
 * Runs the shipped backup scripts as the CronJobs run them, against real components: a throwaway
 * PostgreSQL on a Unix socket, and restic repositories in local folders instead of s3: URLs.
 *
 * A script's environment is the one its container gets in the synthesized CronJob, with only the
 * settings that name places of this machine replaced (repository URL, socket, scratch folders, the
 * restic binary and password file). Every replaced name must exist in the container's env, so a
 * renamed variable fails here rather than in the cluster. Scripts, servers and restic all run as
 * the postgres user: initdb refuses root, and the pods run as non-root too. They run in UTC, as the
 * pods do (no TZ in their image), whatever zone this machine is set to.
 *
 * The tools are this machine's, not the pinned images': PostgreSQL 15 (Debian's postgresql-15)
 * where the pods and the Cluster run POSTGRES_IMAGE (PostgreSQL 17), and restic 0.14 (Debian's)
 * where the pods run RESTIC_IMAGE (restic 0.18.1); see charts/common/images.ts. So what passes here
 * is the scripts' logic, their exit codes and their reading of 0.14's output; a flag or message
 * that only the newer versions have is not run (see retryLockOverride), and a parameter PostgreSQL
 * 15 does not know fails here although 17 would take it.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import {
  appendFileSync, chmodSync, chownSync, closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { dumpName } from '../../charts/backup/backup-jobs';
import { scriptsDirectory } from '../../charts/backup/backup-scripts';
import { RESTIC_IMAGE } from '../../charts/common/images';
import type { EnvironmentDefinition } from '../../environments/define';
import { environments } from '../../environments/index';
import { resolveEnvironments } from '../../environments/load';
import { appIdentity } from '../../environments/model/identity';
import { INJECTED_ENV } from '../../environments/model/injected-env';
import { dataEndpoints } from '../../environments/model/names';
import type { Environment } from '../../environments/schema';
import type { K8sObject } from '../../pipeline/k8s-object';
import { synthObjects } from '../../pipeline/synth';
import { variant } from './fixtures';
import { mac, makeKeyCheap, masterKey } from './restic-fast-key';
import { waitFor } from './wait';

export const PG_BIN = '/usr/lib/postgresql/15/bin';
export const SCRIPTS = scriptsDirectory();

export const postgresUser = (() => {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('no postgres user: install postgresql-15 (scripts/test-tools.sh)');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
})();

/** What the backups of an environment with a database and uploaded files are called. */
export interface BackupNames {
  /** The CronJobs. */
  readonly databaseJob: string;
  readonly filesJob: string;
  readonly verifyJob: string;
  /** The application database, and the name its dump has in the scratch volume and the snapshots. */
  readonly database: string;
  readonly dump: string;
  /** restic's host of every snapshot: the application in its environment. */
  readonly host: string;
}

function backupNames(env: Environment): BackupNames {
  const { postgres, backups } = dataEndpoints(env);
  if (!postgres || !backups?.database || !backups.uploads) throw new Error(`${env.name} has no database and files backups`);
  return {
    databaseJob: backups.database.job,
    filesJob: backups.uploads.job,
    verifyJob: backups.verifyJob,
    database: postgres.database,
    dump: dumpName(postgres.database),
    host: appIdentity(env).instance,
  };
}

/** The production environment and its definition (the configuration before validation). */
function productionEnvironment(): { env: Environment; definition: EnvironmentDefinition } {
  const env = resolveEnvironments(environments, process.cwd()).find((e) => e.production);
  const definition = environments.find((d) => d.name === env?.name);
  if (!env || !definition) throw new Error('no production environment');
  return { env, definition };
}

/** The production environment, its synthesized objects (what the cluster would run) and the names of its backups. */
export function production(): { env: Environment; objects: K8sObject[]; names: BackupNames } {
  const { env } = productionEnvironment();
  return { env, objects: synthObjects(env).map((o) => o.object), names: backupNames(env) };
}

/**
 * Production as an application with only one of its data components that backups cover: its
 * configuration less the other component (and the backup settings only that one has), synthesized.
 * What the cluster would run for an application with only a database, or only uploaded files.
 */
export function productionWithOnly(component: 'postgres' | 'uploads'): { env: Environment; objects: K8sObject[] } {
  const { definition } = productionEnvironment();
  const other = component === 'postgres' ? 'uploads' : 'postgres';
  const env = variant(definition, {}, (c) => {
    delete c.data[other];
    // Services, workers and scheduled jobs alike.
    type Workload = { uses?: string[]; env?: Record<string, string>; migration?: unknown };
    const workloads = [...Object.values(c.services), ...Object.values(c.workers ?? {}), ...Object.values(c.jobs ?? {})] as Workload[];
    for (const s of workloads) {
      s.uses = (s.uses ?? []).filter((u) => u !== other);
      // A migration changes the database's schema: it goes with the database.
      if (other === 'postgres') delete s.migration;
      // Settings built from the other component's variables go with it.
      for (const [name, value] of Object.entries(s.env ?? {})) {
        if (INJECTED_ENV[other].some((v) => value.includes(`$(${v})`))) delete s.env?.[name];
      }
    }
    if (other === 'uploads') delete c.backups.filesSchedule;
    else {
      delete c.backups.databaseSchedule;
      delete c.backups.verifyTables;
    }
  });
  return { env, objects: synthObjects(env).map((o) => o.object) };
}

/** A folder owned by the postgres user (mode 755), created under `parent` or the system temp dir. */
export function postgresDir(path?: string): string {
  const dir = path ?? mkdtempSync(join(tmpdir(), 'shipshape-backup-'));
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  chownSync(dir, postgresUser.uid, postgresUser.gid);
  return dir;
}

/** A pod's writable volumes (its scratch emptyDir and TMPDIR), new for each run, like a new pod's. */
export interface PodDirs { readonly scratch: string; readonly tmp: string }

/** A factory of fresh pod directories under `work()` (a function: `work` is usually set in beforeAll). */
export function podDirectories(work: () => string): { newPod(): PodDirs; readonly count: number } {
  let count = 0;
  return {
    newPod() {
      count += 1;
      const base = postgresDir(join(work(), `pod-${count}`));
      return { scratch: postgresDir(join(base, 'scratch')), tmp: postgresDir(join(base, 'tmp')) };
    },
    get count() { return count; },
  };
}

/** Chown a tree to the postgres user (files the test wrote as root). */
export function giveToPostgres(path: string): void {
  chownSync(path, postgresUser.uid, postgresUser.gid);
  if (statSync(path).isDirectory()) for (const entry of readdirSync(path)) giveToPostgres(join(path, entry));
}

const BASE_ENV = { PATH: `${PG_BIN}:/usr/local/bin:/usr/bin:/bin`, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8', TZ: 'Etc/UTC' };

/** A command as the postgres user; throws with its output when it fails. */
export function asPostgres(cmd: string, args: string[], env: Record<string, string> = {}, input?: string): string {
  const r = spawnSync(cmd, args, { ...postgresUser, encoding: 'utf8', timeout: 60_000, env: { ...BASE_ENV, ...env }, input, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/**
 * A command as the postgres user without blocking the event loop, so that a waitFor deadline holds
 * while it runs (spawnSync would hold the deadline up until its own timeout); killed after `timeoutMs`.
 */
export function asPostgresAsync(cmd: string, args: string[], timeoutMs = 10_000): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...postgresUser, env: BASE_ENV, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => { stdout += chunk; });
    child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk; });
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

export interface Server { readonly socket: string; readonly data: string; readonly process: ChildProcess; readonly log: string }

export interface PostgresOptions {
  /** Names its data directory, socket folder and log in `work`. @default 'pg' */
  readonly name?: string;
  /** More initdb arguments (a WAL segment size). */
  readonly initdb?: readonly string[];
  /** Start on this data directory (a copied base backup) instead of a new initdb: it is given to postgres, mode 700. */
  readonly data?: string;
  /** postgresql.conf lines, after the harness's own (fsync = off on a new data directory), so they win. */
  readonly conf?: readonly string[];
}

/**
 * A server listening only on a socket in `work` (listen_addresses is set on the command line, so
 * no configuration can open TCP), its log written by the server itself to `<name>.log`: a log
 * read through a pipe fills the pipe and stalls postgres whenever this process is busy in a
 * spawnSync. Resolves once pg_isready answers; a server that exits or does not answer within 30 s
 * fails with its log, and is killed.
 */
export async function startPostgres(work: string, options: PostgresOptions = {}): Promise<Server> {
  const name = options.name ?? 'pg';
  const socket = postgresDir(join(work, `${name}-socket`));
  const log = join(work, `${name}.log`);
  let data = options.data;
  if (data === undefined) {
    data = join(work, `${name}-data`);
    const initdbArgs = ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '--encoding=UTF8', '--no-locale', ...(options.initdb ?? [])];
    asPostgres(join(PG_BIN, 'initdb'), initdbArgs);
    appendFileSync(join(data, 'postgresql.conf'), 'fsync = off\n');
  } else {
    giveToPostgres(data);
    chmodSync(data, 0o700);
  }
  if (options.conf) appendFileSync(join(data, 'postgresql.conf'), `${options.conf.join('\n')}\n`);
  const out = openSync(log, 'a');
  let child: ChildProcess;
  try {
    child = spawn(join(PG_BIN, 'postgres'), ['-D', data, '-k', socket, '-c', 'listen_addresses='], {
      ...postgresUser, stdio: ['ignore', out, out], env: BASE_ENV,
    });
  } finally {
    closeSync(out);
  }
  const server = { socket, data, process: child, log };
  const logText = () => `--- ${log}\n${existsSync(log) ? readFileSync(log, 'utf8') : ''}`;
  try {
    await waitFor(`PostgreSQL ${name} to accept connections`, 30_000,
      async () => (await asPostgresAsync(join(PG_BIN, 'pg_isready'), ['-h', socket, '-q'], 5_000)).status === 0, {
        check: () => { if (child.exitCode !== null) throw new Error(`postgres ${name} exited with ${child.exitCode}:\n${logText()}`); },
        context: logText,
      });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return server;
}

/** SIGINT (fast shutdown), then SIGKILL if it is not gone within 15 s. */
export async function stopPostgres(server: Server | undefined): Promise<void> {
  const child = server?.process;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); resolve(); }, 15_000);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill('SIGINT');
  });
}

/** psql, tuples only, unaligned, stopping at the first error. */
export function sql(server: Server, database: string, script: string): string {
  return asPostgres(join(PG_BIN, 'psql'), ['-h', server.socket, '-U', 'postgres', '-d', database, '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', script]).trim();
}

/** `sql` without blocking the event loop: for probes in waitFor. */
export async function sqlAsync(server: Server, database: string, script: string): Promise<string> {
  const args = ['-h', server.socket, '-U', 'postgres', '-d', database, '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', script];
  const r = await asPostgresAsync(join(PG_BIN, 'psql'), args);
  if (r.status !== 0) throw new Error(`psql -c ${JSON.stringify(script)} failed (${r.status}):\n${r.stdout}${r.stderr}`);
  return r.stdout.trim();
}

/** md5 of a table's rows in a fixed order: equal checksums, equal contents. */
export function tableChecksum(server: Server, database: string, table: string): string {
  return sql(server, database, `SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '') FROM ${table} t`);
}

/**
 * A portal-like database: the tables the verification checks, with keys, an index, a sequence,
 * NULLs, Unicode, JSON, timestamps and `bytes` of incompressible bytea, so the dump spans several
 * restic chunks and a second dump shares most of them with the first.
 */
export function createPortal(server: Server, database: string, bytes = 0): void {
  sql(server, 'postgres', `CREATE DATABASE ${database}`);
  sql(server, database, `
    CREATE TABLE students (id serial PRIMARY KEY, name text NOT NULL, email text UNIQUE, enrolled_at timestamptz, profile jsonb);
    CREATE TABLE courses (id int PRIMARY KEY, title text NOT NULL, credits numeric(4,1));
    CREATE TABLE enrollments (student_id int REFERENCES students, course_id int REFERENCES courses, grade text, PRIMARY KEY (student_id, course_id));
    CREATE INDEX enrollments_course ON enrollments (course_id);
    CREATE TABLE attachments (id int PRIMARY KEY, content bytea);
    INSERT INTO students (name, email, enrolled_at, profile)
      SELECT 'Student ' || g || CASE WHEN g % 7 = 0 THEN ' Ærøskøbing ✓' ELSE '' END,
             CASE WHEN g % 11 = 0 THEN NULL ELSE 's' || g || '@university.example' END,
             timestamptz '2024-09-01 08:00+00' + g * interval '1 hour',
             jsonb_build_object('year', 1 + g % 5, 'tags', jsonb_build_array('a', g))
      FROM generate_series(1, 2000) g;
    INSERT INTO courses SELECT g, 'Course ' || g, (g % 10) + 0.5 FROM generate_series(1, 50) g;
    INSERT INTO enrollments SELECT s, 1 + (s * 7 + k) % 50, CASE WHEN k = 0 THEN NULL ELSE 'A' END
      FROM generate_series(1, 2000) s, generate_series(0, 2) k;
  `);
  if (bytes > 0) {
    // Random bytes do not compress: the dump stays about this large.
    const rows = Math.ceil(bytes / 65536);
    sql(server, database, `INSERT INTO attachments SELECT g, (SELECT string_agg(decode(md5(random()::text || g || i), 'hex'), '') FROM generate_series(1, 4096) i) FROM generate_series(1, ${rows}) g`);
  }
}

export const PORTAL_TABLES = ['students', 'courses', 'enrollments', 'attachments'];

// ---------------------------------------------------------------------------------------------
// restic

export const RESTIC = '/usr/bin/restic';
const PASSWORD = 'correct horse battery staple';

export interface Repositories {
  /** A password file with the right key, and one with a wrong key. */
  readonly passwordFile: string;
  readonly wrongPasswordFile: string;
}

/** Password files in `work`, readable by the postgres user only. */
export function passwordFiles(work: string): Repositories {
  const passwordFile = join(work, 'restic-password');
  const wrongPasswordFile = join(work, 'wrong-password');
  writeFileSync(passwordFile, PASSWORD, { mode: 0o600 });
  writeFileSync(wrongPasswordFile, 'not the password', { mode: 0o600 });
  giveToPostgres(passwordFile);
  giveToPostgres(wrongPasswordFile);
  return { passwordFile, wrongPasswordFile };
}

/** restic as the postgres user, with a fresh cache as every pod has, stdin closed. */
export function restic(repository: string, passwordFile: string, args: string[], work: string, input = ''): string {
  const cache = postgresDir(mkdtempSync(join(work, 'cache-')));
  try {
    return asPostgres(RESTIC, args, { RESTIC_REPOSITORY: repository, RESTIC_PASSWORD_FILE: passwordFile, RESTIC_CACHE_DIR: cache, HOME: work }, input);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}

/** `restic dump <snapshot> <file>` into `target`, as the postgres user, bytes untouched. */
export function resticDumpToFile(repository: string, passwordFile: string, snapshot: string, file: string, target: string, work: string): void {
  const cache = postgresDir(mkdtempSync(join(work, 'cache-')));
  const fd = openSync(target, 'w');
  try {
    const r = spawnSync(RESTIC, ['dump', snapshot, file], {
      ...postgresUser, timeout: 60_000, stdio: ['ignore', fd, 'pipe'], encoding: 'utf8',
      env: { ...BASE_ENV, RESTIC_REPOSITORY: repository, RESTIC_PASSWORD_FILE: passwordFile, RESTIC_CACHE_DIR: cache, HOME: work },
    });
    if (r.status !== 0) throw new Error(`restic dump ${snapshot} ${file} failed (${r.status ?? r.signal}):\n${r.stderr}`);
  } finally {
    closeSync(fd);
    rmSync(cache, { recursive: true, force: true });
  }
}

const version = (text: string, pattern: RegExp): number[] => {
  const m = pattern.exec(text);
  if (!m) throw new Error(`no version in ${JSON.stringify(text)}`);
  return m[1].split('.').map(Number);
};
const atLeast = (v: readonly number[], min: readonly number[]) => {
  const i = v.findIndex((n, k) => n !== (min[k] ?? 0));
  return i < 0 || v[i] > (min[i] ?? 0);
};

/** --retry-lock came with restic 0.16. */
const RETRY_LOCK_SINCE = [0, 16, 0];
let resticHere: number[] | undefined;

/**
 * The override a test gives RESTIC_RETRY_LOCK: none when restic here takes --retry-lock, else
 * null (left out; Debian's 0.14 would reject the flag). What is left out is asserted instead: the
 * container sets a wait, and the restic its pod runs (RESTIC_IMAGE's tag) has the flag.
 */
export function retryLockOverride(c: K8sObject): { RESTIC_RETRY_LOCK?: null } {
  const wait = containerEnv(c, {}).RESTIC_RETRY_LOCK;
  if (!/^[1-9][0-9]*[smh]$/.test(wait ?? '')) throw new Error(`container ${c.name} sets no RESTIC_RETRY_LOCK wait (${wait})`);
  const pinned = version(RESTIC_IMAGE, /:(\d+\.\d+\.\d+)@/);
  if (!atLeast(pinned, RETRY_LOCK_SINCE)) throw new Error(`RESTIC_IMAGE is restic ${pinned.join('.')}, which has no --retry-lock`);
  resticHere ??= version(asPostgres(RESTIC, ['version']), /^restic (\d+\.\d+\.\d+)/);
  return atLeast(resticHere, RETRY_LOCK_SINCE) ? {} : { RESTIC_RETRY_LOCK: null };
}

/** A new repository, its key made cheap to derive (see restic-fast-key.ts). */
export function initRepository(path: string, passwordFile: string, work: string): void {
  restic(path, passwordFile, ['init'], work);
  makeKeyCheap(path, PASSWORD);
  giveToPostgres(path);
}

/** A copy of a repository (same key), owned by the postgres user. */
export function cloneRepository(from: string, to: string): string {
  cpSync(from, to, { recursive: true });
  giveToPostgres(to);
  return to;
}

/** Snapshot IDs, read from the repository folder itself: no key derivation, no lock. */
export function snapshotIds(repository: string): string[] {
  const dir = join(repository, 'snapshots');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/** A snapshot as `restic snapshots --json` lists it. */
export interface SnapshotInfo {
  readonly id: string;
  readonly short_id?: string;
  readonly time: string;
  readonly parent?: string;
  readonly tree: string;
  readonly paths: string[];
  readonly hostname: string;
  readonly tags?: string[];
  readonly [field: string]: unknown;
}

/** Every snapshot of the repository, oldest first. */
export function listSnapshots(repository: string, passwordFile: string, work: string): SnapshotInfo[] {
  const list = JSON.parse(restic(repository, passwordFile, ['snapshots', '--json'], work)) as SnapshotInfo[];
  return list.sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
}

/**
 * Copies of `template`, a snapshot restic made, dated `times` (oldest first) and written into the
 * repository the way restic writes a snapshot: its JSON encrypted with the master key (AES-256-CTR,
 * Poly1305-AES over the ciphertext), stored under the SHA-256 of the file, each naming the one before
 * as its parent as `restic backup` does. Same tree, host, paths and tags: to `restic forget` they are
 * the runs of a schedule, made in milliseconds where `restic backup --time` takes a lock and about
 * 0.4 s each. Returns their IDs, in the order of `times`.
 */
export function writeBackdatedSnapshots(repository: string, template: SnapshotInfo, times: readonly Date[]): string[] {
  const key = masterKey(repository, PASSWORD);
  const { id: _id, short_id: _shortId, parent: _parent, ...fields } = template;
  const ids: string[] = [];
  for (const time of times) {
    const parent = ids.at(-1);
    const json = Buffer.from(JSON.stringify({ ...fields, time: time.toISOString(), ...(parent ? { parent } : {}) }));
    const iv = randomBytes(16);
    const ciphertext = createCipheriv('aes-256-ctr', key.encrypt, iv).update(json);
    const file = Buffer.concat([iv, ciphertext, mac(ciphertext, iv, key)]);
    const id = createHash('sha256').update(file).digest('hex');
    const path = join(repository, 'snapshots', id);
    writeFileSync(path, file, { mode: 0o400 });
    chownSync(path, postgresUser.uid, postgresUser.gid);
    ids.push(id);
  }
  return ids;
}

/** Pack files (data/xx/<id>) with their sizes. */
export function packFiles(repository: string): { path: string; size: number }[] {
  const data = join(repository, 'data');
  return readdirSync(data).flatMap((d) => readdirSync(join(data, d)).map((f) => join(data, d, f)))
    .map((path) => ({ path, size: statSync(path).size }));
}

/**
 * Flip bytes throughout a file, one in every 4 KiB and one in the middle (same size, so only
 * reading the content can tell): every blob in a pack is hit, not just one that may go unused.
 */
export function corrupt(path: string): void {
  const bytes = readFileSync(path);
  bytes[Math.floor(bytes.length / 2)] ^= 0xff;
  for (let i = 7; i < bytes.length; i += 4096) bytes[i] ^= 0xff;
  writeFileSync(path, bytes);
}

// ---------------------------------------------------------------------------------------------
// The scripts, as the CronJobs run them

/** The container of a CronJob (init containers included). */
export function container(objects: readonly K8sObject[], cronJob: string, name: string): K8sObject {
  const job = objects.find((o) => o.kind === 'CronJob' && o.metadata.name === cronJob);
  if (!job) throw new Error(`no CronJob ${cronJob}`);
  const spec = job.spec.jobTemplate.spec.template.spec;
  const found = [...(spec.initContainers ?? []), ...spec.containers].find((c: K8sObject) => c.name === name);
  if (!found) throw new Error(`CronJob ${cronJob} has no container ${name}`);
  return found;
}

/**
 * The environment a container gets, with `overrides` applied: a string replaces the value, null
 * removes the variable. Variables from Secrets are left out unless overridden (there is no
 * Secret here). Every overridden name must be one the container has.
 */
export function containerEnv(c: K8sObject, overrides: Record<string, string | null>): Record<string, string> {
  const names = new Set<string>((c.env ?? []).map((e: K8sObject) => e.name));
  const unknown = Object.keys(overrides).filter((n) => !names.has(n));
  if (unknown.length > 0) throw new Error(`container ${c.name} has no env ${unknown.join(', ')}`);
  const out: Record<string, string> = {};
  for (const e of c.env ?? []) {
    if (Object.hasOwn(overrides, e.name)) {
      const v = overrides[e.name];
      if (v !== null) out[e.name] = v;
    } else if (e.value !== undefined) {
      out[e.name] = e.value;
    }
  }
  return out;
}

export interface ScriptRun { readonly status: number | null; readonly stdout: string; readonly stderr: string }

/**
 * Runs the script a container runs (its command is `bash <mount>/<script>`) from
 * charts/backup/scripts, as the postgres user, with exactly `env` (plus PATH and locale).
 */
export function runContainer(c: K8sObject, env: Record<string, string>, timeout = 120_000): ScriptRun {
  const [shell, path] = c.command as string[];
  if (shell !== 'bash' || !path) throw new Error(`container ${c.name} does not run a script: ${JSON.stringify(c.command)}`);
  const r: SpawnSyncReturns<string> = spawnSync('bash', [join(SCRIPTS, basename(path))], {
    ...postgresUser, encoding: 'utf8', timeout, env: { ...BASE_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The line `restic forget` prints for the retention a container's KEEP_* settings ask for (rules
 * that keep 0 are not named): what a run that applied the CronJob's policy shows.
 */
export function retentionPolicyLine(c: K8sObject): string {
  const env = containerEnv(c, {});
  const rules = ['hourly', 'daily', 'weekly', 'monthly']
    .map((rule) => [Number(env[`KEEP_${rule.toUpperCase()}`]), rule] as const)
    .filter(([n]) => n > 0)
    .map(([n, rule]) => `${n} ${rule}`);
  return `Applying Policy: keep ${rules.join(', ')} snapshots`;
}

/**
 * A fixed-offset time zone (for TZ) in which the current wall-clock hour (day) has the longest to
 * run: at least 30 minutes (23 hours). restic's --keep-hourly and --keep-daily bucket snapshots by
 * the wall-clock time of the zone each one recorded, so runs started there in that time share a
 * bucket whatever the time of day the test runs at. For an hour, UTC or India's zone, whose hours
 * turn at half past UTC's (UTC+05:30); for a day, the Etc/GMT±n zone where the day has just begun.
 */
export function zoneKeepingThe(unit: 'hour' | 'day', now = Date.now()): { TZ: string } {
  const length = unit === 'hour' ? 3_600_000 : 86_400_000;
  const zones = unit === 'hour'
    ? [{ TZ: 'Etc/UTC', offsetMinutes: 0 }, { TZ: 'Asia/Kolkata', offsetMinutes: 330 }]
    // Etc/GMT-14 is UTC+14: POSIX signs, inverted.
    : Array.from({ length: 27 }, (_, i) => i - 12)
      .map((h) => ({ TZ: h === 0 ? 'Etc/UTC' : `Etc/GMT${h > 0 ? '-' : '+'}${Math.abs(h)}`, offsetMinutes: 60 * h }));
  const left = (offsetMinutes: number) => length - ((now + offsetMinutes * 60_000) % length);
  const [best] = [...zones].sort((a, b) => left(b.offsetMinutes) - left(a.offsetMinutes));
  return { TZ: best.TZ };
}

/** For failure messages: what the script said. */
export function output(run: ScriptRun): string {
  return `exit ${run.status}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
}

/**
 * The places of this machine in a restic container's (`c`'s) environment: the repository, the
 * binary, the key and the pod's own volumes; the rest is the CronJob's.
 */
export function resticPlaces(c: K8sObject, repository: string, passwordFile: string, pod: PodDirs): Record<string, string | null> {
  return {
    RESTIC_REPOSITORY: repository,
    RESTIC_BIN: RESTIC,
    RESTIC_KEY_FILE: passwordFile,
    RESTIC_CACHE_DIR: join(pod.scratch, 'restic-cache'),
    ...retryLockOverride(c),
    HOME: pod.tmp,
    TMPDIR: pod.scratch,
  };
}
