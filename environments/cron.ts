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
