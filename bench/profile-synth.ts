/**
 * Where the time of a full synth goes: the steps of main.ts done one after another with a
 * timestamp after each, output written to a temporary folder (never the repository's dist/).
 *
 *   node --import tsx bench/profile-synth.ts [--services N]
 *
 * With --services, the environment is the generated one of bench/generated-synth.ts (production
 * with N services) instead of staging and production.
 * Module loading is split by importing the heavy libraries one at a time before the project's own
 * modules, so each line is what that library adds on top of what came before it. Environment by
 * environment, the steps are those of pipeline/synth.ts synthesizeEnvironment: build the charts,
 * schema-validate every object (the first objects of each kind also load its validator), check
 * the policy, render YAML. For a CPU profile of the same run add `--cpu-prof --cpu-prof-dir DIR`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const rows: [string, number][] = [];
let last = performance.now();
rows.push(['node start + tsx loader, until this file runs', last]);
function mark(step: string): void {
  const now = performance.now();
  rows.push([step, now - last]);
  last = now;
}

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

await import('constructs');
mark('import constructs');
await import('cdk8s');
mark('import cdk8s');
await import('yaml');
mark('import yaml');
await import('zod');
mark('import zod');
const { environments } = await import('../environments/index');
const { resolveEnvironments } = await import('../environments/load');
mark('import environments/ (zod schemas built)');
const synth = await import('../pipeline/synth');
const { validateObject } = await import('../pipeline/schema-validation');
const { checkPolicy } = await import('../pipeline/policy');
const { replaceTree } = await import('../pipeline/output');
mark('import charts/ (kubernetes-models classes of the constructs)');

const servicesArg = process.argv.indexOf('--services');
const scratch = mkdtempSync(join(tmpdir(), 'shipshape-profile-'));
let envs;
if (servicesArg === -1) {
  envs = resolveEnvironments(environments, repo);
} else {
  const { generatedDefinition, HTTPROUTE_MAX_RULES } = await import('./generated-config');
  const count = Number(process.argv[servicesArg + 1]);
  const { def, pins } = generatedDefinition(count, Math.min(count, HTTPROUTE_MAX_RULES), 'pins.yaml');
  writeFileSync(join(scratch, 'pins.yaml'), pins);
  envs = resolveEnvironments([def], scratch);
}
mark('resolve + validate configuration');

const files = new Map<string, string>();
for (const env of envs) {
  const objects = synth.synthObjects(env);
  mark(`${env.name}: build charts (${objects.length} objects)`);
  const seen = new Set<string>();
  let firstOfKind = 0;
  let rest = 0;
  for (const { object } of objects) {
    const key = `${object.apiVersion}/${object.kind}`;
    const t = performance.now();
    await validateObject(object);
    if (seen.has(key)) rest += performance.now() - t;
    else firstOfKind += performance.now() - t;
    seen.add(key);
  }
  mark(`${env.name}: schema validation`);
  rows.push([`    of which first object of each kind (${seen.size} kinds; loads validators)`, firstOfKind]);
  rows.push(['    of which the other objects', rest]);
  checkPolicy(objects.map((o) => o.object), { production: env.production });
  mark(`${env.name}: policy`);
  for (const o of objects) files.set(`${env.name}/${synth.fileName(o)}`, synth.renderObject(env, o.object));
  mark(`${env.name}: render YAML`);
}
replaceTree(join(scratch, 'dist'), files);
mark(`write ${files.size} files`);
rmSync(scratch, { recursive: true, force: true });

const total = performance.now();
const width = Math.max(...rows.map(([s]) => s.length));
for (const [step, ms] of rows) process.stdout.write(`${step.padEnd(width)}  ${ms.toFixed(0).padStart(5)} ms\n`);
process.stdout.write(`${'total (from process start)'.padEnd(width)}  ${total.toFixed(0).padStart(5)} ms\n`);
