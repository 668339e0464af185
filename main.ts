/**
 * `npm run synth`: validate every environment, synthesize, check, and only then replace dist/.
 * Bad input prints one line per problem (environment, field or object, what is wrong) and exits 1
 * with dist/ untouched. `--help` says what the options are.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { environmentFileProblems } from './environments/files';
import { environments } from './environments/index';
import { ConfigError } from './environments/load';
import { IMMUTABLE_RUNBOOK, refusalMessage } from './pipeline/immutable-fields';
import { replaceTree } from './pipeline/output';
import { ARGOCD, DIST, nextTree, refusedChangesOf, synthesizeAll, writeDist, writeDocument, type Synthesis } from './pipeline/pipeline';
import { readTree, subtree, treeChanges } from './pipeline/tree-diff';

const root = dirname(fileURLToPath(import.meta.url));

const USAGE = `Usage: npm run synth [-- <options>]

Validates every environment (environments/), synthesizes its Kubernetes objects, checks them
(strict schemas, policy rules, fields Kubernetes cannot update) and only then replaces ${DIST}/,
${ARGOCD}/ (each environment's Argo CD objects) and the generated documents. When anything is wrong, nothing is written and every problem is listed.

Options:
  --env <name>      Synthesize and write only this environment (repeatable). The other
                    environments' files in ${DIST}/ and ${ARGOCD}/ stay as they are; every environment's
                    configuration is still validated.
  --check           Write nothing. Exit 1 and list the files that differ when ${DIST}/, ${ARGOCD}/
                    or a generated document is not what the sources synthesize (what CI and a
                    pre-commit hook run).
  --allow-immutable-change <environment>/<Kind>/<name>
                    Let through a reviewed change of a field Kubernetes refuses to update on an
                    existing object, after doing what ${IMMUTABLE_RUNBOOK} says (repeatable).
  -h, --help        Print this text.

Exit status: 0 done (or up to date), 1 bad input, a stale ${DIST}/ or ${ARGOCD}/ or a refused change,
2 a bug.
`;

interface Options {
  readonly help: boolean;
  readonly check: boolean;
  readonly env?: readonly string[];
  readonly allowed: ReadonlySet<string>;
}

/** The options, or the one-line reason they are not valid. */
function options(args: readonly string[]): Options | string {
  try {
    const { values } = parseArgs({
      args: [...args],
      options: {
        help: { type: 'boolean', short: 'h' },
        check: { type: 'boolean' },
        env: { type: 'string', multiple: true },
        'allow-immutable-change': { type: 'string', multiple: true },
      },
      strict: true,
      allowPositionals: false,
    });
    return {
      help: values.help ?? false,
      check: values.check ?? false,
      env: values.env,
      allowed: new Set(values['allow-immutable-change'] ?? []),
    };
  } catch (e) {
    // node:util's messages name the option; the advice after the first sentence is not for npm users.
    return (e as Error).message.split(/\.\s/)[0].replace(/\.$/, '');
  }
}

const count = (n: number, what: string) => `${n} ${what}`;

async function main(): Promise<number> {
  const opts = options(process.argv.slice(2));
  if (typeof opts === 'string') {
    process.stderr.write(`shipshape: ${opts}; see npm run synth -- --help\n`);
    return 1;
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }

  let synthesis: Synthesis;
  try {
    // An entry that is not an environment is resolveEnvironments' to report.
    const listed = environments.flatMap((d) => (typeof d?.name === 'string' ? [d.name] : []));
    const files = environmentFileProblems(root, listed);
    if (files.length > 0) throw new ConfigError(files);
    synthesis = await synthesizeAll(environments, root, opts.env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`shipshape: nothing was written; fix these ${e.problems.length} problem(s):\n`);
    for (const p of e.problems) process.stderr.write(`  ${p}\n`);
    return 1;
  }
  const committed = readTree(join(root, DIST));
  const next = nextTree(committed, synthesis, opts.env !== undefined);
  const committedArgocd = readTree(join(root, ARGOCD));
  const nextArgocd = nextTree(committedArgocd, synthesis, opts.env !== undefined, 'argocd');

  if (opts.check) return check([[DIST, committed, next], [ARGOCD, committedArgocd, nextArgocd]], synthesis.documents);

  const changes = refusedChangesOf(committed, synthesis, new Set(), committedArgocd);
  const refused = changes.filter((c) => !opts.allowed.has(c.object));
  if (refused.length > 0) {
    process.stderr.write(`shipshape: nothing was written; ${refused.length} change(s) Kubernetes refuses on existing objects:\n`);
    for (const r of refused) process.stderr.write(`  ${refusalMessage(r)}\n`);
    return 1;
  }
  // A reviewed change goes through, on the record of the run.
  for (const c of changes) process.stdout.write(`shipshape: allowed by --allow-immutable-change: ${c.object}: ${c.field} ${c.change}\n`);

  const leftovers = [...writeDist(root, next).leftovers, ...writeDist(root, nextArgocd, ARGOCD).leftovers];
  for (const [path, content] of synthesis.documents) writeDocument(root, path, content);
  // `cdk8s synth` wipes and lists its own output folder; give it the same files to list.
  const cliOut = process.env.CDK8S_OUTDIR;
  if (cliOut && resolve(cliOut) !== resolve(root, DIST)) leftovers.push(...replaceTree(resolve(cliOut), next).leftovers);
  // The new tree is in place; a scratch copy that could not be removed is the next run's to clean.
  for (const l of leftovers) process.stderr.write(`shipshape: warning: could not remove ${l}; the next run tries again\n`);

  for (const [dir, before, after] of [[DIST, committed, next], [ARGOCD, committedArgocd, nextArgocd]] as const) {
    const envs = [...new Set([...before.keys(), ...after.keys()].map((p) => p.split('/')[0]))].sort();
    for (const env of envs) {
      const files = subtree(after, env);
      const { added, changed, removed } = treeChanges(subtree(before, env), files);
      const what = added.length + changed.length + removed.length === 0
        ? 'unchanged'
        : [count(added.length, 'added'), count(changed.length, 'changed'), count(removed.length, 'removed')].join(', ');
      process.stdout.write(`shipshape: ${dir}/${env}: ${what} (${count(files.size, files.size === 1 ? 'file' : 'files')})\n`);
    }
  }
  process.stdout.write(`shipshape: wrote ${next.size} files to ${DIST}/ and ${nextArgocd.size} to ${ARGOCD}/ in ${process.uptime().toFixed(1)} s\n`);
  return 0;
}

type Tree = readonly [dir: string, committed: ReadonlyMap<string, string>, next: ReadonlyMap<string, string>];

/** `--check`: whether dist/, argocd/ and the documents are what the sources synthesize; nothing is written. */
function check(trees: readonly Tree[], documents: ReadonlyMap<string, string>): number {
  const stale = [
    ...trees.flatMap(([dir, committed, next]) => {
      const { added, changed, removed } = treeChanges(committed, next);
      return [
        ...added.map((p) => `missing  ${dir}/${p}`),
        ...changed.map((p) => `differs  ${dir}/${p}`),
        ...removed.map((p) => `extra    ${dir}/${p}`),
      ];
    }),
    ...[...documents].filter(([path, content]) => readOrUndefined(join(root, path)) !== content).map(([path]) => `differs  ${path}`),
  ];
  if (stale.length === 0) {
    const files = trees.reduce((n, [, , next]) => n + next.size, 0);
    process.stdout.write(`shipshape: ${trees.map(([dir]) => `${dir}/`).join(', ')} and the generated documents are what the sources synthesize (${files} files)\n`);
    return 0;
  }
  process.stderr.write(`shipshape: ${stale.length} file(s) are not what the sources synthesize; run npm run synth and commit the result:\n`);
  for (const s of stale) process.stderr.write(`  ${s}\n`);
  return 1;
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

main().then((code) => { process.exitCode = code; }, (e: unknown) => {
  // A bug, not bad input: say what failed; the stack only when asked for.
  process.stderr.write(`shipshape: internal error: ${(e as Error)?.message ?? String(e)}\n`);
  if (process.env.SHIPSHAPE_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? ''}\n`);
  process.exitCode = 2;
});
