/**
 * The service level objectives of the routed services, as the rules that track them need them
 * (charts/observability/slo-rules.ts): what a bad request is, measured where every routed service
 * can be measured, at the gateway, and the multiwindow, multi-burn-rate alerting of the Google SRE
 * workbook (chapter 5, "Alerting on SLOs"), over a 30-day window.
 */
import { byCodepoint } from '../order';
import type { Environment } from '../schema';
import { hostRoutes } from './gateway';
import type { InjectedVariable } from './injected-env';

/**
 * Envoy's default histogram buckets, in milliseconds (envoy source/common/stats/histogram_impl.h,
 * `HistogramSettingsImpl::defaultBuckets`): a latency threshold must be one of them, or the
 * share of requests faster than it cannot be read off `envoy_cluster_upstream_rq_time_bucket`.
 */
export const ENVOY_LATENCY_BUCKETS_MS: readonly number[] = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
];

/** The period the objectives hold over, in days: the longest window, and the error budget's. */
export const SLO_PERIOD_DAYS = 30;

/** The windows error ratios are recorded over. */
export const SLO_WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d', '30d'] as const;
/**
 * The windows recorded every 5 minutes rather than every 30 s: each scans days of raw samples, and
 * an evaluation that overruns its interval would delay the short windows the pages depend on.
 */
export const LONG_SLO_WINDOWS: readonly SloWindow[] = ['1d', '3d', '30d'];
export type SloWindow = (typeof SLO_WINDOWS)[number];

/**
 * When an alert fires: both windows burn the error budget faster than `factor` times the rate that
 * spends it exactly in 30 days. Pages for 2 % of the budget spent in an hour or 5 % in six hours;
 * tickets for 10 % in a day or 10 % in three days (workbook, table 5-8).
 */
export interface BurnRateAlert {
  readonly severity: 'critical' | 'warning';
  readonly long: SloWindow;
  readonly short: SloWindow;
  readonly factor: number;
}

export const BURN_RATE_ALERTS: readonly BurnRateAlert[] = [
  { severity: 'critical', long: '1h', short: '5m', factor: 14.4 },
  { severity: 'critical', long: '6h', short: '30m', factor: 6 },
  { severity: 'warning', long: '1d', short: '2h', factor: 3 },
  { severity: 'warning', long: '3d', short: '6h', factor: 1 },
];

/** One objective of one service: the share of good requests it promises, and how a bad one is counted. */
export interface ServiceObjective {
  readonly service: string;
  /** `availability` (not a 5xx) or `latency` (faster than the threshold). */
  readonly slo: 'availability' | 'latency';
  readonly objective: number;
  /** PromQL of the bad requests per second over a window `[$window]`. */
  readonly badRate: string;
  /** PromQL of all requests per second over the same window. */
  readonly totalRate: string;
}

/** The latency threshold in milliseconds, to the microsecond (0.1 s is 100, not 100.00000000000001). */
export function latencyThresholdMs(env: Environment): number {
  return Math.round(env.slo.latencyThresholdSeconds * 1e6) / 1e3;
}

/**
 * A number as Prometheus 3 writes an `le` or `quantile` label it ingests, whatever the exporter
 * wrote (`500` is stored as `500.0`): Go's shortest `%g`, with `.0` appended when that has neither
 * a `.` nor an exponent (prometheus model/labels/float.go, FormatOpenMetricsFloat; the Prometheus 3
 * migration guide, "le and quantile label values"). A rule matching `le="500"` matches nothing
 * there. Go's `%g` writes an exponent below 1e-4 and from 1e6 up, with at least two digits.
 */
export function prometheusFloat(f: number): string {
  if (f === 1) return '1.0';
  if (f === 0) return '0.0';
  if (f === -1) return '-1.0';
  if (Number.isNaN(f)) return 'NaN';
  if (!Number.isFinite(f)) return f > 0 ? '+Inf' : '-Inf';
  const [mantissa, exponentText] = f.toExponential().split('e');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 6) return `${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  const plain = String(f);
  return /[.e]/.test(plain) ? plain : `${plain}.0`;
}

/**
 * What a Spring Boot service (`sli: 'spring-boot'`) is given so that its latency objective can be
 * read off its own timer: Micrometer's percentiles histogram of `http.server.requests` (buckets
 * for the dashboards' quantiles) and a service level objective boundary at the threshold, which
 * adds a bucket exactly there (Spring Boot reference, "Metrics" → "Customizing Individual
 * Metrics": `management.metrics.distribution.percentiles-histogram.<meter>` and
 * `management.metrics.distribution.slo.<meter>`). Environment variables bind to these maps with
 * the dashes dropped and the map key's dots as underscores (Spring Boot reference, "Binding From
 * Environment Variables" → "Binding Maps").
 */
export function sliEnv(env: Environment, service: string): InjectedVariable[] {
  if (env.services[service]?.sli !== 'spring-boot') return [];
  const [histogram, boundary] = SLI_ENV_NAMES;
  return [{ name: histogram, value: 'true' }, { name: boundary, value: springDuration(env.slo.latencyThresholdSeconds) }];
}

/** The names sliEnv injects into a `spring-boot` service, which its own `env` may not set. */
export const SLI_ENV_NAMES = [
  'MANAGEMENT_METRICS_DISTRIBUTION_PERCENTILESHISTOGRAM_HTTP_SERVER_REQUESTS',
  'MANAGEMENT_METRICS_DISTRIBUTION_SLO_HTTP_SERVER_REQUESTS',
] as const;

/** The names sliEnv may inject, which a service's own `env` may not set. */

/** Seconds as a Spring Boot duration (`500ms`), exact: in the largest unit that holds it whole. */
function springDuration(seconds: number): string {
  const us = Math.round(seconds * 1e6);
  if (us % 1e6 === 0) return `${us / 1e6}s`;
  if (us % 1e3 === 0) return `${us / 1e3}ms`;
  return `${us}us`;
}

/**
 * The first path segment of a service's metrics endpoint (`/actuator` of `/actuator/prometheus`):
 * Spring Boot Actuator's base path, whose requests (probes, scrapes) are not the users'.
 */
function actuatorBase(metricsPath: string): string {
  return `/${metricsPath.split('/').filter(Boolean)[0] ?? ''}`;
}

/**
 * Availability and latency of every service a host routes to, measured where its `sli` says:
 * - `gateway`: the gateway's per-rule request metrics (the rules that route to it, on every
 *   host): the user's view, with the time spent in the gateway and errors of the gateway itself
 *   counted, whatever the service exports;
 * - `spring-boot`: its Micrometer timer, as Prometheus labels it through the service's
 *   ServiceMonitor (`namespace`, `service`), without the Actuator's own requests.
 */
export function serviceObjectives(env: Environment): ServiceObjective[] {
  const clusters = new Map<string, string[]>();
  for (const route of hostRoutes(env)) {
    for (const rule of route.rules) clusters.set(rule.service, [...(clusters.get(rule.service) ?? []), rule.envoyCluster]);
  }
  return [...clusters].sort(([a], [b]) => byCodepoint(a, b)).flatMap(([service, names]) => {
    const config = env.services[service];
    if (config?.sli === 'spring-boot' && config.metrics) return springBootObjectives(env, service, config.metrics.path);
    return gatewayObjectives(env, service, names);
  });
}

function gatewayObjectives(env: Environment, service: string, envoyClusters: readonly string[]): ServiceObjective[] {
  // Envoy prints a bucket's bound in `le` as a plain number of milliseconds (500, 0.5), which
  // Prometheus 3 stores normalized: `500.0`, `0.5` (prometheusFloat).
  const le = prometheusFloat(latencyThresholdMs(env));
  const selector = `envoy_cluster_name=~"${envoyClusters.join('|')}"`;
  return [
    {
      service, slo: 'availability', objective: env.slo.availability,
      // Envoy creates a class's counter at its first response of the class: until the first 5xx
      // there is no such series, and the ratio is 0, not absent.
      badRate: `(sum(rate(envoy_cluster_upstream_rq_xx{${selector},envoy_response_code_class="5"}[$window])) or 0 * sum(rate(envoy_cluster_upstream_rq_xx{${selector}}[$window])))`,
      totalRate: `sum(rate(envoy_cluster_upstream_rq_xx{${selector}}[$window]))`,
    },
    {
      service, slo: 'latency', objective: env.slo.latency,
      badRate: `(sum(rate(envoy_cluster_upstream_rq_time_count{${selector}}[$window])) - sum(rate(envoy_cluster_upstream_rq_time_bucket{${selector},le="${le}"}[$window])))`,
      totalRate: `sum(rate(envoy_cluster_upstream_rq_time_count{${selector}}[$window]))`,
    },
  ];
}

function springBootObjectives(env: Environment, service: string, metricsPath: string): ServiceObjective[] {
  // Micrometer's base unit is the second: `le="0.5"`, as Prometheus 3 stores it (prometheusFloat).
  const le = prometheusFloat(env.slo.latencyThresholdSeconds);
  const selector = `namespace="${env.app.namespace}",service="${service}",uri!~"${actuatorBase(metricsPath)}(/.*)?"`;
  const total = `sum(rate(http_server_requests_seconds_count{${selector}}[$window]))`;
  return [
    {
      service, slo: 'availability', objective: env.slo.availability,
      // The timer's series are per status: until the first 5xx there is none with a 5.. status.
      badRate: `(sum(rate(http_server_requests_seconds_count{${selector},status=~"5.."}[$window])) or 0 * ${total})`,
      totalRate: total,
    },
    {
      service, slo: 'latency', objective: env.slo.latency,
      badRate: `(${total} - sum(rate(http_server_requests_seconds_bucket{${selector},le="${le}"}[$window])))`,
      totalRate: total,
    },
  ];
}
