/**
 * The CloudNativePG Cluster: PostgreSQL with a synchronous standby, WAL archived continuously to the
 * object store through the Barman Cloud plugin, instances on separate nodes and spread over zones.
 * A cluster recovered to a point in time is the same construct with `recovery` in its configuration
 * (what `npm run restore-plan` plans, and what the environment names once it adopts the cluster),
 * so a restored database is configured exactly like the one it replaces.
 */
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { Construct } from 'constructs';
import type { AppIdentity } from '../../environments/model/identity';
import type { Environment } from '../../environments/schema';
import {
  Cluster,
  ClusterSpecLogLevel,
  ClusterSpecPostgresqlSynchronousDataDurability,
  ClusterSpecPostgresqlSynchronousMethod,
  ClusterSpecPrimaryUpdateMethod,
  ClusterSpecPrimaryUpdateStrategy,
  ClusterSpecResourcesLimits,
  ClusterSpecResourcesRequests,
  type ClusterSpec,
  type ClusterSpecBootstrap,
  type ClusterSpecExternalClusters,
} from '../../imports/postgresql.cnpg.io';
import { POSTGRES_IMAGE } from '../common/images';
import { appMetadata, recommendedLabels } from '../common/labels';
import { ModelObject } from '../common/model-object';
import { NEVER_DELETE } from '../common/sync-waves';
import { postgresParameters } from './postgres-parameters';

/** The configuration of PostgreSQL, defaults applied. */
export type PostgresConfig = NonNullable<Environment['data']['postgres']>;

/** The Barman Cloud plugin's name, as the operator knows it. */
export const BARMAN_PLUGIN = 'barman-cloud.cloudnative-pg.io';

/**
 * What the API server fills in from the defaults of CloudNativePG 1.30's Cluster CRD
 * (config/crd/bases/postgresql.cnpg.io_clusters.yaml), written out so that the stored object is the
 * one Argo CD compares with (test/crd-defaults.test.ts). The defaults inside lists (plugins) and
 * nested objects (storage) are at their place in the spec below.
 */
const CLUSTER_CRD_DEFAULTS = {
  enablePdb: true,
  failoverDelay: 0,
  logLevel: ClusterSpecLogLevel.INFO,
  // 0 and 0: the quorum is `postgresql.synchronous` (the operator refuses both at once above 0).
  minSyncReplicas: 0,
  maxSyncReplicas: 0,
  postgresUid: 26,
  postgresGid: 26,
  replicationSlots: { highAvailability: { enabled: true, slotPrefix: '_cnpg_' }, updateInterval: 30 },
  smartShutdownTimeout: 180,
  startDelay: 3600,
  stopDelay: 1800,
  switchoverDelay: 3600,
} as const satisfies Partial<ClusterSpec>;

export interface PostgresClusterProps {
  /** The application in its environment: namespace and labels. */
  readonly identity: AppIdentity;
  /** Cluster name, which is also its archive path (Barman server name) in the object store. */
  readonly name: string;
  /** Instances, database, sizes and WAL archiving, as configured. */
  readonly config: PostgresConfig;
  /** Barman Cloud ObjectStore the cluster archives to (and a recovery reads from). */
  readonly objectStore: string;
  /**
   * Labels the operator puts on the instance pods (not on its PgBouncer or Job pods, which carry
   * `cnpg.io/cluster` too): what spreads over zones and what Prometheus scrapes.
   */
  readonly instancePodLabels: Record<string, string>;
  /** PriorityClass of the pods. @default none (the cluster's default priority) */
  readonly priorityClassName?: string;
}

export class PostgresCluster extends Construct {
  constructor(scope: Construct, id: string, props: PostgresClusterProps) {
    super(scope, id);
    const { identity, name, config: pg, objectStore, instancePodLabels } = props;
    const recovery = pg.recovery;

    const origin = 'origin';
    const bootstrap: ClusterSpecBootstrap = recovery
      // The owner gets new credentials in the Secret the operator makes for this cluster
      // (<name>-app), which the services read once the environment names this cluster.
      ? { recovery: { source: origin, database: pg.database, owner: pg.owner, recoveryTarget: { targetTime: recovery.targetTime } } }
      : { initdb: { database: pg.database, owner: pg.owner, dataChecksums: true, encoding: 'UTF8' } };
    const externalClusters: ClusterSpecExternalClusters[] | undefined = recovery
      // enabled and isWALArchiver are the CRD's defaults, written out: the API server would add
      // them, and Argo CD would never see the recovered cluster in sync (pipeline/crd-defaults.ts).
      ? [{
        name: origin,
        plugin: { name: BARMAN_PLUGIN, enabled: true, isWalArchiver: false, parameters: { barmanObjectName: objectStore, serverName: recovery.source } },
      }]
      : undefined;

    new Cluster(this, 'Cluster', {
      metadata: { ...appMetadata(identity, { name, labelName: 'postgresql', component: 'database' }), annotations: NEVER_DELETE },
      spec: {
        instances: pg.instances,
        imageName: POSTGRES_IMAGE,
        // Pods, services and volumes the operator creates carry the application's labels too.
        inheritedMetadata: { labels: recommendedLabels(identity, 'postgresql', 'database') },
        enableSuperuserAccess: false,
        ...CLUSTER_CRD_DEFAULTS,
        ...(props.priorityClassName ? { priorityClassName: props.priorityClassName } : {}),
        // Upgrades restart standbys first, then switch over rather than restart the primary.
        primaryUpdateStrategy: ClusterSpecPrimaryUpdateStrategy.UNSUPERVISED,
        primaryUpdateMethod: ClusterSpecPrimaryUpdateMethod.SWITCHOVER,
        postgresql: {
          parameters: postgresParameters({ memoryLimit: pg.resources.limits.memory, archiveTimeoutSeconds: pg.archiveTimeoutSeconds }),
          // A commit returns once one standby has it: a failover loses no committed transaction.
          synchronous: {
            method: ClusterSpecPostgresqlSynchronousMethod.ANY,
            number: 1,
            dataDurability: ClusterSpecPostgresqlSynchronousDataDurability.REQUIRED,
          },
          // TLS only (the operator issues the server certificate); plain connections are refused.
          pgHba: ['hostnossl all all all reject', 'hostssl all all all scram-sha-256'],
        },
        bootstrap,
        externalClusters,
        plugins: [{
          name: BARMAN_PLUGIN,
          enabled: true,
          isWalArchiver: true,
          parameters: { barmanObjectName: objectStore, serverName: name },
        }],
        storage: { size: pg.storage.size, storageClass: pg.storage.storageClass, resizeInUseVolumes: true },
        walStorage: { size: pg.walStorage.size, storageClass: pg.walStorage.storageClass, resizeInUseVolumes: true },
        resources: {
          requests: {
            cpu: ClusterSpecResourcesRequests.fromString(pg.resources.requests.cpu),
            memory: ClusterSpecResourcesRequests.fromString(pg.resources.requests.memory),
          },
          limits: {
            cpu: ClusterSpecResourcesLimits.fromString(pg.resources.limits.cpu),
            memory: ClusterSpecResourcesLimits.fromString(pg.resources.limits.memory),
          },
        },
        // One instance per node, always; zones as evenly as the cluster allows.
        affinity: { enablePodAntiAffinity: true, podAntiAffinityType: 'required', topologyKey: 'kubernetes.io/hostname' },
        topologySpreadConstraints: [{
          maxSkew: 1,
          topologyKey: 'topology.kubernetes.io/zone',
          whenUnsatisfiable: 'ScheduleAnyway',
          labelSelector: { matchLabels: instancePodLabels },
        }],
      },
    });

    // The Cluster's own PodMonitor switch is deprecated; the operator's exporter listens on 9187.
    new ModelObject(this, 'PodMonitor', new PodMonitor({
      metadata: appMetadata(identity, { name, labelName: 'postgresql', component: 'monitoring' }),
      spec: {
        selector: { matchLabels: instancePodLabels },
        podMetricsEndpoints: [{ port: 'metrics', interval: '30s' }],
      },
    }));
  }
}
