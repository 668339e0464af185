/**
 * replaceTree (pipeline/output.ts): the target ends up holding exactly the given files, or,
 * when anything fails, exactly what it held before, with no scratch directories left behind.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { replaceTree, type ReplaceTreeResult, type SwapFileSystem } from '../pipeline/output';

const REPO = dirname(dirname(fileURLToPath(import.meta.url)));

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

function seed(files: Record<string, string>, dir = target) {
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
}

/** The real file system, for tests that change one call of it. */
const realFs: SwapFileSystem = {
  mkdirSync: (p, o) => fs.mkdirSync(p, o),
  writeFileSync: (p, d) => fs.writeFileSync(p, d),
  renameSync: (a, b) => fs.renameSync(a, b),
  rmSync: (p, o) => fs.rmSync(p, o),
  existsSync: (p) => fs.existsSync(p),
  readdirSync: (p) => fs.readdirSync(p),
  mtimeMs: (p) => fs.statSync(p).mtimeMs,
};

/** The scratch directories beside the target (everything in its parent but the target), by full path. */
function scratch(): string[] {
  return readdirSync(parent).filter((e) => e !== 'dist').map((e) => join(parent, e)).sort();
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

test('the write order is the paths\' order, so a conflict between two paths fails the same way whatever order they came in', () => {
  const conflicting: [string, string][] = [['a', 'file'], ['a/b.yaml', 'nested']];
  const failure = (entries: [string, string][]) => {
    try {
      replaceTree(target, new Map(entries));
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error('a file and a directory of the same name were both written');
  };
  const inOrder = failure(conflicting);
  expect(failure([...conflicting].reverse())).toBe(inOrder);
  expect(inOrder).toContain(join(parent, `.dist.new-${process.pid}`, 'a'));
});

test('leftovers of an interrupted earlier run do not leak into the result', () => {
  const staging = join(parent, `.dist.new-${process.pid}`);
  mkdirSync(staging, { recursive: true });
  writeFileSync(join(staging, 'stale.yaml'), 'from a crashed run');
  replaceTree(target, new Map([['fresh.yaml', 'fresh']]));
  expect(tree(target)).toEqual({ 'fresh.yaml': 'fresh' });
  expect(readdirSync(parent)).toEqual(['dist']);
});

test('a staging directory with this run\'s name that cannot be removed is never swapped in: the write fails, naming it', () => {
  seed({ 'kept.yaml': 'before' });
  // PIDs repeat (in a container every run may get the same one), so a crashed run's staging can
  // carry this run's name; whatever is left in it must not end up in the target.
  const stale = join(parent, `.dist.new-${process.pid}`);
  mkdirSync(stale);
  writeFileSync(join(stale, 'stale.yaml'), 'from a crashed run');
  const refusing: SwapFileSystem = { ...realFs, rmSync: (p, o) => { if (p === stale) throw new Error('EACCES'); fs.rmSync(p, o); } };
  expect(() => replaceTree(target, new Map([['fresh.yaml', 'fresh']]), refusing)).toThrow(stale);
  expect(tree(target)).toEqual({ 'kept.yaml': 'before' });
});

/** A PID no process has any more: a run that died. */
function deadPid(): number {
  const { pid } = spawnSync('true');
  if (!pid) throw new Error('could not start true(1)');
  return pid;
}

/** One dead run for the many cases below: PIDs are handed out in order, so this one is not reused while the file runs. */
const DEAD_RUN = deadPid();

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

test('of two retired trees, the one retired last is put back, whether its PID is the higher or the lower (PIDs wrap)', () => {
  const pids = [deadPid(), deadPid()].sort((a, b) => a - b);
  // The same two names, made in the same order, with the times swapped: an order that is not the
  // retirement times' (the directory's, the PIDs') picks the wrong tree in one of the two.
  for (const last of pids) {
    const dir = join(parent, `last-${last}`);
    const into = join(dir, 'dist');
    for (const pid of pids) {
      const retired = join(dir, `.dist.old-${pid}`);
      seed({ 'x.yaml': pid === last ? 'retired last' : 'retired first' }, retired);
      const when = pid === last ? 2_000_000 : 1_000_000;
      fs.utimesSync(retired, when, when);
    }
    expect(() => replaceTree(into, new Map([['a', 'file'], ['a/b.yaml', 'nested']]))).toThrow();
    expect(tree(into)).toEqual({ 'x.yaml': 'retired last' });
  }
});

test('only this target\'s scratch is recovered or removed: look-alikes and other targets\' scratch are left alone', () => {
  const pid = deadPid();
  // With no target in place, any of these taken for a retired tree would be put back as the target.
  const others = [`.dist.old-${pid}.bak`, `copy.dist.old-${pid}`, `.build.old-${pid}`, `.build.new-${pid}`];
  for (const name of others) seed({ 'x.yaml': name }, join(parent, name));
  expect(replaceTree(target, new Map([['fresh.yaml', 'fresh']]))).toEqual({ leftovers: [] });
  expect(tree(target)).toEqual({ 'fresh.yaml': 'fresh' });
  for (const name of others) expect(tree(join(parent, name))).toEqual({ 'x.yaml': name });
});

test('an earlier run\'s scratch that cannot be removed is reported and does not stop the write', () => {
  const stale = join(parent, `.dist.new-${deadPid()}`);
  mkdirSync(stale);
  const refusing: SwapFileSystem = { ...realFs, rmSync: (p, o) => { if (p === stale) throw new Error('EACCES'); fs.rmSync(p, o); } };
  expect(replaceTree(target, new Map([['fresh.yaml', 'fresh']]), refusing)).toEqual({ leftovers: [stale] });
  expect(tree(target)).toEqual({ 'fresh.yaml': 'fresh' });
});

test('a dead run\'s scratch that another run removes first is not reported as left over', () => {
  const stale = join(parent, `.dist.new-${deadPid()}`);
  mkdirSync(stale);
  // Two runs recovering at once: the other one removes it between this run's listing and removal.
  const racing: SwapFileSystem = {
    ...realFs,
    readdirSync: (p) => {
      const entries = fs.readdirSync(p);
      rmSync(stale, { recursive: true });
      return entries;
    },
  };
  expect(replaceTree(target, new Map([['fresh.yaml', 'fresh']]), racing)).toEqual({ leftovers: [] });
  expect(readdirSync(parent)).toEqual(['dist']);
});

test('scratch directories of a run that is still going are left alone', () => {
  const other = join(parent, `.dist.new-${process.ppid}`);
  mkdirSync(other);
  replaceTree(target, new Map([['fresh.yaml', 'fresh']]));
  expect(readdirSync(parent).sort()).toEqual([`.dist.new-${process.ppid}`, 'dist']);
});

test('the scratch of a run that is still going under another user is left alone, and removed once that run has ended', async () => {
  // Such a run can be seen but not signalled (EPERM). Root may signal anyone, so the writer runs as
  // nobody, beside a run of root's.
  if (process.getuid?.() !== 0) throw new Error('this test runs as root (like the backup tests): it needs a run of another user');
  const nobody = 65534;
  // A copy of the module that nobody can read (the checkout, or a mutation tester's sandbox, may not be).
  const code = mkdtempSync(join(tmpdir(), 'shipshape-output-code-'));
  const run = spawn('sleep', ['600'], { stdio: 'ignore' });
  try {
    if (!run.pid) throw new Error('could not start sleep(1)');
    fs.chmodSync(code, 0o755);
    fs.copyFileSync(join(REPO, 'pipeline', 'output.ts'), join(code, 'output.ts'));
    // And of node: CI installs it under root's home, which nobody cannot enter.
    const node = join(code, 'node');
    fs.copyFileSync(process.execPath, node, fs.constants.COPYFILE_FICLONE);
    fs.chmodSync(node, 0o755);
    const its = join(parent, `.dist.new-${run.pid}`);
    seed({ 'half.yaml': 'being written' }, its);
    for (const p of [parent, its, join(its, 'half.yaml')]) chownSync(p, nobody, nobody);
    const script = [
      'const { replaceTree } = await import(process.argv[1]);',
      "process.stdout.write(JSON.stringify(replaceTree(process.argv[2], new Map([['fresh.yaml', 'fresh']]))));",
    ].join('\n');
    // The inherited environment also carries a mutation tester's active mutant into the child.
    const r = spawnSync(node, ['--no-warnings=ExperimentalWarning', '--input-type=module', '-e', script, join(code, 'output.ts'), target], {
      cwd: code, encoding: 'utf8', uid: nobody, gid: nobody,
    });
    expect(r.error).toBeUndefined();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ leftovers: [] });
    expect(tree(target)).toEqual({ 'fresh.yaml': 'fresh' });
    expect(tree(its)).toEqual({ 'half.yaml': 'being written' });
  } finally {
    run.kill();
    rmSync(code, { recursive: true, force: true });
  }
  await once(run, 'exit');
  expect(replaceTree(target, new Map([['fresh.yaml', 'fresh']]))).toEqual({ leftovers: [] });
  expect(readdirSync(parent)).toEqual(['dist']);
});

describe.each([
  ['the old tree in place, a dead run\'s staging beside it', false],
  ['a run killed between its renames: no tree in place, its retired tree and a dead run\'s staging beside it', true],
] as const)('a failure at every step of the write, from %s', (_, killedBetweenRenames) => {
  const OLD = { 'staging/app/deployment-web.yaml': 'old web', 'production/gone.yaml': 'removed by the new tree' };
  const NEW = new Map([['staging/app/deployment-web.yaml', 'new web'], ['staging/app/service-web.yaml', 'new service']]);

  /**
   * The real file system, except that the calls that change something fail from call `failAt` on:
   * `once` fails that call alone (a full disk, a permission), otherwise every later one too (the
   * process was killed there).
   */
  function faulty(failAt: number, once: boolean): SwapFileSystem & { calls: string[] } {
    const calls: string[] = [];
    const label = (path: unknown) => String(path).replace(parent, '')
      .replace(/(\.dist\.(?:new|old))-(\d+)/, (_m, scratch: string, pid: string) => `${scratch}-${Number(pid) === process.pid ? '<this run>' : '<dead run>'}`);
    const step = <A extends unknown[], R>(name: string, f: (...args: A) => R) => (...args: A): R => {
      const n = calls.push(`${name} ${label(args[0])}`) - 1;
      if (n === failAt || (!once && n > failAt)) throw new Error(`injected failure of ${calls[n]}`);
      return f(...args);
    };
    return {
      calls,
      mkdirSync: step('mkdir', (p: string, o?: { recursive: true }) => fs.mkdirSync(p, o)),
      writeFileSync: step('write', (p: string, d: string) => fs.writeFileSync(p, d)),
      renameSync: step('rename', (a: string, b: string) => fs.renameSync(a, b)),
      rmSync: step('rm', (p: string, o: { recursive: true; force: true }) => fs.rmSync(p, o)),
      existsSync: (p: string) => fs.existsSync(p),
      readdirSync: (p: string) => fs.readdirSync(p),
      mtimeMs: (p: string) => fs.statSync(p).mtimeMs,
    };
  }

  /** The old tree, in place or retired by a killed run, and a dead run's scratch beside it, so recovery's steps are counted too. */
  function setUp(): void {
    seed(OLD, killedBetweenRenames ? join(parent, `.dist.old-${DEAD_RUN}`) : target);
    seed({ 'stale.yaml': 'from a crashed run' }, join(parent, `.dist.new-${DEAD_RUN}`));
  }

  /** What the next run starts from: the target, or when it is missing the retired tree the next run puts back. */
  function lastWhole(): Record<string, string> | undefined {
    if (existsSync(target)) return tree(target);
    const retired = readdirSync(parent).filter((e) => /^\.dist\.old-\d+$/.test(e));
    return retired.length === 1 ? tree(join(parent, retired[0])) : undefined;
  }

  // Counted while the tests are collected; a writer that fails here fails the next test, not the whole file.
  const { steps, failure } = (() => {
    const dir = mkdtempSync(join(tmpdir(), 'shipshape-output-count-'));
    const counting = faulty(-1, true);
    try {
      parent = dir;
      target = join(dir, 'dist');
      setUp();
      replaceTree(target, NEW, counting);
      return { steps: counting.calls, failure: undefined };
    } catch (e) {
      return { steps: counting.calls, failure: e };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  })();

  test('the swap has the steps these cases fail one by one', () => {
    expect(failure).toBeUndefined();
    expect(steps).toEqual([
      'mkdir ',
      // Recovery: the killed run's tree is put back, then the dead run's staging removed.
      ...(killedBetweenRenames ? ['rename /.dist.old-<dead run>'] : []), 'rm /.dist.new-<dead run>',
      'mkdir /.dist.new-<this run>',
      'mkdir /.dist.new-<this run>/staging/app', 'write /.dist.new-<this run>/staging/app/deployment-web.yaml',
      'mkdir /.dist.new-<this run>/staging/app', 'write /.dist.new-<this run>/staging/app/service-web.yaml',
      'rename /dist', 'rename /.dist.new-<this run>', 'rm /.dist.old-<this run>',
    ]);
  });

  test.each(steps.map((s, i) => [i, s] as const))('step %i (%s) fails alone: the old or the new tree is whole, and the error is the injected one unless the write happened', (i) => {
    setUp();
    let error: unknown;
    let result: ReplaceTreeResult | undefined;
    try {
      result = replaceTree(target, NEW, faulty(i, true));
    } catch (e) {
      error = e;
    }
    if (error === undefined) {
      // Only a failed clean-up after the swap may pass silently: the new tree is in place, and what
      // is left beside it is exactly what is reported.
      expect(tree(target)).toEqual(Object.fromEntries(NEW));
      expect([...(result?.leftovers ?? [])].sort()).toEqual(scratch());
    } else {
      expect((error as Error).message).toMatch(/^injected failure/);
      expect(lastWhole()).toEqual(OLD);
      // A failed run takes its own scratch with it; only earlier runs' may remain, for the next run.
      expect(scratch().filter((p) => p.endsWith(`-${process.pid}`))).toEqual([]);
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
