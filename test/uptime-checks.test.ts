/**
 * The uptime checks (charts/observability/uptime-checks.ts, blackbox-exporter.ts) as synthesized for
 * each environment: every public host is checked by every prober, each Probe reaches a prober the
 * StatefulSet and its headless Service really give that name, with a module the exporter's
 * configuration defines and Debian's blackbox_exporter accepts; and the alerts, run by promtool on
 * series labelled as the Probes label them, fire and stay silent when they must.
 * test/blackbox-exporter-live.test.ts runs the synthesized module against real TLS servers.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { BLACKBOX_CONFIG_FILE, HTTPS_MODULE, HTTPS_UNVERIFIED_MODULE, PROBE_TIMEOUT_SECONDS } from '../charts/observability/blackbox-exporter';
import { repositoryFilesUrl, runbookUrl } from '../charts/observability/runbooks';
import {
  CERTIFICATE_EXPIRING_ALERT, certificateWarningSeconds, PROBE_FAILED_ALERT, PROBER_DOWN_ALERT, UPTIME_JOB, UPTIME_LABEL_NAME,
} from '../charts/observability/uptime-checks';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { hostRoutes } from '../environments/model/gateway';
import { FIXED_NAMES, UPTIME_PROBERS } from '../environments/model/names';
import { PUBLICLY_TRUSTED_ISSUER } from '../environments/model/tls';
import { parseDuration } from '../environments/quantity';
import type { Environment } from '../environments/schema';
import type { K8sObject } from '../pipeline/k8s-object';
import { selectorMatches } from '../pipeline/policy';
import { synthObjects } from '../pipeline/synth';
import { checkRules, testRules, untestedAlerts, type RuleTest } from './support/alert-rules';
import { mountedBlackboxConfig } from './support/blackbox-config';
import { only } from './support/synth-construct';

const envs = resolveEnvironments(environments, process.cwd());
const production = envs.find((e) => e.name === 'production') as Environment;
const objectsOf = (env: Environment) => synthObjects(env).map((o) => o.object);
const probesOf = (objects: readonly K8sObject[]) => objects.filter((o) => o.kind === 'Probe');

/**
 * Each prober's address as the cluster resolves it: its Service's name (`<service>.<namespace>.svc.<domain>:<port>`),
 * a Service that selects the prober's pods only, on the port their container serves.
 */
function proberAddresses(env: Environment, objects: readonly K8sObject[]): Map<string, string> {
  const addresses = new Map<string, string>();
  for (const prober of UPTIME_PROBERS) {
    const deployment = only(objects, 'Deployment', prober);
    const service = only(objects, 'Service', prober);
    const labels = deployment.spec.template.metadata.labels;
    const port = service.spec.ports[0];
    expect(deployment.spec.replicas).toBe(1);
    expect(selectorMatches({ matchLabels: service.spec.selector }, labels)).toBe(true);
    for (const other of UPTIME_PROBERS.filter((p) => p !== prober)) {
      expect(selectorMatches({ matchLabels: service.spec.selector }, only(objects, 'Deployment', other).spec.template.metadata.labels)).toBe(false);
    }
    const containerPort = deployment.spec.template.spec.containers[0].ports.find((p: K8sObject) => p.name === port.targetPort);
    expect(containerPort?.containerPort).toBe(port.port);
    addresses.set(prober, `${service.metadata.name}.${service.metadata.namespace}.svc.${env.clusterDomain}:${port.port}`);
  }
  return addresses;
}

describe.each(envs.map((e) => [e.name, e] as const))('%s', (_name, env) => {
  const objects = objectsOf(env);
  const probes = probesOf(objects);

  test('every public host is checked over HTTPS from every prober, by its own Probe, and nothing else is', () => {
    const addresses = proberAddresses(env, objects);
    expect(addresses.size).toBe(2);
    const checks = probes.map((p) => `${p.spec.targets.staticConfig.static.join(' ')} from ${p.spec.targets.staticConfig.labels.prober} at ${p.spec.prober.url}`).sort();
    expect(checks).toEqual(env.hosts.flatMap((h) => [...addresses].map(([prober, a]) => `https://${h.hostname}/ from ${prober} at ${a}`)).sort());
    for (const p of probes) {
      expect(p.spec.prober).toEqual({ url: expect.any(String), scheme: 'http', path: '/probe' });
      expect(p.spec.jobName).toBe(UPTIME_JOB);
      expect(p.spec.interval).toBe('30s');
      // The module's own timeout decides, within the scrape.
      expect(parseDuration(p.spec.scrapeTimeout)).toBeGreaterThan(PROBE_TIMEOUT_SECONDS);
      expect(parseDuration(p.spec.scrapeTimeout)).toBeLessThanOrEqual(parseDuration(p.spec.interval));
      expect(p.metadata.labels['app.kubernetes.io/name']).toBe(UPTIME_LABEL_NAME);
    }
  });

  test('each check is labelled with the HTTPRoute of its host, a service of its own (not the route\'s or the Certificate\'s name) and the prober that asks', () => {
    // The routes to the services; not the redirect of plain HTTP, which names every host too.
    const routes = objects.filter((o) => o.kind === 'HTTPRoute' && (o.spec.rules as K8sObject[]).some((r) => r.backendRefs));
    for (const p of probes) {
      const host = new URL(p.spec.targets.staticConfig.static[0] as string).hostname;
      const route = routes.filter((r) => (r.spec.hostnames as string[]).includes(host));
      expect(route).toHaveLength(1);
      expect(p.spec.targets.staticConfig.labels).toEqual({
        service: `uptime-${route[0].metadata.name}`, route: route[0].metadata.name, prober: expect.stringMatching(/^blackbox-exporter-[01]$/),
      });
      // A critical holds back the warnings of its service: the host's being down must not hold back the certificate's alerts.
      expect(objects.filter((o) => o.kind === 'Certificate').map((c) => c.metadata.name)).not.toContain(p.spec.targets.staticConfig.labels.service);
      expect(UPTIME_PROBERS).toContain(p.spec.targets.staticConfig.labels.prober);
    }
  });

  test('the Probes\' module is the one the mounted configuration defines, and blackbox_exporter accepts the file', () => {
    const config = mountedBlackboxConfig(objects);
    for (const prober of UPTIME_PROBERS) expect(mountedBlackboxConfig(objects, prober)).toBe(config);
    expect([...new Set(probes.map((p) => p.spec.module))]).toEqual(Object.keys(parse(config).modules));
    const dir = mkdtempSync(join(tmpdir(), 'shipshape-blackbox-'));
    try {
      writeFileSync(join(dir, BLACKBOX_CONFIG_FILE), config);
      const r = spawnSync('prometheus-blackbox-exporter', ['--config.check', `--config.file=${join(dir, BLACKBOX_CONFIG_FILE)}`], { encoding: 'utf8', timeout: 30_000 });
      expect(`${r.stdout}${r.stderr}`).toMatch(/Config file is ok/);
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('certificates are verified against the system CAs where the issuer is publicly trusted, and only there', () => {
    const trusted = PUBLICLY_TRUSTED_ISSUER[env.tls.issuer];
    expect(trusted).toBe(env.tls.issuer === 'letsencrypt-production');
    const [[name, module]] = Object.entries(parse(mountedBlackboxConfig(objects)).modules) as [string, K8sObject][];
    expect(name).toBe(trusted ? HTTPS_MODULE : HTTPS_UNVERIFIED_MODULE);
    // No CA of its own: what visitors' clients trust.
    expect(module.http.tls_config).toEqual({ insecure_skip_verify: !trusted });
    expect(module.http.fail_if_not_ssl).toBe(true);
    expect(module.http.follow_redirects).toBe(false);
  });

  test('promtool check rules accepts the uptime rules', () => {
    const r = checkRules(only(objects, 'PrometheusRule', UPTIME_LABEL_NAME));
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });
});

test('production\'s hosts and issuer are the ones the checks are about', () => {
  expect(production.tls.issuer).toBe('letsencrypt-production');
  expect(hostRoutes(production).length).toBeGreaterThan(0);
});

test('a served certificate warns two weeks before expiry, or at half of a shorter renewal window', () => {
  expect(certificateWarningSeconds('720h')).toBe(14 * 86400);
  expect(certificateWarningSeconds('240h')).toBe(5 * 86400);
  expect(certificateWarningSeconds(production.tls.renewBefore)).toBe(14 * 86400);
});

describe('production alerts, run by promtool', () => {
  const objects = objectsOf(production);
  const rule = only(objects, 'PrometheusRule', UPTIME_LABEL_NAME);
  const NS = production.app.namespace;
  const runbook = (alert: string) => runbookUrl(repositoryFilesUrl(production.delivery.repoURL, production.delivery.targetRevision), alert);
  const probes = probesOf(objects);
  const host = production.hosts[0].hostname;
  const [first, second] = probes.filter((p) => p.spec.targets.staticConfig.static[0] === `https://${host}/`);
  /** A series of one check, with the labels Prometheus gives it: the operator's job, namespace and instance, the Probe's static labels. */
  const series = (metric: string, probe: K8sObject, values: string) => ({
    series: `${metric}{${Object.entries({
      job: probe.spec.jobName, namespace: probe.metadata.namespace, instance: probe.spec.targets.staticConfig.static[0],
      ...probe.spec.targets.staticConfig.labels,
    }).map(([k, v]) => `${k}="${v as string}"`).join(',')}}`,
    values,
  });
  const route = first.spec.targets.staticConfig.labels.route as string;
  const hostLabels = { namespace: NS, service: first.spec.targets.staticConfig.labels.service as string, route, instance: `https://${host}/` };
  const DAY = 86400;

  const probeFailed: RuleTest[] = [
    {
      name: 'both probers see 503 from the first minute on: a page after two minutes more',
      interval: '30s',
      input_series: [
        series('probe_success', first, '1 1 0x20'),
        series('probe_success', second, '1 1 0x20'),
        series('probe_http_status_code', first, '200 200 503x20'),
        series('probe_http_status_code', second, '200 200 503x20'),
      ],
      alert_rule_test: [
        { eval_time: '2m30s', alertname: PROBE_FAILED_ALERT, exp_alerts: [] },
        {
          eval_time: '3m',
          alertname: PROBE_FAILED_ALERT,
          exp_alerts: [{
            exp_labels: { severity: 'critical', ...hostLabels },
            exp_annotations: {
              summary: `https://${host}/ is down: no prober gets a good answer`,
              description: `Every prober has failed to get a 2xx or 3xx answer over HTTPS with a valid certificate from https://${host}/ (HTTPRoute ${route}) `
                + 'for 2 minutes. The last HTTP status was 503 (0: no HTTP answer at all, so DNS, the connection or TLS failed).',
              runbook_url: runbook(PROBE_FAILED_ALERT),
            },
          }],
        },
      ],
    },
    {
      name: 'one prober fails all along (its node, its network), the other gets answers: nobody is paged',
      interval: '30s',
      input_series: [series('probe_success', first, '0x40'), series('probe_success', second, '1x40')],
      alert_rule_test: [{ eval_time: '20m', alertname: PROBE_FAILED_ALERT, exp_alerts: [] }],
    },
    {
      name: 'both probers fail for a minute and a half (a proxy restarting): no page',
      interval: '30s',
      input_series: [series('probe_success', first, '1 0 0 0 1x20'), series('probe_success', second, '1 0 0 0 1x20')],
      alert_rule_test: [
        { eval_time: '1m30s', alertname: PROBE_FAILED_ALERT, exp_alerts: [] },
        { eval_time: '2m', alertname: PROBE_FAILED_ALERT, exp_alerts: [] },
        { eval_time: '4m', alertname: PROBE_FAILED_ALERT, exp_alerts: [] },
      ],
    },
  ];

  const expiring = (left: string) => ({
    exp_labels: { severity: 'warning', ...hostLabels },
    exp_annotations: {
      summary: `The certificate https://${host}/ serves expires in ${left}`,
      description: `https://${host}/ (HTTPRoute ${route}) served a certificate in the last hour that expires in ${left}. `
        + `cert-manager renews ${production.tls.renewBefore} before expiry: the renewal has failed, or the renewed certificate has not reached the Gateway.`,
      runbook_url: runbook(CERTIFICATE_EXPIRING_ALERT),
    },
  });
  const certificate: RuleTest[] = [
    {
      // promtool's clock starts at 0: an expiry of 13 days is 13 days after the start.
      name: 'a certificate with 13 days left warns; one with 15 days left does not',
      interval: '1m',
      input_series: [
        series('probe_ssl_earliest_cert_expiry', first, `${13 * DAY}x10`),
        series('probe_ssl_earliest_cert_expiry', second, `${13 * DAY}x10`),
      ],
      alert_rule_test: [{ eval_time: '5m', alertname: CERTIFICATE_EXPIRING_ALERT, exp_alerts: [expiring('12d 23h 55m 0s')] }],
    },
    {
      name: '15 days left',
      interval: '1m',
      input_series: [
        series('probe_ssl_earliest_cert_expiry', first, `${15 * DAY}x10`),
        series('probe_ssl_earliest_cert_expiry', second, `${15 * DAY}x10`),
      ],
      alert_rule_test: [{ eval_time: '5m', alertname: CERTIFICATE_EXPIRING_ALERT, exp_alerts: [] }],
    },
    {
      name: 'one check reached a proxy still serving the old certificate: warned for the hour after it, then silent',
      interval: '1m',
      input_series: [
        series('probe_ssl_earliest_cert_expiry', first, `${80 * DAY}x9 ${13 * DAY} ${80 * DAY}x80`),
        series('probe_ssl_earliest_cert_expiry', second, `${80 * DAY}x90`),
      ],
      alert_rule_test: [
        { eval_time: '5m', alertname: CERTIFICATE_EXPIRING_ALERT, exp_alerts: [] },
        { eval_time: '40m', alertname: CERTIFICATE_EXPIRING_ALERT, exp_alerts: [expiring('12d 23h 20m 0s')] },
        { eval_time: '75m', alertname: CERTIFICATE_EXPIRING_ALERT, exp_alerts: [] },
      ],
    },
  ];

  const blind = {
    exp_labels: { severity: 'warning', namespace: NS, service: FIXED_NAMES.blackboxExporter },
    exp_annotations: {
      summary: `The uptime checks of ${NS} are blind: no prober answers`,
      description: `Prometheus has had no answer from any ${FIXED_NAMES.blackboxExporter} prober for 10 minutes, so no public host of ${NS} is checked `
        + `and ${PROBE_FAILED_ALERT} cannot fire.`,
      runbook_url: runbook(PROBER_DOWN_ALERT),
    },
  };
  const proberDown: RuleTest[] = [
    {
      name: 'no prober answers its scrapes for ten minutes',
      interval: '1m',
      input_series: [series('up', first, '0x20'), series('up', second, '0x20')],
      alert_rule_test: [
        { eval_time: '9m', alertname: PROBER_DOWN_ALERT, exp_alerts: [] },
        { eval_time: '11m', alertname: PROBER_DOWN_ALERT, exp_alerts: [blind] },
      ],
    },
    {
      name: 'Prometheus never scrapes a prober at all (the Probes not picked up)',
      interval: '1m',
      input_series: [{ series: 'up{job="kubelet",namespace="kube-system"}', values: '1x20' }],
      alert_rule_test: [{ eval_time: '11m', alertname: PROBER_DOWN_ALERT, exp_alerts: [blind] }],
    },
    {
      name: 'one prober is down, the other checks',
      interval: '1m',
      input_series: [series('up', first, '0x20'), series('up', second, '1x20')],
      alert_rule_test: [{ eval_time: '15m', alertname: PROBER_DOWN_ALERT, exp_alerts: [] }],
    },
  ];

  const tests = [...probeFailed, ...certificate, ...proberDown];

  test('the series are labelled as the Probes label them: a check of each prober on the first host', () => {
    expect([first.spec.targets.staticConfig.labels.prober, second.spec.targets.staticConfig.labels.prober].sort())
      .toEqual([`${FIXED_NAMES.blackboxExporter}-0`, `${FIXED_NAMES.blackboxExporter}-1`]);
  });

  test.each([
    [PROBE_FAILED_ALERT, probeFailed],
    [CERTIFICATE_EXPIRING_ALERT, certificate],
    [PROBER_DOWN_ALERT, proberDown],
  ] as const)('%s fires and stays silent as it must', (_alert, cases) => {
    const r = testRules([rule], cases);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });

  test('every uptime alert has a case where it fires and one where it stays silent', () => {
    expect(untestedAlerts([rule], tests)).toEqual({ neverFires: [], neverSilent: [] });
  });

  test('the page comes within five minutes: critical, and `for` at most 3 minutes', () => {
    const alert = (rule.spec.groups as K8sObject[]).flatMap((g) => g.rules as K8sObject[]).find((r) => r.alert === PROBE_FAILED_ALERT)!;
    expect(alert.labels.severity).toBe('critical');
    expect(parseDuration(alert.for)).toBeLessThanOrEqual(180);
  });
});
