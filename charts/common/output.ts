/**
 * Writing output so that it is never half-written: the whole tree is written beside the target and
 * swapped in with renames, and files of objects that no longer exist disappear with the old tree.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';

/** Replace directory `target` with exactly `files` (paths relative to it). */
export function replaceTree(target: string, files: ReadonlyMap<string, string>): void {
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  const staging = join(parent, `.${basename(target)}.new-${process.pid}`);
  const retired = join(parent, `.${basename(target)}.old-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  try {
    for (const [rel, content] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
      const path = join(staging, rel);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content);
    }
    mkdirSync(staging, { recursive: true });
    if (existsSync(target)) renameSync(target, retired);
    renameSync(staging, target);
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(target) && existsSync(retired)) renameSync(retired, target);
    throw e;
  }
  rmSync(retired, { recursive: true, force: true });
}
