/**
 * `npm run diff` (scripts/diff.ts), run for real on a copy of the repository made a git repository:
 * the baseline is the committed trees (HEAD, or --base), never the files on disk, so a change shows
 * after `npm run synth` has written it too, and with `--base` after it is committed. Exit 0 and "no
 * changes" when the working tree synthesizes the committed trees; for a real configuration change
 * (staging's Redis memory limit) exit 1 naming the ConfigMap's line and the StatefulSet's fields
 * with old → new values, and objects added and removed; `--env` narrowing it; bad configuration
 * told apart from changes; wrong options, an unknown revision and no git repository a clear error;
 * and never a file written.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { redisMaxmemory } from '../environments/model/redis-memory';
import { resolveBase } from '../pipeline/git-tree';
import { readTree } from '../pipeline/tree-diff';
import { commandEnv } from './support/command';
import { copyEditor, copyRepository } from './support/repository-copy';

let work: string;
const { edit, restore } = copyEditor(() => work);

/** The environment of git and of the command: commits by a test author, git finding only the copy's repository. */
function gitEnv(): NodeJS.ProcessEnv {
  const env = commandEnv({
    GIT_AUTHOR_NAME: 'test', GIT_AUTHOR_EMAIL: 'test@example.org', GIT_COMMITTER_NAME: 'test', GIT_COMMITTER_EMAIL: 'test@example.org',
    // Never a repository above the copy (were the temporary directory inside one).
    GIT_CEILING_DIRECTORIES: dirname(work),
  });
  for (const k of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY', 'CDK8S_OUTDIR']) delete env[k];
  return env;
}

function diff(...args: string[]): SpawnSyncReturns<string> {
  // NO_COLOR unset on purpose: output to a pipe has no colours either way.
  const env = gitEnv();
  delete env.NO_COLOR;
  return spawnSync(process.execPath, ['scripts/run.mjs', 'scripts/diff.ts', ...args], { cwd: work, env, encoding: 'utf8', timeout: 90_000 });
}

function ok(command: string, ...args: string[]): string {
  const r = spawnSync(command, args, { cwd: work, env: gitEnv(), encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}):\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

const git = (...args: string[]) => ok('git', ...args);
const synth = () => ok(process.execPath, 'scripts/synth.mjs');
/** `HEAD (commit 1a2b3c4d5e6f)`: how the summary line names what the diff is against. */
const against = (rev: string, commit = git('rev-parse', rev).trim()) => `${rev} (commit ${commit.slice(0, 12)})`;

/** dist/, argocd/ and the configuration, byte for byte: what the command must leave as it found them. */
const everything = () => ({
  dist: readTree(join(work, 'dist')),
  argocd: readTree(join(work, 'argocd')),
  environments: readTree(join(work, 'environments')),
  flows: readFileSync(join(work, 'docs/network-flows.md'), 'utf8'),
});


const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const STAGING_REDIS_LIMITS = "limits: { cpu: '500m', memory: '512Mi' } }";

beforeAll(() => {
  work = copyRepository('shipshape-diff-cli-');
  git('init', '-q', '-b', 'main');
  synth();
  git('add', '-A');
  git('commit', '-q', '-m', 'synthesized');
}, 150_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

afterEach(() => {
  restore();
  // Each test starts on main with nothing changed: a test that leaves a branch or a file behind fails here, not in the next one.
  expect(git('symbolic-ref', '--short', 'HEAD').trim()).toBe('main');
  expect(git('status', '--porcelain')).toBe('');
});

test('--help says what it does and exits 0; wrong options and unknown environments are a clear error, exit 1', () => {
  const help = diff('--help');
  expect(help.status).toBe(0);
  expect(help.stderr).toBe('');
  expect(help.stdout).toMatch(/^Usage: npm run diff/);
  expect(help.stdout).toContain('--env <name>');
  expect(help.stdout).toContain('--base <rev>');
  expect(help.stdout).toMatch(/as committed in git \(at HEAD, or\nsee --base\)/);
  expect(help.stdout).toMatch(/Exit status: 0 nothing would change, 1 something would change or the input is bad/);

  const wrong = diff('--staged');
  expect(wrong.status).toBe(1);
  expect(wrong.stdout).toBe('');
  expect(wrong.stderr).toBe("shipshape: Unknown option '--staged'; see npm run diff -- --help\n");

  const unknown = diff('--env', 'prod');
  expect(unknown.status).toBe(1);
  expect(unknown.stdout).toBe('');
  expect(unknown.stderr).toBe('shipshape: --env prod: no such environment; the environments are staging, production\n');
}, 120_000);

test('no committed trees to compare with: an unknown --base, or no git repository, is a clear error, exit 1, not a diff against the disk', () => {
  const unknown = diff('--base', 'origin/main');
  expect(unknown.stdout).toBe('');
  expect(unknown.stderr).toBe('shipshape: no diff: --base origin/main: no such commit, branch or tag in this repository '
    + '(a remote branch must be fetched first: git fetch origin)\n');
  expect(unknown.status).toBe(1);

  renameSync(join(work, '.git'), join(work, '.git-aside'));
  try {
    const before = everything();
    const outside = diff();
    expect(outside.stdout).toBe('');
    expect(outside.stderr).toBe(`shipshape: no diff: ${work} is not in a git work tree `
      + '(git: not a git repository (or any of the parent directories): .git); '
      + 'the diff is against the trees committed in git, so run it in a clone of the repository\n');
    expect(outside.status).toBe(1);
    expect(everything()).toEqual(before);
  } finally {
    renameSync(join(work, '.git-aside'), join(work, '.git'));
  }
}, 120_000);

test('nothing to change: exit 0, every folder says so, nothing written', () => {
  const before = everything();
  const r = diff();
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe([
    'dist/production: no changes',
    'dist/staging: no changes',
    'argocd/production: no changes',
    'argocd/staging: no changes',
    `shipshape: no changes against ${against('HEAD')}: the working tree synthesizes the dist/ and argocd/ committed there`,
    '',
  ].join('\n'));
  expect(r.status).toBe(0);
  expect(everything()).toEqual(before);
}, 120_000);

test('a changed Redis memory limit: the ConfigMap line and the StatefulSet fields with old → new; added and removed objects; exit 1', () => {
  // The committed trees lack an object synthesis makes, hold one it does not, and an older network-flows document;
  // on disk all three are back as synthesis makes them: only the comparison with the commit shows them.
  git('checkout', '-q', '-b', 'edited-by-hand');
  const service = join(work, 'dist/production/app/service-web.yaml');
  const serviceText = readFileSync(service, 'utf8');
  const extra = join(work, 'dist/production/app/configmap-by-hand.yaml');
  const flows = join(work, 'docs/network-flows.md');
  const flowsText = readFileSync(flows, 'utf8');
  try {
    rmSync(service);
    writeFileSync(extra, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: by-hand\n  namespace: student-portal\n');
    writeFileSync(flows, `${flowsText}\nAn older line.\n`);
    git('add', '-A');
    git('commit', '-q', '-m', 'edited by hand');
    writeFileSync(service, serviceText);
    rmSync(extra);
    writeFileSync(flows, flowsText);
    edit('environments/staging.ts', STAGING_REDIS_LIMITS, STAGING_REDIS_LIMITS.replace('512Mi', '640Mi'));
    const before = everything();
    const r = diff();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(1);
    const checksum = /checksum\/config: ([0-9a-f]{64})/.exec(readFileSync(join(work, 'dist/staging/data/statefulset-student-portal-redis.yaml'), 'utf8'))?.[1];
    expect(r.stdout).toMatch(new RegExp([
      '^dist/production: 2 objects \\(1 added, 0 changed, 1 removed\\)',
      '  - ConfigMap student-portal/by-hand \\(app/configmap-by-hand\\.yaml\\)',
      '  \\+ Service student-portal/web \\(app/service-web\\.yaml\\)',
      'dist/staging: 2 objects \\(0 added, 2 changed, 0 removed\\)',
      '  ~ ConfigMap student-portal-staging/student-portal-redis \\(data/configmap-student-portal-redis\\.yaml\\)',
      '      data\\["redis\\.conf"\\]:',
      '        @@ -\\d+,\\d+ \\+\\d+,\\d+ @@',
      '(         .*\\n){0,2}'
      + `        -maxmemory ${redisMaxmemory({ resources: { limits: { memory: '512Mi' } } })}`,
      `        \\+maxmemory ${redisMaxmemory({ resources: { limits: { memory: '640Mi' } } })}`,
      '(         .*\\n){0,2}'
      + '  ~ StatefulSet student-portal-staging/student-portal-redis \\(data/statefulset-student-portal-redis\\.yaml\\)',
      '      spec\\.template\\.metadata\\.annotations\\["checksum/config"\\]:',
      `        - ${checksum}`,
      '        \\+ [0-9a-f]{64}',
      '      spec\\.template\\.spec\\.containers\\[name=redis\\]\\.resources\\.limits\\.memory: "512Mi" → "640Mi"',
      'argocd/production: no changes',
      'argocd/staging: no changes',
      'docs/network-flows\\.md: changes too \\(generated from the configuration\\)',
      `shipshape: changes found against ${escape(against('HEAD'))}: the working tree changes 4 object\\(s\\) \\(1 added, 2 changed, 1 removed\\) `
      + 'and docs/network-flows\\.md\n$',
    ].join('\n')));
    expect(r.stdout).not.toContain('\x1b');
    expect(everything()).toEqual(before);
  } finally {
    git('checkout', '-q', '-f', 'main');
  }
}, 120_000);

test('--env narrows the diff to that environment: production has no change when only staging changed', () => {
  edit('environments/staging.ts', STAGING_REDIS_LIMITS, STAGING_REDIS_LIMITS.replace('512Mi', '640Mi'));
  const r = diff('--env', 'production');
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe([
    'dist/production: no changes',
    'argocd/production: no changes',
    `shipshape: no changes for production against ${against('HEAD')}: the working tree synthesizes the dist/ and argocd/ committed there`,
    '',
  ].join('\n'));
  expect(r.status).toBe(0);
}, 120_000);

test('bad configuration: the problems synth lists, said to be no diff, exit 1, nothing on stdout', () => {
  edit('environments/staging.ts', STAGING_REDIS_LIMITS, `${STAGING_REDIS_LIMITS},\n      maxmemory: 'lots'`);
  const before = everything();
  const r = diff();
  expect(r.status).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^shipshape: no diff: the configuration is not valid \(npm run synth would write nothing\); fix these 1 problem\(s\):\n {2}staging: data\.redis\.maxmemory .+\n$/);
  expect(everything()).toEqual(before);
}, 120_000);

test('a change npm run synth would refuse (a StatefulSet\'s claim templates) is shown and said to be refused, with the runbook', () => {
  edit('environments/staging.ts', "storage: { size: '2Gi', storageClass: 'ssd' },\n      resources", "storage: { size: '4Gi', storageClass: 'ssd' },\n      resources");
  const r = diff('--env', 'staging');
  expect(r.stderr).toBe('');
  expect(r.status).toBe(1);
  expect(r.stdout).toMatch(/\n {6}spec\.volumeClaimTemplates\[name=data\]\.spec\.resources\.requests\.storage: "2Gi" → "4Gi"\n/);
  expect(r.stdout).toContain('\nnpm run synth refuses 1 of these change(s), which Kubernetes cannot make to an existing object:\n'
    + '  staging/StatefulSet/student-portal-redis: spec.volumeClaimTemplates changes, which Kubernetes refuses on an existing object '
    + '(the Argo CD sync would fail); follow runbooks/change-immutable-field.md#statefulset, '
    + 'then run with --allow-immutable-change staging/StatefulSet/student-portal-redis\n');
}, 120_000);

test('the baseline is the commit, not the disk: a change synthesized is still shown; committed, --base HEAD shows none and --base the commit before it shows it', () => {
  const first = git('rev-parse', 'HEAD').trim();
  git('checkout', '-q', '-b', 'scaled');
  try {
    edit('environments/staging.ts', 'api: { autoscaling: { minReplicas: 2, maxReplicas: 4 } }', 'api: { autoscaling: { minReplicas: 2, maxReplicas: 8 } }');
    synth();
    // The disk is now what the working tree synthesizes.
    expect(git('status', '--porcelain', '--', 'dist', 'argocd', 'docs')).toBe(' M dist/staging/app/horizontalpodautoscaler-api.yaml\n');
    const body = (summary: string) => [
      'dist/production: no changes',
      'dist/staging: 1 object (0 added, 1 changed, 0 removed)',
      '  ~ HorizontalPodAutoscaler student-portal-staging/api (app/horizontalpodautoscaler-api.yaml)',
      '      spec.maxReplicas: 4 → 8',
      'argocd/production: no changes',
      'argocd/staging: no changes',
      summary,
      '',
    ].join('\n');
    const synthesized = diff();
    expect(synthesized.stderr).toBe('');
    expect(synthesized.stdout).toBe(body(`shipshape: changes found against ${against('HEAD', first)}: the working tree changes 1 object(s) (0 added, 1 changed, 0 removed)`));
    expect(synthesized.status).toBe(1);

    git('commit', '-q', '-am', 'staging api scales to 8');
    const head = diff('--base', 'HEAD');
    expect(head.stderr).toBe('');
    expect(head.stdout).toMatch(new RegExp(`\nshipshape: no changes against ${escape(against('HEAD'))}: the working tree synthesizes the dist/ and argocd/ committed there\n$`));
    expect(head.stdout).not.toContain('~');
    expect(head.status).toBe(0);

    const since = diff('--base', first);
    expect(since.stderr).toBe('');
    expect(since.stdout).toBe(body(`shipshape: changes found against ${against(first)}: the working tree changes 1 object(s) (0 added, 1 changed, 0 removed)`));
    expect(since.status).toBe(1);

    // A branch with a commit HEAD lacks (main moved on during a pull request) is compared where HEAD's history left it.
    const movedOn = git('commit-tree', `${first}^{tree}`, '-p', first, '-m', 'main moves on').trim();
    git('update-ref', 'refs/heads/moved-on', movedOn);
    expect(resolveBase(work, 'moved-on')).toEqual({ rev: 'moved-on', commit: first, mergeBase: true });
    expect(resolveBase(work, first)).toEqual({ rev: first, commit: first, mergeBase: false });
    expect(resolveBase(work)).toEqual({ rev: 'HEAD', commit: git('rev-parse', 'HEAD').trim(), mergeBase: false });
  } finally {
    git('checkout', '-q', '-f', 'main');
  }
}, 240_000);
