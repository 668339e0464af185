import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { Model } from '../../environments/model/model';
import { secretManagerKey } from '../../environments/model/names';
import { SyncedSecret } from '../common/synced-secret';
import { BackupVerification, DatabaseBackup, FilesBackup } from './backup-jobs';
import { BackupScripts } from './backup-scripts';

export interface BackupChartProps {
  /** The environment's model: a chart is where the model meets the constructs. */
  readonly model: Model;
}

/**
 * Logical backups of the database and the uploaded files into restic repositories on the object
 * storage, and the weekly proof that they restore. (Physical base backups and WAL archiving are the
 * data tier's, through the Barman Cloud plugin; these are the second, independent line.)
 */
export class BackupChart extends Chart {
  constructor(scope: Construct, id: string, props: BackupChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    const { env, identity, data } = props.model;
    const backups = data.backups;

    // The key of both restic repositories. The object storage credentials are the data tier's
    // Secret (the Barman ObjectStore uses the same bucket); the jobs refer to it by name.
    new SyncedSecret(this, 'restic-secret', {
      identity,
      store: env.externalSecrets,
      name: backups.resticSecret,
      labelName: backups.resticSecret,
      component: 'backup',
      remoteKey: secretManagerKey(env, 'restic'),
      properties: ['RESTIC_PASSWORD'],
    });
    new BackupScripts(this, 'scripts', { identity, name: backups.scriptsConfigMap });
    new DatabaseBackup(this, 'database', { env });
    new FilesBackup(this, 'files', { env });
    new BackupVerification(this, 'verify', { env });
  }
}
