/**
 * The saved searches (charts/logging/log-searches.ts) as each environment makes them: every query
 * parses with Grafana's LogQL parser once Grafana has put its variables in, selects only on the
 * labels the collector sets and filters, before any parser, only on those labels and its structured
 * metadata; it reads exactly the log types it declares, and so the one tenant its data source
 * names; its variables are exactly the ones it declares. Then what each search asks, on the
 * environment's namespaces.
 */
import { EVENTS_APP } from '../charts/logging/collector-config';
import {
  ARGOCD_EVENT, GRAFANA_BUILTIN_EXAMPLES, logSearches, tenantOf, variablesIn, withExamples, type LogSearch, type LogSearches, type LogSearchName,
} from '../charts/logging/log-searches';
import { LOG_LABELS, LOG_LEVELS, LOG_METADATA, LOG_TYPES, type LogTypeName } from '../charts/logging/log-streams';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { boxDesigner, shop, variant } from './support/fixtures';
import { parseLogql } from './support/logql';

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
      expect(v.example).toMatch(/^[\w.-]+$/);
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
    expect(byTenant('audit')).toEqual(['actorOnRecord', 'auditTrail', 'deliverySyncs', 'failedLogins']);
  });

  test('each search looks in the environment\'s namespaces: the application\'s, and the gateway\'s for its access log', () => {
    const ns = (id: LogSearchName) => matched(searches[id].query, LOG_LABELS.namespace);
    for (const id of ['logVolume', 'serviceErrors', 'auditTrail', 'failedLogins', 'actorOnRecord'] as const) expect(ns(id)).toEqual([scope.appNamespace]);
    expect(ns('gatewayServerErrors')).toEqual([scope.gatewayNamespace]);
    expect(ns('requestEndToEnd')).toEqual([...new Set([scope.appNamespace, scope.gatewayNamespace])].sort());
    // Argo CD's syncs are the delivery log type wherever Argo CD runs: no namespace to guess.
    expect(ns('deliverySyncs')).toEqual([]);
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
    for (const [id, s] of all) if (id !== 'logVolume') expect([id, s.kind]).toEqual([id, 'lines']);
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
