/**
 * Debian's Alertmanager 0.25 (`amtool`, `prometheus-alertmanager`) on a configuration made for the
 * Alertmanager the cluster runs (v0.34.0, kube-prometheus-stack 88.5.3). 0.25 knows every field
 * the project writes but one: the webhook's `url_file`, added in 0.26.0 (CHANGELOG 0.26.0,
 * "Webhook Integration: Support `url_file`", #3223). `for025` swaps it for `url`, and nothing else;
 * `differences` lets a test prove that.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { commandEnv } from './command';
import { startDaemon, type RunningDaemon } from './daemon';

type Json = Record<string, unknown>;
const isMap = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Where a copy of `config` readable by Alertmanager 0.25 sends each webhook whose URL it reads from a file. */
export function for025(config: unknown, url: string): Json {
  const copy = JSON.parse(JSON.stringify(config)) as Json;
  for (const receiver of (copy.receivers ?? []) as Json[]) {
    for (const webhook of (receiver.webhook_configs ?? []) as Json[]) {
      if (webhook.url_file === undefined) continue;
      delete webhook.url_file;
      webhook.url = url;
    }
  }
  return copy;
}

/** The paths (`receivers[3].webhook_configs[0].url`) at which two JSON values differ, sorted. */
export function differences(a: unknown, b: unknown, path = ''): string[] {
  if (Array.isArray(a) && Array.isArray(b)) {
    return Array.from({ length: Math.max(a.length, b.length) }, (_, i) => differences(a[i], b[i], `${path}[${i}]`)).flat().sort();
  }
  if (isMap(a) && isMap(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((k) => differences(a[k], b[k], path ? `${path}.${k}` : k)).sort();
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [path];
}

export interface ToolResult { readonly status: number | null; readonly output: string }

/** `amtool <args…>` with the configuration written to `config.yml` in its working directory. */
export function amtool(config: unknown, args: readonly string[]): ToolResult {
  const dir = mkdtempSync(join(tmpdir(), 'shipshape-amtool-'));
  try {
    writeFileSync(join(dir, 'config.yml'), typeof config === 'string' ? config : stringify(config));
    const r = spawnSync('amtool', [...args], { cwd: dir, encoding: 'utf8', timeout: 30_000, env: commandEnv() });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The receivers an alert with `labels` reaches, in routing order (`amtool config routes test`). */
export function routesOf(config: unknown, labels: Readonly<Record<string, string>>): string[] {
  const r = amtool(config, ['config', 'routes', 'test', '--config.file=config.yml', ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)]);
  if (r.status !== 0) throw new Error(`amtool config routes test failed (${r.status}): ${r.output}`);
  // Its own warning that --config.file overrides --alertmanager.url goes to stderr; the answer is the one line of receivers.
  const line = r.output.split('\n').find((l) => l !== '' && !l.startsWith('Warning:'));
  return line === undefined ? [] : line.split(',');
}

/**
 * A notification template rendered as Alertmanager renders it for a group of alerts (`data`: the
 * template data, `{ alerts: [{ labels, annotations }], commonAnnotations, … }`), with no template files.
 */
export function renderTemplate(text: string, data: unknown): ToolResult {
  const dir = mkdtempSync(join(tmpdir(), 'shipshape-amtool-'));
  try {
    writeFileSync(join(dir, 'data.json'), JSON.stringify(data));
    const args = ['template', 'render', `--template.glob=${join(dir, '*.tmpl')}`, `--template.data=${join(dir, 'data.json')}`, `--template.text=${text}`];
    const r = spawnSync('amtool', args, { cwd: dir, encoding: 'utf8', timeout: 30_000, env: commandEnv() });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export type RunningAlertmanager = RunningDaemon;

/**
 * `prometheus-alertmanager` on 127.0.0.1 with `config`, no clustering, its data in a throwaway
 * directory; resolves once it answers /-/ready.
 */
export function startAlertmanager(config: unknown, children: ChildProcess[]): Promise<RunningAlertmanager> {
  const dir = mkdtempSync(join(tmpdir(), 'shipshape-alertmanager-'));
  writeFileSync(join(dir, 'config.yml'), stringify(config));
  return startDaemon({
    name: 'Alertmanager',
    command: 'prometheus-alertmanager',
    args: (port) => [
      `--config.file=${join(dir, 'config.yml')}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=',
    ],
    readyPath: '/-/ready',
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  }, children);
}
