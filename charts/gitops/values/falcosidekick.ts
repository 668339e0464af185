/**
 * Values of the falcosidekick chart (0.14.0), its own release beside Falco (Falco 9.1.0's
 * dependency is falcosidekick 0.12.*, older): receives Falco's events over HTTP and forwards those
 * of priority warning and above to Alertmanager as warnings, with Falco's output; the page for
 * critical and above is FalcoCriticalEvent's, from falcosidekick's metrics.
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

/** The priorities FalcoCriticalEvent pages for (charts/observability/platform-alerts.ts). */
export const PAGED_PRIORITIES: readonly FalcoPriority[] = ['emergency', 'alert', 'critical'];

/** falcosidekick's `customseveritymap`: each of these priorities to `severity`. */
export function severityMap(priorities: readonly FalcoPriority[], severity: 'warning' | 'info'): string {
  return priorities.map((p) => `${p}:${severity}`).join(',');
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
      /**
       * The `severity` label of the events it posts, by priority (`priority:severity,…`; those not
       * listed keep outputs/alertmanager.go's defaults: error and warning → warning). Critical and
       * above would be `critical` and page a second time, without a runbook, a `namespace` or a
       * `service`: the page is FalcoCriticalEvent's (charts/observability/platform-alerts.ts), and
       * these carry Falco's output, the details, to the warnings' receiver.
       */
      readonly customseveritymap: string;
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
    config: {
      alertmanager: {
        hostport: alertmanagerURL(ctx), endpoint: '/api/v2/alerts', minimumpriority: 'warning', customseveritymap: severityMap(PAGED_PRIORITIES, 'warning'),
      },
    },
    serviceMonitor: { enabled: true },
    resources: requests('20m', '64Mi'),
  };
}
