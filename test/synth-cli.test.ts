/**
 * The options of `npm run synth` (main.ts), run for real on a copy of the repository: `--help`,
 * `--check` (writes nothing; exit 1 and the stale files when dist/ differs), `--env` (only that
 * environment's tree changes), the refusal of changes Kubernetes cannot apply to existing objects
 * and `--allow-immutable-change`, the summary of a write, and wrong options (exit 1, nothing written).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTree } from '../pipeline/tree-diff';
import { copyEditor, copyRepository, keepFiles } from './support/repository-copy';

let work: string;
const { edit, restore } = copyEditor(() => work);

function synth(...args: string[]): SpawnSyncReturns<string> {
  const env = { ...process.env };
  for (const k of ['SHIPSHAPE_DEBUG', 'CDK8S_OUTDIR', 'NODE_OPTIONS']) delete env[k];
  return spawnSync(process.execPath, ['scripts/synth.mjs', ...args], { cwd: work, env, encoding: 'utf8', timeout: 60_000 });
}

/** dist/, argocd/ and the generated documents, byte for byte. */
const outputs = () => ({
  dist: readTree(join(work, 'dist')),
  argocd: readTree(join(work, 'argocd')),
  flows: readFileSync(join(work, 'docs/network-flows.md'), 'utf8'),
});


/** Staging's Redis with another memory limit: its ConfigMap (maxmemory follows the limit) and StatefulSet change. */
function redisMemoryLimit(limit: string): void {
  edit('environments/staging.ts', "limits: { cpu: '500m', memory: '512Mi' } }", `limits: { cpu: '500m', memory: '${limit}' } }`);
}

/** Puts dist/, argocd/ and the generated document back as the committed sources synthesize them. */
let restoreOutputs: () => void;

beforeAll(() => {
  work = copyRepository('shipshape-synth-cli-');
  const first = synth();
  if (first.status !== 0) throw new Error(`npm run synth failed in the copy:\n${first.stderr}`);
  restoreOutputs = keepFiles(work, ['dist', 'argocd', 'docs/network-flows.md']);
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

afterEach(() => {
  // Back to the committed sources and what they synthesize, for the next test.
  restore();
  restoreOutputs();
});

test('--help and -h say what the options are, exit 0 and write nothing', () => {
  const before = outputs();
  for (const flag of ['--help', '-h']) {
    const r = synth(flag);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Usage: npm run synth/);
    for (const option of ['--env <name>', '--check', '--allow-immutable-change <environment>/<Kind>/<name>']) expect(r.stdout).toContain(option);
  }
  expect(outputs()).toEqual(before);
});

test.each([
  [['--dry-run'], "Unknown option '--dry-run'"],
  [['--env'], "Option '--env <value>' argument missing"],
  [['staging'], "Unexpected argument 'staging'"],
  [['--check=yes'], "Option '--check' does not take an argument"],
])('%j is a clear error, exit 1, nothing written', (args, message) => {
  redisMemoryLimit('640Mi');
  const before = outputs();
  const r = synth(...args);
  expect(r.status).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).toBe(`shipshape: ${message}; see npm run synth -- --help\n`);
  expect(outputs()).toEqual(before);
});

test('a write says per environment what it added, changed and removed, and how long it took', () => {
  redisMemoryLimit('640Mi');
  const r = synth();
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const count = (tree: string) => readTree(join(work, tree)).size;
  const perEnv = (tree: string, env: string) => [...readTree(join(work, tree, env)).keys()].length;
  expect(r.stdout).toMatch(new RegExp([
    `^shipshape: dist/production: unchanged \\(${perEnv('dist', 'production')} files\\)`,
    // The ConfigMap, and the StatefulSet whose pod template carries the ConfigMap's checksum.
    `shipshape: dist/staging: 0 added, 2 changed, 0 removed \\(${perEnv('dist', 'staging')} files\\)`,
    `shipshape: argocd/production: unchanged \\(${perEnv('argocd', 'production')} files\\)`,
    `shipshape: argocd/staging: unchanged \\(${perEnv('argocd', 'staging')} files\\)`,
    `shipshape: wrote ${count('dist')} files to dist/ and ${count('argocd')} to argocd/ in \\d+\\.\\d s\n$`,
  ].join('\n')));
});

describe('--check', () => {
  test('on a fresh dist/: exit 0, nothing written', () => {
    const before = outputs();
    const r = synth('--check');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^shipshape: dist\/, argocd\/ and the generated documents are what the sources synthesize \(\d+ files\)\n$/);
    expect(outputs()).toEqual(before);
  });

  test('on a stale dist/: exit 1, every stale file listed (changed, missing, extra, documents), nothing written', () => {
    redisMemoryLimit('640Mi');
    writeFileSync(join(work, 'dist/production/extra-by-hand.yaml'), '# put here by hand\n');
    rmSync(join(work, 'dist/production/app/service-web.yaml'));
    writeFileSync(join(work, 'docs/network-flows.md'), 'edited by hand\n');
    const rootApp = readFileSync(join(work, 'argocd/staging/application-root.yaml'), 'utf8');
    writeFileSync(join(work, 'argocd/staging/application-root.yaml'), rootApp.replace('targetRevision: main', 'targetRevision: hotfix'));
    const before = outputs();
    const r = synth('--check');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe([
      'shipshape: 6 file(s) are not what the sources synthesize; run npm run synth and commit the result:',
      '  missing  dist/production/app/service-web.yaml',
      '  differs  dist/staging/data/configmap-student-portal-redis.yaml',
      '  differs  dist/staging/data/statefulset-student-portal-redis.yaml',
      '  extra    dist/production/extra-by-hand.yaml',
      '  differs  argocd/staging/application-root.yaml',
      '  differs  docs/network-flows.md',
      '',
    ].join('\n'));
    expect(outputs()).toEqual(before);
    rmSync(join(work, 'dist/production/extra-by-hand.yaml'));
    writeFileSync(join(work, 'argocd/staging/application-root.yaml'), rootApp);
  });

  test('bad configuration is reported as such, exit 1', () => {
    edit('environments/staging.ts', "storage: { size: '2Gi', storageClass: 'ssd' },\n      resources", "storage: { size: '2Gi', storageClass: 'ssd' },\n      maxmemory: 'lots',\n      resources");
    const r = synth('--check');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^shipshape: nothing was written; fix these 1 problem\(s\):\n {2}staging: data\.redis\.maxmemory/);
  });
});

describe('--env', () => {
  test('only that environment\'s tree changes, even when the others\' configuration changed too', () => {
    edit('environments/shared.ts', "maxmemoryPolicy: 'allkeys-lru'", "maxmemoryPolicy: 'volatile-lru'");
    const before = outputs();
    const r = synth('--env', 'staging');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^shipshape: dist\/production: unchanged \(\d+ files\)\nshipshape: dist\/staging: 0 added, 3 changed, 0 removed/);
    const after = outputs();
    const differing = [...after.dist.keys()].filter((p) => after.dist.get(p) !== before.dist.get(p));
    // The eviction policy is in the Redis memory alert's description too.
    expect(differing).toEqual([
      'staging/data/configmap-student-portal-redis.yaml', 'staging/data/statefulset-student-portal-redis.yaml', 'staging/observability/prometheusrule-redis-alerts.yaml',
    ]);
    expect([...after.dist.keys()]).toEqual([...before.dist.keys()]);
    // Production is stale now, and --check says so.
    expect(synth('--check').stderr).toMatch(/differs {2}dist\/production\/data\/configmap-student-portal-redis\.yaml/);
  });

  test('an environment that does not exist is an error naming the ones that do; nothing written', () => {
    const before = outputs();
    const r = synth('--env', 'prod');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('shipshape: nothing was written; fix these 1 problem(s):\n  --env prod: no such environment; the environments are staging, production\n');
    expect(outputs()).toEqual(before);
  });
});

describe('changes Kubernetes refuses on existing objects', () => {
  test('are refused with the object, the field, the runbook and the flag; nothing written', () => {
    edit('environments/staging.ts', "storage: { size: '2Gi', storageClass: 'ssd' },\n      resources", "storage: { size: '4Gi', storageClass: 'ssd' },\n      resources");
    edit('environments/staging.ts', "uploads: { storage: { size: '20Gi', storageClass: 'nfs' } }", "uploads: { storage: { size: '10Gi', storageClass: 'nfs' } }");
    const before = outputs();
    const r = synth();
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe([
      'shipshape: nothing was written; 2 change(s) Kubernetes refuses on existing objects:',
      '  staging/StatefulSet/student-portal-redis: spec.volumeClaimTemplates changes, which Kubernetes refuses on an existing object '
      + '(the Argo CD sync would fail); follow runbooks/change-immutable-field.md#statefulset, '
      + 'then run with --allow-immutable-change staging/StatefulSet/student-portal-redis',
      '  staging/PersistentVolumeClaim/student-portal-uploads: spec.resources.requests.storage shrinks from 20Gi to 10Gi, which Kubernetes refuses '
      + 'on an existing object (the Argo CD sync would fail); follow runbooks/change-immutable-field.md#volume-shrink, '
      + 'then run with --allow-immutable-change staging/PersistentVolumeClaim/student-portal-uploads',
      '',
    ].join('\n'));
    expect(outputs()).toEqual(before);
  });

  test('pass once each object is allowed', () => {
    edit('environments/staging.ts', "storage: { size: '2Gi', storageClass: 'ssd' },\n      resources", "storage: { size: '4Gi', storageClass: 'ssd' },\n      resources");
    expect(synth('--allow-immutable-change', 'production/StatefulSet/student-portal-redis').status).toBe(1);
    const r = synth('--allow-immutable-change', 'staging/StatefulSet/student-portal-redis');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(join(work, 'dist/staging/data/statefulset-student-portal-redis.yaml'), 'utf8')).toMatch(/storage: 4Gi/);
    // Written: the next run compares with what is there now.
    expect(synth('--check').status).toBe(0);
  });
});

test('files in dist/ that hold no object (by hand, unreadable) are not compared, only replaced', () => {
  redisMemoryLimit('640Mi');
  writeFileSync(join(work, 'dist/production/empty-by-hand.yaml'), '# put here by hand\n');
  writeFileSync(join(work, 'dist/production/broken-by-hand.yaml'), 'kind: [unclosed\n');
  writeFileSync(join(work, 'dist/production/list-by-hand.yaml'), '- a\n- b\n');
  const r = synth();
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^shipshape: dist\/production: 0 added, 0 changed, 3 removed/);
});

test('an environment file the list does not name is an error, not a silently missing environment; nothing written', () => {
  const before = outputs();
  writeFileSync(join(work, 'environments/qa.ts'), readFileSync(join(work, 'environments/staging.ts'), 'utf8').replace("name: 'staging'", "name: 'qa'"));
  try {
    const r = synth('--check');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('shipshape: nothing was written; fix these 1 problem(s):\n'
      + '  environments/qa.ts defines the environment qa, which environments/index.ts does not list: add it to `environments` there (or delete the file)\n');
    expect(synth().status).toBe(1);
    expect(outputs()).toEqual(before);
  } finally {
    rmSync(join(work, 'environments/qa.ts'));
  }
});
