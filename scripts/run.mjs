/**
 * Runs one of the project's TypeScript entry points (main.ts for `npm run synth`, scripts/*.ts for
 * the other commands) as `node scripts/run.mjs <entry.ts> [arguments]`: compiles it and the
 * project's own modules into one ES module with esbuild and runs that. Loading ~500 modules
 * through a TypeScript loader at every start costs more than the synthesis itself (about 2 s of
 * CPU a command), and so, since the generated CRD types arrived, does bundling them: the bundle is
 * kept beside its entry (`.<entry>.bundle.<hash>.mjs`, so that the entry's `import.meta.url` still
 * finds the repository) and rebuilt only when the content of a file it was built from changed
 * (checked by hash, not by timestamp, so a checkout or a copy never runs stale code).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, version } from 'esbuild';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

function optionsFor(entry, bundle) {
  return {
    entryPoints: [entry],
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    // Dependencies bundled too: Node compiles each of ~500 ES modules on its own at every start.
    // CommonJS dependencies (cdk8s, constructs) need require and __dirname in an ES module.
    banner: {
      js: "import { createRequire as __shipshapeRequire } from 'node:module'; import { fileURLToPath as __shipshapePath } from 'node:url'; const require = __shipshapeRequire(import.meta.url); const __filename = __shipshapePath(import.meta.url); const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
    },
    // ajv-formats-draft2019 (through @kubernetes-models/validate) requires 'punycode', which Node
    // resolves to its deprecated built-in (a DEP0040 warning on every run since Node 21) although
    // the package depends on the userland punycode: bundle that one.
    alias: { punycode: 'punycode/' },
    // re2-wasm (kubernetes-models' validator of Go-style patterns) reads re2.wasm beside its own
    // file through __dirname: bundled, that is the bundle's folder, where there is none.
    external: ['re2-wasm'],
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
  const keep = new Set(kept.map((b) => b.file));
  for (const file of readdirSync(dir)) {
    if (!file.startsWith(prefix) || !file.endsWith('.mjs') || keep.has(file)) continue;
    const stat = statSync(join(dir, file), { throwIfNoEntry: false });
    if (stat && Date.now() - stat.mtimeMs > ORPHAN_AGE_MS) rmSync(join(dir, file), { force: true });
  }
}

const ORPHAN_AGE_MS = 10 * 60_000;

async function rebuild(options, stem, manifest, key, recorded) {
  const result = await build(options);
  const inputs = Object.fromEntries(inputsOf(result.metafile).map((p) => [p, sha256(resolve(root, p))]));
  const code = result.outputFiles[0].contents;
  const sha = createHash('sha256').update(code).digest('hex');
  const file = `${basename(stem)}.${sha.slice(0, 16)}.mjs`;
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

/** Runs `entry` (relative to the repository) from its bundle, building it first when no kept build is current. */
export async function runBundled(entry) {
  const source = resolve(root, entry);
  const stem = join(dirname(source), `.${basename(source).replace(/\.[cm]?ts$/, '')}.bundle`);
  const manifest = `${stem}.json`;
  const options = optionsFor(source, `${stem}.mjs`);
  // `inputs`: what a build records (inputsOf); a change to it makes the builds before it unusable.
  const key = JSON.stringify({ esbuild: version, inputs: 2, options: { ...options, entryPoints: [relative(root, source)], absWorkingDir: '.', outfile: '.' } });
  // V8's code for the bundle, kept by Node in the temporary directory and checked against the
  // bundle's content: compiling a few megabytes of JavaScript was a sixth of a synthesis.
  // (Node 22.1 and later; on 22.0 the bundle is compiled at every start.)
  nodeModule.enableCompileCache?.();
  try {
    const recorded = builds(manifest, key);
    const current = cached(dirname(stem), recorded) ?? await rebuild(options, stem, manifest, key, recorded);
    await import(pathToFileURL(join(dirname(stem), current.file)).href);
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
