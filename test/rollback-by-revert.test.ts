/**
 * `git revert` rolls back: in a throwaway git repository made from the project, a configuration
 * change is committed with what it synthesizes, then reverted; the reverted tree is byte for byte
 * the tree before the change, and re-synthesizing it changes nothing. And at every commit of that
 * history, the committed dist/ and argocd/ are what that commit's code synthesizes (what CI's
 * `npm run synth -- --check` holds on every push).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyRepository } from './support/repository-copy';

let work: string;

function run(command: string, args: readonly string[]): SpawnSyncReturns<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_AUTHOR_NAME: 'test', GIT_AUTHOR_EMAIL: 'test@example.org', GIT_COMMITTER_NAME: 'test', GIT_COMMITTER_EMAIL: 'test@example.org' };
  for (const k of ['SHIPSHAPE_DEBUG', 'CDK8S_OUTDIR', 'NODE_OPTIONS', 'GIT_DIR', 'GIT_WORK_TREE']) delete env[k];
  return spawnSync(command, args, { cwd: work, env, encoding: 'utf8', timeout: 120_000 });
}

function ok(command: string, ...args: string[]): string {
  const r = run(command, args);
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}):\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

const synth = (...args: string[]) => ok(process.execPath, 'scripts/synth.mjs', ...args);
/** The commit's tree of everything synthesis writes: the object id of each path. */
const outputTree = (rev: string) => ok('git', 'ls-tree', '-r', rev, '--', 'dist', 'argocd', 'docs/network-flows.md');

beforeAll(() => {
  work = copyRepository('shipshape-revert-');
  ok('git', 'init', '-q', '-b', 'main');
  synth();
  ok('git', 'add', '-A');
  ok('git', 'commit', '-q', '-m', 'base');
}, 180_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('a change committed with its output, then reverted, gives back the exact tree before it', () => {
  const base = ok('git', 'rev-parse', 'HEAD').trim();
  // A change a person makes: staging's api scales further, production's PostgreSQL gets more storage.
  const staging = join(work, 'environments/staging.ts');
  const text = readFileSync(staging, 'utf8');
  expect(text).toContain('api: { autoscaling: { minReplicas: 2, maxReplicas: 4 } }');
  writeFileSync(staging, text.replace('api: { autoscaling: { minReplicas: 2, maxReplicas: 4 } }', 'api: { autoscaling: { minReplicas: 2, maxReplicas: 8 } }'));
  synth();
  ok('git', 'add', '-A');
  ok('git', 'commit', '-q', '-m', 'staging api scales to 8');
  const change = ok('git', 'rev-parse', 'HEAD').trim();
  expect(ok('git', 'diff', '--name-only', base, change).split('\n').filter(Boolean).sort())
    .toEqual(['dist/staging/app/horizontalpodautoscaler-api.yaml', 'environments/staging.ts']);

  ok('git', 'revert', '--no-edit', 'HEAD');
  const reverted = ok('git', 'rev-parse', 'HEAD').trim();
  // (The reverted commit's tree is the base's by git's own definition of revert.) What counts: the
  // reverted sources, synthesized afresh, give exactly the output committed before the change.
  expect(synth('--check')).toMatch(/are what the sources synthesize/);
  synth();
  expect(ok('git', 'status', '--porcelain')).toBe('');
  expect(outputTree('HEAD')).toBe(outputTree(base));
  expect(reverted).not.toBe(base);
}, 300_000);

test('at every commit of the history, the committed output is what that commit\'s code synthesizes', () => {
  const commits = ok('git', 'rev-list', '--reverse', 'HEAD').trim().split('\n');
  expect(commits.length).toBeGreaterThanOrEqual(3);
  try {
    for (const commit of commits) {
      ok('git', 'checkout', '-q', commit);
      const r = run(process.execPath, ['scripts/synth.mjs', '--check']);
      expect({ commit, status: r.status, stderr: r.stderr }).toEqual({ commit, status: 0, stderr: '' });
    }
    // The check notices a commit whose output is stale: edit an output file and commit it alone.
    ok('git', 'checkout', '-q', 'main');
    const file = join(work, 'dist/production/app/service-api.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('port: 80', 'port: 8081'));
    ok('git', 'commit', '-q', '-am', 'edited by hand');
    const stale = run(process.execPath, ['scripts/synth.mjs', '--check']);
    expect(stale.status).toBe(1);
    expect(stale.stderr).toContain('differs  dist/production/app/service-api.yaml');
  } finally {
    ok('git', 'checkout', '-q', 'main');
  }
}, 300_000);
