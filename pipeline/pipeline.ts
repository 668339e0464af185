/**
 * The whole synthesis: every environment validated, built and checked before anything is written.
 * A problem anywhere means no file changes anywhere.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { EnvironmentDefinition } from '../environments/define';
import { ConfigError, resolveEnvironments } from '../environments/load';
import { FLOWS_DOC, flowsDocument } from './flows-doc';
import { replaceTree, type ReplaceTreeResult } from './output';
import { synthesizeEnvironment } from './synth';

/** Folder (relative to the repository) Argo CD reads the environments from. */
export const DIST = 'dist';

export interface Synthesis {
  /** Files of every environment, keyed by path relative to dist/. */
  readonly files: Map<string, string>;
  /** Documents generated from the model, keyed by path relative to the repository. */
  readonly documents: Map<string, string>;
}

/** Everything synthesis writes. Throws ConfigError listing every problem of every environment. */
export async function synthesizeAll(defs: readonly EnvironmentDefinition[], root: string): Promise<Synthesis> {
  const envs = resolveEnvironments(defs, root);
  const results = await Promise.all(envs.map(synthesizeEnvironment));
  const problems = results.flatMap((r) => r.problems);
  if (problems.length > 0) throw new ConfigError(problems);
  const files = new Map<string, string>();
  for (const r of results) {
    for (const [rel, content] of r.files) files.set(`${r.env.name}/${rel}`, content);
  }
  return { files, documents: new Map([[FLOWS_DOC, flowsDocument(results.map((r) => r.model))]]) };
}

/** Write a generated document (relative to `root`) whole: beside it first, then renamed over it. */
export function writeDocument(root: string, path: string, content: string): void {
  const target = join(root, path);
  mkdirSync(dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, target);
}

/** Replace dist/ with exactly these files. */
export function writeDist(root: string, files: ReadonlyMap<string, string>): ReplaceTreeResult {
  return replaceTree(join(root, DIST), files);
}
