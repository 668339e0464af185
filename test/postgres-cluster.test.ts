/** PostgresCluster: CloudNativePG with a synchronous standby, WAL to the object store, never pruned. */
import { Testing } from 'cdk8s';
import { dumpSource } from '../charts/backup/backup-jobs';
import { POSTGRES_IMAGE } from '../charts/common/images';
import { DataChart } from '../charts/data/data-chart';
import { BARMAN_PLUGIN, PostgresCluster } from '../charts/data/postgres-cluster';
import type { Model } from '../environments/model/model';
import type { K8sObject } from '../pipeline/k8s-object';
import { AS_PRODUCTION, shop, variantModel } from './support/fixtures';
import { only, synthConstruct } from './support/synth-construct';

/** The construct with the props the data chart gives it from the model. */
function synthCluster(model: Model) {
  const pg = model.data.postgres!;
  return synthConstruct((s) => new PostgresCluster(s, 'pg', {
    identity: model.identity, name: pg.cluster, config: model.env.data.postgres!, objectStore: pg.objectStore,
    instancePodLabels: pg.instancePodLabels, priorityClassName: model.priorityClasses.serving,
  }));
}
const cluster = (model: Model) => only(synthCluster(model), 'Cluster');

const base = variantModel(shop);

/** A cluster recovered to a point in time and adopted: named in data.postgres.name, with where it came from. */
const RECOVERED = 'shop-db-restore-202611201015';
const TARGET_TIME = '2026-11-20T10:15:00Z';
const recovered = variantModel(shop, { data: { postgres: { name: RECOVERED, recovery: { source: 'shop-db', targetTime: TARGET_TIME } } } });

test('the configured instances, one synchronous standby required for every commit', () => {
  for (const instances of [2, 3, 5]) {
    const c = cluster(variantModel(shop, { data: { postgres: { instances } } }));
    expect(c.spec.instances).toBe(instances);
    expect(c.spec.postgresql.synchronous).toEqual({ method: 'any', number: 1, dataDurability: 'required' });
  }
  const c = cluster(variantModel(shop, AS_PRODUCTION));
  expect(c.apiVersion).toBe('postgresql.cnpg.io/v1');
  expect(c.spec.instances).toBe(AS_PRODUCTION.data.postgres.instances);
  expect(c.spec.imageName).toBe(POSTGRES_IMAGE);
  expect(c.spec.enableSuperuserAccess).toBe(false);
});

test('named <app>-db in the application\'s namespace, or as data.postgres.name says', () => {
  expect(cluster(base).metadata).toMatchObject({ name: 'shop-db', namespace: 'shop-test' });
  const named = cluster(variantModel(shop, { data: { postgres: { name: 'orders-pg' } } }));
  expect(named.metadata).toMatchObject({ name: 'orders-pg', namespace: 'shop-test' });
  // The name is everything the operator derives its objects and the archive path from.
  expect(named.spec.plugins[0].parameters.serverName).toBe('orders-pg');
  expect(named.spec.topologySpreadConstraints[0].labelSelector).toEqual({ matchLabels: { 'cnpg.io/cluster': 'orders-pg', 'cnpg.io/podRole': 'instance' } });
  expect(named.spec.bootstrap.initdb).toBeDefined();
});

test('WAL archived through the Barman Cloud plugin under the cluster\'s own name, archive_timeout from the configuration', () => {
  const c = cluster(base);
  expect(c.spec.plugins).toEqual([{
    name: 'barman-cloud.cloudnative-pg.io',
    enabled: true,
    isWALArchiver: true,
    parameters: { barmanObjectName: 'shop-db-backups', serverName: 'shop-db' },
  }]);
  expect(BARMAN_PLUGIN).toBe('barman-cloud.cloudnative-pg.io');
  // Not configured in the fixture: the schema's default, the longest it allows.
  expect(c.spec.postgresql.parameters.archive_timeout).toBe('60s');
  expect(cluster(variantModel(shop, { data: { postgres: { archiveTimeoutSeconds: 15 } } })).spec.postgresql.parameters.archive_timeout).toBe('15s');
  expect(c.spec.backup).toBeUndefined(); // the in-tree barmanObjectStore is deprecated
});

test('storage, WAL storage and resources from the configuration; memory settings follow the memory limit', () => {
  const c = cluster(variantModel(shop, {
    data: {
      postgres: {
        storage: { size: '7Gi', storageClass: 'gold' },
        walStorage: { size: '3Gi', storageClass: 'silver' },
        resources: { requests: { cpu: '1', memory: '2Gi' }, limits: { cpu: '3', memory: '2Gi' } },
      },
    },
  }));
  expect(c.spec.storage).toEqual({ size: '7Gi', storageClass: 'gold', resizeInUseVolumes: true });
  expect(c.spec.walStorage).toEqual({ size: '3Gi', storageClass: 'silver', resizeInUseVolumes: true });
  expect(c.spec.resources).toEqual({ requests: { cpu: '1', memory: '2Gi' }, limits: { cpu: '3', memory: '2Gi' } });
  // A quarter of the 2Gi limit.
  expect(c.spec.postgresql.parameters.shared_buffers).toBe('512MB');
  // The fixture's 1Gi limit.
  expect(cluster(base).spec.postgresql.parameters.shared_buffers).toBe('256MB');
});

test('instances on separate nodes (required) and spread over zones', () => {
  const c = cluster(base);
  expect(c.spec.affinity).toEqual({ enablePodAntiAffinity: true, podAntiAffinityType: 'required', topologyKey: 'kubernetes.io/hostname' });
  // The instances only: PgBouncer pods carry cnpg.io/cluster too, and would skew the count.
  expect(c.spec.topologySpreadConstraints).toEqual([{
    maxSkew: 1,
    topologyKey: 'topology.kubernetes.io/zone',
    whenUnsatisfiable: 'ScheduleAnyway',
    labelSelector: { matchLabels: { 'cnpg.io/cluster': 'shop-db', 'cnpg.io/podRole': 'instance' } },
  }]);
});

test('Argo CD never prunes or deletes it; TLS only', () => {
  const c = cluster(base);
  expect(c.metadata.annotations['argocd.argoproj.io/sync-options']).toBe('Prune=false,Delete=false');
  expect(c.spec.postgresql.pg_hba).toEqual(['hostnossl all all all reject', 'hostssl all all all scram-sha-256']);
  expect(cluster(recovered).metadata.annotations['argocd.argoproj.io/sync-options']).toBe('Prune=false,Delete=false');
});

test('the operator\'s pods and volumes carry the application\'s labels', () => {
  expect(cluster(base).spec.inheritedMetadata.labels).toMatchObject({
    'app.kubernetes.io/name': 'postgresql', 'app.kubernetes.io/instance': 'shop-shop', 'app.kubernetes.io/part-of': 'shop', 'app.kubernetes.io/component': 'database',
  });
});

test('a new cluster is initialised with the configured database and owner', () => {
  expect(cluster(base).spec.bootstrap).toEqual({ initdb: { database: 'shop', owner: 'shop', dataChecksums: true, encoding: 'UTF8' } });
  expect(cluster(base).spec.externalClusters).toBeUndefined();
  const other = cluster(variantModel(shop, { data: { postgres: { database: 'orders', owner: 'orders_owner' } } }));
  expect(other.spec.bootstrap.initdb).toMatchObject({ database: 'orders', owner: 'orders_owner' });
});

test('with data.postgres.recovery: recovered from the named source\'s archive to the target time, archiving under its own name', () => {
  const c = cluster(recovered);
  expect(c.metadata.name).toBe(RECOVERED);
  // The owner's new credentials are in the Secret the operator makes for this cluster (<name>-app).
  expect(c.spec.bootstrap).toEqual({
    recovery: { source: 'origin', database: 'shop', owner: 'shop', recoveryTarget: { targetTime: TARGET_TIME } },
  });
  // The application's object store, read under the source's server name...
  expect(c.spec.externalClusters).toEqual([{
    name: 'origin',
    plugin: { name: 'barman-cloud.cloudnative-pg.io', enabled: true, isWALArchiver: false, parameters: { barmanObjectName: 'shop-db-backups', serverName: 'shop-db' } },
  }]);
  // ...and written under the recovered cluster's own, so the source's archive is never overwritten.
  expect(c.spec.plugins).toEqual([{
    name: 'barman-cloud.cloudnative-pg.io', enabled: true, isWALArchiver: true, parameters: { barmanObjectName: 'shop-db-backups', serverName: RECOVERED },
  }]);
});

test('the recovery source is the configured one, not the default name: a recovered cluster can be recovered again', () => {
  const again = cluster(variantModel(shop, {
    data: { postgres: { name: 'shop-db-restore-2', recovery: { source: RECOVERED, targetTime: '2026-12-01T08:00:00+01:00' } } },
  }));
  expect(again.spec.bootstrap.recovery.recoveryTarget).toEqual({ targetTime: '2026-12-01T08:00:00+01:00' });
  expect(again.spec.externalClusters[0].plugin.parameters).toEqual({ barmanObjectName: 'shop-db-backups', serverName: RECOVERED });
  expect(again.spec.plugins[0].parameters.serverName).toBe('shop-db-restore-2');
});

test('a recovered cluster is configured like the one it replaces: only the name, bootstrap and archive source differ', () => {
  const strip = (c: ReturnType<typeof cluster>) => {
    const { bootstrap: _b, externalClusters: _e, plugins: _p, topologySpreadConstraints: _t, ...rest } = c.spec;
    return rest;
  };
  expect(strip(cluster(recovered))).toEqual(strip(cluster(base)));
});

test('in the data chart, the Cluster is the one data.postgres names, as the construct renders it, and the Pooler and base backups follow it', () => {
  const objects = Testing.synth(new DataChart(Testing.app(), 'data', { model: recovered })) as K8sObject[];
  expect(objects.filter((o) => o.kind === 'Cluster').map((o) => o.metadata.name)).toEqual([RECOVERED]);
  expect(only(objects, 'Cluster')).toEqual(cluster(recovered));
  expect(only(objects, 'Pooler').spec.cluster).toEqual({ name: RECOVERED });
  expect(only(objects, 'ScheduledBackup').spec.cluster).toEqual({ name: RECOVERED });
});

test('the instances run at the serving priority, above the backup jobs; without a class, the cluster\'s default', () => {
  expect(cluster(base).spec.priorityClassName).toBe('shop-serving');
  const plain = only(synthConstruct((s) => new PostgresCluster(s, 'pg', {
    identity: base.identity, name: 'shop-db', config: base.env.data.postgres!, objectStore: 'os', instancePodLabels: {},
  })), 'Cluster');
  expect(plain.spec.priorityClassName).toBeUndefined();
});

test('a PodMonitor scrapes the instances\' exporter', () => {
  for (const [model, name] of [[base, 'shop-db'], [recovered, RECOVERED]] as const) {
    const pm = only(synthCluster(model), 'PodMonitor');
    expect(pm.metadata.name).toBe(name);
    expect(pm.spec.selector.matchLabels).toEqual({ 'cnpg.io/cluster': name, 'cnpg.io/podRole': 'instance' });
    expect(pm.spec.podMetricsEndpoints).toEqual([{ port: 'metrics', interval: '30s' }]);
  }
});

test('the standbys the nightly dump reads hold back vacuum for it (hot_standby_feedback), at any size and in a recovered cluster', () => {
  for (const model of [base, variantModel(shop, AS_PRODUCTION), recovered]) {
    const pg = model.data.postgres!;
    const instances = model.env.data.postgres!.instances;
    // The dump job reads the replicas (the -ro Service) wherever there are any: a long query on a
    // standby that WAL replay cancels on conflicts with vacuum, unless the standby reports it.
    expect(dumpSource(pg.cluster, instances)).toBe(`${pg.cluster}-ro`);
    const feedback = cluster(model).spec.postgresql.parameters.hot_standby_feedback;
    expect({ cluster: pg.cluster, instances, hot_standby_feedback: feedback }).toEqual({ cluster: pg.cluster, instances, hot_standby_feedback: 'on' });
  }
  // A single instance has no standby: the dump reads the primary.
  expect(dumpSource('shop-db', 1)).toBe('shop-db-r');
});
