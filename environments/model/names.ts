/**
 * Names other parts agree on, derived once from the configuration: the data tier creates objects
 * under these names, and the application and the network policies refer to them. Changing a name
 * here changes both sides together.
 */
import type { INetworkPolicyPeer } from 'kubernetes-models/networking.k8s.io/v1';
import type { Environment } from '../schema';
import { appIdentity, selectorLabels } from './identity';
import { SENTINEL_PORT } from './network';

/** A Kubernetes label selector (the type kubernetes-models gives every selector field). */
export type LabelSelector = NonNullable<INetworkPolicyPeer['podSelector']>;

export const REDIS_REPLICAS = 3;

export interface PostgresEndpoints {
  /** CloudNativePG Cluster name; the operator names its Services `<cluster>-rw|-ro|-r`. */
  readonly cluster: string;
  /** PgBouncer Pooler the application connects through (its Service has the same name). */
  readonly pooler: string;
  /**
   * The operator's read-write Service (`<cluster>-rw`), always the current primary: what the
   * migrations connect to, since session-level features (Flyway's advisory lock, its session
   * settings) do not survive PgBouncer's transaction pooling.
   */
  readonly primaryService: string;
  readonly database: string;
  /** Secret the operator creates for the owner role (keys: username, password, uri, jdbc-uri …). */
  readonly appSecret: string;
  /** Secret of the CA the operator signs the server certificates with (key ca.crt), for verify-full. */
  readonly caSecret: string;
  /** The cluster's instance pods and its Job pods (instancePodSelector): what its NetworkPolicy selects. */
  readonly instancePodSelector: LabelSelector;
  /** The cluster's instance pods only (instancePodLabels): what spreads over zones and is scraped. */
  readonly instancePodLabels: Record<string, string>;
  readonly poolerPodLabels: Record<string, string>;
  /**
   * Barman Cloud plugin ObjectStore the cluster archives WAL and base backups to. The
   * application's, not the cluster's: a recovered cluster archives to the same store.
   */
  readonly objectStore: string;
  /** `s3://<bucket>/postgresql`: Barman adds the server name (the cluster's) below it. */
  readonly barmanDestinationPath: string;
}

export interface RedisEndpoints {
  /** StatefulSet name; pods are `<name>-0` … `<name>-2`. */
  readonly name: string;
  /** Headless Service giving each member a stable DNS name. */
  readonly headlessService: string;
  /** Sentinel master set name the clients ask for. */
  readonly masterSet: string;
  /** Stable DNS name of every member (its pod under the headless Service), in ordinal order. */
  readonly memberHosts: readonly string[];
  /** `host:port` of every Sentinel, for Sentinel-aware clients. */
  readonly sentinels: readonly string[];
  /** Secret (synced by External Secrets) with the `password` key. */
  readonly passwordSecret: string;
  readonly podLabels: Record<string, string>;
}

export interface UploadsEndpoints {
  /** PersistentVolumeClaim of uploaded files. */
  readonly claim: string;
  /** Where the services that use it see it. */
  readonly mountPath: string;
}

/** The logical backups: present with PostgreSQL or uploaded files, each job only for what exists. */
export interface BackupEndpoints {
  /** Secret (synced by External Secrets) with ACCESS_KEY_ID and ACCESS_SECRET_KEY for the bucket. */
  readonly objectStorageSecret: string;
  /** Secret (synced by External Secrets) with RESTIC_PASSWORD, the key of the restic repositories. */
  readonly resticSecret: string;
  /** restic repository of logical database dumps, and the CronJob that writes it (with PostgreSQL). */
  readonly database?: { readonly repository: string; readonly job: string };
  /** restic repository of uploaded files, and the CronJob that writes it (with uploads). */
  readonly uploads?: { readonly repository: string; readonly job: string };
  /** The restore test's CronJob. */
  readonly verifyJob: string;
  /** ConfigMap of the scripts the jobs run. */
  readonly scriptsConfigMap: string;
}

export interface DataEndpoints {
  readonly postgres?: PostgresEndpoints;
  readonly redis?: RedisEndpoints;
  readonly uploads?: UploadsEndpoints;
  readonly backups?: BackupEndpoints;
}

/** Properties of the object-storage entry in the secret manager (and keys of the synced Secret). */
export const OBJECT_STORAGE_KEYS = { accessKeyId: 'ACCESS_KEY_ID', secretAccessKey: 'ACCESS_SECRET_KEY' } as const;

/** Key of the object storage region in the credentials Secret (from objectStorage.region, not the secret manager). */
export const OBJECT_STORAGE_REGION_KEY = 'REGION';

/** Keys of this environment's entries in the secret manager, below externalSecrets.keyPrefix. */
export function secretManagerKey(env: Environment, entry: 'redis' | 'object-storage' | 'restic'): string {
  return `${requiredSection(env, 'externalSecrets').keyPrefix}/${entry}`;
}

/**
 * A section the schema requires whenever a data component needs it (EnvironmentSchema refuses a
 * configuration without): its absence here is a bug of the validation, not of the input.
 */
export function requiredSection<K extends 'objectStorage' | 'externalSecrets' | 'backups'>(env: Environment, key: K): NonNullable<Environment[K]> {
  const section = env[key];
  if (section === undefined) throw new Error(`${env.name}: ${key} is missing although a data component needs it`);
  return section as NonNullable<Environment[K]>;
}

/**
 * A cluster's instance pods and its initdb/join Job pods (which stream from the primary), by the
 * labels the operator sets. Not its PgBouncer pods: CloudNativePG labels those `cnpg.io/cluster`
 * too (since 1.22), with `cnpg.io/podRole: pooler`; Job pods have no podRole.
 */
export function instancePodSelector(cluster: string): LabelSelector {
  return {
    matchLabels: { 'cnpg.io/cluster': cluster },
    matchExpressions: [{ key: 'cnpg.io/podRole', operator: 'NotIn', values: ['pooler'] }],
  };
}

/**
 * A cluster's instance pods only, by the labels the operator sets on them (cloudnative-pg
 * pkg/utils/labels_annotations.go: PodRoleInstance).
 */
export function instancePodLabels(cluster: string): Record<string, string> {
  return { 'cnpg.io/cluster': cluster, 'cnpg.io/podRole': 'instance' };
}

/** Labels CloudNativePG puts on the pods of a Pooler. */
export function poolerPodLabels(pooler: string): Record<string, string> {
  return { 'cnpg.io/poolerName': pooler };
}

/** The name of the cluster that serves the application: the configured one, or `<app>-db`. */
export function clusterName(env: Environment): string {
  return env.data.postgres?.name ?? `${env.app.name}-db`;
}

/** Every name the data tier publishes, for one environment: only for the components it has. */
export function dataEndpoints(env: Environment): DataEndpoints {
  const { postgres: pg, redis: r, uploads: u } = env.data;
  const bucket = () => requiredSection(env, 'objectStorage');
  const repository = (kind: string) => `s3:${bucket().endpointURL.replace(/\/$/, '')}/${bucket().bucket}/restic/${kind}`;
  let postgres: PostgresEndpoints | undefined;
  if (pg) {
    const cluster = clusterName(env);
    const pooler = `${cluster}-pooler`;
    postgres = {
      cluster,
      pooler,
      primaryService: `${cluster}-rw`,
      database: pg.database,
      appSecret: `${cluster}-app`,
      caSecret: `${cluster}-ca`,
      instancePodSelector: instancePodSelector(cluster),
      instancePodLabels: instancePodLabels(cluster),
      poolerPodLabels: poolerPodLabels(pooler),
      objectStore: `${env.app.name}-db-backups`,
      barmanDestinationPath: `s3://${bucket().bucket}/postgresql`,
    };
  }
  let redis: RedisEndpoints | undefined;
  if (r) {
    const name = `${env.app.name}-redis`;
    const headless = `${name}-headless`;
    const memberHosts = Array.from({ length: REDIS_REPLICAS }, (_, i) => `${name}-${i}.${headless}.${env.app.namespace}.svc.${env.clusterDomain}`);
    redis = {
      name,
      headlessService: headless,
      masterSet: env.app.name,
      memberHosts,
      sentinels: memberHosts.map((host) => `${host}:${SENTINEL_PORT}`),
      passwordSecret: `${name}-auth`,
      podLabels: selectorLabels(appIdentity(env), 'redis'),
    };
  }
  const uploads = u ? { claim: `${env.app.name}-uploads`, mountPath: u.mountPath } : undefined;
  const backups: BackupEndpoints | undefined = pg || u ? {
    objectStorageSecret: `${env.app.name}-object-storage`,
    resticSecret: `${env.app.name}-restic`,
    // Fixed, short names: a CronJob name may have at most 52 characters, whatever app.name is.
    database: pg ? { repository: repository('database'), job: 'backup-database' } : undefined,
    uploads: u ? { repository: repository('uploads'), job: 'backup-files' } : undefined,
    verifyJob: 'backup-verify',
    scriptsConfigMap: 'backup-scripts',
  } : undefined;
  return { postgres, redis, uploads, backups };
}

/** Names of the fixed objects beside the services (NetworkPolicies, the redirect route, the smoke test). */
export const FIXED_NAMES = {
  defaultDeny: 'default-deny',
  allowDns: 'allow-dns',
  allowAcmeSolver: 'allow-acme-http01-solver',
  httpsRedirect: 'https-redirect',
  /** The PostSync smoke test: its Job, ServiceAccount, ConfigMap, NetworkPolicy and pods' `app.kubernetes.io/name`. */
  smokeTest: 'smoke-test',
  /** The staging load test (a PostSync hook after the smoke test): its Job, ServiceAccount, ConfigMap, NetworkPolicy and pods' name. */
  loadTest: 'load-test',
  /** The PodMonitor of the environment's Gateway proxies (charts/observability). */
  gatewayProxyMonitor: 'gateway-proxy',
  /**
   * The uptime checks' blackbox exporter (charts/observability/blackbox-exporter.ts): the ConfigMap,
   * ServiceAccount and NetworkPolicy its probers share (UPTIME_PROBERS).
   */
  blackboxExporter: 'blackbox-exporter',
} as const;

/**
 * The uptime checks' probers, each a Deployment of one blackbox exporter pod with a Service of its
 * own, by which its Probes reach it: the pods' `app.kubernetes.io/name` and the series' `prober`.
 */
export const UPTIME_PROBERS = [`${FIXED_NAMES.blackboxExporter}-0`, `${FIXED_NAMES.blackboxExporter}-1`] as const;

/** Object names the data tier and the fixed objects take, which no service may also use. */
export function reservedNames(env: Environment): string[] {
  const { postgres, redis, uploads, backups } = dataEndpoints(env);
  return [
    ...(postgres ? [postgres.cluster, postgres.pooler, postgres.objectStore, 'postgresql'] : []),
    ...(redis ? [redis.name, redis.headlessService, 'redis'] : []),
    ...(uploads ? [uploads.claim] : []),
    ...(backups ? [backups.objectStorageSecret, backups.resticSecret, backups.verifyJob, backups.scriptsConfigMap,
      ...[backups.database, backups.uploads].flatMap((b) => (b ? [b.job] : []))] : []),
    ...Object.values(FIXED_NAMES),
    ...UPTIME_PROBERS,
  ];
}

/**
 * The database migration of a service: its Job, the Job's ServiceAccount and NetworkPolicy, and the
 * `app.kubernetes.io/name` of its pods.
 */
export function migrationJobName(service: string): string {
  return `${service}-migrate`;
}

/** Volume name for a writable path: `/app/.next/cache` → `scratch-app-next-cache`. */
export function scratchVolumeName(path: string): string {
  const slug = path.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  return `scratch-${slug || 'root'}`.slice(0, 63).replace(/-$/, '');
}

/** Gateway of the environment; one per application namespace. */
export function gatewayName(env: Environment): string {
  return env.app.name;
}

/** Secret cert-manager writes a host's certificate into. */
export function tlsSecretName(hostname: string): string {
  return `${hostname.replaceAll('.', '-')}-tls`;
}

/** Gateway listener of one host. */
export function httpsListenerName(hostname: string): string {
  return `https-${hostname.replaceAll('.', '-')}`;
}

/** The application's PriorityClasses (cluster-scoped: named after the application). */
export interface PriorityClassNames {
  /** Services, PostgreSQL, PgBouncer, Redis. */
  readonly serving: string;
  /** Backups and restore tests. */
  readonly batch: string;
}

export function priorityClassNames(env: Environment): PriorityClassNames {
  return { serving: `${env.app.name}-serving`, batch: `${env.app.name}-batch` };
}
