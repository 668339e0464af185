/**
 * Benchmark entry: the production environment with N generated services, run through the same
 * pipeline as main.ts (synthesizeAll, then writeDist) into a temporary root, never the repository.
 *
 *   node --import tsx bench/generated-synth.ts --services 100 --root /tmp/x [--routed 16]
 *
 * The configuration is bench/generated-config.ts's. The pins go to `<root>/pins.yaml`, the output
 * to `<root>/dist/`. At most 16 services are routed by default (the HTTPRoute rule limit);
 * `--routed N` changes that, for example to show the limit.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../environments/load';
import { synthesizeAll, writeDist } from '../pipeline/pipeline';
import { generatedDefinition, HTTPROUTE_MAX_RULES } from './generated-config';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

async function main(): Promise<number> {
  const count = Number(arg('services'));
  const rootArg = arg('root');
  if (!Number.isInteger(count) || count < 1 || !rootArg) {
    process.stderr.write('usage: node --import tsx bench/generated-synth.ts --services N --root DIR [--routed N]\n');
    return 2;
  }
  const root = resolve(rootArg);
  const routed = Math.min(count, Number(arg('routed') ?? HTTPROUTE_MAX_RULES));
  const { def, pins } = generatedDefinition(count, routed, 'pins.yaml');
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, def.imagePinsFile), pins);

  let files: Map<string, string>;
  try {
    ({ files } = await synthesizeAll([def], root));
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`generated-synth: ${e.problems.length} problem(s):\n`);
    for (const p of e.problems.slice(0, 20)) process.stderr.write(`  ${p}\n`);
    return 1;
  }
  writeDist(root, files);
  process.stdout.write(`generated-synth: ${count} services, wrote ${files.size} files\n`);
  return 0;
}

main().then((code) => { process.exitCode = code; }, (e: unknown) => {
  process.stderr.write(`generated-synth: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exitCode = 2;
});
