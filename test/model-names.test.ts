/**
 * The names the data tier and its users agree on (environments/model/names.ts): derived once from
 * the configuration, only for the components an application has, on the fixtures.
 */
import { buildModel } from '../environments/model/model';
import {
  clusterName, dataEndpoints, instancePodSelector, poolerPodLabels, REDIS_REPLICAS, reservedNames, secretManagerKey,
} from '../environments/model/names';
import { selectorMatches } from '../pipeline/policy';
import { boxDesigner, boxDesignerPostgresOnly, boxDesignerWithoutData, shop, variant } from './support/fixtures';

const ADOPTED = { data: { postgres: { name: 'shop-db-restore-202611201015', recovery: { source: 'shop-db', targetTime: '2026-11-20T10:15:00Z' } } } };

describe('PostgreSQL', () => {
  test('the cluster is <app>-db unless data.postgres.name names another; its pooler and Secrets follow its name', () => {
    const env = variant(shop);
    expect(clusterName(env)).toBe('shop-db');
    expect(dataEndpoints(env).postgres).toMatchObject({
      cluster: 'shop-db', pooler: 'shop-db-pooler', database: 'shop', appSecret: 'shop-db-app', caSecret: 'shop-db-ca',
    });
    const adopted = variant(shop, ADOPTED);
    expect(clusterName(adopted)).toBe('shop-db-restore-202611201015');
    expect(dataEndpoints(adopted).postgres).toMatchObject({
      cluster: 'shop-db-restore-202611201015',
      pooler: 'shop-db-restore-202611201015-pooler',
      appSecret: 'shop-db-restore-202611201015-app',
      caSecret: 'shop-db-restore-202611201015-ca',
    });
    expect(dataEndpoints(variant(boxDesigner)).postgres).toMatchObject({ cluster: 'box-designer-db', pooler: 'box-designer-db-pooler', database: 'boxes' });
  });

  test('the object store is the application\'s, whatever the cluster is called, in the configured bucket', () => {
    for (const env of [variant(shop), variant(shop, ADOPTED)]) {
      expect(dataEndpoints(env).postgres).toMatchObject({ objectStore: 'shop-db-backups', barmanDestinationPath: 's3://shop-backups/postgresql' });
    }
    expect(dataEndpoints(variant(shop, { objectStorage: { bucket: 'elsewhere' } })).postgres!.barmanDestinationPath).toBe('s3://elsewhere/postgresql');
  });

  test('the instance selector takes the cluster\'s instances and Job pods, never its PgBouncer pods or another cluster\'s', () => {
    const selector = instancePodSelector('shop-db');
    expect(dataEndpoints(variant(shop)).postgres!.instancePodSelector).toEqual(selector);
    // Labels CloudNativePG puts on each kind of pod.
    expect(selectorMatches(selector, { 'cnpg.io/cluster': 'shop-db', 'cnpg.io/instanceName': 'shop-db-1', 'cnpg.io/podRole': 'instance', role: 'primary' })).toBe(true);
    expect(selectorMatches(selector, { 'cnpg.io/cluster': 'shop-db', 'cnpg.io/jobRole': 'join', 'job-name': 'shop-db-2-join' })).toBe(true);
    expect(selectorMatches(selector, { 'cnpg.io/cluster': 'shop-db', 'cnpg.io/podRole': 'pooler', 'cnpg.io/poolerName': 'shop-db-pooler' })).toBe(false);
    expect(selectorMatches(selector, { 'cnpg.io/cluster': 'other-db', 'cnpg.io/podRole': 'instance' })).toBe(false);
  });

  test('the pooler\'s pods are known by the label the operator gives them', () => {
    expect(poolerPodLabels('shop-db-pooler')).toEqual({ 'cnpg.io/poolerName': 'shop-db-pooler' });
    expect(dataEndpoints(variant(shop)).postgres!.poolerPodLabels).toEqual({ 'cnpg.io/poolerName': 'shop-db-pooler' });
    expect(dataEndpoints(variant(shop, ADOPTED)).postgres!.poolerPodLabels).toEqual({ 'cnpg.io/poolerName': 'shop-db-restore-202611201015-pooler' });
  });
});

describe('Redis', () => {
  test('the set, its headless Service, master set and password Secret are named after the application', () => {
    expect(dataEndpoints(variant(shop)).redis).toMatchObject({
      name: 'shop-redis', headlessService: 'shop-redis-headless', masterSet: 'shop', passwordSecret: 'shop-redis-auth',
      podLabels: { 'app.kubernetes.io/name': 'redis', 'app.kubernetes.io/instance': 'shop-shop' },
    });
  });

  test('every member by its stable DNS name under the headless Service, in ordinal order; the sentinels on 26379', () => {
    const redis = dataEndpoints(variant(shop, { app: { namespace: 'shop-ns' } })).redis!;
    const hosts = [0, 1, 2].map((i) => `shop-redis-${i}.shop-redis-headless.shop-ns.svc.cluster.local`);
    expect(REDIS_REPLICAS).toBe(3);
    expect(redis.memberHosts).toEqual(hosts);
    expect(redis.sentinels).toEqual(hosts.map((h) => `${h}:26379`));
  });

  test('under the cluster\'s own DNS domain when it is not cluster.local', () => {
    const redis = dataEndpoints(variant(shop, { clusterDomain: 'k8s.university.internal' })).redis!;
    expect(redis.memberHosts).toEqual([0, 1, 2].map((i) => `shop-redis-${i}.shop-redis-headless.shop-test.svc.k8s.university.internal`));
    expect(redis.sentinels[0]).toBe('shop-redis-0.shop-redis-headless.shop-test.svc.k8s.university.internal:26379');
  });
});

describe('uploads, backups and what is absent', () => {
  test('the uploads claim is <app>-uploads, mounted where configured', () => {
    expect(dataEndpoints(variant(shop)).uploads).toEqual({ claim: 'shop-uploads', mountPath: '/srv/uploads' });
  });

  test('backup names: the shared secrets always, each repository and job only for a component that exists', () => {
    expect(dataEndpoints(variant(shop)).backups).toEqual({
      objectStorageSecret: 'shop-object-storage',
      resticSecret: 'shop-restic',
      database: { repository: 's3:https://objects.shop.test/shop-backups/restic/database', job: 'backup-database' },
      uploads: { repository: 's3:https://objects.shop.test/shop-backups/restic/uploads', job: 'backup-files' },
      verifyJob: 'backup-verify',
      scriptsConfigMap: 'backup-scripts',
    });
    const postgresOnly = dataEndpoints(boxDesignerPostgresOnly()).backups!;
    expect(postgresOnly.database).toBeDefined();
    expect(postgresOnly.uploads).toBeUndefined();
  });

  test('the secret manager\'s entries are below the configured prefix', () => {
    const env = variant(shop);
    expect((['redis', 'object-storage', 'restic'] as const).map((e) => secretManagerKey(env, e)))
      .toEqual(['shop/test/redis', 'shop/test/object-storage', 'shop/test/restic']);
  });

  test('an application gets names only for the components it has', () => {
    expect(dataEndpoints(variant(boxDesigner)).redis).toBeUndefined();
    expect(dataEndpoints(boxDesignerPostgresOnly()).uploads).toBeUndefined();
    expect(dataEndpoints(boxDesignerWithoutData())).toEqual({ postgres: undefined, redis: undefined, uploads: undefined, backups: undefined });
  });

  test('the model carries these names, and no service may take one', () => {
    const env = variant(shop, ADOPTED);
    expect(buildModel(env).data).toEqual(dataEndpoints(env));
    expect(reservedNames(env)).toEqual(expect.arrayContaining([
      'shop-db-restore-202611201015', 'shop-db-restore-202611201015-pooler', 'shop-db-backups', 'shop-redis', 'shop-redis-headless', 'shop-uploads',
    ]));
    expect(reservedNames(boxDesignerWithoutData())).not.toEqual(expect.arrayContaining(['box-designer-db']));
  });
});
