/**
 * Values of the external-secrets chart (2.9.0): CRDs from the release, the controller and the
 * admission webhook run twice with disruption budgets, metrics of all three components scraped.
 * The webhook's certificate stays with the chart's cert-controller (upstream's default), so this
 * release does not wait for cert-manager or an Issuer of ours.
 */
import { requests, type ResourceRequests } from './common';
import type { PlatformValuesContext } from './context';

/** Budget of a component run twice: one pod may go at a time. */
export interface ExternalSecretsPdb {
  readonly enabled: boolean;
  readonly minAvailable: number;
}

export interface ExternalSecretsValues {
  /** ExternalSecret, SecretStore and the other CRDs, installed and upgraded by the release. */
  readonly installCRDs: boolean;
  /** Leader election, so that two controllers never reconcile the same ExternalSecret. */
  readonly leaderElect: boolean;
  readonly replicaCount: number;
  readonly podDisruptionBudget: ExternalSecretsPdb;
  readonly resources: ResourceRequests;
  /**
   * ServiceMonitors of the controller, webhook and cert-controller. `alwaysRender`: the default
   * `skipIfMissing` renders nothing when the chart is templated before the Prometheus Operator
   * CRDs exist, leaving the release unscraped without a word.
   */
  readonly serviceMonitor: { readonly enabled: boolean; readonly renderMode: 'skipIfMissing' | 'failIfMissing' | 'alwaysRender' };
  /** The validating webhook every ExternalSecret and SecretStore passes through (`failurePolicy: Fail`). */
  readonly webhook: {
    readonly replicaCount: number;
    readonly podDisruptionBudget: ExternalSecretsPdb;
    readonly resources: ResourceRequests;
  };
  /**
   * Issues the webhook's certificate and injects its CA. One replica: it has no leader election
   * (no such flag in its arguments), and while it restarts the webhook keeps serving its certificate.
   */
  readonly certController: { readonly resources: ResourceRequests };
}

const PDB: ExternalSecretsPdb = { enabled: true, minAvailable: 1 };

export function externalSecretsValues(_ctx: PlatformValuesContext): ExternalSecretsValues {
  return {
    installCRDs: true,
    leaderElect: true,
    replicaCount: 2,
    podDisruptionBudget: PDB,
    resources: requests('50m', '128Mi'),
    serviceMonitor: { enabled: true, renderMode: 'alwaysRender' },
    webhook: { replicaCount: 2, podDisruptionBudget: PDB, resources: requests('10m', '64Mi') },
    certController: { resources: requests('10m', '64Mi') },
  };
}
