/**
 * The whole synthesis: every environment validated, built and checked before anything is written.
 * A problem anywhere means no file changes anywhere.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { auditPolicyFiles } from '../charts/logging/audit-policy';
import type { EnvironmentDefinition } from '../environments/define';
import { ConfigError, resolveEnvironments } from '../environments/load';
import { ARGOCD_DIR, DIST_DIR } from '../environments/model/delivery';
import { buildModel } from '../environments/model/model';
import { byCodepoint } from '../environments/order';
import { FLOWS_DOC, flowsDocument } from './flows-doc';
import { refusedChanges, type RefusedChange } from './immutable-fields';
import type { K8sObject } from './k8s-object';
import { replaceTree, type ReplaceTreeResult } from './output';
import { synthesizeEnvironment } from './synth';
import { subtree } from './tree-diff';

/** Folder (relative to the repository) Argo CD reads the environments from. */
export const DIST = DIST_DIR;
/** Folder (relative to the repository) of each environment's Argo CD objects. */
export const ARGOCD = ARGOCD_DIR;

export interface Synthesis {
  /** Files of every environment synthesized, keyed by path relative to dist/. */
  readonly files: Map<string, string>;
  /** Argo CD files of every environment synthesized, keyed by path relative to argocd/. */
  readonly argocd: Map<string, string>;
  /** Documents generated from the model, keyed by path relative to the repository. */
  readonly documents: Map<string, string>;
  /** The objects of every environment synthesized, by environment, in output order. */
  readonly objects: ReadonlyMap<string, readonly K8sObject[]>;
  /** The Argo CD objects of every environment synthesized, by environment, in output order. */
  readonly argocdObjects: ReadonlyMap<string, readonly K8sObject[]>;
}

/**
 * Everything synthesis writes, for every environment or those named in `only`. Every environment's
 * configuration is validated either way (the generated documents are made from all of them).
 * Throws ConfigError listing every problem of every environment.
 */
export async function synthesizeAll(defs: readonly EnvironmentDefinition[], root: string, only?: readonly string[]): Promise<Synthesis> {
  const envs = resolveEnvironments(defs, root);
  const unknown = (only ?? []).filter((name) => !envs.some((e) => e.name === name));
  if (unknown.length > 0) {
    throw new ConfigError(unknown.map((name) => `--env ${name}: no such environment; the environments are ${envs.map((e) => e.name).join(', ')}`));
  }
  const selected = only ? envs.filter((e) => only.includes(e.name)) : envs;
  // Every environment's problems, also when one could not be built at all (an extension's code failed).
  const settled = await Promise.allSettled(selected.map(synthesizeEnvironment));
  const failed = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  const unexpected = failed.find((e) => !(e instanceof ConfigError));
  if (unexpected) throw unexpected;
  const results = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const problems = [...failed.flatMap((e) => (e as ConfigError).problems), ...results.flatMap((r) => r.problems)];
  if (problems.length > 0) throw new ConfigError(problems);
  const models = envs.map(buildModel);
  const files = new Map<string, string>();
  const argocd = new Map<string, string>();
  for (const r of results) {
    for (const [rel, content] of r.files) files.set(`${r.env.name}/${rel}`, content);
    for (const [rel, content] of r.argocdFiles) argocd.set(`${r.env.name}/${rel}`, content);
  }
  return {
    files,
    argocd,
    documents: new Map([[FLOWS_DOC, flowsDocument(models)], ...auditPolicyFiles(models)]),
    objects: new Map(results.map((r) => [r.env.name, r.objects])),
    argocdObjects: new Map(results.map((r) => [r.env.name, r.argocdObjects])),
  };
}

/**
 * The whole dist/ tree a write leaves: the synthesized environments' files and, when only some were
 * synthesized (`npm run synth -- --env staging`), every other committed file as it is.
 */
export function nextTree(committed: ReadonlyMap<string, string>, synthesis: Synthesis, partial: boolean, tree: 'dist' | 'argocd' = 'dist'): Map<string, string> {
  const kept = partial ? [...committed].filter(([path]) => !synthesis.objects.has(path.split('/')[0])) : [];
  const files = tree === 'dist' ? synthesis.files : synthesis.argocd;
  return new Map([...kept, ...files].sort(([a], [b]) => byCodepoint(a, b)));
}

/**
 * The object a committed file holds; none when it holds no object (a file put there by hand, or
 * unreadable YAML), which the write replaces like any other file.
 */
function committedObject(text: string): K8sObject[] {
  try {
    const o: unknown = parse(text);
    return o !== null && typeof o === 'object' && !Array.isArray(o) && 'kind' in o ? [o as K8sObject] : [];
  } catch {
    return [];
  }
}

/**
 * Changes to fields the API server refuses to update, from the committed dist/ (and argocd/, when
 * `committedArgocd` is given) to this synthesis, except on the objects in `allowed`
 * (`<environment>/<Kind>/<name>`). A committed file that this synthesis writes byte for byte holds
 * an object that does not change: it is not parsed (parsing every committed file was a fifth of a synthesis).
 */
export function refusedChangesOf(
  committed: ReadonlyMap<string, string>, synthesis: Synthesis, allowed: ReadonlySet<string>, committedArgocd?: ReadonlyMap<string, string>,
): RefusedChange[] {
  const trees = [
    { tree: committed, files: synthesis.files, objects: synthesis.objects },
    ...(committedArgocd ? [{ tree: committedArgocd, files: synthesis.argocd, objects: synthesis.argocdObjects }] : []),
  ];
  return trees.flatMap(({ tree, files, objects: byEnv }) => [...byEnv].flatMap(([env, objects]) => {
    const changed = [...subtree(tree, env)].filter(([path, text]) => files.get(`${env}/${path}`) !== text);
    const before = changed.flatMap(([, text]) => committedObject(text));
    return refusedChanges(env, before, objects, allowed);
  }));
}

/** Write a generated document (relative to `root`) whole: beside it first, then renamed over it. */
export function writeDocument(root: string, path: string, content: string): void {
  const target = join(root, path);
  mkdirSync(dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, target);
}

/** Replace dist/ (or argocd/) with exactly these files. */
export function writeDist(root: string, files: ReadonlyMap<string, string>, dir: string = DIST): ReplaceTreeResult {
  return replaceTree(join(root, dir), files);
}
