/**
 * The uploaded-files backup, backup-files.sh run as the `backup-files` CronJob's container runs
 * it, against a real restic repository: every run is a version, the newest restores byte-identical
 * and older ones stay retrievable; a wrong password, an unreachable store, a damaged repository or
 * files it cannot read fail the job and leave no new snapshot.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FILES_TAG, uploadsWriterGroups } from '../charts/backup/backup-jobs';
import { instanceOf } from '../environments/model/identity';
import { dataEndpoints } from '../environments/model/names';
import {
  cloneRepository, container, containerEnv, corrupt, giveToPostgres, initRepository, listSnapshots, output, packFiles, passwordFiles,
  postgresDir, production, restic, retentionPolicyLine, runContainer, snapshotIds, type Repositories, type ScriptRun,
} from './support/backup-harness';
import { readTree } from './support/repository-copy';

const { env, objects } = production();
const backupContainer = container(objects, dataEndpoints(env).backups.filesBackupJob, 'backup');

let work: string;
let keys: Repositories;
let repository: string;
/** The uploads volume. */
let uploads: string;
let pods = 0;

/**
 * One run of the job: its container's environment with this machine's places, `overrides` on top
 * (names the container has), and `extra` variables it does not have (a time zone).
 */
function backup(repo: string, overrides: Record<string, string | null> = {}, extra: Record<string, string> = {}): ScriptRun {
  pods += 1;
  const base = postgresDir(join(work, `pod-${pods}`));
  const scratch = postgresDir(join(base, 'scratch'));
  return runContainer(backupContainer, {
    ...containerEnv(backupContainer, {
      RESTIC_REPOSITORY: repo,
      RESTIC_BIN: '/usr/bin/restic',
      RESTIC_PASSWORD_FILE: keys.passwordFile,
      RESTIC_CACHE_DIR: join(scratch, 'restic-cache'),
      // --retry-lock needs restic 0.16; Debian's is 0.14 (production pins 0.18.1).
      RESTIC_RETRY_LOCK: null,
      SOURCE_DIR: uploads,
      HOME: postgresDir(join(base, 'tmp')),
      TMPDIR: scratch,
      ...overrides,
    }),
    ...extra,
  });
}

/**
 * Runs an hour apart, in seconds: restic buckets snapshots for --keep-hourly by the wall-clock hour
 * of the zone each one recorded, so a run in a zone two hours behind UTC lands in another hour.
 */
const TWO_HOURS_EARLIER = { TZ: 'Etc/GMT+2' };

/**
 * A zone whose wall-clock hour will not turn in the next few minutes, so that runs started now
 * share one: UTC, unless a UTC hour turns within 10 minutes; then India's, whose hours turn at half
 * past UTC's (UTC+05:30), at least 25 minutes away.
 */
function zoneKeepingTheHour(): { TZ: string } {
  const minute = new Date().getUTCMinutes();
  return { TZ: minute >= 5 && minute < 50 ? 'Etc/UTC' : 'Asia/Kolkata' };
}

/** The wall-clock hour a snapshot recorded, in its own zone: what --keep-hourly buckets by. */
const recordedHour = (time: string) => time.slice(0, 13);

function write(relative: string, content: Buffer | string): void {
  const path = join(uploads, relative);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
}

/** `restic restore <snapshot>` into a new folder; returns the restored copy of the uploads folder. */
function restore(snapshot: string): string {
  const target = postgresDir(join(work, `restore-${snapshot.slice(0, 8)}`));
  restic(repository, keys.passwordFile, ['restore', snapshot, '--target', target], work);
  return join(target, uploads);
}

function copyOfRepository(name: string): string {
  return cloneRepository(repository, join(work, name));
}

beforeAll(() => {
  work = postgresDir();
  keys = passwordFiles(work);
  repository = join(work, 'repository');
  initRepository(repository, keys.passwordFile, work);
  uploads = postgresDir(join(work, 'uploads'));
}, 60_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the container snapshots the uploads volume, read-only, under a stable host and tag', () => {
  expect(backupContainer.command).toEqual(['bash', '/opt/backup/backup-files.sh']);
  const envVars = Object.fromEntries((backupContainer.env as { name: string; value?: string }[]).map((e) => [e.name, e.value]));
  expect(envVars).toMatchObject({ SOURCE_DIR: env.data.uploads.mountPath, BACKUP_HOST: instanceOf(env), BACKUP_TAG: FILES_TAG });
  expect(backupContainer.volumeMounts).toContainEqual({ name: 'uploads', mountPath: env.data.uploads.mountPath, readOnly: true });
  expect(uploadsWriterGroups(env).length).toBeGreaterThan(0);
});

let oldestSnapshot: string;

test('every run is a version: the newest restores byte-identical, an older one is still retrievable', () => {
  write('students/1/photo.jpg', randomBytes(300_000));
  write('students/1/transcript.pdf', randomBytes(50_000));
  write('courses/syllabus ä €.txt', 'Syllabus, version 1\n');
  write('empty.txt', '');
  giveToPostgres(uploads);
  // An ext4 volume's lost+found belongs to root and is unreadable to the job: it is left out.
  mkdirSync(join(uploads, 'lost+found'), { mode: 0o700 });
  const version1 = readTree(uploads);

  const first = backup(repository, {}, TWO_HOURS_EARLIER);
  if (first.status !== 0) throw new Error(output(first));
  [oldestSnapshot] = snapshotIds(repository);

  // The second and third runs in one wall-clock hour (and so one day, week and month): retention
  // must then keep only the newer of the two.
  const sameHour = zoneKeepingTheHour();
  // A file changed, one deleted, one added, as the application would.
  write('courses/syllabus ä €.txt', 'Syllabus, version 2\n');
  rmSync(join(uploads, 'students/1/transcript.pdf'));
  write('students/2/photo.jpg', randomBytes(200_000));
  giveToPostgres(uploads);
  const second = backup(repository, {}, sameHour);
  if (second.status !== 0) throw new Error(output(second));
  const afterSecond = listSnapshots(repository, keys.passwordFile, work);
  expect(afterSecond.map((s) => s.id)).toEqual([oldestSnapshot, expect.any(String)]);
  const secondSnapshot = afterSecond[1];

  write('students/2/photo.jpg', randomBytes(100_000));
  giveToPostgres(uploads);
  const version3 = readTree(uploads);
  const third = backup(repository, {}, sameHour);
  if (third.status !== 0) throw new Error(output(third));
  const kept = listSnapshots(repository, keys.passwordFile, work);
  const thirdSnapshot = kept.find((s) => s.id !== oldestSnapshot && s.id !== secondSnapshot.id);
  // The condition this test is about, checked rather than assumed: the first run recorded another
  // hour, the second and third the same one.
  expect(thirdSnapshot).toBeDefined();
  expect(recordedHour(thirdSnapshot?.time ?? '')).toBe(recordedHour(secondSnapshot.time));
  expect(recordedHour(afterSecond[0].time)).not.toBe(recordedHour(secondSnapshot.time));
  // Retention (forget --prune) with the CronJob's policy: the second run's snapshot goes, the first
  // stays as the newest of its own hour.
  expect(third.stdout).toContain(retentionPolicyLine(backupContainer));
  expect(retentionPolicyLine(backupContainer)).toMatch(/hourly/);
  expect(third.stdout).toMatch(/remove 1 snapshots/);
  expect(kept.map((s) => s.id)).toEqual([oldestSnapshot, thirdSnapshot?.id]);

  expect(readTree(restore('latest'))).toEqual(version3);
  expect(readTree(restore(oldestSnapshot))).toEqual(version1);
  const [latest] = JSON.parse(restic(repository, keys.passwordFile, ['snapshots', '--json', '--latest', '1'], work));
  expect(latest).toMatchObject({ hostname: instanceOf(env), tags: [FILES_TAG], paths: [uploads] });
}, 120_000);

test('a wrong repository password fails the job and stores nothing', () => {
  const repo = copyOfRepository('repository-wrong-password');
  const before = snapshotIds(repo);
  const r = backup(repo, { RESTIC_PASSWORD_FILE: keys.wrongPasswordFile });
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(/wrong password/);
  expect(snapshotIds(repo)).toEqual(before);
});

test('an unreachable store fails the job', () => {
  const missing = join(work, 'no-such-repository');
  const local = backup(missing);
  expect(local.status).not.toBe(0);
  expect(existsSync(missing)).toBe(false);
  const s3 = backup('s3:http://127.0.0.1:9/bucket/restic/uploads', { AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret', AWS_DEFAULT_REGION: null });
  expect(s3.status).not.toBe(0);
  expect(s3.stderr).toMatch(/connection refused/);
});

test('a damaged repository: the incomplete snapshot restic made is removed, and the job fails', () => {
  const repo = copyOfRepository('repository-damaged');
  const before = snapshotIds(repo);
  for (const pack of packFiles(repo)) corrupt(pack.path);
  const r = backup(repo);
  expect(r.status).not.toBe(0);
  expect(snapshotIds(repo)).toEqual(before);
}, 60_000);

test('a file the job cannot read: the incomplete snapshot is removed, and the job fails', () => {
  const repo = copyOfRepository('repository-unreadable');
  const before = snapshotIds(repo);
  const secret = join(uploads, 'students/3/unreadable.pdf');
  write('students/3/unreadable.pdf', randomBytes(1000));
  chmodSync(secret, 0o600); // root's, and the job is not root
  try {
    const r = backup(repo);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/permission denied/);
    expect(r.stderr).toMatch(/removing snapshot [0-9a-f]+: it is incomplete/);
    expect(snapshotIds(repo)).toEqual(before);
  } finally {
    rmSync(join(uploads, 'students/3'), { recursive: true, force: true });
  }
}, 60_000);
