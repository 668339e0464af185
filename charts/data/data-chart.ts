import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { Model } from '../../environments/model/model';
import { secretManagerKey } from '../../environments/model/names';
import { SyncedSecret } from '../common/synced-secret';
import { PostgresBaseBackups } from './postgres-base-backups';
import { PostgresCluster } from './postgres-cluster';
import { OBJECT_STORAGE_KEYS, PostgresObjectStore } from './postgres-object-store';
import { PostgresPooler } from './postgres-pooler';
import { RedisSentinel } from './redis-sentinel';
import { UploadsVolume } from './uploads-volume';

export interface DataChartProps {
  /** The environment's model: a chart is where the model meets the constructs. */
  readonly model: Model;
}

/** The application's state: PostgreSQL, Redis and the uploaded files. */
export class DataChart extends Chart {
  constructor(scope: Construct, id: string, props: DataChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    const { env, identity, data } = props.model;
    const pg = env.data.postgres;
    new PostgresCluster(this, 'postgres', {
      identity,
      name: data.postgres.cluster,
      config: pg,
      objectStore: data.backups.objectStore,
    });
    // The bucket's credentials: the backup jobs use the same Secret.
    new SyncedSecret(this, 'object-storage-credentials', {
      identity,
      store: env.externalSecrets,
      name: data.backups.objectStorageSecret,
      labelName: 'object-storage',
      component: 'backup',
      remoteKey: secretManagerKey(env, 'object-storage'),
      properties: Object.values(OBJECT_STORAGE_KEYS),
    });
    new PostgresObjectStore(this, 'postgres-object-store', {
      identity,
      name: data.backups.objectStore,
      destinationPath: data.backups.barmanDestinationPath,
      endpointURL: env.objectStorage.endpointURL,
      credentialsSecret: data.backups.objectStorageSecret,
      retentionPolicy: pg.retentionPolicy,
    });
    new PostgresBaseBackups(this, 'postgres-base-backups', { identity, cluster: data.postgres.cluster, schedule: pg.baseBackupSchedule });
    new PostgresPooler(this, 'postgres-pooler', { identity, name: data.postgres.pooler, cluster: data.postgres.cluster, config: pg.pooler });
    new RedisSentinel(this, 'redis', { env });
    new UploadsVolume(this, 'uploads', { identity, name: data.uploadsClaim, storage: env.data.uploads.storage });
  }
}
