/**
 * The three backup CronJobs: the daily logical database dump, the hourly snapshot of the uploaded
 * files, and the weekly restore test. Each runs a script from charts/backup/scripts with its
 * settings as environment variables.
 *
 * Composition, not a custom image: the scripts are bash and need pg_dump, pg_restore, postgres and
 * restic. POSTGRES_IMAGE (the cluster's own operand image, so the client matches the server's
 * major version) has bash and the PostgreSQL tools; the restic image has only busybox sh. restic
 * is one static Go binary, so an init container copies it from RESTIC_IMAGE into an emptyDir and
 * the scripts run it from there (the pattern Argo CD's `copyutil` init container uses).
 *
 * The database dump is written to a scratch volume by an init container, verified (pg_restore reads
 * it back) and only then marked complete; the main container stores it with restic. A pipe
 * between pg_dump and restic would start a snapshot before knowing whether the dump succeeds, and
 * restic would record whatever arrived as a good backup. The split also keeps the database
 * password out of the container that holds the repository key, and the other way round.
 */
import { Construct } from 'constructs';
import type { IContainer, IEnvVar, IPodSecurityContext, IResourceRequirements, IVolume, IVolumeMount } from 'kubernetes-models/v1';
import type { Environment } from '../../environments/schema';
import { POSTGRES_IMAGE, POSTGRES_IMAGE_UID, RESTIC_IMAGE, RESTIC_IMAGE_BINARY } from '../common/images';
import { instanceOf } from '../common/labels';
import { dataEndpoints, POSTGRES_PORT } from '../common/names';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../common/pod-security';
import { objectStorageEgress, tcp } from '../common/network';
import { BackupCronJob, type CronJobTiming } from './backup-cron-job';
import { SCRIPTS_MOUNT_PATH, scriptCommand } from './backup-scripts';

/** restic snapshot tags: one history per kind of data, so retention never mixes them. */
export const DATABASE_TAG = 'database';
export const FILES_TAG = 'uploads';

const TOOLS_DIR = '/opt/restic';
const SCRATCH_DIR = '/scratch';
const RESTIC_PASSWORD_DIR = '/etc/restic';
const POSTGRES_CA_DIR = '/etc/postgresql-ca';

/** Sizes per container. restic's memory grows with the repository's index; pg_dump's stays small. */
const RESOURCES = {
  copy: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '200m', memory: '64Mi' } },
  dump: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } },
  restic: { requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '1', memory: '1Gi' } },
  // Many small files make restic's in-memory tree larger than one big dump does.
  files: { requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '1', memory: '2Gi' } },
  // restic plus a whole PostgreSQL server (128 MiB shared buffers, index builds) and pg_restore.
  verify: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } },
} as const satisfies Record<string, IResourceRequirements>;

/**
 * Deadlines per job, from their schedules: the dump runs daily, files hourly, the test weekly.
 * Job TTLs keep a failed run around until someone can look, and at least until the next run.
 */
export const TIMING = {
  database: {
    startingDeadlineSeconds: 3600,
    activeDeadlineSeconds: 6 * 3600,
    backoffLimit: 2,
    ttlSecondsAfterFinished: 4 * 86400,
    successfulJobsHistoryLimit: 3,
    failedJobsHistoryLimit: 3,
  },
  files: {
    // A run that cannot start within 10 minutes is superseded by the next hour's.
    startingDeadlineSeconds: 600,
    // Room for the first, full snapshot of a large volume; later runs take minutes. Forbid skips
    // the hourly runs that would overlap a long one.
    activeDeadlineSeconds: 3 * 3600,
    backoffLimit: 1,
    ttlSecondsAfterFinished: 86400,
    successfulJobsHistoryLimit: 3,
    failedJobsHistoryLimit: 3,
  },
  verify: {
    startingDeadlineSeconds: 6 * 3600,
    activeDeadlineSeconds: 6 * 3600,
    // One more try for a network failure; a failed check exits 65 and fails the Job at once.
    backoffLimit: 1,
    ttlSecondsAfterFinished: 8 * 86400,
    successfulJobsHistoryLimit: 3,
    failedJobsHistoryLimit: 3,
  },
} as const satisfies Record<string, CronJobTiming>;

/**
 * How long a restic command waits for another job's lock instead of failing (restic 0.16+).
 * `restic check` and `forget --prune` lock a repository exclusively: the weekly restore test's
 * check of the uploads repository can outlast an hour, so the hourly files job waits up to 2 h
 * (below its deadline; Forbid skips the runs that would overlap meanwhile).
 */
const RETRY_LOCK = { database: '1h', files: '2h', verify: '1h' } as const;

/** The database server the dump reads from: the replicas when there are any, else the one instance. */
export function dumpSource(env: Environment): string {
  const { cluster } = dataEndpoints(env).postgres;
  // CloudNativePG's Services: -ro selects replicas only, -r any instance. A dump from a replica
  // puts no load on the primary; PgBouncer is no place for a long dump session.
  return env.data.postgres.instances > 1 ? `${cluster}-ro` : `${cluster}-r`;
}

/** File name of the dump, in the scratch volume and in the snapshot. */
export function dumpName(env: Environment): string {
  return `${env.data.postgres.database}.dump`;
}

const mount = (name: string, mountPath: string, readOnly = false): IVolumeMount => ({ name, mountPath, ...(readOnly ? { readOnly } : {}) });
const value = (name: string, v: string | number): IEnvVar => ({ name, value: String(v) });
const secret = (name: string, secretName: string, key: string): IEnvVar => ({ name, valueFrom: { secretKeyRef: { name: secretName, key } } });

/** Volumes every backup pod has. */
function commonVolumes(env: Environment, scratchSize: string): IVolume[] {
  const b = dataEndpoints(env).backups;
  return [
    // Readable by the pods' non-root user whatever the fsGroup; nothing else runs in these pods.
    { name: 'scripts', configMap: { name: b.scriptsConfigMap, defaultMode: 0o444 } },
    { name: 'restic-password', secret: { secretName: b.resticSecret, items: [{ key: 'RESTIC_PASSWORD', path: 'password' }], defaultMode: 0o444 } },
    { name: 'restic-binary', emptyDir: { sizeLimit: '128Mi' } },
    { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
    { name: 'scratch', emptyDir: { sizeLimit: scratchSize } },
  ];
}

/** Copies the static restic binary where the script containers find it. */
function resticBinaryContainer(): IContainer {
  return {
    name: 'restic-binary',
    image: RESTIC_IMAGE,
    imagePullPolicy: 'IfNotPresent',
    command: ['cp', RESTIC_IMAGE_BINARY, `${TOOLS_DIR}/restic`],
    resources: RESOURCES.copy,
    securityContext: restrictedContainerSecurityContext(),
    volumeMounts: [mount('restic-binary', TOOLS_DIR)],
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
}

/** Settings of every container that runs restic against the environment's object storage. */
function resticEnv(env: Environment, retryLock: string): IEnvVar[] {
  const b = dataEndpoints(env).backups;
  return [
    value('RESTIC_BIN', `${TOOLS_DIR}/restic`),
    value('RESTIC_PASSWORD_FILE', `${RESTIC_PASSWORD_DIR}/password`),
    value('RESTIC_CACHE_DIR', `${SCRATCH_DIR}/restic-cache`),
    value('RESTIC_RETRY_LOCK', retryLock),
    secret('AWS_ACCESS_KEY_ID', b.objectStorageSecret, 'ACCESS_KEY_ID'),
    secret('AWS_SECRET_ACCESS_KEY', b.objectStorageSecret, 'ACCESS_SECRET_KEY'),
    value('AWS_DEFAULT_REGION', env.objectStorage.region),
    // One history per environment: restic groups snapshots (and finds the parent) by host.
    value('BACKUP_HOST', instanceOf(env)),
  ];
}

/**
 * The retention policy of a job's repository. `backups.retention.hourly` is for the job that runs
 * hourly: restic's --keep-hourly counts hours that hold a snapshot, so on the daily dump it would
 * keep that many days of dumps instead of the documented 7 daily (docs/disaster-recovery.md).
 */
function retentionEnv(env: Environment, runs: 'hourly' | 'daily'): IEnvVar[] {
  const r = env.backups.retention;
  return [
    value('KEEP_HOURLY', runs === 'hourly' ? r.hourly : 0),
    value('KEEP_DAILY', r.daily),
    value('KEEP_WEEKLY', r.weekly),
    value('KEEP_MONTHLY', r.monthly),
  ];
}

/** HOME and TMPDIR on writable volumes: the root filesystem is read-only. */
const SHELL_ENV: IEnvVar[] = [value('HOME', '/tmp'), value('TMPDIR', SCRATCH_DIR)];

function scriptContainer(name: string, script: string, resources: IResourceRequirements, envVars: IEnvVar[], mounts: IVolumeMount[]): IContainer {
  return {
    name,
    image: POSTGRES_IMAGE,
    imagePullPolicy: 'IfNotPresent',
    command: scriptCommand(script),
    env: [...envVars, ...SHELL_ENV],
    resources,
    securityContext: restrictedContainerSecurityContext(),
    volumeMounts: [mount('scripts', SCRIPTS_MOUNT_PATH, true), mount('tmp', '/tmp'), mount('scratch', SCRATCH_DIR), ...mounts],
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
}

/** A request for the scratch volume, so the pod lands on a node with room for it. */
function withScratch(resources: IResourceRequirements, size: string): IResourceRequirements {
  return { ...resources, requests: { ...resources.requests, 'ephemeral-storage': size } };
}

export interface BackupJobProps {
  readonly env: Environment;
}

/** Daily: pg_dump (custom format) from a replica, verified, stored in the database repository. */
export class DatabaseBackup extends Construct {
  constructor(scope: Construct, id: string, props: BackupJobProps) {
    super(scope, id);
    const { env } = props;
    const data = dataEndpoints(env);
    const scratch = env.backups.scratchSize;
    const dumpEnv = [value('DUMP_DIR', `${SCRATCH_DIR}/dump`), value('DUMP_NAME', dumpName(env))];

    const dump = scriptContainer('dump', 'dump-database.sh', withScratch(RESOURCES.dump, scratch), [
      value('PGHOST', dumpSource(env)),
      value('PGPORT', POSTGRES_PORT),
      value('PGDATABASE', data.postgres.database),
      secret('PGUSER', data.postgres.appSecret, 'username'),
      secret('PGPASSWORD', data.postgres.appSecret, 'password'),
      // The operator's CA signs the server certificate for its Services' names.
      value('PGSSLMODE', 'verify-full'),
      value('PGSSLROOTCERT', `${POSTGRES_CA_DIR}/ca.crt`),
      value('PGAPPNAME', data.backups.databaseBackupJob),
      value('PGCONNECT_TIMEOUT', 30),
      // A replica cancels a long dump when recovery must remove rows it still reads; the
      // script tries again (see dump-database.sh). hot_standby_feedback on the cluster avoids it.
      value('DUMP_ATTEMPTS', 3),
      value('DUMP_RETRY_DELAY_SECONDS', 60),
      ...dumpEnv,
    ], [mount('postgres-ca', POSTGRES_CA_DIR, true)]);

    const store = scriptContainer('store', 'backup-database.sh', withScratch(RESOURCES.restic, scratch), [
      value('RESTIC_REPOSITORY', data.backups.databaseRepository),
      ...resticEnv(env, RETRY_LOCK.database),
      value('BACKUP_TAG', DATABASE_TAG),
      ...retentionEnv(env, 'daily'),
      ...dumpEnv,
    ], [mount('restic-binary', TOOLS_DIR, true), mount('restic-password', RESTIC_PASSWORD_DIR, true)]);

    new BackupCronJob(this, 'Job', {
      env,
      name: data.backups.databaseBackupJob,
      schedule: env.backups.databaseSchedule,
      timing: TIMING.database,
      securityContext: restrictedPodSecurityContext(POSTGRES_IMAGE_UID),
      // The binary first: a missing image fails the pod before an hour of dumping.
      initContainers: [resticBinaryContainer(), dump],
      containers: [store],
      volumes: [
        ...commonVolumes(env, scratch),
        { name: 'postgres-ca', secret: { secretName: data.postgres.caSecret, items: [{ key: 'ca.crt', path: 'ca.crt' }], defaultMode: 0o444 } },
      ],
      egress: [
        // The instances' own pods (the -ro/-r Services forward to them): PostgreSQL only.
        { to: [{ podSelector: data.postgres.instancePodSelector }], ports: [tcp(POSTGRES_PORT)] },
        objectStorageEgress(env.objectStorage),
      ],
    });
  }
}

/** The group IDs of the services that write the uploaded files (their runAsUser is also their GID). */
export function uploadsWriterGroups(env: Environment): number[] {
  return [...new Set(Object.values(env.services).filter((s) => s.uses.includes('uploads')).map((s) => s.runAsUser))].sort((a, b) => a - b);
}

/** Hourly: a snapshot of the uploaded-files volume, mounted read-only. */
export class FilesBackup extends Construct {
  constructor(scope: Construct, id: string, props: BackupJobProps) {
    super(scope, id);
    const { env } = props;
    const data = dataEndpoints(env);
    // Only restic's cache lives here: no dump, so no need for the database's scratch size.
    const scratch = '4Gi';

    const backup = scriptContainer('backup', 'backup-files.sh', withScratch(RESOURCES.files, '1Gi'), [
      value('RESTIC_REPOSITORY', data.backups.uploadsRepository),
      ...resticEnv(env, RETRY_LOCK.files),
      value('BACKUP_TAG', FILES_TAG),
      ...retentionEnv(env, 'hourly'),
      // The path the services see, so a restored tree drops back in place.
      value('SOURCE_DIR', env.data.uploads.mountPath),
    ], [
      mount('restic-binary', TOOLS_DIR, true),
      mount('restic-password', RESTIC_PASSWORD_DIR, true),
      mount('uploads', env.data.uploads.mountPath, true),
    ]);

    // No fsGroup: the kubelet would otherwise change the group of the whole uploads tree, which
    // belongs to the services that write it. Their groups let restic read group-readable files.
    const podSecurity = restrictedPodSecurityContext(POSTGRES_IMAGE_UID);
    delete podSecurity.fsGroup;
    delete podSecurity.fsGroupChangePolicy;
    const groups = uploadsWriterGroups(env);
    const securityContext: IPodSecurityContext = { ...podSecurity, ...(groups.length > 0 ? { supplementalGroups: groups } : {}) };

    new BackupCronJob(this, 'Job', {
      env,
      name: data.backups.filesBackupJob,
      schedule: env.backups.filesSchedule,
      timing: TIMING.files,
      securityContext,
      initContainers: [resticBinaryContainer()],
      containers: [backup],
      volumes: [
        ...commonVolumes(env, scratch),
        // Read-only at the volume too, so nothing in this pod can change an uploaded file.
        { name: 'uploads', persistentVolumeClaim: { claimName: data.uploadsClaim, readOnly: true } },
      ],
      egress: [objectStorageEgress(env.objectStorage)],
    });
  }
}

/** Weekly: restore the newest dump into a throwaway PostgreSQL, check it, check both repositories. */
export class BackupVerification extends Construct {
  constructor(scope: Construct, id: string, props: BackupJobProps) {
    super(scope, id);
    const { env } = props;
    const data = dataEndpoints(env);
    const b = env.backups;

    const verify = scriptContainer('verify', 'verify-backups.sh', withScratch(RESOURCES.verify, b.scratchSize), [
      value('DATABASE_REPOSITORY', data.backups.databaseRepository),
      value('FILES_REPOSITORY', data.backups.uploadsRepository),
      ...resticEnv(env, RETRY_LOCK.verify),
      value('DATABASE_TAG', DATABASE_TAG),
      value('FILES_TAG', FILES_TAG),
      value('DUMP_NAME', dumpName(env)),
      value('WORK_DIR', SCRATCH_DIR),
      value('VERIFY_TABLES', b.verifyTables.join(' ')),
      value('CHECK_READ_DATA_PERCENT', b.checkReadDataPercent),
      value('MAX_SNAPSHOT_AGE_HOURS', b.maxSnapshotAgeHours),
    ], [
      mount('restic-binary', TOOLS_DIR, true),
      mount('restic-password', RESTIC_PASSWORD_DIR, true),
      // PostgreSQL's shared memory for parallel workers and index builds: the container's
      // default /dev/shm is 64 MiB.
      mount('shm', '/dev/shm'),
    ]);

    new BackupCronJob(this, 'Job', {
      env,
      name: data.backups.verifyJob,
      schedule: b.verifySchedule,
      timing: TIMING.verify,
      securityContext: restrictedPodSecurityContext(POSTGRES_IMAGE_UID),
      initContainers: [resticBinaryContainer()],
      containers: [verify],
      volumes: [...commonVolumes(env, b.scratchSize), { name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: '256Mi' } }],
      // The throwaway server listens on a Unix socket only: the object storage is the one flow.
      egress: [objectStorageEgress(env.objectStorage)],
    });
  }
}
