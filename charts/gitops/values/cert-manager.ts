/**
 * Values of the cert-manager chart (v1.21.1): CRDs installed and kept, Gateway API support for the
 * listener certificates, metrics through a ServiceMonitor, and every component run twice with a
 * disruption budget (values.yaml: "The default is 1, but in production set this to 2 or 3").
 */
import { requests, type ResourceRequests } from './common';
import type { PlatformValuesContext } from './context';

/** A component run twice; leader election keeps one active, the other takes over at once. */
export interface CertManagerComponent {
  readonly replicaCount: number;
  /** With neither `minAvailable` nor `maxUnavailable` the chart's budget is `minAvailable: 1`. */
  readonly podDisruptionBudget: { readonly enabled: boolean };
  readonly resources: ResourceRequests;
}

export interface CertManagerValues extends CertManagerComponent {
  /** Certificate, Issuer and the other CRDs: installed by the release, kept when it goes. */
  readonly crds: { readonly enabled: boolean; readonly keep: boolean };
  /**
   * The controller's ControllerConfiguration (free-form upstream: `config: {}`). From 1.21 Gateway
   * API support is `gatewayAPI.enabled`, the example values.yaml gives; `enableGatewayAPI` before.
   */
  readonly config: { readonly gatewayAPI: { readonly enabled: boolean } };
  /** Metrics of the controller and webhook, scraped through a ServiceMonitor (not a PodMonitor: exclusive). */
  readonly prometheus: { readonly enabled: boolean; readonly servicemonitor: { readonly enabled: boolean } };
  /** The admission webhook: every cert-manager object goes through it, so it never runs alone. */
  readonly webhook: CertManagerComponent;
  readonly cainjector: CertManagerComponent;
}

export function certManagerValues(_ctx: PlatformValuesContext): CertManagerValues {
  return {
    crds: { enabled: true, keep: true },
    replicaCount: 2,
    podDisruptionBudget: { enabled: true },
    resources: requests('50m', '128Mi'),
    // cert-manager refuses to start when this is on and the Gateway API CRDs are missing
    // (pkg/controller/context.go: "the Gateway API CRDs do not seem to be present"): Envoy
    // Gateway's chart, which installs them, has to be synced first.
    config: { gatewayAPI: { enabled: true } },
    prometheus: { enabled: true, servicemonitor: { enabled: true } },
    webhook: { replicaCount: 2, podDisruptionBudget: { enabled: true }, resources: requests('10m', '32Mi') },
    cainjector: { replicaCount: 2, podDisruptionBudget: { enabled: true }, resources: requests('10m', '128Mi') },
  };
}
