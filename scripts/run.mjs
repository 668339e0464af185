/**
 * Runs one of the project's TypeScript entry points (main.ts for `npm run synth`, scripts/*.ts for
 * the other commands) as `node scripts/run.mjs <entry.ts> [arguments]`: compiles it and the
 * project's own modules into one CommonJS bundle with esbuild and runs that. Loading ~500 modules
 * through a TypeScript loader at every start costs more than the synthesis itself (about 2 s of
 * CPU a command), and so, since the generated CRD types arrived, does bundling them: the bundle is
 * kept beside its entry (`.<entry>.bundle.<hash>.cjs`, so that the entry's `import.meta.url` still
 * finds the repository) and rebuilt only when the content of a file it was built from changed
 * (checked by hash, not by timestamp, so a checkout or a copy never runs stale code).
 *
 * The bundle runs through vm.Script rather than Node's module loader so that V8's code cache of it
 * can be taken at the end of the first run that succeeds (`<bundle>.v8cache`): it then holds every
 * function that run compiled, where Node's own compile cache holds only what V8 compiles before a
 * module starts, and the rest is compiled again at every start (a tenth of a synthesis).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

// esbuild's own module is loaded only to build (some 25 ms of every start otherwise); the cache
// key needs only its version, from its package.json.
const { version } = nodeModule.createRequire(import.meta.url)('esbuild/package.json');

const root = dirname(dirname(fileURLToPath(import.meta.url)));

function optionsFor(entry, bundle) {
  return {
    entryPoints: [entry],
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    // Dependencies bundled too: Node compiles each of ~500 modules on its own at every start. Strict
    // as the ES modules it is made of are; `import.meta.url` is the bundle's own, as in a module.
    banner: { js: `"use strict"; const __shipshapeImportMetaUrl = require('node:url').pathToFileURL(__filename).href;` },
    define: { 'import.meta.url': '__shipshapeImportMetaUrl' },
    // ajv-formats-draft2019 (through @kubernetes-models/validate) requires 'punycode', which Node
    // resolves to its deprecated built-in (a DEP0040 warning on every run since Node 21) although
    // the package depends on the userland punycode: bundle that one.
    // re2-wasm (kubernetes-models' validator of Go-style patterns) is loaded only when a pattern is
    // first used (scripts/lazy-re2.cjs), from node_modules, as it reads re2.wasm beside its own file.
    alias: { punycode: 'punycode/', 're2-wasm': './scripts/lazy-re2.cjs' },
    logLevel: 'error',
    metafile: true,
    write: false,
    outfile: bundle,
  };
}

const sha256 = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');
const sizeOf = (path) => statSync(path, { throwIfNoEntry: false })?.size;

/**
 * How many builds of an entry are kept: a test or a person who edits a file, runs, and puts it
 * back (or switches branches and back) runs the earlier bundle again instead of rebuilding it.
 */
const KEPT_BUILDS = 4;

/** The builds recorded in the manifest, newest first; none when it is missing or for other options. */
function builds(manifest, key) {
  try {
    const m = JSON.parse(readFileSync(manifest, 'utf8'));
    return m.key === key && Array.isArray(m.builds) ? m.builds : [];
  } catch {
    return [];
  }
}

/**
 * A recorded build whose inputs all still have the content it was built from and whose bundle is
 * there whole (renamed into place once written, so its size tells). Each input is hashed once
 * however many builds list it.
 */
function cached(dir, recorded) {
  const hashes = new Map();
  const hashOf = (path) => {
    if (!hashes.has(path)) {
      try {
        hashes.set(path, sha256(resolve(root, path)));
      } catch {
        hashes.set(path, undefined);
      }
    }
    return hashes.get(path);
  };
  return recorded.find((b) => Object.entries(b.inputs).every(([path, hash]) => hashOf(path) === hash) && sizeOf(join(dir, b.file)) === b.size);
}

/**
 * What a bundle depends on: the project's own files and the settings esbuild read (tsconfig.json,
 * package.json), and for the hundreds of files it takes from node_modules the record of what npm
 * installed there (rewritten by every npm ci and npm install), one file to hash at each start
 * instead of ~900. Without that record (another package manager) each of them is hashed.
 */
function inputsOf(metafile) {
  const all = Object.keys(metafile.inputs);
  const own = all.filter((p) => !p.startsWith('node_modules/'));
  const settings = ['tsconfig.json', 'package.json'].filter((p) => existsSync(resolve(root, p)));
  const installed = own.length === all.length ? [] : existsSync(resolve(root, NPM_INSTALLED)) ? [NPM_INSTALLED] : all.filter((p) => p.startsWith('node_modules/'));
  return [...new Set([...own, ...settings, ...installed])].sort();
}

const NPM_INSTALLED = 'node_modules/.package-lock.json';

/**
 * Bundle files of this entry that no kept build names, left by builds with other options or by a
 * run that failed; only those older than a few minutes, which no run still starting can be about
 * to import.
 */
function removeOrphans(stem, kept) {
  const dir = dirname(stem);
  const prefix = `${basename(stem)}.`;
  const keep = new Set(kept.flatMap((b) => [b.file, cacheOf(b.file)]));
  for (const file of readdirSync(dir)) {
    if (!file.startsWith(prefix) || !/\.(cjs|mjs|v8cache)$/.test(file) || keep.has(file)) continue;
    const stat = statSync(join(dir, file), { throwIfNoEntry: false });
    if (stat && Date.now() - stat.mtimeMs > ORPHAN_AGE_MS) rmSync(join(dir, file), { force: true });
  }
}

const ORPHAN_AGE_MS = 10 * 60_000;

async function rebuild(options, stem, manifest, key, recorded) {
  const { build } = await import('esbuild');
  const result = await build(options);
  const inputs = Object.fromEntries(inputsOf(result.metafile).map((p) => [p, sha256(resolve(root, p))]));
  const code = result.outputFiles[0].contents;
  const sha = createHash('sha256').update(code).digest('hex');
  const file = `${basename(stem)}.${sha.slice(0, 16)}.cjs`;
  const dir = dirname(stem);
  // Written beside and renamed into place: a concurrent run reads either file whole.
  const tmp = join(dir, `${file}.${process.pid}`);
  writeFileSync(tmp, code);
  renameSync(tmp, join(dir, file));
  // Sources that differ only in what compiles away (comments, types) share one bundle file.
  const same = (b) => JSON.stringify(b.inputs) === JSON.stringify(inputs);
  const kept = [{ file, size: code.length, inputs }, ...recorded.filter((b) => !same(b))].slice(0, KEPT_BUILDS);
  const tmpManifest = `${manifest}.${process.pid}`;
  writeFileSync(tmpManifest, `${JSON.stringify({ key, builds: kept }, null, 1)}\n`);
  renameSync(tmpManifest, manifest);
  removeOrphans(stem, kept);
  return kept[0];
}

/** The file beside a bundle that holds V8's code cache of it. */
const cacheOf = (bundle) => `${bundle}.v8cache`;

/**
 * Runs a CommonJS bundle much as Node runs a CommonJS module (the same wrapper, `this` and
 * arguments; `module` carries only `exports`), from V8's code cache of it when there is one that
 * V8 accepts (made by this Node and V8 for this bundle). Without one, the cache is written when the
 * run ends well, renamed into place whole, and kept: it holds what that first run compiled, so a
 * first run that only printed --help leaves later runs compiling the rest as before. No import()
 * may be left in a bundle (a script has no loader for it); every one in the sources is of a fixed
 * path, which esbuild bundles.
 */
function runScript(file) {
  const cacheFile = cacheOf(file);
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // None yet: this run makes it.
  }
  const wrapped = `(function (exports, require, module, __filename, __dirname) { ${readFileSync(file, 'utf8')}\n})`;
  const script = new Script(wrapped, { filename: file, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) {
    process.once('exit', (code) => {
      if (code !== 0) return;
      const tmp = `${cacheFile}.${process.pid}`;
      try {
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, cacheFile);
      } catch {
        // A read-only checkout or a full disk: the next run compiles as this one did.
        rmSync(tmp, { force: true });
      }
    });
  }
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, nodeModule.createRequire(file), module, file, dirname(file));
}

/** Runs `entry` (relative to the repository) from its bundle, building it first when no kept build is current. */
export async function runBundled(entry) {
  const source = resolve(root, entry);
  const stem = join(dirname(source), `.${basename(source).replace(/\.[cm]?ts$/, '')}.bundle`);
  const manifest = `${stem}.json`;
  const options = optionsFor(source, `${stem}.cjs`);
  // `inputs`: what a build records (inputsOf); a change to it makes the builds before it unusable.
  const key = JSON.stringify({ esbuild: version, inputs: 2, options: { ...options, entryPoints: [relative(root, source)], absWorkingDir: '.', outfile: '.' } });
  // Node's compile cache, for what the bundle requires from disk (the CRD validators, re2-wasm).
  // (Node 22.1 and later.)
  nodeModule.enableCompileCache?.();
  try {
    const recorded = builds(manifest, key);
    const current = cached(dirname(stem), recorded) ?? await rebuild(options, stem, manifest, key, recorded);
    runScript(join(dirname(stem), current.file));
  } catch (e) {
    // esbuild has already printed compile errors with their file and line.
    if (!e?.errors) process.stderr.write(`shipshape: internal error: ${e?.message ?? String(e)}\n`);
    process.exitCode = 2;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const entry = process.argv[2];
  if (!entry || !/\.[cm]?ts$/.test(entry)) {
    process.stderr.write('usage: node scripts/run.mjs <entry.ts> [arguments]\n');
    process.exitCode = 2;
  } else {
    // The entry reads its own arguments from process.argv.slice(2), as when run directly.
    process.argv.splice(2, 1);
    await runBundled(entry);
  }
}
