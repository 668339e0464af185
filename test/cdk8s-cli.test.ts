/**
 * The real cdk8s CLI runs the same pipeline as `npm run synth`, so both produce the same bytes.
 * Each runs in its own temporary copy of the repository (sources only, node_modules linked), so
 * the test never touches the working tree's dist/.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { environments } from '../environments/index';
import { synthesizeAll } from '../pipeline/pipeline';
import { copyRepository, readTree } from './support/repository-copy';

const root = process.cwd();

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
  const viaCli = copyRepository('shipshape-cli-');
  const viaNpm = copyRepository('shipshape-cli-');
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

  // And both are what the pipeline gives in this process, generated documents included.
  const inProcess = await synthesizeAll(environments, root);
  expect(new Map([...npmDist].map(([p, c]) => [p, Buffer.from(c, 'latin1').toString('utf8')]))).toEqual(inProcess.files);
  expect(inProcess.documents.size).toBeGreaterThan(0);
  for (const [path, content] of inProcess.documents) {
    expect([path, readFileSync(join(viaCli, path), 'utf8')]).toEqual([path, content]);
    expect([path, readFileSync(join(viaNpm, path), 'utf8')]).toEqual([path, content]);
  }
}, 240_000);

test('cdk8s.yaml imports the upstream CRDs of the versions npm run import reads, from nowhere on this machine', () => {
  const config = parse(readFileSync(join(root, 'cdk8s.yaml'), 'utf8')) as { imports: string[] };
  expect(config.imports.every((i) => i.startsWith('https://github.com/cloudnative-pg/'))).toBe(true);
  // The versions are those of the generated code (imports/schemas names where each came from).
  const versions = (file: string) => JSON.parse(readFileSync(join(root, 'imports', 'schemas', file), 'utf8')).$comment as string;
  const cnpg = /cloudnative-pg-(\d+\.\d+\.\d+)_/.exec(versions('postgresql.cnpg.io_v1_Cluster.json'))?.[1];
  const barman = /plugin-barman-cloud-(\d+\.\d+\.\d+)_/.exec(versions('barmancloud.cnpg.io_v1_ObjectStore.json'))?.[1];
  expect([cnpg, barman]).toEqual(['1.30.0', '0.14.0']);
  expect(config.imports).toEqual([
    `https://github.com/cloudnative-pg/cloudnative-pg/releases/download/v${cnpg}/cnpg-${cnpg}.yaml`,
    `https://github.com/cloudnative-pg/plugin-barman-cloud/releases/download/v${barman}/manifest.yaml`,
  ]);
});
