/**
 * Values of the falcosidekick chart (0.14.0), its own release beside Falco (Falco 9.1.0's
 * dependency is falcosidekick 0.12.*, older): receives Falco's events over HTTP and forwards those
 * of priority warning and above to Alertmanager, where they are routed like every other alert.
 */
import { requests, serviceHost, type ResourceRequests } from './common';
import type { PlatformValuesContext } from './context';
import { ALERTMANAGER_PORT, ALERTMANAGER_SERVICE } from './kube-prometheus-stack';

/** The release's fullname, pinned: Falco's http_output names its Service. */
export const FALCOSIDEKICK_NAME = 'falcosidekick';

/** The Service's port: `service.port` in the chart's values.yaml (the container listens on 2801). */
export const FALCOSIDEKICK_PORT = 2801;

/** Falco priorities, most severe first (falcosidekick's `minimumpriority` takes one of them). */
export type FalcoPriority = 'emergency' | 'alert' | 'critical' | 'error' | 'warning' | 'notice' | 'informational' | 'debug';

/** Alertmanager in the monitoring namespace, by its Service's cluster DNS name. */
export function alertmanagerURL(ctx: PlatformValuesContext): string {
  return `http://${serviceHost(ALERTMANAGER_SERVICE, ctx.monitoringNamespace, ctx.clusterDomain)}:${ALERTMANAGER_PORT}`;
}

export interface FalcosidekickValues {
  readonly fullnameOverride: string;
  readonly replicaCount: number;
  readonly config: {
    readonly alertmanager: {
      /** Where the Alertmanager output posts: setting it turns the output on. */
      readonly hostport: string;
      /**
       * Alertmanager's API v2. The chart's default is `/api/v1/alerts`, which Alertmanager removed
       * in 0.27; kube-prometheus-stack 88.5.3 runs v0.34.0.
       */
      readonly endpoint: '/api/v2/alerts';
      /** Events below this are not sent (notice and below would drown the alerts). */
      readonly minimumpriority: FalcoPriority;
    };
  };
  readonly serviceMonitor: { readonly enabled: boolean };
  /** Free-form upstream (`resources: {}`). */
  readonly resources: ResourceRequests;
}

export function falcosidekickValues(ctx: PlatformValuesContext): FalcosidekickValues {
  return {
    fullnameOverride: FALCOSIDEKICK_NAME,
    replicaCount: 2,
    config: { alertmanager: { hostport: alertmanagerURL(ctx), endpoint: '/api/v2/alerts', minimumpriority: 'warning' } },
    serviceMonitor: { enabled: true },
    resources: requests('20m', '64Mi'),
  };
}
