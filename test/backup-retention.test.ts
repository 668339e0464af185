/**
 * Retention over time: what the repositories hold after months of scheduled runs is exactly what the
 * documentation promises (docs/disaster-recovery.md, and the runbooks that repeat it), with the
 * schedules and KEEP_* settings of the synthesized CronJobs and the shipped scripts' own `forget`.
 *
 * A run of either job takes seconds (restic takes a lock and ≈ 0.4 s per command), so the history is
 * made cheaply: the shipped script runs once to make a real snapshot, copies of it are written with
 * the schedule's earlier times (same tree, host, paths and tags; see writeBackdatedSnapshots), and
 * the shipped script runs again as the newest run, backing up and applying retention to the whole
 * history. One `forget` over the whole history keeps what a `forget` after every run keeps: a
 * snapshot stays while it is the newest of one of the last n hours, days, weeks or months that hold
 * a snapshot, and later runs only ever push its bucket further back.
 *
 * The `forget` that runs here is restic 0.14's (Debian's); the pods run RESTIC_IMAGE (restic
 * 0.18.1). Since 0.16, `forget` also keeps a group's oldest snapshot while a --keep-* rule still has
 * counts left (restic changelog 0.16.0, issue 3624). The 13 months of dumps fill every rule, so
 * there both versions keep the documented set; the 35 days of files snapshots do not fill the 12
 * monthly, so in the cluster the files repository also keeps its first snapshot until it holds 12
 * months: more than documented, never less. The documented set is worked out here independently
 * of either version.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { K8sObject } from '../pipeline/k8s-object';
import {
  cloneRepository, container, containerEnv, giveToPostgres, initRepository, listSnapshots, output, passwordFiles, podDirectories, postgresDir,
  production, resticPlaces, runContainer, writeBackdatedSnapshots, type Repositories, type ScriptRun, type SnapshotInfo,
} from './support/backup-harness';
import { REPO } from './support/repository-copy';

const { objects, names } = production();
const storeContainer = container(objects, names.databaseJob, 'store');
const filesContainer = container(objects, names.filesJob, 'backup');
const DUMP = names.dump;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

type Rule = 'hourly' | 'daily' | 'weekly' | 'monthly';
const RULES: readonly Rule[] = ['hourly', 'daily', 'weekly', 'monthly'];
type Policy = Record<Rule, number>;

/** "24 hourly, 7 daily, 4 weekly and 12 monthly" → the counts; a rule not named keeps nothing. */
function policyIn(text: string): Policy {
  const count = (rule: Rule) => Number(new RegExp(`(\\d+) ${rule}\\b`).exec(text)?.[1] ?? 0);
  return { hourly: count('hourly'), daily: count('daily'), weekly: count('weekly'), monthly: count('monthly') };
}

/** The retention a document states: the first group of `pattern` in `file` (whitespace folded). */
function stated(file: string, pattern: RegExp): string {
  const m = pattern.exec(readFileSync(join(REPO, file), 'utf8').replace(/\s+/g, ' '));
  if (!m) throw new Error(`${file} no longer matches ${pattern}: where does it state the retention?`);
  return m[1];
}

const DOCUMENTED = {
  database: policyIn(stated('docs/disaster-recovery.md', /nightly logical dump in restic \(([^)]*)\)/)),
  files: policyIn(stated('docs/disaster-recovery.md', /hourly restic snapshot \(([^)]*)\)/)),
};

/** ISO 8601 week (Monday to Sunday) of a UTC time, as restic and the calendar count weeks. */
function isoWeek(t: Date): string {
  const d = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()));
  d.setUTCDate(d.getUTCDate() + 3 - ((d.getUTCDay() + 6) % 7)); // the Thursday of its week
  const firstThursday = new Date(Date.UTC(d.getUTCFullYear(), 0, 4));
  const week = 1 + Math.round((d.getTime() - firstThursday.getTime()) / (7 * DAY) - 3 / 7 + ((firstThursday.getUTCDay() + 6) % 7) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

const BUCKET: Record<Rule, (t: Date) => string> = {
  hourly: (t) => t.toISOString().slice(0, 13),
  daily: (t) => t.toISOString().slice(0, 10),
  weekly: isoWeek,
  monthly: (t) => t.toISOString().slice(0, 7),
};

/** What the documentation promises: for each rule, the newest backup of each of the last n hours (days, weeks, months) that have one. */
function documentedSet(policy: Policy, times: readonly Date[]): Date[] {
  const newestFirst = [...times].sort((a, b) => b.getTime() - a.getTime());
  const kept = new Set<Date>();
  for (const rule of RULES) {
    const seen = new Set<string>();
    for (const t of newestFirst) {
      const bucket = BUCKET[rule](t);
      if (seen.has(bucket)) continue;
      if (seen.size === policy[rule]) break;
      seen.add(bucket);
      kept.add(t);
    }
  }
  return [...kept].sort((a, b) => a.getTime() - b.getTime());
}

/**
 * The times a CronJob fires in [from, to): the two shapes the backup schedules have, `M H * * *`
 * (daily) and `M * * * *` (hourly), in UTC (the CronJobs' timeZone).
 */
function fireTimes(schedule: string, from: Date, to: Date): Date[] {
  const m = /^(\d{1,2}) (\d{1,2}|\*) \* \* \*$/.exec(schedule);
  if (!m) throw new Error(`the simulation knows daily (M H * * *) and hourly (M * * * *) schedules, not "${schedule}"`);
  const [minute, hour] = [Number(m[1]), m[2] === '*' ? undefined : Number(m[2])];
  const times: Date[] = [];
  for (let h = Math.floor(from.getTime() / HOUR) * HOUR; h < to.getTime(); h += HOUR) {
    const t = new Date(h + minute * 60_000);
    if ((hour === undefined || t.getUTCHours() === hour) && t >= from && t < to) times.push(t);
  }
  return times;
}

function cronJob(name: string): K8sObject {
  const job = objects.find((o) => o.kind === 'CronJob' && o.metadata.name === name);
  if (!job) throw new Error(`no CronJob ${name}`);
  return job;
}

const keepSettings = (c: K8sObject): Policy => {
  const value = (n: string) => Number((c.env as { name: string; value?: string }[]).find((e) => e.name === `KEEP_${n}`)?.value);
  return { hourly: value('HOURLY'), daily: value('DAILY'), weekly: value('WEEKLY'), monthly: value('MONTHLY') };
};

let work: string;
let keys: Repositories;
let emptyRepository: string;
const pods = podDirectories(() => work);
const { newPod } = pods;


/** The pods run in UTC (no TZ in the image): restic records, and buckets, snapshot times in it. */
const UTC = { TZ: 'Etc/UTC' };

/** One run of the database job's `store` container, on a dump as dump-database.sh leaves it (the file and its sha256sum marker). */
function storeDump(repository: string): ScriptRun {
  const pod = newPod();
  const dumpDir = postgresDir(join(pod.scratch, 'dump'));
  const dump = Buffer.from(`PGDMP stand-in for ${DUMP}, run ${pods.count}\n`);
  writeFileSync(join(dumpDir, DUMP), dump);
  writeFileSync(join(dumpDir, `${DUMP}.sha256`), `${createHash('sha256').update(dump).digest('hex')}  ${DUMP}\n`);
  giveToPostgres(dumpDir);
  const places = resticPlaces(storeContainer, repository, keys.passwordFile, pod);
  return runContainer(storeContainer, { ...containerEnv(storeContainer, { ...places, DUMP_DIR: dumpDir }), ...UTC });
}

let uploads: string;

/** One run of the files job's container. */
function backupFiles(repository: string): ScriptRun {
  const places = resticPlaces(filesContainer, repository, keys.passwordFile, newPod());
  return runContainer(filesContainer, { ...containerEnv(filesContainer, { ...places, SOURCE_DIR: uploads }), ...UTC });
}

interface History {
  /** The scheduled runs before the last, and the last, real one. */
  readonly times: Date[];
  /** What the repository holds afterwards. */
  readonly kept: SnapshotInfo[];
  readonly last: ScriptRun;
}

/**
 * `days` of a job's schedule, ending with a real run of its script now: the first real run's snapshot
 * is the template of the backdated ones and is then removed, so the history is the schedule's.
 */
function simulate(repository: string, schedule: string, days: number, run: () => ScriptRun): History {
  const first = run();
  if (first.status !== 0) throw new Error(output(first));
  const [template, ...others] = listSnapshots(repository, keys.passwordFile, work);
  expect(others).toEqual([]);
  rmSync(join(repository, 'snapshots', template.id));

  const now = new Date();
  const scheduled = fireTimes(schedule, new Date(now.getTime() - days * DAY), now);
  const backdated = writeBackdatedSnapshots(repository, template, scheduled);

  const last = run();
  if (last.status !== 0) throw new Error(output(last));
  const kept = listSnapshots(repository, keys.passwordFile, work);
  const real = kept.filter((s) => !backdated.includes(s.id));
  // The last run's own snapshot, always the newest, so always kept.
  expect(real).toHaveLength(1);
  // Recorded in UTC, like the backdated ones: the buckets below are UTC hours, days, weeks and months.
  expect(real[0].time).toMatch(/Z$/);
  return { times: [...scheduled, new Date(real[0].time)], kept, last };
}

const iso = (times: readonly Date[]) => times.map((t) => t.toISOString());

beforeAll(() => {
  work = postgresDir();
  keys = passwordFiles(work);
  emptyRepository = join(work, 'empty');
  initRepository(emptyRepository, keys.passwordFile, work);
  uploads = postgresDir(join(work, 'uploads'));
  mkdirSync(join(uploads, 'students'));
  writeFileSync(join(uploads, 'students', 'photo.jpg'), 'not really a photo');
  giveToPostgres(uploads);
}, 60_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the documents agree on what is kept', () => {
  expect(DOCUMENTED.database).toEqual({ hourly: 0, daily: 7, weekly: 4, monthly: 12 });
  expect(DOCUMENTED.files).toEqual({ hourly: 24, daily: 7, weekly: 4, monthly: 12 });
  expect(policyIn(stated('runbooks/restore-uploaded-files.md', /tag `uploads`; ([^)]*) snapshots are kept\)/))).toEqual(DOCUMENTED.files);
  const fromDump = readFileSync(join(REPO, 'runbooks/restore-database-from-dump.md'), 'utf8').replace(/\s+/g, ' ');
  expect(fromDump).toContain(`dumps go back ${DOCUMENTED.database.monthly} months`);
});

test('the CronJobs run the scripts with the documented retention, on the schedules simulated here', () => {
  expect(keepSettings(storeContainer)).toEqual(DOCUMENTED.database);
  expect(keepSettings(filesContainer)).toEqual(DOCUMENTED.files);
  for (const name of [names.databaseJob, names.filesJob]) expect(cronJob(name).spec.timeZone).toBe('Etc/UTC');
  // One dump a day, one files snapshot an hour: the schedules the documented sets assume.
  const day = (schedule: string) => fireTimes(schedule, new Date('2026-03-02T00:00:00Z'), new Date('2026-03-03T00:00:00Z')).length;
  expect(day(cronJob(names.databaseJob).spec.schedule)).toBe(1);
  expect(day(cronJob(names.filesJob).spec.schedule)).toBe(24);
});

test('the documented set, worked out by hand for one history', () => {
  // Nightly at 02:15 from Monday 2026-01-05 to Wednesday 2026-02-25: 7 daily (02-19 … 02-25), the
  // newest of ISO weeks 9 (02-25), 8, 7 and 6 (Sundays 02-22, 02-15, 02-08), of February and January.
  const nights = fireTimes('15 2 * * *', new Date('2026-01-05T00:00:00Z'), new Date('2026-02-26T00:00:00Z'));
  expect(iso(documentedSet({ hourly: 0, daily: 7, weekly: 4, monthly: 12 }, nights)).map((t) => t.slice(0, 10))).toEqual([
    '2026-01-31', '2026-02-08', '2026-02-15',
    '2026-02-19', '2026-02-20', '2026-02-21', '2026-02-22', '2026-02-23', '2026-02-24', '2026-02-25',
  ]);
  // With 24 hourly, 24 nightly dumps would stay: a bucket counts only when it holds a snapshot.
  expect(documentedSet({ hourly: 24, daily: 7, weekly: 4, monthly: 12 }, nights)).toHaveLength(24 + 1 /* 01-31 */);
  expect(isoWeek(new Date('2026-01-01T12:00:00Z'))).toBe('2026-W01');
  expect(isoWeek(new Date('2027-01-03T12:00:00Z'))).toBe('2026-W53');
  expect(isoWeek(new Date('2024-12-30T12:00:00Z'))).toBe('2025-W01');
});

test('13 months of nightly dumps: the repository keeps exactly 7 daily, 4 weekly and 12 monthly (as documented)', () => {
  const repository = cloneRepository(emptyRepository, join(work, 'database'));
  const { times, kept, last } = simulate(repository, cronJob(names.databaseJob).spec.schedule, 400, () => storeDump(repository));
  expect(last.stderr).toMatch(/applying retention/);
  const expected = documentedSet(DOCUMENTED.database, times);
  expect(iso(kept.map((s) => new Date(s.time)))).toEqual(iso(expected));
  // 12 months back and no further: the oldest dump kept is the newest of the 12th month.
  expect(new Set(kept.map((s) => s.time.slice(0, 7))).size).toBe(DOCUMENTED.database.monthly);
}, 120_000);

test('35 days of hourly files snapshots: the repository keeps exactly 24 hourly, 7 daily, 4 weekly and the monthly ones (as documented)', () => {
  const repository = cloneRepository(emptyRepository, join(work, 'files'));
  const { times, kept, last } = simulate(repository, cronJob(names.filesJob).spec.schedule, 35, () => backupFiles(repository));
  expect(last.stderr).toMatch(/applying retention/);
  expect(times.length).toBeGreaterThanOrEqual(35 * 24);
  const expected = documentedSet(DOCUMENTED.files, times);
  expect(iso(kept.map((s) => new Date(s.time)))).toEqual(iso(expected));
  // Every hour of the last day is there to go back to: a snapshot in each of the 24 UTC hours up to
  // the newest's. (Counting the snapshots of the last 24 hours instead would also count yesterday's
  // daily one when the newest is taken between 23:00 and the schedule's :40.)
  const newest = Date.parse(kept.at(-1)?.time ?? '');
  const hourOf = (t: number) => new Date(t).toISOString().slice(0, 13);
  const keptHours = new Set(kept.map((s) => hourOf(Date.parse(s.time))));
  const lastDay = Array.from({ length: DOCUMENTED.files.hourly }, (_, i) => hourOf(newest - i * HOUR));
  expect(lastDay.filter((h) => !keptHours.has(h))).toEqual([]);
}, 120_000);
