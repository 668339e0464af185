/**
 * `npm run synth` and the cdk8s CLI's app: compiles main.ts and the project's own modules into one
 * ES module with esbuild (dependencies stay in node_modules), then runs it. Loading ~500 modules
 * through a TypeScript loader at every start costs more than the synthesis itself; the bundle
 * takes ~15 ms to build (see the README's performance table).
 */
import { buildSync } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
// Beside main.ts, so that main.ts finds the repository from its own location; one per process,
// so that two synths in one checkout never load each other's half-written bundle.
const bundle = join(root, `.synth-${process.pid}.mjs`);

try {
  buildSync({
    entryPoints: [join(root, 'main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile: bundle,
    logLevel: 'error',
  });
  await import(pathToFileURL(bundle).href);
} catch (e) {
  // esbuild has already printed compile errors with their file and line.
  if (!e?.errors) process.stderr.write(`shipshape: internal error: ${e?.message ?? String(e)}\n`);
  process.exitCode = 2;
} finally {
  rmSync(bundle, { force: true });
}
