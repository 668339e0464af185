/**
 * Alerts on the logging pipeline itself, from Prometheus: nothing else notices when logs stop being
 * collected, are dropped on the way, or when Loki's ruler, which evaluates the audit trail's alerts
 * (charts/logging/audit-alerts.ts), cannot evaluate them or deliver what fires. Any of these leaves
 * the audit trail broken without a sound: the audit alerts read what reached Loki, and are
 * themselves evaluated by Loki.
 *
 * Where the series come from (test/fixtures/metrics/{kube-state-metrics,alloy,loki}.txt say where
 * each name is defined):
 * - kube-state-metrics: the collector's DaemonSet (`namespace` and `daemonset` its own) and the
 *   cluster's nodes.
 * - The collector (Grafana Alloy v1.18.1, release `alloy`): its chart's ServiceMonitor, turned on
 *   by charts/gitops/values/alloy.ts, scrapes Service `alloy` port `http-metrics` with
 *   `honorLabels: true`; Alloy's own series carry no `namespace`, `pod` or `job`, so those are the
 *   target's (`namespace="log-collector"`, `job="alloy"`). The `loki.write` component's counters
 *   are labelled `host`, `tenant` (the `X-Scope-OrgID` it pushes as) and, for drops, `reason`,
 *   plus Alloy's `component_id` and `component_path`.
 * - Loki 3.7.6 (release `loki`, single binary): its chart's ServiceMonitor (loki-18.11.0
 *   templates/monitoring/servicemonitor.yaml), turned on by charts/gitops/values/loki.ts, scrapes
 *   Service `loki` port `http-metrics` (the headless one is excluded by its
 *   `prometheus.io/service-monitor: "false"`), `job="logging/loki"` (its jobPrefix), the target's
 *   `namespace="logging"`. The ruler's series are per tenant (`user`) and rule group
 *   (`rule_group`: `<rule path>/<tenant>/<file>;<group>`), prefixed `loki_` (`metrics_namespace`,
 *   Loki's default; pkg/ruler/base/manager_metrics.go and manager.go at v3.7.6).
 *
 * Severity follows what is lost: the audit tenant's logs and rules page (records of access to
 * education records that are not kept, or a disclosure alert that cannot fire), the application
 * tenant's ticket. Two rules of one name then differ only in severity and tenant, as the
 * certificates' do. Each alert's `service` is the component: `alloy`, `loki`, or for the rules of
 * this application's audit trail, the audit trail (AUDIT_TRAIL_SERVICE), as its own alerts say.
 *
 * Pods down, targets that cannot be scraped and crash loops are TargetDown's (general-alerts.ts,
 * every target of the cluster): not repeated here.
 */
import { Construct } from 'constructs';
import type { AppIdentity } from '../../environments/model/identity';
import { parseDuration } from '../../environments/quantity';
import type { Environment } from '../../environments/schema';
import { PLATFORM_RELEASES, type PlatformReleaseName } from '../gitops/platform-releases';
import { LOKI_NAME } from '../gitops/values/loki';
import { AUDIT_TRAIL_SERVICE, auditAlertGroups, auditRuleFileName } from '../logging/audit-alerts';
import { LOKI_TENANTS } from '../logging/log-streams';
import { ALERT_EVALUATION_INTERVAL, AlertRules, type Alert, type AlertGroup, type Severity } from './alert-rules';

/** The PrometheusRule's name. */
export const LOGGING_ALERTS = 'logging-alerts';

/** The alerts, each also its runbook page `runbooks/<name>.md`. */
export const LOGGING_ALERT_NAMES = {
  collectorMissing: 'LogCollectorMissingOnNodes',
  pushFailing: 'LogCollectorPushFailing',
  dropping: 'LogCollectorDroppingLogs',
  discarding: 'LokiDiscardingLogs',
  flushFailing: 'LokiChunkFlushFailing',
  ruleEvaluation: 'LokiRuleEvaluationFailing',
  notifications: 'LokiRulerNotificationsFailing',
  auditRulesMissing: 'LokiAuditRulesMissing',
} as const;

/**
 * The collector's DaemonSet and Service, and the `service` of its alerts: the chart's
 * `alloy.fullname`, which is the release's name when that contains the chart's (release `alloy`).
 */
export const COLLECTOR = 'alloy' satisfies PlatformReleaseName;
/** Loki's StatefulSet and Service (`fullnameOverride`), and the `service` of its alerts. */
export const LOKI = LOKI_NAME;

/**
 * How long nodes may lack an available collector before the ticket. A DaemonSet rollout replaces
 * one node's collector at a time (a minute each, image pull included), a rebooted node's comes back
 * with it; a quarter of an hour is longer than either on a cluster of ten nodes. Nothing is lost
 * at once: the collector goes on from the read positions it keeps on the node.
 */
export const COLLECTOR_MISSING_FOR = '15m';

/**
 * A collector is stuck on a tenant when its writer retried a batch within PUSH_FAILING_WINDOW and
 * had none accepted in it: Alloy's `loki.write` retries a failed batch (5xx, 429, no answer) and
 * sends nothing else meanwhile, with a jittered backoff from 0.5 s that doubles up to 5 minutes
 * between attempts (`max_backoff_period`), by default 10 times, about 8.5 minutes, then drops it
 * (internal/component/loki/write/types.go GetDefaultEndpointOptions; grafana/dskit backoff); a
 * writer with `max_backoff_retries = 0` retries without end. Once the attempts are minutes apart
 * the window sees none for a while: a collector seen stuck stays so for PUSH_STUCK_HOLD (longer
 * than the 3 minutes between the end of a window and the next attempt) unless it sends again
 * within PUSH_RESUMED_WINDOW. Nothing sent in a window with no retry either is an idle node, not
 * a stuck one. Held PUSH_FAILING_FOR: the page comes 3 minutes after the last accepted push.
 */
export const PUSH_FAILING_WINDOW = '2m';
export const PUSH_FAILING_FOR = '1m';
export const PUSH_STUCK_HOLD = '4m';
export const PUSH_RESUMED_WINDOW = '1m';

/** How long a drop (or a discard in Loki) keeps its alert firing: one notification per burst, not per line. */
export const DROP_WINDOW = '10m';
export const DISCARD_WINDOW = '15m';

/** Chunk flushes failing, as a share of those attempted, and for how long, before the ticket. */
export const FLUSH_FAILURE_RATIO = 0.5;
export const FLUSH_FAILING_FOR = '15m';

/**
 * A rule group whose evaluations fail: at least RULE_FAILURES failed rule evaluations within
 * RULE_FAILURE_WINDOW (one failed evaluation, a query that timed out while Loki restarted, is not
 * the alert), and RULE_FAILURE_RATIO or more of the group's rule evaluations failing, either in
 * the last RULE_RECENT_WINDOW (a group evaluated every 30 s or minute) or over RULE_FAILURE_WINDOW
 * (the application's silence, evaluated every 5 minutes: three failed evaluations), held for
 * RULE_FAILING_FOR. A group that fails every time is seen about 4 minutes after it starts (the
 * 5-minute group after three failures); a blip of Loki of two minutes is not, and the rules'
 * windows see again what happened meanwhile once they evaluate.
 */
export const RULE_FAILURES = 3;
export const RULE_FAILURE_WINDOW = '15m';
export const RULE_RECENT_WINDOW = '2m';
export const RULE_FAILURE_RATIO = 0.5;
export const RULE_FAILING_FOR = '3m';

/**
 * Alerts the ruler could not post to Alertmanager: any within the window, and still within it for
 * as long again. The ruler re-sends a firing alert at its group's first evaluation a minute after
 * the last post (`ruler.resend-delay`, 1 min), so a broken path keeps failing; one failed post (an
 * Alertmanager pod restarting) is not the alert.
 */
export const NOTIFICATION_WINDOW = '3m';

/** How long the audit trail's rule groups may be missing from the ruler: the sidecar's copy and the ruler's poll (1 min) of its rule files. */
export const AUDIT_RULES_MISSING_FOR = '3m';

/**
 * How far back the value a counter had at the start of a window is looked for: a failed scrape
 * there leaves a gap (a staleness marker), which must not make an old series look new.
 */
const COUNTER_LOOKBACK = '1h';

/**
 * Increments of a counter within `window`, exactly, per series: the difference from the last value
 * before the window; a series that did not exist before it (Loki creates `loki_discarded_samples_total`
 * at its first discard, at the count discarded) or was reset within it (its process restarted)
 * counts its whole value, all of which falls within the window. `increase()` would miss a new
 * series' first value and round the rest by extrapolation. Meant as an aggregation's argument:
 * `or` binds loosest.
 */
export function increments(selector: string, window: string): string {
  return `(${selector} - last_over_time(${selector}[${COUNTER_LOOKBACK}] offset ${window}) >= 0) or ${selector}`;
}

/** A label matcher's value: equal to a string, or not (`!`), or matching a regular expression (`~`). */
type Matcher = string | { readonly not: string } | { readonly re: string };

/** A metric with label matchers, `name{a="b",c!="d",e=~"f"}`. */
function sel(metric: string, matchers: Readonly<Record<string, Matcher>>): string {
  const matcher = ([label, m]: [string, Matcher]) => (typeof m === 'string' ? `${label}=${JSON.stringify(m)}`
    : 'not' in m ? `${label}!=${JSON.stringify(m.not)}` : `${label}=~${JSON.stringify(m.re)}`);
  return `${metric}{${Object.entries(matchers).map(matcher).join(',')}}`;
}

/** A regular expression matching exactly `value` (Prometheus anchors label matchers). */
const literal = (value: string): string => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const AUDIT = LOKI_TENANTS.audit;

/** Each line of `text` indented by `by` spaces. */
const indent = (text: string, by: number): string => text.split('\n').map((l) => ' '.repeat(by) + l).join('\n');

/** Durations added up, in whole minutes, for the descriptions. */
const minutes = (...durations: readonly string[]): number => durations.reduce((sum, d) => sum + parseDuration(d), 0) / 60;

/** The two severities of an alert by tenant: the audit tenant's page, every other tenant's ticket. */
function byTenant(make: (severity: Severity, tenant: Matcher) => Alert): Alert[] {
  return [make('critical', AUDIT), make('warning', { not: AUDIT })];
}

/** What the tenant's loss means, for the descriptions. */
const whatIsLost = (severity: Severity): string => (severity === 'critical'
  ? 'These are audit records (the application\'s audit events, Argo CD\'s delivery log, Falco\'s events, the API server\'s audit): a gap in the audit trail.'
  : 'These are application logs: a gap in what can be searched later.');

function collectorAlerts(): Alert[] {
  const ns = PLATFORM_RELEASES[COLLECTOR].namespace;
  const daemonset = (metric: string) => `max by (namespace, daemonset) (${sel(metric, { namespace: ns, daemonset: COLLECTOR })})`;
  const perPod = (metric: string, tenant: Matcher, window: string) =>
    `sum by (namespace, pod, tenant) (${increments(sel(metric, { namespace: ns, tenant }), window)})`;
  const service = { service: COLLECTOR };
  return [
    {
      // A node without a running collector: its pods' logs, audit events among them, are not read
      // while it lasts, and those of pods deleted meanwhile (a finished Job, a replaced replica) are
      // gone with the pods' log files. A ticket: the collector resumes from its saved positions, and
      // AuditTenantSilent pages when no collector reaches the audit tenant at all, the DaemonSet
      // gone included (it then has no series here). Counted against every node, not the
      // DaemonSet's desired number: a node whose taints the collector does not tolerate (it
      // tolerates every NoSchedule one) is left out of that, and its logs are not collected either.
      // Nodes counted once however many kube-state-metrics replicas report them.
      alert: LOGGING_ALERT_NAMES.collectorMissing,
      expr: `count(count by (node) (kube_node_info))\n- on () group_right\n${daemonset('kube_daemonset_status_number_available')}\n> 0`,
      for: COLLECTOR_MISSING_FOR,
      severity: 'warning',
      labels: service,
      summary: 'The log collector is not running on {{ $value }} node(s)',
      description: `{{ $value }} of the cluster's nodes have had no available log collector (DaemonSet {{ $labels.namespace }}/{{ $labels.daemonset }}) `
        + `for ${COLLECTOR_MISSING_FOR}: the logs of their pods, the application's audit events among them, are not being collected, `
        + 'and those of pods deleted meanwhile are lost with their log files.',
    },
    // Every push of a tenant failing and being retried, with none accepted: Loki (its gateway, its
    // write path) is down or refuses the tenant (429: its rate limits). The batch is held: the
    // page comes before retries run out, and before the kubelet rotates away what the collector
    // does not read while it waits. Counted per collector (one node's network, or Loki for all),
    // reported per tenant.
    ...byTenant((severity, tenant) => {
      const stuck = `(${perPod('loki_write_batch_retries_total', tenant, PUSH_FAILING_WINDOW)} > 0)\n`
        + `unless on (namespace, pod, tenant)\n(${perPod('loki_write_sent_entries_total', tenant, PUSH_FAILING_WINDOW)} > 0)`;
      return {
        alert: LOGGING_ALERT_NAMES.pushFailing,
        expr: `count by (namespace, tenant) (\n  count_over_time((\n${indent(stuck, 4)}\n  )[${PUSH_STUCK_HOLD}:${ALERT_EVALUATION_INTERVAL}])\n`
          + `  unless on (namespace, pod, tenant)\n  (${perPod('loki_write_sent_entries_total', tenant, PUSH_RESUMED_WINDOW)} > 0)\n)`,
        for: PUSH_FAILING_FOR,
        severity,
        labels: service,
        summary: '{{ $value }} log collector(s) cannot push the {{ $labels.tenant }} tenant\'s logs to Loki',
        description: '{{ $value }} log collector(s) in {{ $labels.namespace }} have had every push of tenant {{ $labels.tenant }} to Loki fail '
          + `and retried, none accepted, for ${minutes(PUSH_FAILING_WINDOW, PUSH_FAILING_FOR)} minutes or more. They hold what they could not send and retry it; `
          + `it is lost when their retries run out, and what they do not read meanwhile when the kubelet rotates it away. ${whatIsLost(severity)}`,
      };
    }),
    // Lines dropped for good: after the last retry, refused outright by Loki (4xx), or over the
    // writer's stream limit. The audit tenant's drops are records of access that will never be
    // kept: a page at the first one. The application tenant's: a ticket.
    ...byTenant((severity, tenant) => ({
      alert: LOGGING_ALERT_NAMES.dropping,
      expr: `sum by (namespace, tenant, reason) (${increments(sel('loki_write_dropped_entries_total', { namespace: ns, tenant }), DROP_WINDOW)}) > 0`,
      severity,
      labels: service,
      summary: 'The log collector dropped {{ $value }} line(s) of the {{ $labels.tenant }} tenant',
      description: `The log collectors in {{ $labels.namespace }} dropped {{ $value }} log line(s) of tenant {{ $labels.tenant }} in the last ${DROP_WINDOW} `
        + `(reason {{ $labels.reason }}): they were not delivered to Loki and never will be. ${whatIsLost(severity)}`,
    })),
  ];
}

function lokiAlerts(): Alert[] {
  const ns = PLATFORM_RELEASES.loki.namespace;
  const service = { service: LOKI };
  const ruler = (metric: string, user: Matcher) => sel(metric, { namespace: ns, user });
  const byGroup = 'namespace, user, rule_group';
  const FAILURES = 'loki_prometheus_rule_evaluation_failures_total';
  // Rule evaluations, not group iterations: a group whose one rule of two always fails is half failing.
  const failingShare = (user: Matcher, window: string) => `sum by (${byGroup}) (rate(${ruler(FAILURES, user)}[${window}]))\n`
    + `  / sum by (${byGroup}) (rate(${ruler('loki_prometheus_rule_evaluations_total', user)}[${window}])) >= ${RULE_FAILURE_RATIO}`;
  return [
    {
      // Loki refused lines (too long, too old, over a rate or stream limit, labels it does not
      // take). What this loses the collector's alerts say, paging for the audit tenant; this says
      // why, which the collector cannot (it sees only the status code). A ticket: the fix is a limit
      // or the collector's configuration, by a commit. Counted from the first discard: Loki
      // creates the series then.
      alert: LOGGING_ALERT_NAMES.discarding,
      expr: `sum by (namespace, tenant, reason) (${increments(sel('loki_discarded_samples_total', { namespace: ns }), DISCARD_WINDOW)}) > 0`,
      severity: 'warning',
      labels: service,
      summary: 'Loki discarded {{ $value }} line(s) of the {{ $labels.tenant }} tenant ({{ $labels.reason }})',
      description: `Loki in {{ $labels.namespace }} discarded {{ $value }} log line(s) pushed for tenant {{ $labels.tenant }} in the last ${DISCARD_WINDOW}, `
        + 'for reason {{ $labels.reason }}: a limit of Loki\'s refused them. Lines refused for a rate limit are retried by the collector; the others are lost.',
    },
    {
      // Loki accepts pushes into memory and its write-ahead log, and writes chunks to storage
      // (the bucket, or the volume without one) when they are full or idle. Flushes failing
      // (storage credentials, the bucket, a full volume) leave everything in memory and the WAL:
      // nothing is lost yet, but older logs cannot be read from storage, memory grows until the
      // pod is killed and replays its WAL. A ticket; a quarter of an hour of mostly failed flushes
      // is not a storage blip, which Loki's own retries ride out.
      alert: LOGGING_ALERT_NAMES.flushFailing,
      expr: `sum by (namespace, pod) (rate(${sel('loki_ingester_chunks_flush_failures_total', { namespace: ns })}[15m]))\n`
        + `/ sum by (namespace, pod) (rate(${sel('loki_ingester_chunks_flush_requests_total', { namespace: ns })}[15m]))\n> ${FLUSH_FAILURE_RATIO}`,
      for: FLUSH_FAILING_FOR,
      severity: 'warning',
      labels: service,
      summary: 'Loki {{ $labels.pod }} cannot write chunks to storage',
      description: `{{ $value | humanizePercentage }} of the chunk flushes of {{ $labels.namespace }}/{{ $labels.pod }} to storage have failed for ${FLUSH_FAILING_FOR}: `
        + 'what it took is held in memory and its write-ahead log only, and grows until it is written or the pod runs out of memory.',
    },
    // A rule group of the ruler whose evaluations keep failing (the query errors or times out,
    // Loki cannot read): its alerts cannot fire. For the audit tenant that is the audit trail's
    // own alerts (bulk record access, the tenant's silence) blind: a page.
    ...byTenant((severity, user) => ({
      alert: LOGGING_ALERT_NAMES.ruleEvaluation,
      expr: `(sum by (${byGroup}) (${increments(ruler(FAILURES, user), RULE_FAILURE_WINDOW)}) >= ${RULE_FAILURES})\n`
        + `and on (${byGroup})\n(\n  ${failingShare(user, RULE_RECENT_WINDOW)}\n  or\n  ${failingShare(user, RULE_FAILURE_WINDOW)}\n)`,
      for: RULE_FAILING_FOR,
      severity,
      labels: service,
      summary: 'Loki\'s ruler fails to evaluate rules of the {{ $labels.user }} tenant',
      description: `{{ $value }} rule evaluations of the group {{ $labels.rule_group }} (tenant {{ $labels.user }}) failed in the last ${RULE_FAILURE_WINDOW}, `
        + `and ${RULE_FAILURE_RATIO * 100}% or more of its evaluations keep failing: its alerts cannot fire while this lasts.`
        + (severity === 'critical' ? ' These are the audit trail\'s alerts.' : ''),
    })),
    // Alerts the ruler evaluated, and could not post to Alertmanager (its address, a
    // NetworkPolicy, Alertmanager down): they fired, and nobody hears of them. For the audit
    // tenant that is a possible disclosure of records paging no one. Only visible while an alert
    // fires: a broken path with nothing to send shows nowhere.
    ...byTenant((severity, user) => ({
      alert: LOGGING_ALERT_NAMES.notifications,
      expr: `sum by (namespace, user) (${increments(ruler('loki_prometheus_notifications_errors_total', user), NOTIFICATION_WINDOW)}) > 0`,
      for: NOTIFICATION_WINDOW,
      severity,
      labels: service,
      summary: 'Loki\'s ruler cannot send the {{ $labels.user }} tenant\'s alerts to Alertmanager',
      description: `Loki's ruler in {{ $labels.namespace }} failed to post {{ $value }} alert(s) of tenant {{ $labels.user }} to Alertmanager in the last ${NOTIFICATION_WINDOW}, `
        + `and has kept failing for ${NOTIFICATION_WINDOW}: those alerts fired and were not delivered. See them in the ruler's API.`
        + (severity === 'critical' ? ' These are the audit trail\'s alerts: a possible disclosure of records may be paging no one.' : ''),
    })),
  ];
}

/**
 * The rule groups of this application's audit trail must all be loaded by Loki's ruler: the
 * ConfigMap the sidecar copies into the audit tenant's folder (a wrong label or folder), the rule
 * file parsing (a file that does not parse stops the ruler from loading any of the folder's
 * rules, and only its log says so), the ruler running. Counted by the series the ruler has of
 * each group, which it keeps from the group's loading on.
 */
function auditRulesAlert(namespace: string, audit: Environment['logging']['audit'], fileName: string): Alert {
  const groups = auditAlertGroups(namespace, audit).map((g) => g.name);
  const ruleGroup = { re: `.+/${literal(AUDIT)}/${literal(fileName)};(${groups.map(literal).join('|')})` };
  const loaded = `count(count by (rule_group) (${sel('loki_prometheus_rule_group_rules', { namespace: PLATFORM_RELEASES.loki.namespace, user: AUDIT, rule_group: ruleGroup })}))`;
  return {
    // A page: without these rules, a bulk read of records and the audit tenant's silence alert nobody.
    alert: LOGGING_ALERT_NAMES.auditRulesMissing,
    expr: `(${loaded} or vector(0)) < ${groups.length}`,
    for: AUDIT_RULES_MISSING_FOR,
    severity: 'critical',
    labels: { namespace, service: AUDIT_TRAIL_SERVICE },
    summary: `Loki's ruler has {{ $value }} of the ${groups.length} rule groups of ${namespace}'s audit trail`,
    // The namespace written out: a template's $labels are the expression's, without the rule's own labels.
    description: `Loki's ruler has had only {{ $value }} of the ${groups.length} rule groups (${groups.join(', ')}) of the file ${fileName} of tenant ${AUDIT} `
      + `loaded for ${AUDIT_RULES_MISSING_FOR}: the audit trail alerts of ${namespace} that are not loaded cannot fire.`,
  };
}

/** The alert groups on the logging pipeline, for the application's audit trail's rules. */
export function loggingAlertGroups(identity: AppIdentity, audit: Environment['logging']['audit']): AlertGroup[] {
  return [
    { name: 'log-collector', alerts: collectorAlerts() },
    { name: 'loki', alerts: [...lokiAlerts(), auditRulesAlert(identity.namespace, audit, auditRuleFileName(identity))] },
  ];
}

export interface LoggingAlertsProps {
  /** The application in its environment: the rules' namespace and labels, its audit trail's rule file. */
  readonly identity: AppIdentity;
  /** `logging.audit`: which of the audit trail's rule groups there are. */
  readonly audit: Environment['logging']['audit'];
  /** Where the runbooks are read: the repository's web address at the synced revision. */
  readonly runbookBase: string;
}

/** The PrometheusRule of the logging pipeline's alerts. */
export class LoggingAlerts extends Construct {
  constructor(scope: Construct, id: string, props: LoggingAlertsProps) {
    super(scope, id);
    new AlertRules(this, 'Rules', {
      identity: props.identity, name: LOGGING_ALERTS, labelName: 'logging', groups: loggingAlertGroups(props.identity, props.audit), runbookBase: props.runbookBase,
    });
  }
}
