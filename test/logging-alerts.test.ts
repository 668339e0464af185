/**
 * The logging pipeline's alerts (charts/observability/logging-alerts.ts) as synthesized for each
 * environment, run by promtool on series shaped as Prometheus stores them after scraping: the
 * collector's through the alloy chart's ServiceMonitor (`honorLabels: true`, Alloy's own labels
 * plus the target's), Loki's through the loki chart's (`job` `logging/loki`, `app_instance`), the
 * DaemonSet's from kube-state-metrics. Each alert fires with its labels and annotations and stays
 * silent where it must: a DaemonSet rollout, a push retried and accepted, a failed scrape of old
 * drops, a two-minute blip of the ruler, one failed post to Alertmanager, rules loading after a
 * restart. The audit trail's rule file and groups are those of the synthesized ConfigMap that
 * Loki's rules sidecar loads.
 */
import { parse } from 'yaml';
import { PLATFORM_RELEASES } from '../charts/gitops/platform-releases';
import { lokiPushURL } from '../charts/gitops/values/alloy';
import { ALERTMANAGER_PORT, ALERTMANAGER_SERVICE } from '../charts/gitops/values/kube-prometheus-stack';
import { LOKI_TENANTS } from '../charts/gitops/values/loki';
import { AUDIT_ALERTS, AUDIT_TRAIL_SERVICE } from '../charts/logging/audit-alerts';
import {
  COLLECTOR, LOGGING_ALERT_NAMES as A, LOGGING_ALERTS, LOKI, PUSH_FAILING_FOR, PUSH_FAILING_WINDOW,
} from '../charts/observability/logging-alerts';
import { repositoryFilesUrl, runbookUrl } from '../charts/observability/runbooks';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { buildModel } from '../environments/model/model';
import { parseDuration } from '../environments/quantity';
import type { Environment } from '../environments/schema';
import type { K8sObject } from '../pipeline/k8s-object';
import { argocdObjects, modelObjects, synthObjects } from '../pipeline/synth';
import { checkRules, rulesOf, testRules, untestedAlerts, type RuleTest } from './support/alert-rules';

const envs = resolveEnvironments(environments, process.cwd());

/** A rules unit test passed: promtool says so and exits 0 (its output is the message when not). */
function expectPass(r: { status: number | null; output: string }) {
  expect(r.output).toMatch(/SUCCESS/);
  expect(r.status).toBe(0);
}

/** `{a="b",…}` of a label map; an empty value is no label, as Prometheus stores it. */
const sel = (labels: Record<string, string>) => `{${Object.entries(labels).filter(([, v]) => v !== '').map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;

/** `n` samples, the i-th `value(i)` (`_`: none), for promtool's input series. */
const samples = (n: number, value: (i: number) => number | undefined) => Array.from({ length: n }, (_, i) => value(i) ?? '_').join(' ');

const COLLECTOR_NS = PLATFORM_RELEASES.alloy.namespace;
const LOKI_NS = PLATFORM_RELEASES.loki.namespace;
const AUDIT = LOKI_TENANTS.audit;
const APPLICATION = LOKI_TENANTS.application;
/** Loki's `ruler.rule_path`: its default `<common.path_prefix>/rules-temp`, the chart's path_prefix being /var/loki. */
const RULE_PATH = '/var/loki/rules-temp';

describe.each(envs.map((e) => [e.name, e] as const))('%s', (_name, env: Environment) => {
  const objects = synthObjects(env).map((o) => o.object);
  const rule = objects.find((o) => o.kind === 'PrometheusRule' && o.metadata.name === LOGGING_ALERTS) as K8sObject;
  const NS = env.app.namespace;
  const runbook = (alert: string) => runbookUrl(repositoryFilesUrl(env.delivery.repoURL, env.delivery.targetRevision), alert);
  const unit = (tests: readonly RuleTest[]) => testRules([rule], tests);

  const model = buildModel(env);
  const argocd = argocdObjects(model, modelObjects(model));

  // The audit trail's rule file, as the sidecar writes it into the audit tenant's folder: its
  // groups, and how many rules each has.
  const auditConfigMap = [...objects, ...argocd].find((o) => o.kind === 'ConfigMap' && o.metadata.name === AUDIT_ALERTS) as K8sObject;
  const [[auditFile, auditFileText]] = Object.entries(auditConfigMap.data as Record<string, string>);
  const auditGroups = (parse(auditFileText) as { groups: { name: string; interval: string; rules: unknown[] }[] }).groups;
  const ruleGroup = (user: string, file: string, group: string) => `${RULE_PATH}/${user}/${file};${group}`;

  // ---- The collector: the alloy chart's ServiceMonitor (Service alloy, port http-metrics).
  // Go's url.URL keeps the port written in the push URL: the writer's `host` label.
  const HOST = lokiPushURL(env.clusterDomain).replace(/^http:\/\//, '').split('/')[0];
  const collectorPod = (n: number) => ({ pod: `alloy-${['x7k2p', 'q9m4t', 'w3n8c'][n]}`, instance: `10.42.${n}.17:12345` });
  const writer = (metric: string, n: number, tenant: string, extra: Record<string, string> = {}) => `${metric}${sel({
    namespace: COLLECTOR_NS, service: 'alloy', job: 'alloy', endpoint: 'http-metrics', container: 'alloy', ...collectorPod(n),
    component_id: 'loki.write.loki', component_path: '/', host: HOST, tenant, ...extra,
  })}`;

  // ---- kube-state-metrics (kube-prometheus-stack's, honorLabels: the objects' own namespace and name).
  const ksm = (metric: string, values: string, object: Record<string, string>, replica = 'q2x7m') => ({
    series: `${metric}${sel({
      job: 'kube-state-metrics', service: 'kube-prometheus-stack-kube-state-metrics', endpoint: 'http', instance: `10.42.2.5:8080-${replica}`,
      pod: `kube-prometheus-stack-kube-state-metrics-6d9f7c8b5-${replica}`, ...object,
    })}`,
    values,
  });
  const NODES = ['node-a', 'node-b', 'node-c'];
  const nodes = (replica?: string) => NODES.map((node, i) => ksm('kube_node_info', '1x40', { node, internal_ip: `10.0.0.${i + 10}`, kubelet_version: 'v1.33.2' }, replica));
  const collectors = (metric: string, values: string) => ksm(metric, values, { namespace: COLLECTOR_NS, daemonset: COLLECTOR });
  const missingAlert = (count: number) => ({
    exp_labels: { severity: 'warning', namespace: COLLECTOR_NS, service: COLLECTOR, daemonset: COLLECTOR },
    exp_annotations: {
      summary: `The log collector is not running on ${count} node(s)`,
      description: `${count} of the cluster's nodes have had no available log collector (DaemonSet ${COLLECTOR_NS}/${COLLECTOR}) for 15m: `
        + 'the logs of their pods, the application\'s audit events among them, are not being collected, and those of pods deleted meanwhile are lost with '
        + 'their log files.',
      runbook_url: runbook(A.collectorMissing),
    },
  });
  const missingTests: RuleTest[] = [
    {
      // Three nodes, one without an available collector from the second minute: a ticket after 15 minutes.
      name: 'a node without a collector',
      interval: '1m',
      input_series: [...nodes(), collectors('kube_daemonset_status_desired_number_scheduled', '3x30'), collectors('kube_daemonset_status_number_available', '3x2 2x28')],
      alert_rule_test: [
        { eval_time: '10m', alertname: A.collectorMissing, exp_alerts: [] },
        { eval_time: '20m', alertname: A.collectorMissing, exp_alerts: [missingAlert(1)] },
      ],
    },
    {
      // A node with a taint the collector does not tolerate: the DaemonSet leaves it out, and
      // has all it wants.
      name: 'a node the DaemonSet leaves out',
      interval: '1m',
      input_series: [...nodes(), collectors('kube_daemonset_status_desired_number_scheduled', '2x30'), collectors('kube_daemonset_status_number_available', '2x30')],
      alert_rule_test: [{ eval_time: '20m', alertname: A.collectorMissing, exp_alerts: [missingAlert(1)] }],
    },
    {
      // A rollout replaces one node's collector at a time, each away for minutes; another
      // namespace's DaemonSet missing a node is not the collector; two kube-state-metrics replicas
      // report every node.
      name: 'a rollout, another DaemonSet, two kube-state-metrics',
      interval: '1m',
      input_series: [
        ...nodes(), ...nodes('r8v5d'),
        collectors('kube_daemonset_status_desired_number_scheduled', '3x40'),
        collectors('kube_daemonset_status_number_available', '3x2 2x3 3 2x3 3 2x3 3x26'),
        ksm('kube_daemonset_status_desired_number_scheduled', '3x40', { namespace: 'kube-system', daemonset: 'kube-proxy' }),
        ksm('kube_daemonset_status_number_available', '2x40', { namespace: 'kube-system', daemonset: 'kube-proxy' }),
      ],
      alert_rule_test: [
        { eval_time: '12m', alertname: A.collectorMissing, exp_alerts: [] },
        { eval_time: '30m', alertname: A.collectorMissing, exp_alerts: [] },
      ],
    },
  ];

  // ---- Pushes failing. Each sample is 30 s; a batch is retried with growing backoff.
  const lost = {
    critical: 'These are audit records (the application\'s audit events, Argo CD\'s delivery log, Falco\'s events, the API server\'s audit): a gap in the audit trail.',
    warning: 'These are application logs: a gap in what can be searched later.',
  };
  const pushMinutes = (parseDuration(PUSH_FAILING_WINDOW) + parseDuration(PUSH_FAILING_FOR)) / 60;
  const pushAlert = (severity: 'critical' | 'warning', tenant: string, collectors: number) => ({
    exp_labels: { severity, namespace: COLLECTOR_NS, service: COLLECTOR, tenant },
    exp_annotations: {
      summary: `${collectors} log collector(s) cannot push the ${tenant} tenant's logs to Loki`,
      description: `${collectors} log collector(s) in ${COLLECTOR_NS} have had every push of tenant ${tenant} to Loki fail and retried, none accepted, `
        + `for ${pushMinutes} minutes or more. They hold what they could not send and retry it; it is lost when their retries run out, and what they do `
        + `not read meanwhile when the kubelet rotates it away. ${lost[severity]}`,
      runbook_url: runbook(A.pushFailing),
    },
  });
  /**
   * A collector's writer for a tenant, sampled every 30 s for 25 minutes: 10 lines accepted every
   * 30 s, except while Loki refuses them (`outage`, in seconds), when it retries the held batch
   * with Alloy's backoff: doubling delays from 0.5 s (here the shortest of each jittered range,
   * then the longest, 256 s, of the last before the cap), then 5 minutes apart (`max_backoff_period`).
   */
  const pushes = (n: number, tenant: string, outage?: { from: number; to: number }) => {
    const delays = [0.5, 1, 2, 4, 8, 16, 32, 64, 256, ...Array(10).fill(300)];
    const retryTimes = outage ? delays.map((_, k) => outage.from + delays.slice(0, k + 1).reduce((a, b) => a + b, 0)).filter((t) => t < outage.to) : [];
    const refused = (t: number) => outage !== undefined && t > outage.from && t < outage.to;
    const sent = (i: number) => 10 * Array.from({ length: i }, (_, j) => (j + 1) * 30).filter((t) => !refused(t)).length;
    const retries = (i: number) => retryTimes.filter((t) => t <= i * 30).length;
    return [
      { series: writer('loki_write_sent_entries_total', n, tenant), values: samples(50, sent) },
      { series: writer('loki_write_batch_retries_total', n, tenant), values: samples(50, retries) },
    ];
  };
  const pushTests: RuleTest[] = [
    {
      // Loki refuses the audit tenant (its rate limit) from 5m to 20m, at both collectors; the
      // application tenant goes through. Paged 3 minutes after the last accepted push, and still
      // while the attempts are minutes apart (at 7m7s, 11m23s, 16m23s); resolved once pushes are
      // accepted again.
      name: 'the audit tenant refused',
      interval: '30s',
      input_series: [
        ...pushes(0, AUDIT, { from: 300, to: 1200 }), ...pushes(1, AUDIT, { from: 300, to: 1200 }), ...pushes(0, APPLICATION), ...pushes(1, APPLICATION),
      ],
      alert_rule_test: [
        { eval_time: '7m30s', alertname: A.pushFailing, exp_alerts: [] },
        ...['9m', '11m', '15m', '19m'].map((eval_time) => ({ eval_time, alertname: A.pushFailing, exp_alerts: [pushAlert('critical', AUDIT, 2)] })),
        { eval_time: '21m', alertname: A.pushFailing, exp_alerts: [] },
      ],
    },
    {
      // One node cut off from Loki: its collector fails both tenants, the other's pushes go through.
      name: 'one collector cut off',
      interval: '30s',
      input_series: [
        ...pushes(0, AUDIT, { from: 300, to: 1500 }), ...pushes(0, APPLICATION, { from: 300, to: 1500 }), ...pushes(1, AUDIT), ...pushes(1, APPLICATION),
      ],
      alert_rule_test: [{ eval_time: '9m', alertname: A.pushFailing, exp_alerts: [pushAlert('critical', AUDIT, 1), pushAlert('warning', APPLICATION, 1)] }],
    },
    {
      // Two and a half minutes of failures (a Loki restart), retried and then accepted.
      name: 'failures retried and accepted',
      interval: '30s',
      input_series: [...pushes(0, AUDIT, { from: 300, to: 450 }), ...pushes(0, APPLICATION, { from: 300, to: 450 }), ...pushes(1, AUDIT)],
      alert_rule_test: [
        { eval_time: '8m', alertname: A.pushFailing, exp_alerts: [] },
        { eval_time: '10m', alertname: A.pushFailing, exp_alerts: [] },
      ],
    },
    {
      // A quiet node: its audit writer had one batch retried once and accepted at 3m, and nothing
      // to send since.
      name: 'a retry on a quiet node',
      interval: '30s',
      input_series: [
        { series: writer('loki_write_sent_entries_total', 2, AUDIT), values: samples(40, (i) => (i < 2 ? 0 : i < 6 ? 10 : 20)) },
        { series: writer('loki_write_batch_retries_total', 2, AUDIT), values: samples(40, (i) => (i < 6 ? 0 : 1)) },
      ],
      alert_rule_test: [
        { eval_time: '6m', alertname: A.pushFailing, exp_alerts: [] },
        { eval_time: '12m', alertname: A.pushFailing, exp_alerts: [] },
      ],
    },
  ];

  // ---- Lines dropped for good.
  const dropped = (n: number, tenant: string, reason: string, values: string) => ({
    series: writer('loki_write_dropped_entries_total', n, tenant, { reason }), values,
  });
  const dropAlert = (severity: 'critical' | 'warning', tenant: string, reason: string, lines: number) => ({
    exp_labels: { severity, namespace: COLLECTOR_NS, service: COLLECTOR, tenant, reason },
    exp_annotations: {
      summary: `The log collector dropped ${lines} line(s) of the ${tenant} tenant`,
      description: `The log collectors in ${COLLECTOR_NS} dropped ${lines} log line(s) of tenant ${tenant} in the last 10m (reason ${reason}): `
        + `they were not delivered to Loki and never will be. ${lost[severity]}`,
      runbook_url: runbook(A.dropping),
    },
  });
  const dropTests: RuleTest[] = [
    {
      // 5 audit lines dropped after the last retry at 6m; the application tenant's over the rate
      // limit, 3 then 4 more. Each alert lasts 10 minutes from its last drop.
      name: 'drops',
      interval: '30s',
      input_series: [
        dropped(0, AUDIT, 'ingester_error', samples(50, (i) => (i < 12 ? 0 : 5))),
        dropped(0, AUDIT, 'rate_limited', '0x50'),
        dropped(1, APPLICATION, 'rate_limited', samples(50, (i) => (i < 12 ? 0 : i < 20 ? 3 : 7))),
        dropped(1, APPLICATION, 'ingester_error', '0x50'),
      ],
      alert_rule_test: [
        { eval_time: '5m', alertname: A.dropping, exp_alerts: [] },
        { eval_time: '6m', alertname: A.dropping, exp_alerts: [dropAlert('critical', AUDIT, 'ingester_error', 5), dropAlert('warning', APPLICATION, 'rate_limited', 3)] },
        { eval_time: '16m', alertname: A.dropping, exp_alerts: [dropAlert('warning', APPLICATION, 'rate_limited', 4)] },
        { eval_time: '21m', alertname: A.dropping, exp_alerts: [] },
      ],
    },
    {
      // A collector started at 10m (a new pod, its counters from 0) drops 2 audit lines at 12m.
      name: 'drops of a new collector',
      interval: '30s',
      input_series: [dropped(2, AUDIT, 'ingester_error', samples(40, (i) => (i < 20 ? undefined : i < 24 ? 0 : 2)))],
      alert_rule_test: [{ eval_time: '13m', alertname: A.dropping, exp_alerts: [dropAlert('critical', AUDIT, 'ingester_error', 2)] }],
    },
    {
      // Drops of days ago, and one failed scrape (a staleness marker) at 10m30s: nothing new.
      name: 'old drops, one failed scrape',
      interval: '30s',
      input_series: [dropped(0, AUDIT, 'ingester_error', '9x20 stale 9x30'), dropped(0, APPLICATION, 'rate_limited', '4x20 stale 4x30')],
      alert_rule_test: [
        { eval_time: '11m', alertname: A.dropping, exp_alerts: [] },
        { eval_time: '20m30s', alertname: A.dropping, exp_alerts: [] },
        { eval_time: '21m', alertname: A.dropping, exp_alerts: [] },
      ],
    },
  ];

  // ---- Loki: the loki chart's ServiceMonitor (Service loki, port http-metrics).
  const lokiTarget = (n: number) => ({
    namespace: LOKI_NS, service: 'loki', job: `${LOKI_NS}/loki`, endpoint: 'http-metrics', container: 'loki', app_instance: 'loki',
    pod: `loki-${n}`, instance: `10.42.${n}.23:3100`,
  });
  const loki = (metric: string, n: number, labels: Record<string, string>, values: string) => ({ series: `${metric}${sel({ ...lokiTarget(n), ...labels })}`, values });

  const discarded = (n: number, tenant: string, reason: string, values: string) =>
    loki('loki_discarded_samples_total', n, { tenant, reason, retention_hours: String(parseDuration(env.logging.retention[APPLICATION]) / 3600) }, values);
  const discardAlert = (tenant: string, reason: string, lines: number) => ({
    exp_labels: { severity: 'warning', namespace: LOKI_NS, service: LOKI, tenant, reason },
    exp_annotations: {
      summary: `Loki discarded ${lines} line(s) of the ${tenant} tenant (${reason})`,
      description: `Loki in ${LOKI_NS} discarded ${lines} log line(s) pushed for tenant ${tenant} in the last 15m, for reason ${reason}: a limit of Loki's `
        + 'refused them. Lines refused for a rate limit are retried by the collector; the others are lost.',
      runbook_url: runbook(A.discarding),
    },
  });
  const discardTests: RuleTest[] = [
    {
      // Loki creates the series at its first discard (4 lines too long at 5m on loki-0, 1 more at
      // 7m on loki-1): counted from there, 15 minutes each.
      name: 'first discards',
      interval: '30s',
      input_series: [discarded(0, APPLICATION, 'line_too_long', '_x10 4x40'), discarded(1, APPLICATION, 'line_too_long', '_x14 1x36')],
      alert_rule_test: [
        { eval_time: '6m', alertname: A.discarding, exp_alerts: [discardAlert(APPLICATION, 'line_too_long', 4)] },
        { eval_time: '8m', alertname: A.discarding, exp_alerts: [discardAlert(APPLICATION, 'line_too_long', 5)] },
        { eval_time: '20m', alertname: A.discarding, exp_alerts: [discardAlert(APPLICATION, 'line_too_long', 1)] },
        { eval_time: '23m', alertname: A.discarding, exp_alerts: [] },
      ],
    },
    {
      // Discards of long ago, no new ones.
      name: 'old discards',
      interval: '30s',
      input_series: [discarded(0, AUDIT, 'rate_limited', '3x40')],
      alert_rule_test: [{ eval_time: '18m', alertname: A.discarding, exp_alerts: [] }],
    },
  ];

  const flushes = (n: number, failures: string, requests: string) => [
    loki('loki_ingester_chunks_flush_failures_total', n, {}, failures),
    loki('loki_ingester_chunks_flush_requests_total', n, {}, requests),
  ];
  const flushTests: RuleTest[] = [
    {
      // Every flush of loki-0 failing (its storage refuses), loki-1's going through.
      name: 'flushes failing',
      interval: '1m',
      input_series: [...flushes(0, '0+2x40', '0+2x40'), ...flushes(1, '0x40', '0+2x40')],
      alert_rule_test: [
        { eval_time: '14m', alertname: A.flushFailing, exp_alerts: [] },
        {
          eval_time: '20m',
          alertname: A.flushFailing,
          exp_alerts: [{
            exp_labels: { severity: 'warning', namespace: LOKI_NS, service: LOKI, pod: 'loki-0' },
            exp_annotations: {
              summary: 'Loki loki-0 cannot write chunks to storage',
              description: `100% of the chunk flushes of ${LOKI_NS}/loki-0 to storage have failed for 15m: what it took is held in memory and its `
                + 'write-ahead log only, and grows until it is written or the pod runs out of memory.',
              runbook_url: runbook(A.flushFailing),
            },
          }],
        },
      ],
    },
    {
      // A quarter of the flushes failing (storage blips, retried), and a replica with nothing to flush.
      name: 'flushes mostly going through',
      interval: '1m',
      input_series: [...flushes(0, '0+1x40', '0+4x40'), ...flushes(1, '0x40', '5x40')],
      alert_rule_test: [{ eval_time: '30m', alertname: A.flushFailing, exp_alerts: [] }],
    },
  ];

  // ---- The ruler: its series per tenant (`user`) and rule group.
  const fastGroup = auditGroups.find((g) => parseDuration(g.interval) <= 60) as (typeof auditGroups)[number];
  const slowGroup = auditGroups.reduce((a, b) => (parseDuration(b.interval) > parseDuration(a.interval) ? b : a));
  const APP_FILE = `${env.app.name}-${env.name}-application.yaml`;
  const evaluations = (n: number, user: string, group: string, evaluated: string, failed: string) => {
    const labels = { user, rule_group: group };
    return [
      loki('loki_prometheus_rule_evaluations_total', n, labels, evaluated),
      loki('loki_prometheus_rule_evaluation_failures_total', n, labels, failed),
    ];
  };
  /** A group evaluated every 30 s, `rules` rules each time, failing from sample `from` to sample `until`. */
  const every30s = (n: number, user: string, group: string, rules: number, from: number, until = Infinity) => evaluations(n, user, group,
    samples(40, (i) => i * rules), samples(40, (i) => Math.max(0, Math.min(i, until) - from) * rules));
  const ruleAlert = (severity: 'critical' | 'warning', user: string, group: string, failures: number) => ({
    exp_labels: { severity, namespace: LOKI_NS, service: LOKI, user, rule_group: group },
    exp_annotations: {
      summary: `Loki's ruler fails to evaluate rules of the ${user} tenant`,
      description: `${failures} rule evaluations of the group ${group} (tenant ${user}) failed in the last 15m, and 50% or more of its evaluations keep `
        + `failing: its alerts cannot fire while this lasts.${severity === 'critical' ? ' These are the audit trail\'s alerts.' : ''}`,
      runbook_url: runbook(A.ruleEvaluation),
    },
  });
  const fast = ruleGroup(AUDIT, auditFile, fastGroup.name);
  const slow = ruleGroup(AUDIT, auditFile, slowGroup.name);
  const appGroup = ruleGroup(APPLICATION, APP_FILE, 'application-errors');
  const r = fastGroup.rules.length;
  const ruleTests: RuleTest[] = [
    {
      // Every evaluation failing from 5m30s on (Loki cannot read): the audit group's page, an
      // application tenant's group's ticket, once half of 2 minutes' evaluations have failed for 3.
      name: 'evaluations failing',
      interval: '30s',
      input_series: [...every30s(0, AUDIT, fast, r, 10), ...every30s(1, APPLICATION, appGroup, 1, 10)],
      alert_rule_test: [
        { eval_time: '8m', alertname: A.ruleEvaluation, exp_alerts: [] },
        { eval_time: '10m', alertname: A.ruleEvaluation, exp_alerts: [ruleAlert('critical', AUDIT, fast, 10 * r), ruleAlert('warning', APPLICATION, appGroup, 10)] },
      ],
    },
    {
      // The slowest group (every 5 minutes) failing from its evaluation at 10m: paged once three
      // of its evaluations have failed, and 3 minutes more.
      name: 'the slowest group failing',
      interval: '30s',
      input_series: evaluations(2, AUDIT, slow,
        samples(60, (i) => Math.floor(i / 10) * slowGroup.rules.length), samples(60, (i) => Math.max(0, Math.floor(i / 10) - 1) * slowGroup.rules.length)),
      alert_rule_test: [
        { eval_time: '12m', alertname: A.ruleEvaluation, exp_alerts: [] },
        { eval_time: '22m', alertname: A.ruleEvaluation, exp_alerts: [] },
        { eval_time: '24m', alertname: A.ruleEvaluation, exp_alerts: [ruleAlert('critical', AUDIT, slow, 3 * slowGroup.rules.length)] },
      ],
    },
    {
      // Two minutes of failures (Loki restarting), and one failed evaluation of the slowest group.
      name: 'a blip',
      interval: '30s',
      input_series: [
        ...every30s(0, AUDIT, fast, r, 10, 14),
        ...evaluations(2, AUDIT, slow, samples(40, (i) => Math.floor(i / 10)), samples(40, (i) => (i < 20 ? 0 : 1))),
      ],
      alert_rule_test: [
        { eval_time: '9m', alertname: A.ruleEvaluation, exp_alerts: [] },
        { eval_time: '12m', alertname: A.ruleEvaluation, exp_alerts: [] },
        { eval_time: '19m', alertname: A.ruleEvaluation, exp_alerts: [] },
      ],
    },
  ];

  // Alertmanager's API address, the `alertmanager` label of the ruler's notifier series.
  const ALERTMANAGER = `http://${ALERTMANAGER_SERVICE}.${env.monitoringNamespace}.svc.${env.clusterDomain}:${ALERTMANAGER_PORT}/api/v2/alerts`;
  const notificationErrors = (user: string, values: string) =>
    loki('loki_prometheus_notifications_errors_total', 1, { user, alertmanager: ALERTMANAGER }, values);
  const notificationAlert = (severity: 'critical' | 'warning', user: string, failed: number) => ({
    exp_labels: { severity, namespace: LOKI_NS, service: LOKI, user },
    exp_annotations: {
      summary: `Loki's ruler cannot send the ${user} tenant's alerts to Alertmanager`,
      description: `Loki's ruler in ${LOKI_NS} failed to post ${failed} alert(s) of tenant ${user} to Alertmanager in the last 3m, and has kept failing for 3m: `
        + 'those alerts fired and were not delivered. See them in the ruler\'s API.'
        + `${severity === 'critical' ? ' These are the audit trail\'s alerts: a possible disclosure of records may be paging no one.' : ''}`,
      runbook_url: runbook(A.notifications),
    },
  });
  // An alert firing from 2m, its post failing, re-sent every 90 s (samples of 30 s).
  const failingEvery90s = samples(30, (i) => (i < 4 ? 0 : Math.floor((i - 4) / 3) + 1));
  const notificationTests: RuleTest[] = [
    {
      name: 'posts failing',
      interval: '30s',
      input_series: [notificationErrors(AUDIT, failingEvery90s), notificationErrors(APPLICATION, failingEvery90s)],
      alert_rule_test: [
        { eval_time: '4m', alertname: A.notifications, exp_alerts: [] },
        { eval_time: '6m', alertname: A.notifications, exp_alerts: [notificationAlert('critical', AUDIT, 2), notificationAlert('warning', APPLICATION, 2)] },
      ],
    },
    {
      // One failed post at 2m (an Alertmanager pod restarting); the re-sent alert is accepted.
      name: 'one post failed',
      interval: '30s',
      input_series: [notificationErrors(AUDIT, '0x3 1x30')],
      alert_rule_test: [
        { eval_time: '4m30s', alertname: A.notifications, exp_alerts: [] },
        { eval_time: '5m', alertname: A.notifications, exp_alerts: [] },
        { eval_time: '7m', alertname: A.notifications, exp_alerts: [] },
      ],
    },
  ];

  // ---- The audit trail's rule groups loaded: the ruler's series of each, on the replica that owns it.
  const loaded = (n: number, user: string, group: string, rules: number, values: string) =>
    loki('loki_prometheus_rule_group_rules', n, { user, rule_group: group }, String(values).replace(/RULES/g, String(rules)));
  const elsewhere = [
    // Another application's audit file, and the application tenant's rules: not this trail's.
    loaded(0, AUDIT, ruleGroup(AUDIT, 'other-portal-production-audit.yaml', fastGroup.name), 1, '1x20'),
    loaded(1, APPLICATION, appGroup, 1, '1x20'),
  ];
  const missingRulesAlert = (count: number) => ({
    exp_labels: { severity: 'critical', namespace: NS, service: AUDIT_TRAIL_SERVICE },
    exp_annotations: {
      summary: `Loki's ruler has ${count} of the ${auditGroups.length} rule groups of ${NS}'s audit trail`,
      description: `Loki's ruler has had only ${count} of the ${auditGroups.length} rule groups (${auditGroups.map((g) => g.name).join(', ')}) of the file `
        + `${auditFile} of tenant ${AUDIT} loaded for 3m: the audit trail alerts of ${NS} that are not loaded cannot fire.`,
      runbook_url: runbook(A.auditRulesMissing),
    },
  });
  const rulesLoadedTests: RuleTest[] = [
    {
      name: 'one group not loaded',
      interval: '30s',
      input_series: [...auditGroups.slice(1).map((g, i) => loaded(i % 3, AUDIT, ruleGroup(AUDIT, auditFile, g.name), g.rules.length, 'RULESx20')), ...elsewhere],
      alert_rule_test: [
        { eval_time: '2m', alertname: A.auditRulesMissing, exp_alerts: [] },
        { eval_time: '4m', alertname: A.auditRulesMissing, exp_alerts: [missingRulesAlert(auditGroups.length - 1)] },
      ],
    },
    {
      name: 'none loaded',
      interval: '30s',
      input_series: elsewhere,
      alert_rule_test: [{ eval_time: '4m', alertname: A.auditRulesMissing, exp_alerts: [missingRulesAlert(0)] }],
    },
    {
      // Every group loaded, spread over the replicas, the first moving from one to another (both
      // report it for a minute); after a restart, loaded within 2 minutes.
      name: 'all loaded',
      interval: '30s',
      input_series: [
        ...auditGroups.map((g, i) => loaded(i % 3, AUDIT, ruleGroup(AUDIT, auditFile, g.name), g.rules.length, 'RULESx20')),
        loaded(2, AUDIT, ruleGroup(AUDIT, auditFile, auditGroups[0].name), auditGroups[0].rules.length, '_x10 RULESx10'),
        ...elsewhere,
      ],
      alert_rule_test: [{ eval_time: '8m', alertname: A.auditRulesMissing, exp_alerts: [] }],
    },
    {
      name: 'loaded after a restart',
      interval: '30s',
      input_series: [...auditGroups.map((g, i) => loaded(i % 3, AUDIT, ruleGroup(AUDIT, auditFile, g.name), g.rules.length, '_x4 RULESx20')), ...elsewhere],
      alert_rule_test: [
        { eval_time: '3m', alertname: A.auditRulesMissing, exp_alerts: [] },
        { eval_time: '6m', alertname: A.auditRulesMissing, exp_alerts: [] },
      ],
    },
  ];

  const ALL = [...missingTests, ...pushTests, ...dropTests, ...discardTests, ...flushTests, ...ruleTests, ...notificationTests, ...rulesLoadedTests];

  test('the logging pipeline\'s PrometheusRule is there, in the application\'s namespace, and promtool check rules accepts it', () => {
    expect(rule).toBeDefined();
    expect(rule.metadata.namespace).toBe(NS);
    expectPass(checkRules(rule));
  });

  test('every alert has a case where it fires and one where it stays silent', () => {
    expect(untestedAlerts([rule], ALL)).toEqual({ neverFires: [], neverSilent: [] });
  });

  test('the audit tenant\'s losses page within 3 minutes of their condition (`for`), the other tenants\' ticket; every alert names its service', () => {
    const alerts = rulesOf(rule);
    const critical = alerts.filter((a) => a.labels.severity === 'critical');
    const paging = [A.dropping, A.pushFailing, A.auditRulesMissing, A.ruleEvaluation, A.notifications];
    expect([...new Set(critical.map((a) => a.alert))].sort()).toEqual(paging.sort());
    for (const a of critical) expect(parseDuration(a.for ?? '0s')).toBeLessThanOrEqual(180);
    for (const a of alerts) {
      expect(['critical', 'warning']).toContain(a.labels.severity);
      expect([COLLECTOR, LOKI, AUDIT_TRAIL_SERVICE]).toContain(a.labels.service);
    }
    // An alert of two severities: the page is the audit tenant's, the ticket every other one's.
    for (const name of [A.pushFailing, A.dropping, A.ruleEvaluation, A.notifications]) {
      const [page, ticket] = ['critical', 'warning'].map((s) => alerts.find((a) => a.alert === name && a.labels.severity === s)?.expr as string);
      expect(page).toMatch(new RegExp(`(tenant|user)="${AUDIT}"`));
      expect(ticket).toMatch(new RegExp(`(tenant|user)!="${AUDIT}"`));
    }
  });

  test('nodes without an available collector for 15 minutes, those the DaemonSet leaves out included', () => expectPass(unit(missingTests)));
  test('pushes of a tenant failing for 3 minutes, per collector; retried and accepted is silent', () => expectPass(unit(pushTests)));
  test('lines dropped, a new collector\'s first drops counted, old drops across a failed scrape not', () => expectPass(unit(dropTests)));
  test('Loki discarding lines, from the discard that creates its series', () => expectPass(unit(discardTests)));
  test('Loki\'s chunk flushes mostly failing for 15 minutes', () => expectPass(unit(flushTests)));
  test('the ruler\'s evaluations failing, the 30-second and the slowest groups; a blip is silent', () => expectPass(unit(ruleTests)));
  test('the ruler\'s posts to Alertmanager failing for 3 minutes; one failed post is silent', () => expectPass(unit(notificationTests)));
  test('the application\'s audit rule groups not all loaded by the ruler', () => expectPass(unit(rulesLoadedTests)));

  test('the series come from the charts\' monitors the platform values turn on, and the collector pushes as the tenants the alerts tell apart', () => {
    const apps = argocd.filter((o) => o.kind === 'Application');
    const values = (name: string) => (apps.find((o) => o.metadata.name === name) as K8sObject).spec.source.helm.valuesObject;
    expect(values('alloy').serviceMonitor.enabled).toBe(true);
    expect(values('loki').monitoring.serviceMonitor.enabled).toBe(true);
    // The collector's DaemonSet and Service are named after the release (the chart's alloy.fullname).
    expect((apps.find((o) => o.metadata.name === COLLECTOR) as K8sObject).spec.source.helm.releaseName).toBe(COLLECTOR);
    expect(values('loki').fullnameOverride).toBe(LOKI);
    // The writers' `tenant` label is the tenant they push as: a writer's `tenant_id`, or a line's `stage.tenant`.
    const config = String(values('alloy').alloy.configMap.content);
    const tenants = [...config.matchAll(/tenant_id\s*=\s*"([^"]+)"|stage\.tenant\s*\{\s*value\s*=\s*"([^"]+)"/g)].map((m) => m[1] ?? m[2]);
    expect([...new Set(tenants)].sort()).toEqual(Object.values(LOKI_TENANTS).sort());
  });
});
