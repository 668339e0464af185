/**
 * The floor of the benchmark: a plain node process (no TypeScript loader, no cdk8s, no validation)
 * that only writes the same documents as YAML, the way pipeline/synth.ts renderObject does.
 *
 *   node bench/floor.mjs <documents.json> <out-dir>
 *
 * documents.json: { options, files: [{ path, header, documents: [object, …] }] }, made by
 * synth.bench.ts from a synth's own output; `options` are the project's YAML options
 * (pipeline/synth.ts YAML_OPTIONS). Plain JavaScript on purpose: the floor is what any synth must pay.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';

const [input, out] = process.argv.slice(2);
if (!input || !out) {
  process.stderr.write('usage: node bench/floor.mjs <documents.json> <out-dir>\n');
  process.exit(2);
}
const { options, files } = JSON.parse(readFileSync(input, 'utf8'));
const dirs = new Set();
for (const { path, header, documents } of files) {
  const target = join(out, path);
  const dir = dirname(target);
  if (!dirs.has(dir)) {
    mkdirSync(dir, { recursive: true });
    dirs.add(dir);
  }
  const body = documents.map((d) => stringify(d, options)).join('---\n');
  writeFileSync(target, header + body);
}
process.stdout.write(`floor: wrote ${files.length} files\n`);
