import type { Alerting } from '../alertmanager-config';
import type { NotificationsConfig } from '../notifications';

/**
 * What the platform charts' values are made from: facts of the cluster and the environment's
 * configuration, resolved once by the gitops chart. Each chart's values module takes this and
 * returns its typed values; nothing in a values module is a second copy of a fact from here.
 */
export interface PlatformValuesContext {
  /** Namespace Prometheus, Alertmanager and the Prometheus operator run in. */
  readonly monitoringNamespace: string;
  /** The cluster's DNS domain (kubelet clusterDomain). */
  readonly clusterDomain: string;
  /** Argo CD's namespace (`delivery.namespace`). */
  readonly argocdNamespace: string;
  /** Where Envoy Gateway runs the gateway's proxies (`gateway.proxyNamespace`). */
  readonly gatewayNamespace: string;
  /** GatewayClass the application's Gateway names: Envoy Gateway's controller serves it. */
  readonly gatewayClassName: string;
  /** Prometheus' storage and retention. */
  readonly prometheus: {
    /** How long samples are kept, in Prometheus' duration syntax (`15d`). */
    readonly retention: string;
    /** Size at which the oldest blocks go first (`45GB`), below the volume's size. */
    readonly retentionSize: string;
    /** The volume Prometheus keeps its blocks on. */
    readonly storage: { readonly size: string; readonly storageClass?: string };
  };
  /**
   * Entries of Argo CD's `argocd-cm` that this project relies on: the resource tracking method
   * and the health checks of charts/gitops/health/ (`resource.customizations.health.<group>_<kind>`).
   */
  readonly argocdSettings: Readonly<Record<string, string>>;
  /** Argo CD image tag to run (newer than the chart's appVersion when an advisory requires it). */
  readonly argocdImageTag: string;
  /** Host name Argo CD is reached at (`argocd-cm` `url`: SSO redirects, notification links). */
  readonly argocdHost: string;
  /** Argo CD's notifications of the environment's Applications: the receivers each event goes to. */
  readonly notifications: NotificationsConfig;
  /** Where alerts go: Alertmanager's receivers and routes are made from it. */
  readonly alerting: Alerting;
  /** The application's namespaces, which its own alerts watch (the chart's default rules leave them out). */
  readonly appNamespaces: readonly string[];
  /** Loki: how long each tenant's logs are kept, and where. */
  readonly logging: {
    /** Durations as the configuration spells them (`720h`), whole days. */
    readonly retention: { readonly application: string; readonly audit: string };
    /**
     * The environment's bucket; absent (outside production only): Loki keeps the logs on its
     * volume. Its credentials are the Secret LOKI_STORAGE_SECRET in Loki's namespace.
     */
    readonly objectStorage?: { readonly endpointURL: string; readonly bucket: string; readonly region: string };
    /** The auditors' Grafana organization, where the audit tenant's data source goes; absent, Grafana gets none. */
    readonly audit?: { readonly grafanaOrgId?: number };
  };
}
