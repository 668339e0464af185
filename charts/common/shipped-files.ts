/**
 * Files the constructs ship byte for byte (shell scripts in ConfigMaps): real files in the
 * repository, so shellcheck and the tests run exactly what the pods run, read at synthesis.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A file every checkout has, which tells the repository root from any folder below it. */
const ROOT_MARKER = join('charts', 'common', 'shipped-files.ts');

/**
 * The repository root, found from this module's own location. The module runs from different
 * places: charts/common/ under jest and tsx, the repository root when `npm run synth` bundles
 * main.ts into one file there, bench/ in a benchmark's bundle. Walking up to the folder that holds
 * this file finds the root from any of them.
 */
export function repositoryRoot(start: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, ROOT_MARKER))) return dir;
    if (dirname(dir) === dir) throw new Error(`shipshape: cannot find the repository (${ROOT_MARKER}) above ${start}`);
  }
}

/** Every `.sh` file of a folder (relative to the repository root) by name, in name order. */
export function readScripts(folder: string, root: string = repositoryRoot()): Record<string, string> {
  const dir = join(root, folder);
  const names = readdirSync(dir).filter((f) => f.endsWith('.sh')).sort();
  return Object.fromEntries(names.map((name) => [name, readFileSync(join(dir, name), 'utf8')]));
}

/** One shipped file of a folder (relative to the repository root). */
export function readScript(folder: string, name: string, root: string = repositoryRoot()): string {
  return readFileSync(join(root, folder, name), 'utf8');
}
