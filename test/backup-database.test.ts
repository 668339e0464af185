/**
 * The database backup job's two scripts, run as its containers run them (dump-database.sh in the
 * `dump` init container, then backup-database.sh in `store`), against a real PostgreSQL and a real
 * restic repository: the dump restores to identical tables, and every way it can go wrong (pg_dump
 * failing half way, a wrong password, an unreachable store, a damaged repository, a dump changed
 * after it was verified) exits non-zero and leaves no new snapshot.
 *
 * Versions (see backup-harness.ts): pg_dump, pg_restore and the server are PostgreSQL 15 here, 17
 * in the job's image (POSTGRES_IMAGE), so the dump format and pg_dump's messages the tests match
 * are 15's; restic is 0.14 here and 0.18.1 in the pod (RESTIC_IMAGE), so the scripts' reading of
 * restic's output (the "snapshot <id> saved" line) and the retention lines matched here are 0.14's,
 * and the retention case is set up so that 0.14 and 0.16+ `forget` keep the same snapshots.
 *
 * Every test sets up what it needs (one good backup is made in beforeAll), so any test runs alone
 * with -t; tests that change a repository change a copy of it.
 */
import { cpSync, existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATABASE_TAG } from '../charts/backup/backup-jobs';
import {
  asPostgres, cloneRepository, container, containerEnv, corrupt, createPortal, giveToPostgres, initRepository, listSnapshots, output, packFiles,
  passwordFiles, resticPlaces, PG_BIN, podDirectories, PORTAL_TABLES, postgresDir, production, restic, resticDumpToFile, retentionPolicyLine,
  runContainer, snapshotIds, sql, startPostgres, stopPostgres, tableChecksum, writeBackdatedSnapshots, zoneKeepingThe, type PodDirs, type Repositories,
  type ScriptRun, type Server,
} from './support/backup-harness';

const { objects, names } = production();
const dumpContainer = container(objects, names.databaseJob, 'dump');
const storeContainer = container(objects, names.databaseJob, 'store');
const DUMP = names.dump;

let work: string;
let server: Server;
let keys: Repositories;
/** The repository after one good backup (made in beforeAll); tests that change it change a copy. */
let goodRepository: string;
/** The pod of that backup (its verified dump is what the snapshot holds) and what its store container said. */
let first: { pod: PodDirs; stored: ScriptRun };
/**
 * The zone the good backup and the second backup record their times in, chosen so that both fall
 * on one day of it: dumps are kept by the day, and what retention keeps depends on it.
 */
let sameDay: { TZ: string };
const pods = podDirectories(() => work);
const { newPod } = pods;

const dumpDir = (pod: PodDirs) => join(pod.scratch, 'dump');

/** The `dump` init container; `extra` adds variables the container does not have (a PATH). */
function dump(pod: PodDirs, database = 'portal', extra: Record<string, string> = {}): ScriptRun {
  return runContainer(dumpContainer, {
    ...containerEnv(dumpContainer, {
      PGHOST: server.socket,
      PGDATABASE: database,
      PGUSER: 'postgres',
      // The pod verifies the server against the operator's CA; a Unix socket has no TLS.
      PGSSLROOTCERT: null,
      DUMP_DIR: dumpDir(pod),
      HOME: pod.tmp,
      TMPDIR: pod.scratch,
    }),
    ...extra,
  });
}

/** The `store` container, after the init container in the same pod; `extra` adds variables it does not have (a time zone). */
function store(pod: PodDirs, repository: string, overrides: Record<string, string | null> = {}, extra: Record<string, string> = {}): ScriptRun {
  return runContainer(storeContainer, {
    ...containerEnv(storeContainer, { ...resticPlaces(storeContainer, repository, keys.passwordFile, pod), DUMP_DIR: dumpDir(pod), ...overrides }),
    ...extra,
  });
}

/** A pod whose dump completed, for the cases that go wrong afterwards. */
function podWithDump(): PodDirs {
  const pod = newPod();
  const r = dump(pod);
  if (r.status !== 0) throw new Error(output(r));
  return pod;
}

function copyOfGoodRepository(name: string): string {
  expect(snapshotIds(goodRepository)).toHaveLength(1);
  return cloneRepository(goodRepository, join(work, name));
}

beforeAll(async () => {
  work = postgresDir();
  server = await startPostgres(work);
  // ~3 MB of incompressible data: the dump spans several restic chunks, shared between dumps.
  createPortal(server, 'portal', 3_000_000);
  keys = passwordFiles(work);
  goodRepository = join(work, 'repository');
  initRepository(goodRepository, keys.passwordFile, work);
  sameDay = zoneKeepingThe('day');
  const pod = newPod();
  const dumped = dump(pod);
  if (dumped.status !== 0) throw new Error(`the good backup's dump failed: ${output(dumped)}`);
  const stored = store(pod, goodRepository, {}, sameDay);
  if (stored.status !== 0) throw new Error(`the good backup's store failed: ${output(stored)}`);
  first = { pod, stored };
}, 120_000);

afterAll(async () => {
  await stopPostgres(server);
  if (work) rmSync(work, { recursive: true, force: true });
}, 30_000);

test('the containers run the shipped scripts, with the settings the tests keep', () => {
  expect(dumpContainer.command).toEqual(['bash', '/opt/backup/dump-database.sh']);
  expect(storeContainer.command).toEqual(['bash', '/opt/backup/backup-database.sh']);
  const plain = (c: typeof dumpContainer) => Object.fromEntries((c.env as { name: string; value?: string }[])
    .filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
  expect(plain(dumpContainer)).toMatchObject({ PGDATABASE: names.database, PGSSLMODE: 'verify-full', DUMP_NAME: DUMP });
  expect(plain(storeContainer)).toMatchObject({ BACKUP_HOST: names.host, BACKUP_TAG: DATABASE_TAG, DUMP_NAME: DUMP, KEEP_DAILY: '7' });
});

test('backup, then restore: every table comes back with the same checksum', () => {
  expect(readdirSync(dumpDir(first.pod))).toEqual(expect.arrayContaining([DUMP, `${DUMP}.sha256`]));
  expect(existsSync(join(dumpDir(first.pod), `${DUMP}.partial`))).toBe(false);
  expect(first.stored.stderr).toMatch(/stored and read back/);
  expect(snapshotIds(goodRepository)).toHaveLength(1);
  const [snapshot] = JSON.parse(restic(goodRepository, keys.passwordFile, ['snapshots', '--json'], work));
  expect(snapshot).toMatchObject({ hostname: names.host, tags: [DATABASE_TAG], paths: [`/${DUMP}`] });

  // Restore as the runbook does: the dump out of restic, pg_restore into a new database.
  const restoredDump = join(work, 'restored.dump');
  resticDumpToFile(goodRepository, keys.passwordFile, 'latest', `/${DUMP}`, restoredDump, work);
  sql(server, 'postgres', 'CREATE DATABASE restored');
  asPostgres(join(PG_BIN, 'pg_restore'), ['-h', server.socket, '-U', 'postgres', '--exit-on-error', '--no-owner', '-d', 'restored', restoredDump]);
  for (const table of PORTAL_TABLES) {
    const original = tableChecksum(server, 'portal', table);
    expect(original).not.toMatch(/^0:/);
    expect(tableChecksum(server, 'restored', table)).toBe(original);
  }
  // Sequences and indexes come back too.
  expect(sql(server, 'restored', "SELECT nextval('students_id_seq')")).toBe(sql(server, 'portal', "SELECT last_value + 1 FROM students_id_seq"));
  expect(sql(server, 'restored', "SELECT count(*) FROM pg_indexes WHERE indexname = 'enrollments_course'")).toBe('1');
}, 60_000);

test('pg_dump failing half way: no dump is marked complete, and nothing is stored', () => {
  // A table whose rows cannot be read back: COPY fails after the other tables' data is written.
  createPortal(server, 'broken');
  sql(server, 'broken', `
    CREATE TYPE mood AS ENUM ('ok', 'gone');
    CREATE TABLE zz_audit (id int, m mood);
    INSERT INTO zz_audit SELECT g, CASE WHEN g > 5000 THEN 'gone'::mood ELSE 'ok' END FROM generate_series(1, 10000) g;
    DELETE FROM pg_enum WHERE enumlabel = 'gone';`);
  const repository = copyOfGoodRepository('after-failed-dump');
  const pod = newPod();

  const dumped = dump(pod, 'broken');
  expect(dumped.status).not.toBe(0);
  expect(dumped.stderr).toMatch(/Dumping the contents of table "zz_audit" failed/);
  expect(dumped.stderr).toMatch(/FAILED: pg_dump exited with 1; no dump was kept/);
  expect(readdirSync(dumpDir(pod)).filter((f) => f.startsWith(DUMP))).toEqual([]);

  // Were the store container to run anyway, it refuses.
  const stored = store(pod, repository);
  expect(stored.status).toBe(65);
  expect(stored.stderr).toMatch(/no verified dump .* nothing is stored/);
  expect(snapshotIds(repository)).toEqual(snapshotIds(goodRepository));
}, 60_000);

test('a dump changed after it was verified is refused', () => {
  const pod = podWithDump();
  writeFileSync(join(dumpDir(pod), DUMP), 'truncated');
  const repository = copyOfGoodRepository('after-changed-dump');
  const stored = store(pod, repository);
  expect(stored.status).toBe(65);
  expect(stored.stderr).toMatch(/does not match its verified checksum/);
  expect(snapshotIds(repository)).toEqual(snapshotIds(goodRepository));
}, 60_000);

test('a wrong repository password fails the job and stores nothing', () => {
  const pod = podWithDump();
  const repository = copyOfGoodRepository('repository-wrong-password');
  const stored = store(pod, repository, { RESTIC_KEY_FILE: keys.wrongPasswordFile });
  expect(stored.status).not.toBe(0);
  expect(stored.stderr).toMatch(/wrong password/);
  expect(snapshotIds(repository)).toEqual(snapshotIds(goodRepository));
}, 60_000);

test('an unreachable store fails the job and stores nothing', () => {
  const pod = podWithDump();
  const missing = join(work, 'no-such-repository');
  const local = store(pod, missing);
  expect(local.status).not.toBe(0);
  expect(existsSync(missing)).toBe(false);
  // An S3 endpoint nobody listens on (port 9, discard, closed on loopback). Without a region
  // restic asks for the bucket's location first and fails at once; with one it retries the
  // request for about ten seconds before failing the same way.
  const s3 = store(pod, 's3:http://127.0.0.1:9/bucket/restic/database', { AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret', AWS_DEFAULT_REGION: null });
  expect(s3.status).not.toBe(0);
  expect(s3.stderr).toMatch(/connection refused/);
}, 60_000);

test('a damaged repository (every pack unreadable): the new snapshot does not read back, is removed, and the job fails', () => {
  // No `restic check` before storing (it would lock the repository exclusively every day; the
  // weekly restore test checks it): reading the new snapshot back is what refuses a bad backup.
  // The good snapshot's dump byte for byte, so the new snapshot is made of the damaged chunks (a
  // fresh dump is one new chunk in about one repository of eight, which then reads back whole:
  // see the next test).
  const pod = newPod();
  cpSync(dumpDir(first.pod), dumpDir(pod), { recursive: true });
  giveToPostgres(dumpDir(pod));
  const repository = copyOfGoodRepository('damaged');
  for (const pack of packFiles(repository)) corrupt(pack.path);
  const stored = store(pod, repository);
  expect(stored.status).toBe(65);
  expect(stored.stderr).not.toMatch(/restic check/);
  expect(stored.stderr).toMatch(/removing snapshot [0-9a-f]{8}: it cannot be read back/);
  expect(stored.stderr).toMatch(/FAILED: snapshot [0-9a-f]{8} cannot be read back from the repository/);
  expect(snapshotIds(repository)).toEqual(snapshotIds(goodRepository));
}, 60_000);

test('damaged data the new snapshot shares with the last one: read back fails, the snapshot is removed', () => {
  // The dump the good snapshot holds, byte for byte, in a new pod: restic stores none of its data
  // again but points the new snapshot at the chunks it already has. A fresh pg_dump would not do:
  // it differs in its header (a time stamp), so restic reuses only the chunks after the first, and
  // a ~3 MB dump is one chunk in about one repository of eight (restic's chunker is seeded per
  // repository): then nothing damaged is reused, the new snapshot is whole and storing it is right.
  const pod = newPod();
  cpSync(dumpDir(first.pod), dumpDir(pod), { recursive: true });
  giveToPostgres(dumpDir(pod));
  const repository = copyOfGoodRepository('damaged-data');
  // Only the big packs: the dump's chunks. Index and trees stay intact, so restic check (without
  // reading data) passes and the backup reuses those chunks; only reading it back can tell.
  const data = packFiles(repository).filter((p) => p.size > 256 * 1024);
  expect(data.length).toBeGreaterThan(0);
  for (const pack of data) corrupt(pack.path);
  const stored = store(pod, repository);
  expect({ status: stored.status, removed: /removing snapshot/.test(stored.stderr) }).toEqual({ status: 65, removed: true });
  // restic stored none of the dump's ~3 MB again (only a new tree): it reused the damaged chunks.
  expect(stored.stdout).toMatch(/^Added to the repository: [0-9.]+ (B|KiB) /m);
  expect(stored.stderr).toMatch(/cannot be read back/);
  expect(snapshotIds(repository)).toEqual(snapshotIds(goodRepository));
}, 60_000);

/** A pg_dump ahead of the real one on PATH that runs it, then damages what it wrote and exits 0. */
function damagingPgDump(name: string, damage: string): string {
  const bin = postgresDir(join(work, `pg_dump-${name}`));
  const wrapper = join(bin, 'pg_dump');
  writeFileSync(wrapper, [
    '#!/usr/bin/env bash',
    'set -euo pipefail',
    `"${join(PG_BIN, 'pg_dump')}" "$@"`,
    'file=',
    'for arg in "$@"; do case $arg in --file=*) file=${arg#--file=} ;; esac; done',
    '[[ -n $file ]] || exit 0',
    'size=$(stat -c %s -- "$file")',
    damage,
    'echo "fault injection: $file damaged ($size bytes before, $(stat -c %s -- "$file") after), exit 0" >&2',
    '',
  ].join('\n'), { mode: 0o755 });
  giveToPostgres(wrapper);
  return `${bin}:${PG_BIN}:/usr/local/bin:/usr/bin:/bin`;
}

test.each([
  ['cut in half', 'truncate -s $((size / 2)) -- "$file"'],
  ['missing its last 16 bytes', 'truncate -s $((size - 16)) -- "$file"'],
  ['empty', 'truncate -s 0 -- "$file"'],
  ['overwritten in the middle of its data', 'printf \'\\xde\\xad\\xbe\\xef\' | dd of="$file" bs=1 seek=$((size * 3 / 4)) conv=notrunc status=none'],
])('pg_dump exits 0 but its output is %s: the dump is refused, and nothing is stored', (_name, damage) => {
  const pod = newPod();
  const repository = copyOfGoodRepository(`after-damaged-dump-${pods.count}`);
  const dumped = dump(pod, 'portal', { PATH: damagingPgDump(String(pods.count), damage) });
  expect(dumped.stderr).toMatch(/fault injection: .* damaged/);
  expect(dumped.stderr).not.toMatch(/pg_dump exited with/);
  expect(dumped.status).toBe(65);
  expect(dumped.stderr).toMatch(/FAILED: pg_restore cannot read (the table of contents of )?the new dump/);
  // Nothing that the store container would take: no dump under its name, no completion marker.
  expect(readdirSync(dumpDir(pod)).filter((f) => f === DUMP || f === `${DUMP}.sha256`)).toEqual([]);

  const stored = store(pod, repository);
  expect(stored.status).toBe(65);
  expect(stored.stderr).toMatch(/no verified dump .* nothing is stored/);
  expect(snapshotIds(repository)).toEqual(snapshotIds(goodRepository));
}, 60_000);

test('a second backup the same day restores the newer data; retention keeps only the newer dump of the day', () => {
  // The same database a day's work later: a copy of it (so the other tests' dumps do not change)
  // with a row the good backup does not hold.
  sql(server, 'postgres', 'CREATE DATABASE portal_later TEMPLATE portal');
  sql(server, 'portal_later', "INSERT INTO courses VALUES (999, 'Added after the first backup', 1)");
  const repository = copyOfGoodRepository('second-backup');
  const [firstSnapshot] = listSnapshots(repository, keys.passwordFile, work);
  // A dump from two days before, as the schedule leaves them. Without it the first of today's two
  // would be the repository's oldest snapshot, which restic 0.16 and later (the pods' 0.18.1) keep
  // while a --keep-* rule has counts left, and 0.14 (here) does not: with it, both remove the same.
  const [earlier] = writeBackdatedSnapshots(repository, firstSnapshot, [new Date(Date.parse(firstSnapshot.time) - 2 * 86_400_000)]);
  const pod = newPod();
  const dumped = dump(pod, 'portal_later');
  if (dumped.status !== 0) throw new Error(output(dumped));
  const stored = store(pod, repository, {}, sameDay);
  if (stored.status !== 0) throw new Error(output(stored));
  const saved = /^snapshot ([0-9a-f]+) saved$/m.exec(stored.stdout)?.[1] ?? 'none';
  const kept = listSnapshots(repository, keys.passwordFile, work);
  const second = kept.find((s) => s.id.startsWith(saved));
  if (!second) throw new Error(`snapshot ${saved} is not in the repository: ${JSON.stringify(kept)}\n${output(stored)}`);
  // The condition this test is about, checked rather than assumed: both runs recorded the same
  // day (the date of the time each recorded, in its own zone, which is what --keep-daily counts).
  const day = (time: string) => time.slice(0, 10);
  expect(day(second.time)).toBe(day(firstSnapshot.time));
  // Dumps are kept by the day (KEEP_HOURLY is 0 for them): of two in one day, only the newer stays;
  // the one of another day stays too.
  expect(retentionPolicyLine(storeContainer)).not.toMatch(/hourly/);
  expect(stored.stdout).toContain(retentionPolicyLine(storeContainer));
  expect(stored.stdout).toMatch(/remove 1 snapshots/);
  expect(kept.map((s) => s.id)).toEqual([earlier, second.id]);

  const restoredDump = join(work, 'second.dump');
  resticDumpToFile(repository, keys.passwordFile, 'latest', `/${DUMP}`, restoredDump, work);
  sql(server, 'postgres', 'CREATE DATABASE restored_second');
  asPostgres(join(PG_BIN, 'pg_restore'), ['-h', server.socket, '-U', 'postgres', '--exit-on-error', '--no-owner', '-d', 'restored_second', restoredDump]);
  expect(sql(server, 'restored_second', 'SELECT title FROM courses WHERE id = 999')).toBe('Added after the first backup');
  expect(tableChecksum(server, 'restored_second', 'courses')).toBe(tableChecksum(server, 'portal_later', 'courses'));
}, 60_000);
