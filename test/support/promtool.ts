/**
 * promtool (Debian's prometheus package), run on files written to a throwaway directory: it reads
 * rule and test files from disk only.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface ToolResult { readonly status: number | null; readonly output: string }

/** `promtool <args…>` with `files` (name → content; objects are written as YAML) in its working directory. */
export function promtool(args: readonly string[], files: Readonly<Record<string, unknown>>): ToolResult {
  const dir = mkdtempSync(join(tmpdir(), 'shipshape-promtool-'));
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), typeof content === 'string' ? content : stringify(content));
    const r = spawnSync('promtool', args, { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
