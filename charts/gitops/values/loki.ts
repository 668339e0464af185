/**
 * Values of the loki chart (grafana-community 18.11.0, Loki 3.7.6). Monolithic (single binary), the
 * mode values.yaml recommends up to a few tens of GB a day (Simple Scalable goes away in Loki 4).
 *
 * - Chunks and the TSDB index (schema v13, 24h index period) in the environment's objectStorage,
 *   under a prefix of their own beside the backups, read with the credentials of the Secret
 *   LOKI_STORAGE_SECRET (synced by External Secrets: charts/gitops/loki-storage-secret.ts), never
 *   written into the values: Loki expands `${VAR}` in its configuration from its environment.
 *   Three replicas, each stream written to all three: one pod or node may go.
 * - Without objectStorage (outside production only: environments/rules.ts) one replica keeps them on
 *   its volume: the chart runs no more without object storage (templates/validate.yaml).
 * - Authentication on, one tenant per kind of log (LOKI_TENANTS): the collector says which with
 *   `X-Scope-OrgID`, and Grafana reads each through a data source of its own.
 * - Retention per tenant from `logging.retention`, enforced by the compactor.
 * - The ruler evaluates the LogQL alerts shipped as ConfigMaps in Loki's own namespace (the audit
 *   trail's: charts/logging/audit-alerts.ts, made by the gitops chart), loaded by the chart's rules
 *   sidecar into local rule storage, and sends what fires to Alertmanager, where it is routed like
 *   every other alert.
 */
import { OBJECT_STORAGE_KEYS } from '../../../environments/model/names';
import { parseDuration } from '../../../environments/quantity';
import { LOKI_TENANTS, logTypesOf, type LokiTenant } from '../../logging/log-streams';
import { streamSelector } from '../../logging/logql';
import { ALERT_EVALUATION_INTERVAL } from '../../observability/alert-rules';
import { PLATFORM_RELEASES } from '../platform-releases';
import type { PlatformValuesContext } from './context';
import { alertmanagerURL } from './falcosidekick';

/** The release's fullname, pinned so that the log collector can name its gateway Service. */
export const LOKI_NAME = 'loki';

/** The gateway's Service (templates/gateway/service.yaml: `<fullname>-gateway`). */
export const LOKI_GATEWAY_SERVICE = `${LOKI_NAME}-gateway`;

/** The gateway Service's port: `gateway.service.port` in the chart's values.yaml. */
export const LOKI_GATEWAY_PORT = 80;

// The tenants are part of the one definition of where each kind of log goes.
export { LOKI_TENANTS, type LokiTenant } from '../../logging/log-streams';

/** The Secret in Loki's namespace with the bucket's credentials (keys: OBJECT_STORAGE_KEYS). */
export const LOKI_STORAGE_SECRET = 'loki-object-storage';

/**
 * Prefix of every object Loki writes to the bucket, beside the backups' `postgresql/` and `restic/`.
 * Loki's storage_prefix may hold only letters and digits.
 */
export const LOKI_STORAGE_PREFIX = 'loki';

/** Variables the bucket's credentials reach Loki in, expanded into its configuration (`-config.expand-env`). */
export const LOKI_CREDENTIAL_ENV = { accessKeyId: 'LOKI_S3_ACCESS_KEY_ID', secretAccessKey: 'LOKI_S3_SECRET_ACCESS_KEY' } as const;

/**
 * The chart's rules sidecar (kiwigrid/k8s-sidecar 2.10.1, in every single-binary pod: the chart's
 * templates/_pod.tpl `loki.rulesSidecar` at loki-18.11.0): it watches the ConfigMaps that carry
 * `label` in the namespaces `sidecar.rules.searchNamespace` names and writes each of their keys as a
 * file into `folder`, or into the folder their `folderAnnotation` names, relative to `folder`
 * (src/resources.py `_get_destination_folder`). The ruler reads `folder` as its local rule storage,
 * `<folder>/<tenant>/<file>`, and evaluates each file's rules as that tenant (grafana/loki v3.7.6
 * pkg/ruler/rulestore/local/local.go: every directory is a tenant, every file in it a rule
 * namespace). So a ConfigMap annotated with a tenant's name holds rules on that tenant's logs.
 */
export const LOKI_RULES_SIDECAR = {
  /** `sidecar.rules.label`, the chart's default. */
  label: 'loki_rule',
  /**
   * `sidecar.rules.labelValue`: the chart's default is empty, and the sidecar then selects on the
   * label alone, any value (src/resources.py `list_resources`); written out so that only this one is.
   */
  labelValue: '1',
  /** `sidecar.rules.folder`, the chart's default: an emptyDir the sidecar and Loki's container both mount there. */
  folder: '/rules',
  /**
   * The annotation naming a ConfigMap's folder: k8s-sidecar's own default (src/sidecar.py), which
   * the chart leaves to it while `sidecar.rules.folderAnnotation` is null; written out.
   */
  folderAnnotation: 'k8s-sidecar-target-directory',
} as const;

/** Loki's gateway: two, so that a node's drain stops neither pushes nor searches. */
export const LOKI_GATEWAY_REPLICAS = 2;

/** Single binaries with object storage: each stream is written to all of them, and a write needs two. */
export const LOKI_REPLICAS = 3;

/** A configured duration (`720h`, whole days) as Loki's retention takes it: whole hours. */
export function lokiRetention(duration: string): string {
  return `${parseDuration(duration) / 3600}h`;
}

type ObjectStore = 's3' | 'filesystem';

/** One period of Loki's schema: where chunks and the TSDB index of a time range live. */
export interface LokiSchemaPeriod {
  /** First day of the period. Never change it once logs are written: it addresses stored data. */
  readonly from: string;
  readonly store: 'tsdb';
  readonly object_store: ObjectStore;
  readonly schema: 'v13';
  readonly index: { readonly prefix: string; readonly period: '24h' };
}

/** Object storage through Loki's Thanos clients, the only ones with a storage_prefix in this chart. */
export interface LokiObjectStorage {
  /** The chart's object-storage switch (templates/_helpers.tpl `loki.isUsingObjectStorage`). */
  readonly type: 's3';
  readonly use_thanos_objstore: true;
  /** Read by templates/_helpers.tpl (`loki.storage.bucketNames.chunks`, `.ruler`); a comment in values.yaml. */
  readonly bucketNames: { readonly chunks: string; readonly ruler: string };
  readonly object_store: {
    readonly type: 's3';
    readonly storage_prefix: string;
    readonly s3: {
      /** host[:port], without scheme: https unless `insecure`. */
      readonly endpoint: string;
      readonly region: string;
      /** `${VAR}` references, expanded by Loki from its environment: never the keys themselves. */
      readonly access_key_id: string;
      readonly secret_access_key: string;
      readonly insecure: false;
    };
  };
}

/**
 * One tenant's retention: its own period, and each of its log types' (`retention_stream`, which
 * the compactor applies per stream, the highest priority first) so that a stream's retention is
 * written beside the kind of log it is. Loki's limits (pkg/validation/limits.go, `StreamRetention`).
 */
export interface LokiTenantLimits {
  readonly retention_period: string;
  /**
   * The longest time range one query may cover: all of the tenant's retention, so that an auditor
   * can ask who read a record over the whole trail (Loki's default, 721h, is a month).
   */
  readonly max_query_length: string;
  readonly retention_stream: readonly { readonly selector: string; readonly priority: number; readonly period: string }[];
}

/**
 * The ruler (Loki's `ruler` block, pkg/ruler/base/ruler.go at v3.7.6). Free-form upstream (its
 * values.yaml gives only the WAL's directory, which Helm keeps beside these).
 */
export interface LokiRulerConfig {
  /**
   * The rule files the sidecar writes (LOKI_RULES_SIDECAR.folder). The chart's `loki.rulerStorageConfig`
   * renders `type: local` when this says so, the legacy `ruler.storage` Loki reads without object
   * storage; with object storage Loki reads `ruler_storage` instead (`structuredConfig` below).
   */
  readonly storage: { readonly type: 'local'; readonly local: { readonly directory: string } };
  /** Alertmanager's Service: alerts are posted to its API v2 (`enable_alertmanager_v2`, true by default). */
  readonly alertmanager_url: string;
  /**
   * The rules API (`/prometheus/api/v1/rules` and `/alerts`, read through the gateway with the
   * tenant's `X-Scope-OrgID`): what the runbooks and Grafana read the rules' state from. Local
   * storage makes it read-only: rules change only through git.
   */
  readonly enable_api: true;
  /**
   * With several replicas, each rule group is evaluated by one of them (the ruler's ring, on the
   * memberlist the chart configures), not by every replica once more.
   */
  readonly enable_sharding: boolean;
  /** Of the groups that name no interval of their own: the Prometheus rules' (ALERT_EVALUATION_INTERVAL). */
  readonly evaluation_interval: string;
}

/**
 * Thanos object-storage clients (`use_thanos_objstore`) make Loki read its rules from `ruler_storage`
 * and ignore `ruler.storage` (pkg/loki/modules.go `initRulerStorage` at v3.7.6), and the chart
 * renders `ruler_storage` with the bucket whenever the ruler is on (values.yaml's config template,
 * `loki.rulerThanosStorageConfig`). `loki.structuredConfig` is merged over the rendered
 * configuration (templates/_helpers.tpl `loki.calculatedConfig`): backend `local` makes the ruler
 * read the sidecar's folder (pkg/ruler/base/storage.go `NewRuleStore`; the bucket's keys beside it
 * are left unused).
 */
export interface LokiStructuredConfig {
  readonly ruler_storage?: { readonly backend: 'local'; readonly local: { readonly directory: string } };
}

interface LokiEnv {
  readonly name: string;
  readonly valueFrom: { readonly secretKeyRef: { readonly name: string; readonly key: string } };
}

export interface LokiValues {
  readonly fullnameOverride: string;
  readonly deploymentMode: 'Monolithic';
  /** The cluster's DNS domain, in the memberlist join address and the gateway's upstreams. */
  readonly global: { readonly clusterDomain: string };
  readonly loki: {
    /** Multi-tenant: every push and query names its tenant (LOKI_TENANTS) in `X-Scope-OrgID`. */
    readonly auth_enabled: true;
    /** Copies of each stream: every replica's. */
    readonly commonConfig: { readonly replication_factor: number };
    readonly storage: LokiObjectStorage | { readonly type: 'filesystem' };
    /** Required: the chart fails without one (templates/validate.yaml). Free-form upstream (`{}`). */
    readonly schemaConfig: { readonly configs: readonly LokiSchemaPeriod[] };
    /**
     * The compactor deletes what is older than each tenant's retention. Loki 3 refuses retention
     * without a store for delete requests. Free-form upstream (`compactor: {}`).
     */
    readonly compactor: { readonly retention_enabled: true; readonly delete_request_store: ObjectStore };
    /**
     * Free-form upstream. The default retention: a tenant without an override gets the application
     * logs'. `discover_service_name` empty: Loki 3 would otherwise add a `service_name` label to
     * every stream (from `app`, among others), a label the collector does not set
     * (charts/logging/log-streams.ts is the one list of labels).
     */
    readonly limits_config: {
      readonly retention_period: string;
      readonly discover_service_name: readonly string[];
      /**
       * No delete API, in any tenant. Loki's default (`filter-and-delete`, on whenever retention is)
       * would let anyone who reaches the gateway or Loki's port, naming the audit tenant, delete
       * audit records (pkg/validation/limits.go `deletion_mode`; the chart's gateway passes
       * /loki/api/v1/delete on to the compactor). Logs go only by retention.
       */
      readonly deletion_mode: 'disabled';
    };
    /** Per-tenant limits (templates/runtime-configmap.yaml, Loki's runtime_config). Free-form upstream (`{}`). */
    readonly runtimeConfig: { readonly overrides: Readonly<Record<LokiTenant, LokiTenantLimits>> };
    /** No usage reports to grafana.com from inside the cluster. Free-form upstream (`analytics: {}`). */
    readonly analytics: { readonly reporting_enabled: boolean };
    readonly rulerConfig: LokiRulerConfig;
    /** Free-form upstream (`{}`). */
    readonly structuredConfig: LokiStructuredConfig;
  };
  readonly singleBinary: {
    readonly replicas: number;
    readonly resources: { readonly requests: { readonly cpu: string; readonly memory: string }; readonly limits: { readonly memory: string } };
    /** With object storage: `${VAR}` in the configuration expanded from the environment. */
    readonly extraArgs: readonly string[];
    readonly extraEnv: readonly LokiEnv[];
    /**
     * One replica at a time may be evicted: two of three still take every write. Without a bound
     * the chart renders no budget at all (templates/_pdb.tpl renders one only with a bound).
     */
    readonly podDisruptionBudget: { readonly enabled: boolean; readonly maxUnavailable: number | null };
  };
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
  /**
   * The gateway (nginx) every push and query goes through: two replicas, on two nodes (the chart's
   * hard anti-affinity), one of which may be evicted at a time. With the chart's one replica a node
   * drain would stop both the collector's pushes and every search.
   */
  readonly gateway: {
    readonly replicas: number;
    readonly podDisruptionBudget: { readonly enabled: true; readonly maxUnavailable: number };
    readonly resources: { readonly requests: { readonly cpu: string; readonly memory: string }; readonly limits: { readonly memory: string } };
  };
  readonly lokiCanary: { readonly enabled: boolean };
  readonly test: { readonly enabled: boolean };
  readonly monitoring: { readonly serviceMonitor: { readonly enabled: boolean } };
  /**
   * RBAC in Loki's namespace only. The chart's default (`namespaced: false`) renders a ClusterRole
   * granting get, list and watch of ConfigMaps and Secrets in every namespace to the ServiceAccount
   * Loki runs as (templates/backend/clusterrole.yaml, clusterrolebinding.yaml at loki-18.11.0): every
   * Secret of the cluster readable from a Loki pod. Namespaced, it renders neither; instead a Role
   * `loki` in Loki's namespace with the same rule (templates/role.yaml: when `rbac.namespaced` and
   * `sidecar.rules.enabled`, both true here) and a RoleBinding of it to the single binary's
   * ServiceAccount (templates/rolebinding.yaml: its subject is `loki.serviceAccountName` with the
   * root values, as templates/_pod.tpl names the single binary's `serviceAccountName`). That is what
   * the rules sidecar needs to list and watch the ConfigMaps of the one namespace it reads; the
   * Secrets it also grants are those of Loki's namespace, its bucket's credentials among them, which
   * Loki reads anyway.
   */
  readonly rbac: { readonly namespaced: true };
  /**
   * The rules sidecar (LOKI_RULES_SIDECAR) reads Loki's own namespace only, where the rules
   * ConfigMaps are made from argocd/<env>/ (charts/gitops/gitops-chart.ts): a ConfigMap with the
   * label elsewhere, in an application's namespace that others deploy into, adds no rule to any
   * tenant. k8s-sidecar 2.10.1 lists and watches per namespace named (src/sidecar.py: `NAMESPACE`
   * split on commas, `list_namespaced_config_map` for each, src/resources.py), which the Role
   * allows. Only ConfigMaps are read: rules are no secret.
   */
  readonly sidecar: {
    readonly rules: {
      readonly label: string;
      readonly labelValue: string;
      readonly folder: string;
      readonly folderAnnotation: string;
      /** Comma-separated (the chart's schema: a string; its template joins a list the same way): Loki's namespace alone. */
      readonly searchNamespace: string;
      readonly resource: 'configmap';
    };
  };
}

/** The bucket through the Thanos S3 client, its credentials as `${VAR}` references. */
function objectStorage(bucket: NonNullable<PlatformValuesContext['logging']['objectStorage']>): LokiObjectStorage {
  return {
    type: 's3',
    use_thanos_objstore: true,
    // The ruler's rules are Loki's too: under the same prefix.
    bucketNames: { chunks: bucket.bucket, ruler: bucket.bucket },
    object_store: {
      type: 's3',
      storage_prefix: LOKI_STORAGE_PREFIX,
      s3: {
        // URL.host drops the default port 443, as the endpoint is written without it.
        endpoint: new URL(bucket.endpointURL).host,
        region: bucket.region,
        access_key_id: `\${${LOKI_CREDENTIAL_ENV.accessKeyId}}`,
        secret_access_key: `\${${LOKI_CREDENTIAL_ENV.secretAccessKey}}`,
        insecure: false,
      },
    },
  };
}

/** Each tenant's retention, and its log types' (charts/logging/log-streams.ts), from `logging.retention`. */
export function tenantLimits(retention: PlatformValuesContext['logging']['retention']): Record<LokiTenant, LokiTenantLimits> {
  const limits = (tenant: LokiTenant): LokiTenantLimits => {
    const period = lokiRetention(retention[tenant]);
    return {
      retention_period: period,
      max_query_length: period,
      retention_stream: logTypesOf(tenant).map((type) => ({ selector: streamSelector({ logType: type }), priority: 1, period })),
    };
  };
  return { [LOKI_TENANTS.application]: limits(LOKI_TENANTS.application), [LOKI_TENANTS.audit]: limits(LOKI_TENANTS.audit) };
}

export function lokiValues(ctx: PlatformValuesContext): LokiValues {
  const { retention, objectStorage: bucket } = ctx.logging;
  const store: ObjectStore = bucket ? 's3' : 'filesystem';
  const replicas = bucket ? LOKI_REPLICAS : 1;
  const fromSecret = (name: string, key: string): LokiEnv => ({ name, valueFrom: { secretKeyRef: { name: LOKI_STORAGE_SECRET, key } } });
  return {
    fullnameOverride: LOKI_NAME,
    deploymentMode: 'Monolithic',
    global: { clusterDomain: ctx.clusterDomain },
    loki: {
      auth_enabled: true,
      commonConfig: { replication_factor: replicas },
      storage: bucket ? objectStorage(bucket) : { type: 'filesystem' },
      schemaConfig: {
        configs: [{ from: '2024-04-01', store: 'tsdb', object_store: store, schema: 'v13', index: { prefix: 'index_', period: '24h' } }],
      },
      compactor: { retention_enabled: true, delete_request_store: store },
      limits_config: { retention_period: lokiRetention(retention.application), discover_service_name: [], deletion_mode: 'disabled' },
      runtimeConfig: { overrides: tenantLimits(retention) },
      analytics: { reporting_enabled: false },
      rulerConfig: {
        storage: { type: 'local', local: { directory: LOKI_RULES_SIDECAR.folder } },
        alertmanager_url: alertmanagerURL(ctx),
        enable_api: true,
        enable_sharding: replicas > 1,
        evaluation_interval: ALERT_EVALUATION_INTERVAL,
      },
      structuredConfig: bucket ? { ruler_storage: { backend: 'local', local: { directory: LOKI_RULES_SIDECAR.folder } } } : {},
    },
    singleBinary: {
      replicas,
      // The chart sets GOMEMLIMIT to 85 % of the memory limit: Go collects before the kernel kills.
      resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '2Gi' } },
      extraArgs: bucket ? ['-config.expand-env=true'] : [],
      extraEnv: bucket ? [
        fromSecret(LOKI_CREDENTIAL_ENV.accessKeyId, OBJECT_STORAGE_KEYS.accessKeyId),
        fromSecret(LOKI_CREDENTIAL_ENV.secretAccessKey, OBJECT_STORAGE_KEYS.secretAccessKey),
      ] : [],
      podDisruptionBudget: bucket ? { enabled: true, maxUnavailable: 1 } : { enabled: false, maxUnavailable: null },
    },
    backend: { replicas: 0 },
    read: { replicas: 0 },
    write: { replicas: 0 },
    chunksCache: { enabled: false },
    resultsCache: { enabled: false },
    gateway: {
      replicas: LOKI_GATEWAY_REPLICAS,
      podDisruptionBudget: { enabled: true, maxUnavailable: 1 },
      resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
    },
    lokiCanary: { enabled: false },
    test: { enabled: false },
    monitoring: { serviceMonitor: { enabled: true } },
    rbac: { namespaced: true },
    sidecar: {
      rules: {
        label: LOKI_RULES_SIDECAR.label,
        labelValue: LOKI_RULES_SIDECAR.labelValue,
        folder: LOKI_RULES_SIDECAR.folder,
        folderAnnotation: LOKI_RULES_SIDECAR.folderAnnotation,
        searchNamespace: PLATFORM_RELEASES.loki.namespace,
        resource: 'configmap',
      },
    },
  };
}
