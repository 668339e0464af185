/**
 * Where the database's physical backups go: the Barman Cloud plugin's ObjectStore (WAL archive and
 * base backups, compressed, kept for the configured retention), its credentials synced from the
 * secret manager, and the schedule of base backups, taken from a standby so the primary's I/O is
 * left to the application.
 */
import { Construct } from 'constructs';
import type { Environment } from '../../environments/schema';
import {
  ObjectStore,
  ObjectStoreSpecConfigurationDataCompression,
  ObjectStoreSpecConfigurationWalCompression,
  ObjectStoreSpecInstanceSidecarConfigurationResourcesLimits,
  ObjectStoreSpecInstanceSidecarConfigurationResourcesRequests,
} from '../../imports/barmancloud.cnpg.io';
import {
  ScheduledBackup,
  ScheduledBackupSpecBackupOwnerReference,
  ScheduledBackupSpecMethod,
  ScheduledBackupSpecTarget,
} from '../../imports/postgresql.cnpg.io';
import { appMetadata } from '../common/labels';
import { dataEndpoints, secretManagerKey } from '../../environments/model/names';
import { SyncedSecret } from '../common/synced-secret';
import { BARMAN_PLUGIN } from './postgres-cluster';

export interface PostgresBackupsProps {
  readonly env: Environment;
}

/** Properties of the object-storage entry in the secret manager (and keys of the synced Secret). */
export const OBJECT_STORAGE_KEYS = { accessKeyId: 'ACCESS_KEY_ID', secretAccessKey: 'ACCESS_SECRET_KEY' } as const;

export class PostgresBackups extends Construct {
  constructor(scope: Construct, id: string, props: PostgresBackupsProps) {
    super(scope, id);
    const { env } = props;
    const data = dataEndpoints(env);
    const secret = data.backups.objectStorageSecret;

    new SyncedSecret(this, 'credentials', {
      env,
      name: secret,
      labelName: 'object-storage',
      component: 'backup',
      remoteKey: secretManagerKey(env, 'object-storage'),
      properties: Object.values(OBJECT_STORAGE_KEYS),
    });

    new ObjectStore(this, 'ObjectStore', {
      metadata: appMetadata(env, data.backups.objectStore, 'postgresql', 'backup'),
      spec: {
        retentionPolicy: env.data.postgres.retentionPolicy,
        configuration: {
          destinationPath: data.backups.barmanDestinationPath,
          endpointUrl: env.objectStorage.endpointURL,
          s3Credentials: {
            accessKeyId: { name: secret, key: OBJECT_STORAGE_KEYS.accessKeyId },
            secretAccessKey: { name: secret, key: OBJECT_STORAGE_KEYS.secretAccessKey },
          },
          // WAL compresses several-fold and several segments in flight keep archiving ahead of bursts;
          // base backups use snappy, the cheapest on CPU of the codecs Barman offers for data.
          wal: { compression: ObjectStoreSpecConfigurationWalCompression.ZSTD, maxParallel: 4 },
          data: { compression: ObjectStoreSpecConfigurationDataCompression.SNAPPY, jobs: 2 },
        },
        instanceSidecarConfiguration: {
          resources: {
            requests: {
              cpu: ObjectStoreSpecInstanceSidecarConfigurationResourcesRequests.fromString('50m'),
              memory: ObjectStoreSpecInstanceSidecarConfigurationResourcesRequests.fromString('128Mi'),
            },
            limits: {
              cpu: ObjectStoreSpecInstanceSidecarConfigurationResourcesLimits.fromString('1'),
              memory: ObjectStoreSpecInstanceSidecarConfigurationResourcesLimits.fromString('512Mi'),
            },
          },
        },
      },
    });

    new ScheduledBackup(this, 'ScheduledBackup', {
      metadata: appMetadata(env, data.postgres.cluster, 'postgresql', 'backup'),
      spec: {
        cluster: { name: data.postgres.cluster },
        schedule: env.data.postgres.baseBackupSchedule,
        method: ScheduledBackupSpecMethod.PLUGIN,
        pluginConfiguration: { name: BARMAN_PLUGIN },
        target: ScheduledBackupSpecTarget.PREFER_HYPHEN_STANDBY,
        // A base backup right after the cluster is created: point-in-time recovery needs one.
        immediate: true,
        backupOwnerReference: ScheduledBackupSpecBackupOwnerReference.SELF,
      },
    });
  }
}
