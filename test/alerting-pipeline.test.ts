/**
 * The alerting pipeline end to end, with the real programs on loopback: Debian's Prometheus (2.42)
 * scrapes a target and evaluates the synthesized general alerts, Debian's Alertmanager (0.25) routes
 * with production's synthesized configuration, and local webhooks stand in for Slack, PagerDuty and
 * the dead man's switch. The Watchdog reaches the switch; then the target stops answering, and
 * TargetDown reaches Slack, and never PagerDuty (it is a warning), within the time its terms add up
 * to. Only pure delays are shortened (scrape and evaluation intervals, the alert's `for`,
 * group_wait and group_interval: their production values are held by test/time-to-page.test.ts and
 * test/alertmanager-config.test.ts), and the receivers are pointed at the local webhooks (the
 * credential files' directory, PagerDuty's events URL, the switch's URL for 0.25): the test
 * asserts that nothing else differs.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ALERTMANAGER_SECRET, ALERTMANAGER_SECRETS_DIR, RECEIVER_CREDENTIALS, type CredentialReceiver,
} from '../charts/gitops/alertmanager-config';
import { GENERAL_ALERTS, WATCHDOG } from '../charts/observability/general-alerts';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { buildModel } from '../environments/model/model';
import { parseDuration } from '../environments/quantity';
import type { K8sObject } from '../pipeline/k8s-object';
import { argocdObjects, modelObjects } from '../pipeline/synth';
import { differences, for025, startAlertmanager, type RunningAlertmanager } from './support/debian-alertmanager';
import { startPrometheus, type RunningPrometheus } from './support/debian-prometheus';
import { chartDefaults, coalesce } from './support/helm-values';
import { only } from './support/synth-construct';
import { sleep, waitFor } from './support/wait';

type Json = Record<string, any>;

const ALERT = 'TargetDown';
/** The shortened delays, seconds. */
const SCRAPE_S = 1;
const EVALUATION_S = 1;
const FOR_S = 3;
const GROUP_WAIT_S = 1;
/**
 * What a loaded 2-core machine adds to the computed time: process scheduling, and Prometheus
 * sending to Alertmanager after the evaluation that fires.
 */
const SLACK_S = 10;

const production = resolveEnvironments(environments, process.cwd()).find((e) => e.name === 'production');
if (!production) throw new Error('no production environment');
const model = buildModel(production);
const synthesized = modelObjects(model);
const objects = synthesized.map((o) => o.object);
const kps = only(argocdObjects(model, synthesized), 'Application', 'kube-prometheus-stack').spec.source.helm.valuesObject as Json;
/** What production's Alertmanager loads: the chart's default configuration with ours over it. */
const deployedConfig = coalesce((chartDefaults('kube-prometheus-stack').alertmanager as Json).config, kps.alertmanager.config) as Json;
const generalRules = only(objects, 'PrometheusRule', GENERAL_ALERTS) as K8sObject;

interface Received { readonly path: string; readonly body: Json; readonly at: number }

const children: ChildProcess[] = [];
const servers: Server[] = [];
const dirs: string[] = [];
let prometheus: RunningPrometheus | undefined;
let alertmanager: RunningAlertmanager | undefined;

afterAll(async () => {
  prometheus?.stop();
  alertmanager?.stop();
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await Promise.all(servers.map((s) => new Promise((resolve) => { s.closeAllConnections(); s.close(resolve); })));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function listen(handler: (req: IncomingMessage, body: string) => [number, string]): Promise<number> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c; });
    req.on('end', () => {
      const [status, text] = handler(req, body);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(text);
    });
  });
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** The rules with their groups evaluated every EVALUATION_S and TargetDown's `for` at FOR_S. */
function shortenedRules(spec: Json): Json {
  const copy = JSON.parse(JSON.stringify(spec)) as Json;
  for (const g of copy.groups) {
    g.interval = `${EVALUATION_S}s`;
    for (const r of g.rules) if (r.alert === ALERT) r.for = `${FOR_S}s`;
  }
  return copy;
}

/** Every `…_file` of the configuration moved from the Secret's mount to `dir`. */
function moveFiles(value: unknown, dir: string): unknown {
  if (Array.isArray(value)) return value.map((v) => moveFiles(v, dir));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k.endsWith('_file') && typeof v === 'string'
    ? v.replace(`${ALERTMANAGER_SECRETS_DIR}/${ALERTMANAGER_SECRET}`, dir) : moveFiles(v, dir)]));
}

test('a scraped target goes down: TargetDown reaches Slack within its computed time, PagerDuty never; the Watchdog reaches the dead man\'s switch', async () => {
  // The production values the shortened ones stand for.
  const targetDown = (generalRules.spec.groups as Json[]).flatMap((g) => g.rules).find((r: Json) => r.alert === ALERT);
  expect(targetDown.labels.severity).toBe('warning');
  expect(parseDuration(targetDown.for)).toBeGreaterThan(FOR_S);

  const received: Received[] = [];
  const hooks = await listen((req, body) => {
    received.push({ path: req.url ?? '', body: JSON.parse(body || '{}') as Json, at: Date.now() });
    return [200, '{}'];
  });
  const hook = (path: string) => `http://127.0.0.1:${hooks}${path}`;
  const target = await listen(() => [200, 'shipshape_e2e_target 1\n']);
  const targetServer = servers[servers.length - 1];

  // The receivers' credentials as the Secret's files would hold them, pointing at the webhooks.
  const dir = mkdtempSync(join(tmpdir(), 'shipshape-receivers-'));
  dirs.push(dir);
  const credentials: Record<CredentialReceiver, string> = {
    slack: hook('/slack'), pagerduty: 'e2e-routing-key', email: 'e2e-smtp-password', deadMansSwitch: hook('/dead-mans-switch'),
  };
  for (const [receiver, value] of Object.entries(credentials)) writeFileSync(join(dir, RECEIVER_CREDENTIALS[receiver as CredentialReceiver].secretKey), value);

  const config = moveFiles(for025(deployedConfig, hook('/dead-mans-switch')), dir) as Json;
  config.global = { ...config.global, pagerduty_url: hook('/pagerduty') };
  config.route = { ...config.route, group_wait: `${GROUP_WAIT_S}s`, group_interval: `${GROUP_WAIT_S}s` };
  expect(differences(deployedConfig, config).map((p) => p.replace(/\[\d+\]/g, '[]')).filter((p, i, all) => all.indexOf(p) === i).sort()).toEqual([
    'global.pagerduty_url',
    'receivers[].email_configs[].auth_password_file',
    'receivers[].pagerduty_configs[].routing_key_file',
    'receivers[].slack_configs[].api_url_file',
    'receivers[].webhook_configs[].url',
    'receivers[].webhook_configs[].url_file',
    'route.group_interval',
    'route.group_wait',
  ]);

  alertmanager = await startAlertmanager(config, children);
  prometheus = await startPrometheus({
    global: { scrape_interval: `${SCRAPE_S}s`, evaluation_interval: `${EVALUATION_S}s` },
    rule_files: ['rules.yml'],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [alertmanager.url.replace('http://', '')] }] }] },
    // As a ServiceMonitor's target is labelled: its job is the Service's name.
    scrape_configs: [{ job_name: 'api', static_configs: [{ targets: [`127.0.0.1:${target}`], labels: { namespace: production.app.namespace } }] }],
    // Alerts are re-sent every second, not every minute: an alert first evaluated before Prometheus
    // has found Alertmanager is dropped, and would wait that long.
  }, { 'rules.yml': shortenedRules(generalRules.spec) }, children, [`--rules.alert.resend-delay=${EVALUATION_S}s`]);
  const logs = () => `--- prometheus\n${prometheus?.logs()}\n--- alertmanager\n${alertmanager?.logs()}\n--- received\n${JSON.stringify(received)}`;

  // A webhook carries the alerts' labels; Slack's message, the group's title ("[FIRING:1] <alertname> …").
  const alertsAt = (path: string, name: string) => received.filter((r) => r.path === path
    && (r.body.alerts?.some((a: Json) => a.labels.alertname === name) || r.body.attachments?.some((a: Json) => String(a.title).includes(` ${name} `))));
  await waitFor('the Watchdog at the dead man\'s switch', 30_000, () => alertsAt('/dead-mans-switch', WATCHDOG).length > 0, { context: logs });
  // The target is scraped and up before it goes down.
  await waitFor('the target to be up', 30_000, async () => {
    const r = await fetch(`${prometheus?.url}/api/v1/query?query=up{job="api"}`).then((x) => x.json() as Promise<Json>).catch(() => undefined);
    return r?.data?.result?.[0]?.value?.[1] === '1';
  }, { context: logs });

  targetServer.closeAllConnections();
  await new Promise((resolve) => targetServer.close(resolve));
  const downAt = Date.now();
  const computedS = SCRAPE_S + EVALUATION_S + FOR_S + GROUP_WAIT_S;
  const slack = await waitFor(`${ALERT} at Slack`, (computedS + SLACK_S) * 1000, () => alertsAt('/slack', ALERT)[0], { context: logs });
  expect((slack.at - downAt) / 1000).toBeLessThan(computedS + SLACK_S);
  const text = String(slack.body.attachments[0].text);
  expect(text).toContain(`*warning* api: Prometheus cannot scrape 127.0.0.1:${target} (${production.app.namespace}/api)`);
  expect(text).toContain(`runbooks/${ALERT}.md`);
  expect(slack.body.channel).toBe(production.alerting.slack?.channel);
  // A warning never pages: after the group's wait has passed again, PagerDuty has heard nothing at
  // all (its events carry neither labels nor a title, so any request there would be a page).
  await sleep((GROUP_WAIT_S + EVALUATION_S + 1) * 1000);
  expect(received.filter((r) => r.path === '/pagerduty')).toEqual([]);
}, 120_000);
