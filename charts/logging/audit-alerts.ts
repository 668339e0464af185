/**
 * The audit trail's alerts: Loki ruler rules on the `audit` tenant, in Prometheus' rule file format
 * with LogQL expressions, shipped as a ConfigMap in Loki's own namespace that Loki's rules sidecar
 * writes into the tenant's folder (charts/gitops/values/loki.ts, LOKI_RULES_SIDECAR). The gitops
 * chart makes it (argocd/<env>/, synced by the root Application), not the application's chart: the
 * folder annotation alone picks the tenant, so whoever may create a ConfigMap where the sidecar
 * looks may add rules on the audit trail whose labels carry actors and record ids to the alert
 * receivers. In Loki's namespace that is the root Application and the cluster's administrators, not
 * whoever deploys into the application's namespace. The ruler posts what fires to the Alertmanager
 * every other alert goes to, so these are routed by their `severity` like the rest, grouped by
 * alertname, namespace and service, each with its runbook.
 *
 * Every alert's `service` is AUDIT_TRAIL_SERVICE, never the application's service that wrote the
 * events (that one is `source_app`, AUDIT_SOURCE_APP): Alertmanager's inhibition holds back the
 * warnings of a critical's namespace and service (charts/gitops/alertmanager-config.ts
 * INHIBIT_RULES), so with `service="api"` an api outage's page would hold back the failed sign-ins'
 * ticket, and a bulk read's page every warning of the api.
 *
 * Every query is built from the one definition of the labels and of the audit event
 * (log-streams.ts): stream selectors with streamSelector, event fields from AUDIT_EVENT_FIELDS,
 * actions and outcomes from AUDIT_ACTIONS and AUDIT_OUTCOMES. Loki is not available on this machine:
 * test/audit-alerts.test.ts parses each query with Grafana's LogQL parser and checks the labels it
 * relies on, and checks the rule file's shape and templates with promtool on stand-in expressions.
 *
 * Thresholds compare with `>=`: the configuration's count is the number that alerts
 * (docs/configuration.md, `logging.audit`).
 *
 * Two choices shared by the event queries:
 * - `| json` names only the fields it needs: no label is made of the others, and an event's own
 *   `log_type` and `request_id` keys do not collide with the stream label and metadata of those names.
 * - `| __error__=""` drops a line the parser could not read: Loki fails the whole evaluation of a
 *   metric query when any sample keeps an `__error__` label (pkg/logql/evaluator.go at v3.7.6,
 *   RangeVectorEvaluator), so one malformed event would otherwise silence the alert.
 */
import { Construct } from 'constructs';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { stringify } from 'yaml';
import type { AppIdentity } from '../../environments/model/identity';
import type { Environment } from '../../environments/schema';
import { appMetadata } from '../common/labels';
import { ModelObject } from '../common/model-object';
import { LOKI_RULES_SIDECAR } from '../gitops/values/loki';
import { ALERT_EVALUATION_INTERVAL, alertRuleGroup, type Alert, type AlertGroup } from '../observability/alert-rules';
import { AUDIT_ACTIONS, AUDIT_EVENT_FIELDS, AUDIT_OUTCOMES, LOG_LABELS, LOKI_TENANTS, type LogTypeName } from './log-streams';
import { streamSelector } from './logql';

/** The ConfigMap's name. */
export const AUDIT_ALERTS = 'loki-rules-audit';

/** The alerts, each also its runbook page `runbooks/<name>.md`. */
export const AUDIT_ALERT_NAMES = {
  loginFailures: 'AuditLoginFailureBurst',
  bulkAccess: 'AuditBulkRecordAccess',
  eventsSilent: 'AuditEventsSilent',
  tenantSilent: 'AuditTenantSilent',
} as const;

/**
 * The `service` of every audit alert: what they watch is the application's audit trail, not one of
 * its services. All carry the application's namespace too. Alertmanager's inhibition (same namespace
 * and service) then works within the audit trail only: the page that the whole audit tenant hears
 * nothing holds back the tickets that the application's events are missing (the same failure seen
 * later) and of failed sign-ins (blind while nothing arrives); a bulk read's page holds back the
 * failed sign-ins' ticket, whose address its runbook looks at (runbooks/AuditBulkRecordAccess.md).
 * No page of a service (api down) holds back an audit ticket, and no audit page a service's ticket.
 */
export const AUDIT_TRAIL_SERVICE = 'audit-trail';

/**
 * How long the delivery audit may be silent before the audit tenant counts as cut off. Argo CD's
 * application controller logs every Application's refresh at info level ("Reconciliation
 * completed", controller/appcontroller.go), at least every app-resync period plus its jitter (120 s
 * + up to 60 s: cmd/argocd-application-controller at v3.5.1), into the audit tenant as
 * `log_type="delivery"`: a quarter of an hour is five such periods without a line.
 */
export const AUDIT_TENANT_SILENT_AFTER = '15m';

/**
 * How often each group is evaluated. Each evaluation reads its whole window again, from object
 * storage (the chunks cache is off: charts/gitops/values/loki.ts):
 * - the security events every ALERT_EVALUATION_INTERVAL, as Prometheus' alerts: a bulk read pages
 *   within a minute or two (collector, evaluation, Alertmanager's group_wait of 30 s);
 * - the audit tenant's silence every minute, on a quarter of an hour of Argo CD's logs;
 * - the application's silence every 5 minutes: its window is hours of audit events (`silentAfter`,
 *   6 h by default), and minutes more change nothing.
 */
export const AUDIT_GROUP_INTERVALS = { events: ALERT_EVALUATION_INTERVAL, intake: '1m', silence: '5m' } as const;

type AuditConfig = Environment['logging']['audit'];
type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

const SUCCESS: AuditOutcome = 'success';
/**
 * A sign-in that did not let the caller in: `failure` (a wrong password) and `denied` (refused, as
 * the application answers once it has locked the account): counting only `failure` would stop
 * counting the guessing that goes on against a locked account.
 */
export const REFUSED_LOGIN_OUTCOMES = ['failure', 'denied'] as const satisfies readonly AuditOutcome[];
const F = AUDIT_EVENT_FIELDS;
const APPLICATION_EVENTS: LogTypeName = 'audit';
const DELIVERY: LogTypeName = 'delivery';

/** `| json a="a", b="b"`: only these fields of the event, each as a label of its own name. */
const jsonFields = (...fields: readonly string[]): string => `| json ${fields.map((f) => `${f}=${JSON.stringify(f)}`).join(', ')}`;

/** A regular expression matching exactly these values (Loki anchors label matchers), to be quoted as a LogQL string. */
const oneOf = (values: readonly string[]): string => values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');

const indent = (text: string): string => text.split('\n').map((l) => `  ${l}`).join('\n');

/** The label naming the service that wrote the events, copied from the stream's `app` (not `service`: see above). */
export const AUDIT_SOURCE_APP = 'source_app';

/** AUDIT_SOURCE_APP from the stream's `app` label (the collector always sets `app`). */
const withSourceApp = (vector: string): string => `label_replace(\n${indent(vector)},\n  "${AUDIT_SOURCE_APP}", "$1", "${LOG_LABELS.app}", "(.+)"\n)`;

/** `op by (labels) (inner)`, the inner expression indented. */
const aggregate = (op: 'sum' | 'count', labels: readonly string[], inner: string): string => `${op} by (${labels.join(', ')}) (\n${indent(inner)}\n)`;

/** The alert groups of the audit trail of the application in `namespace`, with the configuration's thresholds. */
export function auditAlertGroups(namespace: string, audit: AuditConfig): AlertGroup[] {
  const events = streamSelector({ namespace, logType: APPLICATION_EVENTS });
  const { failedLogins, bulkAccess, silentAfter } = audit;
  const ns = LOG_LABELS.namespace;
  const app = AUDIT_SOURCE_APP;
  const refused = REFUSED_LOGIN_OUTCOMES.join(' or ');

  // A ticket, not a page: failed sign-ins disclose nothing, the application's own lockout and rate
  // limits are the defence at the time, and a campus behind one NAT address can reach the count on
  // a bad morning. Someone looks at the address (block it at the network's edge, or not) during the day;
  // if the guessing succeeds and the account is used to read records, the bulk-access alert pages.
  const loginFailures: Alert = {
    alert: AUDIT_ALERT_NAMES.loginFailures,
    expr: `${aggregate('sum', [ns, app, F.sourceAddress], withSourceApp(
      `count_over_time(${events} ${jsonFields(F.action, F.outcome, F.sourceAddress)} | ${F.action}="${AUDIT_ACTIONS.login}" `
        + `| ${F.outcome}=~${JSON.stringify(oneOf(REFUSED_LOGIN_OUTCOMES))} | __error__="" [${failedLogins.window}])`,
    ))} >= ${failedLogins.count}`,
    severity: 'warning',
    labels: { service: AUDIT_TRAIL_SERVICE },
    summary: `Failed sign-ins from {{ $labels.${F.sourceAddress} }} to {{ $labels.${ns} }}/{{ $labels.${app} }}`,
    description: `{{ $value }} failed sign-ins (audit events with action ${AUDIT_ACTIONS.login}, outcome ${refused}) from source address `
      + `{{ $labels.${F.sourceAddress} }} within ${failedLogins.window} in {{ $labels.${app} }} of namespace {{ $labels.${ns} }}; `
      + `${failedLogins.count} or more alert: password guessing or credential stuffing from that address.`,
  };

  // A page: one actor reading this many distinct protected records in minutes is a bulk export or
  // a stolen account being used to scrape, a disclosure of education records in progress (a
  // possible FERPA breach, to be stopped and, if unauthorized, recorded and reported). Distinct
  // records are distinct (resource_type, resource_id) pairs: reading one student's record twice
  // counts once. Only reads that succeeded (action read or export, outcome success) disclose.
  const bulk: Alert[] = bulkAccess === undefined ? [] : [{
    alert: AUDIT_ALERT_NAMES.bulkAccess,
    expr: `${aggregate('count', [ns, app, F.actor], aggregate('count', [ns, app, F.actor, F.resourceType, F.resourceId], withSourceApp(
      `count_over_time(${events} ${jsonFields(F.actor, F.action, F.resourceType, F.resourceId, F.outcome)} `
        + `| ${F.action}=~${JSON.stringify(oneOf([AUDIT_ACTIONS.read, AUDIT_ACTIONS.export]))} | ${F.resourceType}=~${JSON.stringify(oneOf(bulkAccess.resourceTypes))} `
        + `| ${F.outcome}="${SUCCESS}" | __error__="" [${bulkAccess.window}])`,
    )))} >= ${bulkAccess.records}`,
    severity: 'critical',
    labels: { service: AUDIT_TRAIL_SERVICE },
    summary: `{{ $labels.${F.actor} }} read {{ $value }} distinct ${bulkAccess.resourceTypes.join('/')} records in {{ $labels.${ns} }} within ${bulkAccess.window}`,
    description: `The actor {{ $labels.${F.actor} }} read {{ $value }} distinct records of type ${bulkAccess.resourceTypes.join(', ')} `
      + `(audit events with action ${AUDIT_ACTIONS.read} or ${AUDIT_ACTIONS.export}, outcome ${SUCCESS}) within ${bulkAccess.window} through `
      + `{{ $labels.${app} }} in namespace {{ $labels.${ns} }}; ${bulkAccess.records} or more alert. A bulk export or a stolen account `
      + 'scraping records: a possible unauthorized disclosure of education records (FERPA).',
  }];

  // A ticket: hours without an event may be a quiet night, and what is lost is the record of
  // accesses, not the data; the fix (a release that stopped writing events, the collector's routing)
  // is a working-day change. When the whole audit tenant is cut off, AuditTenantSilent has paged
  // hours before, and holds this back (same namespace and service).
  const eventsSilent: Alert[] = silentAfter === undefined ? [] : [{
    alert: AUDIT_ALERT_NAMES.eventsSilent,
    expr: `absent_over_time(${events}[${silentAfter}])`,
    severity: 'warning',
    labels: { service: AUDIT_TRAIL_SERVICE },
    summary: `No audit events from {{ $labels.${ns} }} for ${silentAfter}`,
    description: `Loki's ${LOKI_TENANTS.audit} tenant has received no application audit event (log_type ${APPLICATION_EVENTS}) from namespace `
      + `{{ $labels.${ns} }} for ${silentAfter}: the services stopped writing them, the collector stopped routing them, or Loki stopped `
      + 'taking them. Reads and changes of student records in that time may be unrecorded.',
  }];

  // A page: the delivery audit never stops while Argo CD runs, so its silence means nothing reaches
  // the audit tenant (the collector's push as that tenant, or Loki), and with it no application
  // audit event, security event or API audit is kept, and the other audit alerts are blind. Seen
  // a quarter of an hour after it starts, while the collector still holds what it could not send.
  const tenantSilent: Alert = {
    alert: AUDIT_ALERT_NAMES.tenantSilent,
    expr: `absent_over_time(${streamSelector({ logType: DELIVERY })}[${AUDIT_TENANT_SILENT_AFTER}])`,
    severity: 'critical',
    labels: { [ns]: namespace, service: AUDIT_TRAIL_SERVICE },
    summary: `Loki's ${LOKI_TENANTS.audit} tenant has received no delivery audit for ${AUDIT_TENANT_SILENT_AFTER}`,
    // The namespace written out: a template's $labels are the expression's, without the rule's own labels.
    description: `No line of Argo CD's logs and events (log_type ${DELIVERY}) has reached Loki's ${LOKI_TENANTS.audit} tenant for `
      + `${AUDIT_TENANT_SILENT_AFTER}, although Argo CD logs every Application's refresh every few minutes: the path from the collector to `
      + `the ${LOKI_TENANTS.audit} tenant is broken, and the audit trail of ${namespace} (its audit events, the security events, `
      + 'the API audit) is not being kept.',
  };

  return [
    { name: 'audit-events', interval: AUDIT_GROUP_INTERVALS.events, alerts: [loginFailures, ...bulk] },
    { name: 'audit-intake', interval: AUDIT_GROUP_INTERVALS.intake, alerts: [tenantSilent] },
    ...(eventsSilent.length > 0 ? [{ name: 'audit-silence', interval: AUDIT_GROUP_INTERVALS.silence, alerts: eventsSilent }] : []),
  ];
}

/** The file the sidecar writes into the tenant's folder: a rule namespace of the tenant, one per application and environment. */
export const auditRuleFileName = (identity: AppIdentity): string => `${identity.instance}-audit.yaml`;

export interface AuditAlertsProps {
  /** The application in its environment: the ConfigMap's labels, and the namespace whose audit events are watched. */
  readonly identity: AppIdentity;
  /** Loki's namespace, the only one its rules sidecar reads (charts/gitops/values/loki.ts). */
  readonly namespace: string;
  /** The root Application's sync wave: after the namespace exists. */
  readonly wave: number;
  /** The thresholds: `logging.audit`. */
  readonly audit: AuditConfig;
  /** Where the runbooks are read: the repository's web address at the synced revision. */
  readonly runbookBase: string;
}

/** The audit trail's Loki rules: one ConfigMap in Loki's namespace, one rule file, for the `audit` tenant. */
export class AuditAlerts extends Construct {
  constructor(scope: Construct, id: string, props: AuditAlertsProps) {
    super(scope, id);
    const { identity } = props;
    const metadata = { ...appMetadata(identity, { name: AUDIT_ALERTS, component: 'monitoring' }), namespace: props.namespace };
    const groups = auditAlertGroups(identity.namespace, props.audit).map((g) => alertRuleGroup(g, props.runbookBase));
    new ModelObject(this, 'ConfigMap', new ConfigMap({
      metadata: {
        ...metadata,
        labels: { ...metadata.labels, [LOKI_RULES_SIDECAR.label]: LOKI_RULES_SIDECAR.labelValue },
        // Relative: the tenant's folder below the sidecar's, where the ruler reads the tenant's rules.
        annotations: { [LOKI_RULES_SIDECAR.folderAnnotation]: LOKI_TENANTS.audit, 'argocd.argoproj.io/sync-wave': String(props.wave) },
      },
      data: { [auditRuleFileName(identity)]: stringify({ groups }, { lineWidth: 0 }) },
    }));
  }
}
