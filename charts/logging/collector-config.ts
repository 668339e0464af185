/**
 * The log collector's configuration, in Grafana Alloy's syntax (Alloy 1.18, the alloy chart
 * 1.11.1's appVersion): what it reads, how each line is labelled, and which tenant it goes to, all
 * from log-streams.ts. One collector per node (a DaemonSet) reads the files the kubelet writes for
 * that node's containers (`/var/log/pods/<namespace>_<pod>_<uid>/<container>/<n>.log`, in the CRI
 * logging format), so collection does not go through the API server and survives its outages.
 *
 * Component and stage names and their arguments are Alloy v1.18.1's
 * (docs/sources/reference/components/loki/, internal/component/loki/process/stages/). The
 * pipeline, in order:
 * 1. `stage.cri`: the CRI line's time, stream and partial-line flag; long lines are joined again.
 * 2. `stage.json`: the fields of a JSON line the labels and metadata come from (LOG_FIELDS, the
 *    first present of each spelling; JMESPath `||`). A line that is not JSON passes unchanged.
 * 3. `log_type` by where the line comes from, and `audit` only from a service's own JSON field.
 * 4. `level`, normalized to LOG_LEVELS (LEVEL_ALIASES); the access log's from its status code.
 * 5. Pod, container, node, request and trace ids into structured metadata; every label that is not
 *    a LOG_LABELS one dropped, so the labels are exactly the ones queries may use.
 * 6. Each tenant's log types (LOG_TYPES) to a writer of its own (`loki.relabel` keeps a tenant's
 *    types, `loki.write` pushes as that tenant): Loki refusing one tenant's lines (a rate limit)
 *    does not hold up the other's, and the audit tenant's writer never gives up (below).
 */
import {
  KUBERNETES_AUDIT_LOG_DIR, KUBERNETES_AUDIT_LOG_FILE, LEVEL_ALIASES, LOG_FIELDS, LOG_LABELS, LOG_LEVELS, LOG_METADATA, LOG_TYPES, LOKI_TENANTS,
  type LogTypeName,
} from './log-streams';

export interface CollectorConfigProps {
  /** Loki's push endpoint (its gateway). */
  readonly pushURL: string;
  /** The applications' namespaces: only their services may write audit events. */
  readonly appNamespaces: readonly string[];
  /** Argo CD's namespace: its logs and events are the delivery audit. */
  readonly argocdNamespace: string;
  /** Where Envoy Gateway runs the gateway's proxies: their `envoy` containers write the access log. */
  readonly gatewayNamespace: string;
  /** Falco's namespace: its `falco` containers write the runtime security events. */
  readonly securityNamespace: string;
}

/** Envoy Gateway's proxy container (envoyproxy/gateway v1.9.0 internal/infrastructure/kubernetes/proxy/resource.go). */
export const ENVOY_CONTAINER = 'envoy';
/** Falco's container in its DaemonSet (the falco chart's templates/pod-template.tpl). */
export const FALCO_CONTAINER = 'falco';
/**
 * A key of Envoy Gateway's default JSON access log (internal/xds/translator/accesslog.go
 * EnvoyJSONLogFields), present on every access log line and on none of Envoy's own log lines.
 */
export const ACCESS_LOG_STATUS_FIELD = 'response_code';

/**
 * The key of an event's type (Normal, Warning) in the JSON lines of `loki.source.kubernetes_events`
 * (grafana/alloy v1.18.1 internal/component/loki/source/kubernetes_events/event_controller.go).
 */
export const EVENT_LEVEL_FIELD = 'type';
/** The value of the `app` label of Kubernetes events, which come from no pod. */
export const EVENTS_APP = 'kubernetes-events';
/** The value of the `app` label of the API server's audit log. */
export const KUBERNETES_AUDIT_APP = 'kube-apiserver';

/** The extracted key the API server audit event's time is read into. */
const KUBERNETES_AUDIT_TIME_KEY = 'stage_timestamp';

/** Extracted-map keys (never labels unless a stage makes them one). */
const EXTRACTED = { eventLogType: 'event_log_type', status: 'status_code' } as const;
/** A temporary label that marks a service's audit event until its log type is set. */
const AUDIT_MARK = 'audit_event';

/** A string in Alloy's syntax: Go's escapes, which JSON's quoting of a string is a subset of. */
const q = (value: string): string => JSON.stringify(value);
const list = (values: readonly string[]): string => `[${values.map(q).join(', ')}]`;
/** A LogQL selector for a `stage.match`, quoted for Alloy. */
const selector = (matchers: Readonly<Record<string, string>>, regex: Readonly<Record<string, string>> = {}, line?: string): string =>
  q(`{${[...Object.entries(matchers).map(([k, v]) => `${k}=${q(v)}`), ...Object.entries(regex).map(([k, v]) => `${k}=~${q(v)}`)].join(', ')}}${line ?? ''}`);
const indent = (text: string, by = 2): string => text.split('\n').map((l) => (l === '' ? l : ' '.repeat(by) + l)).join('\n');

/**
 * A JMESPath expression: the first of these paths that is present, each key quoted (so that the
 * flat key `log.level` is one key, and `["log", "level"]` the nested one).
 */
const firstOf = (paths: readonly (readonly string[])[]): string => paths.map((path) => path.map((k) => JSON.stringify(k)).join('.')).join(' || ');

/** The Go template that maps a level as written to one of LOG_LEVELS, or to nothing. */
export function levelTemplate(): string {
  const branches = LOG_LEVELS.map((level, i) => `{{ ${i === 0 ? 'if' : 'else if'} eq $l ${LEVEL_ALIASES[level].map(q).join(' ')} }}${level}`);
  return `{{ with .${LOG_LABELS.level} }}{{ $l := ToLower . }}${branches.join('')}{{ end }}{{ end }}`;
}

/** The access log's level from its status: server errors are errors, client errors warnings. */
function statusLevelTemplate(): string {
  return `{{ with .${EXTRACTED.status} }}{{ if hasPrefix "5" . }}error{{ else if hasPrefix "4" . }}warn{{ else }}info{{ end }}{{ end }}`;
}

const staticLogType = (type: LogTypeName): string => `stage.static_labels {\n  values = { ${LOG_LABELS.logType} = ${q(type)} }\n}`;
const match = (sel: string, body: string): string => `stage.match {\n  selector = ${sel}\n\n${indent(body)}\n}`;

/**
 * Level (unless the source has none), structured metadata and exactly the stream labels: the end
 * of every pipeline.
 */
function commonTail(withLevel: boolean): string {
  return [
    ...(withLevel ? [
      `stage.template {\n  source   = ${q(LOG_LABELS.level)}\n  template = ${q(levelTemplate())}\n}`,
      `stage.labels {\n  values = { ${LOG_LABELS.level} = "" }\n}`,
    ] : []),
    `stage.structured_metadata {\n  values = {\n${Object.values(LOG_METADATA).map((k) => `    ${k} = ""`).join(',\n')},\n  }\n}`,
    `stage.label_keep {\n  values = ${list(Object.values(LOG_LABELS))}\n}`,
  ].join('\n\n');
}

/** The fields a JSON line's level and ids are read from; a line that is not JSON passes on. */
function jsonFields(): string {
  const expressions: Record<string, string> = {
    [LOG_LABELS.level]: firstOf(LOG_FIELDS.level),
    [LOG_METADATA.requestId]: firstOf(LOG_FIELDS.requestId),
    [LOG_METADATA.traceId]: firstOf(LOG_FIELDS.traceId),
    [EXTRACTED.eventLogType]: firstOf(LOG_FIELDS.logType),
  };
  return `stage.json {\n  expressions = {\n${Object.entries(expressions).map(([k, v]) => `    ${k} = ${q(v)}`).join(',\n')},\n  }\n}`;
}

/** The pods' pipeline: log type by source, then the common tail. */
function podPipeline(props: CollectorConfigProps): string {
  const ns = LOG_LABELS.namespace;
  return [
    'stage.cri {}',
    jsonFields(),
    staticLogType('application'),
    match(selector({ [ns]: props.argocdNamespace }), staticLogType('delivery')),
    match(selector({ [ns]: props.securityNamespace, container: FALCO_CONTAINER }), staticLogType('security')),
    // The access log: Envoy's JSON lines that carry a status; Envoy's own log lines stay application logs.
    match(
      selector({ [ns]: props.gatewayNamespace, container: ENVOY_CONTAINER }, {}, ` |= ${q(`"${ACCESS_LOG_STATUS_FIELD}":`)}`),
      [
        staticLogType('access'),
        `stage.json {\n  expressions = { ${EXTRACTED.status} = ${q(ACCESS_LOG_STATUS_FIELD)} }\n}`,
        `stage.template {\n  source   = ${q(LOG_LABELS.level)}\n  template = ${q(statusLevelTemplate())}\n}`,
      ].join('\n\n'),
    ),
    // An audit event: a JSON line of an application's service whose own log_type field says so.
    `stage.labels {\n  values = { ${AUDIT_MARK} = ${q(EXTRACTED.eventLogType)} }\n}`,
    match(selector({ [AUDIT_MARK]: 'audit' }, { [ns]: props.appNamespaces.join('|') }), staticLogType('audit')),
    commonTail(true),
  ].join('\n\n');
}

/** The tenants' relabel components, which every pipeline forwards each line to. */
const TENANT_RECEIVERS = `[${Object.values(LOKI_TENANTS).map((t) => `loki.relabel.${t}.receiver`).join(', ')}]`;

/**
 * A writer per tenant, each fed by a relabel component that keeps only the tenant's log types.
 * The audit tenant's writer retries for as long as Loki refuses it (`max_backoff_retries = 0`:
 * no limit, grafana/alloy v1.18.1 internal/component/loki/write/types.go): with the default ten
 * retries it would drop audit records after about eight minutes of Loki being away. Meanwhile
 * the collector stops reading, and goes on where it stopped once Loki takes lines again.
 */
function tenantWriters(pushURL: string): string {
  return Object.values(LOKI_TENANTS).map((tenant) => {
    const types = (Object.keys(LOG_TYPES) as LogTypeName[]).filter((t) => LOG_TYPES[t].tenant === tenant);
    const retries = tenant === LOKI_TENANTS.audit ? '\n    max_backoff_retries = 0' : '';
    return `loki.relabel ${q(tenant)} {
  forward_to = [loki.write.${tenant}.receiver]

  rule {
    source_labels = [${q(LOG_LABELS.logType)}]
    regex         = ${q(types.join('|'))}
    action        = "keep"
  }
}

loki.write ${q(tenant)} {
  endpoint {
    url       = ${q(pushURL)}
    tenant_id = ${q(tenant)}${retries}
  }
}`;
  }).join('\n\n');
}

/** The collector's configuration: pods of this node, Kubernetes events, the API server's audit log. */
export function collectorConfig(props: CollectorConfigProps): string {
  const eventNamespaces = [props.argocdNamespace, ...props.appNamespaces];
  return `// Generated by shipshape (charts/logging/collector-config.ts): the labels and tenants of charts/logging/log-streams.ts.

// The pods of this node: each collector reads its own node's log files.
discovery.kubernetes "pods" {
  role = "pod"

  selectors {
    role  = "pod"
    field = "spec.nodeName=" + sys.env("HOSTNAME")
  }
}

discovery.relabel "pods" {
  targets = discovery.kubernetes.pods.targets

  rule {
    source_labels = ["__meta_kubernetes_namespace"]
    target_label  = ${q(LOG_LABELS.namespace)}
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_name"]
    target_label  = ${q(LOG_METADATA.pod)}
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_container_name"]
    target_label  = ${q(LOG_METADATA.container)}
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_node_name"]
    target_label  = ${q(LOG_METADATA.node)}
  }
  // app.kubernetes.io/name, else app, else the container's name: the first that is set.
  rule {
    source_labels = ["__meta_kubernetes_pod_label_app_kubernetes_io_name", "__meta_kubernetes_pod_label_app", "__meta_kubernetes_pod_container_name"]
    separator     = ";"
    regex         = "^;*([^;]+).*$"
    target_label  = ${q(LOG_LABELS.app)}
  }
  // The kubelet's files of this container: /var/log/pods/<namespace>_<pod>_<uid>/<container>/<n>.log.
  rule {
    source_labels = ["__meta_kubernetes_pod_uid", "__meta_kubernetes_pod_container_name"]
    separator     = "/"
    replacement   = "/var/log/pods/*$1/*.log"
    target_label  = "__path__"
  }
}

local.file_match "pods" {
  path_targets = discovery.relabel.pods.output
}

loki.source.file "pods" {
  targets    = local.file_match.pods.targets
  forward_to = [loki.process.pods.receiver]
}

loki.process "pods" {
  forward_to = ${TENANT_RECEIVERS}

${indent(podPipeline(props))}
}

// Kubernetes events of Argo CD's namespace (who synced which Application, and how it ended) and
// of the applications' namespaces. Clustered: each namespace is watched by one collector.
loki.source.kubernetes_events "events" {
  namespaces = ${list(eventNamespaces)}
  log_format = "json"
  forward_to = [loki.process.events.receiver]

  clustering {
    enabled = true
  }
}

loki.process "events" {
  forward_to = ${TENANT_RECEIVERS}

${indent([
    // An event's type (Normal, Warning) is its level (LEVEL_ALIASES).
    `stage.json {\n  expressions = { ${LOG_LABELS.level} = ${q(EVENT_LEVEL_FIELD)} }\n}`,
    `stage.static_labels {\n  values = { ${LOG_LABELS.app} = ${q(EVENTS_APP)}, ${LOG_LABELS.logType} = ${q('application' satisfies LogTypeName)} }\n}`,
    match(selector({ [LOG_LABELS.namespace]: props.argocdNamespace }), staticLogType('delivery')),
    commonTail(true),
  ].join('\n\n'))}
}

// The API server's audit log, on the control-plane nodes of clusters that write it to a file
// (docs/logging.md); elsewhere there is no such file and nothing is read. Only the file the API
// server writes: its rotated backups (audit-<time>.log) would be read again from their start.
local.file_match "kubernetes_audit" {
  path_targets = [{
    "__path__" = ${q(`${KUBERNETES_AUDIT_LOG_DIR}/${KUBERNETES_AUDIT_LOG_FILE}`)},
    ${q(LOG_METADATA.node)} = sys.env("HOSTNAME"),
  }]
}

loki.source.file "kubernetes_audit" {
  targets    = local.file_match.kubernetes_audit.targets
  forward_to = [loki.process.kubernetes_audit.receiver]
}

loki.process "kubernetes_audit" {
  forward_to = ${TENANT_RECEIVERS}

  // The time the API server answered, not the time the line was read: a backlog read after an
  // outage keeps its times (audit.k8s.io/v1 Event stageTimestamp, RFC 3339 with microseconds).
  stage.json {
    expressions = { ${KUBERNETES_AUDIT_TIME_KEY} = "stageTimestamp" }
  }

  stage.timestamp {
    source = ${q(KUBERNETES_AUDIT_TIME_KEY)}
    format = "RFC3339Nano"
  }

  // Its "level" is the audit level (Metadata, Request…), not a log level: not read as one.
  stage.static_labels {
    values = { ${LOG_LABELS.app} = ${q(KUBERNETES_AUDIT_APP)}, ${LOG_LABELS.logType} = ${q('kubernetes_audit' satisfies LogTypeName)} }
  }

${indent(commonTail(false))}
}

${tenantWriters(props.pushURL)}
`;
}
