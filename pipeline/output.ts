/**
 * Writing output so that it is never half-written: the whole tree is written beside the target and
 * swapped in with renames, and files of objects that no longer exist disappear with the old tree.
 *
 * Node has no atomic exchange of two directories (renameat2 RENAME_EXCHANGE), so the swap is two
 * renames: target → retired, staging → target. Whatever step fails, the target afterwards holds the
 * old tree or the new one, whole. A process killed between the two renames leaves the old tree as
 * `.<target>.old-<pid>`; the next run puts it back before doing anything else.
 */
import * as nodeFs from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** The file-system calls the swap makes: injectable, so a test can fail each one in turn. */
export interface SwapFileSystem {
  /** Without `recursive`, fails if the directory exists. */
  mkdirSync(path: string, options?: { recursive: true }): unknown;
  writeFileSync(path: string, data: string): void;
  renameSync(from: string, to: string): void;
  rmSync(path: string, options: { recursive: true; force: true }): void;
  existsSync(path: string): boolean;
  readdirSync(path: string): string[];
  /** Modification time of a path, in milliseconds. */
  mtimeMs(path: string): number;
}

const nodeFileSystem: SwapFileSystem = {
  mkdirSync: (path, options) => nodeFs.mkdirSync(path, options),
  writeFileSync: (path, data) => nodeFs.writeFileSync(path, data),
  renameSync: (from, to) => nodeFs.renameSync(from, to),
  rmSync: (path, options) => nodeFs.rmSync(path, options),
  existsSync: (path) => nodeFs.existsSync(path),
  readdirSync: (path) => nodeFs.readdirSync(path),
  mtimeMs: (path) => nodeFs.statSync(path).mtimeMs,
};

export interface ReplaceTreeResult {
  /** Scratch directories (this run's or earlier ones') that could not be removed; the next run tries again. */
  readonly leftovers: readonly string[];
}

const SCRATCH = /^\.(.+)\.(new|old)-(\d+)$/;

/**
 * Whether a process with this PID still runs (then its scratch directories are its own business).
 * PIDs are those of this machine's PID namespace: two containers writing one dist/ through a
 * shared volume are not supported.
 */
function running(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Scratch directories of earlier runs that died: a retired tree is put back if the target is
 * missing (the run died between its two renames), everything else is removed. What cannot be
 * removed is returned, for the caller to mention; it never stops this run.
 */
function recover(fs: SwapFileSystem, target: string): string[] {
  const parent = dirname(target);
  const name = basename(target);
  const leftovers = fs.readdirSync(parent).flatMap((entry) => {
    const m = SCRATCH.exec(entry);
    return m && m[1] === name && !running(Number(m[3])) ? [{ path: join(parent, entry), kind: m[2] }] : [];
  });
  if (!fs.existsSync(target)) {
    // The last tree that was whole in place: retired most recently (PIDs wrap; times do not).
    const retired = leftovers.filter((l) => l.kind === 'old').sort((a, b) => fs.mtimeMs(b.path) - fs.mtimeMs(a.path))[0];
    if (retired) {
      fs.renameSync(retired.path, target);
      leftovers.splice(leftovers.indexOf(retired), 1);
    }
  }
  return leftovers.filter((l) => !attempt(() => fs.rmSync(l.path, { recursive: true, force: true }))).map((l) => l.path);
}

/** Replace directory `target` with exactly `files` (paths relative to it). */
export function replaceTree(target: string, files: ReadonlyMap<string, string>, fs: SwapFileSystem = nodeFileSystem): ReplaceTreeResult {
  const parent = dirname(target);
  fs.mkdirSync(parent, { recursive: true });
  const earlier = recover(fs, target);
  const staging = join(parent, `.${basename(target)}.new-${process.pid}`);
  const retired = join(parent, `.${basename(target)}.old-${process.pid}`);
  try {
    // Not recursive: a staging directory with this name that recovery could not remove (PIDs
    // repeat) must fail the write, or what is left in it would be swapped in with the new files.
    fs.mkdirSync(staging);
    for (const [rel, content] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
      const path = join(staging, rel);
      fs.mkdirSync(dirname(path), { recursive: true });
      fs.writeFileSync(path, content);
    }
  } catch (e) {
    attempt(() => fs.rmSync(staging, { recursive: true, force: true }));
    throw e;
  }
  const hadTarget = fs.existsSync(target);
  try {
    if (hadTarget) fs.renameSync(target, retired);
  } catch (e) {
    attempt(() => fs.rmSync(staging, { recursive: true, force: true }));
    throw e;
  }
  try {
    fs.renameSync(staging, target);
  } catch (e) {
    // Put the old tree back; if even that fails, the next run does (recover).
    if (hadTarget) attempt(() => fs.renameSync(retired, target));
    attempt(() => fs.rmSync(staging, { recursive: true, force: true }));
    throw e;
  }
  // The new tree is in place: the write happened, whatever the clean-up says.
  const retiredKept = hadTarget && !attempt(() => fs.rmSync(retired, { recursive: true, force: true }));
  return { leftovers: [...earlier, ...(retiredKept ? [retired] : [])] };
}

/** Runs a clean-up step whose failure must not hide the error being reported; whether it worked. */
function attempt(step: () => void): boolean {
  try {
    step();
    return true;
  } catch {
    return false;
  }
}
