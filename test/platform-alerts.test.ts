/**
 * The platform's alerts (charts/observability/platform-alerts.ts) as synthesized for each
 * environment, run by promtool on series shaped as Prometheus stores them after scraping through
 * the platform charts' monitors (target labels added; with `honorLabels: false` an object's own
 * `namespace` renamed `exported_namespace`). Each alert fires with its labels and annotations and
 * stays silent where it must; the certificate thresholds are held at 22, 20 and 6 days left.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { repositoryRoot } from '../charts/common/shipped-files';
import { PLATFORM_RELEASES } from '../charts/gitops/platform-releases';
import { SYNC_RETRY } from '../charts/gitops/sync-policy';
import { PAGED_PRIORITIES } from '../charts/gitops/values/falcosidekick';
import {
  ARGO_DEGRADED_ALERT, ARGO_OUT_OF_SYNC_ALERT, ARGO_OUT_OF_SYNC_FOR, CERTIFICATE_CRITICAL_DAYS, CERTIFICATE_EXPIRING_ALERT,
  CERTIFICATE_NOT_READY_ALERT, CERTIFICATE_WARNING_DAYS, EXTERNAL_SECRET_ALERT, FALCO_ALERT, PLATFORM_ALERTS, TRIVY_ALERT,
} from '../charts/observability/platform-alerts';
import { repositoryFilesUrl, runbookUrl } from '../charts/observability/runbooks';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { buildModel } from '../environments/model/model';
import { parseDuration } from '../environments/quantity';
import type { Environment } from '../environments/schema';
import type { K8sObject } from '../pipeline/k8s-object';
import { argocdObjects, modelObjects, synthObjects } from '../pipeline/synth';
import { checkRules, testRules, untestedAlerts, type RuleTest } from './support/alert-rules';

const envs = resolveEnvironments(environments, process.cwd());
const DAY = 86400;

/** A rules unit test passed: promtool says so and exits 0 (its output is the message when not). */
function expectPass(r: { status: number | null; output: string }) {
  expect(r.output).toMatch(/SUCCESS/);
  expect(r.status).toBe(0);
}

/** `{a="b",…}` of a label map; an empty value is no label, as Prometheus stores it. */
const sel = (labels: Record<string, string>) => `{${Object.entries(labels).filter(([, v]) => v !== '').map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;

describe.each(envs.map((e) => [e.name, e] as const))('%s', (_name, env: Environment) => {
  const rule = synthObjects(env).map((o) => o.object).find((o) => o.kind === 'PrometheusRule' && o.metadata.name === PLATFORM_ALERTS) as K8sObject;
  const NS = env.app.namespace;
  const ARGOCD = env.delivery.namespace;
  const runbook = (alert: string) => runbookUrl(repositoryFilesUrl(env.delivery.repoURL, env.delivery.targetRevision), alert);
  const unit = (tests: readonly RuleTest[]) => testRules([rule], tests);

  // ---- cert-manager: what its ServiceMonitor (Service cert-manager, port http-metrics) scrapes
  // from each of the two controller replicas, with the chart's honorLabels: false.
  const CERT = 'portal-university-example';
  const certTarget = (pod: string) => ({ namespace: 'cert-manager', service: 'cert-manager', job: 'cert-manager', endpoint: 'http-metrics', pod, instance: `${pod}:9402` });
  const certLabels = (pod: string, honorLabels = false) => ({
    ...certTarget(pod), ...(honorLabels ? { namespace: NS } : { exported_namespace: NS }),
    name: CERT, issuer_name: env.tls.issuer, issuer_kind: 'ClusterIssuer', issuer_group: 'cert-manager.io',
  });
  /** The certificate's series, as two replicas expose them, at 70 minutes `daysLeft` from expiry. */
  function certificate(daysLeft: number, renewal: 'overdue' | '15 days before expiry', honorLabels = false) {
    const expiry = 70 * 60 + daysLeft * DAY;
    // Overdue: due a minute in. Otherwise 15 days before expiry, as the Barman Cloud plugin's chart sets it.
    const renewalAt = renewal === 'overdue' ? 60 : expiry - 15 * DAY;
    return ['cert-manager-0', 'cert-manager-1'].flatMap((pod) => [
      { series: `certmanager_certificate_expiration_timestamp_seconds${sel(certLabels(pod, honorLabels))}`, values: `${expiry}x80` },
      { series: `certmanager_certificate_renewal_timestamp_seconds${sel(certLabels(pod, honorLabels))}`, values: `${renewalAt}x80` },
    ]);
  }
  const certAlert = (severity: 'warning' | 'critical', left: string) => ({
    exp_labels: { severity, namespace: NS, service: CERT, name: CERT },
    exp_annotations: severity === 'warning' ? {
      summary: `Certificate ${NS}/${CERT} expires in ${left} and has not been renewed`,
      description: `The Certificate ${NS}/${CERT} expires in ${left}, under ${CERTIFICATE_WARNING_DAYS} days, and the renewal cert-manager scheduled for it `
        + 'has not happened for an hour. Until it is renewed, whatever uses its Secret goes on with the old certificate; at expiry clients refuse it.',
      runbook_url: runbook(CERTIFICATE_EXPIRING_ALERT),
    } : {
      summary: `Certificate ${NS}/${CERT} expires in ${left}`,
      description: `The Certificate ${NS}/${CERT} expires in ${left}, under ${CERTIFICATE_CRITICAL_DAYS} days, and cert-manager has not renewed it. `
        + 'At expiry TLS clients refuse it: the host of a Gateway listener goes down for every visitor, the Barman Cloud plugin stops taking backups '
        + 'and archiving WAL.',
      runbook_url: runbook(CERTIFICATE_EXPIRING_ALERT),
    },
  });
  const expiryTests: RuleTest[] = [
    // 22 days left, renewal overdue: over the 21-day threshold, silent.
    { name: '22 days', interval: '1m', input_series: certificate(22, 'overdue'), alert_rule_test: [{ eval_time: '70m', alertname: CERTIFICATE_EXPIRING_ALERT, exp_alerts: [] }] },
    {
      // 20 days left, renewal overdue since the first minute: a ticket once that has held an hour.
      name: '20 days',
      interval: '1m',
      input_series: certificate(20, 'overdue'),
      alert_rule_test: [
        { eval_time: '50m', alertname: CERTIFICATE_EXPIRING_ALERT, exp_alerts: [] },
        { eval_time: '70m', alertname: CERTIFICATE_EXPIRING_ALERT, exp_alerts: [certAlert('warning', '20d 0h 0m 0s')] },
      ],
    },
    {
      // The same with honorLabels: true (the object's namespace then stays `namespace`): the same alert.
      name: '20 days, honorLabels',
      interval: '1m',
      input_series: certificate(20, 'overdue', true),
      alert_rule_test: [{ eval_time: '70m', alertname: CERTIFICATE_EXPIRING_ALERT, exp_alerts: [certAlert('warning', '20d 0h 0m 0s')] }],
    },
    {
      // 20 days left on a certificate renewed at 15 (the plugin's): waiting for its renewal, silent.
      name: '20 days, renewal not due',
      interval: '1m',
      input_series: certificate(20, '15 days before expiry'),
      alert_rule_test: [{ eval_time: '70m', alertname: CERTIFICATE_EXPIRING_ALERT, exp_alerts: [] }],
    },
    {
      // 6 days left: the page at once; the ticket too once the renewal (due 15 days before expiry)
      // has been overdue an hour. Alertmanager inhibits the ticket: same namespace and service.
      name: '6 days',
      interval: '1m',
      input_series: certificate(6, '15 days before expiry'),
      alert_rule_test: [
        { eval_time: '1m', alertname: CERTIFICATE_EXPIRING_ALERT, exp_alerts: [certAlert('critical', '6d 1h 9m 0s')] },
        { eval_time: '70m', alertname: CERTIFICATE_EXPIRING_ALERT, exp_alerts: [certAlert('warning', '6d 0h 0m 0s'), certAlert('critical', '6d 0h 0m 0s')] },
      ],
    },
    {
      // Not issued yet: cert-manager exports 0 for an unset notAfter; that is CertificateNotReady's case.
      name: 'never issued',
      interval: '1m',
      input_series: [
        { series: `certmanager_certificate_expiration_timestamp_seconds${sel(certLabels('cert-manager-0'))}`, values: '0x80' },
        { series: `certmanager_certificate_renewal_timestamp_seconds${sel(certLabels('cert-manager-0'))}`, values: '0x80' },
      ],
      alert_rule_test: [{ eval_time: '70m', alertname: CERTIFICATE_EXPIRING_ALERT, exp_alerts: [] }],
    },
  ];

  const ready = (status: 'True' | 'False' | 'Unknown') => ['True', 'False', 'Unknown'].map((condition) => ({
    series: `certmanager_certificate_ready_status${sel({ ...certLabels('cert-manager-0'), condition })}`, values: `${condition === status ? 1 : 0}x40`,
  }));
  const notReady = {
    exp_labels: { severity: 'warning', namespace: NS, service: CERT, name: CERT },
    exp_annotations: {
      summary: `Certificate ${NS}/${CERT} is not ready`,
      description: `cert-manager has reported the Certificate ${NS}/${CERT} not Ready for 15 minutes: its Secret is missing, expired or does not match `
        + 'the Certificate\'s spec, and issuing a new one has not succeeded.',
      runbook_url: runbook(CERTIFICATE_NOT_READY_ALERT),
    },
  };
  const readyTests: RuleTest[] = [
    {
      name: 'not ready',
      interval: '1m',
      input_series: ready('False'),
      alert_rule_test: [
        { eval_time: '10m', alertname: CERTIFICATE_NOT_READY_ALERT, exp_alerts: [] },
        { eval_time: '20m', alertname: CERTIFICATE_NOT_READY_ALERT, exp_alerts: [notReady] },
      ],
    },
    // Just created: no Ready condition yet (Unknown), issued within the quarter of an hour.
    { name: 'unknown, then ready', interval: '1m', input_series: [
      ...['True', 'False', 'Unknown'].map((condition) => ({
        series: `certmanager_certificate_ready_status${sel({ ...certLabels('cert-manager-0'), condition })}`,
        values: { True: '0x9 1x30', False: '0x40', Unknown: '1x9 0x30' }[condition] as string,
      })),
    ], alert_rule_test: [{ eval_time: '20m', alertname: CERTIFICATE_NOT_READY_ALERT, exp_alerts: [] }] },
    { name: 'ready', interval: '1m', input_series: ready('True'), alert_rule_test: [{ eval_time: '30m', alertname: CERTIFICATE_NOT_READY_ALERT, exp_alerts: [] }] },
  ];

  // ---- External Secrets: the controller's ServiceMonitor (Service external-secrets-metrics, port metrics).
  const ES = 'student-portal-redis-auth';
  const esCondition = (status: 'True' | 'False', values: string) => ({
    series: `externalsecret_status_condition${sel({
      namespace: 'external-secrets', service: 'external-secrets-metrics', job: 'external-secrets-metrics', endpoint: 'metrics', pod: 'external-secrets-0',
      instance: 'external-secrets-0:8080', exported_namespace: NS, name: ES, condition: 'Ready', status,
    })}`,
    values,
  });
  const esTests: RuleTest[] = [
    {
      name: 'sync failing',
      interval: '1m',
      input_series: [esCondition('False', '1x30'), esCondition('True', '0x30')],
      alert_rule_test: [
        { eval_time: '10m', alertname: EXTERNAL_SECRET_ALERT, exp_alerts: [] },
        {
          eval_time: '20m',
          alertname: EXTERNAL_SECRET_ALERT,
          exp_alerts: [{
            exp_labels: { severity: 'warning', namespace: NS, service: ES, name: ES },
            exp_annotations: {
              summary: `ExternalSecret ${NS}/${ES} fails to sync`,
              description: `The ExternalSecret ${NS}/${ES} has failed to sync from its secret store for 15 minutes (condition Ready=False). Its Secret `
                + 'keeps the values it last got: a value rotated in the store does not reach the pods, and a Secret never synced stays missing.',
              runbook_url: runbook(EXTERNAL_SECRET_ALERT),
            },
          }],
        },
      ],
    },
    // A failure the controller's retry clears within minutes.
    { name: 'sync recovers', interval: '1m', input_series: [esCondition('False', '1x5 0x25'), esCondition('True', '0x5 1x25')],
      alert_rule_test: [{ eval_time: '25m', alertname: EXTERNAL_SECRET_ALERT, exp_alerts: [] }] },
  ];

  // ---- Argo CD: the application controller's ServiceMonitor (Service argocd-application-controller-metrics, port http-metrics).
  const APP = `${env.app.name}-${env.name}`;
  const appInfo = (health: string, sync: string, values: string, operation = '') => ({
    series: `argocd_app_info${sel({
      namespace: ARGOCD, service: 'argo-cd-application-controller-metrics', job: 'argo-cd-application-controller-metrics', endpoint: 'http-metrics',
      pod: 'argo-cd-application-controller-0', instance: 'argo-cd-application-controller-0:8082', exported_namespace: ARGOCD, name: APP,
      project: env.app.name, autosync_enabled: 'true', repo: env.delivery.repoURL, dest_server: 'https://kubernetes.default.svc', dest_namespace: NS,
      sync_status: sync, health_status: health, operation,
    })}`,
    values,
  });
  const argoAlert = (alert: string) => ({
    exp_labels: { severity: 'warning', namespace: ARGOCD, service: APP, name: APP, dest_namespace: NS },
    exp_annotations: alert === ARGO_DEGRADED_ALERT ? {
      summary: `Argo CD Application ${ARGOCD}/${APP} is Degraded`,
      description: `Argo CD has reported the Application ${ARGOCD}/${APP} (into namespace ${NS}) Degraded for 10 minutes: one of its resources fails its health check.`,
      runbook_url: runbook(alert),
    } : {
      summary: `Argo CD Application ${ARGOCD}/${APP} has not been in sync for ${ARGO_OUT_OF_SYNC_FOR}`,
      description: `The Application ${ARGOCD}/${APP} (into namespace ${NS}) has been OutOfSync or Unknown for ${ARGO_OUT_OF_SYNC_FOR}, longer than automated `
        + 'sync retries a failed sync: the cluster does not run what git says.',
      runbook_url: runbook(alert),
    },
  });
  const argoTests: RuleTest[] = [
    {
      name: 'degraded',
      interval: '1m',
      input_series: [appInfo('Degraded', 'Synced', '1x20')],
      alert_rule_test: [
        { eval_time: '5m', alertname: ARGO_DEGRADED_ALERT, exp_alerts: [] },
        { eval_time: '15m', alertname: ARGO_DEGRADED_ALERT, exp_alerts: [argoAlert(ARGO_DEGRADED_ALERT)] },
        { eval_time: '15m', alertname: ARGO_OUT_OF_SYNC_ALERT, exp_alerts: [] },
      ],
    },
    {
      // Out of sync while retries run, a sync operation appearing and going in the labels: one
      // Application all along, a ticket after 45 minutes.
      name: 'out of sync',
      interval: '1m',
      input_series: [appInfo('Healthy', 'OutOfSync', '1x20', 'sync'), appInfo('Healthy', 'OutOfSync', '_x20 1x40'), appInfo('Healthy', 'Unknown', '_x55 1x10')],
      alert_rule_test: [
        { eval_time: '40m', alertname: ARGO_OUT_OF_SYNC_ALERT, exp_alerts: [] },
        { eval_time: '50m', alertname: ARGO_OUT_OF_SYNC_ALERT, exp_alerts: [argoAlert(ARGO_OUT_OF_SYNC_ALERT)] },
        { eval_time: '60m', alertname: ARGO_OUT_OF_SYNC_ALERT, exp_alerts: [argoAlert(ARGO_OUT_OF_SYNC_ALERT)] },
        { eval_time: '50m', alertname: ARGO_DEGRADED_ALERT, exp_alerts: [] },
      ],
    },
    // A sync that takes half an hour (retries, a slow PreSync migration) and succeeds: no ticket.
    { name: 'synced in time', interval: '1m', input_series: [appInfo('Progressing', 'OutOfSync', '1x30'), appInfo('Healthy', 'Synced', '_x30 1x30')],
      alert_rule_test: [{ eval_time: '55m', alertname: ARGO_OUT_OF_SYNC_ALERT, exp_alerts: [] }] },
  ];

  // ---- Trivy Operator: its ServiceMonitor (Service trivy-operator, port metrics, honorLabels: true).
  const vulnerabilities = (over: Record<string, string>, values: string) => ({
    series: `trivy_image_vulnerabilities${sel({
      service: 'trivy-operator', job: 'trivy-operator', endpoint: 'metrics', pod: 'trivy-operator-0', instance: 'trivy-operator-0:8080',
      namespace: NS, name: 'replicaset-api-7b9c5d6f4-api', resource_kind: 'ReplicaSet', resource_name: 'api-7b9c5d6f4', container_name: 'api',
      image_registry: 'ghcr.io', image_repository: 'university/student-portal-api', image_tag: '1.4.2', image_digest: 'sha256:0f0f', severity: 'Critical', ...over,
    })}`,
    values,
  });
  const trivyAlert = (service: string, kind: string, resource: string, container: string, repository: string, count: number) => ({
    exp_labels: {
      severity: 'warning', namespace: NS, service, resource_kind: kind, resource_name: resource, container_name: container,
      image_registry: 'ghcr.io', image_repository: repository, image_tag: '1.4.2',
    },
    exp_annotations: {
      summary: `${service} runs an image with ${count} critical vulnerabilities`,
      description: `Trivy found ${count} vulnerabilities of severity Critical in ghcr.io/${repository}:1.4.2, which container ${container} of ${kind} `
        + `${NS}/${resource} runs.`,
      runbook_url: runbook(TRIVY_ALERT),
    },
  });
  const trivyTests: RuleTest[] = [
    {
      // The report is rescanned when its TTL ends (gone for minutes): the alert stays.
      name: 'critical findings',
      interval: '1m',
      input_series: [
        vulnerabilities({}, '2x10 _x5 2x10'),
        vulnerabilities({ severity: 'High' }, '7x25'),
        vulnerabilities({ name: 'cronjob-backup-database-backup', resource_kind: 'CronJob', resource_name: 'backup-database', container_name: 'backup',
          image_repository: 'university/backup' }, '1x25'),
      ],
      alert_rule_test: [
        { eval_time: '5m', alertname: TRIVY_ALERT, exp_alerts: [
          trivyAlert('api', 'ReplicaSet', 'api-7b9c5d6f4', 'api', 'university/student-portal-api', 2),
          trivyAlert('backup-database', 'CronJob', 'backup-database', 'backup', 'university/backup', 1),
        ] },
        { eval_time: '14m', alertname: TRIVY_ALERT, exp_alerts: [
          trivyAlert('api', 'ReplicaSet', 'api-7b9c5d6f4', 'api', 'university/student-portal-api', 2),
          trivyAlert('backup-database', 'CronJob', 'backup-database', 'backup', 'university/backup', 1),
        ] },
      ],
    },
    {
      // High only, none critical; and another namespace's critical ones are not this application's.
      name: 'no critical findings here',
      interval: '1m',
      input_series: [
        vulnerabilities({}, '0x20'),
        vulnerabilities({ severity: 'High' }, '7x20'),
        vulnerabilities({ namespace: 'kube-system', name: 'daemonset-kube-proxy-kube-proxy', resource_kind: 'DaemonSet', resource_name: 'kube-proxy' }, '3x20'),
      ],
      alert_rule_test: [{ eval_time: '10m', alertname: TRIVY_ALERT, exp_alerts: [] }],
    },
    // A fixed image: the finding is forgotten an hour after its report went with the old ReplicaSet.
    { name: 'fixed', interval: '5m', input_series: [vulnerabilities({}, '2x2')], alert_rule_test: [{ eval_time: '75m', alertname: TRIVY_ALERT, exp_alerts: [] }] },
  ];

  // ---- falcosidekick: its ServiceMonitor (Service falcosidekick, port http), two replicas.
  const FALCO_NS = PLATFORM_RELEASES.falcosidekick.namespace;
  const POD = 'api-7b9c5d6f4-x2x9k';
  const SHELL = 'Terminal shell in container';
  const events = (over: Record<string, string>, values: string) => ({
    series: `falcosecurity_falcosidekick_falco_events_total${sel({
      namespace: FALCO_NS, service: 'falcosidekick', job: 'falcosidekick', endpoint: 'http', pod: 'falcosidekick-0', instance: 'falcosidekick-0:2801',
      hostname: 'node-a', rule: SHELL, priority: '6', priority_raw: 'critical', source: 'syscall', k8s_ns_name: NS, k8s_pod_name: POD, ...over,
    })}`,
    values,
  });
  const falcoAlert = (namespace: string, pod: string | undefined, rule: string, priority: string, count: number) => ({
    exp_labels: { severity: 'critical', service: 'falco', namespace, hostname: 'node-a', rule, priority_raw: priority, ...(pod ? { k8s_pod_name: pod } : {}) },
    exp_annotations: {
      summary: `Falco: ${rule} (${priority}) in ${namespace}`,
      description: `Falco reported ${count} event(s) of the rule "${rule}" at priority ${priority} in the last 15m, on node node-a`
        + `${pod ? ` in pod ${namespace}/${pod}` : ''}.`,
      runbook_url: runbook(FALCO_ALERT),
    },
  });
  const falcoTests: RuleTest[] = [
    {
      // A rule's first event creates its series at 1 (increase() would see nothing): paged at once,
      // silent again 15 minutes on. A second event on the other replica a little later.
      name: 'critical events',
      interval: '1m',
      input_series: [
        events({}, '_x10 1x30'),
        events({ pod: 'falcosidekick-1', instance: 'falcosidekick-1:2801' }, '_x12 1x28'),
        // A host's event (no pod): in falcosidekick's namespace.
        events({ rule: 'Linux Kernel Module Injection Detected', priority: '8', priority_raw: 'emergency', k8s_ns_name: '', k8s_pod_name: '' }, '_x3 1 2x30'),
      ],
      alert_rule_test: [
        { eval_time: '9m', alertname: FALCO_ALERT, exp_alerts: [falcoAlert(FALCO_NS, undefined, 'Linux Kernel Module Injection Detected', 'emergency', 2)] },
        { eval_time: '13m', alertname: FALCO_ALERT, exp_alerts: [
          falcoAlert(NS, POD, SHELL, 'critical', 2), falcoAlert(FALCO_NS, undefined, 'Linux Kernel Module Injection Detected', 'emergency', 2),
        ] },
        { eval_time: '30m', alertname: FALCO_ALERT, exp_alerts: [] },
      ],
    },
    {
      // Warning and below: falcosidekick's own warnings carry them, no page.
      name: 'warning events',
      interval: '1m',
      input_series: [
        events({ rule: 'Read sensitive file untrusted', priority: '4', priority_raw: 'warning' }, '0+1x30'),
        events({ rule: 'Falco internal: syscall event drop', priority: '1', priority_raw: 'debug', k8s_ns_name: '', k8s_pod_name: '' }, '0+5x30'),
      ],
      alert_rule_test: [{ eval_time: '20m', alertname: FALCO_ALERT, exp_alerts: [] }],
    },
  ];

  const ALL = [...expiryTests, ...readyTests, ...esTests, ...argoTests, ...trivyTests, ...falcoTests];

  test('the platform\'s PrometheusRule is there, and promtool check rules accepts it', () => {
    expect(rule).toBeDefined();
    expect(rule.metadata.namespace).toBe(NS);
    const r = checkRules(rule);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });

  test('every alert has a case where it fires and one where it stays silent', () => {
    expect(untestedAlerts([rule], ALL)).toEqual({ neverFires: [], neverSilent: [] });
  });

  test('every critical alert fires within 3 minutes of its condition (`for`), so the page comes within 5', () => {
    const alerts = (rule.spec.groups as K8sObject[]).flatMap((g) => g.rules as K8sObject[]);
    const critical = alerts.filter((a) => a.labels.severity === 'critical');
    expect(critical.map((a) => a.alert).sort()).toEqual([CERTIFICATE_EXPIRING_ALERT, FALCO_ALERT]);
    for (const a of critical) expect(parseDuration(a.for ?? '0s')).toBeLessThanOrEqual(180);
    // And every alert carries namespace and service when it fires: the cases above assert each one's.
    for (const a of alerts) expect(['critical', 'warning']).toContain(a.labels.severity);
  });

  test(`certificates: ${CERTIFICATE_WARNING_DAYS} days is the ticket's threshold (22 silent, 20 fires) and ${CERTIFICATE_CRITICAL_DAYS} the page's (6 fires)`, () => {
    expectPass(unit(expiryTests));
  });
  test('certificates: not ready for 15 minutes', () => expectPass(unit(readyTests)));
  test('External Secrets: an ExternalSecret failing to sync for 15 minutes', () => expectPass(unit(esTests)));
  test(`Argo CD: an Application Degraded for 10 minutes, out of sync for ${ARGO_OUT_OF_SYNC_FOR}`, () => expectPass(unit(argoTests)));
  test('Trivy: critical vulnerabilities in the application\'s running images, per workload', () => expectPass(unit(trivyTests)));
  test('Falco: an event of priority critical or above pages at once, its first event included', () => expectPass(unit(falcoTests)));

  test('the hosts\' certificates are renewed before the page\'s threshold', () => {
    expect(parseDuration(env.tls.renewBefore)).toBeGreaterThan(CERTIFICATE_CRITICAL_DAYS * DAY);
  });
});

test('out of sync: the ticket waits longer than automated sync retries a failed sync, plus a reconciliation', () => {
  const { limit, backoff } = SYNC_RETRY;
  const retrying = Array.from({ length: limit }, (_, i) => Math.min(parseDuration(backoff.duration) * backoff.factor ** i, parseDuration(backoff.maxDuration)))
    .reduce((a, b) => a + b, 0);
  // Argo CD's default reconciliation period (argocd-cm timeout.reconciliation: 180 s).
  expect(retrying + 180).toBeLessThan(parseDuration(ARGO_OUT_OF_SYNC_FOR));
});

test.each(envs.map((e) => [e.name, e] as const))('%s: falcosidekick posts the events FalcoCriticalEvent pages for to Alertmanager as warnings, not a second page', (_name, env) => {
  expect([...PAGED_PRIORITIES].sort()).toEqual(['alert', 'critical', 'emergency']);
  const model = buildModel(env);
  const app = argocdObjects(model, modelObjects(model)).find((o) => o.kind === 'Application' && o.metadata.name === 'falcosidekick') as K8sObject;
  const { alertmanager } = app.spec.source.helm.valuesObject.config;
  expect(alertmanager.minimumpriority).toBe('warning');
  // falcosidekick's ALERTMANAGER_CUSTOMSEVERITYMAP: `priority:severity`, comma separated (config.go).
  expect(String(alertmanager.customseveritymap).split(',').map((t) => t.split(':')).sort()).toEqual(PAGED_PRIORITIES.map((p) => [p, 'warning']).sort());
});

test('the Barman Cloud plugin\'s certificates are renewed before the page\'s threshold (its chart\'s renewBefore)', () => {
  const release = PLATFORM_RELEASES['plugin-barman-cloud'];
  const file = join(process.env.SHARED_DIR ?? resolve(repositoryRoot(), '..', 'shared'), 'charts', `${release.chart}-${release.version}`, 'values.yaml');
  expect(existsSync(file)).toBe(true);
  const certificate = (parse(readFileSync(file, 'utf8')) as { certificate: { renewBefore: string } }).certificate;
  expect(parseDuration(certificate.renewBefore)).toBeGreaterThan(CERTIFICATE_CRITICAL_DAYS * DAY);
  // And they renew after the ticket's threshold: why the ticket waits for the renewal to be overdue.
  expect(parseDuration(certificate.renewBefore)).toBeLessThan(CERTIFICATE_WARNING_DAYS * DAY);
});
