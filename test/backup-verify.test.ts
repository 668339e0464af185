/**
 * The weekly restore test, verify-backups.sh run as the `backup-verify` CronJob's container runs
 * it, on repositories the two backup jobs' own scripts filled: it passes on good backups, and
 * fails (exit 65, what the Job's podFailurePolicy fails on at once) when a repository is damaged,
 * a configured table is missing from the dump or empty, the newest dump is too old, or there is
 * none. An application with only a database, or only uploaded files, has a verification of that
 * repository alone (production less the other component, synthesized): it checks what it has
 * with the same rigour and never asks for the other.
 *
 * Versions (see backup-harness.ts): the throwaway server the script starts, pg_restore and psql are
 * PostgreSQL 15 here and 17 in the pod (POSTGRES_IMAGE); restic is 0.14 here and 0.18.1 in the pod
 * (RESTIC_IMAGE), so the script's reading of `restic snapshots --json` is proven against 0.14's.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATABASE_TAG, FILES_TAG } from '../charts/backup/backup-jobs';
import type { K8sObject } from '../pipeline/k8s-object';
import {
  cloneRepository, container, containerEnv, corrupt, createPortal, giveToPostgres, initRepository, output, packFiles,
  passwordFiles, podDirectories, postgresDir, production, productionWithOnly, restic, retryLockOverride, runContainer, snapshotIds, sql, startPostgres,
  stopPostgres, type Repositories, type ScriptRun, type Server,
} from './support/backup-harness';

const { env, objects, names } = production();
const verifyContainer = container(objects, names.verifyJob, 'verify');
const dumpContainer = container(objects, names.databaseJob, 'dump');
const storeContainer = container(objects, names.databaseJob, 'store');
const filesContainer = container(objects, names.filesJob, 'backup');
/** The verification of production as an application with only its database, and with only its uploaded files. */
const databaseOnlyContainer = container(productionWithOnly('postgres').objects, names.verifyJob, 'verify');
const filesOnlyContainer = container(productionWithOnly('uploads').objects, names.verifyJob, 'verify');
const DUMP = names.dump;
const backups = env.backups;
if (!backups?.verifyTables) throw new Error('production verifies its database\'s tables');
const verifyTables = backups.verifyTables;

let work: string;
let server: Server;
let keys: Repositories;
let databaseRepository: string;
let filesRepository: string;
/** A new, empty repository: `restic init` once (its key calibration takes seconds), then copies. */
let emptyRepository: string;
const { newPod } = podDirectories(() => work);

/** The places of this machine in a restic container's environment (`c`'s), beside the repository. */
const resticOverrides = (c: K8sObject, scratch: string) => ({
  RESTIC_BIN: '/usr/bin/restic',
  RESTIC_KEY_FILE: keys.passwordFile,
  RESTIC_CACHE_DIR: join(scratch, 'restic-cache'),
  ...retryLockOverride(c),
});

function mustSucceed(run: ScriptRun): void {
  if (run.status !== 0) throw new Error(output(run));
}

/** One run of the database backup job (both containers, one pod) storing `database`'s dump. */
function backupDatabase(repository: string, database: string): void {
  const pod = newPod();
  const dumpDir = join(pod.scratch, 'dump');
  mustSucceed(runContainer(dumpContainer, containerEnv(dumpContainer, {
    PGHOST: server.socket, PGDATABASE: database, PGUSER: 'postgres', PGSSLROOTCERT: null, DUMP_DIR: dumpDir, HOME: pod.tmp, TMPDIR: pod.scratch,
  })));
  mustSucceed(runContainer(storeContainer, containerEnv(storeContainer, {
    RESTIC_REPOSITORY: repository, ...resticOverrides(storeContainer, pod.scratch), DUMP_DIR: dumpDir, HOME: pod.tmp, TMPDIR: pod.scratch,
  })));
}

/**
 * One run of a verification container (production's, checking both repositories, unless `c` says
 * otherwise) on `repositories`: exactly those, so a container without one of them fails here if
 * given it (containerEnv accepts only names the container has).
 */
function runVerify(c: K8sObject, repositories: { database?: string; files?: string }, overrides: Record<string, string> = {}): ScriptRun {
  const pod = newPod();
  return runContainer(c, containerEnv(c, {
    ...(repositories.database === undefined ? {} : { DATABASE_REPOSITORY: repositories.database }),
    ...(repositories.files === undefined ? {} : { FILES_REPOSITORY: repositories.files }),
    ...resticOverrides(c, pod.scratch),
    WORK_DIR: pod.scratch,
    HOME: pod.tmp,
    TMPDIR: pod.scratch,
    ...overrides,
  }));
}

/** One run of production's verification job, on the good repositories unless given others. */
function verify(repositories: { database?: string; files?: string }, overrides: Record<string, string> = {}): ScriptRun {
  return runVerify(verifyContainer, { database: databaseRepository, files: filesRepository, ...repositories }, overrides);
}

/** `restic check`'s verdicts in a run's output: one per repository checked. */
const checksPassed = (run: ScriptRun) => run.stdout.match(/no errors were found/g)?.length ?? 0;
/** The repositories a run checked, as its log names them. */
const checked = (run: ScriptRun) => [...run.stderr.matchAll(/checking (\S+), reading/g)].map((m) => m[1]);

/** A time two hours beyond maxSnapshotAgeHours ago, as `restic backup --time` takes it (local time: UTC, as the harness runs it). */
const staleTime = () => new Date(Date.now() - (backups.maxSnapshotAgeHours + 2) * 3600_000).toISOString().replace('T', ' ').slice(0, 19);

/** A copy of the good database repository with one more, newer dump: that of `database`. */
function withNewerDump(name: string, database: string): string {
  const repository = cloneRepository(databaseRepository, join(work, name));
  // Another day than the good snapshot's would keep both; the same day replaces it (dumps are kept
  // by the day), which is fine: the newest is what the test restores either way.
  backupDatabase(repository, database);
  return repository;
}

beforeAll(async () => {
  work = postgresDir();
  server = await startPostgres(work);
  createPortal(server, 'portal');
  keys = passwordFiles(work);
  emptyRepository = join(work, 'empty');
  initRepository(emptyRepository, keys.passwordFile, work);
  databaseRepository = cloneRepository(emptyRepository, join(work, 'database'));
  filesRepository = cloneRepository(emptyRepository, join(work, 'files'));
  backupDatabase(databaseRepository, 'portal');

  const uploads = postgresDir(join(work, 'uploads'));
  mkdirSync(join(uploads, 'students'));
  writeFileSync(join(uploads, 'students', 'photo.jpg'), randomBytes(300_000));
  giveToPostgres(uploads);
  const pod = newPod();
  mustSucceed(runContainer(filesContainer, containerEnv(filesContainer, {
    RESTIC_REPOSITORY: filesRepository, ...resticOverrides(filesContainer, pod.scratch), SOURCE_DIR: uploads, HOME: pod.tmp, TMPDIR: pod.scratch,
  })));
}, 60_000);

afterAll(async () => {
  await stopPostgres(server);
  if (work) rmSync(work, { recursive: true, force: true });
}, 30_000);

test('the container checks the configured tables and reads back the configured share of data', () => {
  expect(verifyContainer.command).toEqual(['bash', '/opt/backup/verify-backups.sh']);
  const envVars = Object.fromEntries((verifyContainer.env as { name: string; value?: string }[]).map((e) => [e.name, e.value]));
  expect(envVars).toMatchObject({
    VERIFY_TABLES: verifyTables.join(' '),
    CHECK_READ_DATA_PERCENT: String(backups.checkReadDataPercent),
    MAX_SNAPSHOT_AGE_HOURS: String(backups.maxSnapshotAgeHours),
    BACKUP_HOST: names.host,
    DATABASE_TAG,
    FILES_TAG,
    DUMP_NAME: DUMP,
  });
});

test('good backups pass: the dump restores with every table present and non-empty, both repositories check out', () => {
  const r = verify({});
  if (r.status !== 0) throw new Error(output(r));
  for (const table of verifyTables) expect(r.stderr).toMatch(new RegExp(`${table.replace('.', '\\.')}: [1-9][0-9]* rows`));
  expect(r.stderr).toMatch(/verification passed/);
  expect(checked(r)).toEqual([databaseRepository, filesRepository]);
  expect(checksPassed(r)).toBe(2);
}, 60_000);

test('a damaged files repository fails the check', () => {
  const files = cloneRepository(filesRepository, join(work, 'files-damaged'));
  const data = packFiles(files).filter((p) => p.size > 100_000);
  expect(data.length).toBeGreaterThan(0);
  for (const pack of data) corrupt(pack.path);
  // All of the data read back, so the damaged pack is certainly among it.
  const r = verify({ files }, { CHECK_READ_DATA_PERCENT: '100' });
  expect(r.status).toBe(65);
  expect(r.stderr).toMatch(/restic check found errors in .*files-damaged/);
}, 60_000);

test('a damaged database repository fails', () => {
  const database = cloneRepository(databaseRepository, join(work, 'database-damaged'));
  for (const pack of packFiles(database)) corrupt(pack.path);
  const r = verify({ database }, { CHECK_READ_DATA_PERCENT: '100' });
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(/FAILED/);
}, 60_000);

test('a dump without a configured table fails', () => {
  createPortal(server, 'portal_missing');
  sql(server, 'portal_missing', 'DROP TABLE courses CASCADE');
  const r = verify({ database: withNewerDump('database-missing-table', 'portal_missing') });
  expect(r.status).toBe(65);
  expect(r.stderr).toMatch(/public\.courses is missing/);
}, 60_000);

test('a dump with an empty configured table fails', () => {
  createPortal(server, 'portal_empty');
  sql(server, 'portal_empty', 'TRUNCATE enrollments');
  const r = verify({ database: withNewerDump('database-empty-table', 'portal_empty') });
  expect(r.status).toBe(65);
  expect(r.stderr).toMatch(/public\.enrollments is empty/);
}, 60_000);

test('a newest dump older than maxSnapshotAgeHours fails: backups have stopped', () => {
  const database = cloneRepository(emptyRepository, join(work, 'database-stale'));
  // A snapshot as the job makes them, dated back (restic reads --time in the local zone: UTC, as the harness runs it).
  restic(database, keys.passwordFile, ['backup', '--host', names.host, '--tag', DATABASE_TAG, '--time', staleTime(), '--stdin', '--stdin-filename', DUMP], work, 'a dump');
  expect(snapshotIds(database)).toHaveLength(1);
  const r = verify({ database });
  expect(r.status).toBe(65);
  expect(r.stderr).toMatch(/is [0-9]+h old, older than [0-9]+h: backups have stopped/);
}, 60_000);

test('an empty repository fails: there is nothing to restore', () => {
  const database = cloneRepository(emptyRepository, join(work, 'database-empty'));
  const r = verify({ database });
  expect(r.status).toBe(65);
  expect(r.stderr).toMatch(/holds no snapshot/);
}, 60_000);

describe('an application with only a database', () => {
  test('its verification is production\'s, less the uploaded files: no files repository, tag or anything else changed', () => {
    const values = (c: K8sObject) => containerEnv(c, {});
    const { FILES_REPOSITORY: _repository, FILES_TAG: _tag, ...withoutFiles } = values(verifyContainer);
    expect(values(databaseOnlyContainer)).toEqual(withoutFiles);
    expect(Object.keys(values(databaseOnlyContainer)).filter((n) => n.startsWith('FILES_'))).toEqual([]);
  });

  test('the dump restores with every table present and non-empty, and only the database repository is checked', () => {
    const r = runVerify(databaseOnlyContainer, { database: databaseRepository });
    if (r.status !== 0) throw new Error(output(r));
    for (const table of verifyTables) expect(r.stderr).toMatch(new RegExp(`${table.replace('.', '\\.')}: [1-9][0-9]* rows`));
    expect(r.stderr).not.toMatch(/files snapshot/);
    expect(checked(r)).toEqual([databaseRepository]);
    expect(checksPassed(r)).toBe(1);
    expect(r.stderr).toMatch(/verification passed/);
  }, 60_000);

  test('it fails as production\'s does: a dump without a configured table, an empty repository', () => {
    createPortal(server, 'portal_only_missing');
    sql(server, 'portal_only_missing', 'DROP TABLE students CASCADE');
    const missing = runVerify(databaseOnlyContainer, { database: withNewerDump('database-only-missing-table', 'portal_only_missing') });
    expect(missing.status).toBe(65);
    expect(missing.stderr).toMatch(/public\.students is missing/);
    const empty = runVerify(databaseOnlyContainer, { database: cloneRepository(emptyRepository, join(work, 'database-only-empty')) });
    expect(empty.status).toBe(65);
    expect(empty.stderr).toMatch(/holds no snapshot/);
  }, 60_000);

  test('a damaged database repository fails', () => {
    const database = cloneRepository(databaseRepository, join(work, 'database-only-damaged'));
    for (const pack of packFiles(database)) corrupt(pack.path);
    const r = runVerify(databaseOnlyContainer, { database }, { CHECK_READ_DATA_PERCENT: '100' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/FAILED/);
  }, 60_000);
});

describe('an application with only uploaded files', () => {
  test('its verification is production\'s, less the database: no database repository, dump or tables, nothing else changed', () => {
    const values = (c: K8sObject) => containerEnv(c, {});
    const { DATABASE_REPOSITORY: _r, DATABASE_TAG: _t, DUMP_NAME: _d, VERIFY_TABLES: _v, ...withoutDatabase } = values(verifyContainer);
    expect(values(filesOnlyContainer)).toEqual(withoutDatabase);
  });

  test('the newest files snapshot is recent and the files repository checks out; no PostgreSQL is started', () => {
    const r = runVerify(filesOnlyContainer, { files: filesRepository });
    if (r.status !== 0) throw new Error(output(r));
    expect(r.stderr).toMatch(/newest files snapshot [0-9a-f]{8} is 0h old/);
    expect(r.stderr).not.toMatch(/restoring snapshot|rows/);
    expect(checked(r)).toEqual([filesRepository]);
    expect(checksPassed(r)).toBe(1);
    expect(r.stderr).toMatch(/verification passed/);
  }, 60_000);

  test('a damaged files repository fails the check', () => {
    const files = cloneRepository(filesRepository, join(work, 'files-only-damaged'));
    const data = packFiles(files).filter((p) => p.size > 100_000);
    expect(data.length).toBeGreaterThan(0);
    for (const pack of data) corrupt(pack.path);
    const r = runVerify(filesOnlyContainer, { files }, { CHECK_READ_DATA_PERCENT: '100' });
    expect(r.status).toBe(65);
    expect(r.stderr).toMatch(/restic check found errors in .*files-only-damaged/);
  }, 60_000);

  test('a newest files snapshot older than maxSnapshotAgeHours fails: backups have stopped; none at all fails too', () => {
    const stale = cloneRepository(emptyRepository, join(work, 'files-only-stale'));
    restic(stale, keys.passwordFile, ['backup', '--host', names.host, '--tag', FILES_TAG, '--time', staleTime(), '--stdin', '--stdin-filename', 'photo.jpg'], work, 'a file');
    expect(snapshotIds(stale)).toHaveLength(1);
    const r = runVerify(filesOnlyContainer, { files: stale });
    expect(r.status).toBe(65);
    expect(r.stderr).toMatch(/the newest uploads snapshot .* is [0-9]+h old, older than [0-9]+h: backups have stopped/);
    const none = runVerify(filesOnlyContainer, { files: cloneRepository(emptyRepository, join(work, 'files-only-empty')) });
    expect(none.status).toBe(65);
    expect(none.stderr).toMatch(/holds no snapshot of host .* with tag uploads/);
  }, 60_000);
});
