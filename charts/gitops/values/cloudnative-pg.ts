/**
 * Values of the cloudnative-pg chart (0.29.0, operator 1.30.0): CRDs from the release (the chart
 * marks them `helm.sh/resource-policy: keep`, which Argo CD honours as Delete=false), the operator's
 * own metrics through a PodMonitor, and two operator replicas. The chart has no
 * PodDisruptionBudget for the operator.
 */
import { requests, type ResourceRequests } from './common';
import type { PlatformValuesContext } from './context';

export interface CloudnativePgValues {
  /** Cluster, Backup, Pooler and the other CRDs. */
  readonly crds: { readonly create: boolean };
  /**
   * Operator replicas. The manager runs with `--leader-elect`, so one reconciles; the admission
   * webhooks (mutating and validating, `failurePolicy: Fail`) are served by every replica, so a
   * Cluster can still be changed while one operator pod is replaced.
   */
  readonly replicaCount: number;
  readonly resources: ResourceRequests;
  /**
   * The operator's metrics (reconciliation, not PostgreSQL's: the Clusters' own PodMonitors are
   * the data chart's). Needs the Prometheus Operator CRDs.
   */
  readonly monitoring: { readonly podMonitorEnabled: boolean };
}

export function cloudnativePgValues(_ctx: PlatformValuesContext): CloudnativePgValues {
  return {
    crds: { create: true },
    replicaCount: 2,
    resources: requests('100m', '256Mi'),
    monitoring: { podMonitorEnabled: true },
  };
}
