/** PostgresCluster: CloudNativePG with a synchronous standby, WAL to the object store, never pruned. */
import { dumpSource } from '../charts/backup/backup-jobs';
import { dataEndpoints } from '../environments/model/names';
import { PostgresCluster } from '../charts/data/postgres-cluster';
import { POSTGRES_IMAGE } from '../charts/common/images';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { only, synthConstruct } from './support/synth-construct';

const [stagingEnv, productionEnv] = resolveEnvironments(environments, process.cwd());

const cluster = (recovery?: { targetTime: string; sourceServerName: string }, name?: string) =>
  only(synthConstruct((s) => new PostgresCluster(s, 'pg', { env: productionEnv, recovery, name })), 'Cluster');

test('production: three instances, one synchronous standby required for every commit', () => {
  const c = cluster();
  expect(c.apiVersion).toBe('postgresql.cnpg.io/v1');
  expect(c.metadata).toMatchObject({ name: 'student-portal-db', namespace: 'student-portal' });
  expect(c.spec.instances).toBe(3);
  expect(c.spec.postgresql.synchronous).toEqual({ method: 'any', number: 1, dataDurability: 'required' });
  expect(c.spec.imageName).toBe(POSTGRES_IMAGE);
  expect(c.spec.enableSuperuserAccess).toBe(false);
});

test('staging has the same shape, smaller', () => {
  const c = only(synthConstruct((s) => new PostgresCluster(s, 'pg', { env: stagingEnv })), 'Cluster');
  expect(c.spec.instances).toBe(3);
  expect(c.spec.postgresql.synchronous.dataDurability).toBe('required');
  expect(c.spec.resources.limits.memory).toBe(stagingEnv.data.postgres.resources.limits.memory);
});

test('WAL archived through the Barman Cloud plugin under the cluster\'s own name, archive_timeout bounded', () => {
  const c = cluster();
  expect(c.spec.plugins).toEqual([{
    name: 'barman-cloud.cloudnative-pg.io',
    isWALArchiver: true,
    parameters: { barmanObjectName: 'student-portal-db-backups', serverName: 'student-portal-db' },
  }]);
  expect(c.spec.postgresql.parameters.archive_timeout).toBe('60s');
  expect(c.spec.backup).toBeUndefined(); // the in-tree barmanObjectStore is deprecated
});

test('storage, WAL storage and resources from the configuration', () => {
  const c = cluster();
  expect(c.spec.storage).toEqual({ size: '100Gi', storageClass: 'ssd-retain' });
  expect(c.spec.walStorage).toEqual({ size: '20Gi', storageClass: 'ssd-retain' });
  expect(c.spec.resources).toEqual({ requests: { cpu: '2', memory: '8Gi' }, limits: { cpu: '4', memory: '8Gi' } });
  expect(c.spec.postgresql.parameters.shared_buffers).toBe('2048MB');
});

test('instances on separate nodes (required) and spread over zones', () => {
  const c = cluster();
  expect(c.spec.affinity).toEqual({ enablePodAntiAffinity: true, podAntiAffinityType: 'required', topologyKey: 'kubernetes.io/hostname' });
  expect(c.spec.topologySpreadConstraints[0]).toMatchObject({ topologyKey: 'topology.kubernetes.io/zone', labelSelector: { matchLabels: { 'cnpg.io/cluster': 'student-portal-db' } } });
});

test('Argo CD never prunes or deletes it; TLS only', () => {
  const c = cluster();
  expect(c.metadata.annotations['argocd.argoproj.io/sync-options']).toBe('Prune=false,Delete=false');
  expect(c.spec.postgresql.pg_hba).toEqual(['hostnossl all all all reject', 'hostssl all all all scram-sha-256']);
});

test('a new cluster is initialised with the application database and owner', () => {
  expect(cluster().spec.bootstrap).toEqual({ initdb: { database: 'portal', owner: 'portal', dataChecksums: true, encoding: 'UTF8' } });
  expect(cluster().spec.externalClusters).toBeUndefined();
});

test('a recovery cluster replays the source\'s archive to the target time and archives under its own name', () => {
  const c = cluster({ targetTime: '2026-11-20T10:15:00Z', sourceServerName: 'student-portal-db' }, 'student-portal-db-restore-202611201015');
  expect(c.metadata.name).toBe('student-portal-db-restore-202611201015');
  expect(c.spec.bootstrap).toEqual({
    recovery: { source: 'origin', database: 'portal', owner: 'portal', secret: { name: 'student-portal-db-app' }, recoveryTarget: { targetTime: '2026-11-20T10:15:00Z' } },
  });
  expect(c.spec.externalClusters).toEqual([{
    name: 'origin',
    plugin: { name: 'barman-cloud.cloudnative-pg.io', parameters: { barmanObjectName: 'student-portal-db-backups', serverName: 'student-portal-db' } },
  }]);
  expect(c.spec.plugins[0].parameters.serverName).toBe('student-portal-db-restore-202611201015');
});

test('a PodMonitor scrapes the instances\' exporter', () => {
  const pm = only(synthConstruct((s) => new PostgresCluster(s, 'pg', { env: productionEnv })), 'PodMonitor');
  expect(pm.spec.selector.matchLabels).toEqual({ 'cnpg.io/cluster': 'student-portal-db', 'cnpg.io/podRole': 'instance' });
  expect(pm.spec.podMetricsEndpoints).toEqual([{ port: 'metrics', interval: '30s' }]);
});

test('the standbys the nightly dump reads hold back vacuum for it (hot_standby_feedback), in every environment and in a recovery cluster', () => {
  for (const env of [stagingEnv, productionEnv]) {
    // The dump job reads the replicas (the -ro Service) wherever there are any: a long query on a
    // standby that WAL replay cancels on conflicts with vacuum, unless the standby reports it.
    expect(dumpSource(env)).toBe(`${dataEndpoints(env).postgres.cluster}-ro`);
    const c = only(synthConstruct((s) => new PostgresCluster(s, 'pg', { env })), 'Cluster');
    const feedback = c.spec.postgresql.parameters.hot_standby_feedback;
    expect({ env: env.name, hot_standby_feedback: feedback }).toEqual({ env: env.name, hot_standby_feedback: 'on' });
  }
  const recovered = cluster({ targetTime: '2026-11-20T10:15:00Z', sourceServerName: 'student-portal-db' }, 'student-portal-db-restore-202611201015');
  expect(recovered.spec.postgresql.parameters.hot_standby_feedback).toBe('on');
});
