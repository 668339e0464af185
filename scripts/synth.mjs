/**
 * `npm run synth` and the cdk8s CLI's app: compiles main.ts and the project's own modules into one
 * ES module with esbuild (dependencies stay in node_modules) and runs it. Loading ~500 modules
 * through a TypeScript loader at every start costs more than the synthesis itself, and so, since
 * the generated CRD types arrived, does bundling them: the bundle is kept beside main.ts and
 * rebuilt only when the content of a file it was built from changed (checked by hash, not by
 * timestamp, so a checkout or a copy never runs stale code).
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, version } from 'esbuild';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
// Beside main.ts, so that main.ts finds the repository from its own location.
const bundle = join(root, '.synth-cache.mjs');
const manifest = join(root, '.synth-cache.json');

const options = {
  entryPoints: [join(root, 'main.ts')],
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  // Dependencies bundled too: Node 20 compiles each of ~500 ES modules on its own at every start.
  // CommonJS dependencies (cdk8s, constructs) need require and __dirname in an ES module.
  banner: {
    js: "import { createRequire as __shipshapeRequire } from 'node:module'; import { fileURLToPath as __shipshapePath } from 'node:url'; const require = __shipshapeRequire(import.meta.url); const __filename = __shipshapePath(import.meta.url); const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
  },
  // ajv-formats-draft2019 (through @kubernetes-models/validate) requires 'punycode', which Node
  // resolves to its deprecated built-in (a DEP0040 warning on every run since Node 21) although
  // the package depends on the userland punycode: bundle that one.
  alias: { punycode: 'punycode/' },
  logLevel: 'error',
  metafile: true,
  write: false,
  outfile: bundle,
};
const key = JSON.stringify({ esbuild: version, options: { ...options, entryPoints: ['main.ts'], absWorkingDir: '.', outfile: '.' } });

const sha256 = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** The cached bundle if every input still has the content it was built from. */
function cached() {
  try {
    const m = JSON.parse(readFileSync(manifest, 'utf8'));
    if (m.key !== key || sha256(bundle) !== m.bundle) return false;
    return Object.entries(m.inputs).every(([path, hash]) => sha256(resolve(root, path)) === hash);
  } catch {
    return false;
  }
}

async function rebuild() {
  const result = await build(options);
  const inputs = Object.fromEntries(Object.keys(result.metafile.inputs).sort().map((p) => [p, sha256(resolve(root, p))]));
  const code = result.outputFiles[0].contents;
  // Written beside and renamed into place: a concurrent synth reads either bundle whole.
  const tmp = `${bundle}.${process.pid}`;
  writeFileSync(tmp, code);
  renameSync(tmp, bundle);
  const tmpManifest = `${manifest}.${process.pid}`;
  writeFileSync(tmpManifest, `${JSON.stringify({ key, bundle: createHash('sha256').update(code).digest('hex'), inputs }, null, 1)}\n`);
  renameSync(tmpManifest, manifest);
}

try {
  if (!cached()) await rebuild();
  await import(pathToFileURL(bundle).href);
} catch (e) {
  // esbuild has already printed compile errors with their file and line.
  if (!e?.errors) process.stderr.write(`shipshape: internal error: ${e?.message ?? String(e)}\n`);
  rmSync(manifest, { force: true });
  process.exitCode = 2;
}
