/**
 * docs/configuration.md documents every field of the schema: each field path has its own table row,
 * and the row's Default column matches the schema (the default itself, "required", or "optional").
 * Adding a field or changing a default without updating the reference fails here.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnvironmentSchema } from '../environments/schema';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DOC = readFileSync(join(REPO, 'docs/configuration.md'), 'utf8');

interface ZodLike {
  readonly _zod: {
    readonly def: {
      readonly type: string;
      readonly shape?: Record<string, ZodLike>;
      readonly valueType?: ZodLike;
      readonly element?: ZodLike;
      readonly innerType?: ZodLike;
      readonly defaultValue?: unknown;
    };
  };
}

interface Field {
  /** `services.<name>.autoscaling.minReplicas`, `hosts[].routes[].path`. */
  readonly path: string;
  /** 'required', 'optional', or the default value. */
  readonly presence: 'required' | 'optional' | { readonly default: unknown };
}

/** Every field path of the schema, depth first, with whether it is required, optional or defaulted. */
function fields(schema: ZodLike, path = '', presence: Field['presence'] = 'required'): Field[] {
  const def = schema._zod.def;
  if (def.type === 'default' || def.type === 'prefault') {
    return fields(def.innerType as ZodLike, path, { default: def.defaultValue });
  }
  if (def.type === 'optional') return fields(def.innerType as ZodLike, path, 'optional');
  if (def.innerType) return fields(def.innerType, path, presence); // nullable, readonly, catch…
  const here: Field[] = path ? [{ path, presence }] : [];
  if (def.type === 'object') {
    return [...here, ...Object.entries(def.shape ?? {}).flatMap(([k, v]) => fields(v, path ? `${path}.${k}` : k))];
  }
  if (def.type === 'record') return [...here, ...fields(def.valueType as ZodLike, `${path}.<name>`, 'required').map(asEntry)];
  if (def.type === 'array') return [...here, ...fields(def.element as ZodLike, `${path}[]`, 'required').map(asEntry)];
  return here;
}

/** Entries of a map or list are neither required nor defaulted on their own. */
function asEntry(f: Field): Field {
  return f.path.endsWith('>') || f.path.endsWith(']') ? { ...f, presence: 'required' } : f;
}

/** The cells of the table row documenting `path`, if there is one. */
function row(path: string): string[] | undefined {
  const line = DOC.split('\n').find((l) => l.startsWith(`| \`${path}\` |`));
  return line?.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
}

/** `{ a: 1, b: "x" }`, `["/tmp"]` and the JSON of the same value compare equal. */
function normalize(text: string): string {
  return text.replace(/[`"'\s]/g, '');
}

const ALL = fields(EnvironmentSchema as unknown as ZodLike);
/** Fields with a row of their own: entries of lists and maps are described by their parent and children. */
const DOCUMENTED = ALL.filter((f) => !f.path.endsWith('[]') && !(f.path.endsWith('.<name>') && f.path !== 'services.<name>.env.<name>'));

test('the walk finds the schema fields', () => {
  const paths = ALL.map((f) => f.path);
  expect(paths).toContain('services.<name>.autoscaling.minReplicas');
  expect(paths).toContain('hosts[].routes[].path');
  expect(paths).toContain('services.<name>.env.<name>');
  expect(paths).toContain('data.redis.maxmemoryPolicy');
  expect(ALL.length).toBeGreaterThan(100);
});

test.each(DOCUMENTED.map((f) => [f.path, f] as const))('docs/configuration.md documents %s', (path, field) => {
  expect(DOC).toContain(`\`${path}\``);
  const cells = row(path);
  expect(cells).toBeDefined();
  const [, , defaultCell] = cells as string[];
  if (path.endsWith('.<name>')) return; // an entry of a map: no default of its own
  if (field.presence === 'required') expect(defaultCell).toMatch(/^required\b/);
  else if (field.presence === 'optional') expect(defaultCell).toBe('optional');
  else expect(normalize(defaultCell)).toBe(normalize(JSON.stringify(field.presence.default)));
});

test('every documented field exists in the schema', () => {
  const known = new Set(ALL.map((f) => f.path));
  const documented = [...DOC.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1])
    .filter((p) => /^[a-z]/i.test(p) && !p.includes(' '));
  const fieldTables = documented.filter((p) => /^(name|production|app|kubernetesVersion|gateway|tls|hsts|hosts|monitoringNamespace|services|data|backups|alerting|slo)\b/.test(p));
  expect(fieldTables.filter((p) => !known.has(p))).toEqual([]);
});
