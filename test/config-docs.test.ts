/**
 * docs/configuration.md documents every field of the schema: each field path has its own table row,
 * and the row's Default column matches the schema (the default itself, "required", or "optional").
 * Adding a field or changing a default without updating the reference fails here.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnvironmentSchema } from '../environments/schema';
import { fields, type ZodLike } from '../environments/schema-walk';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DOC = readFileSync(join(REPO, 'docs/configuration.md'), 'utf8');

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
  const fieldTables = documented.filter((p) => /^(name|production|app|kubernetesVersion|gateway|tls|hsts|hosts|monitoringNamespace|services|data|backups|alerting|slo|delivery|platform)\b/.test(p));
  expect(fieldTables.filter((p) => !known.has(p))).toEqual([]);
});
