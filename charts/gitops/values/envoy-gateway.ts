/**
 * Values of Envoy Gateway's gateway-helm chart (v1.9.0), kept close to its defaults: the chart
 * already requests resources for the controller and installs the Envoy Gateway and Gateway API
 * CRDs. What production adds is a second controller replica with a disruption budget, and the
 * cluster's real DNS domain. The chart has no ServiceMonitor or PodMonitor of its own: the
 * observability chart scrapes the controller's pods (charts/observability/envoy-gateway-monitor.ts)
 * and the proxies (gateway-proxy-monitor.ts).
 */
import type { PlatformValuesContext } from './context';

export interface EnvoyGatewayValues {
  /** Envoy Gateway's CRDs, the Gateway API CRDs and their safe-upgrade policy: installed by the release. */
  readonly crds: { readonly enabled: boolean };
  /**
   * Controller replicas. Leader election is on by default (EnvoyGateway
   * `provider.kubernetes.leaderElection`): one replica writes status and provisions proxies, and
   * every replica serves xDS, so the Envoy fleet keeps its configuration while one is replaced.
   */
  readonly deployment: { readonly replicas: number };
  /** Rendered only when `minAvailable` (or `maxUnavailable`) is at least 1; the default is 0. */
  readonly podDisruptionBudget: { readonly minAvailable: number };
  /**
   * KUBERNETES_CLUSTER_DOMAIN of the controller and of certgen: the domain of the xDS server's
   * name in its certificate and in the address the proxies dial (default `cluster.local`).
   */
  readonly kubernetesClusterDomain: string;
}

export function envoyGatewayValues(ctx: PlatformValuesContext): EnvoyGatewayValues {
  return {
    crds: { enabled: true },
    deployment: { replicas: 2 },
    podDisruptionBudget: { minAvailable: 1 },
    kubernetesClusterDomain: ctx.clusterDomain,
  };
}
