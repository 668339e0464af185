/** PostgresBackups: the Barman Cloud ObjectStore, its credentials, and the base-backup schedule. */
import { PostgresBackups } from '../charts/data/postgres-backups';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { only, synthConstruct } from './support/synth-construct';

const [stagingEnv, env] = resolveEnvironments(environments, process.cwd());
const objects = synthConstruct((s) => new PostgresBackups(s, 'backups', { env }));

test('the object store: this environment\'s bucket, compressed WAL, retention from config', () => {
  const os = only(objects, 'ObjectStore');
  expect(os.apiVersion).toBe('barmancloud.cnpg.io/v1');
  expect(os.metadata.name).toBe('student-portal-db-backups');
  expect(os.spec.retentionPolicy).toBe('30d');
  expect(os.spec.configuration).toMatchObject({
    destinationPath: 's3://student-portal-backups-production/postgresql',
    endpointURL: 'https://s3.university.example',
    s3Credentials: {
      accessKeyId: { name: 'student-portal-object-storage', key: 'ACCESS_KEY_ID' },
      secretAccessKey: { name: 'student-portal-object-storage', key: 'ACCESS_SECRET_KEY' },
    },
    wal: { compression: 'zstd', maxParallel: 4 },
  });
  const staging = only(synthConstruct((s) => new PostgresBackups(s, 'backups', { env: stagingEnv })), 'ObjectStore');
  expect(staging.spec.configuration.destinationPath).toBe('s3://student-portal-backups-staging/postgresql');
});

test('the credentials come from the secret manager, never from git', () => {
  const es = only(objects, 'ExternalSecret');
  expect(es.spec.target).toMatchObject({ name: 'student-portal-object-storage', creationPolicy: 'Owner', deletionPolicy: 'Retain' });
  expect(es.spec.refreshInterval).toBe('1h');
  expect(es.spec.secretStoreRef).toEqual({ name: 'platform-secrets', kind: 'ClusterSecretStore' });
  expect(es.spec.data).toEqual([
    { secretKey: 'ACCESS_KEY_ID', remoteRef: { key: 'student-portal/production/object-storage', property: 'ACCESS_KEY_ID' } },
    { secretKey: 'ACCESS_SECRET_KEY', remoteRef: { key: 'student-portal/production/object-storage', property: 'ACCESS_SECRET_KEY' } },
  ]);
  expect(objects.some((o) => o.kind === 'Secret')).toBe(false);
});

test('base backups through the plugin, from a standby, 6-field schedule, one right away', () => {
  const sb = only(objects, 'ScheduledBackup');
  expect(sb.spec).toEqual({
    cluster: { name: 'student-portal-db' },
    schedule: '0 0 1 * * *',
    method: 'plugin',
    pluginConfiguration: { name: 'barman-cloud.cloudnative-pg.io' },
    target: 'prefer-standby',
    immediate: true,
    backupOwnerReference: 'self',
  });
});
