/**
 * replaceTree (pipeline/output.ts): the target ends up holding exactly the given files, or,
 * when anything fails, exactly what it held before, with no scratch directories left behind.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { replaceTree, type SwapFileSystem } from '../pipeline/output';

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

/** A PID no process has any more: a run that died. */
function deadPid(): number {
  const { pid } = spawnSync('true');
  if (!pid) throw new Error('could not start true(1)');
  return pid;
}

test('a retired tree that a killed run left is put back when the target is missing, before the write', () => {
  const pid = deadPid();
  const retired = join(parent, `.dist.old-${pid}`);
  mkdirSync(retired);
  writeFileSync(join(retired, 'old.yaml'), 'old');
  // A failing write: the target must then hold the recovered tree, not nothing.
  expect(() => replaceTree(target, new Map([['a', 'file'], ['a/b.yaml', 'nested']]))).toThrow();
  expect(tree(target)).toEqual({ 'old.yaml': 'old' });
  expect(readdirSync(parent)).toEqual(['dist']);
});

test('of two retired trees, the one retired last is put back, whatever their PIDs (PIDs wrap)', () => {
  const [older, newer] = [deadPid(), deadPid()].sort((a, b) => b - a);
  for (const [pid, content, when] of [[older, 'older', 1_000_000], [newer, 'newer', 2_000_000]] as const) {
    const dir = join(parent, `.dist.old-${pid}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'x.yaml'), content);
    fs.utimesSync(dir, when, when);
  }
  expect(() => replaceTree(target, new Map([['a', 'file'], ['a/b.yaml', 'nested']]))).toThrow();
  expect(tree(target)).toEqual({ 'x.yaml': 'newer' });
});

test('an earlier run\'s scratch that cannot be removed is reported and does not stop the write', () => {
  const stale = join(parent, `.dist.new-${deadPid()}`);
  mkdirSync(stale);
  const refusing: SwapFileSystem = {
    mkdirSync: (p, o) => fs.mkdirSync(p, o),
    writeFileSync: (p, d) => fs.writeFileSync(p, d),
    renameSync: (a, b) => fs.renameSync(a, b),
    rmSync: (p, o) => { if (p === stale) throw new Error('EACCES'); fs.rmSync(p, o); },
    existsSync: (p) => fs.existsSync(p),
    readdirSync: (p) => fs.readdirSync(p),
    mtimeMs: (p) => fs.statSync(p).mtimeMs,
  };
  expect(replaceTree(target, new Map([['fresh.yaml', 'fresh']]), refusing)).toEqual({ leftovers: [stale] });
  expect(tree(target)).toEqual({ 'fresh.yaml': 'fresh' });
});

test('scratch directories of a run that is still going are left alone', () => {
  const other = join(parent, `.dist.new-${process.ppid}`);
  mkdirSync(other);
  replaceTree(target, new Map([['fresh.yaml', 'fresh']]));
  expect(readdirSync(parent).sort()).toEqual([`.dist.new-${process.ppid}`, 'dist']);
});

describe('a failure at every step of the write', () => {
  const OLD = { 'staging/app/deployment-web.yaml': 'old web', 'production/gone.yaml': 'removed by the new tree' };
  const NEW = new Map([['staging/app/deployment-web.yaml', 'new web'], ['staging/app/service-web.yaml', 'new service']]);

  /**
   * The real file system, except that the calls that change something fail from call `failAt` on:
   * `once` fails that call alone (a full disk, a permission), otherwise every later one too (the
   * process was killed there).
   */
  function faulty(failAt: number, once: boolean): SwapFileSystem & { calls: string[] } {
    const calls: string[] = [];
    const step = <A extends unknown[], R>(name: string, f: (...args: A) => R) => (...args: A): R => {
      const n = calls.push(`${name} ${String(args[0]).replace(parent, '').replace(/(\.dist\.(?:new|old))-\d+/, '$1-<pid>')}`) - 1;
      if (n === failAt || (!once && n > failAt)) throw new Error(`injected failure of ${calls[n]}`);
      return f(...args);
    };
    return {
      calls,
      mkdirSync: step('mkdir', (p: string, o: { recursive: true }) => fs.mkdirSync(p, o)),
      writeFileSync: step('write', (p: string, d: string) => fs.writeFileSync(p, d)),
      renameSync: step('rename', (a: string, b: string) => fs.renameSync(a, b)),
      rmSync: step('rm', (p: string, o: { recursive: true; force: true }) => fs.rmSync(p, o)),
      existsSync: (p: string) => fs.existsSync(p),
      readdirSync: (p: string) => fs.readdirSync(p),
      mtimeMs: (p: string) => fs.statSync(p).mtimeMs,
    };
  }

  /** The old tree in place and a dead run's scratch beside it, so recovery's steps are counted too. */
  function setUp(): void {
    seed(OLD);
    const stale = join(parent, `.dist.new-${deadPid()}`);
    mkdirSync(stale);
    writeFileSync(join(stale, 'stale.yaml'), 'from a crashed run');
  }

  const steps = (() => {
    const dir = mkdtempSync(join(tmpdir(), 'shipshape-output-count-'));
    try {
      parent = dir;
      target = join(dir, 'dist');
      setUp();
      const counting = faulty(-1, true);
      replaceTree(target, NEW, counting);
      return counting.calls;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  })();

  test('the swap has the steps these cases fail one by one', () => {
    expect(steps).toEqual([
      'mkdir ', 'rm /.dist.new-<pid>', 'mkdir /.dist.new-<pid>',
      'mkdir /.dist.new-<pid>/staging/app', 'write /.dist.new-<pid>/staging/app/deployment-web.yaml',
      'mkdir /.dist.new-<pid>/staging/app', 'write /.dist.new-<pid>/staging/app/service-web.yaml',
      'rename /dist', 'rename /.dist.new-<pid>', 'rm /.dist.old-<pid>',
    ]);
  });

  test.each(steps.map((s, i) => [i, s] as const))('step %i (%s) fails alone: the old or the new tree is whole, and the error is the injected one unless the write happened', (i) => {
    setUp();
    let error: unknown;
    try {
      replaceTree(target, NEW, faulty(i, true));
    } catch (e) {
      error = e;
    }
    const after = tree(target);
    if (error === undefined) {
      // Only a failed clean-up after the swap may pass silently: the new tree is in place.
      expect(after).toEqual(Object.fromEntries(NEW));
    } else {
      expect((error as Error).message).toMatch(/^injected failure/);
      expect(after).toEqual(OLD);
    }
    // The next run, with nothing failing, writes the new tree and leaves no scratch behind.
    replaceTree(target, NEW);
    expect(tree(target)).toEqual(Object.fromEntries(NEW));
    expect(readdirSync(parent)).toEqual(['dist']);
  });

  test.each(steps.map((s, i) => [i, s] as const))('killed at step %i (%s): the next run finds the old or the new tree whole, then writes the new one', (i) => {
    setUp();
    try {
      replaceTree(target, NEW, faulty(i, false));
    } catch {
      // The process died here; what matters is what the next run finds.
    }
    // The next run recovers first: even if its own write then fails (`a` is written as a file,
    // then `a/b.yaml` needs it to be a directory), it leaves a whole tree in place.
    expect(() => replaceTree(target, new Map([['a', 'file'], ['a/b.yaml', 'nested']]))).toThrow();
    expect([OLD, Object.fromEntries(NEW)]).toContainEqual(tree(target));
    replaceTree(target, NEW);
    expect(tree(target)).toEqual(Object.fromEntries(NEW));
    expect(readdirSync(parent)).toEqual(['dist']);
  });

  test('a failed clean-up after the swap is reported as a leftover, not as a failed write', () => {
    setUp();
    const last = steps.length - 1;
    expect(steps[last]).toMatch(/^rm \/\.dist\.old-/);
    expect(replaceTree(target, NEW, faulty(last, true))).toEqual({ leftovers: [join(parent, `.dist.old-${process.pid}`)] });
    expect(tree(target)).toEqual(Object.fromEntries(NEW));
  });
});
