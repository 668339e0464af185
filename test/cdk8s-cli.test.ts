/**
 * The real cdk8s CLI runs the same pipeline as `npm run synth`, so both produce the same bytes.
 * Each runs in its own temporary copy of the repository (sources only, node_modules linked), so
 * the test never touches the working tree's dist/.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { synthesizeAll } from '../charts/pipeline';
import { environments } from '../environments/index';

const root = process.cwd();
/** What synthesis reads; `imports/` (generated CRD types) only once a chart needs it. */
const SOURCES = ['main.ts', 'cdk8s.yaml', 'package.json', 'tsconfig.json', 'charts', 'environments', 'imports'];

function copyOfRepository(): string {
  const dir = mkdtempSync(join(tmpdir(), 'shipshape-cli-'));
  for (const entry of SOURCES) {
    if (existsSync(join(root, entry))) cpSync(join(root, entry), join(dir, entry), { recursive: true });
  }
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

function readTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const entry of readdirSync(d).sort()) {
      const path = join(d, entry);
      if (statSync(path).isDirectory()) walk(path);
      else out.set(relative(dir, path), readFileSync(path, 'utf8'));
    }
  };
  walk(dir);
  return out;
}

function run(cwd: string, command: string, args: string[]) {
  const r = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, CDK8S_CHECK_UPGRADE: 'false', CDK8S_OUTDIR: undefined },
    timeout: 120_000,
  });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

test('`cdk8s synth` writes the same dist/ as `npm run synth`, and lists those same files', async () => {
  const viaCli = copyOfRepository();
  const viaNpm = copyOfRepository();
  dirs.push(viaCli, viaNpm);

  run(viaCli, join(viaCli, 'node_modules', '.bin', 'cdk8s'), ['synth']);
  run(viaNpm, 'npm', ['run', '-s', 'synth']);

  const cliDist = readTree(join(viaCli, 'dist'));
  const npmDist = readTree(join(viaNpm, 'dist'));
  expect(cliDist.size).toBeGreaterThan(0);
  expect([...cliDist.keys()]).toEqual([...npmDist.keys()]);
  for (const [path, content] of npmDist) expect([path, cliDist.get(path)]).toEqual([path, content]);

  // The CLI's own output folder mirrors dist/, so what it reports is what Argo CD gets.
  expect(readTree(join(viaCli, '.cdk8s.out'))).toEqual(cliDist);

  // And both are what the pipeline gives in this process.
  const inProcess = await synthesizeAll(environments, root);
  expect(new Map([...npmDist].map(([p, c]) => [p.split('\\').join('/'), c]))).toEqual(inProcess);
}, 240_000);
