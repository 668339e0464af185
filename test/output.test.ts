/**
 * replaceTree (charts/common/output.ts): the target ends up holding exactly the given files, or,
 * when anything fails, exactly what it held before, with no scratch directories left behind.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { replaceTree } from '../charts/common/output';

let parent: string;
let target: string;
beforeEach(() => {
  parent = mkdtempSync(join(tmpdir(), 'shipshape-output-'));
  target = join(parent, 'dist');
});
afterEach(() => rmSync(parent, { recursive: true, force: true }));

/** Every file under `dir` with its content, by path relative to `dir`. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else out[relative(dir, path)] = readFileSync(path, 'utf8');
    }
  };
  walk(dir);
  return out;
}

function seed(files: Record<string, string>) {
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(target, rel, '..'), { recursive: true });
    writeFileSync(join(target, rel), content);
  }
}

test('creates the target and nested directories, writing the exact bytes', () => {
  const files = new Map([
    ['staging/app/deployment-web.yaml', 'kind: Deployment\n'],
    ['production/platform/deep/er/namespace.yaml', 'kind: Namespace\n# ü ✓\n'],
    ['top.yaml', ''],
  ]);
  replaceTree(target, files);
  expect(tree(target)).toEqual(Object.fromEntries(files));
});

test('files of objects that no longer exist disappear, and so do emptied directories', () => {
  seed({ 'staging/app/old.yaml': 'old', 'gone/x.yaml': 'x', 'staging/app/kept.yaml': 'before' });
  replaceTree(target, new Map([['staging/app/kept.yaml', 'after']]));
  expect(tree(target)).toEqual({ 'staging/app/kept.yaml': 'after' });
  expect(existsSync(join(target, 'gone'))).toBe(false);
});

test('an empty set of files leaves an empty target', () => {
  seed({ 'a.yaml': 'a' });
  replaceTree(target, new Map());
  expect(readdirSync(target)).toEqual([]);
});

test('a failure mid-write leaves the target exactly as it was, and no scratch behind', () => {
  seed({ 'staging/app/deployment-web.yaml': 'previous', 'production/x.yaml': 'previous x' });
  const before = tree(target);
  // `a` is written as a file, then `a/b.yaml` needs `a` to be a directory.
  const colliding = new Map([['a', 'file'], ['a/b.yaml', 'nested'], ['staging/app/deployment-web.yaml', 'new']]);
  expect(() => replaceTree(target, colliding)).toThrow();
  expect(tree(target)).toEqual(before);
  expect(readdirSync(parent)).toEqual(['dist']);
});

test('a failure when there was no target leaves none', () => {
  expect(() => replaceTree(target, new Map([['a', 'file'], ['a/b.yaml', 'nested']]))).toThrow();
  expect(readdirSync(parent)).toEqual([]);
});

test('leftovers of an interrupted earlier run do not leak into the result', () => {
  const staging = join(parent, `.dist.new-${process.pid}`);
  mkdirSync(staging, { recursive: true });
  writeFileSync(join(staging, 'stale.yaml'), 'from a crashed run');
  replaceTree(target, new Map([['fresh.yaml', 'fresh']]));
  expect(tree(target)).toEqual({ 'fresh.yaml': 'fresh' });
  expect(readdirSync(parent)).toEqual(['dist']);
});
