/**
 * The real CLI on bad input, end to end: a copy of the repository is synthesized once, then its
 * configuration is broken, and `npm run synth` (node scripts/synth.mjs) must fail with every problem listed
 * (environment and field path), exit code 1, no stack trace, and dist/ exactly as it was.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { copyRepository, readTree } from './support/repository-copy';

/** Output folders that must be left exactly as they were by a failed run. */
const OUTPUTS = ['dist', 'argocd'];

let work: string;

function run(command: string, args: string[]): SpawnSyncReturns<string> {
  const env = { ...process.env };
  delete env.SHIPSHAPE_DEBUG;
  delete env.CDK8S_OUTDIR;
  delete env.NODE_OPTIONS;
  return spawnSync(command, args, { cwd: work, env, encoding: 'utf8', timeout: 60_000 });
}

const synth = () => run(process.execPath, ['scripts/synth.mjs']);

/** Every file under the output folders, by path relative to the work tree, with its bytes. */
function snapshot(): Map<string, string> {
  return new Map(OUTPUTS.flatMap((out) => [...readTree(join(work, out))].map(([path, bytes]) => [`${out}/${path}`, bytes] as const)));
}

function edit(file: string, from: string, to: string): void {
  const path = join(work, file);
  const text = readFileSync(path, 'utf8');
  if (!text.includes(from)) throw new Error(`${file} no longer contains ${JSON.stringify(from)}: update this test`);
  writeFileSync(path, text.replace(from, to));
}

const originals = new Map<string, string>();
function remember(file: string): void {
  originals.set(file, readFileSync(join(work, file), 'utf8'));
}
function restoreConfig(): void {
  for (const [file, text] of originals) writeFileSync(join(work, file), text);
}

beforeAll(() => {
  work = copyRepository('shipshape-cli-');
  for (const file of ['environments/staging.ts', 'environments/shared.ts', 'environments/images/production.yaml']) remember(file);
  const first = run('npm', ['run', '--silent', 'synth']);
  if (first.status !== 0) throw new Error(`npm run synth failed in the copy:\n${first.stderr}`);
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

afterEach(restoreConfig);

/** Production pins with the api image on tag `latest` and no digest. */
function breakProductionPins(): void {
  const file = 'environments/images/production.yaml';
  const pins = parseYaml(originals.get(file) as string) as { services: Record<string, Record<string, string>> };
  pins.services.api = { repository: pins.services.api.repository, tag: 'latest' };
  writeFileSync(join(work, file), stringifyYaml(pins));
}

/** Staging's api autoscaling with minReplicas above maxReplicas, by editing the environment file. */
function breakStagingReplicas(): void {
  edit('environments/staging.ts', 'api: { autoscaling: { minReplicas: 2, maxReplicas: 4 } }', 'api: { autoscaling: { minReplicas: 5, maxReplicas: 3 } }');
}

describe('npm run synth on bad input', () => {
  test('the copy synthesized both environments', () => {
    const files = [...snapshot().keys()];
    expect(files.some((f) => f.startsWith('dist/staging/'))).toBe(true);
    expect(files.some((f) => f.startsWith('dist/production/'))).toBe(true);
  });

  test('fails with every problem, exit code 1, no stack trace, and leaves dist/ untouched', () => {
    const before = snapshot();
    const distInode = statSync(join(work, 'dist')).ino;
    breakProductionPins();
    breakStagingReplicas();

    const r = synth();

    expect(r.status).toBe(1);
    expect(r.stdout).not.toMatch(/wrote/);
    expect(r.stderr).toContain('nothing was written');
    expect(r.stderr).toContain('production: environments/images/production.yaml: services.api.tag must be an explicit version, not "latest"');
    expect(r.stderr).toContain('production: environments/images/production.yaml: services.api.digest is required in production: application images are pinned by digest, not by tag alone');
    expect(r.stderr).toContain('staging: services.api.autoscaling.minReplicas (5) is greater than maxReplicas (3)');
    expect(r.stderr).toMatch(/\b3 problem/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stderr).not.toMatch(/Error:|\.ts:\d+/);

    expect(snapshot()).toEqual(before);
    expect(statSync(join(work, 'dist')).ino).toBe(distInode);
    expect(readdirSync(work).filter((f) => f.startsWith('.dist'))).toEqual([]);
  });

  test('a file that is already in dist/ survives a failed run', () => {
    const extra = join(work, 'dist/staging/extra-by-hand.yaml');
    writeFileSync(extra, '# put here by hand\n');
    const before = snapshot();
    breakStagingReplicas();

    const r = synth();

    expect(r.status).toBe(1);
    expect(existsSync(extra)).toBe(true);
    expect(snapshot()).toEqual(before);
    rmSync(extra);
  });

  test('after a successful run, files of objects that no longer exist are gone', () => {
    const monitors = ['dist/staging/app/servicemonitor-api.yaml', 'dist/production/app/servicemonitor-api.yaml'];
    const extra = join(work, 'dist/production/extra-by-hand.yaml');
    writeFileSync(extra, '# put here by hand\n');
    for (const f of monitors) expect(existsSync(join(work, f))).toBe(true);
    edit('environments/shared.ts', "metrics: { path: '/actuator/prometheus', interval: '30s' },", '');
    // Measured at the gateway, now that it exports no metrics.
    edit('environments/shared.ts', "sli: 'spring-boot',", '');

    const r = synth();

    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\nshipshape: wrote \d+ files to dist\/ and \d+ to argocd\/ in \d+\.\d s\n$/);
    for (const f of monitors) expect(existsSync(join(work, f))).toBe(false);
    expect(existsSync(extra)).toBe(false);
    expect(existsSync(join(work, 'dist/production/app/deployment-api.yaml'))).toBe(true);
  });
});
