/**
 * `npm run bench`: how long synthesis takes and how much memory it needs, each measurement a
 * separate node process started with the same flags as `npm run synth`.
 *
 * Cases
 *   full        main.ts, both environments, exactly as `npm run synth` runs it
 *   services-N  the production environment with N generated services (bench/generated-synth.ts)
 *   floor       for each case above: a plain node process that only writes the same documents as
 *               YAML (bench/floor.mjs), the least any synth of that output can cost
 *   gate passes what the API server's checks add to the full synth (CRD defaults, CEL rules, updates),
 *               timed in-process by bench/gate-passes.ts in --runs fresh processes (its esbuild bundle)
 *
 * Everything runs in a temporary snapshot of the repository (sources copied, node_modules
 * symlinked), so the repository's dist/ is never touched and edits made meanwhile do not mix into
 * a run. Each case runs once untimed first (it must succeed, it fills tsx's transform cache, and
 * its output gives the documents for the floor), then `--runs` timed runs, each into an empty
 * output folder. Reported: median wall time (measured around the child), median peak RSS (GNU
 * time's %M, or getrusage via bench/max-rss.mjs where GNU time is missing), ratio to the floor.
 *
 * Options
 *   --runs N        timed runs per case (default 5)
 *   --runs-large N  timed runs for cases of 1000 services or more (default 3)
 *   --sizes a,b,c   generated service counts (default 10,100,1000)
 *   --synth-script "CMD"  benchmark the full synth as this command line instead of package.json's
 *                   synth script (run with sh, node_modules/.bin on PATH), e.g. a proposed build+run;
 *                   generated cases then run as esbuild bundles if CMD mentions esbuild
 *   --bundle        run main.ts and the generated-synth entry as esbuild bundles (--packages=external)
 *                   with plain node instead of the synth script's way, to measure that alternative
 *   --keep          keep the temporary folder and print where it is
 *   --json FILE     also write the measurements as JSON
 *
 * Reports, never asserts targets: the exit code is non-zero only if a child process fails.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseAllDocuments } from 'yaml';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// ---------------------------------------------------------------------------------------------
// Options

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

function positiveInt(name: string, fallback: number): number {
  const raw = option(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, not ${raw}`);
  return n;
}

const RUNS = positiveInt('runs', 5);
const RUNS_LARGE = positiveInt('runs-large', 3);
const SIZES = (option('sizes') ?? '10,100,1000').split(',').map((s) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--sizes: ${s} is not a service count`);
  return n;
});
const KEEP = process.argv.includes('--keep');
const BUNDLE = process.argv.includes('--bundle');
const JSON_OUT = option('json');

// ---------------------------------------------------------------------------------------------
// How the real synth starts node

interface SynthScript {
  /** The script as package.json has it. */
  readonly text: string;
  /** `node <flags> <entry>` when the script is exactly that, else undefined (run it with sh). */
  readonly node?: { readonly flags: string[]; readonly entry: string };
}

function synthScript(): SynthScript {
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const text = (option('synth-script') ?? pkg.scripts?.synth ?? 'node --import tsx main.ts').trim();
  const words = text.split(/\s+/);
  const entry = words.findIndex((w) => /\.(c|m)?[jt]s$/.test(w));
  const plain = words[0] === 'node' && entry > 0 && entry === words.length - 1 && !/[;&|<>$`'"]/.test(text);
  return plain ? { text, node: { flags: words.slice(1, entry), entry: words[entry] } } : { text };
}

// ---------------------------------------------------------------------------------------------
// Measuring one child process

const GNU_TIME = ['/usr/bin/time', '/bin/time'].find((p) => {
  if (!existsSync(p)) return false;
  const probe = spawnSync(p, ['-f', '%M %U %S', 'true'], { encoding: 'utf8' });
  return probe.status === 0 && /^\d+ [\d.]+ [\d.]+\s*$/m.test(probe.stderr);
});

interface Sample { readonly wallSeconds: number; readonly cpuSeconds: number; readonly maxRssKiB: number }

class ChildFailed extends Error {}

/** CPU seconds of every child measured so far, warm-ups included. */
let childCpuSeconds = 0;

/** A child to time: `node <args>`, or a shell command line (a synth script that is not plain node). */
type Command = { readonly node: string[] } | { readonly shell: string };

function describeCommand(c: Command): string {
  return 'node' in c ? `node ${c.node.join(' ')}` : c.shell;
}

function measure(label: string, cwd: string, cmd: Command, scratch: string): Sample {
  const rssFile = join(scratch, 'rss.txt');
  rmSync(rssFile, { force: true });
  const env: NodeJS.ProcessEnv = { ...process.env, SHIPSHAPE_BENCH_RSS_FILE: rssFile };
  delete env.NODE_OPTIONS;
  let inner: string[];
  if ('node' in cmd) {
    inner = GNU_TIME ? [process.execPath, ...cmd.node] : [process.execPath, '--import', join(repo, 'bench', 'max-rss.mjs'), ...cmd.node];
  } else {
    // As npm runs scripts: the package's own binaries first on PATH.
    env.PATH = `${join(cwd, 'node_modules', '.bin')}${delimiter}${env.PATH ?? ''}`;
    if (!GNU_TIME) env.NODE_OPTIONS = `--import ${join(repo, 'bench', 'max-rss.mjs')}`;
    inner = ['sh', '-c', cmd.shell];
  }
  const [command, args] = GNU_TIME ? [GNU_TIME, ['-f', '%M %U %S', '-o', rssFile, ...inner]] : [inner[0], inner.slice(1)];
  const start = process.hrtime.bigint();
  const r = spawnSync(command, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 15 * 60 * 1000 });
  const wallSeconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.error || r.status !== 0) {
    throw new ChildFailed(`${label} failed (exit ${r.status ?? r.signal ?? r.error?.message}): ${describeCommand(cmd)}\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  }
  // GNU time may put a line of its own (a signal, an exit status) before the figures.
  const figures = existsSync(rssFile) ? readFileSync(rssFile, 'utf8').trim().split('\n').pop()!.split(/\s+/).map(Number) : [];
  const [rss = NaN, user = NaN, sys = NaN] = figures;
  if (Number.isFinite(user + sys)) childCpuSeconds += user + sys;
  return { wallSeconds, cpuSeconds: user + sys, maxRssKiB: rss };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function summary(samples: readonly Sample[]) {
  const wall = samples.map((s) => s.wallSeconds);
  const cpu = samples.map((s) => s.cpuSeconds);
  const rss = samples.map((s) => s.maxRssKiB);
  return { wall, cpu, rss, medianWall: median(wall), medianCpu: median(cpu), medianRssMiB: median(rss) / 1024 };
}

// ---------------------------------------------------------------------------------------------
// Output trees and the floor's documents

function yamlFiles(dir: string, base: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) yamlFiles(p, base, out);
    else if (/\.ya?ml$/.test(entry.name)) out.push(relative(base, p));
  }
  return out.sort();
}

interface FloorInput { options: unknown; files: { path: string; header: string; documents: unknown[] }[] }

/** The documents a synth wrote under `base` (folders `dirs`), as the floor's input. */
function documentsOf(base: string, dirs: readonly string[], options: unknown): { input: FloorInput; objects: number } {
  const files: FloorInput['files'] = [];
  let objects = 0;
  for (const dir of dirs) {
    for (const path of yamlFiles(join(base, dir), base)) {
      const text = readFileSync(join(base, path), 'utf8');
      const header = /^(#[^\n]*\n)*/.exec(text)?.[0] ?? '';
      const documents = parseAllDocuments(text.slice(header.length)).map((d) => {
        if (d.errors.length > 0) throw new Error(`${path}: ${d.errors[0].message}`);
        return d.toJS();
      }).filter((d) => d !== null && d !== undefined);
      objects += documents.length;
      files.push({ path, header, documents });
    }
  }
  return { input: { options, files }, objects };
}

/** Files under `a` and `b` (same relative paths) that differ, to prove the floor wrote the same bytes. */
function differences(a: string, b: string, paths: readonly string[]): number {
  return paths.filter((p) => !existsSync(join(b, p)) || !readFileSync(join(a, p)).equals(readFileSync(join(b, p)))).length;
}

// ---------------------------------------------------------------------------------------------
// The run

/** One process of bench/gate-passes.ts: milliseconds. */
interface GateSample {
  readonly load: number;
  readonly objects: number;
  readonly defaults: { first: number; warm: number[] };
  readonly cel: { first: number; warm: number[] };
  readonly updates: { first: number; warm: number[] };
}

/**
 * bench/gate-passes.ts run `runs` times, each a fresh process, as an esbuild bundle of it and every
 * package it imports (as `npm run synth` runs main.ts), so that its `load` includes @bufbuild/cel's.
 */
function gatePasses(snap: string, runs: number): GateSample[] {
  const g = bundle(snap, join('bench', 'gate-passes.ts'), true);
  const samples: GateSample[] = [];
  for (let i = 0; i < runs; i += 1) {
    const r = spawnSync(process.execPath, [g.file, '--warm', '5'], { cwd: snap, encoding: 'utf8', timeout: 5 * 60 * 1000 });
    if (r.error || r.status !== 0) throw new ChildFailed(`gate passes failed (exit ${r.status ?? r.signal ?? r.error?.message}):\n${r.stdout ?? ''}${r.stderr ?? ''}`);
    samples.push(JSON.parse(r.stdout.trim().split('\n').pop()!) as GateSample);
    const s = samples[i];
    log(`bench: gate passes: run ${i + 1}/${runs}: load ${fmt(s.load, 0)} ms, defaults ${fmt(s.defaults.first, 0)} ms, cel ${fmt(s.cel.first, 0)} ms, updates ${fmt(s.updates.first, 0)} ms`);
  }
  return samples;
}

interface CaseResult {
  readonly name: string;
  readonly kind: 'synth' | 'floor';
  readonly services?: number;
  readonly objects: number;
  readonly runs: number;
  readonly wall: number[];
  readonly rss: number[];
  readonly cpu: number[];
  readonly medianWall: number;
  /** User + system CPU seconds: less disturbed than wall time when other processes compete. */
  readonly medianCpu: number;
  readonly medianRssMiB: number;
  floorOf?: string;
  identicalToSynth?: boolean;
}

interface SynthCase {
  readonly name: string;
  readonly services?: number;
  /** What to run, in the snapshot. */
  readonly command: Command;
  /** Folder the case writes into, where its documents are read from afterwards. */
  readonly root: string;
  /** Output folders below root. */
  readonly outputs: readonly string[];
  readonly runs: number;
}

function snapshotRepository(into: string): void {
  const skip = new Set(['.git', 'node_modules', 'dist', 'argocd', 'coverage']);
  for (const entry of readdirSync(repo, { withFileTypes: true })) {
    if (skip.has(entry.name) || entry.name.startsWith('.dist') || entry.name.startsWith('.argocd')) continue;
    cpSync(join(repo, entry.name), join(into, entry.name), { recursive: true });
  }
  if (!existsSync(join(repo, 'node_modules'))) throw new Error('bench: node_modules is missing; run npm ci first');
  symlinkSync(join(repo, 'node_modules'), join(into, 'node_modules'), 'dir');
}

function fmt(n: number, digits: number): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Busy CPU seconds of the whole machine so far (Linux /proc/stat; USER_HZ is 100 there), NaN elsewhere. */
function machineBusySeconds(): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = f.slice(0, 8).reduce((x, y) => x + y, 0);
    return (total - f[3] - f[4]) / 100;
  } catch {
    return NaN;
  }
}

/** The project's YAML options (pipeline/synth.ts YAML_OPTIONS), so that the floor writes the same way. */
async function projectYamlOptions(snap: string): Promise<unknown> {
  try {
    const m = await import(pathToFileURL(join(snap, 'pipeline', 'synth.ts')).href) as { YAML_OPTIONS?: unknown };
    if (m.YAML_OPTIONS) return m.YAML_OPTIONS;
  } catch (e) {
    log(`bench: could not read YAML_OPTIONS from pipeline/synth.ts (${(e as Error).message.split('\n')[0]})`);
  }
  return { lineWidth: 0, aliasDuplicateObjects: false };
}

/**
 * What an ES module bundle of CommonJS packages needs (require, __filename, __dirname); the bench's
 * own bundles are ES modules, where scripts/run.mjs makes CommonJS ones.
 */
const ESM_BUNDLE_BANNER = "import { createRequire as __shipshapeRequire } from 'node:module'; import { fileURLToPath as __shipshapePath } from 'node:url'; "
  + "const require = __shipshapeRequire(import.meta.url); const __filename = __shipshapePath(import.meta.url); "
  + "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));";

/**
 * Bundle `entry` (relative to the snapshot) next to itself, so import.meta.url still finds the repository.
 * `withPackages` bundles the npm packages too, as scripts/run.mjs bundles main.ts for `npm run synth`.
 */
function bundle(snap: string, entry: string, withPackages = false): { file: string; seconds: number } {
  const esbuild = join(snap, 'node_modules', '.bin', 'esbuild');
  if (!existsSync(esbuild)) throw new Error('bench: --bundle needs node_modules/.bin/esbuild');
  const file = entry.replace(/\.[cm]?ts$/, '.bench-bundle.mjs');
  const start = process.hrtime.bigint();
  // With packages: the punycode alias scripts/run.mjs has; re2-wasm stays external (it reads its .wasm beside
  // itself) and loads eagerly, where run.mjs loads it on first use.
  const packages = withPackages
    ? ['--external:re2-wasm', '--alias:punycode=punycode/', '--target=node22', `--banner:js=${ESM_BUNDLE_BANNER}`]
    : ['--packages=external'];
  const r = spawnSync(esbuild, [entry, '--bundle', '--platform=node', '--format=esm', ...packages,
    `--outfile=${file}`, '--log-level=warning'], { cwd: snap, encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new ChildFailed(`esbuild of ${entry} failed:\n${r.stdout}${r.stderr}`);
  return { file, seconds };
}

async function main(): Promise<number> {
  const work = mkdtempSync(join(tmpdir(), 'shipshape-bench-'));
  const snap = join(work, 'repo');
  mkdirSync(snap);
  const script = synthScript();
  const results: CaseResult[] = [];
  let gate: GateSample[] = [];
  // Other processes competing for the CPUs inflate wall times: measure how much CPU the machine
  // spent beyond what this benchmark and its children did.
  const busyStart = machineBusySeconds();
  const wallStart = process.hrtime.bigint();
  let how: string;
  try {
    snapshotRepository(snap);
    const yamlOptions = await projectYamlOptions(snap);
    let full: Command;
    const generatedArgs = (n: number, root: string) => ['--services', String(n), '--root', root];
    // Generated cases run as esbuild bundles, as `npm run synth` (scripts/synth.mjs) runs main.ts.
    const g = bundle(snap, join('bench', 'generated-synth.ts'));
    const generated = (n: number, root: string): Command => ({ node: [g.file, ...generatedArgs(n, root)] });
    if (BUNDLE) {
      const m = bundle(snap, 'main.ts');
      full = { node: [m.file] };
      how = `main.ts bundled by esbuild (--packages=external, ${fmt(m.seconds, 2)} s, not included) and run as \`node main.bench-bundle.mjs\``;
    } else {
      full = script.node ? { node: [...script.node.flags, script.node.entry] } : { shell: script.text };
      how = `full synth as the synth script \`${script.text}\` (its cached bundle, built by the warm-up run); generated cases as esbuild bundles`;
    }
    const cases: SynthCase[] = [
      { name: 'full synth (staging + production)', command: full, root: snap, outputs: ['dist', 'argocd'], runs: RUNS },
      ...SIZES.map((n): SynthCase => {
        const root = join(work, `services-${n}`);
        return {
          name: `${n} services`,
          services: n,
          command: generated(n, root),
          root,
          outputs: ['dist'],
          runs: n >= 1000 ? RUNS_LARGE : RUNS,
        };
      }),
    ];

    for (const c of cases) {
      const clean = () => { for (const o of c.outputs) rmSync(join(c.root, o), { recursive: true, force: true }); };
      log(`bench: ${c.name}: warm-up (untimed)`);
      clean();
      measure(c.name, snap, c.command, work);
      const { input, objects } = documentsOf(c.root, c.outputs, yamlOptions);
      const docsFile = join(work, `${c.name.replace(/\W+/g, '-')}.documents.json`);
      writeFileSync(docsFile, JSON.stringify(input));
      const synthPaths = input.files.map((f) => f.path);

      const synth: Sample[] = [];
      for (let i = 0; i < c.runs; i += 1) {
        clean();
        synth.push(measure(c.name, snap, c.command, work));
        log(`bench: ${c.name}: run ${i + 1}/${c.runs}: ${fmt(synth[i].wallSeconds, 3)} s, ${fmt(synth[i].maxRssKiB / 1024, 0)} MiB`);
      }
      const floorOut = join(work, 'floor-out');
      const floor: Sample[] = [];
      for (let i = 0; i < c.runs; i += 1) {
        rmSync(floorOut, { recursive: true, force: true });
        floor.push(measure(`floor of ${c.name}`, snap, { node: [join(snap, 'bench', 'floor.mjs'), docsFile, floorOut] }, work));
        log(`bench: floor of ${c.name}: run ${i + 1}/${c.runs}: ${fmt(floor[i].wallSeconds, 3)} s`);
      }
      const diff = differences(c.root, floorOut, synthPaths);
      if (diff > 0) log(`bench: note: the floor's YAML differs from the synth's in ${diff} of ${synthPaths.length} files`);
      rmSync(floorOut, { recursive: true, force: true });

      const synthResult: CaseResult = {
        name: c.name, kind: 'synth', services: c.services, objects, runs: c.runs,
        ...summary(synth),
      };
      const floorResult: CaseResult = {
        name: `floor: ${c.name}`, kind: 'floor', services: c.services, objects, runs: c.runs,
        ...summary(floor),
        floorOf: c.name, identicalToSynth: diff === 0,
      };
      results.push(synthResult, floorResult);
    }
    log('bench: gate passes (in-process, fresh processes)');
    gate = gatePasses(snap, RUNS);
  } catch (e) {
    if (e instanceof ChildFailed) {
      log(`bench: ${e.message}`);
      return 1;
    }
    throw e;
  } finally {
    if (KEEP) log(`bench: kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }

  // -------------------------------------------------------------------------------------------
  // Report
  const cpu = cpus();
  const lines: string[] = [];
  lines.push(`Node ${process.version}, ${cpu.length} CPU(s) (${cpu[0]?.model.trim() ?? 'unknown'}), ` +
    `${how}, peak RSS from ${GNU_TIME ? `GNU time (${GNU_TIME} -f %M)` : 'getrusage (bench/max-rss.mjs)'}.`);
  lines.push(`Median of ${RUNS} runs (${RUNS_LARGE} for 1000+ services), after one untimed warm-up run per case (warms the file cache), each run writing into an empty folder.`);
  const own = process.cpuUsage();
  const elapsed = Number(process.hrtime.bigint() - wallStart) / 1e9;
  // esbuild and the snapshot copy are not counted as ours: this overstates others a little.
  const others = Math.max(0, machineBusySeconds() - busyStart - childCpuSeconds - (own.user + own.system) / 1e6);
  const othersShare = others / (elapsed * cpu.length);
  if (Number.isFinite(othersShare)) {
    lines.push(`CPU time outside the measured processes (other processes, kernel writeback, the benchmark's own setup): ` +
      `${fmt(othersShare * 100, 0)}% of the machine` +
      (othersShare > 0.3 ? '; wall times are likely inflated: rerun on a quiet machine.' : '.'));
  }
  lines.push('');
  lines.push('| case | objects | median wall (s) | median CPU (s) | peak RSS (MiB) | × floor (wall) |');
  lines.push('|---|---:|---:|---:|---:|---:|');
  const floors = new Map(results.filter((r) => r.kind === 'floor').map((r) => [r.floorOf, r]));
  for (const r of results) {
    const ratio = r.kind === 'synth' ? fmt(r.medianWall / (floors.get(r.name)?.medianWall ?? NaN), 1) : '1.0';
    const note = r.kind === 'floor' && !r.identicalToSynth ? ' (YAML differs from the synth\'s)' : '';
    lines.push(`| ${r.name}${note} | ${r.objects} | ${fmt(r.medianWall, 3)} | ${fmt(r.medianCpu, 2)} | ${fmt(r.medianRssMiB, 0)} | ${ratio} |`);
  }
  const bySize = new Map(results.filter((r) => r.kind === 'synth' && r.services).map((r) => [r.services, r]));
  const s10 = bySize.get(10);
  const s100 = bySize.get(100);
  const s1000 = bySize.get(1000);
  if (s100 && s1000) {
    lines.push('');
    lines.push(`Growth 100 → 1000 services (objects × ${fmt(s1000.objects / s100.objects, 1)}): wall × ${fmt(s1000.medianWall / s100.medianWall, 1)}, ` +
      `CPU × ${fmt(s1000.medianCpu / s100.medianCpu, 1)} (below 10× because of the fixed start-up cost; see the per-service cost for linearity).`);
    if (s10) {
      for (const [what, pick] of [['wall', (r: CaseResult) => r.medianWall], ['CPU', (r: CaseResult) => r.medianCpu]] as const) {
        const early = (pick(s100) - pick(s10)) / (s100.services! - s10.services!);
        const late = (pick(s1000) - pick(s100)) / (s1000.services! - s100.services!);
        lines.push(`Cost per added service (${what}): ${fmt(early * 1000, 2)} ms between 10 and 100, ${fmt(late * 1000, 2)} ms between 100 and 1000 ` +
          `(× ${fmt(late / early, 1)}; about 1 when linear).`);
      }
    }
  }
  if (gate.length > 0) {
    const ms = (xs: readonly number[]) => fmt(median(xs), 0);
    const first = (pick: (s: GateSample) => number) => median(gate.map(pick));
    const pass = (name: 'defaults' | 'cel' | 'updates') => `${ms(gate.map((s) => s[name].first))} ms first run, ${ms(gate.flatMap((s) => s[name].warm))} ms warm`;
    const paid = first((s) => s.load) + first((s) => s.defaults.first) + first((s) => s.cel.first);
    lines.push('');
    lines.push(`API server checks in the full synth (bench/gate-passes.ts, ${gate[0].objects} objects of dist/ and argocd/, both environments; ` +
      `median of ${gate.length} fresh processes, warm = 5 more runs in each):`);
    lines.push(`- loading the gate's modules (@bufbuild/cel, pipeline/cel/, crd-defaults, immutable-fields; bundled with their packages): ${ms(gate.map((s) => s.load))} ms`);
    lines.push(`- CRD structural defaults: ${pass('defaults')}`);
    lines.push(`- CEL rules (reads imports/validations/, compiles each rule once): ${pass('cel')}`);
    lines.push(`- updates, every object against itself (worst case: every committed file changed; a synth compares only changed files): ${pass('updates')}`);
    lines.push(`What a synth pays for defaults + CEL (load + first runs): ${fmt(paid, 0)} ms; with the worst-case update pass: ` +
      `${fmt(paid + first((s) => s.updates.first), 0)} ms (issue 12's budget: 200 ms).`);
  }
  lines.push('');
  const scriptOption = option('synth-script') === undefined ? '' : ` --synth-script ${JSON.stringify(option('synth-script'))}`;
  lines.push(`Reproduce: \`npm run bench -- --runs ${RUNS} --runs-large ${RUNS_LARGE} --sizes ${SIZES.join(',')}${BUNDLE ? ' --bundle' : ''}${scriptOption}\``);
  process.stdout.write(`${lines.join('\n')}\n`);
  if (JSON_OUT) writeFileSync(JSON_OUT, `${JSON.stringify({ node: process.version, cpus: cpu.length, othersShare, how, synthScript: script.text, results, gatePasses: gate }, null, 2)}\n`);
  return 0;
}

process.exitCode = await main();
