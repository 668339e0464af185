import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { Model } from '../../environments/model/model';
import { secretManagerKey } from '../../environments/model/names';
import type { K8sObject } from '../../pipeline/k8s-object';
import { AuditAlerts } from '../logging/audit-alerts';
import { repositoryFilesUrl } from '../observability/runbooks';
import { AlertmanagerSecret, credentialReceivers } from './alertmanager-config';
import { ArgoProject, type GroupKind } from './argo-project';
import { EnvoyGatewayClass } from './gateway-class';
import { GitFolderApplication } from './git-folder-application';
import { healthCustomizations, RESOURCE_TRACKING } from './health-checks';
import { HelmApplication } from './helm-application';
import { LOKI_PORTS, LokiNetworkPolicies, POD_APP_NAMES } from './loki-network-policies';
import { LokiStorageSecret } from './loki-storage-secret';
import {
  notificationRoutes, NotificationsSecret, receiverEntries, subscriptionAnnotations, usedReceivers, type NotificationsConfig,
} from './notifications';
import { PlatformNamespace } from './platform-namespace';
import { PLATFORM_RELEASES, releaseNamespace, type PlatformRelease, type PlatformReleaseName } from './platform-releases';
import type { PlatformValuesContext } from './values/context';
import { platformValues } from './values/platform-values';

/** The Argo CD that runs (every component's image tag): platform-releases.ts says why this one. */
export const ARGOCD_VERSION = PLATFORM_RELEASES['argo-cd'].operator.version;

/**
 * Waves of the root Application, written down once: namespaces, then projects, then the operators
 * (each at its release's wave), then the application, then the notifications' Secret and
 * Alertmanager's receivers' Secret. Argo CD waits for a wave's Applications to be healthy before
 * the next (with the Application health check of charts/gitops/health/). Those ExternalSecrets are
 * Degraded until the secret store, made by hand once External Secrets runs, exists: any earlier,
 * they would fail the root's sync (Alertmanager, in wave -8, starts without its Secret: it mounts
 * it as optional). Loki's bucket credentials come before Loki, whose pods read them at start: after
 * External Secrets (charts/gitops/loki-storage-secret.ts).
 */
export const ROOT_WAVES = {
  namespaces: -30, projects: -20, application: 0, notifications: 1, alertReceivers: 1,
  lokiStorage: PLATFORM_RELEASES['external-secrets'].wave + 1,
  lokiAccess: PLATFORM_RELEASES.loki.wave - 1,
} as const;

export interface GitopsChartProps {
  readonly model: Model;
  /** The environment's synthesized objects: the kinds its project may hold are exactly theirs. */
  readonly objects: readonly K8sObject[];
  /**
   * The folders of dist/<env>/ that hold the data tier (PostgreSQL, Redis, the uploads volume, their
   * backups), synced by an Application of their own; none when the environment has no data tier.
   */
  readonly dataFolders: readonly string[];
}

/** Argo CD's glob for the files of these folders (directly in them, as synthesis writes them). */
const folderGlob = (folders: readonly string[]) => (folders.length === 1 ? `${folders[0]}/*` : `{${folders.map((f) => `${f}/*`).join(',')}}`);

/** API group of an apiVersion (`''` for the core group's `v1`). */
const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.lastIndexOf('/')) : '');

/**
 * What a project may hold of these objects: each cluster-scoped object by kind and name (another
 * ClusterIssuer or PriorityClass is not the application's to make), each namespaced kind whole.
 */
export function kindsOf(objects: readonly K8sObject[], scope: 'cluster' | 'namespaced'): GroupKind[] {
  const seen = new Map<string, GroupKind>();
  for (const o of objects) {
    const cluster = o.metadata.namespace === undefined;
    if (cluster !== (scope === 'cluster')) continue;
    const k = { group: groupOf(o.apiVersion), kind: o.kind, ...(cluster ? { name: o.metadata.name } : {}) };
    seen.set(`${k.group}/${k.kind}/${k.name ?? ''}`, k);
  }
  return [...seen.values()];
}

/**
 * Cluster-scoped kinds the platform charts create: their CRDs, RBAC and admission webhooks. Listed,
 * not `*`: a chart upgrade that starts creating another kind fails its sync with "not permitted in
 * project" and is reviewed here before it runs.
 */
export const PLATFORM_CLUSTER_KINDS: readonly GroupKind[] = [
  { group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition' },
  { group: 'rbac.authorization.k8s.io', kind: 'ClusterRole' },
  { group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding' },
  { group: 'admissionregistration.k8s.io', kind: 'ValidatingWebhookConfiguration' },
  { group: 'admissionregistration.k8s.io', kind: 'MutatingWebhookConfiguration' },
  // Trivy Operator's chart creates the compliance reports it fills in (cluster-scoped).
  { group: 'aquasecurity.github.io', kind: 'ClusterComplianceReport' },
];

/**
 * Everything Argo CD needs in the environment's cluster, into argocd/<env>/: the root Application
 * (the one object applied by hand), the projects, the platform operators as pinned Helm charts, and
 * the Application that syncs dist/<env>/.
 */
export class GitopsChart extends Chart {
  constructor(scope: Construct, id: string, props: GitopsChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    const { model, objects } = props;
    const { env, identity, delivery } = model;
    const argocdNamespace = delivery.namespace;

    new GitFolderApplication(this, 'root', {
      identity, name: delivery.rootApplication, argocdNamespace, project: delivery.bootstrapProject,
      repoURL: delivery.repoURL, targetRevision: delivery.targetRevision, path: delivery.argocdPath, namespace: argocdNamespace,
    });

    const configured = { argocd: argocdNamespace, monitoring: env.monitoringNamespace, gateway: env.gateway.proxyNamespace };
    const releases = (Object.entries(PLATFORM_RELEASES) as [PlatformReleaseName, PlatformRelease][])
      .map(([name, release]) => ({ name, release, namespace: releaseNamespace(release, configured) }));
    const namespaces = new Map<string, PlatformRelease['podSecurity']>();
    for (const { name, release, namespace } of releases) {
      const level = namespaces.get(namespace);
      if (level !== undefined && level !== release.podSecurity) {
        throw new Error(`platform release ${name}: namespace ${namespace} is ${level} for another release, ${release.podSecurity} here`);
      }
      namespaces.set(namespace, release.podSecurity);
    }
    for (const [ns, podSecurity] of namespaces) {
      // Argo CD's namespace exists before the root Application can (Argo CD is installed into it);
      // the root Application adopts it with the others.
      new PlatformNamespace(this, `namespace-${ns}`, { identity, name: ns, podSecurity, kubernetesVersion: env.kubernetesVersion, wave: ROOT_WAVES.namespaces });
    }

    const alertReceivers = credentialReceivers(env.alerting).length > 0;
    const lokiNamespace = PLATFORM_RELEASES.loki.namespace;
    const lokiStorage = env.objectStorage !== undefined;
    new ArgoProject(this, 'project-bootstrap', {
      // The root Application: Argo CD's projects and Applications, and the platform namespaces.
      identity, name: delivery.bootstrapProject, argocdNamespace, wave: ROOT_WAVES.projects,
      sourceRepos: [delivery.repoURL],
      // Alertmanager's receivers' ExternalSecret goes to the monitoring namespace.
      // Loki's NetworkPolicies, its bucket credentials' ExternalSecret and the audit trail's rules go to Loki's namespace.
      namespaces: [argocdNamespace, ...(alertReceivers ? [env.monitoringNamespace] : []), lokiNamespace],
      clusterKinds: [
        ...[...namespaces.keys()].map((name) => ({ group: '', kind: 'Namespace', name })),
        { group: 'gateway.networking.k8s.io', kind: 'GatewayClass', name: env.gateway.className },
      ],
      namespacedKinds: [
        { group: 'argoproj.io', kind: 'AppProject' }, { group: 'argoproj.io', kind: 'Application' },
        // argocd-notifications-secret and alertmanager-receivers.
        { group: 'external-secrets.io', kind: 'ExternalSecret' },
        // Who may reach Loki.
        { group: 'networking.k8s.io', kind: 'NetworkPolicy' },
        // The audit trail's Loki rules.
        { group: '', kind: 'ConfigMap' },
      ],
    });
    // Before Loki runs: the audit tenant is never open to the whole cluster, not even at the first sync.
    new LokiNetworkPolicies(this, 'loki-network-policies', {
      identity, namespace: lokiNamespace, lokiApp: POD_APP_NAMES.loki, gatewayPort: LOKI_PORTS.gateway, metricsPort: LOKI_PORTS.http,
      gatewayClients: [
        { namespace: PLATFORM_RELEASES.alloy.namespace, app: POD_APP_NAMES.alloy },
        { namespace: env.monitoringNamespace, app: POD_APP_NAMES.grafana },
      ],
      scrapers: [{ namespace: env.monitoringNamespace, app: POD_APP_NAMES.prometheus }],
      wave: ROOT_WAVES.lokiAccess,
    });
    // The audit trail's Loki rules, in the one namespace Loki's rules sidecar reads: only what this
    // repository's argocd/<env>/ holds, not whoever deploys into the application's namespace, adds
    // rules on the audit tenant. With the policies, before Loki: the ruler has them from its start.
    new AuditAlerts(this, 'audit-alerts', {
      identity, namespace: lokiNamespace, wave: ROOT_WAVES.lokiAccess, audit: env.logging.audit,
      runbookBase: repositoryFilesUrl(delivery.repoURL, delivery.targetRevision),
    });
    new EnvoyGatewayClass(this, 'gateway-class', {
      identity, name: env.gateway.className, wave: PLATFORM_RELEASES['envoy-gateway'].wave + 1,
    });

    new ArgoProject(this, 'project-platform', {
      // The platform operators: pinned upstream Helm charts.
      identity, name: delivery.platformProject, argocdNamespace, wave: ROOT_WAVES.projects,
      sourceRepos: [...new Set(releases.map((r) => r.release.repoURL))],
      namespaces: [...namespaces.keys()],
      clusterKinds: PLATFORM_CLUSTER_KINDS,
    });
    new ArgoProject(this, 'project-app', {
      // The application: the objects of dist/<env>.
      identity, name: delivery.appProject, argocdNamespace, wave: ROOT_WAVES.projects,
      sourceRepos: [delivery.repoURL],
      namespaces: [identity.namespace],
      clusterKinds: kindsOf(objects, 'cluster'),
      namespacedKinds: kindsOf(objects, 'namespaced'),
      warnOrphans: true,
      roles: [
        // Developers see the application, its objects and its pods' logs, and change nothing.
        { name: 'developer', permissions: [['applications', 'get'], ['logs', 'get']], groups: env.delivery.developerGroups },
        // The release pipeline (with a token of this role) and release managers sync.
        { name: 'release', permissions: [['applications', 'get'], ['logs', 'get'], ['applications', 'sync']], groups: env.delivery.releaseGroups },
      ],
      syncFreezes: env.delivery.syncFreezes,
    });

    const notifications: NotificationsConfig = {
      argocdUrl: `https://${env.delivery.argocdHost}`, environment: env.name, routes: notificationRoutes(env.alerting),
    };
    const receivers = usedReceivers(notifications.routes);
    if (receivers.length > 0) {
      const store = env.externalSecrets;
      if (store === undefined) throw new Error(`${env.name}: externalSecrets is required: Argo CD's notifications read the ${receivers.join(' and ')} credentials from the secret manager`);
      new NotificationsSecret(this, 'notifications-secret', {
        identity, namespace: argocdNamespace, store, wave: ROOT_WAVES.notifications,
        entries: receiverEntries(env.alerting, store.keyPrefix, receivers),
      });
    }
    if (alertReceivers) {
      const store = env.externalSecrets;
      if (store === undefined) throw new Error(`${env.name}: externalSecrets is required: Alertmanager's receivers read their credentials from the secret manager`);
      new AlertmanagerSecret(this, 'alertmanager-secret', {
        identity, namespace: env.monitoringNamespace, store, alerting: env.alerting, wave: ROOT_WAVES.alertReceivers,
      });
    }

    if (lokiStorage) {
      const store = env.externalSecrets;
      if (store === undefined) throw new Error(`${env.name}: externalSecrets is required: Loki reads the objectStorage credentials from the secret manager`);
      new LokiStorageSecret(this, 'loki-storage-secret', {
        identity, namespace: lokiNamespace, store, remoteKey: secretManagerKey(env, 'object-storage'), wave: ROOT_WAVES.lokiStorage,
      });
    }

    const context: PlatformValuesContext = {
      monitoringNamespace: env.monitoringNamespace,
      clusterDomain: env.clusterDomain,
      argocdNamespace,
      gatewayNamespace: env.gateway.proxyNamespace,
      gatewayClassName: env.gateway.className,
      prometheus: {
        retention: env.platform.prometheus.retention,
        retentionSize: env.platform.prometheus.retentionSize,
        storage: env.platform.prometheus.storage,
      },
      argocdSettings: { ...RESOURCE_TRACKING, ...healthCustomizations() },
      argocdImageTag: ARGOCD_VERSION,
      argocdHost: env.delivery.argocdHost,
      notifications,
      alerting: env.alerting,
      appNamespaces: [identity.namespace],
      logging: {
        retention: env.logging.retention,
        ...(env.objectStorage
          ? { objectStorage: { endpointURL: env.objectStorage.endpointURL, bucket: env.objectStorage.bucket, region: env.objectStorage.region } }
          : {}),
        ...(env.logging.audit.grafanaOrgId === undefined ? {} : { audit: { grafanaOrgId: env.logging.audit.grafanaOrgId } }),
      },
    };
    for (const { name, release, namespace } of releases) {
      new HelmApplication(this, `platform-${name}`, {
        identity, name, argocdNamespace, project: delivery.platformProject, release, namespace, values: platformValues(name, context),
      });
    }

    // Two Applications of dist/<env>/ in the same wave, synced independently: a PostgreSQL
    // configuration change, a switchover or a failover (Progressing for minutes) does not hold up a
    // release of the services, and a service's rollout does not hold up the data tier. On the first
    // sync the data tier's waits (retrying) until the other has made the namespace and its flows.
    const { dataFolders } = props;
    const common = {
      identity, argocdNamespace, project: delivery.appProject, repoURL: delivery.repoURL, targetRevision: delivery.targetRevision,
      path: delivery.distPath, namespace: identity.namespace, wave: ROOT_WAVES.application,
      // Admission webhooks default fields (CloudNativePG's of the Cluster and Pooler).
      serverSideDiff: true,
      // Only these two notify: the platform's Applications are the operators', not the release's.
      annotations: subscriptionAnnotations(notifications.routes),
    };
    new GitFolderApplication(this, 'app', {
      ...common, name: delivery.appApplication, ...(dataFolders.length > 0 ? { exclude: folderGlob(dataFolders) } : {}),
    });
    if (dataFolders.length > 0) new GitFolderApplication(this, 'data', { ...common, name: delivery.dataApplication, include: folderGlob(dataFolders) });
  }
}
