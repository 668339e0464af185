/**
 * `npm run promote -- staging production` (scripts/promote.ts), run for real on a copy of the
 * repository: production gets staging's pins with its pin file's comments kept, dist/ is
 * re-synthesized (and fresh by `synth --check`), and the diff names each Deployment's image old →
 * new; a second run has nothing to do. Each refusal exits 1 with a clear message and writes
 * nothing (pin files, dist/, argocd/ as they were, no scratch file left): wrong arguments, a
 * staging pin without a digest (the service named), services that differ (named), and pins that
 * fail the gate (named against the real pin file).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { readTree } from '../pipeline/tree-diff';
import { commandEnv } from './support/command';
import { copyEditor, copyRepository } from './support/repository-copy';

let work: string;
const { edit, restore } = copyEditor(() => work);

const node = (args: readonly string[]): SpawnSyncReturns<string> =>
  spawnSync(process.execPath, args, { cwd: work, env: commandEnv(), encoding: 'utf8', timeout: 120_000 });
const promote = (...args: string[]) => node(['scripts/run.mjs', 'scripts/promote.ts', ...args]);

/** Everything promotion may write: the pin files (and any scratch file beside them), dist/, argocd/. */
const everything = () => ({
  images: readTree(join(work, 'environments/images')),
  dist: readTree(join(work, 'dist')),
  argocd: readTree(join(work, 'argocd')),
});


interface Pin { repository: string; tag: string; digest?: string }
/** The pins of every workload, services' and workers' (their names are unique across both). */
const pins = (env: string): Record<string, Pin> => {
  const file = parse(readFileSync(join(work, `environments/images/${env}.yaml`), 'utf8')) as { services: Record<string, Pin>; workers?: Record<string, Pin> };
  return { ...file.services, ...file.workers };
};
const reference = (p: Pin) => `${p.repository}:${p.tag}${p.digest ? `@${p.digest}` : ''}`;

beforeAll(() => {
  work = copyRepository('shipshape-promote-cli-');
  const first = node(['scripts/synth.mjs']);
  if (first.status !== 0) throw new Error(`npm run synth failed in the copy:\n${first.stderr}`);
}, 150_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

afterEach(() => {
  restore();
});

/** A refusal: exit 1, only the message on stderr, nothing written anywhere. */
function expectRefusal(args: readonly string[], message: string | RegExp): void {
  const before = everything();
  const r = promote(...args);
  expect(r.stdout).toBe('');
  if (typeof message === 'string') expect(r.stderr).toBe(message);
  else expect(r.stderr).toMatch(message);
  expect(r.status).toBe(1);
  expect(everything()).toEqual(before);
}

test.each([
  [[], 'give exactly two environments, the one to copy the images from and the one to copy them to (got 0): '
    + 'npm run promote -- <from> <to>, with the environments staging, production'],
  [['staging', 'production', 'qa'], 'give exactly two environments, the one to copy the images from and the one to copy them to (got 3): '
    + 'npm run promote -- <from> <to>, with the environments staging, production'],
  [['staging', 'prod'], 'unknown environment "prod": the environments are staging, production'],
  [['production', 'production'], '"production" is given twice: promotion copies one environment\'s images to another'],
  [['--force', 'staging', 'production'], "Unknown option '--force'; see npm run promote -- --help"],
])('arguments %j: refused, exit 1, nothing written', (args, message) => {
  expectRefusal(args, `shipshape: not promoted, nothing written: ${message}\n`);
}, 120_000);

test('a staging pin without a digest: refused, naming that service and no other', () => {
  edit('environments/images/staging.yaml', /\n {4}digest: sha256:[0-9a-f]{64}(?=\n {2}api:)/, '');
  expect(pins('staging').web.digest).toBeUndefined();
  expect(pins('staging').api.digest).toBeDefined();
  expectRefusal(['staging', 'production'], 'shipshape: not promoted, nothing written: staging\'s images are not all pinned by digest '
    + `(environments/images/staging.yaml); promotion copies only what was tested, by digest: web (tag ${pins('staging').web.tag}, no digest)\n`);
}, 120_000);

test('environments whose services differ: refused, naming the services only one has', () => {
  // Refused before anything is validated: the service need not be complete.
  edit('environments/production.ts', "services: {\n    web:", "services: {\n    worker: { autoscaling: { minReplicas: 2, maxReplicas: 3 } },\n    web:");
  expectRefusal(['staging', 'production'], 'shipshape: not promoted, nothing written: staging and production do not have the same services: '
    + 'only production has worker; add or remove the service in environments/ first (promotion copies images, not services)\n');
}, 120_000);

test('pins that fail the gate: refused with the problems, named against the real pin file; nothing written', () => {
  // Staging's own check fails too: every environment is validated, as npm run synth does.
  edit('environments/images/staging.yaml', /(\n {2}api:\n.*\n {4}tag: )\S+/, '$1latest');
  expectRefusal(['staging', 'production'], new RegExp([
    '^shipshape: not promoted, nothing written: production does not pass the checks with staging\'s images; fix these 2 problem\\(s\\):',
    '  staging: environments/images/staging\\.yaml: services\\.api\\.tag must be an explicit version, not "latest"',
    '  production: environments/images/production\\.yaml: services\\.api\\.tag must be an explicit version, not "latest"',
    '$',
  ].join('\n')));
}, 120_000);

test('promotes: production gets staging\'s pins with its own header, dist/ is re-synthesized, the diff shows the images; then nothing to do', () => {
  const header = readFileSync(join(work, 'environments/images/production.yaml'), 'utf8').split('\nservices:')[0];
  expect(header).toMatch(/^# Image pins for production/);
  const before = { staging: pins('staging'), production: pins('production'), tree: everything() };
  expect(before.staging).not.toEqual(before.production);

  const r = promote('staging', 'production');
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);

  const text = readFileSync(join(work, 'environments/images/production.yaml'), 'utf8');
  expect(text.startsWith(`${header}\nservices:\n`)).toBe(true);
  expect(pins('production')).toEqual(before.staging);
  const short = (p: Pin) => `${p.tag}@${p.digest?.slice(0, 19)}`;
  const deployment = (service: string) => [
    `  ~ Deployment student-portal/${service} (app/deployment-${service}.yaml)`,
    `      spec.template.spec.containers[name=${service}].image:`,
    `        - ${reference(before.production[service])}`,
    `        + ${reference(before.staging[service])}`,
  ].join('\n');
  expect(r.stdout).toMatch(/^shipshape: promoted staging's images to production \(environments\/images\/production\.yaml\):\n/);
  for (const service of ['web', 'api']) expect(r.stdout).toContain(`\n  ${service}: ${short(before.production[service])} → ${short(before.staging[service])}\n`);
  expect(r.stdout).toContain(`\n  workers.documents: ${short(before.production.documents)} → ${short(before.staging.documents)}\n`);
  expect(r.stdout).toMatch(/\ndist\/production: \d+ objects \(0 added, \d+ changed, 0 removed\)\n/);
  expect(r.stdout).toMatch(/\nargocd\/production: no changes\nshipshape: review the diff, then commit environments\/images\/production\.yaml with dist\/ and argocd\/\n$/);
  const distDiff = r.stdout.slice(r.stdout.indexOf('dist/production:'), r.stdout.indexOf('argocd/production:'));
  expect(distDiff).toContain(deployment('api'));
  expect(distDiff).toContain(deployment('web'));
  expect(distDiff).toContain(deployment('documents'));
  // Only images change (other objects that run a service's image, a migration Job, change the same way).
  const fields = distDiff.split('\n').filter((l) => /^ {6}\S/.test(l));
  expect(fields.filter((l) => !/\.image:$/.test(l))).toEqual([]);

  const after = everything();
  const changed = (tree: 'dist' | 'argocd' | 'images') => [...after[tree].keys()].filter((p) => after[tree].get(p) !== before.tree[tree].get(p));
  expect(changed('dist')).toEqual(expect.arrayContaining(['production/app/deployment-api.yaml', 'production/app/deployment-web.yaml']));
  expect(changed('dist').length).toBe(distDiff.split('\n').filter((l) => l.startsWith('  ~ ')).length);
  for (const path of changed('dist')) {
    expect(path).toMatch(/^production\//);
    expect(Object.values(before.staging).some((pin) => after.dist.get(path)?.includes(`image: ${reference(pin)}`))).toBe(true);
  }
  expect(changed('argocd')).toEqual([]);
  expect(changed('images')).toEqual(['production.yaml']);
  expect([...after.images.keys()]).toEqual([...before.tree.images.keys()]);
  // What was written is what the sources synthesize now.
  const check = node(['scripts/synth.mjs', '--check']);
  expect(check.stderr).toBe('');
  expect(check.status).toBe(0);

  const again = promote('staging', 'production');
  expect(again.stderr).toBe('');
  expect(again.stdout).toBe('shipshape: production already has staging\'s images (environments/images/production.yaml); nothing to promote, nothing written\n');
  expect(again.status).toBe(0);
  expect(everything()).toEqual(after);
}, 240_000);
