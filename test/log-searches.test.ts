/**
 * The saved searches (charts/logging/log-searches.ts) as each environment makes them: every query
 * parses with Grafana's LogQL parser once Grafana has put its variables in, selects only on the
 * labels the collector sets and filters, before any parser, only on those labels and its structured
 * metadata; it reads exactly the log types it declares, and so the one tenant its data source
 * names; its variables are exactly the ones it declares. Then what each search asks, on the
 * environment's namespaces; and for Falco's events and the API server's audit log, whose keys are
 * upstream's, that those keys are where the searches look (the chart's values, the audit policy, a
 * stand-in for Loki's `| json` run on events of the upstream shapes: no Loki binary here).
 */
import { auditPolicy } from '../charts/logging/audit-policy';
import { FALCO_EVENT, jsonLabel, KUBERNETES_AUDIT_EVENT, KUBERNETES_AUDIT_TARGETS } from '../charts/logging/audit-source-fields';
import { EVENTS_APP } from '../charts/logging/collector-config';
import {
  ARGOCD_EVENT, GRAFANA_BUILTIN_EXAMPLES, logSearches, tenantOf, variablesIn, withExamples, type LogSearch, type LogSearches, type LogSearchName,
} from '../charts/logging/log-searches';
import { LOG_LABELS, LOG_LEVELS, LOG_METADATA, LOG_TYPES, type LogTypeName } from '../charts/logging/log-streams';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { buildModel } from '../environments/model/model';
import { argocdObjects, modelObjects } from '../pipeline/synth';
import { boxDesigner, shop, variant } from './support/fixtures';
import { chartDefaults, coalesce } from './support/helm-values';
import { parseLogql } from './support/logql';
import { only } from './support/synth-construct';

const LABELS: readonly string[] = Object.values(LOG_LABELS);
const UNPARSED_FILTERABLE: readonly string[] = [...LABELS, ...Object.values(LOG_METADATA)];

/** What is wrong with a query's labels: selector labels the collector does not set, filters on what is neither label nor metadata. */
function labelProblems(query: string): string[] {
  const parsed = parseLogql(query);
  return [
    ...parsed.errors.map((e) => `does not parse at ${e}`),
    ...parsed.selectorLabels.filter((l) => !LABELS.includes(l)).map((l) => `selects on ${l}, not a collector label`),
    ...parsed.unparsedFilterLabels.filter((l) => !UNPARSED_FILTERABLE.includes(l)).map((l) => `filters on ${l} before any parser`),
  ];
}

/** The values a query's stream selectors match `label` against (`label="a"`, `label=~"a|b"`). */
function matched(query: string, label: string): string[] {
  const values = [...query.matchAll(new RegExp(`[{,]\\s*${label}(=~?)"([^"]*)"`, 'g'))].flatMap((m) => (m[1] === '=~' ? m[2].split('|') : [m[2]]));
  return [...new Set(values)].sort();
}

const envs = resolveEnvironments(environments, process.cwd());
const cases = [
  ...envs.map((env) => [env.name, env] as const),
  ['shop fixture', variant(shop)] as const,
  ['box designer fixture', variant(boxDesigner)] as const,
];

describe.each(cases)('%s', (_name, env) => {
  const scope = { appNamespace: env.app.namespace, gatewayNamespace: env.gateway.proxyNamespace };
  const searches = logSearches(scope);
  const all = Object.entries(searches) as [LogSearchName, LogSearch][];

  test.each(all)('%s: parses once Grafana has put its variables in, and uses only the collector\'s labels and metadata', (_id, search) => {
    const sent = withExamples(search);
    expect(sent).not.toMatch(/\$/);
    expect(labelProblems(sent)).toEqual([]);
    expect(parseLogql(sent).selectorLabels).toContain(LOG_LABELS.logType);
  });

  test.each(all)('%s: reads exactly its declared variables, each with a description and an example', (_id, search) => {
    expect(variablesIn(search.query)).toEqual(search.variables.map((v) => v.name).sort());
    for (const v of search.variables) {
      expect(v.label.length).toBeGreaterThan(0);
      expect(v.description.length).toBeGreaterThan(20);
      // An example with a quote or a backslash would not be what Grafana sends for a typed value.
      expect(v.example).toMatch(/^[\w.:-]+$/);
    }
    expect(search.title.length).toBeGreaterThan(0);
    expect(search.description.length).toBeGreaterThan(40);
  });

  test.each(all)('%s: reads the log types it declares, all of one tenant, which is its tenant', (_id, search) => {
    expect(matched(search.query, LOG_LABELS.logType)).toEqual([...search.logTypes].sort());
    for (const type of search.logTypes) expect(Object.keys(LOG_TYPES)).toContain(type);
    expect(new Set(search.logTypes.map((t) => LOG_TYPES[t].tenant))).toEqual(new Set([search.tenant]));
  });

  test('variables chosen from a list read the values of a collector label in streams the collector makes', () => {
    const listed = all.flatMap(([, s]) => s.variables).filter((v) => v.valuesOf);
    expect(listed.length).toBeGreaterThan(0);
    for (const v of listed) {
      expect(labelProblems(v.valuesOf!.selector)).toEqual([]);
      expect(LABELS).toContain(v.valuesOf!.label);
      // The list's variable is the label it lists: `$app` is an `app`.
      expect(v.name).toBe(v.valuesOf!.label);
    }
  });

  test('the application\'s searches run on the application tenant, the audit trail\'s on the audit tenant', () => {
    const byTenant = (tenant: string) => all.filter(([, s]) => s.tenant === tenant).map(([id]) => id).sort();
    expect(byTenant('application')).toEqual(['gatewayServerErrors', 'logVolume', 'requestEndToEnd', 'serviceErrors']);
    expect(byTenant('audit')).toEqual([
      'actorOnRecord', 'auditTrail', 'deliverySyncs', 'failedLogins',
      'kubernetesUserActions', 'namespaceSecurityEvents', 'podSessions', 'secretAccess', 'securityEventCounts',
    ]);
  });

  test('each search looks in the environment\'s namespaces: the application\'s, and the gateway\'s for its access log', () => {
    const ns = (id: LogSearchName) => matched(searches[id].query, LOG_LABELS.namespace);
    for (const id of ['logVolume', 'serviceErrors', 'auditTrail', 'failedLogins', 'actorOnRecord'] as const) expect(ns(id)).toEqual([scope.appNamespace]);
    expect(ns('gatewayServerErrors')).toEqual([scope.gatewayNamespace]);
    expect(ns('requestEndToEnd')).toEqual([...new Set([scope.appNamespace, scope.gatewayNamespace])].sort());
    // Argo CD's syncs, Falco's events and the API server's are each one log type wherever they come from: no namespace to guess.
    for (const id of ['deliverySyncs', 'securityEventCounts', 'namespaceSecurityEvents', 'kubernetesUserActions', 'secretAccess', 'podSessions'] as const) {
      expect(ns(id)).toEqual([]);
    }
  });

  test('what each search asks', () => {
    expect(searches.serviceErrors.query).toContain(`${LOG_LABELS.app}="$app"`);
    // Error and what is worse: every level from error on.
    expect(LOG_LEVELS.slice(LOG_LEVELS.indexOf('error'))).toEqual(['error', 'fatal']);
    expect(matched(searches.serviceErrors.query, LOG_LABELS.level)).toEqual(['error', 'fatal']);
    // One request: by its id in structured metadata, never by parsing the line.
    expect(parseLogql(withExamples(searches.requestEndToEnd)).unparsedFilterLabels).toEqual([LOG_METADATA.requestId]);
    expect(searches.requestEndToEnd.query).not.toMatch(/\| (json|logfmt)/);
    // An empty box finds no line: a request id must be present and equal to the box's.
    expect(searches.requestEndToEnd.query).toMatch(/\| request_id!="" \| request_id="\$request_id"$/);
    expect(matched(searches.gatewayServerErrors.query, LOG_LABELS.level)).toEqual(['error']);
    expect(searches.auditTrail.query).toMatch(/ \| json \| actor="\$actor"$/);
    expect(searches.actorOnRecord.query).toMatch(/ \| json \| actor="\$actor" \| resource_type="\$resource_type" \| resource_id="\$resource_id"$/);
    expect(searches.failedLogins.query).toMatch(/ \| json \| action="login" \| outcome=~"failure\|denied"$/);
    expect(searches.deliverySyncs.query).toMatch(new RegExp(` \\| json \\| ${ARGOCD_EVENT.reason}=~"${ARGOCD_EVENT.started}\\|${ARGOCD_EVENT.completed}"$`));
    // The Kubernetes events only: Argo CD's JSON log lines carry the same reason, and would list each sync twice.
    expect(searches.deliverySyncs.query.startsWith(`{app="${EVENTS_APP}", log_type="delivery"}`)).toBe(true);
    expect(searches.logVolume.kind).toBe('metric');
    expect(searches.logVolume.query).toMatch(/^sum by \(app, level\) \(count_over_time\(\{.*\}\[\$__auto\]\)\)$/);
    expect(searches.logVolume.legend).toBe('{{app}} {{level}}');
    for (const [id, s] of all) if (id !== 'logVolume' && id !== 'securityEventCounts') expect([id, s.kind]).toEqual([id, 'lines']);
  });

  test('what the searches of Falco\'s events and the API server\'s audit log ask', () => {
    expect(searches.securityEventCounts.kind).toBe('metric');
    expect(searches.securityEventCounts.query).toBe(
      'sum by (rule, priority) (count_over_time({log_type="security"} | json | rule!="" | __error__="" [$__auto]))');
    expect(searches.securityEventCounts.legend).toBe('{{rule}} ({{priority}})');
    expect(searches.namespaceSecurityEvents.query)
      .toBe('{log_type="security"} | json | output_fields_k8s_ns_name!="" | output_fields_k8s_ns_name="$k8s_namespace"');
    expect(searches.kubernetesUserActions.query).toBe('{log_type="kubernetes_audit"} | json'
      + ' | (user_username!="" and user_username="$k8s_user") or (impersonatedUser_username!="" and impersonatedUser_username="$k8s_user")');
    expect(searches.secretAccess.query).toBe('{log_type="kubernetes_audit"} | json | objectRef_resource="secrets"');
    expect(searches.podSessions.query)
      .toBe('{log_type="kubernetes_audit"} | json | objectRef_resource="pods" | objectRef_subresource=~"exec|attach|portforward|ephemeralcontainers"');
    // Falco's priority is read from its JSON, never as the `level` label: the collector reads no level from Falco's lines.
    for (const id of ['securityEventCounts', 'namespaceSecurityEvents'] as const) {
      expect(parseLogql(withExamples(searches[id])).selectorLabels).toEqual([LOG_LABELS.logType]);
    }
  });
});

describe('the checks fail when they should', () => {
  test('a label the collector does not set, a filter on a field before any parser, a query that does not parse', () => {
    expect(labelProblems('{pod="web-0"}')).toEqual(['selects on pod, not a collector label']);
    expect(labelProblems('{app="web"} | actor="x"')).toEqual(['filters on actor before any parser']);
    expect(labelProblems('{app="web"} | json | actor="x"')).toEqual([]);
    expect(labelProblems('{app="web"} | request_id="x"')).toEqual([]);
    expect(labelProblems('{app="web"').length).toBeGreaterThan(0);
  });

  test('a search over two tenants cannot be made', () => {
    expect(tenantOf(['application', 'access'])).toBe('application');
    expect(tenantOf(['audit', 'delivery'])).toBe('audit');
    expect(() => tenantOf(['application', 'audit'])).toThrow(/several tenants/);
    expect(() => tenantOf([] as LogTypeName[])).toThrow(/no tenants/);
  });

  test('variables are replaced whole, the longest name first, and Grafana\'s built-in ones too', () => {
    const search: LogSearches[LogSearchName] = {
      title: 't', description: 'd', logTypes: ['audit'], tenant: 'audit', kind: 'lines', query: '$a $ab $__auto',
      variables: [{ name: 'a', label: 'A', description: 'a', example: 'x' }, { name: 'ab', label: 'AB', description: 'ab', example: 'y' }],
    };
    expect(withExamples(search)).toBe(`x y ${GRAFANA_BUILTIN_EXAMPLES.$__auto}`);
    expect(variablesIn(search.query)).toEqual(['a', 'ab']);
  });

  test('the log types a selector matches are read from both kinds of matcher', () => {
    expect(matched('{namespace="a", log_type=~"application|access"} | request_id="x"', LOG_LABELS.logType)).toEqual(['access', 'application']);
    expect(matched('sum(count_over_time({log_type="audit"}[1m]))', LOG_LABELS.logType)).toEqual(['audit']);
  });
});

/**
 * A stand-in for Loki, which does not run on this machine: `| json` as grafana/loki v3.7.6
 * pkg/logql/log/parser.go reads a line (the labels named by jsonLabel, only strings, numbers and
 * booleans, `__error__` when the line is not a JSON object), then the label filter stages the
 * searches use (`=`, `!=`, anchored `=~`, `and`, `or`, parentheses; an absent label is "").
 */
function lokiJson(line: string): Record<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { __error__: 'JSONParserErr' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { __error__: 'JSONParserErr' };
  const labels: Record<string, string> = {};
  const walk = (object: object, prefix: readonly string[]): void => {
    for (const [key, v] of Object.entries(object)) {
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') labels[jsonLabel([...prefix, key])] = String(v);
      else if (v !== null && typeof v === 'object' && !Array.isArray(v)) walk(v, [...prefix, key]);
    }
  };
  walk(value, []);
  return labels;
}

function labelFilterMatches(stage: string, labels: Readonly<Record<string, string>>): boolean {
  const tokens = [...stage.matchAll(/\(|\)|\band\b|\bor\b|(\w+)(!=|=~|=)"((?:[^"\\]|\\.)*)"/g)];
  // Everything in the stage is read: a form this stand-in does not know fails here, not silently.
  expect(tokens.map((t) => t[0]).join('')).toBe(stage.replace(/\s+/g, ''));
  let i = 0;
  const primary = (): boolean => {
    const token = tokens[i++];
    if (token[0] === '(') {
      const inner = or();
      expect(tokens[i++]?.[0]).toBe(')');
      return inner;
    }
    const [, name, op, raw] = token;
    const value = JSON.parse(`"${raw}"`) as string;
    const actual = labels[name] ?? '';
    if (op === '=') return actual === value;
    if (op === '!=') return actual !== value;
    return new RegExp(`^(?:${value})$`).test(actual);
  };
  const and = (): boolean => {
    let result = primary();
    while (tokens[i]?.[0] === 'and') { i++; result = primary() && result; }
    return result;
  };
  const or = (): boolean => {
    let result = and();
    while (tokens[i]?.[0] === 'or') { i++; result = and() || result; }
    return result;
  };
  const result = or();
  expect(i).toBe(tokens.length);
  return result;
}

/** The lines of `lines` that a `<selector> | json | <filter> | …` query (or a metric query's inner one) keeps. */
function kept(query: string, lines: Readonly<Record<string, string>>): string[] {
  const inner = /count_over_time\((.*) \[\$__auto\]\)/.exec(query)?.[1] ?? query;
  const [selector, ...rest] = inner.split(' | json | ');
  expect([selector, rest.length]).toEqual([expect.stringMatching(/^\{[^|]*\}$/), 1]);
  const stages = rest[0].split(' | ');
  return Object.entries(lines).filter(([, line]) => stages.every((stage) => labelFilterMatches(stage, lokiJson(line)))).map(([name]) => name);
}

describe('Falco\'s events and the API server\'s audit log', () => {
  const production = resolveEnvironments(environments, process.cwd()).find((e) => e.name === 'production')!;
  const searches = logSearches({ appNamespace: production.app.namespace, gatewayNamespace: production.gateway.proxyNamespace });

  test('jsonLabel names a value as Loki\'s `| json` does (the cases of pkg/logql/log/parser_test.go at v3.7.6, Test_jsonParser_Parse)', () => {
    expect(jsonLabel(['pod', 'deployment', 'ref'])).toBe('pod_deployment_ref'); // "multi depth"
    expect(jsonLabel(['price', '_net_'])).toBe('price__net_'); // "numeric"
    expect(jsonLabel([' ', 'foo'])).toBe('foo'); // "whitespace key value"
    expect(jsonLabel(['cou-nter'])).toBe('cou_nter'); // "bad key replaced"
    expect(jsonLabel(['foo', 'cou-nter'])).toBe('foo_cou_nter'); // "nested bad key replaced"
    expect(jsonLabel(['1st'])).toBe('_1st'); // sanitizeLabelKey: a label cannot start with a digit
    expect(jsonLabel(FALCO_EVENT.namespace)).toBe('output_fields_k8s_ns_name');
    expect(jsonLabel(KUBERNETES_AUDIT_EVENT.username)).toBe('user_username');
    expect(jsonLabel(KUBERNETES_AUDIT_EVENT.resource)).toBe('objectRef_resource');
  });

  test('no key the searches read is one of the stream\'s labels or metadata keys, which `| json` would rename `<key>_extracted`', () => {
    const taken: readonly string[] = [...Object.values(LOG_LABELS), ...Object.values(LOG_METADATA)];
    for (const path of [...Object.values(FALCO_EVENT), ...Object.values(KUBERNETES_AUDIT_EVENT)]) expect(taken).not.toContain(jsonLabel(path));
  });

  test('Falco writes what the security searches read: JSON events on standard output with their output fields, the container plugin\'s namespace among them', () => {
    // The falco chart's defaults with the values production's falco Application gives it: what Helm renders into falco.yaml.
    const model = buildModel(production);
    const application = only(argocdObjects(model, modelObjects(model)), 'Application', 'falco');
    const values = coalesce(chartDefaults('falco'), application.spec.source.helm.valuesObject) as any;
    expect(values.falco.json_output).toBe(true);
    expect(values.falco.stdout_output.enabled).toBe(true);
    expect(values.falco.json_include_output_fields_property).toBe(true);
    expect(values.falco.json_include_output_property).toBe(true);
    // k8s.ns.name is a field of the container plugin, which suggests it for every rule's output.
    expect(values.falco.append_output).toContainEqual({ suggested_output: true });
    expect(values.collectors.enabled).toBe(true);
    expect(values.collectors.containerEngine.enabled).toBe(true);
  });

  test('the pod sessions searched are the ones the audit policy records with request and response; Secrets are recorded, without bodies', () => {
    const rules = auditPolicy({ appNamespaces: [production.app.namespace] }).rules;
    const ruleFor = (resource: string) => rules.find((r) => r.resources?.some((g) => g.group === '' && g.resources?.includes(resource)));
    const sessions = KUBERNETES_AUDIT_TARGETS.podSessions.map((sub) => `${KUBERNETES_AUDIT_TARGETS.pods}/${sub}`);
    const interactive = ruleFor(sessions[0])!;
    expect(interactive.level).toBe('RequestResponse');
    expect(interactive.resources!.flatMap((g) => g.resources ?? []).sort()).toEqual([...sessions].sort());
    expect(ruleFor(KUBERNETES_AUDIT_TARGETS.secrets)?.level).toBe('Metadata');
  });

  // Falco 0.44.1's alert (userspace/engine/formats.cpp), and one of Falco's own log lines on standard error.
  const falcoEvent = (rule: string, priority: string, fields: object) => JSON.stringify({
    hostname: 'node-a', output: `10:00:00.000000000: ${priority} ${rule}`, output_fields: fields, priority, rule, source: 'syscall',
    tags: ['container', 'mitre_execution'], time: '2026-06-02T10:00:00.000000000Z',
  });
  const falcoLines = {
    inContainer: falcoEvent('Terminal shell in container', 'Notice', {
      'container.id': 'c0ffee123456', 'container.name': 'api', 'k8s.ns.name': 'student-portal', 'k8s.pod.name': 'api-6f9c7d9b8-x2x4q', 'proc.cmdline': 'sh',
    }),
    onHost: falcoEvent('Read sensitive file untrusted', 'Warning', { 'container.id': 'host', 'container.name': 'host', 'k8s.ns.name': null, 'fd.name': '/etc/shadow' }),
    falcoLog: 'Tue Jun  2 10:00:00 2026: Falco version: 0.44.1 (x86_64)',
  };
  // audit.k8s.io/v1 Events (staging/src/k8s.io/apiserver/pkg/apis/audit/v1/types.go).
  const auditEvent = (event: object) => JSON.stringify({
    kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: '0b7c5e1a-4f6e-4d61-9a52-3f0f3c1b2d11', stage: 'ResponseComplete',
    sourceIPs: ['203.0.113.7'], userAgent: 'kubectl/v1.34.1', requestReceivedTimestamp: '2026-06-02T10:00:00.000000Z', stageTimestamp: '2026-06-02T10:00:00.100000Z',
    ...event,
  });
  const jane = { username: 'jane@example.edu', groups: ['platform', 'system:authenticated'] };
  const apiLines = {
    exec: auditEvent({
      level: 'RequestResponse', verb: 'get', user: jane, responseStatus: { metadata: {}, code: 101 },
      requestURI: '/api/v1/namespaces/student-portal/pods/api-0/exec?command=sh&container=api&stdin=true&stdout=true&tty=true',
      objectRef: { resource: 'pods', namespace: 'student-portal', name: 'api-0', apiVersion: 'v1', subresource: 'exec' },
    }),
    podRead: auditEvent({
      verb: 'get', user: jane, requestURI: '/api/v1/namespaces/student-portal/pods/api-0', responseStatus: { metadata: {}, code: 200 },
      objectRef: { resource: 'pods', namespace: 'student-portal', name: 'api-0', apiVersion: 'v1' },
    }),
    secretRead: auditEvent({
      verb: 'get', user: { username: 'system:serviceaccount:student-portal:api', groups: ['system:serviceaccounts', 'system:authenticated'] },
      requestURI: '/api/v1/namespaces/student-portal/secrets/db-app', responseStatus: { metadata: {}, code: 200 },
      objectRef: { resource: 'secrets', namespace: 'student-portal', name: 'db-app', apiVersion: 'v1' },
    }),
    impersonated: auditEvent({
      verb: 'list', user: { username: 'kubernetes-admin', groups: ['kubeadm:cluster-admins', 'system:authenticated'] }, impersonatedUser: jane,
      requestURI: '/api/v1/namespaces/student-portal/pods', responseStatus: { metadata: {}, code: 200 },
      objectRef: { resource: 'pods', namespace: 'student-portal', apiVersion: 'v1' },
    }),
    unauthenticated: auditEvent({
      verb: 'list', user: {}, requestURI: '/api/v1/secrets', responseStatus: { metadata: {}, status: 'Failure', reason: 'Unauthorized', code: 401 },
    }),
  };
  const withValue = (query: string, name: string, value: string) => query.replaceAll(`$${name}`, value);

  test('on events of the upstream shapes, each search keeps what it asks for and nothing else; an empty box finds nothing', () => {
    expect(kept(searches.securityEventCounts.query, falcoLines)).toEqual(['inContainer', 'onHost']);
    const ns = searches.namespaceSecurityEvents.query;
    expect(kept(withValue(ns, 'k8s_namespace', 'student-portal'), falcoLines)).toEqual(['inContainer']);
    expect(kept(withValue(ns, 'k8s_namespace', ''), falcoLines)).toEqual([]);

    const user = searches.kubernetesUserActions.query;
    // What jane did: her own requests, and the one made as her; the impersonator's name finds it too.
    expect(kept(withValue(user, 'k8s_user', jane.username), apiLines)).toEqual(['exec', 'podRead', 'impersonated']);
    expect(kept(withValue(user, 'k8s_user', 'kubernetes-admin'), apiLines)).toEqual(['impersonated']);
    expect(kept(withValue(user, 'k8s_user', ''), apiLines)).toEqual([]);
    expect(kept(searches.secretAccess.query, apiLines)).toEqual(['secretRead']);
    expect(kept(searches.podSessions.query, apiLines)).toEqual(['exec']);
  });

  test('the stand-in is not too kind: a line that is not JSON has only `__error__`, arrays are skipped, a form it does not know fails', () => {
    expect(lokiJson(falcoLines.falcoLog)).toEqual({ __error__: 'JSONParserErr' });
    expect(lokiJson(apiLines.secretRead)).not.toHaveProperty('sourceIPs');
    expect(lokiJson(falcoLines.onHost)).not.toHaveProperty('output_fields_k8s_ns_name');
    expect(() => labelFilterMatches('status >= 500', {})).toThrow();
  });
});
