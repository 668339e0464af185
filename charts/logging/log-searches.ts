/**
 * The saved searches: the LogQL of the common questions asked of the logs, each with a title, what
 * it answers, and the Grafana variables it takes (`$app`, `$request_id`, `$actor`…). The logs
 * dashboards (logs-dashboard.ts) show these and no other queries; docs/logging.md lists them for
 * Explore. Every selector is made by streamSelector from the collector's labels (log-streams.ts),
 * and every field after `| json` is a key of the event shape the services write (AUDIT_EVENT_FIELDS),
 * or of Falco's alerts and the API server's audit events, as `| json` names it (audit-source-fields.ts).
 *
 * A search reads the log types it names, and so one tenant: a Loki query reads a single tenant,
 * the one its data source names in `X-Scope-OrgID` (charts/gitops/values/kube-prometheus-stack.ts).
 * There is no Loki binary on this machine: the queries are checked by Grafana's own LogQL parser
 * (test/log-searches.test.ts).
 */
import { FALCO_EVENT, jsonLabel, KUBERNETES_AUDIT_EVENT, KUBERNETES_AUDIT_TARGETS } from './audit-source-fields';
import { EVENTS_APP } from './collector-config';
import {
  AUDIT_ACTIONS, AUDIT_EVENT_FIELDS, AUDIT_OUTCOMES, LOG_LABELS, LOG_LEVELS, LOG_METADATA, LOG_TYPES,
  type LogLabel, type LogTypeName, type LokiTenant,
} from './log-streams';
import { streamSelector } from './logql';

/** A dashboard variable a search reads as `$<name>`. */
export interface SearchVariable {
  readonly name: string;
  /** What the variable's box is labelled with. */
  readonly label: string;
  readonly description: string;
  /** A value of the kind the variable takes: docs/logging.md shows it, tests put it in the query. */
  readonly example: string;
  /** A variable chosen from a list: the values of `label` in the streams of `selector`. Else free text. */
  readonly valuesOf?: { readonly selector: string; readonly label: LogLabel };
}

export interface LogSearch {
  readonly title: string;
  /** What the search answers and how to read it (a dashboard panel's (i) tooltip). */
  readonly description: string;
  /** The kinds of log it reads (LOG_TYPES): the ones its selector names. */
  readonly logTypes: readonly LogTypeName[];
  /** The tenant those log types go to: the data source the search runs on. */
  readonly tenant: LokiTenant;
  readonly variables: readonly SearchVariable[];
  /** `lines`: log lines; `metric`: series (a LogQL metric query), named in the legend by `legend`. */
  readonly kind: 'lines' | 'metric';
  readonly legend?: string;
  readonly query: string;
}

/** Where the searches look: the environment's namespaces. */
export interface LogSearchScope {
  /** The application's namespace: its services' logs and audit events. */
  readonly appNamespace: string;
  /** Where the gateway's proxies run: the access log. */
  readonly gatewayNamespace: string;
}

export type LogSearchName =
  | 'logVolume' | 'serviceErrors' | 'requestEndToEnd' | 'gatewayServerErrors'
  | 'auditTrail' | 'failedLogins' | 'actorOnRecord' | 'deliverySyncs'
  | 'securityEventCounts' | 'namespaceSecurityEvents'
  | 'kubernetesUserActions' | 'secretAccess' | 'podSessions';
export type LogSearches = Readonly<Record<LogSearchName, LogSearch>>;

/**
 * Grafana's built-in variables the searches use, with a value of the kind Grafana puts there:
 * `$__auto` is the step of a range query (Grafana's advice for Loki metric queries).
 */
export const GRAFANA_BUILTIN_EXAMPLES: Readonly<Record<string, string>> = { $__auto: '1m' };

/** The one tenant of a set of log types; a search over two tenants could not run. */
export function tenantOf(logTypes: readonly LogTypeName[]): LokiTenant {
  const tenants = [...new Set(logTypes.map((type) => LOG_TYPES[type].tenant))];
  if (tenants.length !== 1) throw new Error(`log types ${logTypes.join(', ')} are in ${tenants.length === 0 ? 'no' : 'several'} tenants: a query reads one`);
  return tenants[0];
}

/** A selector's matcher on the log types: one value, or any of several. */
const logTypeMatcher = (logTypes: readonly LogTypeName[]) => (logTypes.length === 1 ? logTypes[0] : { re: logTypes.join('|') });
/** `field="value"` after a parser stage: the line's own field, its value a LogQL string. */
const equals = (field: string, value: string) => `${field}=${JSON.stringify(value)}`;
const matches = (field: string, values: readonly string[]) => `${field}=~${JSON.stringify(values.join('|'))}`;
const variable = (name: string) => `$${name}`;

/**
 * Argo CD's events of a sync (argoproj/argo-cd util/argo/audit_logger.go: EventReasonOperationStarted,
 * EventReasonOperationCompleted), under the key Alloy's kubernetes_events source writes an event's
 * reason with (grafana/alloy v1.18.1 internal/component/loki/source/kubernetes_events/event_controller.go).
 */
export const ARGOCD_EVENT = { reason: 'reason', started: 'OperationStarted', completed: 'OperationCompleted' } as const;

/** Falco's alert and the API server's audit event: the labels `| json` gives the keys the searches read. */
const FALCO = {
  rule: jsonLabel(FALCO_EVENT.rule),
  priority: jsonLabel(FALCO_EVENT.priority),
  namespace: jsonLabel(FALCO_EVENT.namespace),
} as const;
const K8S_AUDIT = {
  username: jsonLabel(KUBERNETES_AUDIT_EVENT.username),
  impersonatedUsername: jsonLabel(KUBERNETES_AUDIT_EVENT.impersonatedUsername),
  resource: jsonLabel(KUBERNETES_AUDIT_EVENT.resource),
  subresource: jsonLabel(KUBERNETES_AUDIT_EVENT.subresource),
} as const;

/** The levels that mean something failed: error and what is worse. */
const FAILURE_LEVELS = LOG_LEVELS.slice(LOG_LEVELS.indexOf('error'));

function search(s: Omit<LogSearch, 'tenant'>): LogSearch {
  return { ...s, tenant: tenantOf(s.logTypes) };
}

export function logSearches(scope: LogSearchScope): LogSearches {
  const { appNamespace, gatewayNamespace } = scope;
  const app: SearchVariable = {
    name: LOG_LABELS.app,
    label: 'Service',
    description: 'The service whose logs to show: the `app` label of its pods.',
    example: 'api',
    valuesOf: { selector: streamSelector({ namespace: appNamespace, logType: 'application' }), label: LOG_LABELS.app },
  };
  const requestId: SearchVariable = {
    name: LOG_METADATA.requestId,
    label: 'Request id',
    description: 'The request\'s `X-Request-Id`: from the gateway\'s access log, a service\'s log line, an audit event or an error page.',
    example: '6f1c2b7e-3d4a-4f7b-9c1e-2a5d8e0b4c31',
  };
  const actor: SearchVariable = {
    name: AUDIT_EVENT_FIELDS.actor,
    label: 'Actor',
    description: 'Who acted: the `actor` of the audit events (`user:<account id>`, `service:<name>` or `anonymous`: docs/audit-events.md).',
    example: 'user:u-000123',
  };
  const resourceType: SearchVariable = {
    name: AUDIT_EVENT_FIELDS.resourceType,
    label: 'Record type',
    description: 'The `resource_type` of the record (`student`, `enrollment`…).',
    example: 'student',
  };
  const resourceId: SearchVariable = {
    name: AUDIT_EVENT_FIELDS.resourceId,
    label: 'Record id',
    description: 'The `resource_id` of the record.',
    example: 's-000456',
  };
  const k8sUser: SearchVariable = {
    name: 'k8s_user',
    label: 'Kubernetes user',
    description: 'A user of the Kubernetes API as the API server records it (`user.username`): a person\'s name from the cluster\'s '
      + 'identity provider, `system:serviceaccount:<namespace>:<name>`, `kubernetes-admin`…',
    example: 'kubernetes-admin',
  };
  const k8sNamespace: SearchVariable = {
    name: 'k8s_namespace',
    label: 'Namespace (Falco)',
    description: 'The Kubernetes namespace of the container a Falco event is about (`k8s.ns.name` of its output fields).',
    example: 'student-portal',
  };
  const appLogs = streamSelector({ namespace: appNamespace, logType: 'application' });
  const auditEvents = streamSelector({ namespace: appNamespace, logType: 'audit' });
  const namespaces = [...new Set([appNamespace, gatewayNamespace])];
  const failedOutcomes = AUDIT_OUTCOMES.filter((o) => o !== 'success');
  // Falco's events and the API server's are one log type each wherever they run: no namespace to guess.
  const securityEvents = streamSelector({ logType: 'security' });
  const apiServerEvents = streamSelector({ logType: 'kubernetes_audit' });
  /** `field="value"`, false when the field is absent: an empty box finds nothing, not every event without the field. */
  const present = (field: string, value: string) => `(${field}!="" and ${equals(field, value)})`;

  return {
    logVolume: search({
      title: 'Log lines by service and level',
      description: 'How many lines each service writes, by level: a service that suddenly writes many more, or many errors, is the one to read.',
      logTypes: ['application'],
      variables: [],
      kind: 'metric',
      legend: `{{${LOG_LABELS.app}}} {{${LOG_LABELS.level}}}`,
      query: `sum by (${LOG_LABELS.app}, ${LOG_LABELS.level}) (count_over_time(${appLogs}[$__auto]))`,
    }),
    serviceErrors: search({
      title: 'Errors of one service',
      description: `The ${FAILURE_LEVELS.join(' and ')} lines of the chosen service, newest first. Expand a line for its pod and its request id.`,
      logTypes: ['application'],
      variables: [app],
      kind: 'lines',
      query: streamSelector({ namespace: appNamespace, app: variable(app.name), level: { re: FAILURE_LEVELS.join('|') }, logType: 'application' }),
    }),
    requestEndToEnd: search({
      title: 'One request end to end',
      description: 'Every line of one request, by its request id: the gateway\'s access log entry and what each service logged while '
        + 'serving it, in time order. The id is kept as structured metadata, so no line is parsed to find it.',
      logTypes: ['application', 'access'],
      variables: [requestId],
      kind: 'lines',
      // `!=""` first: with the box still empty the search finds nothing, rather than every line without an id.
      query: `${streamSelector({ namespace: { re: namespaces.join('|') }, logType: logTypeMatcher(['application', 'access']) })}`
        + ` | ${LOG_METADATA.requestId}!="" | ${equals(LOG_METADATA.requestId, variable(requestId.name))}`,
    }),
    gatewayServerErrors: search({
      title: 'Server errors at the gateway',
      description: 'The gateway\'s access log entries of requests answered with a 5xx (the collector gives them level error), '
        + 'newest first: route, upstream, duration and request id of each.',
      logTypes: ['access'],
      variables: [],
      kind: 'lines',
      query: streamSelector({ namespace: gatewayNamespace, level: 'error', logType: 'access' }),
    }),
    auditTrail: search({
      title: 'One user\'s audit trail',
      description: 'Every audit event of one actor: what they read, changed, exported, and every sign-in, with outcome and source address.',
      logTypes: ['audit'],
      variables: [actor],
      kind: 'lines',
      query: `${auditEvents} | json | ${equals(AUDIT_EVENT_FIELDS.actor, variable(actor.name))}`,
    }),
    failedLogins: search({
      title: 'Failed sign-ins',
      description: `Sign-in events (\`${AUDIT_EVENT_FIELDS.action}\` ${AUDIT_ACTIONS.login}) that did not succeed `
        + `(${failedOutcomes.join(' or ')}), with the actor tried and the source address.`,
      logTypes: ['audit'],
      variables: [],
      kind: 'lines',
      query: `${auditEvents} | json | ${equals(AUDIT_EVENT_FIELDS.action, AUDIT_ACTIONS.login)} | ${matches(AUDIT_EVENT_FIELDS.outcome, failedOutcomes)}`,
    }),
    actorOnRecord: search({
      title: 'What one actor did to one record',
      description: 'Every audit event of one actor on one record: each read, change and export of it, and whether it was allowed.',
      logTypes: ['audit'],
      variables: [actor, resourceType, resourceId],
      kind: 'lines',
      query: `${auditEvents} | json | ${equals(AUDIT_EVENT_FIELDS.actor, variable(actor.name))}`
        + ` | ${equals(AUDIT_EVENT_FIELDS.resourceType, variable(resourceType.name))} | ${equals(AUDIT_EVENT_FIELDS.resourceId, variable(resourceId.name))}`,
    }),
    deliverySyncs: search({
      title: 'Argo CD syncs',
      description: 'Each sync Argo CD started and how it ended, from its Kubernetes events: `<user> initiated sync to <revision>` '
        + 'or `Initiated automated sync`, then `Sync operation to <revision> succeeded` or `failed:` and why.',
      logTypes: ['delivery'],
      variables: [],
      kind: 'lines',
      // The events only: Argo CD logs each event's message too, with the same `reason` (its JSON
      // logs, util/argo/audit_logger.go `logEvent`), which would list every sync twice.
      query: `${streamSelector({ app: EVENTS_APP, logType: 'delivery' })} | json | ${matches(ARGOCD_EVENT.reason, [ARGOCD_EVENT.started, ARGOCD_EVENT.completed])}`,
    }),
    securityEventCounts: search({
      title: 'Falco security events by rule and priority',
      description: 'How many events Falco raised, by rule and by its priority (Emergency, Alert, Critical, Error, Warning, Notice, '
        + 'Informational, Debug): a rule that starts firing, or fires at Critical, is the one to read. Falco\'s internal events '
        + '(`Falco internal: syscall event drop`: for a moment Falco saw nothing) are counted too.',
      logTypes: ['security'],
      variables: [],
      kind: 'metric',
      legend: `{{${FALCO.rule}}} ({{${FALCO.priority}}})`,
      // Falco's own log lines, which are not JSON, are not events: no rule. `__error__=""`: Loki fails
      // a whole metric query when any sample keeps an `__error__` label (pkg/logql/evaluator.go at v3.7.6).
      query: `sum by (${FALCO.rule}, ${FALCO.priority}) (count_over_time(${securityEvents} | json | ${FALCO.rule}!="" | __error__="" [$__auto]))`,
    }),
    namespaceSecurityEvents: search({
      title: 'Security events of one namespace',
      description: 'Falco\'s events about the containers of one namespace, newest first: the rule, its priority and Falco\'s output (the '
        + 'process, its command line, the user, the file or the connection). Events about a process outside any container have no '
        + 'namespace: they are only in the count by rule and priority.',
      logTypes: ['security'],
      variables: [k8sNamespace],
      kind: 'lines',
      // `!=""` first: with the box still empty the search finds nothing, rather than every event without a namespace.
      query: `${securityEvents} | json | ${FALCO.namespace}!="" | ${equals(FALCO.namespace, variable(k8sNamespace.name))}`,
    }),
    kubernetesUserActions: search({
      title: 'What one Kubernetes user did',
      description: 'Every request one user made to the Kubernetes API, and every request made as them by impersonation: the verb, '
        + 'the resource, its namespace and name, the response code and the source addresses. Empty where the cluster\'s provider '
        + 'keeps the API server\'s audit log (docs/logging.md).',
      logTypes: ['kubernetes_audit'],
      variables: [k8sUser],
      kind: 'lines',
      query: `${apiServerEvents} | json | ${present(K8S_AUDIT.username, variable(k8sUser.name))}`
        + ` or ${present(K8S_AUDIT.impersonatedUsername, variable(k8sUser.name))}`,
    }),
    secretAccess: search({
      title: 'Who read or changed Secrets',
      description: 'Every read (get, list, watch) and change of a Secret, in every namespace: who, which Secret, from where, and the '
        + 'response code; never its value. Kubelets and controllers (`system:` users) read Secrets all the time: a person, or a '
        + 'service account with no business there, is what to look for.',
      logTypes: ['kubernetes_audit'],
      variables: [],
      kind: 'lines',
      query: `${apiServerEvents} | json | ${equals(K8S_AUDIT.resource, KUBERNETES_AUDIT_TARGETS.secrets)}`,
    }),
    podSessions: search({
      title: 'Exec, attach and port-forward into pods',
      description: 'Every exec, attach and port-forward into a pod and every debug container added to one: who, which pod, the '
        + 'command and container (in `requestURI`) and the response code. A long session may be recorded when it starts and '
        + 'again when it ends (`stage`).',
      logTypes: ['kubernetes_audit'],
      variables: [],
      kind: 'lines',
      query: `${apiServerEvents} | json | ${equals(K8S_AUDIT.resource, KUBERNETES_AUDIT_TARGETS.pods)}`
        + ` | ${matches(K8S_AUDIT.subresource, KUBERNETES_AUDIT_TARGETS.podSessions)}`,
    }),
  };
}


/** A search's query as Loki receives it from Grafana: its variables replaced by their examples. */
export function withExamples(s: LogSearch, query: string = s.query): string {
  const values: Record<string, string> = { ...GRAFANA_BUILTIN_EXAMPLES };
  for (const v of s.variables) values[variable(v.name)] = v.example;
  // Longest first, so that `$actor` never replaces the start of a longer name.
  return Object.keys(values).sort((a, b) => b.length - a.length).reduce((q, name) => q.replaceAll(name, values[name]), query);
}

/** The variables a query reads (`$name`), Grafana's built-in ones (`$__…`) aside. */
export function variablesIn(query: string): string[] {
  return [...new Set([...query.matchAll(/\$(\w+)/g)].map((m) => m[1]).filter((n) => !n.startsWith('__')))].sort();
}
