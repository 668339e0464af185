/**
 * Cron syntax as the consumers understand it: Kubernetes CronJobs take 5 fields (robfig/cron
 * standard parser), CloudNativePG's ScheduledBackup takes 6 (seconds first). A library that
 * accepts both shapes would let a 6-field schedule through to a CronJob, which then never runs.
 *
 * The grammar is robfig/cron v3's, slightly stricter where robfig silently accepts nonsense:
 * day of week is 0-6 (robfig, unlike Vixie cron, rejects 7), descriptors such as `@daily` must be
 * the whole string, and empty list items (`1,,2`), `*-5` and steps larger than the field's range
 * are refused rather than quietly reinterpreted.
 */
interface FieldSpec {
  readonly name: string;
  readonly lo: number;
  readonly hi: number;
  readonly names?: readonly string[];
  /** Value of names[0]. */
  readonly offset?: number;
}

const SECONDS: FieldSpec = { name: 'second', lo: 0, hi: 59 };
const FIELDS: readonly FieldSpec[] = [
  { name: 'minute', lo: 0, hi: 59 },
  { name: 'hour', lo: 0, hi: 23 },
  { name: 'day-of-month', lo: 1, hi: 31 },
  { name: 'month', lo: 1, hi: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'], offset: 1 },
  { name: 'day-of-week', lo: 0, hi: 6, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], offset: 0 },
];
const MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

function value(token: string, spec: FieldSpec): number | undefined {
  if (/^[0-9]+$/.test(token)) return Number(token);
  const i = spec.names?.indexOf(token.toLowerCase()) ?? -1;
  return i >= 0 ? i + (spec.offset ?? 0) : undefined;
}

/** Why one field is invalid, or undefined when it is valid. */
function fieldProblem(field: string, spec: FieldSpec): string | undefined {
  for (const part of field.split(',')) {
    const [range, step, extra] = part.split('/');
    if (extra !== undefined || range === '') return `${spec.name} field "${field}" is not a value, range, list or step`;
    if (step !== undefined && !(/^[0-9]+$/.test(step) && Number(step) >= 1 && Number(step) <= spec.hi)) {
      return `${spec.name} step "/${step}" must be a number from 1 to ${spec.hi}`;
    }
    if (range === '*' || range === '?') continue;
    const bounds = range.split('-');
    if (bounds.length > 2) return `${spec.name} field "${field}" is not a value, range, list or step`;
    const nums = bounds.map((b) => value(b, spec));
    for (const [i, n] of nums.entries()) {
      if (n === undefined) return `${spec.name} field "${field}" is not a value, range, list or step`;
      if (n < spec.lo || n > spec.hi) {
        return `${spec.name} value ${bounds[i]} is out of range ${spec.lo}-${spec.hi}${spec.name === 'day-of-week' ? ' (Sunday is 0)' : ''}`;
      }
    }
    if (nums.length === 2 && (nums[0] as number) > (nums[1] as number)) return `${spec.name} range "${range}" runs backwards`;
  }
  return undefined;
}

/**
 * Why `expr` is not a valid cron expression with exactly `fields` fields (5, or 6 with seconds
 * first), or undefined when it is valid.
 */
export function cronProblem(expr: string, fields: 5 | 6): string | undefined {
  // robfig matches descriptors byte for byte: "@daily " or "@DAILY" is an error there too.
  if (expr.startsWith('@')) {
    return fields === 5 && MACROS.has(expr) ? undefined : `"${expr}" is not one of ${[...MACROS].join(', ')}${fields === 6 ? ' (and those are not accepted here)' : ''}`;
  }
  const parts = expr.trim().split(/\s+/).filter((p) => p !== '');
  const specs = fields === 6 ? [SECONDS, ...FIELDS] : FIELDS;
  if (parts.length !== fields) {
    return `has ${parts.length} field${parts.length === 1 ? '' : 's'}, expected ${fields} (${specs.map((s) => s.name).join(' ')})`;
  }
  for (const [i, part] of parts.entries()) {
    const problem = fieldProblem(part, specs[i]);
    if (problem) return problem;
  }
  return undefined;
}

/** True when `expr` is a valid cron expression with exactly `fields` fields (5, or 6 with seconds). */
export function isCronExpression(expr: string, fields: 5 | 6): boolean {
  return cronProblem(expr, fields) === undefined;
}

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *', '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *',
};

/** The values a valid field matches, and whether it is `*` or `?` (robfig's star bit). */
function values(field: string, spec: FieldSpec): { readonly set: ReadonlySet<number>; readonly star: boolean } {
  const set = new Set<number>();
  for (const part of field.split(',')) {
    const [range, step] = part.split('/');
    const [lo, hi] = range === '*' || range === '?'
      ? [spec.lo, spec.hi]
      : ((b) => [b[0], b.length === 2 ? b[1] : step !== undefined ? spec.hi : b[0]])(range.split('-').map((t) => value(t, spec) as number));
    for (let v = lo; v <= hi; v += Number(step ?? 1)) set.add(v);
  }
  // robfig/cron keeps the star bit for `*` and `?` without a step or with step 1, in any list item.
  const star = field.split(',').some((part) => { const [range, step] = part.split('/'); return (range === '*' || range === '?') && (step === undefined || step === '1'); });
  return { set, star };
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** Where the search for runs starts: fixed, so the answer never depends on the day it is asked. */
const EPOCH = Date.UTC(2025, 0, 1);

/** The days searched for runs: four years from 2025, leap day included. */
const SEARCHED_DAYS = Array.from({ length: Math.floor(4 * 365.25) }, (_, i) => EPOCH + i * DAY_MS);

interface Schedule {
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  /** Whether the expression runs on the day starting at `day` (UTC midnight, ms). */
  readonly runsOn: (day: number) => boolean;
  /** Whether it runs on every day of every month, whatever the weekday. */
  readonly daily: boolean;
}

/**
 * A valid 5-field expression as sorted minutes and hours and a test of days. Day of month and day
 * of week combine as robfig/cron does: both restricted, either one matches; otherwise both must.
 */
function scheduleOf(expr: string): Schedule {
  const parts = (DESCRIPTORS[expr] ?? expr).trim().split(/\s+/);
  const [minute, hour, dom, month, dow] = parts.map((p, i) => values(p, FIELDS[i]));
  return {
    minutes: [...minute.set].sort((a, b) => a - b),
    hours: [...hour.set].sort((a, b) => a - b),
    daily: month.set.size === 12 && dom.set.size === 31 && dow.set.size === 7,
    runsOn: (day) => {
      const d = new Date(day);
      if (!month.set.has(d.getUTCMonth() + 1)) return false;
      const domMatch = dom.set.has(d.getUTCDate());
      const dowMatch = dow.set.has(d.getUTCDay());
      return dom.star || dow.star ? domMatch && dowMatch : domMatch || dowMatch;
    },
  };
}

/** Whether a valid 5-field expression runs at all (not on the 30th of February only, say). */
export function everRuns(expr: string): boolean {
  const s = scheduleOf(expr);
  return s.minutes.length > 0 && s.hours.length > 0 && SEARCHED_DAYS.some(s.runsOn);
}

/** Expressions already measured: the same schedules recur across environments and rules. */
const gaps = new Map<string, number | undefined>();

/**
 * The longest time, in minutes, between two runs of a valid 5-field expression over four years
 * from 2025 (leap day included, so a schedule that runs only on February 29 runs), evaluated in
 * UTC as Kubernetes CronJobs without a time zone are; undefined when it never runs at all (the
 * 30th of February).
 */
export function longestGapMinutes(expr: string): number | undefined {
  if (!gaps.has(expr)) gaps.set(expr, measureLongestGap(expr));
  return gaps.get(expr);
}

function measureLongestGap(expr: string): number | undefined {
  const { minutes, hours, runsOn, daily } = scheduleOf(expr);
  if (daily && minutes.length > 0 && hours.length > 0) {
    // Every day alike (every five minutes, hourly, nightly): the longest gap is within a day or
    // from its last run to the next day's first, with no need to walk four years of runs.
    const times = hours.flatMap((h) => minutes.map((m) => h * 60 + m));
    let longest = 24 * 60 - times[times.length - 1] + times[0];
    for (let i = 1; i < times.length; i += 1) longest = Math.max(longest, times[i] - times[i - 1]);
    return longest;
  }
  let previous: number | undefined;
  let first: number | undefined;
  let longest = 0;
  for (const day of SEARCHED_DAYS) {
    if (!runsOn(day)) continue;
    for (const h of hours) {
      for (const m of minutes) {
        const t = day + (h * 60 + m) * MINUTE_MS;
        if (previous !== undefined) longest = Math.max(longest, t - previous);
        first ??= t;
        previous = t;
      }
    }
  }
  if (previous === undefined || first === undefined) return undefined;
  // One run a window (yearly, on a leap day): the gap is the window itself.
  return Math.max(longest, first === previous ? 4 * 365.25 * DAY_MS : 0) / MINUTE_MS;
}

/**
 * A time zone's UTC offsets over the searched window, as [from (UTC ms), offset (ms)] from the
 * earliest: found a day at a time, and each change pinned to its minute by bisection, so a zone
 * costs some 1,500 lookups rather than one per run.
 */
type Offsets = readonly (readonly [number, number])[];
const offsetsByZone = new Map<string, Offsets>();

function offsetAt(format: Intl.DateTimeFormat, utc: number): number {
  const parts = Object.fromEntries(format.formatToParts(new Date(utc)).map((p) => [p.type, p.value]));
  const local = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour) % 24, Number(parts.minute));
  return local - Math.floor(utc / MINUTE_MS) * MINUTE_MS;
}

function zoneOffsets(timeZone: string): Offsets {
  const known = offsetsByZone.get(timeZone);
  if (known) return known;
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric',
  });
  // A day either side of the window: a local time near its edges may fall outside it in UTC.
  const start = EPOCH - DAY_MS;
  const out: [number, number][] = [[start, offsetAt(format, start)]];
  for (let day = start + DAY_MS; day <= EPOCH + (SEARCHED_DAYS.length + 1) * DAY_MS; day += DAY_MS) {
    const offset = offsetAt(format, day);
    if (offset === out[out.length - 1][1]) continue;
    let [lo, hi] = [day - DAY_MS, day];
    while (hi - lo > MINUTE_MS) {
      const mid = lo + Math.floor((hi - lo) / 2 / MINUTE_MS) * MINUTE_MS;
      if (offsetAt(format, mid) === offset) hi = mid;
      else lo = mid;
    }
    out.push([hi, offset]);
  }
  offsetsByZone.set(timeZone, out);
  return out;
}

/**
 * The UTC instant of a wall-clock time of the zone (given as if it were UTC): none where the clocks
 * went forward over it (robfig/cron, which the CronJob controller uses, never yields a time that
 * does not exist); the earlier of the two where they went back, so that a gap is never shorter
 * than the controller's (whether it runs the repeated time twice only shortens one).
 */
function instantOf(local: number, offsets: Offsets): number | undefined {
  // A plain loop: called once per run of every schedule, some 400,000 times for one every 5 minutes.
  for (let i = 0; i < offsets.length; i += 1) {
    const [from, offset] = offsets[i];
    const utc = local - offset;
    const until = i + 1 < offsets.length ? offsets[i + 1][0] : Infinity;
    if (utc >= from && utc < until) return utc;
  }
  return undefined;
}

/** UTC and its aliases: zones whose clocks never change, where a schedule's runs are its UTC runs. */
const FIXED_ZONES = new Set(['UTC', 'Etc/UTC', 'Etc/GMT', 'GMT', 'Etc/Universal', 'Universal', 'Etc/Zulu', 'Zulu', 'Etc/UCT', 'UCT']);

/** What the checks read of a schedule's runs in a zone: the longest gap (minutes) and the first run that does not exist (UTC ms, as wall-clock time). */
interface ZonedRuns { readonly longestGap: number | undefined; readonly firstSkipped: number | undefined }
const zonedRuns = new Map<string, ZonedRuns>();

/**
 * The runs of a valid 5-field expression in a time zone over the searched window, measured once per
 * expression and zone (both the gap check and the skipped-run check of a schedule read them).
 */
function runsIn(expr: string, timeZone: string): ZonedRuns {
  const key = `${timeZone} ${expr}`;
  const known = zonedRuns.get(key);
  if (known) return known;
  const found = measureRuns(expr, timeZone);
  zonedRuns.set(key, found);
  return found;
}

function measureRuns(expr: string, timeZone: string): ZonedRuns {
  const { minutes, hours, runsOn } = scheduleOf(expr);
  const offsets = zoneOffsets(timeZone);
  const runs: number[] = [];
  let firstSkipped: number | undefined;
  for (const day of SEARCHED_DAYS) {
    if (!runsOn(day)) continue;
    for (const h of hours) {
      for (const m of minutes) {
        const local = day + (h * 60 + m) * MINUTE_MS;
        const utc = instantOf(local, offsets);
        if (utc === undefined) firstSkipped ??= local;
        else runs.push(utc);
      }
    }
  }
  runs.sort((a, b) => a - b);
  let longest = 0;
  for (let i = 1; i < runs.length; i += 1) longest = Math.max(longest, runs[i] - runs[i - 1]);
  const longestGap = runs.length === 0 ? undefined : Math.max(longest, runs.length === 1 ? 4 * 365.25 * DAY_MS : 0) / MINUTE_MS;
  return { longestGap, firstSkipped };
}

/**
 * longestGapMinutes in a time zone, as a CronJob with `timeZone` runs: a run moves with the
 * clocks, and one at a time that does not exist that day is not made up.
 */
export function longestGapMinutesIn(expr: string, timeZone: string): number | undefined {
  if (FIXED_ZONES.has(timeZone)) return longestGapMinutes(expr);
  return runsIn(expr, timeZone).longestGap;
}

/**
 * The first wall-clock time (`2026-03-08 02:30`) at which a valid expression would run in the time
 * zone but cannot, the clocks going forward over it; undefined when every run exists.
 */
export function firstSkippedRun(expr: string, timeZone: string): string | undefined {
  if (FIXED_ZONES.has(timeZone)) return undefined;
  const first = runsIn(expr, timeZone).firstSkipped;
  return first === undefined ? undefined : new Date(first).toISOString().slice(0, 16).replace('T', ' ');
}
