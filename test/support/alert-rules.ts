/**
 * Unit tests of synthesized alerting rules with promtool, and the rule that every alert has both a
 * test where it fires and one where it stays silent.
 */
import type { K8sObject } from '../../pipeline/k8s-object';
import { promtool, type ToolResult } from './promtool';

/** One `alert_rule_test` entry of a promtool test. */
export interface AlertRuleTest {
  readonly eval_time: string;
  readonly alertname: string;
  readonly exp_alerts: readonly { readonly exp_labels?: Record<string, string>; readonly exp_annotations?: Record<string, string> }[];
}

/** One promtool test: input series and the alerts expected at given times. */
export interface RuleTest {
  readonly name?: string;
  readonly interval: string;
  readonly input_series: readonly { readonly series: string; readonly values: string }[];
  readonly alert_rule_test?: readonly AlertRuleTest[];
  readonly promql_expr_test?: readonly unknown[];
  readonly external_labels?: Record<string, string>;
}

/** Every rule of a PrometheusRule, its groups' in order. */
export const rulesOf = (rule: K8sObject): K8sObject[] => (rule.spec.groups as K8sObject[]).flatMap((g) => g.rules as K8sObject[]);

/** The alert names of PrometheusRule objects. */
export function alertNames(rules: readonly K8sObject[]): string[] {
  const alerts = rules.flatMap((r) => (r.spec.groups as K8sObject[]).flatMap((g) => (g.rules as K8sObject[]).filter((x) => x.alert)));
  return [...new Set(alerts.map((x) => x.alert as string))].sort();
}

/**
 * Each PrometheusRule spec of `specs` with only the rules that `tests` can observe: every recording
 * rule, the alerts the tests name, and the alerts a kept expression of any of the files reads
 * through `ALERTS{alertname="..."}`, to the end of that chain; groups left empty are dropped.
 * promtool evaluates every rule of every file at every step, so a per-alert test over the whole
 * file costs the square of the alerts. A dropped alert writes only its own `ALERTS` series, which
 * nothing kept reads, so the alerts under test fire exactly as before. Every rule stays when a
 * test has a `promql_expr_test` (it may read any series) or when an expression reads `ALERTS`
 * other than by a literal alert name (`alertname=~`, `count(ALERTS)`), which could read any alert.
 * What narrowing gives up: a dropped alert is no longer evaluated on the other alerts' input
 * series, so an evaluation error it would hit only there goes unseen (its own tests still run it).
 */
export function observableRules(specs: readonly K8sObject[], tests: readonly RuleTest[]): K8sObject[] {
  const rules = specs.flatMap((spec) => (spec.groups as K8sObject[]).flatMap((g) => g.rules as K8sObject[]));
  const exprs = rules.map((r) => String(r.expr));
  if (tests.some((t) => (t.promql_expr_test ?? []).length > 0) || exprs.some(readsAlertsByPattern)) return [...specs];
  const names = [...new Set(rules.filter((r) => r.alert).map((r) => r.alert as string))];
  const kept = new Set(tests.flatMap((t) => (t.alert_rule_test ?? []).map((e) => e.alertname)));
  // An alert name inside a kept expression (or a recording rule's) keeps that alert: a substring
  // match, so it can keep too much but never too little.
  for (let grew = true; grew;) {
    grew = false;
    const reads = rules.filter((r) => !r.alert || kept.has(r.alert as string)).map((r) => String(r.expr));
    for (const n of names) {
      if (!kept.has(n) && reads.some((e) => e.includes(n))) { kept.add(n); grew = true; }
    }
  }
  return specs.map((spec) => ({
    ...spec,
    groups: (spec.groups as K8sObject[])
      .map((g) => ({ ...g, rules: (g.rules as K8sObject[]).filter((r) => !r.alert || kept.has(r.alert as string)) }))
      .filter((g) => g.rules.length > 0),
  }));
}

/** Whether an expression reads `ALERTS` (or `ALERTS_FOR_STATE`) other than through one literal `alertname="..."` matcher. */
function readsAlertsByPattern(expr: string): boolean {
  return [...expr.matchAll(/\bALERTS(?:_FOR_STATE)?\b(\{[^}]*\})?/g)].some((m) => !/\balertname\s*=\s*"/.test(m[1] ?? ''));
}

/**
 * `promtool test rules` of the groups of `rules` (PrometheusRule objects) with `tests`, narrowed
 * to the rules the tests can observe ({@link observableRules}).
 */
export function testRules(rules: readonly K8sObject[], tests: readonly RuleTest[], evaluationInterval = '30s'): ToolResult {
  const files: Record<string, unknown> = {};
  observableRules(rules.map((r) => r.spec as K8sObject), tests).forEach((spec, i) => { files[`rules-${i}.yaml`] = spec; });
  files['test.yaml'] = { rule_files: Object.keys(files), evaluation_interval: evaluationInterval, tests };
  return promtool(['test', 'rules', 'test.yaml'], files);
}

/** The tests that expect something of `alert` (to fire or to stay silent): one alert's cases, run alone. */
export function testsOf(alert: string, tests: readonly RuleTest[]): RuleTest[] {
  return tests.filter((t) => (t.alert_rule_test ?? []).some((e) => e.alertname === alert));
}

/** `promtool check rules` of one PrometheusRule's groups. */
export function checkRules(rule: K8sObject): ToolResult {
  return promtool(['check', 'rules', 'rules.yaml'], { 'rules.yaml': rule.spec });
}

/**
 * The alerts of `rules` that no test expects to fire, and those no test expects to stay silent
 * (an `alert_rule_test` entry with no expected alerts): both must be empty, or an alert that
 * fires always, or never, passes.
 */
export function untestedAlerts(rules: readonly K8sObject[], tests: readonly RuleTest[]): { neverFires: string[]; neverSilent: string[] } {
  const entries = tests.flatMap((t) => t.alert_rule_test ?? []);
  const names = alertNames(rules);
  return {
    neverFires: names.filter((n) => !entries.some((e) => e.alertname === n && e.exp_alerts.length > 0)),
    neverSilent: names.filter((n) => !entries.some((e) => e.alertname === n && e.exp_alerts.length === 0)),
  };
}
