/**
 * The service level objectives of the routed services, as the rules that track them need them
 * (charts/observability/slo-rules.ts): what a bad request is, measured where every routed service
 * can be measured, at the gateway, and the multiwindow, multi-burn-rate alerting of the Google SRE
 * workbook (chapter 5, "Alerting on SLOs"), over a 30-day window.
 */
import { byCodepoint } from '../order';
import type { Environment } from '../schema';
import { hostRoutes } from './gateway';

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
 * Availability and latency of every service a host routes to, from the gateway's per-rule request
 * metrics (the rules that route to it, on every host): the user's view, with the time spent in the
 * gateway and errors of the gateway itself counted, whatever the service exports.
 */
export function serviceObjectives(env: Environment): ServiceObjective[] {
  const clusters = new Map<string, string[]>();
  for (const route of hostRoutes(env)) {
    for (const rule of route.rules) clusters.set(rule.service, [...(clusters.get(rule.service) ?? []), rule.envoyCluster]);
  }
  // Envoy prints a bucket's bound in `le` as a plain number of milliseconds: 500, 0.5.
  const le = String(latencyThresholdMs(env));
  return [...clusters].sort(([a], [b]) => byCodepoint(a, b)).flatMap(([service, names]) => {
    const selector = `envoy_cluster_name=~"${names.join('|')}"`;
    return [
      {
        service, slo: 'availability' as const, objective: env.slo.availability,
        // Envoy creates a class's counter at its first response of the class: until the first 5xx
        // there is no such series, and the ratio is 0, not absent.
        badRate: `(sum(rate(envoy_cluster_upstream_rq_xx{${selector},envoy_response_code_class="5"}[$window])) or 0 * sum(rate(envoy_cluster_upstream_rq_xx{${selector}}[$window])))`,
        totalRate: `sum(rate(envoy_cluster_upstream_rq_xx{${selector}}[$window]))`,
      },
      {
        service, slo: 'latency' as const, objective: env.slo.latency,
        badRate: `(sum(rate(envoy_cluster_upstream_rq_time_count{${selector}}[$window])) - sum(rate(envoy_cluster_upstream_rq_time_bucket{${selector},le="${le}"}[$window])))`,
        totalRate: `sum(rate(envoy_cluster_upstream_rq_time_count{${selector}}[$window]))`,
      },
    ];
  });
}
