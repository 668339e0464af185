/**
 * Alertmanager's configuration as each environment's cluster gets it: read from the synthesized
 * kube-prometheus-stack Application in argocd/<env>/ and merged over the chart's default
 * configuration the way Helm does, then given to Debian's amtool 0.25 (check-config, and
 * `config routes test` for every severity) and to a real Alertmanager 0.25 on loopback for the
 * inhibition, which amtool cannot test. 0.25 lacks one field the deployed v0.34.0 has, the
 * webhook's `url_file`: the copy they get has it as `url`, the only difference, asserted.
 * Then the Secret the receivers read: every file a receiver reads is a key External Secrets writes
 * into the Secret mounted there, from the entries Argo CD's notifications read too.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { repositoryRoot } from '../charts/common/shipped-files';
import {
  ALERTMANAGER_SECRET, ALERTMANAGER_TIMING, GROUP_BY, RECEIVER_CREDENTIALS, RECEIVER_NAMES, WATCHDOG_ALERT, type AlertmanagerConfig,
} from '../charts/gitops/alertmanager-config';
import { ROOT_WAVES } from '../charts/gitops/gitops-chart';
import { NOTIFICATIONS_SECRET } from '../charts/gitops/notifications';
import { PLATFORM_RELEASES } from '../charts/gitops/platform-releases';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { buildModel, type Model } from '../environments/model/model';
import { parseDuration } from '../environments/quantity';
import type { K8sObject } from '../pipeline/k8s-object';
import { argocdObjects, modelObjects } from '../pipeline/synth';
import { amtool, differences, for025, renderTemplate, routesOf, startAlertmanager } from './support/debian-alertmanager';
import { AS_PRODUCTION, boxDesigner, variantModel } from './support/fixtures';
import { coalesce } from './support/helm-values';
import { only } from './support/synth-construct';
import { waitFor } from './support/wait';

type Json = Record<string, any>;

const SHARED = process.env.SHARED_DIR ?? resolve(repositoryRoot(), '..', 'shared');
const KPS = PLATFORM_RELEASES['kube-prometheus-stack'];
const chartDefaults = parse(readFileSync(join(SHARED, 'charts', `${KPS.chart}-${KPS.version}`, 'values.yaml'), 'utf8')) as Json;

const isMap = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

interface Deployed {
  readonly name: string;
  readonly model: Model;
  /** argocd/<env>/. */
  readonly argocd: K8sObject[];
  /** dist/<env>/. */
  readonly objects: K8sObject[];
  /** kube-prometheus-stack's values, as the Application carries them. */
  readonly values: Json;
  /** What Alertmanager loads: the chart's default configuration with ours merged over it. */
  readonly config: AlertmanagerConfig & Json;
}

function deployed(model: Model): Deployed {
  const synthesized = modelObjects(model);
  const argocd = argocdObjects(model, synthesized);
  const values = only(argocd, 'Application', 'kube-prometheus-stack').spec.source.helm.valuesObject as Json;
  const config = coalesce((chartDefaults.alertmanager as Json).config, values.alertmanager.config) as AlertmanagerConfig & Json;
  return { name: model.env.name, model, argocd, objects: synthesized.map((o) => o.object), values, config };
}

const real = Object.fromEntries(resolveEnvironments(environments, process.cwd()).map((env) => [env.name, deployed(buildModel(env))]));
const ENVS = Object.keys(real).sort();

/** Where the webhook's URL points in the copies for 0.25: a closed port, nothing is delivered there. */
const UNUSED_URL = 'http://127.0.0.1:9/dead-mans-switch';

/** Every `…_file` path of the configuration, with where it is. */
function filesOf(value: unknown, path = ''): { path: string; file: string }[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => filesOf(v, `${path}[${i}]`));
  if (!isMap(value)) return [];
  return Object.entries(value).flatMap(([k, v]) => (k.endsWith('_file') && typeof v === 'string'
    ? [{ path: `${path}.${k}`, file: v }] : filesOf(v, path ? `${path}.${k}` : k)));
}

/** The receivers routes name, the root's included. */
const routedReceivers = (route: Json): string[] => [route.receiver, ...((route.routes ?? []) as Json[]).flatMap(routedReceivers)];

/** The labels of an alert of the synthesized PrometheusRules, as it fires (its static labels and its name). */
function firingLabels(objects: readonly K8sObject[], alert: string): Record<string, string> {
  const rules = objects.filter((o) => o.kind === 'PrometheusRule').flatMap((o) => (o.spec.groups as Json[]).flatMap((g) => g.rules as Json[]));
  const found = rules.filter((r) => r.alert === alert);
  if (found.length !== 1) throw new Error(`expected one alert ${alert} in the synthesized PrometheusRules, found ${found.length}`);
  return { alertname: alert, ...(found[0].labels as Record<string, string>) };
}

/** A routine alert of the application: its labels by severity. */
const appAlert = (d: Deployed, severity: string) => ({ alertname: 'ExampleFailure', namespace: d.model.identity.namespace, service: 'api', severity });

/** What each kind of alert must reach, per environment (the receivers amtool prints, in order). */
const EXPECTED_ROUTES: Record<string, Record<string, readonly string[]>> = {
  production: {
    critical: ['pagerduty', 'slack'], warning: ['slack'], info: ['email'], watchdog: ['dead-mans-switch'], unclassified: ['slack'],
  },
  // Never PagerDuty: every alert goes to the channel, the Watchdog nowhere (no dead man's switch).
  staging: {
    critical: ['slack'], warning: ['slack'], info: ['slack'], watchdog: ['null'], unclassified: ['slack'],
  },
};

test('the environments tested are the ones with expected routes', () => {
  expect(ENVS).toEqual(Object.keys(EXPECTED_ROUTES).sort());
});

describe.each(ENVS)('%s', (name) => {
  const d = real[name];
  const expected = EXPECTED_ROUTES[name];
  const for025Config = for025(d.config, UNUSED_URL);

  test('what Alertmanager loads is our configuration alone: Helm\'s merge over the chart\'s default adds nothing', () => {
    expect(d.config).toEqual(d.values.alertmanager.config);
    // The chart renders it as it is (tplConfig off: no Helm templating of the Go templates in it).
    expect(d.values.alertmanager).not.toHaveProperty('tplConfig');
    expect((chartDefaults.alertmanager as Json).tplConfig).toBe(false);
  });

  test('amtool 0.25 accepts it; the one change it needs is the webhook\'s url_file as url', () => {
    const webhooks = d.config.receivers.flatMap((r, i) => (r.webhook_configs ?? []).map((_w, j) => `receivers[${i}].webhook_configs[${j}]`));
    expect(differences(d.config, for025Config)).toEqual(webhooks.flatMap((w) => [`${w}.url`, `${w}.url_file`]).sort());
    const check = amtool(for025Config, ['check-config', 'config.yml']);
    expect(check.output).toContain('SUCCESS');
    expect(check.output).toContain(`${d.config.receivers.length} receivers`);
    expect(check.output).toContain(`${d.config.inhibit_rules.length} inhibit rules`);
    expect(check.status).toBe(0);
    if (webhooks.length > 0) {
      // And it is needed: 0.25 refuses the field the deployed Alertmanager reads.
      const unchanged = amtool(d.config, ['check-config', 'config.yml']);
      expect(unchanged.status).not.toBe(0);
      expect(unchanged.output).toContain('field url_file not found');
    }
  });

  test.each(['critical', 'warning', 'info'] as const)('a %s alert of the application reaches its receivers', (severity) => {
    expect(routesOf(for025Config, appAlert(d, severity))).toEqual(expected[severity]);
  });

  test('the Watchdog, with the labels it fires with, reaches the dead man\'s switch and nothing else, whatever its severity', () => {
    const watchdog = firingLabels(d.objects, WATCHDOG_ALERT);
    expect(routesOf(for025Config, watchdog)).toEqual(expected.watchdog);
    for (const severity of ['critical', 'warning', 'none']) expect(routesOf(for025Config, { ...watchdog, severity })).toEqual(expected.watchdog);
  });

  test('an alert without a severity, or with one of its own, reaches the default receiver', () => {
    expect(routesOf(for025Config, { alertname: 'FromElsewhere', namespace: 'falco' })).toEqual(expected.unclassified);
    expect(routesOf(for025Config, { alertname: 'FromElsewhere', severity: 'high' })).toEqual(expected.unclassified);
  });

  test('every severity the environment\'s own alerts use has its route (the unclassified fallback is for the others)', () => {
    const severities = new Set(d.objects.filter((o) => o.kind === 'PrometheusRule')
      .flatMap((o) => (o.spec.groups as Json[]).flatMap((g) => (g.rules as Json[]).filter((r) => r.alert).map((r) => r.labels?.severity as string))));
    expect(severities.size).toBeGreaterThan(0);
    const routed = new Set(d.config.route.routes.flatMap((r) => r.matchers ?? []));
    for (const s of severities) expect(routed).toContain(`severity="${s}"`);
  });

  test('the messages: Slack shows each alert\'s severity, summary, namespace and service, description and runbook; PagerDuty links the runbook', () => {
    const alert = (labels: Record<string, string>, annotations: Record<string, string>) => ({ status: 'firing', labels, annotations });
    const runbook = 'https://git.example/runbooks/ExampleFailure.md';
    const data = {
      receiver: 'slack', status: 'firing', externalURL: 'http://alertmanager.example',
      alerts: [
        alert(appAlert(d, 'critical'), { summary: 'api answers 5xx', description: 'api: 12.5% of requests failed', runbook_url: runbook }),
        alert({ alertname: 'ExampleFailure', severity: 'critical' }, { summary: 'no namespace', description: 'seen' }),
      ],
      groupLabels: { alertname: 'ExampleFailure' }, commonLabels: { alertname: 'ExampleFailure', severity: 'critical' }, commonAnnotations: { runbook_url: runbook },
    };
    const [slack] = d.config.receivers.flatMap((r) => r.slack_configs ?? []);
    if (slack) {
      const text = renderTemplate(slack.text, data);
      expect(text.status).toBe(0);
      expect(text.output).toBe(`*critical* api answers 5xx (${d.model.identity.namespace}/api)\napi: 12.5% of requests failed\nRunbook: ${runbook}\n`
        + '*critical* no namespace\nseen\n');
    }
    for (const pagerduty of d.config.receivers.flatMap((r) => r.pagerduty_configs ?? [])) {
      expect(pagerduty.links.map((l) => renderTemplate(l.href, data).output)).toEqual([runbook]);
    }
  });

  test('every receiver is routed to, every route names a receiver, and only configured receivers exist', () => {
    const defined = d.config.receivers.map((r) => r.name).sort();
    expect([...new Set(routedReceivers(d.config.route))].sort()).toEqual(defined);
    const { alerting } = d.model.env;
    const configured = [
      ...(alerting.pagerduty ? [RECEIVER_NAMES.pagerduty] : []), ...(alerting.slack ? [RECEIVER_NAMES.slack] : []),
      ...(alerting.email ? [RECEIVER_NAMES.email] : []), alerting.deadMansSwitch ? RECEIVER_NAMES.deadMansSwitch : RECEIVER_NAMES.none,
    ];
    expect(defined).toEqual([...configured].sort());
    if (!d.model.env.production) expect(JSON.stringify(d.config).toLowerCase()).not.toContain('pagerduty');
  });

  test('grouped by alert, namespace and service; the group wait every alert gets is the exported one, at most 30 s', () => {
    const { route } = d.config;
    expect(route.group_by).toEqual([...GROUP_BY]);
    expect(route.group_wait).toBe(ALERTMANAGER_TIMING.groupWait);
    // No route waits longer: a critical's time to page has group_wait as its last term.
    expect(route.routes.filter((r) => r.group_wait !== undefined || r.group_by !== undefined || r.routes !== undefined)).toEqual([]);
    expect(parseDuration(route.group_wait as string)).toBeLessThanOrEqual(30);
    expect(parseDuration(route.group_interval as string)).toBeLessThanOrEqual(parseDuration(route.repeat_interval as string));
    const critical = route.routes.filter((r) => r.matchers?.includes('severity="critical"'));
    expect(critical.map((r) => r.repeat_interval)).toEqual(critical.map(() => ALERTMANAGER_TIMING.criticalRepeatInterval));
  });

  test('the Watchdog is first, alone, and repeated often enough for the switch to notice silence in minutes', () => {
    const [first, ...rest] = d.config.route.routes;
    expect(first.matchers).toEqual([`alertname="${WATCHDOG_ALERT}"`]);
    expect(first.continue).toBeUndefined();
    expect(rest.flatMap((r) => r.matchers ?? []).filter((m) => m.includes(WATCHDOG_ALERT))).toEqual([]);
    if (d.model.env.alerting.deadMansSwitch) {
      const repeat = parseDuration(first.repeat_interval as string);
      expect(repeat).toBeGreaterThanOrEqual(60);
      expect(repeat).toBeLessThanOrEqual(300);
      expect(parseDuration(first.group_interval as string)).toBeLessThanOrEqual(repeat);
      // A resolved Watchdog means the pipeline stopped: telling the switch would count as a sign of life.
      const receiver = d.config.receivers.find((r) => r.name === first.receiver);
      expect(receiver?.webhook_configs?.map((w) => w.send_resolved)).toEqual([false]);
    }
  });

  test('every credential is read from a file of the mounted Secret that External Secrets fills; none is in the configuration', () => {
    const spec = d.values.alertmanager.alertmanagerSpec;
    const [mount] = spec.volumeMounts as Json[];
    const [volume] = spec.volumes as Json[];
    expect(volume).toEqual({ name: mount.name, secret: { secretName: ALERTMANAGER_SECRET, optional: true } });
    const secret = d.argocd.find((o) => o.kind === 'ExternalSecret' && o.metadata.name === ALERTMANAGER_SECRET) as K8sObject;
    expect(secret.metadata.namespace).toBe(d.model.env.monitoringNamespace);
    expect(secret.spec.target.name).toBe(ALERTMANAGER_SECRET);
    const keys = (secret.spec.data as Json[]).map((e) => e.secretKey as string);
    const files = filesOf(d.config);
    expect(files.length).toBeGreaterThan(0);
    for (const { file } of files) expect(file.startsWith(`${mount.mountPath}/`) && keys.includes(file.slice(mount.mountPath.length + 1))).toBe(true);
    expect(files.map((f) => f.file.slice(mount.mountPath.length + 1)).sort()).toEqual([...keys].sort());
    // The literal forms of the same settings.
    const text = JSON.stringify(d.config);
    for (const literal of ['routing_key"', 'service_key"', 'api_url"', 'auth_password"', 'auth_secret"', '"url"']) expect(text).not.toContain(literal);
  });

  test('the Secret\'s entries: Slack\'s and PagerDuty\'s are those Argo CD\'s notifications read, the others their own', () => {
    const secret = only(d.argocd.filter((o) => o.metadata.name === ALERTMANAGER_SECRET), 'ExternalSecret');
    const notifications = only(d.argocd.filter((o) => o.metadata.name === NOTIFICATIONS_SECRET), 'ExternalSecret');
    const refs = (o: K8sObject) => new Map((o.spec.data as Json[]).map((e) => [e.secretKey as string, e.remoteRef as Json]));
    const ours = refs(secret);
    for (const [key, ref] of refs(notifications)) expect(ours.get(key)).toEqual(ref);
    const { alerting, externalSecrets } = d.model.env;
    const prefix = externalSecrets?.keyPrefix;
    if (alerting.email?.secretName) {
      expect(ours.get(RECEIVER_CREDENTIALS.email.secretKey)).toMatchObject({ key: `${prefix}/${alerting.email.secretName}`, property: 'password' });
    }
    if (alerting.deadMansSwitch) {
      expect(ours.get(RECEIVER_CREDENTIALS.deadMansSwitch.secretKey)).toMatchObject({ key: `${prefix}/${alerting.deadMansSwitch.secretName}`, property: 'url' });
    }
    expect(secret.spec.secretStoreRef).toEqual(notifications.spec.secretStoreRef);
    expect(secret.spec.refreshInterval).toBe(externalSecrets?.refreshInterval);
  });

  test('the Secret\'s wave: after every operator and the application, with the notifications\' (the store exists by then)', () => {
    const secret = only(d.argocd.filter((o) => o.metadata.name === ALERTMANAGER_SECRET), 'ExternalSecret');
    const wave = Number(secret.metadata.annotations?.['argocd.argoproj.io/sync-wave']);
    expect(wave).toBe(ROOT_WAVES.alertReceivers);
    expect(wave).toBeGreaterThan(Math.max(...Object.values(PLATFORM_RELEASES).map((r) => r.wave), ROOT_WAVES.application));
    expect(wave).toBe(ROOT_WAVES.notifications);
    // The root Application may write it there.
    const bootstrap = only(d.argocd, 'AppProject', d.model.delivery.bootstrapProject);
    expect(bootstrap.spec.destinations.map((x: Json) => x.namespace)).toContain(d.model.env.monitoringNamespace);
  });

  describe('inhibition, in a real Alertmanager', () => {
    const children: ChildProcess[] = [];
    afterAll(() => { for (const c of children) c.kill('SIGKILL'); });

    test('a critical holds back the warnings and info alerts of its namespace and service, a warning the info alerts; nothing else', async () => {
      const am = await startAlertmanager(for025Config, children);
      try {
        const ns = d.model.identity.namespace;
        const watchdog = firingLabels(d.objects, WATCHDOG_ALERT);
        const alerts: Record<string, Record<string, string>> = {
          CriticalApi: { severity: 'critical', namespace: ns, service: 'api' },
          WarningApi: { severity: 'warning', namespace: ns, service: 'api' },
          InfoApi: { severity: 'info', namespace: ns, service: 'api' },
          OtherCriticalApi: { severity: 'critical', namespace: ns, service: 'api' },
          WarningRedis: { severity: 'warning', namespace: ns, service: 'redis' },
          WarningApiElsewhere: { severity: 'warning', namespace: 'elsewhere', service: 'api' },
          // Without `service`, a critical holds back nothing, not even a warning without one.
          CriticalUnlabelled: { severity: 'critical', namespace: ns },
          WarningUnlabelled: { severity: 'warning', namespace: ns },
          WarningCache: { severity: 'warning', namespace: ns, service: 'cache' },
          InfoCache: { severity: 'info', namespace: ns, service: 'cache' },
          // A critical of the Watchdog's own namespace and service: it holds back an info alert there, not the Watchdog.
          CriticalWatchdogService: { severity: 'critical', namespace: watchdog.namespace, service: watchdog.service },
          InfoWatchdogService: { severity: 'info', namespace: watchdog.namespace, service: watchdog.service },
        };
        const posted = [...Object.entries(alerts).map(([alertname, labels]) => ({ alertname, ...labels })), watchdog];
        const post = await fetch(`${am.url}/api/v2/alerts`, {
          method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify(posted.map((labels) => ({ labels, annotations: { summary: labels.alertname } }))),
        });
        expect(post.status).toBe(200);
        /** Alert name → the names of the alerts inhibiting it. */
        const inhibitions = async () => {
          const r = await fetch(`${am.url}/api/v2/alerts`, { signal: AbortSignal.timeout(5_000) });
          const got = await r.json() as { labels: Record<string, string>; fingerprint: string; status: { inhibitedBy: string[] } }[];
          const byFingerprint = new Map(got.map((a) => [a.fingerprint, a.labels.alertname]));
          return new Map(got.map((a) => [a.labels.alertname, a.status.inhibitedBy.map((fp) => byFingerprint.get(fp) ?? fp).sort()]));
        };
        const held = ['WarningApi', 'InfoApi', 'InfoCache', 'InfoWatchdogService'];
        // The inhibitor learns of sources as it reads the alerts posted: wait until it holds back all it should.
        const state = await waitFor('the inhibitions to apply', 10_000, async () => {
          const s = await inhibitions();
          return s.size === posted.length && held.every((a) => (s.get(a) ?? []).length > 0) ? s : undefined;
        }, { context: am.logs });
        // Alertmanager names the one source it found; either critical of api will do.
        const api = new Set(['CriticalApi', 'OtherCriticalApi']);
        const named = (a: string) => (state.get(a) ?? []).map((n) => (api.has(n) ? 'a critical of api' : n));
        expect(Object.fromEntries([...state.keys()].map((a) => [a, named(a)]))).toEqual({
          CriticalApi: [],
          WarningApi: ['a critical of api'],
          InfoApi: ['a critical of api'],
          OtherCriticalApi: [],
          WarningRedis: [],
          WarningApiElsewhere: [],
          CriticalUnlabelled: [],
          WarningUnlabelled: [],
          WarningCache: [],
          InfoCache: ['WarningCache'],
          CriticalWatchdogService: [],
          InfoWatchdogService: ['CriticalWatchdogService'],
          [WATCHDOG_ALERT]: [],
        });
      } finally {
        am.stop();
      }
    }, 30_000);
  });
});

test('the deployed Alertmanager reads url_file: the chart runs v0.34.0, newer than 0.26.0, which added it, and no value of ours changes the image', () => {
  // Alertmanager v0.34.0 notify/webhook/config.go:40 `URLFile string yaml:"url_file"` (read per
  // notification, notify/webhook/webhook.go:118); the Prometheus operator keeps it from 0.26.0 on
  // (prometheus-operator release-0.93 pkg/alertmanager/amcfg.go:2979, types.go:140).
  const tag = String(chartDefaults.alertmanager.alertmanagerSpec.image.tag);
  expect(tag).toBe('v0.34.0');
  const [major, minor] = tag.replace(/^v/, '').split('.').map(Number);
  expect(major > 0 || minor >= 26).toBe(true);
  for (const d of Object.values(real)) expect(d.values.alertmanager.alertmanagerSpec).not.toHaveProperty('image');
});

describe('receivers missing from the configuration fall back to those present', () => {
  test('email only, without authentication: everything to email, no Secret, no mount', () => {
    const d = deployed(variantModel(boxDesigner));
    const config = for025(d.config, UNUSED_URL);
    expect(amtool(config, ['check-config', 'config.yml']).status).toBe(0);
    for (const severity of ['critical', 'warning', 'info']) expect(routesOf(config, appAlert(d, severity))).toEqual(['email']);
    expect(routesOf(config, { alertname: WATCHDOG_ALERT })).toEqual(['null']);
    expect(d.argocd.filter((o) => o.metadata.name === ALERTMANAGER_SECRET)).toEqual([]);
    expect(d.values.alertmanager.alertmanagerSpec).not.toHaveProperty('volumes');
    expect(filesOf(d.config)).toEqual([]);
  });

  test('production with PagerDuty and email, no Slack: a critical pages and is mailed, the rest is mailed', () => {
    const d = deployed(variantModel(boxDesigner, AS_PRODUCTION));
    const config = for025(d.config, UNUSED_URL);
    expect(amtool(config, ['check-config', 'config.yml']).status).toBe(0);
    expect(routesOf(config, appAlert(d, 'critical'))).toEqual(['pagerduty', 'email']);
    expect(routesOf(config, appAlert(d, 'warning'))).toEqual(['email']);
    expect(routesOf(config, appAlert(d, 'info'))).toEqual(['email']);
    expect(routesOf(config, { alertname: WATCHDOG_ALERT, severity: 'info' })).toEqual(['dead-mans-switch']);
  });
});
