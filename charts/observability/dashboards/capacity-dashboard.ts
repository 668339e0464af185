/**
 * Capacity planning: what each workload asks for (kube-state-metrics' container requests and
 * limits) against what it uses (cAdvisor through the kubelet), how full each volume is and when
 * it will be at its present growth (kubelet volume stats, `predict_linear`), and how the HPAs
 * have scaled the services over time against their bounds.
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { buildDashboard, dashboardMeta, stat, timeseries, type DashboardContext, type Section } from './kit';

/** A workload's pods and its main container, as the metrics label them. */
export interface Workload {
  /** For titles: the service, `postgresql`, `pgbouncer`, `redis`. */
  readonly name: string;
  readonly container: string;
  /** Regular expression of its pods' names. */
  readonly pods: string;
}

export interface CapacityDashboardProps {
  readonly context: DashboardContext;
  readonly namespace: string;
  readonly workloads: readonly Workload[];
  /** Services whose replicas an HPA of the same name sets. */
  readonly autoscaled: readonly string[];
  /** Services with a fixed replica count. */
  readonly fixedReplicas: readonly string[];
  /** Whether the application has volumes (PostgreSQL, Redis, uploaded files). */
  readonly volumes: boolean;
}

export const CAPACITY_DASHBOARD_KIND = 'capacity';

/** How far ahead volumes are forecast, and from how much history. */
const FORECAST = { ahead: '30 days', aheadSeconds: 30 * 86400, history: '7d' } as const;

export function capacityDashboard(props: CapacityDashboardProps): Dashboard {
  const ns = `namespace="${props.namespace}"`;
  const sel = (w: Workload) => `${ns},container="${w.container}",pod=~"${w.pods}"`;
  const cpuUsed = (w: Workload) => `sum(rate(container_cpu_usage_seconds_total{${sel(w)}}[$__rate_interval]))`;
  const memoryUsed = (w: Workload) => `sum(container_memory_working_set_bytes{${sel(w)}})`;
  const requested = (w: Workload, resource: string) => `sum(kube_pod_container_resource_requests{${sel(w)},resource="${resource}"})`;
  const limit = (w: Workload, resource: string) => `sum(kube_pod_container_resource_limits{${sel(w)},resource="${resource}"})`;

  const overview: Section = {
    title: 'Usage against requests',
    panels: [
      timeseries({
        title: 'CPU used, share of requests',
        description: 'CPU each workload uses over what its containers request (what the scheduler reserved): far below 1 is capacity paid for and unused, above 1 borrows from the node.',
        unit: 'percentunit', width: 12, min: 0, thresholds: { base: 'green', steps: [[1, 'orange']] },
        queries: props.workloads.map((w) => ({ expr: `${cpuUsed(w)} / ${requested(w, 'cpu')}`, legend: w.name })),
      }),
      timeseries({
        title: 'Memory used, share of requests',
        description: 'Working set (what the kernel would not reclaim) over the memory requested: above 1 risks eviction from a busy node.',
        unit: 'percentunit', width: 12, min: 0, thresholds: { base: 'green', steps: [[1, 'orange']] },
        queries: props.workloads.map((w) => ({ expr: `${memoryUsed(w)} / ${requested(w, 'memory')}`, legend: w.name })),
      }),
    ],
  };

  const perWorkload: Section = {
    title: 'CPU and memory by workload',
    panels: props.workloads.flatMap((w) => [
      timeseries({
        title: `${w.name}: CPU (cores)`,
        description: `CPU the ${w.name} containers use, request and may use at most, all pods together.`,
        unit: 'short', width: 12, min: 0,
        queries: [
          { expr: cpuUsed(w), legend: 'used' },
          { expr: requested(w, 'cpu'), legend: 'requested' },
          { expr: limit(w, 'cpu'), legend: 'limit' },
        ],
      }),
      timeseries({
        title: `${w.name}: memory`,
        description: `Working set of the ${w.name} containers, their requests and their limits (a container over its limit is OOM-killed), all pods together.`,
        unit: 'bytes', width: 12, min: 0,
        queries: [
          { expr: memoryUsed(w), legend: 'working set' },
          { expr: requested(w, 'memory'), legend: 'requested' },
          { expr: limit(w, 'memory'), legend: 'limit' },
        ],
      }),
    ]),
  };

  // A volume mounted on several nodes (ReadWriteMany) is reported by each kubelet: one value per claim.
  const byClaim = (metric: string) => `max by (persistentvolumeclaim) (${metric}{${ns}})`;
  const forecast = `max by (persistentvolumeclaim) (predict_linear(kubelet_volume_stats_used_bytes{${ns}}[${FORECAST.history}], ${FORECAST.aheadSeconds}))`;
  const volumes: Section = {
    title: 'Volumes',
    panels: [
      stat({
        title: `Used in ${FORECAST.ahead}, share of capacity`,
        description: `Each claim's use ${FORECAST.ahead} ahead at the linear trend of the past ${FORECAST.history}, over its capacity: above 1 it fills before then.`,
        unit: 'percentunit', width: 12, decimals: 0, thresholds: { base: 'green', steps: [[0.8, 'orange'], [1, 'red']] },
        queries: [{ expr: `${forecast}\n/\n${byClaim('kubelet_volume_stats_capacity_bytes')}`, legend: '{{persistentvolumeclaim}}' }],
      }),
      stat({
        title: 'Time until full at the present growth',
        description: `Free space over the growth per second of the past ${FORECAST.history}, for the claims that grow.`,
        unit: 's', width: 12, thresholds: { base: 'red', steps: [[14 * 86400, 'orange'], [60 * 86400, 'green']] },
        queries: [{
          expr: `(${byClaim('kubelet_volume_stats_capacity_bytes')} - ${byClaim('kubelet_volume_stats_used_bytes')})\n/\n`
            + `(max by (persistentvolumeclaim) (deriv(kubelet_volume_stats_used_bytes{${ns}}[${FORECAST.history}])) > 0)`,
          legend: '{{persistentvolumeclaim}}',
        }],
      }),
      timeseries({
        title: 'Volume used, share of capacity',
        description: 'Used space over capacity per claim.',
        unit: 'percentunit', width: 12, min: 0, max: 1, thresholds: { base: 'green', steps: [[0.8, 'orange'], [0.9, 'red']] },
        queries: [{ expr: `${byClaim('kubelet_volume_stats_used_bytes')}\n/\n${byClaim('kubelet_volume_stats_capacity_bytes')}`, legend: '{{persistentvolumeclaim}}' }],
      }),
      timeseries({
        title: `Volume used and its forecast ${FORECAST.ahead} ahead`,
        description: `Used space per claim, what the trend of the past ${FORECAST.history} makes of it ${FORECAST.ahead} later, and the capacity. `
          + 'At most one point an hour: each forecast reads a week of samples.',
        unit: 'bytes', width: 12, min: 0, minInterval: '1h',
        queries: [
          { expr: byClaim('kubelet_volume_stats_used_bytes'), legend: '{{persistentvolumeclaim}} used' },
          { expr: forecast, legend: `{{persistentvolumeclaim}} in ${FORECAST.ahead}` },
          { expr: byClaim('kubelet_volume_stats_capacity_bytes'), legend: '{{persistentvolumeclaim}} capacity' },
        ],
      }),
    ],
  };

  const replicas: Section = {
    title: 'Replicas',
    panels: [
      ...props.autoscaled.flatMap((service) => {
        const hpa = `${ns},horizontalpodautoscaler="${service}"`;
        return [
          timeseries({
            title: `${service}: replicas and HPA bounds`,
            description: 'Replicas the HPA runs and wants, between its minimum and maximum: long at the maximum means the service needs a higher one, or more capacity per pod.',
            width: 12, min: 0, decimals: 0,
            queries: [
              { expr: `max(kube_horizontalpodautoscaler_status_current_replicas{${hpa}})`, legend: 'current' },
              { expr: `max(kube_horizontalpodautoscaler_status_desired_replicas{${hpa}})`, legend: 'desired' },
              { expr: `max(kube_horizontalpodautoscaler_spec_min_replicas{${hpa}})`, legend: 'min' },
              { expr: `max(kube_horizontalpodautoscaler_spec_max_replicas{${hpa}})`, legend: 'max' },
            ],
          }),
          timeseries({
            title: `${service}: utilization against the HPA's targets`,
            description: 'Average utilization of the pods\' requests that the HPA scales on, and its target for each.',
            unit: 'percent', width: 12, min: 0,
            queries: [
              { expr: `max by (metric_name) (kube_horizontalpodautoscaler_status_target_metric{${hpa},metric_target_type="utilization"})`, legend: '{{metric_name}}' },
              { expr: `max by (metric_name) (kube_horizontalpodautoscaler_spec_target_metric{${hpa},metric_target_type="utilization"})`, legend: '{{metric_name}} target' },
            ],
          }),
        ];
      }),
      ...props.fixedReplicas.map((service) => timeseries({
        title: `${service}: replicas`,
        description: 'A fixed replica count: the Deployment\'s replicas and how many are ready.',
        width: 12, min: 0, decimals: 0,
        queries: [
          { expr: `max(kube_deployment_spec_replicas{${ns},deployment="${service}"})`, legend: 'desired' },
          { expr: `max(kube_deployment_status_replicas_ready{${ns},deployment="${service}"})`, legend: 'ready' },
        ],
      })),
    ],
  };

  return buildDashboard(
    dashboardMeta(props.context, CAPACITY_DASHBOARD_KIND, 'Capacity planning',
      'CPU and memory requested against used per workload, volume use and its growth forecast, and replicas over time against the HPAs\' bounds.'),
    [overview, perWorkload, ...(props.volumes ? [volumes] : []), replicas],
  );
}
