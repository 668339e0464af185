/**
 * Values of the argo-cd chart (argo-helm 10.1.1): Argo CD managing itself after the one-time
 * install. Chart defaults everywhere except what production needs: the image the advisories
 * require, our argocd-cm entries, CRDs kept, metrics scraped, and two replicas of what can run two.
 */
import { NOTIFICATIONS_SECRET, notificationsSettings } from '../notifications';
import { requests, type ResourceRequests } from './common';
import type { PlatformValuesContext } from './context';

/** A component's metrics Service and the ServiceMonitor that has Prometheus scrape it. */
export interface ArgoCdMetrics {
  readonly enabled: boolean;
  readonly serviceMonitor: { readonly enabled: boolean };
}

/** A PodDisruptionBudget as the chart takes it (no default `minAvailable`: "defaults to 0"). */
export interface ArgoCdPdb {
  readonly enabled: boolean;
  readonly minAvailable: number;
}

/** A stateless component run twice behind its Service. */
export interface ArgoCdReplicatedComponent {
  readonly replicas: number;
  readonly pdb: ArgoCdPdb;
  readonly metrics: ArgoCdMetrics;
  readonly resources: ResourceRequests;
}

export interface ArgoCdValues {
  /**
   * The image every Argo CD component runs, and the host name it is reached at (the chart makes
   * `argocd-cm`'s `url` of it: SSO redirects and the links in notifications).
   */
  readonly global: {
    readonly image: { readonly tag: string };
    readonly domain: string;
    /**
     * Every component logs JSON (the chart's default is text): the collector reads each line's
     * `level` and keeps the lines as the delivery audit (who synced what), which searches then
     * read field by field (charts/logging/log-searches.ts).
     */
    readonly logging: { readonly format: 'json'; readonly level: 'info' };
  };
  /**
   * Application, ApplicationSet and AppProject CRDs: not from the chart, whose CRDs are those of its
   * appVersion (v3.4.4), older than the Argo CD that runs; the API server would drop the newer
   * fields. They are applied from the running release's manifests, server-side (the ApplicationSet
   * CRD is too large for client-side apply since 3.3): docs/admin-guide.md, bootstrap. Kept either way.
   */
  readonly crds: { readonly install: boolean; readonly keep: boolean };
  /**
   * `argocd-cm` entries. Free-form upstream: the chart writes every key of `configs.cm` but
   * `create` and `annotations` into the ConfigMap (templates/_helpers.tpl, `argo-cd.config.cm`).
   */
  readonly configs: { readonly cm: Readonly<Record<string, string>> };
  /** The application controller: one replica (more would shard clusters, and there is one). */
  readonly controller: { readonly metrics: ArgoCdMetrics; readonly resources: ResourceRequests };
  readonly server: ArgoCdReplicatedComponent;
  readonly repoServer: ArgoCdReplicatedComponent;
  readonly applicationSet: ArgoCdReplicatedComponent;
  /**
   * Notifications controller, and argocd-notifications-cm (templates/argocd-configs/argocd-notifications-cm.yaml:
   * `context`, then the entries of `notifiers`, `templates` and `triggers` as they are). The Secret
   * is an ExternalSecret of ours (charts/gitops/notifications.ts), so the chart makes none.
   */
  readonly notifications: {
    readonly enabled: boolean;
    readonly metrics: ArgoCdMetrics;
    readonly resources: ResourceRequests;
    /** `{{.context.argocdUrl}}` of the templates. */
    readonly argocdUrl: string;
    /** More of the templates' `.context`: the environment's name. */
    readonly context: { readonly environment: string };
    readonly secret: { readonly create: boolean; readonly name: string };
    /** `service.<type>.<name>` entries. */
    readonly notifiers: Readonly<Record<string, string>>;
    /** `template.<name>` entries. */
    readonly templates: Readonly<Record<string, string>>;
    /** `trigger.<name>` entries. */
    readonly triggers: Readonly<Record<string, string>>;
  };
}

const METRICS: ArgoCdMetrics = { enabled: true, serviceMonitor: { enabled: true } };
const PDB: ArgoCdPdb = { enabled: true, minAvailable: 1 };

export function argoCdValues(ctx: PlatformValuesContext): ArgoCdValues {
  return {
    // The chart's appVersion (v3.4.4) predates the release that fixes the HIGH advisories.
    global: { image: { tag: ctx.argocdImageTag }, domain: ctx.argocdHost, logging: { format: 'json', level: 'info' } },
    crds: { install: false, keep: true },
    configs: { cm: { ...ctx.argocdSettings } },
    controller: { metrics: METRICS, resources: requests('250m', '512Mi') },
    server: { replicas: 2, pdb: PDB, metrics: METRICS, resources: requests('50m', '128Mi') },
    repoServer: { replicas: 2, pdb: PDB, metrics: METRICS, resources: requests('100m', '256Mi') },
    // Two replicas turn the controller's leader election on (the chart's params preset
    // `applicationsetcontroller.enable.leader.election` is `replicas > 1`).
    applicationSet: { replicas: 2, pdb: PDB, metrics: METRICS, resources: requests('50m', '64Mi') },
    // Redis stays the chart's single instance: the redis-ha subchart (three Redis with Sentinel
    // and HAProxy, spread over three nodes) is a deployment of its own; Argo CD only caches there.
    notifications: {
      enabled: true, metrics: METRICS, resources: requests('20m', '64Mi'),
      argocdUrl: ctx.notifications.argocdUrl,
      context: { environment: ctx.notifications.environment },
      secret: { create: false, name: NOTIFICATIONS_SECRET },
      ...notificationsSettings(ctx.notifications),
    },
  };
}
