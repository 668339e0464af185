/**
 * `npm run synth`: validate every environment, synthesize, check, and only then replace dist/.
 * Bad input prints one line per problem (environment, field or object, what is wrong) and exits 1
 * with dist/ untouched.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { environments } from './environments/index';
import { ConfigError } from './environments/load';
import { replaceTree } from './pipeline/output';
import { DIST, synthesizeAll, writeDist, writeDocument, type Synthesis } from './pipeline/pipeline';

const root = dirname(fileURLToPath(import.meta.url));

async function main(): Promise<number> {
  let synthesis: Synthesis;
  try {
    synthesis = await synthesizeAll(environments, root);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`shipshape: nothing was written; fix these ${e.problems.length} problem(s):\n`);
    for (const p of e.problems) process.stderr.write(`  ${p}\n`);
    return 1;
  }
  const { files, documents } = synthesis;
  const leftovers = [...writeDist(root, files).leftovers];
  for (const [path, content] of documents) writeDocument(root, path, content);
  // `cdk8s synth` wipes and lists its own output folder; give it the same files to list.
  const cliOut = process.env.CDK8S_OUTDIR;
  if (cliOut && resolve(cliOut) !== resolve(root, DIST)) leftovers.push(...replaceTree(resolve(cliOut), files).leftovers);
  // The new tree is in place; a scratch copy that could not be removed is the next run's to clean.
  for (const l of leftovers) process.stderr.write(`shipshape: warning: could not remove ${l}; the next run tries again\n`);
  process.stdout.write(`shipshape: wrote ${files.size} files to ${DIST}/\n`);
  return 0;
}

main().then((code) => { process.exitCode = code; }, (e: unknown) => {
  // A bug, not bad input: say what failed; the stack only when asked for.
  process.stderr.write(`shipshape: internal error: ${(e as Error)?.message ?? String(e)}\n`);
  if (process.env.SHIPSHAPE_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? ''}\n`);
  process.exitCode = 2;
});
