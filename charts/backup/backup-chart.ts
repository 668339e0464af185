import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { Model } from '../../environments/model/model';
import { requiredSection, secretManagerKey } from '../../environments/model/names';
import { SyncedSecret } from '../common/synced-secret';
import { BackupVerification, DatabaseBackup, dumpName, dumpSource, FilesBackup, uploadsWriterGroups, type BackupStore, type ScratchVolume } from './backup-jobs';
import { BackupScripts } from './backup-scripts';

export interface BackupChartProps {
  /** The environment's model: a chart is where the model meets the constructs. */
  readonly model: Model;
}

/**
 * Logical backups of the database and the uploaded files into restic repositories on the object
 * storage, and the weekly proof that they restore; only what the application has. (Physical base
 * backups and WAL archiving are the data tier's, through the Barman Cloud plugin; these are the
 * second, independent line.)
 */
export class BackupChart extends Chart {
  constructor(scope: Construct, id: string, props: BackupChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    const { env, identity, data } = props.model;
    const backups = data.backups;
    if (!backups) return;
    const config = requiredSection(env, 'backups');
    const store: BackupStore = {
      identity,
      region: requiredSection(env, 'objectStorage').region,
      objectStorageSecret: backups.objectStorageSecret,
      resticSecret: backups.resticSecret,
      scriptsConfigMap: backups.scriptsConfigMap,
      priorityClassName: props.model.priorityClasses.batch,
    };

    // The key of the restic repositories. The object storage credentials are the data tier's
    // Secret (the Barman ObjectStore uses the same bucket); the jobs refer to it by name.
    new SyncedSecret(this, 'restic-secret', {
      identity,
      store: requiredSection(env, 'externalSecrets'),
      name: backups.resticSecret,
      labelName: backups.resticSecret,
      component: 'backup',
      remoteKey: secretManagerKey(env, 'restic'),
      properties: ['RESTIC_PASSWORD'],
    });
    const jobs: { readonly scripts: readonly string[] }[] = [];
    const pg = env.data.postgres;
    // A database to restore: a volume of its own, the database's size unless configured (a rule
    // refuses less). Without one, the restore test only checks the files repository.
    const scratch: ScratchVolume = pg
      ? { size: config.scratchSize ?? pg.storage.size, claim: { storageClass: config.scratchStorageClass } }
      : { size: config.scratchSize ?? '4Gi' };
    if (backups.database && data.postgres && pg && config.databaseSchedule && config.verifyTables) {
      jobs.push(new DatabaseBackup(this, 'database', {
        ...store,
        name: backups.database.job,
        schedule: config.databaseSchedule,
        repository: backups.database.repository,
        retention: config.retention,
        scratch,
        source: {
          host: dumpSource(data.postgres.cluster, pg.instances),
          database: data.postgres.database,
          appSecret: data.postgres.appSecret,
          caSecret: data.postgres.caSecret,
        },
      }));
    }
    if (backups.uploads && data.uploads && config.filesSchedule) {
      jobs.push(new FilesBackup(this, 'files', {
        ...store,
        name: backups.uploads.job,
        schedule: config.filesSchedule,
        repository: backups.uploads.repository,
        retention: config.retention,
        uploads: { claimName: data.uploads.claim, mountPath: data.uploads.mountPath },
        writerGroups: uploadsWriterGroups(env),
      }));
    }
    jobs.push(new BackupVerification(this, 'verify', {
      ...store,
      name: backups.verifyJob,
      schedule: config.verifySchedule,
      scratch,
      database: backups.database && data.postgres && config.verifyTables
        ? { repository: backups.database.repository, dumpName: dumpName(data.postgres.database), verifyTables: config.verifyTables }
        : undefined,
      files: backups.uploads ? { repository: backups.uploads.repository } : undefined,
      checkReadDataPercent: config.checkReadDataPercent,
      maxSnapshotAgeHours: config.maxSnapshotAgeHours,
    }));
    new BackupScripts(this, 'scripts', { identity, name: backups.scriptsConfigMap, scripts: jobs.flatMap((j) => j.scripts) });
  }
}
