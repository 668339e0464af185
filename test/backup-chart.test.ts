/**
 * The backup chart's objects: three CronJobs with everything a production batch job needs, each
 * with its own ServiceAccount and NetworkPolicy (flows judged over the whole environment's
 * policies), the restic key from the secret manager, and the containers' settings matching what
 * the scripts require.
 */
import { Testing } from 'cdk8s';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BackupChart } from '../charts/backup/backup-chart';
import { TIMING, uploadsWriterGroups } from '../charts/backup/backup-jobs';
import { scriptsDirectory } from '../charts/backup/backup-scripts';
import { POSTGRES_IMAGE, POSTGRES_IMAGE_UID, RESTIC_IMAGE } from '../charts/common/images';
import { instanceOf, selectorLabels } from '../environments/model/identity';
import { dataEndpoints, reservedNames } from '../environments/model/names';
import type { K8sObject } from '../pipeline/k8s-object';
import { checkPolicy, parseImage } from '../pipeline/policy';
import { synthObjects } from '../pipeline/synth';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { EnvironmentSchema, type Environment } from '../environments/schema';
import { networkCast, PRIMARY } from './support/network-endpoints';
import { allowed, sideAllows, type Endpoint, type Pod } from './support/network-policy-evaluator';
import { only } from './support/synth-construct';

const [staging, production] = resolveEnvironments(environments, process.cwd());
const JOBS = ['backup-database', 'backup-files', 'backup-verify'] as const;
const INTERVAL_SECONDS: Record<(typeof JOBS)[number], number> = { 'backup-database': 86400, 'backup-files': 3600, 'backup-verify': 7 * 86400 };

/** The backup chart alone, for environments changed in a test. */
function chart(env: Environment): K8sObject[] {
  return Testing.synth(new BackupChart(Testing.app(), 'backup', { env })) as K8sObject[];
}

const objects = synthObjects(production).map((o) => o.object);
const cronJob = (name: string, from: readonly K8sObject[] = objects) => only(from, 'CronJob', name);
const podSpec = (name: string, from: readonly K8sObject[] = objects) => cronJob(name, from).spec.jobTemplate.spec.template.spec;
const containers = (name: string, from: readonly K8sObject[] = objects): K8sObject[] => [...(podSpec(name, from).initContainers ?? []), ...podSpec(name, from).containers];

test.each(JOBS)('%s: Forbid, deadlines, retries, history and TTL fitting its schedule, in UTC', (name) => {
  const spec = cronJob(name).spec;
  const interval = INTERVAL_SECONDS[name];
  expect(spec.concurrencyPolicy).toBe('Forbid');
  expect(spec.timeZone).toBe('Etc/UTC');
  expect(spec.startingDeadlineSeconds).toBeGreaterThanOrEqual(300);
  expect(spec.startingDeadlineSeconds).toBeLessThan(interval);
  expect(spec.successfulJobsHistoryLimit).toBeGreaterThanOrEqual(1);
  expect(spec.failedJobsHistoryLimit).toBeGreaterThanOrEqual(1);
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
  expect(cronJob('backup-database').spec.schedule).toBe(production.backups.databaseSchedule);
  expect(cronJob('backup-files').spec.schedule).toBe(production.backups.filesSchedule);
  expect(cronJob('backup-verify').spec.schedule).toBe(production.backups.verifySchedule);
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
  // Every volume is one restricted allows, and everything writable is an emptyDir.
  for (const v of spec.volumes) expect(Object.keys(v).filter((k) => k !== 'name')).toEqual([expect.stringMatching(/^(emptyDir|configMap|secret|persistentVolumeClaim)$/)]);
});

test('the whole environment passes every policy rule', () => {
  expect(checkPolicy(objects, { production: true, appImageRepositories: new Set(Object.values(production.services).map((s) => s.image.repository)) })).toEqual([]);
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

/** Names a script requires (require_env, require_uint, require_file_name, and read_retention's). */
function requiredSettings(script: string): string[] {
  const text = readFileSync(join(scriptsDirectory(), script), 'utf8');
  const names = [...text.matchAll(/^\s*require_(?:env|uint|file_name) ([A-Z_ ]+)$/gm)].flatMap((m) => m[1].trim().split(/\s+/));
  if (/^read_retention$/m.test(text)) names.push('KEEP_HOURLY', 'KEEP_DAILY', 'KEEP_WEEKLY', 'KEEP_MONTHLY');
  if (/restic_run|restic_from/.test(text)) names.push('RESTIC_PASSWORD_FILE', 'RESTIC_CACHE_DIR', 'RESTIC_BIN');
  return [...new Set(names)];
}

test.each(JOBS)('%s: every container has every setting its script requires', (name) => {
  const scripts = containers(name).filter((c) => c.command[0] === 'bash');
  expect(scripts.length).toBeGreaterThan(0);
  for (const c of scripts) {
    const script = c.command[1].split('/').pop();
    const names = (c.env as K8sObject[]).map((e) => e.name);
    expect({ script, missing: requiredSettings(script).filter((n) => !names.includes(n)) }).toEqual({ script, missing: [] });
    // Each setting once.
    expect(new Set(names).size).toBe(names.length);
  }
});

test('credentials: the database role from the operator, the bucket from the data tier, the restic key from the secret manager', () => {
  const data = dataEndpoints(production);
  const env = (container: K8sObject, n: string) => (container.env as K8sObject[]).find((e) => e.name === n);
  const [, dump] = podSpec('backup-database').initContainers;
  expect(env(dump, 'PGUSER')).toEqual({ name: 'PGUSER', valueFrom: { secretKeyRef: { name: data.postgres.appSecret, key: 'username' } } });
  expect(env(dump, 'PGPASSWORD')).toEqual({ name: 'PGPASSWORD', valueFrom: { secretKeyRef: { name: data.postgres.appSecret, key: 'password' } } });
  expect(env(dump, 'PGSSLMODE')?.value).toBe('verify-full');
  // Neither secret reaches the other container.
  const [store] = podSpec('backup-database').containers;
  expect(JSON.stringify(store)).not.toContain(data.postgres.appSecret);
  expect(JSON.stringify(dump)).not.toContain(data.backups.objectStorageSecret);
  expect(JSON.stringify(dump)).not.toContain('restic-password');
  for (const name of JOBS) {
    const main = podSpec(name).containers[0];
    expect(env(main, 'AWS_ACCESS_KEY_ID')).toEqual({ name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: 'student-portal-object-storage', key: 'ACCESS_KEY_ID' } } });
    expect(env(main, 'AWS_SECRET_ACCESS_KEY')).toEqual({ name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name: 'student-portal-object-storage', key: 'ACCESS_SECRET_KEY' } } });
    expect(env(main, 'RESTIC_PASSWORD_FILE')?.value).toBe('/etc/restic/password');
    expect(podSpec(name).volumes).toContainEqual({ name: 'restic-password', secret: { secretName: 'student-portal-restic', items: [{ key: 'RESTIC_PASSWORD', path: 'password' }], defaultMode: 0o444 } });
  }
  const backupObjects = chart(production);
  const es = only(backupObjects, 'ExternalSecret');
  expect(es.metadata.name).toBe('student-portal-restic');
  expect(es.spec.data).toEqual([{ secretKey: 'RESTIC_PASSWORD', remoteRef: { key: 'student-portal/production/restic', property: 'RESTIC_PASSWORD' } }]);
  // The object storage credentials are the data tier's ExternalSecret, not made twice.
  expect(backupObjects.filter((o) => o.kind === 'ExternalSecret').map((o) => o.metadata.name)).toEqual(['student-portal-restic']);
  expect(objects.filter((o) => o.kind === 'ExternalSecret' && o.metadata.name === 'student-portal-object-storage')).toHaveLength(1);
  expect(objects.some((o) => o.kind === 'Secret')).toBe(false);
});

test('repositories, host, tags and retention from the configuration', () => {
  const data = dataEndpoints(production);
  const value = (c: K8sObject, n: string) => (c.env as K8sObject[]).find((e) => e.name === n)?.value;
  const [store] = podSpec('backup-database').containers;
  const [files] = podSpec('backup-files').containers;
  const [verify] = podSpec('backup-verify').containers;
  expect(value(store, 'RESTIC_REPOSITORY')).toBe(data.backups.databaseRepository);
  expect(value(files, 'RESTIC_REPOSITORY')).toBe(data.backups.uploadsRepository);
  expect(value(verify, 'DATABASE_REPOSITORY')).toBe(data.backups.databaseRepository);
  expect(value(verify, 'FILES_REPOSITORY')).toBe(data.backups.uploadsRepository);
  for (const c of [store, files, verify]) {
    expect(value(c, 'BACKUP_HOST')).toBe(instanceOf(production));
    expect(value(c, 'AWS_DEFAULT_REGION')).toBe(production.objectStorage.region);
  }
  // The hourly rule for the hourly files job only: on daily dumps it would keep 24 days of them.
  const keep = (c: K8sObject) => [value(c, 'KEEP_HOURLY'), value(c, 'KEEP_DAILY'), value(c, 'KEEP_WEEKLY'), value(c, 'KEEP_MONTHLY')];
  expect(keep(files)).toEqual(['24', '7', '4', '12']);
  expect(keep(store)).toEqual(['0', '7', '4', '12']);
  expect(value(verify, 'VERIFY_TABLES')).toBe('public.students public.courses public.enrollments');
});

test('the dump reads from the replicas, or from the one instance when there are none', () => {
  const host = (env: Environment) => (podSpec('backup-database', chart(env)).initContainers[1].env as K8sObject[]).find((e) => e.name === 'PGHOST')?.value;
  expect(host(production)).toBe('student-portal-db-ro');
  expect(host(staging)).toBe('student-portal-db-ro');
  expect(host({ ...staging, data: { ...staging.data, postgres: { ...staging.data.postgres, instances: 1 } } })).toBe('student-portal-db-r');
});

test('scratch space: sized from the configuration, requested from the node, memory-backed /dev/shm for the throwaway server', () => {
  const scratch = (name: string) => podSpec(name).volumes.find((v: K8sObject) => v.name === 'scratch').emptyDir.sizeLimit;
  expect(scratch('backup-database')).toBe(production.backups.scratchSize);
  expect(scratch('backup-verify')).toBe(production.backups.scratchSize);
  const [dump] = podSpec('backup-database').initContainers.slice(1);
  expect(dump.resources.requests['ephemeral-storage']).toBe(production.backups.scratchSize);
  expect(podSpec('backup-verify').volumes).toContainEqual({ name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: '256Mi' } });
});

test('the files job reads the uploads volume read-only, with the writers\' groups, without changing its ownership', () => {
  const spec = podSpec('backup-files');
  expect(spec.volumes).toContainEqual({ name: 'uploads', persistentVolumeClaim: { claimName: 'student-portal-uploads', readOnly: true } });
  expect(spec.containers[0].volumeMounts).toContainEqual({ name: 'uploads', mountPath: production.data.uploads.mountPath, readOnly: true });
  expect(spec.securityContext.fsGroup).toBeUndefined();
  expect(spec.securityContext.fsGroupChangePolicy).toBeUndefined();
  const writers = Object.values(production.services).filter((s) => s.uses.includes('uploads')).map((s) => s.runAsUser);
  expect(uploadsWriterGroups(production)).toEqual([...new Set(writers)].sort((a, b) => a - b));
  if (writers.length > 0) expect(spec.securityContext.supplementalGroups).toEqual(uploadsWriterGroups(production));
});

describe('network: the database and the object storage, nothing else', () => {
  // Pods as the environment runs them: the CronJobs' templates, CloudNativePG's labels.
  const cast = networkCast(production, staging, objects);
  const policies = cast.policies;
  const data = dataEndpoints(production);
  const pod = (name: string): Pod => cast.pod(name);
  const primary = cast.pod(PRIMARY);
  const pooler = cast.pod(data.postgres.pooler);
  const api = cast.pod('api');
  const redis = cast.pod(data.redis.name);
  const objectStore: Endpoint = { ip: '203.0.113.10' };

  test.each(JOBS)('%s has its own policy: no ingress at all', (name) => {
    const np = only(objects, 'NetworkPolicy', name);
    expect(np.spec.podSelector).toEqual({ matchLabels: selectorLabels(production, name) });
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(np.spec.ingress).toEqual([]);
    expect(sideAllows(policies, 'Ingress', pod(name), api, 8080)).toBe(false);
  });

  test('the dump job reaches the PostgreSQL instances on 5432 (and their policy lets it in)', () => {
    expect(allowed(policies, pod('backup-database'), primary, 5432)).toBe(true);
    expect(allowed(policies, pod('backup-database'), primary, 8000)).toBe(false);
  });

  test('the dump job does not reach PgBouncer', () => {
    expect(allowed(policies, pod('backup-database'), pooler, 5432)).toBe(false);
  });

  test.each(JOBS)('%s reaches the object storage on 443 and no private or link-local address', (name) => {
    expect(allowed(policies, pod(name), objectStore, 443)).toBe(true);
    expect(allowed(policies, pod(name), objectStore, 80)).toBe(false);
    for (const ip of ['10.0.0.1', '172.16.0.1', '192.168.1.1', '100.64.0.1', '169.254.169.254']) {
      expect({ ip, allowed: allowed(policies, pod(name), { ip }, 443) }).toEqual({ ip, allowed: false });
    }
    expect(allowed(policies, pod(name), api, 8080)).toBe(false);
    expect(allowed(policies, pod(name), redis, 6379)).toBe(false);
  });

  test.each(['backup-files', 'backup-verify'])('%s never reaches the database', (name) => {
    expect(allowed(policies, pod(name), primary, 5432)).toBe(false);
  });

  test('an object store on a private network: only its ranges, on the endpoint URL\'s port', () => {
    const env: Environment = { ...production, objectStorage: { ...production.objectStorage, endpointURL: 'https://minio.storage.internal:9000', cidrs: ['10.20.0.0/16'] } };
    const local = chart(env).filter((o) => o.kind === 'NetworkPolicy');
    for (const name of JOBS) {
      expect(allowed(local, pod(name), { ip: '10.20.3.4' }, 9000)).toBe(true);
      expect(allowed(local, pod(name), { ip: '10.20.3.4' }, 443)).toBe(false);
      expect(allowed(local, pod(name), { ip: '203.0.113.10' }, 9000)).toBe(false);
      expect(allowed(local, pod(name), { ip: '10.21.0.1' }, 9000)).toBe(false);
    }
  });
});

test('names: fixed and short enough for a CronJob (52 characters), and no service may take them', () => {
  const b = dataEndpoints(production).backups;
  for (const name of [b.databaseBackupJob, b.filesBackupJob, b.verifyJob]) {
    expect(name.length).toBeLessThanOrEqual(52);
    expect(reservedNames(production)).toContain(name);
  }
  expect(reservedNames(production)).toContain(b.scriptsConfigMap);
});

test('every object carries the backup component and the environment\'s labels', () => {
  for (const o of chart(production)) {
    expect(o.metadata.namespace).toBe(production.app.namespace);
    expect(o.metadata.labels['app.kubernetes.io/instance']).toBe(instanceOf(production));
  }
  for (const name of JOBS) {
    expect(cronJob(name).spec.jobTemplate.spec.template.metadata.labels).toMatchObject({
      ...selectorLabels(production, name), 'app.kubernetes.io/component': 'backup',
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
    expect(objectStorage.parse(base).cidrs).toBeUndefined();
  });

  test('backup defaults: 24 hourly snapshots, 20Gi of scratch, 48 hours before a snapshot counts as stale', () => {
    const b = EnvironmentSchema.shape.backups.parse({
      databaseSchedule: '15 2 * * *', filesSchedule: '40 * * * *', verifySchedule: '30 4 * * 0',
      retention: { daily: 7, weekly: 4, monthly: 12 }, verifyTables: ['public.students'],
    });
    expect(b).toMatchObject({ retention: { hourly: 24, daily: 7, weekly: 4, monthly: 12 }, scratchSize: '20Gi', maxSnapshotAgeHours: 48, checkReadDataPercent: 10 });
    expect(production.backups.retention.hourly).toBe(24);
  });
});
