/**
 * Values of the alloy chart (1.11.1): a minimal log collector. It reads every pod's logs through
 * the Kubernetes API (`loki.source.kubernetes`), not from the nodes' /var/log: the logging
 * namespace is Pod Security `baseline`, which refuses hostPath volumes, so no DaemonSet. Two
 * replicas in an Alloy cluster share the pods between them (each log stream is tailed by one),
 * and push to Loki's gateway. The logging issue adds parsing, labels and limits.
 */
import { PLATFORM_RELEASES } from '../platform-releases';
import { requests, serviceHost, type ResourceRequests } from './common';
import type { PlatformValuesContext } from './context';
import { LOKI_GATEWAY_PORT, LOKI_GATEWAY_SERVICE, LOKI_TENANTS } from './loki';

/** Loki's push endpoint, through its gateway Service in the logging namespace. */
export function lokiPushURL(clusterDomain: string): string {
  const host = serviceHost(LOKI_GATEWAY_SERVICE, PLATFORM_RELEASES.loki.namespace, clusterDomain);
  return `http://${host}:${LOKI_GATEWAY_PORT}/loki/api/v1/push`;
}

/**
 * The collector's configuration, in Alloy's syntax. The relabelled `namespace`, `pod` and
 * `container` labels are what clustering shards on, and the labels log lines are stored under.
 * Loki runs with authentication on: every push names its tenant (`tenant_id`, Alloy's loki.write
 * endpoint block), the application logs' for now; the audit stream's routing comes with the
 * collector's parsing.
 */
export function alloyConfig(pushURL: string): string {
  return `discovery.kubernetes "pods" {
  role = "pod"
}

discovery.relabel "pods" {
  targets = discovery.kubernetes.pods.targets

  rule {
    source_labels = ["__meta_kubernetes_namespace"]
    target_label  = "namespace"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_name"]
    target_label  = "pod"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_container_name"]
    target_label  = "container"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_label_app_kubernetes_io_name"]
    target_label  = "app"
  }
}

loki.source.kubernetes "pods" {
  targets    = discovery.relabel.pods.output
  forward_to = [loki.write.loki.receiver]

  clustering {
    enabled = true
  }
}

loki.write "loki" {
  endpoint {
    url       = ${JSON.stringify(pushURL)}
    tenant_id = ${JSON.stringify(LOKI_TENANTS.application)}
  }
}
`;
}

export interface AlloyValues {
  /** The PodLogs CRD of the chart. */
  readonly crds: { readonly create: boolean };
  readonly alloy: {
    /** The configuration the chart puts in its ConfigMap. */
    readonly configMap: { readonly content: string };
    /** Alloy's clustering: the replicas find each other through the chart's headless Service. */
    readonly clustering: { readonly enabled: boolean };
    /** No anonymous usage reports to Grafana Labs from inside the cluster. */
    readonly enableReporting: boolean;
    /** Free-form upstream (`resources: {}`). */
    readonly resources: ResourceRequests;
  };
  /** A Deployment, not the chart's default DaemonSet: nothing here reads the node. */
  readonly controller: {
    readonly type: 'deployment';
    readonly replicas: number;
    readonly podDisruptionBudget: { readonly enabled: boolean; readonly minAvailable: number };
  };
  readonly serviceMonitor: { readonly enabled: boolean };
}

export function alloyValues(ctx: PlatformValuesContext): AlloyValues {
  return {
    crds: { create: true },
    alloy: {
      configMap: { content: alloyConfig(lokiPushURL(ctx.clusterDomain)) },
      clustering: { enabled: true },
      enableReporting: false,
      resources: requests('100m', '256Mi'),
    },
    controller: { type: 'deployment', replicas: 2, podDisruptionBudget: { enabled: true, minAvailable: 1 } },
    serviceMonitor: { enabled: true },
  };
}
