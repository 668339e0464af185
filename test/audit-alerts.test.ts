/**
 * The audit trail's Loki ruler rules (charts/logging/audit-alerts.ts), as the gitops chart
 * synthesizes them into argocd/<env>/: one ConfigMap in Loki's own namespace, the only one that
 * Loki's rules sidecar, as the synthesized Loki release configures it, reads, and none anywhere in
 * dist/<env>/; the sidecar writes it into the `audit` tenant's folder of the ruler's local storage; one rule
 * file in Prometheus' format whose thresholds come from `logging.audit`; every expression LogQL
 * that Grafana's parser reads, relying only on labels the collector sets and on the audit event's
 * fields; every alert labelled and annotated as Alertmanager's routing and the runbooks need.
 *
 * Loki cannot run here, so no expression is evaluated. What the real tools check instead:
 * - promtool (`check rules`, `test rules`) on the rule file with each LogQL expression replaced by
 *   a PromQL stand-in that returns the labels the LogQL returns: the file's shape as Prometheus'
 *   rule loader reads it (the format Loki's ruler loads with the same package, pkg/ruler/compat.go
 *   at v3.7.6), label names, the `for` and interval durations, and the summary and description
 *   templates rendered as the ruler renders them (Prometheus' template engine, which Loki's ruler
 *   uses), with `$value` and `$labels`;
 * - amtool (`config routes test`) on each alert's labels, with the Alertmanager configuration
 *   each environment's cluster gets: every alert reaches the receivers of its severity;
 * - a real Alertmanager (Debian's 0.25) with production's configuration, for the inhibition: no
 *   page of a service holds back an audit alert, and no audit page a service's ticket.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parser } from '@grafana/lezer-logql';
import type { SyntaxNode } from '@lezer/common';
import { parse } from 'yaml';
import { GROUP_BY, INHIBIT_RULES } from '../charts/gitops/alertmanager-config';
import { ROOT_WAVES } from '../charts/gitops/gitops-chart';
import { PLATFORM_RELEASES } from '../charts/gitops/platform-releases';
import { LOKI_RULES_SIDECAR, type LokiValues } from '../charts/gitops/values/loki';
import {
  AUDIT_ALERT_NAMES, AUDIT_ALERTS, AUDIT_GROUP_INTERVALS, AUDIT_SOURCE_APP, AUDIT_TENANT_SILENT_AFTER, AUDIT_TRAIL_SERVICE, auditRuleFileName,
  REFUSED_LOGIN_OUTCOMES,
} from '../charts/logging/audit-alerts';
import { AUDIT_ACTIONS, AUDIT_EVENT_FIELDS, AUDIT_OUTCOMES, LOG_LABELS, LOG_METADATA, LOKI_TENANTS } from '../charts/logging/log-streams';
import { repositoryFilesUrl, runbookUrl } from '../charts/observability/runbooks';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { buildModel } from '../environments/model/model';
import type { Environment } from '../environments/schema';
import type { K8sObject } from '../pipeline/k8s-object';
import { argocdObjects, modelObjects, synthObjects } from '../pipeline/synth';
import type { RuleTest } from './support/alert-rules';
import { for025, routesOf, startAlertmanager } from './support/debian-alertmanager';
import { REPOSITORY_ROOT, shop, variant } from './support/fixtures';
import { chartDefaults, coalesce } from './support/helm-values';
import { parseLogql } from './support/logql';
import { promtool } from './support/promtool';
import { only } from './support/synth-construct';
import { waitFor } from './support/wait';

interface Rule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}
interface RuleGroup { readonly name: string; readonly interval: string; readonly rules: readonly Rule[] }
interface RuleFile { readonly groups: readonly RuleGroup[] }

const envs = resolveEnvironments(environments, process.cwd());
const production = envs.find((e) => e.name === 'production') as Environment;

const LOKI_NAMESPACE = PLATFORM_RELEASES.loki.namespace;

/** dist/<env>/'s objects. */
const objectsOf = (env: Environment) => synthObjects(env).map((o) => o.object);
/** argocd/<env>/'s objects, where the rules are. */
const argocdOf = (env: Environment) => {
  const model = buildModel(env);
  return argocdObjects(model, modelObjects(model));
};
const configMapOf = (objects: readonly K8sObject[]) => only(objects, 'ConfigMap', AUDIT_ALERTS);
const wave = (o: K8sObject) => Number(o.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? 0);
/** The one rule file of the ConfigMap, parsed. */
function ruleFileOf(configMap: K8sObject): RuleFile {
  const files = Object.values(configMap.data as Record<string, string>);
  if (files.length !== 1) throw new Error(`expected one rule file in ${AUDIT_ALERTS}, found ${files.length}`);
  return parse(files[0]) as RuleFile;
}
const rulesOf = (file: RuleFile): Rule[] => file.groups.flatMap((g) => g.rules);
const ruleOf = (file: RuleFile, alert: string): Rule => {
  const found = rulesOf(file).filter((r) => r.alert === alert);
  if (found.length !== 1) throw new Error(`expected one alert ${alert}, found ${found.length}`);
  return found[0];
};
const rulesFor = (env: Environment) => ruleFileOf(configMapOf(argocdOf(env)));

// --- Reading LogQL with Grafana's parser (@grafana/lezer-logql) ---------------------------------

const textOf = (expr: string, node: SyntaxNode) => expr.slice(node.from, node.to);
const childrenOf = (node: SyntaxNode): SyntaxNode[] => {
  const out: SyntaxNode[] = [];
  for (let c = node.firstChild; c; c = c.nextSibling) out.push(c);
  return out;
};
/** Every node named `name` below `node`. */
function descendants(node: SyntaxNode, name: string): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  const cursor = node.cursor();
  while (cursor.next() && cursor.from <= node.to) {
    if (cursor.to > node.to) break;
    if (cursor.name === name) out.push(cursor.node);
  }
  return out;
}
/** The identifiers of a `by (…)` list (the grammar nests `Labels` to the left). */
const groupingLabels = (expr: string, grouping: SyntaxNode): string[] => descendants(grouping, 'Identifier').map((n) => textOf(expr, n));
/** Equality matchers of a selector, as label → value. */
function equalityMatchers(expr: string, selector: SyntaxNode): Record<string, string> {
  return Object.fromEntries(descendants(selector, 'Matcher').filter((m) => m.getChild('Eq'))
    .map((m) => [textOf(expr, m.getChild('Identifier') as SyntaxNode), JSON.parse(textOf(expr, m.getChild('String') as SyntaxNode)) as string]));
}

/**
 * The labels a metric expression's result has, as Loki computes them, for the shapes these rules
 * use: a comparison with a number keeps the left side's; `op by (…)` has the listed labels;
 * label_replace adds its target; absent_over_time has the selector's equality matchers (with their
 * values). Another shape fails the test, rather than being guessed at.
 */
function outputLabels(expr: string): Record<string, string | undefined> {
  const walk = (node: SyntaxNode): Record<string, string | undefined> => {
    const [only_] = childrenOf(node).filter((c) => c.name !== 'Expr' || node.name !== 'BinOpExpr');
    switch (node.name) {
      case 'LogQL': case 'Expr': case 'MetricExpr': return walk(only_);
      case 'BinOpExpr': {
        const [left, right] = childrenOf(node).filter((c) => c.name === 'Expr');
        if (!descendants(right, 'LiteralExpr').length) throw new Error(`not a comparison with a number: ${textOf(expr, node)}`);
        return walk(left);
      }
      case 'VectorAggregationExpr': {
        const grouping = node.getChild('Grouping');
        if (!grouping || !grouping.getChild('By')) throw new Error(`an aggregation without by (…): ${textOf(expr, node)}`);
        return Object.fromEntries(groupingLabels(expr, grouping).map((l) => [l, undefined]));
      }
      case 'LabelReplaceExpr': {
        const target = JSON.parse(textOf(expr, node.getChildren('String')[0])) as string;
        return { ...walk(node.getChild('MetricExpr') as SyntaxNode), [target]: undefined };
      }
      case 'RangeAggregationExpr': {
        if (!node.getChild('RangeOp')?.getChild('AbsentOverTime')) throw new Error(`a range aggregation without by (…): ${textOf(expr, node)}`);
        return equalityMatchers(expr, node.getChild('LogRangeExpr')?.getChild('Selector') as SyntaxNode);
      }
      default: throw new Error(`unexpected ${node.name}: ${textOf(expr, node)}`);
    }
  };
  return walk(parser.parse(expr).topNode);
}

/** What a `| json a="b", …` stage extracts: label → the JSON key it reads. */
function jsonExtractions(expr: string): Record<string, string> {
  return Object.fromEntries(descendants(parser.parse(expr).topNode, 'LabelExtractionExpression')
    .map((n) => [textOf(expr, n.getChild('Identifier') as SyntaxNode), JSON.parse(textOf(expr, n.getChild('String') as SyntaxNode)) as string]));
}
/** The labels that filters after a parser stage name. */
function parsedFilterLabels(expr: string): string[] {
  const stages = descendants(parser.parse(expr).topNode, 'PipelineStage');
  const firstParser = stages.findIndex((s) => s.getChild('JsonExpressionParser') || s.getChild('LabelParser'));
  return stages.slice(firstParser + 1).flatMap((s) => descendants(s, 'Matcher').map((m) => textOf(expr, m.getChild('Identifier') as SyntaxNode)));
}
/** The range windows of an expression (`[5m]`). */
const windowsOf = (expr: string) => descendants(parser.parse(expr).topNode, 'Duration').map((n) => textOf(expr, n));
/** The number a comparison compares with (`… >= 20`). */
const thresholdOf = (expr: string) => Number(/>= (\d+)$/.exec(expr)?.[1]);
/**
 * Whether the label filters after the expression's parser stage keep an event (its fields as the
 * parser's labels; a missing one is empty, as in Loki). Equality and regular-expression matchers,
 * the latter anchored as Loki anchors them; `__error__` is taken as empty (the event parsed).
 */
function keepsEvent(expr: string, event: Readonly<Record<string, string>>): boolean {
  const stages = descendants(parser.parse(expr).topNode, 'PipelineStage');
  const firstParser = stages.findIndex((s) => s.getChild('JsonExpressionParser') || s.getChild('LabelParser'));
  return stages.slice(firstParser + 1).flatMap((s) => descendants(s, 'Matcher')).every((m) => {
    const label = textOf(expr, m.getChild('Identifier') as SyntaxNode);
    const value = JSON.parse(textOf(expr, m.getChild('String') as SyntaxNode)) as string;
    const actual = label === '__error__' ? '' : event[label] ?? '';
    if (m.getChild('Eq')) return actual === value;
    if (m.getChild('Neq')) return actual !== value;
    const re = new RegExp(`^(?:${value})$`);
    if (m.getChild('Re')) return re.test(actual);
    if (m.getChild('Nre')) return !re.test(actual);
    throw new Error(`an unexpected matcher: ${textOf(expr, m)}`);
  });
}

test('the parser helpers read what they should, and refuse what they cannot', () => {
  expect(outputLabels('sum by (a, b) (count_over_time({x="y"}[1m])) > 3')).toEqual({ a: undefined, b: undefined });
  expect(outputLabels('label_replace(sum by (a) (rate({x="y"}[1m])), "s", "$1", "a", "(.+)")')).toEqual({ a: undefined, s: undefined });
  expect(outputLabels('absent_over_time({x="y", z=~"w"}[1h])')).toEqual({ x: 'y' });
  expect(() => outputLabels('sum(count_over_time({x="y"}[1m]))')).toThrow('without by');
  expect(() => outputLabels('count_over_time({x="y"}[1m])')).toThrow('without by');
  expect(jsonExtractions('count_over_time({x="y"} | json a="b", c="d" [1m])')).toEqual({ a: 'b', c: 'd' });
  expect(parsedFilterLabels('count_over_time({x="y"} | pod="p" | json a="a" | a="1" | __error__="" [1m])')).toEqual(['a', '__error__']);
  const filtered = 'count_over_time({x="y"} | pod="p" | json a="a", b="b" | a="1" | b=~"x|y" | __error__="" [1m])';
  const events: Record<string, string>[] = [{ a: '1', b: 'x' }, { a: '1', b: 'y' }, { a: '1', b: 'xy' }, { a: '2', b: 'x' }, { b: 'x' }];
  expect(events.map((e) => keepsEvent(filtered, e)))
    .toEqual([true, true, false, false, false]);
  expect(keepsEvent('count_over_time({x="y"} | json a="a" | a!="1" | a!~"2|3" [1m])', { a: '4' })).toBe(true);
  expect(keepsEvent('count_over_time({x="y"} | json a="a" | a!="1" | a!~"2|3" [1m])', { a: '3' })).toBe(false);
});

// --- The ConfigMap and the sidecar that loads it -------------------------------------------------

describe.each(envs.map((e) => [e.name, e] as const))('%s', (_name, env) => {
  const objects = objectsOf(env);
  const model = buildModel(env);
  const argocd = argocdObjects(model, modelObjects(model));
  const configMap = configMapOf(argocd);
  const loki = only(argocd, 'Application', 'loki').spec.source.helm.valuesObject as LokiValues;
  const file = ruleFileOf(configMap);

  test('one ConfigMap in Loki\'s namespace, from argocd/<env>/, that the deployed sidecar selects and writes into the audit tenant\'s folder, which the ruler reads', () => {
    const sidecar = loki.sidecar.rules;
    expect(configMap.metadata.namespace).toBe(LOKI_NAMESPACE);
    expect(configMap.metadata.namespace).not.toBe(env.app.namespace);
    // The sidecar reads Loki's namespace and no other, with the chart's RBAC confined to it.
    expect(sidecar.searchNamespace.split(',')).toEqual([LOKI_NAMESPACE]);
    expect(loki.rbac).toEqual({ namespaced: true });
    expect(configMap.metadata.labels[sidecar.label]).toBe(sidecar.labelValue);
    // Relative to the sidecar's folder; Loki's local rule storage is `<directory>/<tenant>/<file>`.
    expect(configMap.metadata.annotations[sidecar.folderAnnotation]).toBe(LOKI_TENANTS.audit);
    expect(loki.loki.rulerConfig.storage.local.directory).toBe(sidecar.folder);
    if (env.objectStorage) expect(loki.loki.structuredConfig.ruler_storage?.local.directory).toBe(sidecar.folder);
    // One rule file, named for the application and environment (two applications' files in one folder never collide).
    expect(Object.keys(configMap.data)).toEqual([auditRuleFileName(model.identity)]);
    expect(auditRuleFileName(model.identity)).toMatch(/^[a-z0-9-]+\.yaml$/);
    // No other object carries the sidecar's label: nothing else lands in a tenant's rules by accident.
    expect(argocd.filter((o) => o.metadata?.labels?.[LOKI_RULES_SIDECAR.label] !== undefined).map((o) => o.metadata.name)).toEqual([AUDIT_ALERTS]);
  });

  test('nothing in dist/<env>/ carries the sidecar\'s label: the application\'s objects add no Loki rules', () => {
    expect(objects.length).toBeGreaterThan(0);
    expect(objects.filter((o) => o.metadata?.labels?.[LOKI_RULES_SIDECAR.label] !== undefined).map((o) => `${o.kind} ${o.metadata.name}`)).toEqual([]);
    expect(objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.name === AUDIT_ALERTS)).toEqual([]);
  });

  test('the root Application makes it once Loki\'s namespace exists, before Loki, and its project may', () => {
    const namespace = only(argocd, 'Namespace', LOKI_NAMESPACE);
    expect(wave(configMap)).toBeGreaterThan(wave(namespace));
    expect(wave(configMap)).toBeGreaterThan(ROOT_WAVES.namespaces);
    // Loaded from the ruler's first start.
    expect(wave(configMap)).toBeLessThan(wave(only(argocd, 'Application', 'loki')));
    const bootstrap = only(argocd, 'AppProject', model.delivery.bootstrapProject);
    expect(bootstrap.spec.destinations.map((d: { namespace: string }) => d.namespace)).toContain(LOKI_NAMESPACE);
    expect(bootstrap.spec.namespaceResourceWhitelist).toContainEqual({ group: '', kind: 'ConfigMap' });
    // The application's project may not write there.
    const app = only(argocd, 'AppProject', model.delivery.appProject);
    expect(app.spec.destinations.map((d: { namespace: string }) => d.namespace)).not.toContain(LOKI_NAMESPACE);
  });

  test('the rule file: Prometheus\' format, groups with a unique name, an interval and alerting rules only', () => {
    expect(Object.keys(file)).toEqual(['groups']);
    expect(new Set(file.groups.map((g) => g.name)).size).toBe(file.groups.length);
    for (const g of file.groups) {
      expect(Object.keys(g)).toEqual(['name', 'interval', 'rules']);
      expect(g.rules.length).toBeGreaterThan(0);
      for (const r of g.rules) expect(Object.keys(r).filter((k) => !['alert', 'expr', 'for', 'labels', 'annotations'].includes(k))).toEqual([]);
    }
    expect(Object.fromEntries(file.groups.map((g) => [g.name, g.interval]))).toEqual({
      'audit-events': AUDIT_GROUP_INTERVALS.events, 'audit-intake': AUDIT_GROUP_INTERVALS.intake,
      // The silence alert only where logging.audit.silentAfter says how long is too long (production's).
      ...(env.logging.audit.silentAfter ? { 'audit-silence': AUDIT_GROUP_INTERVALS.silence } : {}),
    });
  });

  test('every expression is LogQL that parses, selecting and filtering only on what the collector sets, reading only audit event fields', () => {
    const labels: string[] = Object.values(LOG_LABELS);
    const metadata: string[] = Object.values(LOG_METADATA);
    const fields: string[] = Object.values(AUDIT_EVENT_FIELDS);
    for (const r of rulesOf(file)) {
      const parsed = parseLogql(r.expr);
      expect([r.alert, parsed.errors]).toEqual([r.alert, []]);
      expect(parsed.selectorLabels.length).toBeGreaterThan(0);
      expect([r.alert, parsed.selectorLabels.filter((l) => !labels.includes(l))]).toEqual([r.alert, []]);
      expect([r.alert, parsed.unparsedFilterLabels.filter((l) => !labels.includes(l) && !metadata.includes(l))]).toEqual([r.alert, []]);
      // `| json x="x"`: each label is the event field of its own name; filters after it read only those, or the parser's error.
      const extracted = jsonExtractions(r.expr);
      for (const [label, key] of Object.entries(extracted)) expect([r.alert, label, fields.includes(key)]).toEqual([r.alert, key, true]);
      expect([r.alert, parsedFilterLabels(r.expr).filter((l) => !(l in extracted) && l !== '__error__')]).toEqual([r.alert, []]);
    }
  });

  test('the application\'s events are read in its own namespace; the tenant\'s silence on the delivery audit', () => {
    const events = `{namespace="${env.app.namespace}", log_type="audit"}`;
    const bulk = env.logging.audit.bulkAccess ? [AUDIT_ALERT_NAMES.bulkAccess] : [];
    const silent = env.logging.audit.silentAfter ? [AUDIT_ALERT_NAMES.eventsSilent] : [];
    for (const alert of [AUDIT_ALERT_NAMES.loginFailures, ...silent, ...bulk]) {
      expect(ruleOf(file, alert).expr).toContain(events);
    }
    expect(ruleOf(file, AUDIT_ALERT_NAMES.tenantSilent).expr).toBe(`absent_over_time({log_type="delivery"}[${AUDIT_TENANT_SILENT_AFTER}])`);
  });

  test('every alert: a severity, a namespace and a service (from the expression or static), a summary, a description and its runbook', () => {
    const files = repositoryFilesUrl(env.delivery.repoURL, env.delivery.targetRevision);
    for (const r of rulesOf(file)) {
      const firing = { ...outputLabels(r.expr), ...r.labels };
      // The audit trail's own service, never the one that wrote the events (which is `source_app`):
      // inhibition pairs alerts by namespace and service.
      expect([r.alert, r.labels.service, 'service' in outputLabels(r.expr)]).toEqual([r.alert, AUDIT_TRAIL_SERVICE, false]);
      expect([r.alert, ['critical', 'warning', 'info'].includes(r.labels.severity)]).toEqual([r.alert, true]);
      for (const l of GROUP_BY.filter((g) => g !== 'alertname')) expect([r.alert, l, l in firing]).toEqual([r.alert, l, true]);
      expect(Object.keys(r.annotations).sort()).toEqual(['description', 'runbook_url', 'summary']);
      expect(r.annotations.runbook_url).toBe(runbookUrl(files, r.alert));
      // The description names what the expression groups by, so a notification says which address, actor or namespace.
      const grouped = Object.keys(outputLabels(r.expr)).filter((l) => l !== LOG_LABELS.logType);
      for (const l of grouped) expect([r.alert, l, `${r.annotations.summary} ${r.annotations.description}`.includes(`$labels.${l}`)]).toEqual([r.alert, l, true]);
      // No `for`: each window is the wait (a critical alert's `for` stays within 3 minutes either way).
      expect(r.for).toBeUndefined();
    }
  });

  test('severities: a bulk read of records and a deaf audit tenant page; failed sign-ins and quiet application events are tickets', () => {
    const severities = Object.fromEntries(rulesOf(file).map((r) => [r.alert, r.labels.severity]));
    expect(severities).toEqual({
      [AUDIT_ALERT_NAMES.loginFailures]: 'warning',
      [AUDIT_ALERT_NAMES.tenantSilent]: 'critical',
      ...(env.logging.audit.silentAfter ? { [AUDIT_ALERT_NAMES.eventsSilent]: 'warning' } : {}),
      ...(env.logging.audit.bulkAccess ? { [AUDIT_ALERT_NAMES.bulkAccess]: 'critical' } : {}),
    });
    // The counting alerts say how many.
    for (const alert of [AUDIT_ALERT_NAMES.loginFailures, ...(env.logging.audit.bulkAccess ? [AUDIT_ALERT_NAMES.bulkAccess] : [])]) {
      expect(ruleOf(file, alert).annotations.description).toContain('{{ $value }}');
    }
  });

  test('failed sign-ins count every refused one: a wrong password (failure) and a locked account\'s refusal (denied), never a success', () => {
    const login = ruleOf(file, AUDIT_ALERT_NAMES.loginFailures);
    // docs/audit-events.md's failed sign-in, with each outcome.
    const event = (outcome: string, action: string = AUDIT_ACTIONS.login) => ({
      action, outcome, actor: 'anonymous', resource_type: 'account', resource_id: 'u-000789', source_address: '2001:db8::2a',
    });
    const counted = Object.fromEntries(AUDIT_OUTCOMES.map((o) => [o, keepsEvent(login.expr, event(o))]));
    expect(counted).toEqual({ success: false, failure: true, denied: true });
    expect([...REFUSED_LOGIN_OUTCOMES].sort()).toEqual(AUDIT_OUTCOMES.filter((o) => o !== 'success').sort());
    // Another action with a refused outcome (a denied read) is no sign-in.
    expect(keepsEvent(login.expr, event('denied', AUDIT_ACTIONS.read))).toBe(false);
    expect(login.annotations.description).toContain('outcome failure or denied');
  });

  test('the tenant\'s silence holds back the application\'s: same namespace and service, a critical over a warning', () => {
    // Staging has no silence alert (nights without a user are normal there): production's is checked.
    const file = env.logging.audit.silentAfter
      ? ruleFileOf(configMapOf(argocd))
      : rulesFor(variant(shop, { app: { namespace: env.app.namespace }, logging: { audit: { silentAfter: '6h' } } }));
    const [tenant, events] = [AUDIT_ALERT_NAMES.tenantSilent, AUDIT_ALERT_NAMES.eventsSilent].map((a) => {
      const r = ruleOf(file, a);
      return { ...outputLabels(r.expr), ...r.labels };
    });
    expect([tenant.namespace, tenant.service]).toEqual([env.app.namespace, AUDIT_TRAIL_SERVICE]);
    expect([events.namespace, events.service]).toEqual([tenant.namespace, tenant.service]);
    const inhibition = INHIBIT_RULES.find((i) => i.source_matchers.includes('severity="critical"'));
    expect(inhibition?.equal).toEqual(['namespace', 'service']);
    expect([tenant.severity, events.severity]).toEqual(['critical', 'warning']);
  });
});

// --- Thresholds from the configuration -----------------------------------------------------------

test('the reference application: production alerts on six silent hours, staging (nights without a user) does not', () => {
  const silence = (name: string) => rulesOf(rulesFor(envs.find((e) => e.name === name) as Environment))
    .filter((r) => r.alert === AUDIT_ALERT_NAMES.eventsSilent);
  expect(silence('production').map((r) => r.expr)).toEqual([expect.stringContaining('[6h])')]);
  expect(silence('staging')).toEqual([]);
});

describe('thresholds from logging.audit', () => {
  test('production\'s: 20 failed sign-ins in 5m, 100 distinct student records in 10m, 6h of silence', () => {
    const file = rulesFor(production);
    const audit = production.logging.audit;
    expect(audit).toMatchObject({ failedLogins: { count: 20, window: '5m' }, bulkAccess: { resourceTypes: ['student'], records: 100, window: '10m' }, silentAfter: '6h' });
    const login = ruleOf(file, AUDIT_ALERT_NAMES.loginFailures).expr;
    expect([windowsOf(login), thresholdOf(login)]).toEqual([['5m'], 20]);
    const bulk = ruleOf(file, AUDIT_ALERT_NAMES.bulkAccess).expr;
    expect([windowsOf(bulk), thresholdOf(bulk)]).toEqual([['10m'], 100]);
    expect(bulk).toContain('| resource_type=~"student" |');
    const read = { actor: 'user:u-000123', action: AUDIT_ACTIONS.read, resource_type: 'student', resource_id: 's-000456', outcome: 'success' };
    expect([read, { ...read, action: AUDIT_ACTIONS.export }, { ...read, outcome: 'denied' }, { ...read, resource_type: 'enrollment' }, { ...read, action: 'update' }]
      .map((e) => keepsEvent(bulk, e))).toEqual([true, true, false, false, false]);
    expect(windowsOf(ruleOf(file, AUDIT_ALERT_NAMES.eventsSilent).expr)).toEqual(['6h']);
  });

  test('a change of the configuration changes the rules, and only where it should', () => {
    const changed = variant(shop, {
      logging: { audit: { failedLogins: { count: 7, window: '2m' }, bulkAccess: { resourceTypes: ['student', 'enrollment'], records: 42, window: '1h30m' }, silentAfter: '3h' } },
    });
    const file = rulesFor(changed);
    const login = ruleOf(file, AUDIT_ALERT_NAMES.loginFailures);
    expect([windowsOf(login.expr), thresholdOf(login.expr)]).toEqual([['2m'], 7]);
    expect(login.annotations.description).toContain('within 2m');
    expect(login.annotations.description).toContain('7 or more alert');
    const bulk = ruleOf(file, AUDIT_ALERT_NAMES.bulkAccess);
    expect([windowsOf(bulk.expr), thresholdOf(bulk.expr)]).toEqual([['1h30m'], 42]);
    expect(bulk.expr).toContain('| resource_type=~"student|enrollment" |');
    expect(bulk.annotations.description).toContain('of type student, enrollment');
    expect(bulk.annotations.description).toContain('42 or more alert');
    const silent = ruleOf(file, AUDIT_ALERT_NAMES.eventsSilent);
    expect(windowsOf(silent.expr)).toEqual(['3h']);
    expect(silent.annotations.summary).toContain('for 3h');
    // The tenant's silence is Argo CD's, not the configuration's.
    expect(windowsOf(ruleOf(file, AUDIT_ALERT_NAMES.tenantSilent).expr)).toEqual([AUDIT_TENANT_SILENT_AFTER]);
    for (const r of rulesOf(file)) expect([r.alert, parseLogql(r.expr).errors]).toEqual([r.alert, []]);
  });

  test('without bulkAccess there is no bulk-access alert, without silentAfter no silence alert; the others stay', () => {
    const env = variant(shop);
    expect(env.logging.audit.bulkAccess).toBeUndefined();
    expect(env.logging.audit.silentAfter).toBeUndefined();
    const { eventsSilent, loginFailures, tenantSilent } = AUDIT_ALERT_NAMES;
    expect(rulesOf(rulesFor(env)).map((r) => r.alert).sort()).toEqual([loginFailures, tenantSilent].sort());
    const silent = variant(shop, { logging: { audit: { silentAfter: '12h' } } });
    expect(rulesOf(rulesFor(silent)).map((r) => r.alert).sort()).toEqual([eventsSilent, loginFailures, tenantSilent].sort());
  });
});

// --- promtool on the rule file, each expression replaced by a stand-in ---------------------------

/**
 * Example values of the labels the expressions group by: what the stand-in series carry, so that
 * the alerts fire with the labels the LogQL would give them. Only labels listed here may appear.
 */
const EXAMPLE_LABELS: Record<string, string> = { [AUDIT_SOURCE_APP]: 'api', source_address: '203.0.113.7', actor: 'user:u-000123' };
/** The value each stand-in returns: a count for the counting alerts, 1 for absent_over_time. */
const EXAMPLE_VALUE = 137;

/** A rule file whose expressions are PromQL series with the labels (and example values) of the LogQL's result. */
function withStandIns(file: RuleFile, namespace: string) {
  const series: RuleTest['input_series'][number][] = [];
  const expected: Record<string, Record<string, string>> = {};
  const groups = file.groups.map((g) => ({
    ...g,
    rules: g.rules.map((r) => {
      const labels = Object.fromEntries(Object.entries(outputLabels(r.expr)).map(([l, v]) => {
        const value = v ?? (l === LOG_LABELS.namespace ? namespace : EXAMPLE_LABELS[l]);
        if (value === undefined) throw new Error(`${r.alert}: no example value for the label ${l}`);
        return [l, value];
      }));
      const name = `stand_in_${r.alert}`;
      const absent = r.expr.startsWith('absent_over_time(');
      series.push({ series: `${name}{${Object.entries(labels).map(([l, v]) => `${l}="${v}"`).join(',')}}`, values: `${absent ? 1 : EXAMPLE_VALUE}x30` });
      expected[r.alert] = { ...labels, ...r.labels };
      return { ...r, expr: name };
    }),
  }));
  return { file: { groups }, series, expected };
}

describe('the rule file with promtool (expressions replaced by stand-ins)', () => {
  const file = rulesFor(production);
  const ns = production.app.namespace;
  const standIns = withStandIns(file, ns);

  test('promtool check rules accepts it: names, labels, durations and templates', () => {
    const r = promtool(['check', 'rules', 'rules.yaml'], { 'rules.yaml': standIns.file });
    expect(r.output).toContain(`SUCCESS: ${rulesOf(file).length} rules found`);
    expect(r.status).toBe(0);
  });

  test('and refuses a broken template, a bad label name or a repeated group (the check can fail)', () => {
    const broken = structuredClone(standIns.file) as { groups: { name: string; rules: Rule[] }[] };
    broken.groups[0].rules[0].annotations.description = '{{ $value';
    expect(promtool(['check', 'rules', 'rules.yaml'], { 'rules.yaml': broken }).status).not.toBe(0);
    const badLabel = structuredClone(standIns.file) as { groups: { name: string; rules: Rule[] }[] };
    badLabel.groups[0].rules[0].labels['not-a-label'] = 'x';
    expect(promtool(['check', 'rules', 'rules.yaml'], { 'rules.yaml': badLabel }).status).not.toBe(0);
    const repeated = structuredClone(standIns.file) as { groups: { name: string }[] };
    repeated.groups[1].name = repeated.groups[0].name;
    expect(promtool(['check', 'rules', 'rules.yaml'], { 'rules.yaml': repeated }).status).not.toBe(0);
  });

  test('each alert fires with the labels routing needs, and its summary and description render with $value and $labels', () => {
    const addr = EXAMPLE_LABELS.source_address;
    const actor = EXAMPLE_LABELS.actor;
    const annotations: Record<string, { summary: string; description: string }> = {
      [AUDIT_ALERT_NAMES.loginFailures]: {
        summary: `Failed sign-ins from ${addr} to ${ns}/api`,
        description: `${EXAMPLE_VALUE} failed sign-ins (audit events with action login, outcome failure or denied) from source address ${addr} within 5m in api `
          + `of namespace ${ns}; 20 or more alert: password guessing or credential stuffing from that address.`,
      },
      [AUDIT_ALERT_NAMES.bulkAccess]: {
        summary: `${actor} read ${EXAMPLE_VALUE} distinct student records in ${ns} within 10m`,
        description: `The actor ${actor} read ${EXAMPLE_VALUE} distinct records of type student (audit events with action read or export, outcome success) `
          + `within 10m through api in namespace ${ns}; 100 or more alert. A bulk export or a stolen account scraping records: a possible unauthorized `
          + 'disclosure of education records (FERPA).',
      },
      [AUDIT_ALERT_NAMES.eventsSilent]: {
        summary: `No audit events from ${ns} for 6h`,
        description: `Loki's audit tenant has received no application audit event (log_type audit) from namespace ${ns} for 6h: the services stopped `
          + 'writing them, the collector stopped routing them, or Loki stopped taking them. Reads and changes of student records in that time may be unrecorded.',
      },
      [AUDIT_ALERT_NAMES.tenantSilent]: {
        summary: `Loki's audit tenant has received no delivery audit for ${AUDIT_TENANT_SILENT_AFTER}`,
        description: `No line of Argo CD's logs and events (log_type delivery) has reached Loki's audit tenant for ${AUDIT_TENANT_SILENT_AFTER}, although `
          + 'Argo CD logs every Application\'s refresh every few minutes: the path from the collector to the audit tenant is broken, and the audit '
          + `trail of ${ns} (its audit events, the security events, the API audit) is not being kept.`,
      },
    };
    expect(Object.keys(annotations).sort()).toEqual(rulesOf(file).map((r) => r.alert).sort());
    const files = repositoryFilesUrl(production.delivery.repoURL, production.delivery.targetRevision);
    const tests: RuleTest[] = [{
      interval: '1m',
      input_series: standIns.series,
      // After the slowest group's first evaluations.
      alert_rule_test: rulesOf(file).map((r) => ({
        eval_time: '12m',
        alertname: r.alert,
        exp_alerts: [{ exp_labels: standIns.expected[r.alert], exp_annotations: { ...annotations[r.alert], runbook_url: runbookUrl(files, r.alert) } }],
      })),
    }];
    const r = promtool(['test', 'rules', 'test.yaml'], { 'rules.yaml': standIns.file, 'test.yaml': { rule_files: ['rules.yaml'], tests } });
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });
});

// --- Routing: amtool on the Alertmanager configuration each cluster gets --------------------------

/** The receivers each severity must reach, per environment (as test/alertmanager-config.test.ts's table). */
const EXPECTED_RECEIVERS: Record<string, Record<string, readonly string[]>> = {
  production: { critical: ['pagerduty', 'slack'], warning: ['slack'] },
  staging: { critical: ['slack'], warning: ['slack'] },
};

test('the environments tested are the ones with expected receivers', () => {
  expect(envs.map((e) => e.name).sort()).toEqual(Object.keys(EXPECTED_RECEIVERS).sort());
});

describe.each(envs.map((e) => [e.name, e] as const))('%s: routing', (name, env) => {
  const model = buildModel(env);
  const kps = only(argocdObjects(model, modelObjects(model)), 'Application', 'kube-prometheus-stack').spec.source.helm.valuesObject;
  // What Alertmanager loads: the chart's default configuration with ours merged over it, in the
  // form Debian's amtool 0.25 reads (the webhook's url_file as url: test/support/debian-alertmanager.ts).
  const config = for025(coalesce((chartDefaults('kube-prometheus-stack').alertmanager as Record<string, unknown>).config, kps.alertmanager.config), 'http://127.0.0.1:9/unused');
  const file = rulesFor(env);
  const standIns = withStandIns(file, env.app.namespace);

  test.each(rulesOf(file).map((r) => [r.alert, r] as const))('%s reaches the receivers of its severity', (alert, r) => {
    const labels = { alertname: alert, ...standIns.expected[alert] };
    expect(routesOf(config, labels)).toEqual(EXPECTED_RECEIVERS[name][r.labels.severity]);
  });
});

// --- Inhibition: a real Alertmanager with production's configuration ------------------------------

describe('inhibition, in a real Alertmanager with production\'s configuration', () => {
  const children: ChildProcess[] = [];
  afterAll(() => { for (const c of children) c.kill('SIGKILL'); });
  const model = buildModel(production);
  const kps = only(argocdObjects(model, modelObjects(model)), 'Application', 'kube-prometheus-stack').spec.source.helm.valuesObject;
  const config = for025(coalesce((chartDefaults('kube-prometheus-stack').alertmanager as Record<string, unknown>).config, kps.alertmanager.config), 'http://127.0.0.1:9/unused');
  const ns = production.app.namespace;
  const standIns = withStandIns(rulesFor(production), ns);
  /** An audit alert as it fires: the labels its rule gives it (its `source_app` the api). */
  const audit = (alert: string): Record<string, string> => ({ alertname: alert, ...standIns.expected[alert] });
  // The api's SLO page and ticket (charts/observability: ErrorBudgetBurn, `service` the api's).
  const apiPage = { alertname: 'ErrorBudgetBurn', namespace: ns, service: 'api', slo: 'availability', severity: 'critical' };
  const apiTicket = { alertname: 'ErrorBudgetBurn', namespace: ns, service: 'api', slo: 'latency', severity: 'warning' };

  test('an api page holds back no audit alert, an audit page no api ticket; the audit trail\'s pages hold back its own tickets', async () => {
    const { loginFailures, bulkAccess, eventsSilent, tenantSilent } = AUDIT_ALERT_NAMES;
    expect([audit(loginFailures), audit(bulkAccess)].map((a) => [a.namespace, a[AUDIT_SOURCE_APP]])).toEqual([[ns, 'api'], [ns, 'api']]);
    const am = await startAlertmanager(config, children);
    try {
      const post = async (alerts: readonly Record<string, string>[], resolved = false) => {
        const r = await fetch(`${am.url}/api/v2/alerts`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(5_000),
          // Resolved: ended now, as Prometheus resolves an alert.
          body: JSON.stringify(alerts.map((labels) => ({
            labels, annotations: { summary: labels.alertname }, ...(resolved ? { endsAt: new Date().toISOString() } : {}),
          }))),
        });
        expect(r.status).toBe(200);
      };
      const key = (labels: Record<string, string>) => `${labels.alertname}/${labels.severity}/${labels.service}`;
      /** Each active alert → the alerts holding it back (Alertmanager computes it when asked). */
      const inhibitions = async () => {
        const r = await fetch(`${am.url}/api/v2/alerts`, { signal: AbortSignal.timeout(5_000) });
        const got = await r.json() as { labels: Record<string, string>; fingerprint: string; status: { inhibitedBy: string[] } }[];
        const byFingerprint = new Map(got.map((a) => [a.fingerprint, key(a.labels)]));
        return new Map(got.map((a) => [key(a.labels), a.status.inhibitedBy.map((fp) => byFingerprint.get(fp) ?? fp)]));
      };
      let last = new Map<string, string[]>();
      const wait = (what: string, done: (s: Map<string, string[]>) => boolean) => waitFor(what, 15_000, async () => {
        last = await inhibitions();
        return done(last) ? last : undefined;
      }, { context: () => `alerts and what held them back last: ${JSON.stringify(Object.fromEntries(last))}\n${am.logs()}` });
      const heldBy = (s: Map<string, string[]>, a: Record<string, string>) => s.get(key(a));

      // 1. The api pages while the audit trail's tickets fire. The api's own ticket is held back
      // (the inhibitor has taken the page in); the audit tickets are not.
      await post([apiPage, apiTicket, audit(loginFailures), audit(eventsSilent)]);
      const first = await wait('the api page to hold back the api ticket', (s) => s.size === 4 && (heldBy(s, apiTicket) ?? []).length > 0);
      expect([heldBy(first, apiTicket), heldBy(first, audit(loginFailures)), heldBy(first, audit(eventsSilent))]).toEqual([[key(apiPage)], [], []]);

      // 2. The audit trail pages: its tickets are held back by its pages.
      await post([audit(bulkAccess), audit(tenantSilent)]);
      const auditPages = [key(audit(bulkAccess)), key(audit(tenantSilent))];
      const second = await wait('the audit pages to hold back the audit tickets', (s) => s.size === 6
        && [loginFailures, eventsSilent].every((a) => (heldBy(s, audit(a)) ?? []).length > 0));
      for (const a of [loginFailures, eventsSilent]) expect(auditPages).toEqual(expect.arrayContaining(heldBy(second, audit(a)) ?? ['none']));

      // 3. The api page resolves: nothing holds back the api's ticket any more, the audit pages firing.
      await post([apiPage], true);
      const third = await wait('the api page to resolve', (s) => s.size === 5 && (heldBy(s, apiTicket) ?? ['gone']).length === 0);
      expect([heldBy(third, audit(bulkAccess)), heldBy(third, audit(tenantSilent)), heldBy(third, apiTicket)]).toEqual([[], [], []]);
    } finally {
      am.stop();
    }
  }, 60_000);
});

// --- The runbooks' queries --------------------------------------------------------------------------

/** The LogQL of each `logcli` command of a runbook page, in the page's order. */
const runbookQueries = (alert: string): string[] => [...readFileSync(join(REPOSITORY_ROOT, 'runbooks', `${alert}.md`), 'utf8')
  .matchAll(/logcli\b[^'\n]*'([^'\n]+)'/g)].map((m) => m[1]);
/** The labels of every `by (…)` of a query. */
const groupingsOf = (expr: string) => descendants(parser.parse(expr).topNode, 'Grouping').map((g) => groupingLabels(expr, g));

describe.each(Object.values(AUDIT_ALERT_NAMES))('runbooks/%s.md: its queries', (alert) => {
  const queries = runbookQueries(alert);

  test('parse, and select, filter and group only on the collector\'s labels and the audit event\'s fields', () => {
    expect(queries.length).toBeGreaterThan(0);
    const labels: string[] = Object.values(LOG_LABELS);
    const fields: string[] = Object.values(AUDIT_EVENT_FIELDS);
    for (const q of queries) {
      const parsed = parseLogql(q);
      expect([q, parsed.errors]).toEqual([q, []]);
      expect([q, parsed.selectorLabels.filter((l) => !labels.includes(l))]).toEqual([q, []]);
      expect([q, parsed.unparsedFilterLabels.filter((l) => !labels.includes(l))]).toEqual([q, []]);
      expect([q, Object.values(jsonExtractions(q)).filter((k) => !fields.includes(k))]).toEqual([q, []]);
      expect([q, parsedFilterLabels(q).filter((l) => !fields.includes(l) && l !== '__error__')]).toEqual([q, []]);
      expect([q, groupingsOf(q).flat().filter((l) => !labels.includes(l) && !fields.includes(l))]).toEqual([q, []]);
    }
  });
});

test('runbooks/AuditLoginFailureBurst.md counts the sign-ins by the account tried, and follows a successful one by its actor', () => {
  const queries = runbookQueries(AUDIT_ALERT_NAMES.loginFailures);
  const F = AUDIT_EVENT_FIELDS;
  // A failed sign-in (docs/audit-events.md): made before anyone is signed in, the account tried is its resource.
  const failed = { action: AUDIT_ACTIONS.login, outcome: 'failure', actor: 'anonymous', resource_type: 'account', resource_id: '<account>', source_address: '<address>' };
  const bySignIns = queries.filter((q) => groupingsOf(q).length > 0 && keepsEvent(q, failed) && keepsEvent(q, { ...failed, outcome: 'denied' }));
  expect(bySignIns).toHaveLength(1);
  // Grouped by `actor`, every row would be `anonymous`.
  expect(groupingsOf(bySignIns[0])).toEqual([[F.resourceId, F.outcome]]);
  expect(queries.flatMap(groupingsOf).filter((g) => g.includes(F.actor))).toEqual([]);
  // The follow-up: the account's successful sign-in, whose actor is the account, then what that actor did.
  const success = { ...failed, outcome: 'success', actor: 'user:<account>' };
  const signIn = queries.findIndex((q) => keepsEvent(q, success) && !keepsEvent(q, { ...success, resource_id: 'another-account' }) && !keepsEvent(q, failed));
  const actions = queries.findIndex((q) => keepsEvent(q, { actor: '<actor>', action: 'read' }) && !keepsEvent(q, { actor: 'anonymous', action: 'read' }));
  expect([signIn >= 0, actions > signIn]).toEqual([true, true]);
});
