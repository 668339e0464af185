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

/** `promtool test rules` of the groups of `rules` (PrometheusRule objects) with `tests`. */
export function testRules(rules: readonly K8sObject[], tests: readonly RuleTest[], evaluationInterval = '30s'): ToolResult {
  const files: Record<string, unknown> = {};
  rules.forEach((r, i) => { files[`rules-${i}.yaml`] = r.spec; });
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
