/**
 * What a write would change in dist/, per environment: files added, changed and removed. Read from
 * the tree on disk (the committed dist/, in a checkout), compared with what synthesis gives.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { byCodepoint } from '../environments/order';

/** Every file below `dir`, by path relative to it with forward slashes, sorted; empty when `dir` is absent. */
export function readTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path);
      else out.set(path, readFileSync(join(dir, path), 'utf8'));
    }
  };
  if (existsSync(dir)) walk('');
  return new Map([...out].sort(([a], [b]) => byCodepoint(a, b)));
}

export interface TreeChanges {
  readonly added: readonly string[];
  readonly changed: readonly string[];
  readonly removed: readonly string[];
}

/** Paths (sorted) that `after` adds to, changes in and removes from `before`. */
export function treeChanges(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): TreeChanges {
  const sorted = (paths: string[]) => paths.sort(byCodepoint);
  return {
    added: sorted([...after.keys()].filter((p) => !before.has(p))),
    changed: sorted([...after.keys()].filter((p) => before.has(p) && before.get(p) !== after.get(p))),
    removed: sorted([...before.keys()].filter((p) => !after.has(p))),
  };
}

/** The files of one top-level folder (an environment), keyed by path below it. */
export function subtree(files: ReadonlyMap<string, string>, folder: string): Map<string, string> {
  const prefix = `${folder}/`;
  return new Map([...files].filter(([p]) => p.startsWith(prefix)).map(([p, c]) => [p.slice(prefix.length), c]));
}
