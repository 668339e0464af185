/**
 * A throwaway copy of the repository's sources (node_modules linked), for tests that run the real
 * CLI without touching the working tree's dist/.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** What synthesis reads; entries the repository does not have (yet) are skipped. */
const SOURCES = ['main.ts', 'cdk8s.yaml', 'package.json', 'tsconfig.json', 'charts', 'pipeline', 'environments', 'imports', 'scripts', 'runbooks'];

export function copyRepository(prefix = 'shipshape-copy-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const entry of SOURCES) {
    if (existsSync(join(REPO, entry))) cpSync(join(REPO, entry), join(dir, entry), { recursive: true });
  }
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

/** Every file below `dir`, by path relative to it, sorted, with its bytes. */
export function readTree(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const entry of readdirSync(d).sort()) {
      const path = join(d, entry);
      if (statSync(path).isDirectory()) walk(path);
      else out.set(relative(dir, path), readFileSync(path));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/**
 * Edits of files in a copy, each undone by `restore()` (for an afterEach): `edit` fails the test
 * when the text to replace is no longer in the file, so a test never passes on an edit that did
 * nothing.
 */
export function copyEditor(dir: () => string) {
  const originals = new Map<string, string>();
  return {
    edit(file: string, from: string | RegExp, to: string): void {
      const path = join(dir(), file);
      const text = readFileSync(path, 'utf8');
      if (!originals.has(file)) originals.set(file, text);
      if (!text.match(from)) throw new Error(`${file} no longer contains ${String(from)}: update this test`);
      writeFileSync(path, text.replace(from, to));
    },
    /** Puts every edited file back; whether there was anything to put back. */
    restore(): boolean {
      for (const [file, text] of originals) writeFileSync(join(dir(), file), text);
      const edited = originals.size > 0;
      originals.clear();
      return edited;
    },
  };
}
