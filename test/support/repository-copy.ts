/**
 * A throwaway copy of the repository's sources (node_modules linked), for tests that run the real
 * CLI without touching the working tree's dist/.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * What synthesis reads, and .gitignore for the tests that make the copy a git repository (the
 * node_modules link and the commands' bundles stay out of its history); entries the repository
 * does not have (yet) are skipped.
 */
const SOURCES = ['.gitignore', 'main.ts', 'cdk8s.yaml', 'package.json', 'tsconfig.json', 'charts', 'pipeline', 'environments', 'imports', 'scripts', 'runbooks'];

export function copyRepository(prefix = 'shipshape-copy-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const entry of SOURCES) {
    if (existsSync(join(REPO, entry))) cpSync(join(REPO, entry), join(dir, entry), { recursive: true });
  }
  // The commands' esbuild bundles (scripts/run.mjs) the manifests name, when built: each is
  // checked against the hash of every input before it runs, so a copy never runs stale code, and a
  // copy whose sources were not edited is spared rebuilding them. A bundle another run has just
  // replaced may be gone: the copy then builds its own.
  for (const folder of ['.', 'scripts']) {
    for (const manifest of readdirSync(join(REPO, folder)).filter((f) => /^\.[\w-]+\.bundle\.json$/.test(f))) {
      try {
        const { builds } = JSON.parse(readFileSync(join(REPO, folder, manifest), 'utf8')) as { builds?: { file: string }[] };
        for (const b of builds ?? []) {
          cpSync(join(REPO, folder, b.file), join(dir, folder, b.file));
          // V8's code cache of it, when a run has made one (scripts/run.mjs).
          const cache = `${b.file}.v8cache`;
          if (existsSync(join(REPO, folder, cache))) cpSync(join(REPO, folder, cache), join(dir, folder, cache));
        }
        cpSync(join(REPO, folder, manifest), join(dir, folder, manifest));
      } catch {
        // Built again in the copy.
      }
    }
  }
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

/**
 * Every file below `dir`, by path relative to it, sorted, with its bytes as a string of one
 * character per byte (latin1): exact for any content, binary included, and compared by jest's
 * toEqual in a millisecond, where Maps of Buffers take seconds (jest walks a Buffer byte by byte).
 */
export function readTree(dir: string): Map<string, string> {
  return new Map([...readFiles(dir)].map(([path, bytes]) => [path, bytes.toString('latin1')]));
}

/** Every file below `dir`, by path relative to it, sorted, with its bytes. */
function readFiles(dir: string): Map<string, Buffer> {
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

/**
 * The files at `paths` below `dir` (folders or single files) as they are now, and a function that
 * puts exactly these back, removing what was added since: for an afterEach that must return a
 * copy's output to a known state without running the command that wrote it.
 */
export function keepFiles(dir: string, paths: readonly string[]): () => void {
  const saved = paths.map((path) => {
    const full = join(dir, path);
    return { full, files: statSync(full).isDirectory() ? readFiles(full) : new Map([['', readFileSync(full)]]) };
  });
  return () => {
    for (const { full, files } of saved) {
      rmSync(full, { recursive: true, force: true });
      for (const [file, bytes] of files) {
        const target = file === '' ? full : join(full, file);
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, bytes);
      }
    }
  };
}
