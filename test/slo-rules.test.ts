/**
 * The SLO rules (charts/observability/slo-rules.ts) as synthesized for each environment, run by
 * promtool: they load, and at burn rates that must page, must only ticket and must stay silent, the
 * alert fires with the expected labels and annotations or does not. The request counters are the
 * gateway's per-rule metrics under the Envoy cluster names the routes get (environments/model).
 */
import { repositoryFilesUrl, runbookUrl } from '../charts/observability/runbooks';
import { BURN_ALERT } from '../charts/observability/slo-rules';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { hostRoutes } from '../environments/model/gateway';
import { ENVOY_LATENCY_BUCKETS_MS, prometheusFloat } from '../environments/model/slo';
import type { Environment } from '../environments/schema';
import type { K8sObject } from '../pipeline/k8s-object';
import { synthObjects } from '../pipeline/synth';
import { checkRules, testRules } from './support/alert-rules';
import { parsePromql } from './support/promql';

const envs = resolveEnvironments(environments, process.cwd());
const production = envs.find((e) => e.name === 'production') as Environment;
const rulesOf = (env: Environment) => synthObjects(env).map((o) => o.object).filter((o) => o.kind === 'PrometheusRule' && o.metadata.name.endsWith('-slo'));

/** The Envoy clusters of a service's route rules. */
const clustersOf = (env: Environment, service: string) =>
  hostRoutes(env).flatMap((h) => h.rules.filter((r) => r.service === service).map((r) => r.envoyCluster));

/** Per-minute counter series: `perMinute` more every minute for `minutes` minutes. */
const counter = (perMinute: number, minutes: number) => `0+${perMinute}x${minutes}`;

describe.each(envs.map((e) => [e.name, e] as const))('%s', (_name, env) => {
  test('one rule object per routed service, and promtool check rules accepts each', () => {
    const rules = rulesOf(env);
    const routed = [...new Set(hostRoutes(env).flatMap((h) => h.rules.map((r) => r.service)))].sort();
    expect(rules.map((r) => r.metadata.name).sort()).toEqual(routed.map((s) => `${s}-slo`));
    for (const r of rules) {
      const check = checkRules(r);
      expect(check.output).toMatch(/SUCCESS/);
      expect(check.status).toBe(0);
    }
  });
});

test.each(envs.map((e) => [e.name, e] as const))('%s: the 1d, 3d and 30d windows read only recorded 5-minute rates, never the raw series '
  + '(30 days of a timer\'s series per endpoint, status and pod would exceed the samples a query may load)', (_name, env) => {
  for (const rule of rulesOf(env)) {
    const long = (rule.spec.groups as K8sObject[]).filter((g) => g.name.endsWith('.records-long')).flatMap((g) => g.rules as K8sObject[]);
    expect(long.length).toBeGreaterThan(0);
    for (const r of long) {
      const selected = parsePromql(r.expr as string).metricNames;
      expect([r.record, selected.every((n) => n.startsWith('shipshape:'))]).toEqual([r.record, true]);
    }
  }
});

test.each(envs.map((e) => [e.name, e] as const))('%s: the Envoy cluster of each rule names the rule of the synthesized HTTPRoute that routes it', (_name, env) => {
  const routes = synthObjects(env).map((o) => o.object).filter((o) => o.kind === 'HTTPRoute');
  for (const host of hostRoutes(env)) {
    const route = routes.find((r) => r.metadata.name === host.name);
    expect(route?.spec.hostnames).toEqual([host.hostname]);
    for (const rule of host.rules) {
      const synthesized = route?.spec.rules[rule.index];
      expect(synthesized.matches[0].path.value).toBe(rule.path);
      expect(synthesized.backendRefs[0].name).toBe(rule.service);
      expect(rule.envoyCluster).toBe(`httproute/${route?.metadata.namespace}/${route?.metadata.name}/rule/${rule.index}`);
    }
  }
});

describe('production', () => {
  const rules = rulesOf(production);
  const NS = production.app.namespace;
  /** Where the alerts link their runbook (test/alert-runbooks.test.ts holds every alert to it). */
  const RUNBOOK = runbookUrl(repositoryFilesUrl(production.delivery.repoURL, production.delivery.targetRevision), BURN_ALERT);
  const api = clustersOf(production, 'api');
  const web = clustersOf(production, 'web');
  const description = (service: string, promise: string, bad: string, left: string) =>
    `${service} promises ${promise} over 30 days; ${bad} of requests were bad over the alert's longer window, ${left} of the budget is left.`;

  /**
   * api's requests as its Micrometer timer counts them (it is measured `sli: 'spring-boot'`), and
   * the Actuator's health endpoint failing as many times as the users' requests succeed: the
   * probes are not the users', and counting them would page in every case below.
   */
  const apiTimer = (labels: string) => `http_server_requests_seconds_count{namespace="${NS}",service="api",method="GET",${labels}}`;
  const apiRequests = (errors: string, ok: string) => [
    { series: apiTimer('uri="/courses/{id}",status="503",outcome="SERVER_ERROR"'), values: errors },
    { series: apiTimer('uri="/courses/{id}",status="200",outcome="SUCCESS"'), values: ok },
    { series: apiTimer('uri="/actuator/health/{*path}",status="503",outcome="SERVER_ERROR"'), values: ok },
  ];

  test('api is measured by its own timer, web at the gateway, through at least one Envoy cluster', () => {
    expect(production.services.api.sli).toBe('spring-boot');
    expect(production.services.web.sli).toBe('gateway');
    expect(web.length).toBeGreaterThan(0);
    expect(api.length).toBeGreaterThan(0);
  });

  test('availability: 5 % server errors from the first request (50 × the budget of 99.9 %; each window averages what there is) pages within five minutes; 0.05 % stays silent', () => {
    const series = (errorsPerMinute: number, okPerMinute: number, minutes: number) =>
      apiRequests(counter(errorsPerMinute, minutes), counter(okPerMinute, minutes));
    const r = testRules(rules, [
      {
        interval: '1m',
        input_series: series(3, 57, 30),
        alert_rule_test: [
          // Burning from the start: the 5m window is over the rate after a minute, then `for: 2m`.
          { eval_time: '1m', alertname: BURN_ALERT, exp_alerts: [] },
          {
            eval_time: '5m',
            alertname: BURN_ALERT,
            exp_alerts: [{
              exp_labels: { severity: 'critical', namespace: NS, service: 'api', slo: 'availability' },
              exp_annotations: {
                summary: 'api: the availability error budget would be gone in days at this rate',
                description: description('api', '99.9% of requests answered without a server error', '5%', '-4900%'),
                runbook_url: RUNBOOK,
              },
            }],
          },
        ],
      },
      { interval: '1m', input_series: series(3, 5997, 60), alert_rule_test: [{ eval_time: '60m', alertname: BURN_ALERT, exp_alerts: [] }] },
    ]);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });

  test('availability: 0.5 % server errors (5 × the budget) tickets after its 15 minutes, and never pages', () => {
    const ticket = {
      exp_labels: { severity: 'warning', namespace: NS, service: 'api', slo: 'availability' },
      exp_annotations: {
        summary: 'api: the availability error budget would be gone in weeks at this rate',
        description: description('api', '99.9% of requests answered without a server error', '0.5%', '-400%'),
        runbook_url: RUNBOOK,
      },
    };
    const r = testRules(rules, [{
      interval: '5m',
      input_series: apiRequests(counter(5, 12), counter(995, 12)),
      // 3 × over a day and two hours holds from the start (each window averages the data there
      // is); 14.4 × and 6 × are never reached.
      alert_rule_test: [
        { eval_time: '10m', alertname: BURN_ALERT, exp_alerts: [] },
        { eval_time: '30m', alertname: BURN_ALERT, exp_alerts: [ticket] },
        { eval_time: '1h', alertname: BURN_ALERT, exp_alerts: [ticket] },
      ],
    }, {
      // 1.2 ×: over the 3 d and 6 h pair's 1 ×, under the 1 d and 2 h pair's 3 ×: a ticket all the same.
      interval: '5m',
      input_series: apiRequests(counter(6, 12), counter(4994, 12)),
      promql_expr_test: [firing('10m', {}), firing('30m', { warning: 1 })],
    }]);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });

  test(`latency: a fifth of web's requests slower than ${production.slo.latencyThresholdSeconds} s (20 × the budget of 99 %) pages`, () => {
    // The bucket as Prometheus 3 stores Envoy's `le="500"` (prometheusFloat).
    expect(production.slo.latencyThresholdSeconds).toBe(0.5);
    const le = '500.0';
    const r = testRules(rules, [{
      interval: '1m',
      input_series: [
        { series: `envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="${web[0]}",le="${le}"}`, values: counter(48, 30) },
        { series: `envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="${web[0]}",le="+Inf"}`, values: counter(60, 30) },
        { series: `envoy_cluster_upstream_rq_time_count{envoy_cluster_name="${web[0]}"}`, values: counter(60, 30) },
      ],
      alert_rule_test: [{
        eval_time: '10m',
        alertname: BURN_ALERT,
        exp_alerts: [{
          exp_labels: { severity: 'critical', namespace: NS, service: 'web', slo: 'latency' },
          exp_annotations: {
            summary: 'web: the latency error budget would be gone in days at this rate',
            description: description('web', '99% of requests answered in time', '20%', '-1900%'),
            runbook_url: RUNBOOK,
          },
        }],
      }],
    }]);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });

  test('availability at the gateway: 5 % of web\'s requests answered 5xx by Envoy pages; 0.05 % stays silent', () => {
    const series = (errorsPerMinute: number, okPerMinute: number, minutes: number) => [
      { series: `envoy_cluster_upstream_rq_xx{envoy_cluster_name="${web[0]}",envoy_response_code_class="5"}`, values: counter(errorsPerMinute, minutes) },
      { series: `envoy_cluster_upstream_rq_xx{envoy_cluster_name="${web[0]}",envoy_response_code_class="2"}`, values: counter(okPerMinute, minutes) },
    ];
    const r = testRules(rules, [
      {
        interval: '1m',
        input_series: series(3, 57, 30),
        alert_rule_test: [{
          eval_time: '5m',
          alertname: BURN_ALERT,
          exp_alerts: [{
            exp_labels: { severity: 'critical', namespace: NS, service: 'web', slo: 'availability' },
            exp_annotations: {
              summary: 'web: the availability error budget would be gone in days at this rate',
              description: description('web', '99.9% of requests answered without a server error', '5%', '-4900%'),
              runbook_url: RUNBOOK,
            },
          }],
        }],
      },
      { interval: '1m', input_series: series(3, 5997, 60), alert_rule_test: [{ eval_time: '60m', alertname: BURN_ALERT, exp_alerts: [] }] },
    ]);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });

  test(`latency from api's own timer: a fifth of its requests slower than ${production.slo.latencyThresholdSeconds} s pages; 0.5 % stays silent`, () => {
    // Micrometer's bucket at the injected boundary, in seconds, as Prometheus 3 stores it.
    const timer = (labels: string) => `http_server_requests_seconds_bucket{namespace="${NS}",service="api",method="GET",uri="/courses/{id}",status="200",outcome="SUCCESS",${labels}}`;
    const series = (fastPerMinute: number, allPerMinute: number) => [
      { series: timer('le="0.5"'), values: counter(fastPerMinute, 30) },
      { series: timer('le="+Inf"'), values: counter(allPerMinute, 30) },
      { series: apiTimer('uri="/courses/{id}",status="200",outcome="SUCCESS"'), values: counter(allPerMinute, 30) },
      // The Actuator's requests all fast: counted, they would dilute the slow share.
      { series: apiTimer('uri="/actuator/prometheus",status="200",outcome="SUCCESS"'), values: counter(1000, 30) },
    ];
    const page = {
      exp_labels: { severity: 'critical', namespace: NS, service: 'api', slo: 'latency' },
      exp_annotations: {
        summary: 'api: the latency error budget would be gone in days at this rate',
        description: description('api', '99% of requests answered in time', '20%', '-1900%'),
        runbook_url: RUNBOOK,
      },
    };
    const r = testRules(rules, [
      { interval: '1m', input_series: series(48, 60), alert_rule_test: [{ eval_time: '10m', alertname: BURN_ALERT, exp_alerts: [page] }] },
      { interval: '1m', input_series: series(995, 1000), alert_rule_test: [{ eval_time: '30m', alertname: BURN_ALERT, exp_alerts: [] }] },
    ]);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });

  /**
   * A counter that grows by `perMinute` for `minutes` minutes, segment after segment, from 0: in
   * promtool's expanding notation, each segment starting where the last one ended.
   */
  function piecewise(segments: ReadonlyArray<readonly [perMinute: number, minutes: number]>): string {
    let total = 0;
    return segments.filter(([, minutes]) => minutes > 0).map(([perMinute, minutes], i) => {
      const start = i === 0 ? 0 : total + perMinute;
      const text = i === 0 ? `0+${perMinute}x${minutes}` : `${start}+${perMinute}x${minutes - 1}`;
      total += perMinute * minutes;
      return text;
    }).join(' ');
  }

  /** How many ErrorBudgetBurn alerts of each severity fire, by eval time. */
  function firing(at: string, severities: Record<string, number>) {
    return {
      expr: `count by (severity) (ALERTS{alertname="${BURN_ALERT}",alertstate="firing",service="api"})`,
      eval_time: at,
      exp_samples: Object.entries(severities).map(([severity, value]) => ({ labels: `{severity="${severity}"}`, value })),
    };
  }

  test('availability, after 2 h at no errors: a burst at 15 × the budget pages once its hour has burnt 14.4 ×, about an hour in; '
    + '13 × never pages; the page ends within minutes of the burst', () => {
    // 1000 requests a minute; the budget of 99.9 % is 1 a minute. After 2 h of clean history the
    // 6 h window (all there is) stays under 6 × through these bursts, so only the 1 h / 5 m pair can
    // page: at 15 ×, the hour's ratio passes 14.4 × after 57.6 minutes, the 5 minutes' at once, and
    // with `for: 2m` the page comes at about 60. The tickets (3 × over 1 d and 2 h, 1 × over 3 d and
    // 6 h, each window here the data there is) fire within 25 minutes and their 15.
    const history = 120;
    const series = (errorsPerMinute: number, burst: number, after: number) =>
      apiRequests(
        piecewise([[0, history], [errorsPerMinute, burst], [0, after]]),
        piecewise([[1000, history], [1000 - errorsPerMinute, burst], [1000, after]]),
      );
    const at = (minutes: number) => `${history + minutes}m`;
    const r = testRules(rules, [
      {
        interval: '1m',
        input_series: series(15, 70, 10),
        promql_expr_test: [
          firing(at(5), {}),
          firing(at(55), { warning: 1 }),
          firing(at(62), { critical: 1, warning: 1 }),
          // Ten minutes after the burst: the 5-minute window is clean, the page is over.
          firing(at(80), { warning: 1 }),
        ],
      },
      // 13 ×: the hour never passes 14.4 ×, and 6 h (209 minutes of data) stays under 6 ×.
      { interval: '1m', input_series: series(13, 90, 0), promql_expr_test: [firing(at(89), { warning: 1 })] },
    ]);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  }, 60_000);
});


test('bucket bounds are matched as Prometheus 3 stores them: Go\'s shortest %g, `.0` on a whole number', () => {
  // Expected strings are Go's strconv.FormatFloat(f, 'g', -1, 64) plus FormatOpenMetricsFloat's `.0`.
  const cases: Array<[number, string]> = [
    [1, '1.0'], [0, '0.0'], [0.5, '0.5'], [5, '5.0'], [500, '500.0'], [2500, '2500.0'], [300000, '300000.0'],
    [600000, '600000.0'], [1800000, '1.8e+06'], [3600000, '3.6e+06'], [1e6, '1e+06'], [0.0001, '0.0001'], [0.00005, '5e-05'],
    [Infinity, '+Inf'], [-2, '-2.0'],
  ];
  for (const [f, text] of cases) expect([f, prometheusFloat(f)]).toEqual([f, text]);
  // Every bound a threshold may be is written without rounding noise.
  for (const ms of ENVOY_LATENCY_BUCKETS_MS) expect(Number(prometheusFloat(ms))).toBe(ms);
});
