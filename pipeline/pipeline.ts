/**
 * The whole synthesis: every environment validated, built and checked before anything is written.
 * A problem anywhere means no file changes anywhere.
 */
import { join } from 'node:path';
import type { EnvironmentDefinition } from '../environments/define';
import { ConfigError, resolveEnvironments } from '../environments/load';
import { replaceTree, type ReplaceTreeResult } from './output';
import { synthesizeEnvironment } from './synth';

/** Folder (relative to the repository) Argo CD reads the environments from. */
export const DIST = 'dist';

/**
 * Files of every environment, keyed by path relative to dist/. Throws ConfigError listing every
 * problem of every environment.
 */
export async function synthesizeAll(defs: readonly EnvironmentDefinition[], root: string): Promise<Map<string, string>> {
  const envs = resolveEnvironments(defs, root);
  const results = await Promise.all(envs.map(synthesizeEnvironment));
  const problems = results.flatMap((r) => r.problems);
  if (problems.length > 0) throw new ConfigError(problems);
  const files = new Map<string, string>();
  for (const r of results) {
    for (const [rel, content] of r.files) files.set(`${r.env.name}/${rel}`, content);
  }
  return files;
}

/** Replace dist/ with exactly these files. */
export function writeDist(root: string, files: ReadonlyMap<string, string>): ReplaceTreeResult {
  return replaceTree(join(root, DIST), files);
}
