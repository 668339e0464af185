/**
 * How configuration problems are worded: zod's issues phrased to follow the field's path, with a
 * "did you mean" for unknown keys, as the `<env>: <path> <message>` lines a person reads.
 */
import { z } from 'zod';
import { isPlainObject } from './define';
import type { Problem } from './rules';
import { schemaAt, type ZodLike } from './schema-walk';
import { closestName } from './suggest';

/** `services.api.autoscaling.minReplicas`, `hosts[0].routes[1].path`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, seg) =>
    typeof seg === 'number' ? `${acc}[${seg}]` : acc ? `${acc}.${String(seg)}` : String(seg), '');
}

/** A value as a message quotes it: strings in quotes, lists and objects by kind. */
function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'a list';
  if (isPlainObject(value)) return 'an object';
  return String(value);
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string', number: 'a number', int: 'an integer', boolean: 'true or false',
  object: 'an object', record: 'an object', array: 'a list',
};

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * The wording of every issue the schema does not phrase itself (zod's per-parse error map: a
 * message given in the schema wins over this). Phrased to follow the field's path.
 */
export const issueMessage: z.core.$ZodErrorMap = (issue) => {
  const input = describe(issue.input);
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'is required' : `(${input}) must be ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'array' || issue.origin === 'set') return `needs at least ${plural(min, 'entry', 'entries')}`;
      if (issue.origin === 'string') return min === 1 ? 'must not be empty' : `(${input}) must be at least ${plural(min, 'character', 'characters')} long`;
      return `(${input}) must be ${issue.inclusive === false ? 'greater than' : 'at least'} ${min}`;
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'array' || issue.origin === 'set') return `may have at most ${plural(max, 'entry', 'entries')}`;
      if (issue.origin === 'string') return `(${input}) must be at most ${plural(max, 'character', 'characters')} long`;
      return `(${input}) must be ${issue.inclusive === false ? 'less than' : 'at most'} ${max}`;
    }
    case 'invalid_value':
      return issue.values.length === 1
        ? `(${input}) must be ${describe(issue.values[0])}`
        : `(${input}) must be one of ${issue.values.map((v) => describe(v)).join(', ')}`;
    case 'invalid_format':
      return `(${input}) is not in the expected format`;
    case 'not_multiple_of':
      return `(${input}) must be a multiple of ${String(issue.divisor)}`;
    default:
      return undefined;
  }
};

/** `replicaz` → `replicas`: the known field a misspelt key most likely meant. */
function suggestion(schema: unknown, path: readonly PropertyKey[], key: string): string | undefined {
  return closestName(key, Object.keys(schemaAt(schema as ZodLike, path)?._zod.def.shape ?? {}));
}

/** One zod issue as problems phrased for a person (unknown keys give one problem each). */
export function fromIssue(issue: z.core.$ZodIssue, schema: unknown): Problem[] {
  const path = formatPath(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) => {
        const hint = suggestion(schema, issue.path, k);
        return { path: formatPath([...issue.path, k]), message: `is not a known field${hint ? ` (did you mean ${hint}?)` : ''}` };
      });
    case 'invalid_key':
      // The path already ends with the offending key; the inner issues say what is wrong with it.
      return issue.issues.map((i) => ({ path, message: i.message }));
    default:
      return [{ path, message: issue.message }];
  }
}

/** Parse with the messages above; `data` only when there is no issue. */
export function check(schema: z.ZodType, input: unknown): { data?: unknown; issues: z.core.$ZodIssue[] } {
  const parsed = schema.safeParse(input, { reportInput: true, error: issueMessage });
  return parsed.success ? { data: parsed.data, issues: [] } : { issues: parsed.error.issues };
}

/** The line a person reads: `<env>: <path> <message>`. */
export function line(env: string, p: Problem): string {
  return p.path ? `${env}: ${p.path} ${p.message}` : `${env}: ${p.message}`;
}
