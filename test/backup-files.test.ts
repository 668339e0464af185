/**
 * The uploaded-files backup, backup-files.sh run as the `backup-files` CronJob's container runs
 * it, against a real restic repository: every run is a version, the newest restores byte-identical
 * and older ones stay retrievable; a wrong password, an unreachable store, a damaged repository or
 * files it cannot read fail the job and leave no new snapshot.
 *
 * Versions (see backup-harness.ts): restic is 0.14 here and 0.18.1 in the pod (RESTIC_IMAGE), so
 * the scripts' reading of restic's output (the "snapshot <id> saved" line, the exit code 3 of an
 * incomplete snapshot) and the retention lines matched here are 0.14's.
 *
 * One backup is made in beforeAll; every test starts from a copy of that repository, so any test
 * runs alone with -t.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FILES_TAG, uploadsWriterGroups } from '../charts/backup/backup-jobs';
import {
  cloneRepository, container, containerEnv, corrupt, giveToPostgres, initRepository, listSnapshots, output, packFiles, passwordFiles,
  podDirectories, postgresDir, production, restic, resticPlaces, retentionPolicyLine, runContainer, snapshotIds, writeBackdatedSnapshots, zoneKeepingThe,
  type Repositories, type ScriptRun,
} from './support/backup-harness';
import { readTree } from './support/repository-copy';

const { env, objects, names } = production();
const backupContainer = container(objects, names.filesJob, 'backup');

let work: string;
let keys: Repositories;
/** The repository after one backup (made in beforeAll, in TWO_HOURS_EARLIER); tests change copies of it. */
let repository: string;
/** The uploads volume. */
let uploads: string;
/** What the uploads volume held at that backup, and its snapshot. */
let version1: ReturnType<typeof readTree>;
let version1Snapshot: string;
const { newPod } = podDirectories(() => work);

/**
 * One run of the job: its container's environment with this machine's places, `overrides` on top
 * (names the container has), and `extra` variables it does not have (a time zone).
 */
function backup(repo: string, overrides: Record<string, string | null> = {}, extra: Record<string, string> = {}): ScriptRun {
  const pod = newPod();
  return runContainer(backupContainer, {
    ...containerEnv(backupContainer, { ...resticPlaces(backupContainer, repo, keys.passwordFile, pod), SOURCE_DIR: uploads, ...overrides }),
    ...extra,
  });
}

/**
 * Runs an hour apart, in seconds: restic buckets snapshots for --keep-hourly by the wall-clock hour
 * of the zone each one recorded, so a run in a zone two hours behind UTC lands in another hour.
 */
const TWO_HOURS_EARLIER = { TZ: 'Etc/GMT+2' };

/** The wall-clock hour a snapshot recorded, in its own zone: what --keep-hourly buckets by. */
const recordedHour = (time: string) => time.slice(0, 13);

function write(relative: string, content: Buffer | string): void {
  const path = join(uploads, relative);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
}

/** `restic restore <snapshot>` of `repo` into a new folder; returns the restored copy of the uploads folder. */
function restore(repo: string, snapshot: string): string {
  const target = postgresDir(mkdtempSync(join(work, `restore-${snapshot.slice(0, 8)}-`)));
  restic(repo, keys.passwordFile, ['restore', snapshot, '--target', target], work);
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
  write('students/1/photo.jpg', randomBytes(300_000));
  write('students/1/transcript.pdf', randomBytes(50_000));
  write('courses/syllabus ä €.txt', 'Syllabus, version 1\n');
  write('empty.txt', '');
  giveToPostgres(uploads);
  // An ext4 volume's lost+found belongs to root and is unreadable to the job: it is left out.
  mkdirSync(join(uploads, 'lost+found'), { mode: 0o700 });
  version1 = readTree(uploads);
  const first = backup(repository, {}, TWO_HOURS_EARLIER);
  if (first.status !== 0) throw new Error(`the first backup failed: ${output(first)}`);
  [version1Snapshot] = snapshotIds(repository);
}, 60_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the container snapshots the uploads volume, read-only, under a stable host and tag', () => {
  expect(backupContainer.command).toEqual(['bash', '/opt/backup/backup-files.sh']);
  const envVars = Object.fromEntries((backupContainer.env as { name: string; value?: string }[]).map((e) => [e.name, e.value]));
  const mountPath = env.data.uploads?.mountPath;
  expect(mountPath).toMatch(/^\//);
  expect(envVars).toMatchObject({ SOURCE_DIR: mountPath, BACKUP_HOST: names.host, BACKUP_TAG: FILES_TAG });
  expect(backupContainer.volumeMounts).toContainEqual({ name: 'uploads', mountPath, readOnly: true });
  expect(uploadsWriterGroups(env).length).toBeGreaterThan(0);
});

test('every run is a version: the newest restores byte-identical, an older one is still retrievable', () => {
  const versions = copyOfRepository('versions');
  expect(snapshotIds(versions)).toEqual([version1Snapshot]);

  // The second and third runs in one wall-clock hour (and so one day, week and month): retention
  // must then keep only the newer of the two.
  const sameHour = zoneKeepingThe('hour');
  // A file changed, one deleted, one added, as the application would.
  write('courses/syllabus ä €.txt', 'Syllabus, version 2\n');
  rmSync(join(uploads, 'students/1/transcript.pdf'));
  write('students/2/photo.jpg', randomBytes(200_000));
  giveToPostgres(uploads);
  const second = backup(versions, {}, sameHour);
  if (second.status !== 0) throw new Error(output(second));
  const afterSecond = listSnapshots(versions, keys.passwordFile, work);
  expect(afterSecond.map((s) => s.id)).toEqual([version1Snapshot, expect.any(String)]);
  const secondSnapshot = afterSecond[1];

  write('students/2/photo.jpg', randomBytes(100_000));
  giveToPostgres(uploads);
  const version3 = readTree(uploads);
  const third = backup(versions, {}, sameHour);
  if (third.status !== 0) throw new Error(output(third));
  const kept = listSnapshots(versions, keys.passwordFile, work);
  const thirdSnapshot = kept.find((s) => s.id !== version1Snapshot && s.id !== secondSnapshot.id);
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
  expect(kept.map((s) => s.id)).toEqual([version1Snapshot, thirdSnapshot?.id]);

  expect(readTree(restore(versions, 'latest'))).toEqual(version3);
  expect(readTree(restore(versions, version1Snapshot))).toEqual(version1);
  const [latest] = JSON.parse(restic(versions, keys.passwordFile, ['snapshots', '--json', '--latest', '1'], work));
  expect(latest).toMatchObject({ hostname: names.host, tags: [FILES_TAG], paths: [uploads] });
}, 120_000);

test('a wrong repository password fails the job and stores nothing', () => {
  const repo = copyOfRepository('repository-wrong-password');
  const before = snapshotIds(repo);
  const r = backup(repo, { RESTIC_KEY_FILE: keys.wrongPasswordFile });
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

test('retention forgets on every run but prunes on the day\'s first run only: the hourly job holds the exclusive lock once a day', () => {
  const repo = copyOfRepository('prune-cadence');
  // Yesterday's run only: the next run is the first of today.
  const [template] = listSnapshots(repo, keys.passwordFile, work);
  writeBackdatedSnapshots(repo, template, [new Date(Date.now() - 86_400_000)]);
  restic(repo, keys.passwordFile, ['forget', version1Snapshot], work);
  const today = new Date().toISOString().slice(0, 10);

  // Keeping no hourly snapshot: `forget` leaves only the newest of the day, so the day's runs
  // must be counted before it.
  const noHourly = { KEEP_HOURLY: '0' };
  const first = backup(repo, noHourly);
  expect(first.status).toBe(0);
  expect(first.stderr).toContain(`pruning: the first run of ${today}`);
  expect(output(first)).toMatch(/restic prune|collecting packs|remove \d+ old index files|this removes/);

  // Later, in another zone: still today in UTC, so no second prune. A zone on the same date as UTC
  // now: restic buckets a snapshot by the date it recorded in its own zone, so one recorded on
  // yesterday's date there (two hours behind UTC, just after midnight) would be kept as that day's.
  const sameDateZone = { TZ: new Date().getUTCHours() < 12 ? 'Etc/GMT-2' : 'Etc/GMT+2' };
  const second = backup(repo, noHourly, sameDateZone);
  expect(second.status).toBe(0);
  expect(second.stderr).toContain(`not pruning: this job already ran 1 time(s) on ${today}, and the day's first run prunes`);
  expect(second.stderr).not.toMatch(/pruning: the first run/);
  // Yesterday's, and the newest of today.
  expect(snapshotIds(repo)).toHaveLength(2);
  const third = backup(repo, noHourly);
  expect(third.stderr).toContain(`not pruning: this job already ran 1 time(s) on ${today}`);
}, 60_000);
