import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { Model } from '../../environments/model/model';
import { OBJECT_STORAGE_KEYS, OBJECT_STORAGE_REGION_KEY, requiredSection, secretManagerKey } from '../../environments/model/names';
import { SyncedSecret } from '../common/synced-secret';
import { PostgresBaseBackups } from './postgres-base-backups';
import { PostgresCluster } from './postgres-cluster';
import { PostgresObjectStore } from './postgres-object-store';
import { PostgresPooler } from './postgres-pooler';
import { RedisSentinel } from './redis-sentinel';
import { UploadsVolume } from './uploads-volume';

export interface DataChartProps {
  /** The environment's model: a chart is where the model meets the constructs. */
  readonly model: Model;
}

/** The application's state: PostgreSQL, Redis and the uploaded files, those it has. */
export class DataChart extends Chart {
  constructor(scope: Construct, id: string, props: DataChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    const { env, identity, data } = props.model;
    const { postgres: pg, redis, uploads } = env.data;
    if (data.backups) {
      // The bucket's credentials: Barman Cloud and the backup jobs use the same Secret.
      new SyncedSecret(this, 'object-storage-credentials', {
        identity,
        store: requiredSection(env, 'externalSecrets'),
        name: data.backups.objectStorageSecret,
        labelName: 'object-storage',
        component: 'backup',
        remoteKey: secretManagerKey(env, 'object-storage'),
        properties: Object.values(OBJECT_STORAGE_KEYS),
        // Barman Cloud reads the region only from a Secret.
        literals: { [OBJECT_STORAGE_REGION_KEY]: requiredSection(env, 'objectStorage').region },
      });
    }
    if (pg && data.postgres && data.backups) {
      const { cluster, pooler, objectStore } = data.postgres;
      new PostgresCluster(this, 'postgres', { identity, name: cluster, config: pg, objectStore, instancePodLabels: data.postgres.instancePodLabels,
        priorityClassName: props.model.priorityClasses.serving,
      });
      new PostgresObjectStore(this, 'postgres-object-store', {
        identity,
        name: objectStore,
        destinationPath: data.postgres.barmanDestinationPath,
        endpointURL: requiredSection(env, 'objectStorage').endpointURL,
        credentialsSecret: data.backups.objectStorageSecret,
        retentionPolicy: pg.retentionPolicy,
      });
      new PostgresBaseBackups(this, 'postgres-base-backups', { identity, cluster, schedule: pg.baseBackupSchedule });
      new PostgresPooler(this, 'postgres-pooler', { identity, name: pooler, cluster, config: pg.pooler, podLabels: data.postgres.poolerPodLabels,
        priorityClassName: props.model.priorityClasses.serving,
      });
    }
    if (redis && data.redis) {
      new RedisSentinel(this, 'redis', {
        identity,
        endpoints: data.redis,
        config: redis,
        password: { store: requiredSection(env, 'externalSecrets'), remoteKey: secretManagerKey(env, 'redis') },
        priorityClassName: props.model.priorityClasses.serving,
      });
    }
    if (uploads && data.uploads) new UploadsVolume(this, 'uploads', { identity, name: data.uploads.claim, storage: uploads.storage });
  }
}
