import { Construct } from 'constructs';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import type { Environment } from '../../environments/schema';
import { appMetadata } from '../common/labels';
import { ModelObject } from '../common/model-object';
import { dataEndpoints } from '../../environments/model/names';
import { NEVER_DELETE } from '../common/sync-waves';

export interface UploadsVolumeProps {
  readonly env: Environment;
}

/**
 * The volume of user-uploaded files, shared by every replica of the services that use it
 * (ReadWriteMany). Argo CD never deletes it; the hourly restic snapshots version its content.
 */
export class UploadsVolume extends Construct {
  constructor(scope: Construct, id: string, props: UploadsVolumeProps) {
    super(scope, id);
    const { env } = props;
    const u = env.data.uploads;
    new ModelObject(this, 'PersistentVolumeClaim', new PersistentVolumeClaim({
      metadata: { ...appMetadata(env, dataEndpoints(env).uploadsClaim, 'uploads', 'storage'), annotations: NEVER_DELETE },
      spec: {
        accessModes: ['ReadWriteMany'],
        storageClassName: u.storage.storageClass,
        resources: { requests: { storage: u.storage.size } },
      },
    }));
  }
}
