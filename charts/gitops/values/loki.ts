/**
 * Values of the loki chart (grafana-community 18.11.0, Loki 3.7.6): minimal but real. One
 * Monolithic (single binary) Loki on a persistent volume, the mode values.yaml recommends for
 * small installs ("up to a few tens of GB/day") and the only one that runs without object
 * storage; retention enforced by the compactor; single tenant; metrics through a ServiceMonitor.
 * The logging issue sizes it and may move it to object storage.
 */
import { requests, type ResourceRequests } from './common';
import type { PlatformValuesContext } from './context';

/** The release's fullname, pinned so that the log collector can name its gateway Service. */
export const LOKI_NAME = 'loki';

/** The gateway's Service (templates/gateway/service.yaml: `<fullname>-gateway`). */
export const LOKI_GATEWAY_SERVICE = `${LOKI_NAME}-gateway`;

/** The gateway Service's port: `gateway.service.port` in the chart's values.yaml. */
export const LOKI_GATEWAY_PORT = 80;

/** How long log lines are kept before the compactor deletes them (31 days). */
export const LOKI_RETENTION_PERIOD = '744h';

/** One period of Loki's schema: where chunks and the TSDB index of a time range live. */
export interface LokiSchemaPeriod {
  /** First day of the period. Never change it once logs are written: it addresses stored data. */
  readonly from: string;
  readonly store: 'tsdb';
  readonly object_store: 'filesystem';
  readonly schema: 'v13';
  readonly index: { readonly prefix: string; readonly period: '24h' };
}

export interface LokiValues {
  readonly fullnameOverride: string;
  readonly deploymentMode: 'Monolithic';
  /** The cluster's DNS domain, in the memberlist join address and the gateway's upstreams. */
  readonly global: { readonly clusterDomain: string };
  readonly loki: {
    /** Single tenant: the collector pushes without an `X-Scope-OrgID` header. */
    readonly auth_enabled: boolean;
    /** One copy of each stream: there is one Loki. */
    readonly commonConfig: { readonly replication_factor: number };
    /** Chunks and index on the single binary's volume. */
    readonly storage: { readonly type: 'filesystem' };
    /** Required: the chart fails without one (templates/validate.yaml). Free-form upstream (`{}`). */
    readonly schemaConfig: { readonly configs: readonly LokiSchemaPeriod[] };
    /**
     * The compactor deletes what is older than the retention period. Loki 3 refuses retention
     * without a store for delete requests. Free-form upstream (`compactor: {}`).
     */
    readonly compactor: { readonly retention_enabled: boolean; readonly delete_request_store: 'filesystem' };
    /** Free-form upstream (values.yaml marks it `@schema ... additionalProperties:true`). */
    readonly limits_config: { readonly retention_period: string };
    /** No usage reports to grafana.com from inside the cluster. Free-form upstream (`analytics: {}`). */
    readonly analytics: { readonly reporting_enabled: boolean };
  };
  readonly singleBinary: { readonly replicas: number; readonly resources: ResourceRequests };
  /**
   * The Simple Scalable targets default to 3 replicas each; with any of them above zero beside a
   * single binary the chart fails ("more than zero replicas configured for both the monolithic
   * and simple scalable targets"). Upstream's monolithic-values.yaml zeroes them the same way.
   */
  readonly backend: { readonly replicas: number };
  readonly read: { readonly replicas: number };
  readonly write: { readonly replicas: number };
  /** The memcached caches are sized for object storage at scale (the chunks cache asks for 8 GB). */
  readonly chunksCache: { readonly enabled: boolean };
  readonly resultsCache: { readonly enabled: boolean };
  /**
   * The canary DaemonSet, and the Helm test that needs it (the chart fails with the test on and
   * the canary off): left to the logging issue, with the alerts that would watch the canary.
   */
  readonly lokiCanary: { readonly enabled: boolean };
  readonly test: { readonly enabled: boolean };
  readonly monitoring: { readonly serviceMonitor: { readonly enabled: boolean } };
}

export function lokiValues(ctx: PlatformValuesContext): LokiValues {
  return {
    fullnameOverride: LOKI_NAME,
    deploymentMode: 'Monolithic',
    global: { clusterDomain: ctx.clusterDomain },
    loki: {
      auth_enabled: false,
      commonConfig: { replication_factor: 1 },
      storage: { type: 'filesystem' },
      schemaConfig: {
        configs: [{ from: '2024-04-01', store: 'tsdb', object_store: 'filesystem', schema: 'v13', index: { prefix: 'index_', period: '24h' } }],
      },
      compactor: { retention_enabled: true, delete_request_store: 'filesystem' },
      limits_config: { retention_period: LOKI_RETENTION_PERIOD },
      analytics: { reporting_enabled: false },
    },
    // With filesystem storage the chart runs exactly one single binary whatever this says
    // (`loki.monolithicReplicas`); 1 says so, where the default 0 would read as "none".
    singleBinary: { replicas: 1, resources: requests('200m', '512Mi') },
    backend: { replicas: 0 },
    read: { replicas: 0 },
    write: { replicas: 0 },
    chunksCache: { enabled: false },
    resultsCache: { enabled: false },
    lokiCanary: { enabled: false },
    test: { enabled: false },
    monitoring: { serviceMonitor: { enabled: true } },
  };
}
