/**
 * The promtool helpers every alert test goes through (test/support/alert-rules.ts): a per-alert
 * test narrows the rule file to what it can observe, and that narrowing must never change a verdict.
 */
import type { K8sObject } from '../pipeline/k8s-object';
import { observableRules, testRules, type RuleTest } from './support/alert-rules';

/** A PrometheusRule: a recording rule, an alert that a second one silences, and an unrelated group. */
const rule: K8sObject = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PrometheusRule',
  metadata: { name: 'fixture' },
  spec: {
    groups: [
      {
        name: 'fixture.rules',
        rules: [
          { record: 'job:up:min', expr: 'min by (job) (up)' },
          { alert: 'Maintenance', expr: 'maintenance == 1' },
          { alert: 'TargetDown', expr: 'job:up:min == 0 unless on () ALERTS{alertname="Maintenance", alertstate="firing"}' },
          { alert: 'Unrelated', expr: 'other == 1' },
        ],
      },
      { name: 'other.rules', rules: [{ alert: 'AlsoUnrelated', expr: 'other == 2' }] },
    ],
  },
};

const down = (maintenance: string): RuleTest => ({
  interval: '1m',
  input_series: [{ series: 'up{job="api"}', values: '0x10' }, { series: 'maintenance', values: maintenance }],
  alert_rule_test: [{ eval_time: '5m', alertname: 'TargetDown', exp_alerts: maintenance.startsWith('1') ? [] : [{ exp_labels: { job: 'api' } }] }],
});

const names = (spec: K8sObject) => (spec.groups as K8sObject[]).map((g) => [g.name, (g.rules as K8sObject[]).map((r) => r.alert ?? r.record)]);

test('keeps the recording rules, the alerts a test names and the alerts their expressions read; drops the rest and empty groups', () => {
  expect(observableRules([rule.spec as K8sObject], [down('0x10')]).map(names)).toEqual([
    [['fixture.rules', ['job:up:min', 'Maintenance', 'TargetDown']]],
  ]);
});

test('an alert read from another file is kept there', () => {
  const [recording, maintenance, targetDown] = rule.spec.groups[0].rules as K8sObject[];
  const files = [{ groups: [{ name: 'a', rules: [maintenance] }] }, { groups: [{ name: 'b', rules: [recording, targetDown] }] }];
  expect(observableRules(files, [down('0x10')]).map(names)).toEqual([[['a', ['Maintenance']]], [['b', ['job:up:min', 'TargetDown']]]]);
});

test('a promql_expr_test may read any series, and ALERTS read by a pattern any alert: every rule stays', () => {
  const tests: RuleTest[] = [{ ...down('0x10'), promql_expr_test: [{ expr: 'ALERTS', eval_time: '1m', exp_samples: [] }] }];
  expect(observableRules([rule.spec as K8sObject], tests)).toEqual([rule.spec]);
  const byPattern = { groups: [{ name: 'g', rules: [{ alert: 'Meta', expr: 'count(ALERTS{alertname=~"Target.*"}) > 0' }, { alert: 'TargetDown', expr: 'up == 0' }] }] };
  expect(observableRules([byPattern], [{ ...down('0x10'), alert_rule_test: [{ eval_time: '1m', alertname: 'Meta', exp_alerts: [] }] }])).toEqual([byPattern]);
});

test('promtool gives the narrowed file the whole file\'s verdicts: the alert fires, and the alert it reads still silences it', () => {
  const fires = testRules([rule], [down('0x10')]);
  expect([fires.status, fires.output]).toEqual([0, expect.stringMatching(/SUCCESS/)]);
  const silenced = testRules([rule], [down('1x10')]);
  expect([silenced.status, silenced.output]).toEqual([0, expect.stringMatching(/SUCCESS/)]);
  // The same silenced case with the silencing alert left out fails: the narrowing is what keeps it.
  const without: K8sObject = { ...rule, spec: { groups: [{ name: 'g', rules: (rule.spec.groups[0].rules as K8sObject[]).filter((r) => r.alert !== 'Maintenance') }] } };
  expect(testRules([without], [down('1x10')]).status).not.toBe(0);
});
