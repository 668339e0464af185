/**
 * Cron syntax as the consumers understand it: Kubernetes CronJobs take 5 fields (robfig/cron
 * standard parser), CloudNativePG's ScheduledBackup takes 6 (seconds first). A library that
 * accepts both shapes would let a 6-field schedule through to a CronJob, which then never runs.
 */
const FIELD_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0, 59], // minute
  [0, 23], // hour
  [1, 31], // day of month
  [1, 12], // month
  [0, 7], // day of week (0 and 7 are Sunday)
];
const SECONDS: readonly [number, number] = [0, 59];
const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

function value(token: string, names: string[] | undefined, offset: number): number | undefined {
  if (/^[0-9]+$/.test(token)) return Number(token);
  const i = names?.indexOf(token.toLowerCase()) ?? -1;
  return i >= 0 ? i + offset : undefined;
}

function isField(field: string, [lo, hi]: readonly [number, number], names?: string[], offset = 0): boolean {
  return field.split(',').every((part) => {
    const [range, step, extra] = part.split('/');
    if (extra !== undefined || range === '') return false;
    if (step !== undefined && !(/^[0-9]+$/.test(step) && Number(step) >= 1 && Number(step) <= hi)) return false;
    if (range === '*' || range === '?') return true;
    const bounds = range.split('-');
    if (bounds.length > 2) return false;
    const nums = bounds.map((b) => value(b, names, offset));
    if (nums.some((n) => n === undefined || n < lo || n > hi)) return false;
    return nums.length === 1 || (nums[0] as number) <= (nums[1] as number);
  });
}

/** True when `expr` is a valid cron expression with exactly `fields` fields (5, or 6 with seconds). */
export function isCronExpression(expr: string, fields: 5 | 6): boolean {
  const trimmed = expr.trim();
  if (fields === 5 && MACROS.has(trimmed)) return true;
  const parts = trimmed.split(/\s+/);
  if (parts.length !== fields) return false;
  const ranges = fields === 6 ? [SECONDS, ...FIELD_RANGES] : FIELD_RANGES;
  const named = fields === 6 ? 1 : 0;
  return parts.every((part, i) => {
    const names = i === 3 + named ? MONTH_NAMES : i === 4 + named ? DAY_NAMES : undefined;
    return isField(part, ranges[i], names, i === 3 + named ? 1 : 0);
  });
}
