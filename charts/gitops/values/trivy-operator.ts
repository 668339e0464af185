/**
 * Values of the trivy-operator chart (0.34.0, operator 0.32.0): vulnerability reports of every
 * image that runs and configuration audit reports of every workload, with their counts as
 * Prometheus metrics. Scan jobs run in the operator's namespace, Pod Security `baseline`.
 */
import { requests, type ResourceRequests } from './common';
import type { PlatformValuesContext } from './context';

export interface TrivyOperatorValues {
  readonly operator: {
    /** VulnerabilityReports: one per workload's current revision, from a Trivy image scan. */
    readonly vulnerabilityScannerEnabled: boolean;
    /** ConfigAuditReports: misconfigurations of workloads, Services, RBAC and the like. */
    readonly configAuditScannerEnabled: boolean;
    /**
     * Off: infra assessment runs the node-collector Job, which mounts the node's /var/lib/kubelet,
     * /etc/kubernetes and more as hostPath volumes, refused by Pod Security `baseline` in this
     * namespace (the operator starts it only with this flag: pkg/operator/operator.go). The
     * compliance reports still run; their node checks stay empty.
     */
    readonly infraAssessmentScannerEnabled: boolean;
    /**
     * `trivy_image_vulnerabilities` and the other per-severity counts of the reports. The per-CVE
     * series (`metricsVulnIdEnabled`) stay off: values.yaml warns of their cardinality.
     */
    readonly metricsFindingsEnabled: boolean;
  };
  /**
   * The operator's Service `trivy-operator`, port `metrics` (templates/monitor/). `honorLabels`:
   * the chart's default, written out because the alerts rely on it (charts/observability/
   * platform-alerts.ts): a report's `namespace` label stays `namespace`, not `exported_namespace`.
   */
  readonly serviceMonitor: { readonly enabled: boolean; readonly honorLabels: boolean };
  /** The operator's own container (scan jobs have their own requests, `trivy.resources`). */
  readonly resources: ResourceRequests;
}

export function trivyOperatorValues(_ctx: PlatformValuesContext): TrivyOperatorValues {
  return {
    operator: {
      vulnerabilityScannerEnabled: true,
      configAuditScannerEnabled: true,
      infraAssessmentScannerEnabled: false,
      metricsFindingsEnabled: true,
    },
    serviceMonitor: { enabled: true, honorLabels: true },
    resources: requests('100m', '256Mi'),
  };
}
