/**
 * `npm run diff [-- --env <name>] [-- --base <rev>]`: what the working tree would change in dist/
 * and argocd/ against the trees committed in git (HEAD, or where HEAD's history meets `--base`:
 * pipeline/git-tree.ts), object by object, with the field paths and old → new values of each
 * changed object (pipeline/object-diff.ts). Not against the files on disk: after `npm run synth`,
 * or in a pull request whose dist/ is regenerated, those already are the synthesis. Runs the same
 * validation and gate as synthesis and writes nothing. Plain text, pasteable into a pull request;
 * colours only on a terminal without NO_COLOR.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ARGOCD_DIR as ARGOCD, DIST_DIR as DIST } from '../environments/model/delivery';
import { committedFiles, GitBaseError, resolveBase, type GitBase } from '../pipeline/git-tree';
import { COLOURS, countChanges, diffFolders, PLAIN, renderDiff } from '../pipeline/object-diff';
import type { Synthesis } from '../pipeline/pipeline';
import { subtree } from '../pipeline/tree-diff';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const USAGE = `Usage: npm run diff [-- <options>]

Shows what the working tree would change in ${DIST}/ and ${ARGOCD}/ as committed in git (at HEAD, or
see --base), object by object: objects added, removed and changed, and for a changed object each
field that differs with its old → new value (multi-line values as a line diff). The baseline is the
commit, not the files on disk: after npm run synth those already are what the working tree
synthesizes. Validates the configuration and runs the same checks as npm run synth; writes nothing.
The output is plain text: paste it into a pull request inside a fenced code block.

Options:
  --base <rev>   Compare with this git revision instead of HEAD: a branch, a tag or a commit. A
                 branch with commits HEAD lacks (origin/main, for a pull request: npm run diff --
                 --base origin/main) is compared at its merge base with HEAD, as the pull request
                 shows it, so that those commits are not shown undone.
  --env <name>   Only this environment (repeatable); every environment's configuration is still
                 validated.
  -h, --help     Print this text.

Exit status: 0 nothing would change, 1 something would change or the input is bad (the message
says which; not in a git repository and an unknown --base are bad input), 2 a bug.
`;

/** The options, or the one-line reason they are not valid. */
function options(args: readonly string[]): { help: boolean; env?: string[]; base?: string } | string {
  try {
    const { values } = parseArgs({
      args: [...args],
      options: { help: { type: 'boolean', short: 'h' }, env: { type: 'string', multiple: true }, base: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    });
    return { help: values.help ?? false, env: values.env && [...new Set(values.env)], base: values.base };
  } catch (e) {
    // node:util's messages name the option; the advice after the first sentence is not for npm users.
    return (e as Error).message.split(/\.\s/)[0].replace(/\.$/, '');
  }
}

/** `HEAD (commit 1a2b3c4d5e6f)`, `origin/main (merge base 1a2b3c4d5e6f)`: what the diff is against. */
function describeBase(base: GitBase): string {
  return `${base.rev} (${base.mergeBase ? 'merge base' : 'commit'} ${base.commit.slice(0, 12)})`;
}

async function main(): Promise<number> {
  const opts = options(process.argv.slice(2));
  if (typeof opts === 'string') {
    process.stderr.write(`shipshape: ${opts}; see npm run diff -- --help\n`);
    return 1;
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }

  // Before synthesis, which takes seconds: no committed trees, no diff (never the disk instead).
  let base: GitBase;
  try {
    base = resolveBase(root, opts.base);
  } catch (e) {
    if (!(e instanceof GitBaseError)) throw e;
    process.stderr.write(`shipshape: no diff: ${e.message}\n`);
    return 1;
  }

  // Loaded once the options are known good: the synthesis' modules take seconds to load.
  const { environments } = await import('../environments/index');
  const names = environments.map((d) => d?.name);
  const unknown = (opts.env ?? []).filter((e) => !names.includes(e));
  if (unknown.length > 0) {
    process.stderr.write(`shipshape: --env ${unknown.join(', ')}: no such environment; the environments are ${names.join(', ')}\n`);
    return 1;
  }
  const { environmentFileProblems } = await import('../environments/files');
  const { ConfigError } = await import('../environments/load');
  const { refusalMessage } = await import('../pipeline/immutable-fields');
  const { nextTree, refusedChangesOf, synthesizeAll } = await import('../pipeline/pipeline');
  let synthesis: Synthesis;
  try {
    const listed = environments.flatMap((d) => (typeof d?.name === 'string' ? [d.name] : []));
    const files = environmentFileProblems(root, listed);
    if (files.length > 0) throw new ConfigError(files);
    synthesis = await synthesizeAll(environments, root, opts.env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    // Exit 1 as for changes found: say plainly that this is not a diff.
    process.stderr.write(`shipshape: no diff: the configuration is not valid (npm run synth would write nothing); fix these ${e.problems.length} problem(s):\n`);
    for (const p of e.problems) process.stderr.write(`  ${p}\n`);
    return 1;
  }

  const partial = opts.env !== undefined;
  const baseFiles = committedFiles(root, base.commit, [DIST, ARGOCD, ...synthesis.documents.keys()]);
  const committed = subtree(baseFiles, DIST);
  const committedArgocd = subtree(baseFiles, ARGOCD);
  const folders = diffFolders(
    new Map([[DIST, committed], [ARGOCD, committedArgocd]]),
    new Map([[DIST, nextTree(committed, synthesis, partial)], [ARGOCD, nextTree(committedArgocd, synthesis, partial, 'argocd')]]),
    opts.env,
  );
  const paint = process.stdout.isTTY && !process.env.NO_COLOR ? COLOURS : PLAIN;
  process.stdout.write(renderDiff(folders, paint));

  const documents = [...synthesis.documents].filter(([path, content]) => baseFiles.get(path) !== content).map(([path]) => path);
  for (const d of documents) process.stdout.write(`${d}: changes too (generated from the configuration)\n`);
  const refused = refusedChangesOf(committed, synthesis, new Set(), committedArgocd);
  if (refused.length > 0) {
    process.stdout.write(`npm run synth refuses ${refused.length} of these change(s), which Kubernetes cannot make to an existing object:\n`);
    for (const r of refused) process.stdout.write(`  ${refusalMessage(r)}\n`);
  }

  const changes = folders.flatMap((f) => f.changes);
  const scope = `${opts.env ? ` for ${opts.env.join(', ')}` : ''} against ${describeBase(base)}`;
  if (changes.length === 0 && documents.length === 0) {
    process.stdout.write(`shipshape: no changes${scope}: the working tree synthesizes the ${DIST}/ and ${ARGOCD}/ committed there\n`);
    return 0;
  }
  const objects = changes.length === 0 ? 'no object' : `${changes.length} object(s) (${countChanges(changes)})`;
  process.stdout.write(`shipshape: changes found${scope}: the working tree changes ${objects}${documents.length > 0 ? ` and ${documents.join(', ')}` : ''}\n`);
  return 1;
}

main().then((code) => { process.exitCode = code; }, (e: unknown) => {
  // A bug, not bad input: say what failed; the stack only when asked for.
  process.stderr.write(`shipshape: internal error: ${(e as Error)?.message ?? String(e)}\n`);
  if (process.env.SHIPSHAPE_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? ''}\n`);
  process.exitCode = 2;
});
