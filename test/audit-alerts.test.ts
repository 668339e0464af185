/**
 * The audit trail's Loki ruler rules (charts/logging/audit-alerts.ts), as the logging chart
 * synthesizes them: one ConfigMap that Loki's rules sidecar, as the synthesized Loki release
 * configures it, writes into the `audit` tenant's folder of the ruler's local storage; one rule
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
 *   each environment's cluster gets: every alert reaches the receivers of its severity.
 */
import { parser } from '@grafana/lezer-logql';
import type { SyntaxNode } from '@lezer/common';
import { parse } from 'yaml';
import { GROUP_BY, INHIBIT_RULES } from '../charts/gitops/alertmanager-config';
import { LOKI_RULES_SIDECAR, type LokiValues } from '../charts/gitops/values/loki';
import {
  AUDIT_ALERT_NAMES, AUDIT_ALERTS, AUDIT_GROUP_INTERVALS, AUDIT_TENANT_SILENT_AFTER, AUDIT_TRAIL_SERVICE, auditRuleFileName,
} from '../charts/logging/audit-alerts';
import { AUDIT_EVENT_FIELDS, LOG_LABELS, LOG_METADATA, LOKI_TENANTS } from '../charts/logging/log-streams';
import { repositoryFilesUrl, runbookUrl } from '../charts/observability/runbooks';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { buildModel } from '../environments/model/model';
import type { Environment } from '../environments/schema';
import type { K8sObject } from '../pipeline/k8s-object';
import { argocdObjects, modelObjects, synthObjects } from '../pipeline/synth';
import type { RuleTest } from './support/alert-rules';
import { for025, routesOf } from './support/debian-alertmanager';
import { shop, variant } from './support/fixtures';
import { chartDefaults, coalesce } from './support/helm-values';
import { parseLogql } from './support/logql';
import { promtool } from './support/promtool';
import { only } from './support/synth-construct';

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

const objectsOf = (env: Environment) => synthObjects(env).map((o) => o.object);
const configMapOf = (objects: readonly K8sObject[]) => only(objects, 'ConfigMap', AUDIT_ALERTS);
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
const rulesFor = (env: Environment) => ruleFileOf(configMapOf(objectsOf(env)));

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

test('the parser helpers read what they should, and refuse what they cannot', () => {
  expect(outputLabels('sum by (a, b) (count_over_time({x="y"}[1m])) > 3')).toEqual({ a: undefined, b: undefined });
  expect(outputLabels('label_replace(sum by (a) (rate({x="y"}[1m])), "s", "$1", "a", "(.+)")')).toEqual({ a: undefined, s: undefined });
  expect(outputLabels('absent_over_time({x="y", z=~"w"}[1h])')).toEqual({ x: 'y' });
  expect(() => outputLabels('sum(count_over_time({x="y"}[1m]))')).toThrow('without by');
  expect(() => outputLabels('count_over_time({x="y"}[1m])')).toThrow('without by');
  expect(jsonExtractions('count_over_time({x="y"} | json a="b", c="d" [1m])')).toEqual({ a: 'b', c: 'd' });
  expect(parsedFilterLabels('count_over_time({x="y"} | pod="p" | json a="a" | a="1" | __error__="" [1m])')).toEqual(['a', '__error__']);
});

// --- The ConfigMap and the sidecar that loads it -------------------------------------------------

describe.each(envs.map((e) => [e.name, e] as const))('%s', (_name, env) => {
  const objects = objectsOf(env);
  const configMap = configMapOf(objects);
  const model = buildModel(env);
  const loki = only(argocdObjects(model, modelObjects(model)), 'Application', 'loki').spec.source.helm.valuesObject as LokiValues;
  const file = ruleFileOf(configMap);

  test('one ConfigMap in the application\'s namespace that the deployed sidecar selects and writes into the audit tenant\'s folder, which the ruler reads', () => {
    const sidecar = loki.sidecar.rules;
    expect(configMap.metadata.namespace).toBe(env.app.namespace);
    expect(sidecar.searchNamespace.split(',')).toContain(configMap.metadata.namespace);
    expect(configMap.metadata.labels[sidecar.label]).toBe(sidecar.labelValue);
    // Relative to the sidecar's folder; Loki's local rule storage is `<directory>/<tenant>/<file>`.
    expect(configMap.metadata.annotations[sidecar.folderAnnotation]).toBe(LOKI_TENANTS.audit);
    expect(loki.loki.rulerConfig.storage.local.directory).toBe(sidecar.folder);
    if (env.objectStorage) expect(loki.loki.structuredConfig.ruler_storage?.local.directory).toBe(sidecar.folder);
    // One rule file, named for the application and environment (two applications' files in one folder never collide).
    expect(Object.keys(configMap.data)).toEqual([auditRuleFileName(model.identity)]);
    expect(auditRuleFileName(model.identity)).toMatch(/^[a-z0-9-]+\.yaml$/);
    // No other object carries the sidecar's label: nothing else lands in a tenant's rules by accident.
    expect(objects.filter((o) => o.metadata?.labels?.[LOKI_RULES_SIDECAR.label] !== undefined).map((o) => o.metadata.name)).toEqual([AUDIT_ALERTS]);
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
      'audit-events': AUDIT_GROUP_INTERVALS.events, 'audit-intake': AUDIT_GROUP_INTERVALS.intake, 'audit-silence': AUDIT_GROUP_INTERVALS.silence,
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
    for (const alert of [AUDIT_ALERT_NAMES.loginFailures, AUDIT_ALERT_NAMES.eventsSilent, ...bulk]) {
      expect(ruleOf(file, alert).expr).toContain(events);
    }
    expect(ruleOf(file, AUDIT_ALERT_NAMES.tenantSilent).expr).toBe(`absent_over_time({log_type="delivery"}[${AUDIT_TENANT_SILENT_AFTER}])`);
  });

  test('every alert: a severity, a namespace and a service (from the expression or static), a summary, a description and its runbook', () => {
    const files = repositoryFilesUrl(env.delivery.repoURL, env.delivery.targetRevision);
    for (const r of rulesOf(file)) {
      const firing = { ...outputLabels(r.expr), ...r.labels };
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
      [AUDIT_ALERT_NAMES.eventsSilent]: 'warning',
      ...(env.logging.audit.bulkAccess ? { [AUDIT_ALERT_NAMES.bulkAccess]: 'critical' } : {}),
    });
    // The counting alerts say how many.
    for (const alert of [AUDIT_ALERT_NAMES.loginFailures, ...(env.logging.audit.bulkAccess ? [AUDIT_ALERT_NAMES.bulkAccess] : [])]) {
      expect(ruleOf(file, alert).annotations.description).toContain('{{ $value }}');
    }
  });

  test('the tenant\'s silence holds back the application\'s: same namespace and service, a critical over a warning', () => {
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
const EXAMPLE_LABELS: Record<string, string> = { service: 'api', source_address: '203.0.113.7', actor: 'user:u-000123' };
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
        description: `${EXAMPLE_VALUE} failed sign-ins (audit events with action login, outcome failure) from source address ${addr} within 5m in api `
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
