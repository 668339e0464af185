/**
 * What the API server's checks add to a synth (issue 12: at most 0.2 s on the reference app): the
 * gate's CRD-defaults pass, CEL pass and update pass over the objects of dist/ and argocd/ of every
 * environment, timed in-process apart from building the objects. `npm run bench` runs it as an
 * esbuild bundle (as `npm run synth` runs main.ts) in several fresh processes and reports medians.
 *
 *   node --import tsx bench/gate-passes.ts [--warm N]
 *
 * Prints one JSON line: `load` (importing the gate's modules, @bufbuild/cel included), then per
 * pass the first run (`first`: reads imports/defaults/ and imports/validations/, compiles each rule
 * on first use) and `warm` (N more runs in the same process, as a reused synth bundle would not
 * see: each synth is a new process, so `first` is the cost a synth pays).
 * The update pass compares every object with a copy of itself: the worst case, where every
 * committed file changed (a synth compares only the objects whose file changed, usually none).
 */
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const warmArg = process.argv.indexOf('--warm');
const WARM = warmArg === -1 ? 5 : Number(process.argv[warmArg + 1]);

// The gate's modules first, so that `load` is theirs alone (pipeline/synth.ts imports them too).
let t = performance.now();
const { defaultsProblems } = await import('../pipeline/crd-defaults');
const { celProblems } = await import('../pipeline/cel-gate');
const { immutableChanges } = await import('../pipeline/immutable-fields');
const load = performance.now() - t;
const { environments } = await import('../environments/index');
const { resolveEnvironments } = await import('../environments/load');
const { buildModel } = await import('../environments/model/model');
const { argocdObjects, modelObjects } = await import('../pipeline/synth');

const sets = resolveEnvironments(environments, repo).map((env) => {
  const model = buildModel(env);
  const objects = modelObjects(model);
  return { env: env.name, objects: [...objects.map((o) => o.object), ...argocdObjects(model, objects)] };
});
const copies = sets.map((s) => structuredClone(s.objects));

const passes = {
  defaults: () => sets.flatMap((s) => defaultsProblems(s.env, s.objects)),
  cel: () => sets.flatMap((s) => celProblems(s.env, s.objects)),
  updates: () => sets.flatMap((s, i) => s.objects.flatMap((o, j) => immutableChanges(copies[i][j], o))),
};

const result: Record<string, unknown> = { load, objects: sets.reduce((n, s) => n + s.objects.length, 0) };
for (const [name, pass] of Object.entries(passes)) {
  const runs: number[] = [];
  for (let i = 0; i <= WARM; i += 1) {
    t = performance.now();
    const problems = pass();
    runs.push(performance.now() - t);
    // The committed output passes: a problem here means the timing is of a failing gate.
    if (problems.length > 0) throw new Error(`bench: the ${name} pass found problems in the reference app: ${JSON.stringify(problems.slice(0, 3))}`);
  }
  result[name] = { first: runs[0], warm: runs.slice(1) };
}
process.stdout.write(`${JSON.stringify(result)}\n`);
