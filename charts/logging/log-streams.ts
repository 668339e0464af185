/**
 * How logs are labelled and where each kind of log goes: the one definition that the collector's
 * configuration (charts/logging/collector-config.ts), Loki's per-stream retention
 * (charts/gitops/values/loki.ts), the ruler's rules, the dashboards' queries and docs/logging.md
 * all read. A query may use only a label named here, and the collector sets exactly these.
 */

/**
 * Loki's tenants (the `X-Scope-OrgID` a push or query names): application logs, and the audit
 * stream, kept longer and readable only by auditors.
 */
export const LOKI_TENANTS = { application: 'application', audit: 'audit' } as const;
/** A tenant's ID. */
export type LokiTenant = (typeof LOKI_TENANTS)[keyof typeof LOKI_TENANTS];

/**
 * The stream labels: few, each with a handful of values, as Loki's label best practices ask
 * (every distinct label set is a stream of its own, with its own chunks and index entries).
 */
export const LOG_LABELS = {
  /** The pod's namespace. */
  namespace: 'namespace',
  /** The pod's `app.kubernetes.io/name` label, else its `app` label, else the container's name. */
  app: 'app',
  /** The entry's level, normalized to LOG_LEVELS; absent when the line says none. */
  level: 'level',
  /** What kind of log the entry is (LOG_TYPES): it decides the tenant and so the retention. */
  logType: 'log_type',
} as const;
export type LogLabel = (typeof LOG_LABELS)[keyof typeof LOG_LABELS];

/**
 * Kept with each entry as structured metadata, not labels: values with many distinct values (a
 * pod, a request) would make a stream per value. Searchable after the stream selector
 * (`{app="api"} | request_id="…"`), without parsing the line.
 */
export const LOG_METADATA = {
  pod: 'pod',
  container: 'container',
  node: 'node',
  /** The gateway's `X-Request-Id`, as the services log it: one request from the gateway through web and api. */
  requestId: 'request_id',
  /** The W3C trace id, when the service traces. */
  traceId: 'trace_id',
} as const;
export type LogMetadata = (typeof LOG_METADATA)[keyof typeof LOG_METADATA];

/** The levels an entry's `level` label may take, after normalization. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * What the collector reads as each level, compared lowercased: the names common loggers write
 * (logback and log4j2 `WARN`, syslog's `notice`/`crit`, Go's slog), pino's numbers (10 trace to
 * 60 fatal), and the Kubernetes events' `type` (`Normal`, `Warning`). Anything else gets no level.
 */
export const LEVEL_ALIASES: Readonly<Record<LogLevel, readonly string[]>> = {
  debug: ['trace', 'debug', 'dbug', '10', '20'],
  info: ['info', 'information', 'notice', 'normal', '30'],
  warn: ['warn', 'warning', '40'],
  error: ['error', 'err', 'eror', '50'],
  fatal: ['fatal', 'critical', 'crit', 'panic', 'alert', 'emerg', 'emergency', '60'],
};

/** A kind of log: its tenant, and what it holds (docs/logging.md lists these). */
export interface LogType {
  readonly tenant: LokiTenant;
  readonly description: string;
}

/**
 * The kinds of log. Everything in the audit tenant is kept for the audit retention and readable
 * only by auditors; the rest is the application tenant's.
 */
export const LOG_TYPES = {
  application: {
    tenant: LOKI_TENANTS.application,
    description: 'What the services and the platform\'s components write to standard output and standard error.',
  },
  access: {
    tenant: LOKI_TENANTS.application,
    description: 'The gateway\'s access log: one entry per request, with its request id, route, status and duration.',
  },
  audit: {
    tenant: LOKI_TENANTS.audit,
    description: 'Application audit events: who read or changed which record (docs/audit-events.md), written by the services with `"log_type": "audit"`.',
  },
  delivery: {
    tenant: LOKI_TENANTS.audit,
    description: 'Argo CD\'s logs and the Kubernetes events of its namespace: who synced what, when, and the result.',
  },
  security: {
    tenant: LOKI_TENANTS.audit,
    description: 'Falco\'s runtime security events: a shell in a container, a sensitive file read, an unexpected connection.',
  },
  kubernetes_audit: {
    tenant: LOKI_TENANTS.audit,
    description: 'The Kubernetes API server\'s audit log (cluster/<env>/audit-policy.yaml), read from the control-plane nodes where the cluster writes it to a file.',
  },
} as const satisfies Readonly<Record<string, LogType>>;
export type LogTypeName = keyof typeof LOG_TYPES;

/** The log types of a tenant, in LOG_TYPES' order. */
export function logTypesOf(tenant: LokiTenant): LogTypeName[] {
  return (Object.keys(LOG_TYPES) as LogTypeName[]).filter((name) => LOG_TYPES[name].tenant === tenant);
}

/**
 * An application audit event, one JSON object per line on standard output (docs/audit-events.md
 * is the contract for the application team). The keys are what the ruler's rules and the audit
 * searches read; `log_type` is what the collector routes on.
 */
export const AUDIT_EVENT_FIELDS = {
  timestamp: 'timestamp',
  logType: 'log_type',
  actor: 'actor',
  action: 'action',
  resourceType: 'resource_type',
  resourceId: 'resource_id',
  outcome: 'outcome',
  requestId: 'request_id',
  sourceAddress: 'source_address',
} as const;

/** The outcomes of an audit event. */
export const AUDIT_OUTCOMES = ['success', 'failure', 'denied'] as const;

/** The actions the rules read by name (others are free-form verbs: docs/audit-events.md). */
export const AUDIT_ACTIONS = { login: 'login', read: 'read', export: 'export' } as const;

/**
 * Where in a JSON line the collector reads each field, as paths of keys: the first present wins.
 * The first of each is this project's contract (docs/audit-events.md); the others are what common
 * structured loggers write: Spring Boot's ECS format (`log.level` one flat key in Spring Boot 3.4,
 * a nested `{"log":{"level":…}}` from 3.5, spring-projects/spring-boot#45063; MDC keys at the top
 * level), logback's logstash encoder and pino (`level`), Envoy Gateway's access log
 * (`x-request-id`), OpenTelemetry-style `trace.id`.
 */
export const LOG_FIELDS: Readonly<Record<'level' | 'requestId' | 'traceId' | 'logType', readonly (readonly string[])[]>> = {
  level: [['level'], ['log.level'], ['log', 'level'], ['severity']],
  requestId: [['request_id'], ['x-request-id'], ['requestId']],
  traceId: [['trace_id'], ['traceId'], ['trace.id'], ['trace', 'id']],
  logType: [['log_type']],
};

/**
 * Where docs/logging.md tells a self-managed control plane to write the API server's audit log
 * (`--audit-log-path`), and where the collector on the control-plane nodes reads it from.
 */
export const KUBERNETES_AUDIT_LOG_DIR = '/var/log/kubernetes/audit';
/** The file in it (`--audit-log-path=<dir>/<file>`); kube-apiserver rotates it to `audit-<time>.log` beside it. */
export const KUBERNETES_AUDIT_LOG_FILE = 'audit.log';
