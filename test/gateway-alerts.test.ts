/**
 * The gateway's server-error alert (charts/observability/gateway-alerts.ts) as synthesized, run by
 * promtool on the Envoy counters of the route rules' clusters as two proxy pods expose them: one
 * alert per route rule, under the service the rule routes to, with the path in its description;
 * silent under its share, under one error a minute, and for a burst that is over before its `for`.
 */
import { GATEWAY_ALERTS } from '../charts/observability/gateway-alerts';
import { repositoryFilesUrl, runbookUrl } from '../charts/observability/runbooks';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { hostRoutes, type HostRoute, type RouteRule } from '../environments/model/gateway';
import type { Environment } from '../environments/schema';
import type { K8sObject } from '../pipeline/k8s-object';
import { synthObjects } from '../pipeline/synth';
import { checkRules, testRules, untestedAlerts, type RuleTest } from './support/alert-rules';
import { series } from './support/exporter-series';

const envs = resolveEnvironments(environments, process.cwd());
const production = envs.find((e) => e.name === 'production') as Environment;
const ruleOf = (env: Environment) => synthObjects(env).map((o) => o.object).find((o) => o.kind === 'PrometheusRule' && o.metadata.name === GATEWAY_ALERTS);

describe.each(envs.map((e) => [e.name, e] as const))('%s', (_name, env) => {
  const rule = ruleOf(env) as K8sObject;

  test('one alerting rule per route rule of every host, under the service it routes to; promtool check rules accepts them', () => {
    const alerts = (rule.spec.groups as K8sObject[]).flatMap((g) => g.rules as K8sObject[]);
    const expected = hostRoutes(env).flatMap((h) => h.rules.map((r) => [r.envoyCluster, r.service, env.app.namespace]));
    expect(alerts.map((a) => [/envoy_cluster_name="([^"]+)"/.exec(a.expr)?.[1], a.labels.service, a.labels.namespace])).toEqual(expected);
    const check = checkRules(rule);
    expect(check.output).toMatch(/SUCCESS/);
    expect(check.status).toBe(0);
  });
});

const NS = production.app.namespace;
const RUNBOOK = runbookUrl(repositoryFilesUrl(production.delivery.repoURL, production.delivery.targetRevision), 'GatewayServerErrors');
const rule = ruleOf(production) as K8sObject;
const routed = hostRoutes(production).flatMap((host) => host.rules.map((r) => ({ host, rule: r })));

/**
 * A rule's responses of one status class as the gateway's two proxy pods count them (Envoy Gateway
 * runs them in its own namespace; the PodMonitor's target labels), each pod half of `perMinute`.
 */
function responses(r: RouteRule, codeClass: string, perMinute: string): Array<{ series: string; values: string }> {
  return ['envoy-student-portal-5f7d9c8b6-2kq4x', 'envoy-student-portal-5f7d9c8b6-9wz7m'].map((pod, i) => ({
    series: series('envoy_cluster_upstream_rq_xx', {
      envoy_cluster_name: r.envoyCluster, envoy_response_code_class: codeClass,
      job: `${NS}/gateway-proxy`, namespace: production.gateway.proxyNamespace, pod, container: 'envoy', endpoint: 'metrics', instance: `10.42.5.${10 + i}:19001`,
    }),
    values: perMinute,
  }));
}

const firing = (host: HostRoute, r: RouteRule, share: string) => ({
  exp_labels: { severity: 'warning', namespace: NS, service: r.service, envoy_cluster_name: r.envoyCluster },
  exp_annotations: {
    summary: `${r.service}: server errors on https://${host.hostname}${r.path}`,
    description: `${share} of the requests to https://${host.hostname}${r.path} (HTTPRoute ${host.name}, rule ${r.index}, service ${r.service}) `
      + 'were answered with a 5xx over the last 5 minutes, for 5 minutes.',
    runbook_url: RUNBOOK,
  },
});

const [first, second] = routed;
const TESTS: RuleTest[] = [
  {
    // 10 % of the first rule's requests fail from the first minute: over 5 % from minute 1, and
    // with `for: 5m` firing from minute 6. The second rule, at 2 %, stays silent.
    name: 'a rule at 10 % server errors, another at 2 %',
    interval: '1m',
    input_series: [
      ...responses(first.rule, '5', '0+3x30'), ...responses(first.rule, '2', '0+27x30'),
      ...responses(second.rule, '5', '0+1x30'), ...responses(second.rule, '2', '0+49x30'),
    ],
    alert_rule_test: [
      { eval_time: '5m', alertname: 'GatewayServerErrors', exp_alerts: [] },
      { eval_time: '10m', alertname: 'GatewayServerErrors', exp_alerts: [firing(first.host, first.rule, '10%')] },
    ],
  },
  {
    // Half the requests fail, but that is one failed request in five minutes: under the one a
    // minute the rule asks for.
    name: 'a quiet rule: one failed request in five minutes',
    interval: '1m',
    input_series: [...responses(first.rule, '5', '0+0.1x30'), ...responses(first.rule, '2', '0+0.1x30')],
    alert_rule_test: [{ eval_time: '20m', alertname: 'GatewayServerErrors', exp_alerts: [] }],
  },
  {
    // 20 errors in the first minute, then none: the 5-minute window holds them until minute 5
    // (over 5 % from minute 1), then they are out of it, before `for` is through.
    name: 'a burst of errors in one minute',
    interval: '1m',
    input_series: [...responses(second.rule, '5', '0 10x29'), ...responses(second.rule, '2', '0+10x30')],
    alert_rule_test: [
      { eval_time: '3m', alertname: 'GatewayServerErrors', exp_alerts: [] },
      { eval_time: '5m', alertname: 'GatewayServerErrors', exp_alerts: [] },
      { eval_time: '6m', alertname: 'GatewayServerErrors', exp_alerts: [] },
      { eval_time: '10m', alertname: 'GatewayServerErrors', exp_alerts: [] },
    ],
  },
];

describe('production, by promtool', () => {
  test('production routes at least two rules', () => {
    expect(routed.length).toBeGreaterThanOrEqual(2);
  });

  test('GatewayServerErrors fires for the failing rule only, and stays silent where it must', () => {
    const r = testRules([rule], TESTS);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });

  test('every alert has a test where it fires and one where it stays silent', () => {
    expect(untestedAlerts([rule], TESTS)).toEqual({ neverFires: [], neverSilent: [] });
  });
});
