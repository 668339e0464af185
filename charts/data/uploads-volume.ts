import { Construct } from 'constructs';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import type { AppIdentity } from '../../environments/model/identity';
import type { Environment } from '../../environments/schema';
import { appMetadata } from '../common/labels';
import { ModelObject } from '../common/model-object';
import { NEVER_DELETE } from '../common/sync-waves';

export interface UploadsVolumeProps {
  /** The application in its environment: namespace and labels. */
  readonly identity: AppIdentity;
  /** The PersistentVolumeClaim's name, which the services mount. */
  readonly name: string;
  /** Size and storage class (one that offers ReadWriteMany). */
  readonly storage: NonNullable<Environment['data']['uploads']>['storage'];
}

/**
 * The volume of user-uploaded files, shared by every replica of the services that use it
 * (ReadWriteMany). Argo CD never deletes it; the hourly restic snapshots version its content.
 */
export class UploadsVolume extends Construct {
  constructor(scope: Construct, id: string, props: UploadsVolumeProps) {
    super(scope, id);
    const { identity, name, storage } = props;
    new ModelObject(this, 'PersistentVolumeClaim', new PersistentVolumeClaim({
      metadata: { ...appMetadata(identity, { name, labelName: 'uploads', component: 'storage' }), annotations: NEVER_DELETE },
      spec: {
        accessModes: ['ReadWriteMany'],
        storageClassName: storage.storageClass,
        resources: { requests: { storage: storage.size } },
      },
    }));
  }
}
