/**
 * Base backups of one Cluster on a schedule, through the Barman Cloud plugin, taken from a standby
 * so the primary's I/O is left to the application.
 */
import { Construct } from 'constructs';
import type { AppIdentity } from '../../environments/model/identity';
import {
  ScheduledBackup,
  ScheduledBackupSpecBackupOwnerReference,
  ScheduledBackupSpecMethod,
  ScheduledBackupSpecTarget,
} from '../../imports/postgresql.cnpg.io';
import { appMetadata } from '../common/labels';
import { BARMAN_PLUGIN } from './postgres-cluster';

export interface PostgresBaseBackupsProps {
  /** The application in its environment: namespace and labels. */
  readonly identity: AppIdentity;
  /** The Cluster to back up; also the ScheduledBackup's name. */
  readonly cluster: string;
  /** 6-field cron (seconds first), as CloudNativePG takes it. */
  readonly schedule: string;
}

export class PostgresBaseBackups extends Construct {
  constructor(scope: Construct, id: string, props: PostgresBaseBackupsProps) {
    super(scope, id);
    const { identity, cluster } = props;
    new ScheduledBackup(this, 'ScheduledBackup', {
      metadata: appMetadata(identity, { name: cluster, labelName: 'postgresql', component: 'backup' }),
      spec: {
        cluster: { name: cluster },
        schedule: props.schedule,
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
