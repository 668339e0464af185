/**
 * Values of the kube-prometheus-stack chart (88.5.3): the Prometheus Operator, one Prometheus with
 * its storage and retention from the environment, Alertmanager and Grafana. Prometheus picks up
 * every ServiceMonitor, PodMonitor, PrometheusRule, Probe and ScrapeConfig in every namespace,
 * with or without this release's `release` label: ours and the other platform charts' carry none.
 */
import { alertmanagerConfig, alertmanagerSecretMount, type AlertmanagerConfig, type AlertmanagerSecretMount } from '../alertmanager-config';
import { PLATFORM_RELEASES } from '../platform-releases';
import { requests, serviceHost, type ResourceRequests } from './common';
import type { PlatformValuesContext } from './context';
import { LOKI_GATEWAY_PORT, LOKI_GATEWAY_SERVICE, LOKI_TENANTS, type LokiTenant } from './loki';

/**
 * The release's fullname, pinned (`fullnameOverride`) so that other releases can name its Services
 * without depending on Helm's rule for release and chart names: `<name>-alertmanager`,
 * `<name>-prometheus`, `<name>-operator`. Kept under the chart's 26-character cut.
 */
export const KUBE_PROMETHEUS_STACK_NAME = 'kube-prometheus-stack';

/** Alertmanager's Service (templates/alertmanager/service.yaml: `<fullname>-alertmanager`). */
export const ALERTMANAGER_SERVICE = `${KUBE_PROMETHEUS_STACK_NAME}-alertmanager`;

/** Alertmanager's Service port: `alertmanager.service.port` in the chart's values.yaml. */
export const ALERTMANAGER_PORT = 9093;

/** Grafana's database volume: a SQLite file of users, organizations and preferences (dashboards are provisioned). */
export const GRAFANA_STORAGE_SIZE = '1Gi';

/** Grafana's data source of each Loki tenant: fixed UIDs, which the logs dashboards name. */
export const LOKI_DATASOURCE_UIDS: Readonly<Record<LokiTenant, string>> = { application: 'loki-application', audit: 'loki-audit' };

/** The organization every Grafana has, and where everyone but the auditors works. */
export const GRAFANA_MAIN_ORG_ID = 1;

/**
 * The header Loki reads the tenant from (auth_enabled, charts/gitops/values/loki.ts). Grafana sends
 * a data source's custom headers with every query: name in jsonData, value in secureJsonData.
 */
export const TENANT_HEADER = 'X-Scope-OrgID';

/** A Loki data source as Grafana's provisioning reads it (administration/provisioning, data sources). */
export interface LokiDataSource {
  readonly name: string;
  readonly type: 'loki';
  readonly uid: string;
  readonly orgId: number;
  readonly access: 'proxy';
  readonly url: string;
  /** Provisioned data sources stay as the code says: not changed in Grafana's UI. */
  readonly editable: false;
  readonly jsonData: { readonly httpHeaderName1: typeof TENANT_HEADER };
  readonly secureJsonData: { readonly httpHeaderValue1: LokiTenant };
}

/**
 * The dashboards sidecar's directory, shared with Grafana (the grafana subchart 12.11.1's
 * `sidecar.dashboards.folder` default, written out when the auditors' organization has dashboards).
 */
export const GRAFANA_DASHBOARDS_DIR = '/tmp/dashboards';
/**
 * With an auditors' organization, the dashboards of the main organization go one directory down
 * (`sidecar.dashboards.defaultFolderName`, where the sidecar writes and its provider reads), so that
 * the auditors' directory beside it is read by the auditors' provider only: Grafana's file provider
 * reads its path's subdirectories too.
 */
export const MAIN_ORG_DASHBOARDS_SUBDIR = 'main';
/**
 * The auditors' dashboards: a dashboard ConfigMap whose folder annotation is this absolute path is
 * written here by the sidecar (kiwigrid/k8s-sidecar 2.10.1 src/resources.py `_get_destination_folder`
 * takes an absolute annotation as it is), and the provider AUDITORS_DASHBOARD_PROVIDER reads it into
 * the auditors' organization.
 */
export const AUDIT_DASHBOARDS_DIR = `${GRAFANA_DASHBOARDS_DIR}/auditors`;
/** The auditors' dashboard provider's file (`/etc/grafana/provisioning/dashboards/<key>`). */
export const AUDITORS_DASHBOARD_PROVIDER = 'auditors.yaml';

/** A file dashboard provider (administration/provisioning, dashboards). */
export interface DashboardProvider {
  readonly name: string;
  readonly orgId: number;
  /** Grafana folder the dashboards go in. */
  readonly folder: string;
  readonly type: 'file';
  readonly disableDeletion: boolean;
  readonly allowUiUpdates: boolean;
  readonly options: { readonly path: string; readonly foldersFromFilesStructure: boolean };
}

/** An empty label selector: everything (for a namespace selector, every namespace). */
export type SelectEverything = Readonly<Record<string, never>>;

export interface KubePrometheusStackValues {
  readonly fullnameOverride: string;
  /** The Prometheus Operator CRDs (the chart's `crds` subchart). */
  readonly crds: { readonly enabled: boolean };
  /**
   * Default rule groups turned off: those made only of node-exporter series, which never exist
   * here (see `nodeExporter`); a rule that can never fire only looks like coverage. `node` stays:
   * it also records `node_namespace_pod:kube_pod_info:` from kube-state-metrics.
   */
  readonly defaultRules: {
    readonly rules: {
      readonly nodeExporterAlerting: boolean;
      readonly nodeExporterRecording: boolean;
      /** Only NodeNetworkInterfaceFlapping, over `node_network_up`. */
      readonly network: boolean;
      /** Only recordings over `node_cpu_seconds_total` and node network counters. */
      readonly kubePrometheusNodeRecording: boolean;
      /** The control plane's groups, off with its scraping (CONTROL_PLANE_SCRAPING_OFF). */
      readonly kubeControllerManager: boolean;
      readonly kubeSchedulerAlerting: boolean;
      readonly kubeSchedulerRecording: boolean;
      readonly etcd: boolean;
      readonly kubeProxy: boolean;
    };
    /**
     * The application's namespaces are left out of the groups that take a namespace selector
     * (templates/prometheus/rules-1.14/kubernetes-apps.yaml and kubernetes-storage.yaml at the
     * chart's commit: `namespace<operator>"<target>"` in every expression, KubePersistentVolumeErrors
     * aside, PersistentVolumes having no namespace): our own alerts watch those namespaces, with
     * runbooks in this repository, and two alerts of one failure would page twice. The platform's
     * namespaces keep the chart's alerts.
     */
    readonly appNamespacesOperator: '!~';
    /** A regular expression of the application's namespaces (Prometheus anchors it). */
    readonly appNamespacesTarget: string;
    /**
     * Alerts of the chart turned off (templates/prometheus/rules-1.14/general.rules.yaml):
     * - Watchdog and TargetDown: our own replace them (the Watchdog, routed to the dead man's
     *   switch; TargetDown, with its runbook here).
     * - InfoInhibitor: it fires while a namespace has info alerts and no warning or critical, to
     *   hold those info alerts back through an inhibit rule of the chart's default configuration,
     *   which ours replaces. Info alerts go to email here, read later, so there is nothing to hold
     *   back; left on, it would be a severity "none" alert always firing to the default receiver.
     */
    readonly disabled: { readonly Watchdog: true; readonly TargetDown: true; readonly InfoInhibitor: true };
  };
  /**
   * Node exporter: off. It needs hostNetwork, hostPID and hostPath mounts, which Pod Security
   * `baseline` refuses, and the monitoring namespace is `baseline` (only Falco's namespace is
   * `privileged`). Volume usage, the node metric that matters to our alerts, comes from the kubelet
   * (`kubelet_volume_stats_*`, scraped by the chart's kubelet ServiceMonitor, on by default) and
   * container CPU and memory from cAdvisor through the same kubelet; node-level filesystems and
   * hardware are left to the provider's node monitoring.
   */
  readonly nodeExporter: { readonly enabled: boolean };
  /** Off: see CONTROL_PLANE_SCRAPING_OFF. */
  readonly kubeControllerManager: { readonly enabled: boolean };
  readonly kubeScheduler: { readonly enabled: boolean };
  readonly kubeEtcd: { readonly enabled: boolean };
  readonly kubeProxy: { readonly enabled: boolean };
  readonly prometheusOperator: { readonly resources: ResourceRequests };
  readonly prometheus: {
    readonly prometheusSpec: {
      readonly serviceMonitorSelectorNilUsesHelmValues: boolean;
      readonly serviceMonitorNamespaceSelector: SelectEverything;
      readonly podMonitorSelectorNilUsesHelmValues: boolean;
      readonly podMonitorNamespaceSelector: SelectEverything;
      readonly ruleSelectorNilUsesHelmValues: boolean;
      readonly ruleNamespaceSelector: SelectEverything;
      readonly probeSelectorNilUsesHelmValues: boolean;
      readonly probeNamespaceSelector: SelectEverything;
      readonly scrapeConfigSelectorNilUsesHelmValues: boolean;
      readonly scrapeConfigNamespaceSelector: SelectEverything;
      /** How long samples are kept (`--storage.tsdb.retention.time`). */
      readonly retention: string;
      /** Size at which the oldest blocks go first (`--storage.tsdb.retention.size`). */
      readonly retentionSize: string;
      /** A PersistentVolumeClaim per Prometheus pod (free-form upstream: `storageSpec: {}`). */
      readonly storageSpec: {
        readonly volumeClaimTemplate: {
          readonly spec: {
            readonly storageClassName?: string;
            readonly accessModes: readonly ['ReadWriteOnce'];
            readonly resources: { readonly requests: { readonly storage: string } };
          };
        };
      };
      readonly resources: ResourceRequests;
    };
  };
  /**
   * Alertmanager with our configuration (charts/gitops/alertmanager-config.ts), its receivers'
   * credentials mounted from the Secret External Secrets makes, taking AlertmanagerConfig objects
   * from every namespace: an empty selector selects all of them, where a nil namespace selector
   * means Alertmanager's own namespace only (values.yaml: "If nil, only check own namespace").
   */
  readonly alertmanager: {
    readonly enabled: boolean;
    /** Alertmanager's configuration file, written whole into its Secret by the chart. */
    readonly config: AlertmanagerConfig;
    readonly alertmanagerSpec: {
      readonly alertmanagerConfigSelector: SelectEverything;
      readonly alertmanagerConfigNamespaceSelector: SelectEverything;
      readonly resources: ResourceRequests;
      /** The receivers' Secret, optional (alertmanagerSecretMount says why); absent without credentials. */
      readonly volumes?: AlertmanagerSecretMount['volumes'];
      readonly volumeMounts?: AlertmanagerSecretMount['volumeMounts'];
    };
  };
  /**
   * Grafana, loading dashboards from labelled ConfigMaps of every namespace, with a Loki data source
   * per tenant (lokiDataSources).
   * Its admin password stays the subchart's: generated, and kept across upgrades with `lookup`,
   * which Argo CD's `helm template` cannot do, so the Secret is re-generated whenever Argo CD
   * renders the chart afresh. `admin.existingSecret` ends that once an ExternalSecret provides the
   * Secret; until one exists it would keep Grafana from starting.
   */
  readonly grafana: {
    readonly enabled: boolean;
    readonly sidecar: {
      readonly dashboards: {
        readonly enabled: boolean;
        readonly searchNamespace: 'ALL';
        /** With the auditors' organization only: the grafana subchart's keys, absent from kube-prometheus-stack's values.yaml. */
        readonly folder?: typeof GRAFANA_DASHBOARDS_DIR;
        readonly defaultFolderName?: typeof MAIN_ORG_DASHBOARDS_SUBDIR;
      };
    };
    /**
     * Grafana's database (users, teams, organizations, the auditors' among them) on a volume: on
     * the subchart's default emptyDir it would be lost at every restart, and a Grafana whose
     * provisioning names an organization that no longer exists does not start
     * (grafana/grafana#28877). The grafana subchart's keys (12.11.1 values.yaml `persistence`).
     */
    readonly persistence: {
      readonly enabled: true;
      readonly type: 'pvc';
      readonly size: string;
      readonly storageClassName?: string;
    };
    /** One pod at a time on the ReadWriteOnce volume: a rolling update's second pod could not mount it. */
    readonly deploymentStrategy: { readonly type: 'Recreate' };
    /**
     * Without the subchart's init container that chowns the volume as root with CHOWN and
     * DAC_OVERRIDE (grafana 12.11.1 values.yaml `initChownData`): the pod's fsGroup (472, the
     * subchart's `securityContext`) makes the volume Grafana's.
     */
    readonly initChownData: { readonly enabled: false };
    /** Rendered by kube-prometheus-stack into its data source ConfigMap (templates/grafana/configmaps-datasources.yaml). */
    readonly additionalDataSources: readonly LokiDataSource[];
    /**
     * With the auditors' organization only: a second dashboard provider, in that organization (the
     * grafana subchart's key, mounted beside the sidecar's own provider).
     */
    readonly dashboardProviders?: {
      readonly [AUDITORS_DASHBOARD_PROVIDER]: { readonly apiVersion: 1; readonly providers: readonly DashboardProvider[] };
    };
  };
}

/**
 * The control plane's components are not scraped, and their rules are off. On a managed cluster
 * (EKS, GKE, AKS) there is no target for them at all, and kubeadm binds the scheduler, the
 * controller manager, etcd's metrics and kube-proxy's to 127.0.0.1: either way the chart's
 * `KubeSchedulerDown` and `KubeControllerManagerDown` (`absent(up{job=…} == 1)`, critical) would
 * page forever once critical alerts reach PagerDuty. The control plane is the provider's to watch
 * (or the cluster operator's, with listen addresses opened and these switched on).
 * The API server and the kubelets stay scraped: both are reachable on every kind of cluster.
 */
const CONTROL_PLANE_SCRAPING_OFF = {
  kubeControllerManager: { enabled: false },
  kubeScheduler: { enabled: false },
  kubeEtcd: { enabled: false },
  kubeProxy: { enabled: false },
} as const;
const CONTROL_PLANE_RULES_OFF = {
  kubeControllerManager: false, kubeSchedulerAlerting: false, kubeSchedulerRecording: false, etcd: false, kubeProxy: false,
} as const;

export function kubePrometheusStackValues(ctx: PlatformValuesContext): KubePrometheusStackValues {
  const { retention, retentionSize, storage } = ctx.prometheus;
  // The chart renders a `{}` selector, or with *NilUsesHelmValues `release: <release>`, which
  // would leave out every monitor and rule not made by this release.
  const everything: SelectEverything = {};
  const secretMount = alertmanagerSecretMount(ctx.alerting);
  const auditorsOrg = ctx.logging.audit?.grafanaOrgId;
  return {
    fullnameOverride: KUBE_PROMETHEUS_STACK_NAME,
    crds: { enabled: true },
    defaultRules: {
      rules: {
        nodeExporterAlerting: false, nodeExporterRecording: false, network: false, kubePrometheusNodeRecording: false,
        ...CONTROL_PLANE_RULES_OFF,
      },
      appNamespacesOperator: '!~',
      appNamespacesTarget: appNamespacesRegex(ctx.appNamespaces),
      disabled: { Watchdog: true, TargetDown: true, InfoInhibitor: true },
    },
    nodeExporter: { enabled: false },
    ...CONTROL_PLANE_SCRAPING_OFF,
    prometheusOperator: { resources: requests('50m', '128Mi') },
    prometheus: {
      prometheusSpec: {
        serviceMonitorSelectorNilUsesHelmValues: false,
        serviceMonitorNamespaceSelector: everything,
        podMonitorSelectorNilUsesHelmValues: false,
        podMonitorNamespaceSelector: everything,
        ruleSelectorNilUsesHelmValues: false,
        ruleNamespaceSelector: everything,
        probeSelectorNilUsesHelmValues: false,
        probeNamespaceSelector: everything,
        scrapeConfigSelectorNilUsesHelmValues: false,
        scrapeConfigNamespaceSelector: everything,
        retention,
        retentionSize,
        storageSpec: {
          volumeClaimTemplate: {
            spec: {
              ...(storage.storageClass === undefined ? {} : { storageClassName: storage.storageClass }),
              accessModes: ['ReadWriteOnce'],
              resources: { requests: { storage: storage.size } },
            },
          },
        },
        resources: requests('250m', '1Gi'),
      },
    },
    alertmanager: {
      enabled: true,
      config: alertmanagerConfig(ctx.alerting),
      alertmanagerSpec: {
        alertmanagerConfigSelector: everything,
        alertmanagerConfigNamespaceSelector: everything,
        resources: requests('10m', '64Mi'),
        ...(secretMount ?? {}),
      },
    },
    grafana: {
      enabled: true,
      sidecar: {
        dashboards: {
          enabled: true, searchNamespace: 'ALL',
          ...(auditorsOrg === undefined ? {} : { folder: GRAFANA_DASHBOARDS_DIR, defaultFolderName: MAIN_ORG_DASHBOARDS_SUBDIR }),
        },
      },
      // The monitoring stack's volumes share Prometheus' storage class.
      persistence: {
        enabled: true, type: 'pvc', size: GRAFANA_STORAGE_SIZE,
        ...(storage.storageClass === undefined ? {} : { storageClassName: storage.storageClass }),
      },
      deploymentStrategy: { type: 'Recreate' },
      initChownData: { enabled: false },
      additionalDataSources: lokiDataSources(ctx),
      ...(auditorsOrg === undefined ? {} : {
        dashboardProviders: { [AUDITORS_DASHBOARD_PROVIDER]: { apiVersion: 1, providers: [auditorsDashboards(auditorsOrg)] } },
      }),
    },
  };
}

/**
 * A Loki data source per tenant, through Loki's gateway, the tenant in `X-Scope-OrgID`: the
 * application logs' in the main organization; the audit stream's only in the auditors'
 * organization (`logging.audit.grafanaOrgId`), and without one nowhere. Grafana OSS has no
 * permissions per data source: a data source is visible to every member of its organization, so an
 * organization that only auditors belong to is what keeps the audit trail theirs. Grafana refuses to
 * start when a provisioned data source names an organization that does not exist
 * (grafana/grafana#28877): the organization is created in Grafana first, then its id configured.
 * The organization lives in Grafana's database, which must outlive the pod (the grafana subchart
 * keeps it on an emptyDir unless persistence or an external database is configured): otherwise the
 * next restart finds no such organization and Grafana does not start.
 */
export function lokiDataSources(ctx: PlatformValuesContext): LokiDataSource[] {
  const url = `http://${serviceHost(LOKI_GATEWAY_SERVICE, PLATFORM_RELEASES.loki.namespace, ctx.clusterDomain)}:${LOKI_GATEWAY_PORT}`;
  const dataSource = (tenant: LokiTenant, orgId: number): LokiDataSource => ({
    name: `Loki ${tenant}`,
    type: 'loki',
    uid: LOKI_DATASOURCE_UIDS[tenant],
    orgId,
    access: 'proxy',
    url,
    editable: false,
    jsonData: { httpHeaderName1: TENANT_HEADER },
    secureJsonData: { httpHeaderValue1: tenant },
  });
  const auditorsOrg = ctx.logging.audit?.grafanaOrgId;
  if (auditorsOrg === GRAFANA_MAIN_ORG_ID) throw new Error('logging.audit.grafanaOrgId: the main organization is everyone\'s, not the auditors\'');
  return [
    dataSource(LOKI_TENANTS.application, GRAFANA_MAIN_ORG_ID),
    ...(auditorsOrg === undefined ? [] : [dataSource(LOKI_TENANTS.audit, auditorsOrg)]),
  ];
}

/** The auditors' dashboards (charts/logging/logs-dashboard.ts), read into their organization. */
function auditorsDashboards(orgId: number): DashboardProvider {
  return {
    name: 'auditors', orgId, folder: 'Audit trail', type: 'file', disableDeletion: false, allowUiUpdates: false,
    options: { path: AUDIT_DASHBOARDS_DIR, foldersFromFilesStructure: false },
  };
}

/**
 * The namespaces as one regular expression: namespace names are DNS labels (lowercase letters,
 * digits and '-'), with no character a regular expression treats specially, so each stands for itself.
 */
export function appNamespacesRegex(namespaces: readonly string[]): string {
  if (namespaces.length === 0) throw new Error('kube-prometheus-stack: no application namespace to leave out of the default rules');
  for (const ns of namespaces) {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns)) throw new Error(`kube-prometheus-stack: "${ns}" is not a namespace name`);
  }
  return namespaces.join('|');
}
