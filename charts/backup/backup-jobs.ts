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
import type { AppIdentity } from '../../environments/model/identity';
import { OBJECT_STORAGE_KEYS } from '../../environments/model/names';
import { POSTGRES_PORT } from '../../environments/model/network';
import type { Environment } from '../../environments/schema';
import { POSTGRES_IMAGE, POSTGRES_IMAGE_UID, RESTIC_IMAGE, RESTIC_IMAGE_BINARY } from '../common/images';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../common/pod-security';
import { TERMINATION_MESSAGE } from '../common/termination-message';
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
 * The dump and the restore test keep one finished run of each outcome: their pods hold scratch
 * volumes the size of the database (generic ephemeral volumes go with their pod), so every kept
 * run is that much storage bound.
 */
export const TIMING = {
  database: {
    startingDeadlineSeconds: 3600,
    activeDeadlineSeconds: 6 * 3600,
    backoffLimit: 2,
    ttlSecondsAfterFinished: 4 * 86400,
    successfulJobsHistoryLimit: 1,
    failedJobsHistoryLimit: 1,
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
    successfulJobsHistoryLimit: 1,
    failedJobsHistoryLimit: 1,
  },
} as const satisfies Record<string, CronJobTiming>;

/**
 * How long a restic command waits for another job's lock instead of failing (restic 0.16+).
 * `restic check` and `restic prune` lock a repository exclusively: the weekly restore test's
 * check of the uploads repository can outlast an hour, so the hourly files job waits up to 2 h
 * (below its deadline; Forbid skips the runs that would overlap meanwhile).
 */
const RETRY_LOCK = { database: '1h', files: '2h', verify: '1h' } as const;

/** The database server the dump reads from: the replicas when there are any, else the one instance. */
export function dumpSource(cluster: string, instances: number): string {
  // CloudNativePG's Services: -ro selects replicas only, -r any instance. A dump from a replica
  // puts no load on the primary; PgBouncer is no place for a long dump session.
  return instances > 1 ? `${cluster}-ro` : `${cluster}-r`;
}

/** File name of the dump, in the scratch volume and in the snapshot. */
export function dumpName(database: string): string {
  return `${database}.dump`;
}

/** How many snapshots a repository keeps (restic forget), as configured. */
export type Retention = NonNullable<Environment['backups']>['retention'];

/** What every backup job shares: whose it is, where the repositories live and with which key. */
export interface BackupStore {
  /** The application in its environment: namespace, labels, and restic's host (one history per environment). */
  readonly identity: AppIdentity;
  /** Region of the object storage (restic's AWS_DEFAULT_REGION). */
  readonly region: string;
  /** Secret with the object storage's ACCESS_KEY_ID and ACCESS_SECRET_KEY. */
  readonly objectStorageSecret: string;
  /** Secret with RESTIC_PASSWORD, the key of the repositories. */
  readonly resticSecret: string;
  /** ConfigMap of the scripts. */
  readonly scriptsConfigMap: string;
  /** PriorityClass of the job's pods (below the serving pods'). @default none */
  readonly priorityClassName?: string;
}

const mount = (name: string, mountPath: string, readOnly = false): IVolumeMount => ({ name, mountPath, ...(readOnly ? { readOnly } : {}) });
const value = (name: string, v: string | number): IEnvVar => ({ name, value: String(v) });
const secret = (name: string, secretName: string, key: string): IEnvVar => ({ name, valueFrom: { secretKeyRef: { name: secretName, key } } });

/** Where a job's scratch space lives. */
export interface ScratchVolume {
  readonly size: string;
  /**
   * A StorageClass: the scratch is then a volume of its own (a generic ephemeral volume, made
   * with the pod and deleted with it), sized for a whole database, which no node's disk
   * (emptyDir) can be counted on to hold. Without one, an emptyDir on the node.
   */
  readonly claim?: { readonly storageClass?: string };
}

/** Volumes every backup pod has. */
function commonVolumes(b: BackupStore, scratch: ScratchVolume): IVolume[] {
  return [
    // Readable by the pods' non-root user whatever the fsGroup; nothing else runs in these pods.
    { name: 'scripts', configMap: { name: b.scriptsConfigMap, defaultMode: 0o444 } },
    { name: 'restic-password', secret: { secretName: b.resticSecret, items: [{ key: 'RESTIC_PASSWORD', path: 'password' }], defaultMode: 0o444 } },
    { name: 'restic-binary', emptyDir: { sizeLimit: '128Mi' } },
    { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
    scratch.claim
      ? {
        name: 'scratch',
        ephemeral: {
          volumeClaimTemplate: {
            metadata: { labels: { 'app.kubernetes.io/part-of': b.identity.app, 'app.kubernetes.io/component': 'backup' } },
            spec: {
              accessModes: ['ReadWriteOnce'],
              volumeMode: 'Filesystem',
              // Absent: the cluster's default StorageClass.
              ...(scratch.claim.storageClass ? { storageClassName: scratch.claim.storageClass } : {}),
              resources: { requests: { storage: scratch.size } },
            },
          },
        },
      }
      : { name: 'scratch', emptyDir: { sizeLimit: scratch.size } },
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
    ...TERMINATION_MESSAGE,
  };
}

/** Settings of every container that runs restic against the environment's object storage. */
function resticEnv(b: BackupStore, retryLock: string): IEnvVar[] {
  return [
    value('RESTIC_BIN', `${TOOLS_DIR}/restic`),
    // The password's file (charts/backup/scripts/lib.sh hands it to restic as RESTIC_PASSWORD_FILE).
    value('RESTIC_KEY_FILE', `${RESTIC_PASSWORD_DIR}/password`),
    value('RESTIC_CACHE_DIR', `${SCRATCH_DIR}/restic-cache`),
    value('RESTIC_RETRY_LOCK', retryLock),
    secret('AWS_ACCESS_KEY_ID', b.objectStorageSecret, OBJECT_STORAGE_KEYS.accessKeyId),
    secret('AWS_SECRET_ACCESS_KEY', b.objectStorageSecret, OBJECT_STORAGE_KEYS.secretAccessKey),
    value('AWS_DEFAULT_REGION', b.region),
    // One history per environment: restic groups snapshots (and finds the parent) by host.
    value('BACKUP_HOST', b.identity.instance),
  ];
}

/**
 * The retention policy of a job's repository. `backups.retention.hourly` is for the job that runs
 * hourly: restic's --keep-hourly counts hours that hold a snapshot, so on the daily dump it would
 * keep that many days of dumps instead of the documented 7 daily (docs/disaster-recovery.md).
 */
function retentionEnv(r: Retention, runs: 'hourly' | 'daily'): IEnvVar[] {
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
    ...TERMINATION_MESSAGE,
  };
}

/** The shipped scripts these containers run, by file name: what the scripts ConfigMap must hold for them. */
function scriptsRun(containers: readonly IContainer[]): string[] {
  return containers.flatMap((c) => c.command?.slice(1).filter((arg) => arg.startsWith(`${SCRIPTS_MOUNT_PATH}/`)) ?? [])
    .map((path) => path.slice(SCRIPTS_MOUNT_PATH.length + 1));
}

/** A request for scratch space on the node (an emptyDir), so the pod lands on a node with room for it. */
function withScratch(resources: IResourceRequirements, scratch: ScratchVolume): IResourceRequirements {
  return scratch.claim ? resources : { ...resources, requests: { ...resources.requests, 'ephemeral-storage': scratch.size } };
}

export interface DatabaseBackupProps extends BackupStore {
  /** The CronJob's name (and its pods' `app.kubernetes.io/name`). */
  readonly name: string;
  /** 5-field cron, UTC. */
  readonly schedule: string;
  /** restic repository of the dumps. */
  readonly repository: string;
  /** How many daily, weekly and monthly dumps the repository keeps. */
  readonly retention: Retention;
  /** Room for the dump. */
  readonly scratch: ScratchVolume;
  /** Where the dump reads from: the host (a Service of the cluster), database and the owner's and CA's Secrets. */
  readonly source: { readonly host: string; readonly database: string; readonly appSecret: string; readonly caSecret: string };
}

/** Daily: pg_dump (custom format) from a replica, verified, stored in the database repository. */
export class DatabaseBackup extends Construct {
  /** The shipped scripts its containers run (charts/backup/scripts). */
  readonly scripts: readonly string[];

  constructor(scope: Construct, id: string, props: DatabaseBackupProps) {
    super(scope, id);
    const { name, source, scratch } = props;
    const dumpEnv = [value('DUMP_DIR', `${SCRATCH_DIR}/dump`), value('DUMP_NAME', dumpName(source.database))];

    const dump = scriptContainer('dump', 'dump-database.sh', withScratch(RESOURCES.dump, scratch), [
      value('PGHOST', source.host),
      value('PGPORT', POSTGRES_PORT),
      value('PGDATABASE', source.database),
      secret('PGUSER', source.appSecret, 'username'),
      secret('PGPASSWORD', source.appSecret, 'password'),
      // The operator's CA signs the server certificate for its Services' names.
      value('PGSSLMODE', 'verify-full'),
      value('PGSSLROOTCERT', `${POSTGRES_CA_DIR}/ca.crt`),
      value('PGAPPNAME', name),
      value('PGCONNECT_TIMEOUT', 30),
      // A replica cancels a long dump when recovery must remove rows it still reads; the
      // script tries again (see dump-database.sh). hot_standby_feedback on the cluster avoids it.
      value('DUMP_ATTEMPTS', 3),
      value('DUMP_RETRY_DELAY_SECONDS', 60),
      ...dumpEnv,
    ], [mount('postgres-ca', POSTGRES_CA_DIR, true)]);

    const store = scriptContainer('store', 'backup-database.sh', withScratch(RESOURCES.restic, scratch), [
      value('RESTIC_REPOSITORY', props.repository),
      ...resticEnv(props, RETRY_LOCK.database),
      value('BACKUP_TAG', DATABASE_TAG),
      ...retentionEnv(props.retention, 'daily'),
      ...dumpEnv,
    ], [mount('restic-binary', TOOLS_DIR, true), mount('restic-password', RESTIC_PASSWORD_DIR, true)]);
    this.scripts = scriptsRun([dump, store]);

    new BackupCronJob(this, 'Job', {
      identity: props.identity,
      name,
      schedule: props.schedule,
      timing: TIMING.database,
      priorityClassName: props.priorityClassName,
      securityContext: restrictedPodSecurityContext(POSTGRES_IMAGE_UID),
      // The binary first: a missing image fails the pod before an hour of dumping.
      initContainers: [resticBinaryContainer(), dump],
      containers: [store],
      volumes: [
        ...commonVolumes(props, scratch),
        { name: 'postgres-ca', secret: { secretName: source.caSecret, items: [{ key: 'ca.crt', path: 'ca.crt' }], defaultMode: 0o444 } },
      ],
    });
  }
}

/** The group IDs of the services, workers and scheduled jobs that write the uploaded files (their runAsUser is also their GID). */
export function uploadsWriterGroups(env: Pick<Environment, 'services' | 'workers'> & Partial<Pick<Environment, 'jobs'>>): number[] {
  const writers = [...Object.values(env.services), ...Object.values(env.workers), ...Object.values(env.jobs ?? {})].filter((s) => s.uses.includes('uploads'));
  return [...new Set(writers.map((s) => s.runAsUser))].sort((a, b) => a - b);
}

export interface FilesBackupProps extends BackupStore {
  /** The CronJob's name (and its pods' `app.kubernetes.io/name`). */
  readonly name: string;
  /** 5-field cron, UTC. */
  readonly schedule: string;
  /** restic repository of the uploaded files. */
  readonly repository: string;
  /** How many hourly, daily, weekly and monthly snapshots the repository keeps. */
  readonly retention: Retention;
  /** The uploads volume's claim and the path the services see it at (restored trees drop back in place). */
  readonly uploads: { readonly claimName: string; readonly mountPath: string };
  /** Groups of the services that write the files, so group-readable files can be read. */
  readonly writerGroups: readonly number[];
}

/** Hourly: a snapshot of the uploaded-files volume, mounted read-only. */
export class FilesBackup extends Construct {
  /** The shipped scripts its containers run (charts/backup/scripts). */
  readonly scripts: readonly string[];

  constructor(scope: Construct, id: string, props: FilesBackupProps) {
    super(scope, id);
    const { uploads } = props;
    // Only restic's cache lives here: no dump, so no need for the database's scratch size.
    const scratch: ScratchVolume = { size: '4Gi' };

    const backup = scriptContainer('backup', 'backup-files.sh', withScratch(RESOURCES.files, { size: '1Gi' }), [
      value('RESTIC_REPOSITORY', props.repository),
      ...resticEnv(props, RETRY_LOCK.files),
      value('BACKUP_TAG', FILES_TAG),
      ...retentionEnv(props.retention, 'hourly'),
      value('SOURCE_DIR', uploads.mountPath),
    ], [
      mount('restic-binary', TOOLS_DIR, true),
      mount('restic-password', RESTIC_PASSWORD_DIR, true),
      mount('uploads', uploads.mountPath, true),
    ]);

    // No fsGroup: the kubelet would otherwise change the group of the whole uploads tree, which
    // belongs to the services that write it. Their groups let restic read group-readable files.
    const podSecurity = restrictedPodSecurityContext(POSTGRES_IMAGE_UID);
    delete podSecurity.fsGroup;
    delete podSecurity.fsGroupChangePolicy;
    const groups = props.writerGroups;
    const securityContext: IPodSecurityContext = { ...podSecurity, ...(groups.length > 0 ? { supplementalGroups: [...groups] } : {}) };

    this.scripts = scriptsRun([backup]);
    new BackupCronJob(this, 'Job', {
      identity: props.identity,
      name: props.name,
      schedule: props.schedule,
      timing: TIMING.files,
      priorityClassName: props.priorityClassName,
      securityContext,
      initContainers: [resticBinaryContainer()],
      containers: [backup],
      volumes: [
        ...commonVolumes(props, scratch),
        // Read-only at the volume too, so nothing in this pod can change an uploaded file.
        { name: 'uploads', persistentVolumeClaim: { claimName: uploads.claimName, readOnly: true } },
      ],
    });
  }
}

export interface BackupVerificationProps extends BackupStore {
  /** The CronJob's name (and its pods' `app.kubernetes.io/name`). */
  readonly name: string;
  /** 5-field cron, UTC. */
  readonly schedule: string;
  /** Room for the newest dump and the database restored from it. */
  readonly scratch: ScratchVolume;
  /** The dumps to restore and the tables that must come back. @default no database to check */
  readonly database?: { readonly repository: string; readonly dumpName: string; readonly verifyTables: readonly string[] };
  /** The uploaded files' repository. @default no files to check */
  readonly files?: { readonly repository: string };
  /** Share of each repository's data `restic check` reads back, in percent. */
  readonly checkReadDataPercent: number;
  /** The newest snapshot of each repository must be younger than this. */
  readonly maxSnapshotAgeHours: number;
}

/** Weekly: restore the newest dump into a throwaway PostgreSQL, check it, check the repositories. */
export class BackupVerification extends Construct {
  /** The shipped scripts its containers run (charts/backup/scripts). */
  readonly scripts: readonly string[];

  constructor(scope: Construct, id: string, props: BackupVerificationProps) {
    super(scope, id);
    const { database, files, scratch } = props;

    const verify = scriptContainer('verify', 'verify-backups.sh', withScratch(RESOURCES.verify, scratch), [
      ...(database ? [value('DATABASE_REPOSITORY', database.repository)] : []),
      ...(files ? [value('FILES_REPOSITORY', files.repository)] : []),
      ...resticEnv(props, RETRY_LOCK.verify),
      ...(database ? [value('DATABASE_TAG', DATABASE_TAG)] : []),
      ...(files ? [value('FILES_TAG', FILES_TAG)] : []),
      ...(database ? [value('DUMP_NAME', database.dumpName)] : []),
      value('WORK_DIR', SCRATCH_DIR),
      ...(database ? [value('VERIFY_TABLES', database.verifyTables.join(' '))] : []),
      value('CHECK_READ_DATA_PERCENT', props.checkReadDataPercent),
      value('MAX_SNAPSHOT_AGE_HOURS', props.maxSnapshotAgeHours),
    ], [
      mount('restic-binary', TOOLS_DIR, true),
      mount('restic-password', RESTIC_PASSWORD_DIR, true),
      // PostgreSQL's shared memory for parallel workers and index builds: the container's
      // default /dev/shm is 64 MiB.
      mount('shm', '/dev/shm'),
    ]);

    this.scripts = scriptsRun([verify]);
    new BackupCronJob(this, 'Job', {
      identity: props.identity,
      name: props.name,
      schedule: props.schedule,
      timing: TIMING.verify,
      priorityClassName: props.priorityClassName,
      securityContext: restrictedPodSecurityContext(POSTGRES_IMAGE_UID),
      initContainers: [resticBinaryContainer()],
      containers: [verify],
      volumes: [...commonVolumes(props, scratch), { name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: '256Mi' } }],
    });
  }
}
