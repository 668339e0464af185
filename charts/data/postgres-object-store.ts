/**
 * Where the database's physical backups go: the Barman Cloud plugin's ObjectStore, the WAL archive
 * and base backups compressed and kept for the configured retention, with credentials from a
 * Secret that External Secrets keeps in sync.
 */
import { Construct } from 'constructs';
import type { AppIdentity } from '../../environments/model/identity';
import { OBJECT_STORAGE_KEYS, OBJECT_STORAGE_REGION_KEY } from '../../environments/model/names';
import {
  ObjectStore,
  ObjectStoreSpecConfigurationDataCompression,
  ObjectStoreSpecConfigurationWalCompression,
  ObjectStoreSpecInstanceSidecarConfigurationLogLevel,
  ObjectStoreSpecInstanceSidecarConfigurationResourcesLimits,
  ObjectStoreSpecInstanceSidecarConfigurationResourcesRequests,
} from '../../imports/barmancloud.cnpg.io';
import { appMetadata } from '../common/labels';

export interface PostgresObjectStoreProps {
  /** The application in its environment: namespace and labels. */
  readonly identity: AppIdentity;
  /** The ObjectStore's name, which Clusters name as their WAL archiver. */
  readonly name: string;
  /** `s3://<bucket>/<prefix>`: Barman adds each cluster's server name below it. */
  readonly destinationPath: string;
  /** The S3-compatible endpoint (https). */
  readonly endpointURL: string;
  /** Secret with the access key id and secret (OBJECT_STORAGE_KEYS) and the region (OBJECT_STORAGE_REGION_KEY). */
  readonly credentialsSecret: string;
  /** How long base backups and WAL are kept (Barman's retention policy, such as 30d). */
  readonly retentionPolicy: string;
}

export class PostgresObjectStore extends Construct {
  constructor(scope: Construct, id: string, props: PostgresObjectStoreProps) {
    super(scope, id);
    const { identity, name } = props;
    const secret = props.credentialsSecret;

    new ObjectStore(this, 'ObjectStore', {
      metadata: appMetadata(identity, { name, labelName: 'postgresql', component: 'backup' }),
      spec: {
        retentionPolicy: props.retentionPolicy,
        configuration: {
          destinationPath: props.destinationPath,
          endpointUrl: props.endpointURL,
          s3Credentials: {
            accessKeyId: { name: secret, key: OBJECT_STORAGE_KEYS.accessKeyId },
            secretAccessKey: { name: secret, key: OBJECT_STORAGE_KEYS.secretAccessKey },
            region: { name: secret, key: OBJECT_STORAGE_REGION_KEY },
          },
          // WAL compresses several-fold and several segments in flight keep archiving ahead of bursts;
          // base backups use snappy, the cheapest on CPU of the codecs Barman offers for data.
          wal: { compression: ObjectStoreSpecConfigurationWalCompression.ZSTD, maxParallel: 4 },
          data: { compression: ObjectStoreSpecConfigurationDataCompression.SNAPPY, jobs: 2 },
        },
        instanceSidecarConfiguration: {
          // The CRD's defaults (plugin-barman-cloud 0.14), written out (test/crd-defaults.test.ts).
          logLevel: ObjectStoreSpecInstanceSidecarConfigurationLogLevel.INFO,
          retentionPolicyIntervalSeconds: 1800,
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
  }
}
