/**
 * Values of the plugin-barman-cloud chart (0.7.0): the Barman Cloud CNPG-I plugin beside the
 * operator, in its namespace. Its gRPC endpoints use TLS certificates from cert-manager (a
 * self-signed Issuer the chart creates in the namespace), so cert-manager must be running first.
 * Nothing of this release is scraped: the plugin's own metrics endpoint is off (`--metrics-bind-address`
 * defaults to 0, and the chart gives it neither a port nor a monitor), and what matters of it, the
 * backups' timestamps (`barman_cloud_cloudnative_pg_io_*`), is served by its sidecar through each
 * PostgreSQL instance's exporter, which the data chart's PodMonitor of the Cluster scrapes.
 */
import { PLATFORM_RELEASES } from '../platform-releases';
import { requests, type ResourceRequests } from './common';
import type { PlatformValuesContext } from './context';

/**
 * The plugin release this project runs: the one the ObjectStore schema in ../shared/crds
 * (plugin-barman-cloud-0.14.0_objectstores.yaml) and imports/ come from. The chart's appVersion is
 * v0.13.0; v0.14.0 changes neither the ObjectStore CRD (the chart's template is byte-identical to
 * v0.14.0's) nor the RBAC the chart renders (config/ is unchanged between the tags), and fixes WAL
 * restore during a designated primary's promotion and sidecar injection into replica clusters.
 * Drop the override when a chart release ships v0.14.0 or newer as its appVersion. Written in
 * platform-releases.ts, beside the CRDs the checks read for it.
 */
export const BARMAN_CLOUD_PLUGIN_VERSION = PLATFORM_RELEASES['plugin-barman-cloud'].operator.version;

export interface PluginBarmanCloudValues {
  /** The plugin's image: its tag overrides the chart's appVersion. */
  readonly image: { readonly tag: string };
  /**
   * The sidecar the plugin injects into every PostgreSQL instance pod (it archives WAL and takes
   * base backups): released together with the plugin, so always the plugin's own version.
   */
  readonly sidecarImage: { readonly tag: string };
  /** The ObjectStore CRD (marked `helm.sh/resource-policy: keep` by the chart). */
  readonly crds: { readonly create: boolean };
  readonly resources: ResourceRequests;
  /**
   * The plugin's server and client certificates and the self-signed Issuer that signs them: the
   * chart's defaults, written out because they are why this release needs cert-manager.
   */
  readonly certificate: {
    readonly createIssuer: boolean;
    readonly createServerCertificate: boolean;
    readonly createClientCertificate: boolean;
  };
}

export function pluginBarmanCloudValues(_ctx: PlatformValuesContext): PluginBarmanCloudValues {
  return {
    image: { tag: BARMAN_CLOUD_PLUGIN_VERSION },
    sidecarImage: { tag: BARMAN_CLOUD_PLUGIN_VERSION },
    crds: { create: true },
    // One replica, the chart's: its Deployment uses the Recreate strategy ("RollingUpdate strategy
    // is not supported by the operator yet"), so a second replica would not shorten a rollout.
    resources: requests('50m', '128Mi'),
    certificate: { createIssuer: true, createServerCertificate: true, createClientCertificate: true },
  };
}
