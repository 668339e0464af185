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
  readonly database: string;
  /** Secret the operator creates for the owner role (keys: username, password, uri, jdbc-uri …). */
  readonly appSecret: string;
  /** Secret of the CA the operator signs the server certificates with (key ca.crt), for verify-full. */
  readonly caSecret: string;
  /**
   * The cluster's instance pods and its initdb/join Job pods (which stream from the primary), by
   * the labels the operator sets. Not its PgBouncer pods: CloudNativePG labels those
   * `cnpg.io/cluster` too (since 1.22), with `cnpg.io/podRole: pooler`; Job pods have no podRole.
   */
  readonly instancePodSelector: LabelSelector;
  readonly poolerPodLabels: Record<string, string>;
}

export interface RedisEndpoints {
  /** StatefulSet name; pods are `<name>-0` … `<name>-2`. */
  readonly name: string;
  /** Headless Service giving each member a stable DNS name. */
  readonly headlessService: string;
  /** Sentinel master set name the clients ask for. */
  readonly masterSet: string;
  /** `host:port` of every Sentinel, for Sentinel-aware clients. */
  readonly sentinels: readonly string[];
  /** Secret (synced by External Secrets) with the `password` key. */
  readonly passwordSecret: string;
  readonly podLabels: Record<string, string>;
}

export interface BackupEndpoints {
  /** Barman Cloud plugin ObjectStore the cluster archives WAL and base backups to. */
  readonly objectStore: string;
  /** `s3://<bucket>/postgresql`: Barman adds the server name (the cluster's) below it. */
  readonly barmanDestinationPath: string;
  /** Secret (synced by External Secrets) with ACCESS_KEY_ID and ACCESS_SECRET_KEY for the bucket. */
  readonly objectStorageSecret: string;
  /** Secret (synced by External Secrets) with RESTIC_PASSWORD, the key of both restic repositories. */
  readonly resticSecret: string;
  /** restic repository of logical database dumps. */
  readonly databaseRepository: string;
  /** restic repository of uploaded files. */
  readonly uploadsRepository: string;
  /** CronJobs of the logical backups and the restore test (each with its own ServiceAccount and NetworkPolicy of that name). */
  readonly databaseBackupJob: string;
  readonly filesBackupJob: string;
  readonly verifyJob: string;
  /** ConfigMap of the scripts those jobs run. */
  readonly scriptsConfigMap: string;
}

export interface DataEndpoints {
  readonly postgres: PostgresEndpoints;
  readonly redis: RedisEndpoints;
  /** PersistentVolumeClaim of uploaded files. */
  readonly uploadsClaim: string;
  readonly backups: BackupEndpoints;
}

/** Keys of this environment's entries in the secret manager, below externalSecrets.keyPrefix. */
export function secretManagerKey(env: Environment, entry: 'redis' | 'object-storage' | 'restic'): string {
  return `${env.externalSecrets.keyPrefix}/${entry}`;
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

/** Labels CloudNativePG puts on the pods of a Pooler. */
export function poolerPodLabels(pooler: string): Record<string, string> {
  return { 'cnpg.io/poolerName': pooler };
}

/** Every name the data tier publishes, for one environment. */
export function dataEndpoints(env: Environment): DataEndpoints {
  const cluster = env.data.postgres.name ?? `${env.app.name}-db`;
  const pooler = `${cluster}-pooler`;
  const redis = `${env.app.name}-redis`;
  const headless = `${redis}-headless`;
  const sentinels = Array.from({ length: REDIS_REPLICAS }, (_, i) =>
    `${redis}-${i}.${headless}.${env.app.namespace}.svc.cluster.local:${SENTINEL_PORT}`);
  return {
    postgres: {
      cluster,
      pooler,
      database: env.data.postgres.database,
      appSecret: `${cluster}-app`,
      caSecret: `${cluster}-ca`,
      instancePodSelector: instancePodSelector(cluster),
      poolerPodLabels: poolerPodLabels(pooler),
    },
    redis: {
      name: redis,
      headlessService: headless,
      masterSet: env.app.name,
      sentinels,
      passwordSecret: `${redis}-auth`,
      podLabels: selectorLabels(appIdentity(env), 'redis'),
    },
    uploadsClaim: `${env.app.name}-uploads`,
    backups: {
      // The application's, not the cluster's: a recovered cluster archives to the same store.
      objectStore: `${env.app.name}-db-backups`,
      barmanDestinationPath: `s3://${env.objectStorage.bucket}/postgresql`,
      objectStorageSecret: `${env.app.name}-object-storage`,
      resticSecret: `${env.app.name}-restic`,
      databaseRepository: `s3:${env.objectStorage.endpointURL.replace(/\/$/, '')}/${env.objectStorage.bucket}/restic/database`,
      uploadsRepository: `s3:${env.objectStorage.endpointURL.replace(/\/$/, '')}/${env.objectStorage.bucket}/restic/uploads`,
      // Fixed, short names: a CronJob name may have at most 52 characters, whatever app.name is.
      databaseBackupJob: 'backup-database',
      filesBackupJob: 'backup-files',
      verifyJob: 'backup-verify',
      scriptsConfigMap: 'backup-scripts',
    },
  };
}

/** Names of the fixed objects beside the services (NetworkPolicies, the redirect route). */
export const FIXED_NAMES = {
  defaultDeny: 'default-deny',
  allowDns: 'allow-dns',
  allowAcmeSolver: 'allow-acme-http01-solver',
  httpsRedirect: 'https-redirect',
} as const;

/** Object names the data tier and the fixed objects take, which no service may also use. */
export function reservedNames(env: Environment): string[] {
  const d = dataEndpoints(env);
  return [d.postgres.cluster, d.postgres.pooler, d.redis.name, d.redis.headlessService, d.uploadsClaim, 'redis', 'postgresql',
    d.backups.objectStore, d.backups.objectStorageSecret, d.backups.resticSecret,
    d.backups.databaseBackupJob, d.backups.filesBackupJob, d.backups.verifyJob, d.backups.scriptsConfigMap,
    ...Object.values(FIXED_NAMES)];
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
