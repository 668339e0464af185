/**
 * Debian's Prometheus (2.42) on loopback, with a configuration and rule files written to a
 * throwaway directory. The rules it evaluates are the synthesized ones; only Prometheus 3's
 * normalization of `le` differs, which no rule run here depends on.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startDaemon, type RunningDaemon } from './daemon';

export type RunningPrometheus = RunningDaemon;

/**
 * `prometheus` with `config` (its `rule_files` named as keys of `files`) and extra `flags`, its
 * TSDB in a throwaway directory; resolves once it answers /-/ready.
 */
export function startPrometheus(
  config: unknown, files: Readonly<Record<string, unknown>>, children: ChildProcess[], flags: readonly string[] = [],
): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'shipshape-prometheus-'));
  writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), typeof content === 'string' ? content : stringify(content));
  return startDaemon({
    name: 'Prometheus',
    command: 'prometheus',
    args: (port) => [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, ...flags],
    readyPath: '/-/ready',
    cwd: dir,
    timeoutMs: 30_000,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  }, children);
}
