/**
 * The JSON keys the audit trail's searches read from the two audit sources that are not this
 * project's own (the application's audit events are AUDIT_EVENT_FIELDS, log-streams.ts): Falco's
 * alerts (`log_type="security"`) and the Kubernetes API server's audit events
 * (`log_type="kubernetes_audit"`). Each key is a path into the line's JSON, named in a query by the
 * label LogQL's `| json` makes of it (jsonLabel).
 *
 * There is no Loki binary on this machine: test/log-searches.test.ts checks jsonLabel against the
 * cases of Loki's own parser tests, and the paths against the upstream types cited below.
 */

/** A path of keys into a JSON object: `['user', 'username']` is `{"user": {"username": …}}`. */
export type JsonPath = readonly string[];

/**
 * The label LogQL's `| json` (without arguments) puts the value at `path` under (grafana/loki
 * v3.7.6 pkg/logql/log/parser.go, JSONParser): the keys of nested objects joined with `_`
 * (`jsonSpacer`), each key trimmed, blank keys left out, and every character but ASCII letters,
 * digits and `_` replaced by `_`, with `_` before a leading digit (pkg/logql/log/util.go
 * sanitizeLabelKey, appendSanitized). Only strings, numbers and booleans become labels: arrays
 * (`sourceIPs`, `tags`) are skipped. A key that equals one of the stream's labels or structured
 * metadata keys gets `_extracted` appended: no key read below does (test/log-searches.test.ts).
 */
export function jsonLabel(path: JsonPath): string {
  let label = '';
  for (const part of path) {
    const key = part.trim();
    if (key === '') continue;
    if (label !== '') label += '_';
    else if (/^[0-9]/.test(key)) label += '_';
    label += [...key].map((c) => (/^[A-Za-z0-9_]$/.test(c) ? c : '_')).join('');
  }
  return label;
}

/**
 * Falco's alert as `json_output` writes it, one JSON object per line on the `falco` container's
 * standard output (falcosecurity/falco 0.44.1, the falco chart 9.1.0's appVersion:
 * userspace/engine/formats.cpp `falco_formats::format_event`; Falco's internal events, such as
 * dropped system calls, have the same keys: userspace/falco/falco_outputs.cpp `handle_msg`).
 * `priority` is Falco's name for it, capitalized (`Emergency` … `Debug`,
 * userspace/engine/falco_common.cpp `priority_names`); the collector reads no level from it.
 */
export const FALCO_EVENT = {
  time: ['time'],
  rule: ['rule'],
  priority: ['priority'],
  source: ['source'],
  hostname: ['hostname'],
  output: ['output'],
  tags: ['tags'],
  /**
   * The namespace of the container the event is about: a field the container plugin (the falco
   * chart's `collectors.containerEngine`) suggests for every rule's output, so `append_output`'s
   * `suggested_output` (the chart's default) puts it in every event's `output_fields`, under the
   * field's own name (falcosecurity/plugins plugins/container src/caps/extract/extract.cpp
   * `get_fields`; suggested since the plugin's 0.2.1). Absent for a process outside any container.
   */
  namespace: ['output_fields', 'k8s.ns.name'],
  pod: ['output_fields', 'k8s.pod.name'],
} as const satisfies Readonly<Record<string, JsonPath>>;

/**
 * The API server's audit event, one `audit.k8s.io/v1` Event as JSON per line of the audit log
 * (kubernetes/kubernetes staging/src/k8s.io/apiserver/pkg/apis/audit/v1/types.go, Event and
 * ObjectReference). `user` is who authenticated; `impersonatedUser` whom they acted as.
 */
export const KUBERNETES_AUDIT_EVENT = {
  stage: ['stage'],
  requestURI: ['requestURI'],
  verb: ['verb'],
  username: ['user', 'username'],
  impersonatedUsername: ['impersonatedUser', 'username'],
  sourceIPs: ['sourceIPs'],
  resource: ['objectRef', 'resource'],
  subresource: ['objectRef', 'subresource'],
  namespace: ['objectRef', 'namespace'],
  name: ['objectRef', 'name'],
  responseCode: ['responseStatus', 'code'],
  stageTimestamp: ['stageTimestamp'],
} as const satisfies Readonly<Record<string, JsonPath>>;

/**
 * What the audit searches ask the API server's events about: the core group's Secrets, and a
 * person inside a pod, the subresources the audit policy records with their request and response
 * (charts/logging/audit-policy.ts; test/log-searches.test.ts holds the two to the same list).
 */
export const KUBERNETES_AUDIT_TARGETS = {
  secrets: 'secrets',
  pods: 'pods',
  podSessions: ['exec', 'attach', 'portforward', 'ephemeralcontainers'],
} as const;
