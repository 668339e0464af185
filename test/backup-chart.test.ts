/**
 * The backup chart's objects, built from the small fixtures of test/support/fixtures.ts with the
 * values each test asserts set by the test itself: three CronJobs with everything a production
 * batch job needs, each with its own ServiceAccount (and a NetworkPolicy from the flows, judged
 * over the whole environment's policies), the restic key from the secret manager, the containers'
 * settings matching what the scripts require, and only the jobs an application's data calls for:
 * the box designer without uploads backs up and verifies its database only, an application without
 * data has no backup object at all.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Testing } from 'cdk8s';
import { BackupChart } from '../charts/backup/backup-chart';
import { BackupVerification, dumpName, dumpSource, FilesBackup, TIMING, uploadsWriterGroups, type BackupStore } from '../charts/backup/backup-jobs';
import { scriptsDirectory } from '../charts/backup/backup-scripts';
import { POSTGRES_IMAGE, POSTGRES_IMAGE_UID, RESTIC_IMAGE } from '../charts/common/images';
import { appIdentity, selectorLabels, type AppIdentity } from '../environments/model/identity';
import { buildModel, type Model } from '../environments/model/model';
import { reservedNames } from '../environments/model/names';
import { EnvironmentSchema, type Environment } from '../environments/schema';
import type { K8sObject } from '../pipeline/k8s-object';
import { parseImage } from '../pipeline/policy';
import { policyProblems, schemaProblems, synthObjects } from '../pipeline/synth';
import { AS_PRODUCTION, boxDesigner, boxDesignerPostgresOnly, boxDesignerWithoutData, shop, variant } from './support/fixtures';
import { networkCast, PRIMARY } from './support/network-endpoints';
import { allowed, sideAllows, type Endpoint } from './support/network-policy-evaluator';
import { only, synthConstruct } from './support/synth-construct';

const JOBS = ['backup-database', 'backup-files', 'backup-verify'] as const;
type Job = (typeof JOBS)[number];

/** The backup settings every assertion below reads: set here, not taken from any environment. */
const BACKUPS = {
  databaseSchedule: '7 1 * * *',
  filesSchedule: '17 * * * *',
  verifySchedule: '27 3 * * 6',
  retention: { hourly: 12, daily: 3, weekly: 2, monthly: 1 },
  verifyTables: ['public.orders', 'sales.customers'],
  checkReadDataPercent: 5,
  maxSnapshotAgeHours: 30,
  scratchSize: '7Gi',
};
/** Seconds between two runs of each schedule above. */
const INTERVAL_SECONDS: Record<Job, number> = { 'backup-database': 86400, 'backup-files': 3600, 'backup-verify': 7 * 86400 };

/** The shop (web and api; PostgreSQL, Redis and uploads) with BACKUPS. */
const env = variant(shop, { backups: BACKUPS });
const model = buildModel(env);
/** What the fixture makes of the names (shop: app `shop`, environment `shop`, keyPrefix `shop/test`). */
const SHOP = {
  namespace: 'shop-test',
  instance: 'shop-shop',
  cluster: 'shop-db',
  objectStorageSecret: 'shop-object-storage',
  resticSecret: 'shop-restic',
  resticRemoteKey: 'shop/test/restic',
  databaseRepository: 's3:https://objects.shop.test/shop-backups/restic/database',
  filesRepository: 's3:https://objects.shop.test/shop-backups/restic/uploads',
  uploadsClaim: 'shop-uploads',
  uploadsPath: '/srv/uploads',
  region: 'test-1',
};

/** The backup chart alone. */
function chart(m: Model): K8sObject[] {
  return Testing.synth(new BackupChart(Testing.app(), 'backup', { model: m })) as K8sObject[];
}

const objects = chart(model);
const cronJob = (name: string, from: readonly K8sObject[] = objects) => only(from, 'CronJob', name);
const podSpec = (name: string, from: readonly K8sObject[] = objects) => cronJob(name, from).spec.jobTemplate.spec.template.spec;
const containers = (name: string, from: readonly K8sObject[] = objects): K8sObject[] =>
  [...(podSpec(name, from).initContainers ?? []), ...podSpec(name, from).containers];
const envOf = (c: K8sObject, n: string): K8sObject | undefined => (c.env as K8sObject[]).find((e) => e.name === n);
const valueOf = (c: K8sObject, n: string): string | undefined => envOf(c, n)?.value;
const envNames = (c: K8sObject): string[] => (c.env as K8sObject[]).map((e) => e.name);
const kindsAndNames = (list: readonly K8sObject[]) => list.map((o) => `${o.kind}/${o.metadata.name}`).sort();

/** The box designer with uploaded files and no PostgreSQL (so no database backup). */
function boxDesignerUploadsOnly(): Environment {
  return variant(boxDesigner, { services: { api: { uses: ['uploads'] } } }, (c) => {
    delete c.data.postgres;
    delete c.backups.databaseSchedule;
    delete c.backups.verifyTables;
  });
}

test.each(JOBS)('%s: Forbid, deadlines, retries, history and TTL fitting its schedule, in UTC', (name) => {
  const spec = cronJob(name).spec;
  const interval = INTERVAL_SECONDS[name];
  expect(spec.concurrencyPolicy).toBe('Forbid');
  expect(spec.timeZone).toBe('Etc/UTC');
  expect(spec.startingDeadlineSeconds).toBeGreaterThanOrEqual(300);
  expect(spec.startingDeadlineSeconds).toBeLessThan(interval);
  expect(spec.successfulJobsHistoryLimit).toBeGreaterThanOrEqual(1);
  expect(spec.failedJobsHistoryLimit).toBeGreaterThanOrEqual(1);
  // A kept run's pods keep their scratch volume, the database's size: one run of each outcome.
  if (podSpec(name).volumes.some((v: K8sObject) => v.ephemeral)) {
    expect([spec.successfulJobsHistoryLimit, spec.failedJobsHistoryLimit]).toEqual([1, 1]);
  }
  const job = spec.jobTemplate.spec;
  expect(job.activeDeadlineSeconds).toBeGreaterThan(0);
  expect(job.backoffLimit).toBeGreaterThanOrEqual(1);
  expect(job.backoffLimit).toBeLessThanOrEqual(3);
  // A failed run stays for inspection at least until the next run.
  expect(job.ttlSecondsAfterFinished).toBeGreaterThanOrEqual(interval);
  expect(job.podFailurePolicy.rules).toEqual([
    { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
    { action: 'FailJob', onExitCodes: { operator: 'In', values: [10, 12, 64, 65] } },
  ]);
  expect(job.template.spec.restartPolicy).toBe('Never');
});

test('schedules come from the configuration', () => {
  expect(cronJob('backup-database').spec.schedule).toBe(BACKUPS.databaseSchedule);
  expect(cronJob('backup-files').spec.schedule).toBe(BACKUPS.filesSchedule);
  expect(cronJob('backup-verify').spec.schedule).toBe(BACKUPS.verifySchedule);
  expect(TIMING.files.activeDeadlineSeconds).toBeGreaterThan(TIMING.files.startingDeadlineSeconds);
});

test.each(JOBS)('%s: its own ServiceAccount, no API token, Pod Security restricted, resources on every container', (name) => {
  const sa = only(objects, 'ServiceAccount', name);
  expect(sa.automountServiceAccountToken).toBe(false);
  const spec = podSpec(name);
  expect(spec.serviceAccountName).toBe(name);
  expect(spec.automountServiceAccountToken).toBe(false);
  expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: POSTGRES_IMAGE_UID, seccompProfile: { type: 'RuntimeDefault' } });
  for (const c of containers(name)) {
    expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    for (const kind of ['requests', 'limits']) for (const r of ['cpu', 'memory']) expect(c.resources[kind][r]).toBeDefined();
    expect([POSTGRES_IMAGE, RESTIC_IMAGE]).toContain(c.image);
    expect(parseImage(c.image).digest).toMatch(/^sha256:[a-f0-9]{64}$/);
  }
  // Every volume is one restricted allows, and everything writable lives and dies with the pod.
  for (const v of spec.volumes) expect(Object.keys(v).filter((k) => k !== 'name')).toEqual([expect.stringMatching(/^(emptyDir|ephemeral|configMap|secret|persistentVolumeClaim)$/)]);
});

describe('the whole environment passes the gate (strict schema and every policy rule), whatever data it has', () => {
  const cases: [string, () => Environment][] = [
    ['the shop', () => env],
    ['the shop as production', () => variant(shop, { ...AS_PRODUCTION, backups: BACKUPS })],
    ['the box designer', () => variant(boxDesigner)],
    ['the box designer with PostgreSQL only', boxDesignerPostgresOnly],
    ['the box designer with uploads only', boxDesignerUploadsOnly],
    ['the box designer without data', boxDesignerWithoutData],
  ];
  test.each(cases)('%s', async (_name, build) => {
    const e = build();
    const all = synthObjects(e).map((o) => o.object);
    expect([...await schemaProblems(e, all), ...policyProblems(e, all)]).toEqual([]);
  });
});

test('restic is copied out of its image by an init container; the scripts run in the PostgreSQL image', () => {
  for (const name of JOBS) {
    const [copy] = podSpec(name).initContainers;
    expect(copy).toMatchObject({ name: 'restic-binary', image: RESTIC_IMAGE, command: ['cp', '/usr/bin/restic', '/opt/restic/restic'] });
    for (const c of containers(name).filter((x) => x.name !== 'restic-binary')) {
      expect(c.image).toBe(POSTGRES_IMAGE);
      expect(c.command[0]).toBe('bash');
      expect(c.env).toContainEqual({ name: 'HOME', value: '/tmp' });
    }
  }
  // The dump runs (and is verified) before the container that stores it starts.
  expect(podSpec('backup-database').initContainers.map((c: K8sObject) => c.name)).toEqual(['restic-binary', 'dump']);
  expect(podSpec('backup-database').containers.map((c: K8sObject) => c.name)).toEqual(['store']);
});

/**
 * Names a script requires (require_env, require_uint, require_file_name, and read_retention's) of a
 * container that sets `set`. Some settings are optional (`x=${NAME:-}`); what the script requires
 * besides them is then conditional: inside `if [[ -n $x ]]; then` … `fi`, or after `[[ -z $x ]] ||`.
 */
function requiredSettings(script: string, set: ReadonlySet<string>): { required: string[]; optional: string[] } {
  const text = readFileSync(join(scriptsDirectory(), script), 'utf8');
  const optional = new Map([...text.matchAll(/^([a-z_]+)=\$\{([A-Z_]+):-\}$/gm)].map((m) => [m[1], m[2]]));
  const names: string[] = [];
  let guard: string | undefined;
  for (const line of text.split('\n')) {
    const open = /^if \[\[ -n \$([a-z_]+) \]\]; then$/.exec(line);
    if (open) guard = open[1];
    if (line === 'fi') guard = undefined;
    const m = /^\s*(?:\[\[ -z \$([a-z_]+) \]\] \|\| )?require_(?:env|uint|file_name) ([A-Z_ ]+)$/.exec(line);
    if (!m) continue;
    const condition = m[1] ?? guard;
    const needs = condition === undefined ? true : optional.has(condition) && set.has(optional.get(condition) as string);
    if (needs) names.push(...m[2].trim().split(/\s+/));
  }
  if (/^read_retention$/m.test(text)) names.push('KEEP_HOURLY', 'KEEP_DAILY', 'KEEP_WEEKLY', 'KEEP_MONTHLY');
  if (/restic_run|restic_from/.test(text)) names.push('RESTIC_KEY_FILE', 'RESTIC_CACHE_DIR', 'RESTIC_BIN');
  return { required: [...new Set(names)], optional: [...optional.values()] };
}

test('the parser of the scripts\' requirements reads the conditional ones', () => {
  // Pinned, so that a change in how verify-backups.sh states them fails here and not silently.
  const verify = (set: string[]) => requiredSettings('verify-backups.sh', new Set(set));
  expect(verify([]).optional).toEqual(['DATABASE_REPOSITORY', 'FILES_REPOSITORY']);
  expect(verify(['DATABASE_REPOSITORY']).required).toEqual(expect.arrayContaining(['DATABASE_TAG', 'DUMP_NAME', 'VERIFY_TABLES', 'BACKUP_HOST']));
  expect(verify(['DATABASE_REPOSITORY']).required).not.toContain('FILES_TAG');
  expect(verify(['FILES_REPOSITORY']).required).toContain('FILES_TAG');
  expect(verify(['FILES_REPOSITORY']).required).not.toEqual(expect.arrayContaining(['DUMP_NAME']));
  expect(requiredSettings('dump-database.sh', new Set()).required).toEqual(['PGHOST', 'PGDATABASE', 'PGUSER', 'DUMP_DIR', 'DUMP_NAME', 'DUMP_ATTEMPTS', 'DUMP_RETRY_DELAY_SECONDS']);
});

describe.each([
  ['the shop', () => objects, JOBS],
  ['the box designer with PostgreSQL only', () => chart(buildModel(boxDesignerPostgresOnly())), ['backup-database', 'backup-verify']],
  ['the box designer with uploads only', () => chart(buildModel(boxDesignerUploadsOnly())), ['backup-files', 'backup-verify']],
] as const)('%s: every container has every setting its script requires', (_name, build, jobs) => {
  test.each(jobs)('%s', (name) => {
    const from = build();
    const scripts = containers(name, from).filter((c) => c.command[0] === 'bash');
    expect(scripts.length).toBeGreaterThan(0);
    for (const c of scripts) {
      const script = c.command[1].split('/').pop();
      const names = envNames(c);
      const { required, optional } = requiredSettings(script, new Set(names));
      expect({ script, missing: required.filter((n) => !names.includes(n)) }).toEqual({ script, missing: [] });
      // A script with optional settings needs at least one of them (it has nothing to do otherwise).
      if (optional.length > 0) expect(optional.some((n) => names.includes(n))).toBe(true);
      // Each setting once.
      expect(new Set(names).size).toBe(names.length);
    }
  });
});

test('credentials: the database role from the operator, the bucket from the data tier, the restic key from the secret manager', () => {
  const [, dump] = podSpec('backup-database').initContainers;
  expect(envOf(dump, 'PGUSER')).toEqual({ name: 'PGUSER', valueFrom: { secretKeyRef: { name: `${SHOP.cluster}-app`, key: 'username' } } });
  expect(envOf(dump, 'PGPASSWORD')).toEqual({ name: 'PGPASSWORD', valueFrom: { secretKeyRef: { name: `${SHOP.cluster}-app`, key: 'password' } } });
  expect(valueOf(dump, 'PGSSLMODE')).toBe('verify-full');
  expect(podSpec('backup-database').volumes).toContainEqual({
    name: 'postgres-ca', secret: { secretName: `${SHOP.cluster}-ca`, items: [{ key: 'ca.crt', path: 'ca.crt' }], defaultMode: 0o444 },
  });
  // Neither secret reaches the other container.
  const [store] = podSpec('backup-database').containers;
  expect(JSON.stringify(store)).not.toContain(`${SHOP.cluster}-app`);
  expect(JSON.stringify(dump)).not.toContain(SHOP.objectStorageSecret);
  expect(JSON.stringify(dump)).not.toContain('restic-password');
  for (const name of JOBS) {
    const main = podSpec(name).containers[0];
    expect(envOf(main, 'AWS_ACCESS_KEY_ID')).toEqual({ name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: SHOP.objectStorageSecret, key: 'ACCESS_KEY_ID' } } });
    expect(envOf(main, 'AWS_SECRET_ACCESS_KEY')).toEqual({ name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name: SHOP.objectStorageSecret, key: 'ACCESS_SECRET_KEY' } } });
    expect(valueOf(main, 'RESTIC_KEY_FILE')).toBe('/etc/restic/password');
    // No variable whose name says password, token or secret is set by value (Polaris sensitiveContainerEnvVar).
    expect(podSpec(name).containers.concat(podSpec(name).initContainers ?? []).flatMap((c: K8sObject) => c.env ?? [])
      .filter((e: K8sObject) => /password|token|bearer|secret/i.test(e.name) && 'value' in e)).toEqual([]);
    expect(podSpec(name).volumes).toContainEqual({ name: 'restic-password', secret: { secretName: SHOP.resticSecret, items: [{ key: 'RESTIC_PASSWORD', path: 'password' }], defaultMode: 0o444 } });
  }
  const es = only(objects, 'ExternalSecret');
  expect(es.metadata.name).toBe(SHOP.resticSecret);
  expect(es.spec.data).toEqual([{ secretKey: 'RESTIC_PASSWORD', remoteRef: { key: SHOP.resticRemoteKey, property: 'RESTIC_PASSWORD', conversionStrategy: 'Default', decodingStrategy: 'None', metadataPolicy: 'None' } }]);
  // The object storage credentials are the data tier's ExternalSecret, not made twice.
  const all = synthObjects(env).map((o) => o.object);
  expect(all.filter((o) => o.kind === 'ExternalSecret' && o.metadata.name === SHOP.objectStorageSecret)).toHaveLength(1);
  expect(all.some((o) => o.kind === 'Secret')).toBe(false);
});

test('repositories, host, tags and retention from the configuration', () => {
  const [store] = podSpec('backup-database').containers;
  const [files] = podSpec('backup-files').containers;
  const [verify] = podSpec('backup-verify').containers;
  expect(valueOf(store, 'RESTIC_REPOSITORY')).toBe(SHOP.databaseRepository);
  expect(valueOf(files, 'RESTIC_REPOSITORY')).toBe(SHOP.filesRepository);
  expect(valueOf(verify, 'DATABASE_REPOSITORY')).toBe(SHOP.databaseRepository);
  expect(valueOf(verify, 'FILES_REPOSITORY')).toBe(SHOP.filesRepository);
  for (const c of [store, files, verify]) {
    expect(valueOf(c, 'BACKUP_HOST')).toBe(SHOP.instance);
    expect(valueOf(c, 'AWS_DEFAULT_REGION')).toBe(SHOP.region);
  }
  expect([valueOf(store, 'BACKUP_TAG'), valueOf(files, 'BACKUP_TAG')]).toEqual(['database', 'uploads']);
  expect([valueOf(verify, 'DATABASE_TAG'), valueOf(verify, 'FILES_TAG')]).toEqual(['database', 'uploads']);
  // The hourly rule for the hourly files job only: on daily dumps it would keep that many days of them.
  const keep = (c: K8sObject) => [valueOf(c, 'KEEP_HOURLY'), valueOf(c, 'KEEP_DAILY'), valueOf(c, 'KEEP_WEEKLY'), valueOf(c, 'KEEP_MONTHLY')];
  expect(keep(files)).toEqual(['12', '3', '2', '1']);
  expect(keep(store)).toEqual(['0', '3', '2', '1']);
  expect(valueOf(verify, 'VERIFY_TABLES')).toBe('public.orders sales.customers');
  expect(valueOf(verify, 'CHECK_READ_DATA_PERCENT')).toBe('5');
  expect(valueOf(verify, 'MAX_SNAPSHOT_AGE_HOURS')).toBe('30');
  // The dump is stored and restored under the database's name.
  expect(valueOf(verify, 'DUMP_NAME')).toBe('shop.dump');
  expect(valueOf(store, 'DUMP_NAME')).toBe('shop.dump');
  expect(dumpName('orders')).toBe('orders.dump');
});

test('the dump reads from the replicas, or from the one instance when there are none, of the cluster that serves the application', () => {
  const dump = (e: Environment) => podSpec('backup-database', chart(buildModel(e))).initContainers[1];
  const host = (e: Environment) => valueOf(dump(e), 'PGHOST');
  expect(host(env)).toBe(`${SHOP.cluster}-ro`);
  expect(host(variant(shop, { data: { postgres: { instances: 1 } } }))).toBe(`${SHOP.cluster}-r`);
  expect(dumpSource('any-db', 3)).toBe('any-db-ro');
  expect(dumpSource('any-db', 1)).toBe('any-db-r');
  // After a recovery the environment names the recovered cluster: the nightly dump follows it,
  // with its credentials and its CA.
  const recovered = variant(shop, { data: { postgres: { name: 'shop-db-restore-202611220315', recovery: { source: 'shop-db', targetTime: '2026-11-22T03:15:00Z' } } } });
  const d = dump(recovered);
  expect(valueOf(d, 'PGHOST')).toBe('shop-db-restore-202611220315-ro');
  expect(envOf(d, 'PGUSER')?.valueFrom.secretKeyRef.name).toBe('shop-db-restore-202611220315-app');
  expect(podSpec('backup-database', chart(buildModel(recovered))).volumes).toContainEqual(expect.objectContaining({
    name: 'postgres-ca', secret: expect.objectContaining({ secretName: 'shop-db-restore-202611220315-ca' }),
  }));
  expect(valueOf(dump(variant(shop, { data: { postgres: { database: 'orders', owner: 'orders' } } })), 'PGDATABASE')).toBe('orders');
});

test('scratch space: a volume of its own per run, sized from the configuration, of the configured class; memory-backed /dev/shm for the throwaway server', () => {
  const scratch = (name: string, objects?: K8sObject[]) => podSpec(name, objects).volumes.find((v: K8sObject) => v.name === 'scratch');
  // Made with the pod and deleted with it: a whole restored database does not fit a node's disk.
  const claim = (size: string, storageClassName?: string) => ({
    name: 'scratch',
    ephemeral: {
      volumeClaimTemplate: {
        metadata: { labels: { 'app.kubernetes.io/part-of': 'shop', 'app.kubernetes.io/component': 'backup' } },
        spec: { accessModes: ['ReadWriteOnce'], volumeMode: 'Filesystem', ...(storageClassName ? { storageClassName } : {}), resources: { requests: { storage: size } } },
      },
    },
  });
  expect(scratch('backup-database')).toEqual(claim(BACKUPS.scratchSize));
  expect(scratch('backup-verify')).toEqual(claim(BACKUPS.scratchSize));
  // Nothing of it asked from the node's own disk.
  const [dump] = podSpec('backup-database').initContainers.slice(1);
  expect(dump.resources.requests['ephemeral-storage']).toBeUndefined();
  expect(podSpec('backup-verify').containers[0].resources.requests['ephemeral-storage']).toBeUndefined();
  expect(podSpec('backup-verify').volumes).toContainEqual({ name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: '256Mi' } });
  // Unset, the database's own size; a class when configured.
  const sized = chart(buildModel(variant(shop, { backups: { scratchStorageClass: 'scratch-ssd' } }, (c) => { delete c.backups.scratchSize; })));
  expect(scratch('backup-verify', sized)).toEqual(claim('5Gi', 'scratch-ssd'));
  expect(scratch('backup-database', sized)).toEqual(claim('5Gi', 'scratch-ssd'));
});

test('without PostgreSQL the restore test checks the files repository only, on a small emptyDir', () => {
  const filesOnly = chart(buildModel(variant(shop, { services: { api: { uses: ['redis', 'uploads'] } } }, (c) => {
    delete c.data.postgres;
    delete c.services.api.env.DB_URL;
    delete c.backups.databaseSchedule;
    delete c.backups.verifyTables;
    delete c.backups.scratchSize;
  })));
  expect(podSpec('backup-verify', filesOnly).volumes.find((v: K8sObject) => v.name === 'scratch')).toEqual({ name: 'scratch', emptyDir: { sizeLimit: '4Gi' } });
  expect(podSpec('backup-verify', filesOnly).containers[0].resources.requests['ephemeral-storage']).toBe('4Gi');
});

describe('the files job reads the uploads volume read-only, with the writers\' groups, without changing its ownership', () => {
  test('the volume, read-only at the claim and at the mount, no fsGroup', () => {
    const spec = podSpec('backup-files');
    expect(spec.volumes).toContainEqual({ name: 'uploads', persistentVolumeClaim: { claimName: SHOP.uploadsClaim, readOnly: true } });
    expect(spec.containers[0].volumeMounts).toContainEqual({ name: 'uploads', mountPath: SHOP.uploadsPath, readOnly: true });
    expect(valueOf(spec.containers[0], 'SOURCE_DIR')).toBe(SHOP.uploadsPath);
    expect(spec.securityContext.fsGroup).toBeUndefined();
    expect(spec.securityContext.fsGroupChangePolicy).toBeUndefined();
    // In the shop only the api (runAsUser 1000) writes uploads.
    expect(spec.securityContext.supplementalGroups).toEqual([1000]);
  });

  test('every service and worker that uses the uploads lends its group, once, in order', () => {
    const both = variant(shop, { backups: BACKUPS, services: { web: { uses: ['uploads'], runAsUser: 1003 } } });
    expect(podSpec('backup-files', chart(buildModel(both))).securityContext.supplementalGroups).toEqual([1000, 1003]);
    const workloads = (entries: [string, number, string[]][]) => Object.fromEntries(entries.map(([n, runAsUser, uses]) => [n, { runAsUser, uses }])) as unknown as Environment['services'];
    const groups = (services: [string, number, string[]][], workers: [string, number, string[]][] = []) =>
      uploadsWriterGroups({ services: workloads(services), workers: workloads(workers) as unknown as Environment['workers'] });
    expect(groups([['a', 2000, ['uploads']], ['b', 1500, ['uploads', 'postgres']], ['c', 2000, ['uploads']], ['d', 1200, ['redis']]])).toEqual([1500, 2000]);
    expect(groups([['a', 2000, ['postgres']]])).toEqual([]);
    expect(groups([['a', 2000, ['uploads']]], [['renderer', 1100, ['uploads']], ['mailer', 1200, ['postgres']]])).toEqual([1100, 2000]);
  });

  test('with no writer, no supplementalGroups at all', () => {
    const store: BackupStore = { identity: appIdentity(env), region: 'r', objectStorageSecret: 'os', resticSecret: 'rs', scriptsConfigMap: 'cm' };
    const built = synthConstruct((s) => new FilesBackup(s, 'files', {
      ...store, name: 'files-job', schedule: '0 * * * *', repository: 'local:/r', retention: { hourly: 1, daily: 1, weekly: 0, monthly: 0 },
      uploads: { claimName: 'claim', mountPath: '/u' }, writerGroups: [],
    }));
    expect(podSpec('files-job', built).securityContext.supplementalGroups).toBeUndefined();
  });
});

describe('only the backups an application\'s data calls for', () => {
  test('the box designer with PostgreSQL only: the database backup and a verification of the database only, no files backup', () => {
    const e = boxDesignerPostgresOnly();
    const built = chart(buildModel(e));
    expect(kindsAndNames(built)).toEqual([
      'ConfigMap/backup-scripts', 'CronJob/backup-database', 'CronJob/backup-verify', 'ExternalSecret/box-designer-restic',
      'ServiceAccount/backup-database', 'ServiceAccount/backup-verify',
    ]);
    const [verify] = podSpec('backup-verify', built).containers;
    expect(valueOf(verify, 'DATABASE_REPOSITORY')).toBe('s3:https://objects.boxes.test/box-designer-backups/restic/database');
    expect(valueOf(verify, 'DUMP_NAME')).toBe('boxes.dump');
    expect(valueOf(verify, 'VERIFY_TABLES')).toBe('public.designs');
    expect(envNames(verify).filter((n) => n.startsWith('FILES_'))).toEqual([]);
    expect(Object.keys(only(built, 'ConfigMap').data)).toEqual(['backup-database.sh', 'dump-database.sh', 'lib.sh', 'verify-backups.sh']);
    // Nothing of uploads in the whole environment's backups, not even a flow or a policy.
    const all = synthObjects(e).map((o) => o.object);
    expect(all.filter((o) => o.metadata.name === 'backup-files')).toEqual([]);
    expect(all.filter((o) => o.kind === 'NetworkPolicy' && o.metadata.name.startsWith('backup-')).map((o) => o.metadata.name).sort())
      .toEqual(['backup-database', 'backup-verify']);
  });

  test('the box designer with uploads only: the files backup and a verification of the files only, no database backup', () => {
    const built = chart(buildModel(boxDesignerUploadsOnly()));
    expect(kindsAndNames(built)).toEqual([
      'ConfigMap/backup-scripts', 'CronJob/backup-files', 'CronJob/backup-verify', 'ExternalSecret/box-designer-restic',
      'ServiceAccount/backup-files', 'ServiceAccount/backup-verify',
    ]);
    const [verify] = podSpec('backup-verify', built).containers;
    expect(valueOf(verify, 'FILES_REPOSITORY')).toBe('s3:https://objects.boxes.test/box-designer-backups/restic/uploads');
    expect(envNames(verify).filter((n) => /^(DATABASE_|DUMP_|VERIFY_)/.test(n))).toEqual([]);
    expect(Object.keys(only(built, 'ConfigMap').data)).toEqual(['backup-files.sh', 'lib.sh', 'verify-backups.sh']);
  });

  test('the box designer without data: no backup object at all', () => {
    const e = boxDesignerWithoutData();
    expect(chart(buildModel(e))).toEqual([]);
    const all = synthObjects(e).map((o) => o.object);
    expect(all.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'backup')).toEqual([]);
    // (The smoke test's ConfigMap is the services', the dashboards' and the uptime checks' are the monitoring's, not a backup's.)
    const others = ['smoke-test', 'monitoring'];
    expect(all.filter((o) => ['CronJob', 'ExternalSecret', 'ConfigMap'].includes(o.kind) && !others.includes(o.metadata.labels?.['app.kubernetes.io/component']))).toEqual([]);
    expect(all.filter((o) => JOBS.some((j) => o.metadata.name === j) || o.metadata.name === 'backup-scripts')).toEqual([]);
  });

  test('the verification construct sets only the repositories it is given', () => {
    const store: BackupStore = { identity: appIdentity(env), region: 'r', objectStorageSecret: 'os', resticSecret: 'rs', scriptsConfigMap: 'cm' };
    const verify = (database?: { repository: string; dumpName: string; verifyTables: string[] }, files?: { repository: string }) =>
      podSpec('v', synthConstruct((s) => new BackupVerification(s, 'v', {
        ...store, name: 'v', schedule: '0 0 * * 0', scratch: { size: '1Gi' }, database, files, checkReadDataPercent: 1, maxSnapshotAgeHours: 2,
      }))).containers[0];
    const database = { repository: 'local:/db', dumpName: 'x.dump', verifyTables: ['t', 's.u'] };
    const optional = (c: K8sObject) => envNames(c).filter((n) => /^(DATABASE_|FILES_|DUMP_NAME|VERIFY_TABLES)/.test(n)).sort();
    expect(optional(verify(database))).toEqual(['DATABASE_REPOSITORY', 'DATABASE_TAG', 'DUMP_NAME', 'VERIFY_TABLES']);
    expect(optional(verify(undefined, { repository: 'local:/f' }))).toEqual(['FILES_REPOSITORY', 'FILES_TAG']);
    expect(optional(verify(database, { repository: 'local:/f' }))).toEqual(['DATABASE_REPOSITORY', 'DATABASE_TAG', 'DUMP_NAME', 'FILES_REPOSITORY', 'FILES_TAG', 'VERIFY_TABLES']);
    expect(valueOf(verify(database), 'VERIFY_TABLES')).toBe('t s.u');
  });
});

describe('network: the database and the object storage, nothing else', () => {
  // Pods as the environment runs them: the CronJobs' templates, CloudNativePG's labels.
  const all = synthObjects(env).map((o) => o.object);
  const cast = networkCast(env, variant(boxDesigner), all);
  const policies = cast.policies;
  const primary = cast.pod(PRIMARY);
  const pooler = cast.pod(`${SHOP.cluster}-pooler`);
  const api = cast.pod('api');
  const redis = cast.pod('shop-redis');
  const objectStore: Endpoint = { ip: '203.0.113.10' };
  const identity: AppIdentity = appIdentity(env);

  test.each(JOBS)('%s has its own policy: no ingress at all', (name) => {
    const np = only(all, 'NetworkPolicy', name);
    expect(np.spec.podSelector).toEqual({ matchLabels: selectorLabels(identity, name) });
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(np.spec.ingress).toEqual([]);
    expect(sideAllows(policies, 'Ingress', cast.pod(name), api, 8080)).toBe(false);
  });

  test('the dump job reaches the PostgreSQL instances on 5432 (and their policy lets it in)', () => {
    expect(allowed(policies, cast.pod('backup-database'), primary, 5432)).toBe(true);
    expect(allowed(policies, cast.pod('backup-database'), primary, 8000)).toBe(false);
  });

  test('the dump job does not reach PgBouncer', () => {
    expect(allowed(policies, cast.pod('backup-database'), pooler, 5432)).toBe(false);
  });

  test.each(JOBS)('%s reaches the object storage on 443 and no private or link-local address', (name) => {
    expect(allowed(policies, cast.pod(name), objectStore, 443)).toBe(true);
    expect(allowed(policies, cast.pod(name), objectStore, 80)).toBe(false);
    for (const ip of ['10.0.0.1', '172.16.0.1', '192.168.1.1', '100.64.0.1', '169.254.169.254']) {
      expect({ ip, allowed: allowed(policies, cast.pod(name), { ip }, 443) }).toEqual({ ip, allowed: false });
    }
    expect(allowed(policies, cast.pod(name), api, 8080)).toBe(false);
    expect(allowed(policies, cast.pod(name), redis, 6379)).toBe(false);
  });

  test.each(['backup-files', 'backup-verify'])('%s never reaches the database', (name) => {
    expect(allowed(policies, cast.pod(name), primary, 5432)).toBe(false);
  });

  test('an object store on a private network: only its ranges, on the endpoint URL\'s port', () => {
    const local = variant(shop, { objectStorage: { endpointURL: 'https://minio.storage.internal:9000', cidrs: ['10.20.0.0/16'] } });
    const localPolicies = synthObjects(local).map((o) => o.object).filter((o) => o.kind === 'NetworkPolicy');
    for (const name of JOBS) {
      expect(allowed(localPolicies, cast.pod(name), { ip: '10.20.3.4' }, 9000)).toBe(true);
      expect(allowed(localPolicies, cast.pod(name), { ip: '10.20.3.4' }, 443)).toBe(false);
      expect(allowed(localPolicies, cast.pod(name), { ip: '203.0.113.10' }, 9000)).toBe(false);
      expect(allowed(localPolicies, cast.pod(name), { ip: '10.21.0.1' }, 9000)).toBe(false);
    }
  });

  test('with PostgreSQL only, the dump job still reaches the database and the verification still does not', () => {
    const e = boxDesignerPostgresOnly();
    const c = networkCast(e, env);
    expect(allowed(c.policies, c.pod('backup-database'), c.pod(PRIMARY), 5432)).toBe(true);
    expect(allowed(c.policies, c.pod('backup-verify'), c.pod(PRIMARY), 5432)).toBe(false);
    expect(allowed(c.policies, c.pod('backup-verify'), objectStore, 443)).toBe(true);
    expect(c.own).not.toContain('backup-files');
  });
});

test('names: fixed and short enough for a CronJob (52 characters), and no service may take them', () => {
  const b = model.data.backups;
  if (!b?.database || !b.uploads) throw new Error('the shop has database and files backups');
  expect([b.database.job, b.uploads.job, b.verifyJob]).toEqual([...JOBS]);
  for (const name of [b.database.job, b.uploads.job, b.verifyJob]) {
    expect(name.length).toBeLessThanOrEqual(52);
    expect(reservedNames(env)).toContain(name);
  }
  expect(reservedNames(env)).toEqual(expect.arrayContaining([b.scriptsConfigMap, b.resticSecret, b.objectStorageSecret]));
  // Only the jobs an application has are reserved.
  expect(reservedNames(boxDesignerPostgresOnly())).not.toContain('backup-files');
  expect(reservedNames(boxDesignerWithoutData()).filter((n) => n.startsWith('backup-'))).toEqual([]);
});

test('every object carries the backup component and the environment\'s labels', () => {
  for (const o of objects) {
    expect(o.metadata.namespace).toBe(SHOP.namespace);
    expect(o.metadata.labels['app.kubernetes.io/instance']).toBe(SHOP.instance);
    expect(o.metadata.labels['app.kubernetes.io/component']).toBe('backup');
  }
  for (const name of JOBS) {
    expect(cronJob(name).spec.jobTemplate.spec.template.metadata.labels).toMatchObject({
      ...selectorLabels(model.identity, name), 'app.kubernetes.io/component': 'backup',
    });
  }
});

describe('configuration', () => {
  const objectStorage = EnvironmentSchema.shape.objectStorage;
  const base = { endpointURL: 'https://s3.example.org', bucket: 'backups-test' };

  test('objectStorage.cidrs: IPv4 and IPv6 ranges in CIDR notation, nothing else', () => {
    expect(objectStorage.safeParse({ ...base, cidrs: ['10.20.0.0/16', '203.0.113.7/32', '2001:db8::/32'] }).success).toBe(true);
    for (const bad of ['10.0.0.0/33', '10.0.0.0', '10.0.0/8', 'storage.internal/24', '::/129', '10.0.0.0/8/1', '10.0.0.0/ 8']) {
      const r = objectStorage.safeParse({ ...base, cidrs: [bad] });
      expect({ bad, success: r.success }).toEqual({ bad, success: false });
      expect(r.error?.issues[0].message).toMatch(/is not an address range in CIDR notation/);
    }
    expect(objectStorage.safeParse({ ...base, cidrs: [] }).success).toBe(false);
    expect(objectStorage.parse(base)?.cidrs).toBeUndefined();
  });

  test('backup defaults: 24 hourly snapshots, the database\'s size of scratch, 48 hours before a snapshot counts as stale, 10% read back', () => {
    const b = EnvironmentSchema.shape.backups.parse({
      databaseSchedule: '15 2 * * *', filesSchedule: '40 * * * *', verifySchedule: '30 4 * * 0',
      retention: { daily: 7, weekly: 4, monthly: 12 }, verifyTables: ['public.students'],
    });
    expect(b).toMatchObject({ retention: { hourly: 24, daily: 7, weekly: 4, monthly: 12 }, maxSnapshotAgeHours: 48, checkReadDataPercent: 10 });
    expect(b?.scratchSize).toBeUndefined();
    // What a fixture that sets none of them gets in its jobs.
    const defaults = chart(buildModel(variant(shop)));
    const [files] = podSpec('backup-files', defaults).containers;
    const [verify] = podSpec('backup-verify', defaults).containers;
    expect(valueOf(files, 'KEEP_HOURLY')).toBe('24');
    expect([valueOf(verify, 'MAX_SNAPSHOT_AGE_HOURS'), podSpec('backup-verify', defaults).volumes.find((v: K8sObject) => v.name === 'scratch').ephemeral.volumeClaimTemplate.spec.resources.requests.storage])
      .toEqual(['48', '5Gi']);
  });
});
