/**
 * The services as their users see them, at the gateway: requests per second, the share answered
 * with a server error and how long answers take (p50, p95, p99), per service and per route rule,
 * from the Envoy proxy's per-cluster metrics (Envoy Gateway makes one Envoy cluster per HTTPRoute
 * rule, environments/model/gateway.ts); and whether each service's pods are ready or restarting.
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import type { HostRoute } from '../../../environments/model/gateway';
import {
  buildDashboard, dashboardMeta, matcher, percent, stat, timeseries, type DashboardContext, type PanelOptions, type Query, type Section,
} from './kit';

export interface ServiceOverviewProps {
  readonly context: DashboardContext;
  /** The application's namespace: where its pods and Deployments are. */
  readonly namespace: string;
  /** Every service (Deployment) of the application, in display order. */
  readonly services: readonly string[];
  /** The HTTPRoute of every host, rules in the order the gateway matches them. */
  readonly routes: readonly HostRoute[];
  /** The availability objective (0.999): its error budget is drawn on the error graphs. */
  readonly availability: number;
  /** The latency objective's threshold in milliseconds, drawn on the latency graphs. */
  readonly latencyThresholdMs: number;
}

export const SERVICE_OVERVIEW_KIND = 'services';

const QUANTILES = [0.5, 0.95, 0.99] as const;

/** Per second over Grafana's rate window, of the requests through the given Envoy clusters. */
const requestRate = (selector: string, extra = '') => `sum(rate(envoy_cluster_upstream_rq_xx{${selector}${extra}}[$__rate_interval]))`;

/**
 * The share of requests answered 5xx. Envoy creates a response class's counter at its first
 * response of that class: until the first server error there is no such series, and the share is
 * 0, not missing.
 */
const errorShare = (selector: string) =>
  `(${requestRate(selector, ',envoy_response_code_class="5"')} or 0 * ${requestRate(selector)})\n/\n${requestRate(selector)}`;

/** A quantile of upstream request time in milliseconds (Envoy's histogram is in ms). */
const latency = (q: number, selector: string) =>
  `histogram_quantile(${q}, sum by (le) (rate(envoy_cluster_upstream_rq_time_bucket{${selector}}[$__rate_interval])))`;

const pLabel = (q: number) => `p${Math.round(q * 100)}`;

export function serviceOverviewDashboard(props: ServiceOverviewProps): Dashboard {
  const { namespace, routes } = props;
  const budget = Number((1 - props.availability).toPrecision(12));
  const rules = routes.flatMap((h) => h.rules.map((r) => ({ ...r, label: `${h.hostname}${r.path} → ${r.service}` })));
  const clustersOf = (service: string) => rules.filter((r) => r.service === service).map((r) => r.envoyCluster);
  const routed = props.services.filter((s) => clustersOf(s).length > 0);
  const errorThresholds = { base: 'green', steps: [[budget, 'red']] as const };
  const latencyThresholds = { base: 'green', steps: [[props.latencyThresholdMs, 'red']] as const };
  const budgetNote = `The dashed line is the error budget of the availability objective (${percent(props.availability)}): `
    + 'above it the budget burns faster than it lasts 30 days.';
  const thresholdNote = `The dashed line is the latency objective's threshold (${props.latencyThresholdMs} ms).`;

  const overview: Section = {
    title: 'All routed services',
    panels: [
      timeseries({
        title: 'Requests per second by service',
        description: 'Requests the gateway sent to each service, over all its route rules.',
        unit: 'reqps', width: 8,
        queries: routed.map((s) => ({ expr: requestRate(matcher('envoy_cluster_name', clustersOf(s))), legend: s })),
      }),
      timeseries({
        title: 'Server errors by service',
        description: `Share of each service's requests answered with a 5xx (by the service or by the gateway). ${budgetNote}`,
        unit: 'percentunit', width: 8, min: 0, thresholds: errorThresholds,
        queries: routed.map((s) => ({ expr: errorShare(matcher('envoy_cluster_name', clustersOf(s))), legend: s })),
      }),
      timeseries({
        title: 'p95 latency by service',
        description: `95th percentile of the time from the gateway to the service's complete answer. ${thresholdNote}`,
        unit: 'ms', width: 8, min: 0, thresholds: latencyThresholds,
        queries: routed.map((s) => ({ expr: latency(0.95, matcher('envoy_cluster_name', clustersOf(s))), legend: s })),
      }),
    ],
  };

  const serviceSections: Section[] = props.services.map((service) => {
    // The service's own containers in its Deployment's pods (`<service>-<hash>-<suffix>`): not its
    // migration Job's (container `migrate`) nor another workload that shares a prefix.
    const pods = `namespace="${namespace}",container="${service}",pod=~"${service}-.+"`;
    const deployment = `namespace="${namespace}",deployment="${service}"`;
    const clusters = clustersOf(service);
    const selector = clusters.length > 0 ? matcher('envoy_cluster_name', clusters) : undefined;
    const traffic = selector === undefined ? [] : [
      timeseries({
        title: `${service}: requests per second by response class`,
        description: 'Requests the gateway sent to the service, by the class of the answer (2xx, 4xx, 5xx …).',
        unit: 'reqps', width: 8,
        queries: [{ expr: `sum by (envoy_response_code_class) (rate(envoy_cluster_upstream_rq_xx{${selector}}[$__rate_interval]))`, legend: '{{envoy_response_code_class}}xx' }],
      }),
      timeseries({
        title: `${service}: server errors`,
        description: `Share of the service's requests answered with a 5xx. ${budgetNote}`,
        unit: 'percentunit', width: 8, min: 0, thresholds: errorThresholds,
        queries: [{ expr: errorShare(selector), legend: '5xx share' }],
      }),
      timeseries({
        title: `${service}: latency`,
        description: `Quantiles of the time from the gateway to the service's complete answer. ${thresholdNote}`,
        unit: 'ms', width: 8, min: 0, thresholds: latencyThresholds,
        queries: QUANTILES.map((q) => ({ expr: latency(q, selector), legend: pLabel(q) })),
      }),
    ];
    return {
      title: `Service ${service}`,
      panels: [
        ...traffic,
        stat({
          title: `${service}: pods ready`,
          description: 'Ready pods of the Deployment now, of the replicas it should have (which its HPA sets when it has one).',
          width: 4,
          queries: [
            { expr: `sum(kube_deployment_status_replicas_ready{${deployment}})`, legend: 'ready' },
            { expr: `sum(kube_deployment_spec_replicas{${deployment}})`, legend: 'desired' },
          ],
        }),
        timeseries({
          title: `${service}: pods ready over time`,
          description: 'Ready pods of the Deployment and the replicas it should have: a gap between them is a rollout, a crash or pods that cannot be scheduled.',
          width: 10,
          queries: [
            { expr: `sum(kube_deployment_status_replicas_ready{${deployment}})`, legend: 'ready' },
            { expr: `sum(kube_deployment_spec_replicas{${deployment}})`, legend: 'desired' },
          ],
        }),
        timeseries({
          title: `${service}: container restarts`,
          description: 'Restarts of the service container in the past hour, per pod: a crash loop, an OOM kill or a failing liveness probe.',
          width: 10, min: 0, decimals: 0,
          queries: [{ expr: `sum by (pod) (increase(kube_pod_container_status_restarts_total{${pods}}[1h]))`, legend: '{{pod}}' }],
        }),
      ],
    };
  });

  const byRoute = (title: string, description: string, unit: string, expr: (selector: string) => string, extra: Partial<PanelOptions> = {}) =>
    timeseries({
      title, description, unit, width: 12,
      queries: rules.map((r): Query => ({ expr: expr(matcher('envoy_cluster_name', [r.envoyCluster])), legend: r.label })),
      ...extra,
    });
  const routeSection: Section = {
    title: 'Routes',
    panels: [
      byRoute('Requests per second by route', 'Requests per HTTPRoute rule (host, path prefix → service).', 'reqps', (s) => requestRate(s)),
      byRoute('Server errors by route', `Share of each rule's requests answered with a 5xx. ${budgetNote}`, 'percentunit', errorShare,
        { min: 0, thresholds: errorThresholds }),
      ...QUANTILES.map((q) => byRoute(`${pLabel(q)} latency by route`, `${pLabel(q)} of the time to a complete answer, per rule. ${thresholdNote}`, 'ms',
        (s) => latency(q, s), { min: 0, thresholds: latencyThresholds, width: 8 })),
    ],
  };

  return buildDashboard(
    dashboardMeta(props.context, SERVICE_OVERVIEW_KIND, 'Service overview',
      'Requests, server errors and latency per service and per route, as the gateway sees them; pods ready and restarting per service.'),
    [...(routed.length > 0 ? [overview] : []), ...serviceSections, ...(rules.length > 0 ? [routeSection] : [])],
  );
}
