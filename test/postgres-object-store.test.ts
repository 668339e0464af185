/** PostgresObjectStore: the Barman Cloud ObjectStore the clusters archive WAL and base backups to, and its credentials. */
import { Testing } from 'cdk8s';
import { DataChart } from '../charts/data/data-chart';
import { PostgresObjectStore } from '../charts/data/postgres-object-store';
import type { Model } from '../environments/model/model';
import type { K8sObject } from '../pipeline/k8s-object';
import { shop, variantModel } from './support/fixtures';
import { only, synthConstruct } from './support/synth-construct';

/** The construct with the props the data chart gives it from the model. */
function objectStore(model: Model): K8sObject {
  const { postgres, backups } = model.data;
  return only(synthConstruct((s) => new PostgresObjectStore(s, 'object-store', {
    identity: model.identity,
    name: postgres!.objectStore,
    destinationPath: postgres!.barmanDestinationPath,
    endpointURL: model.env.objectStorage!.endpointURL,
    credentialsSecret: backups!.objectStorageSecret,
    retentionPolicy: model.env.data.postgres!.retentionPolicy,
  })), 'ObjectStore');
}

const dataChart = (model: Model) => Testing.synth(new DataChart(Testing.app(), 'data', { model })) as K8sObject[];

const base = variantModel(shop);

test('the object store: this environment\'s bucket and endpoint, compressed WAL, retention from config', () => {
  const model = variantModel(shop, {
    objectStorage: { endpointURL: 'https://s3.elsewhere.test:9000', bucket: 'shop-pg-archive' },
    data: { postgres: { retentionPolicy: '6w' } },
  });
  const os = objectStore(model);
  expect(os.apiVersion).toBe('barmancloud.cnpg.io/v1');
  expect(os.metadata).toMatchObject({ name: 'shop-db-backups', namespace: 'shop-test' });
  expect(os.spec.retentionPolicy).toBe('6w');
  expect(os.spec.configuration).toEqual({
    destinationPath: 's3://shop-pg-archive/postgresql',
    endpointURL: 'https://s3.elsewhere.test:9000',
    s3Credentials: {
      accessKeyId: { name: 'shop-object-storage', key: 'ACCESS_KEY_ID' },
      secretAccessKey: { name: 'shop-object-storage', key: 'ACCESS_SECRET_KEY' },
      region: { name: 'shop-object-storage', key: 'REGION' },
    },
    wal: { compression: 'zstd', maxParallel: 4 },
    data: { compression: 'snappy', jobs: 2 },
  });
  // Each environment its own bucket: the fixture's.
  expect(objectStore(base).spec.configuration.destinationPath).toBe('s3://shop-backups/postgresql');
  // Not configured in the fixture: the schema's default.
  expect(objectStore(base).spec.retentionPolicy).toBe('30d');
});

test('the plugin\'s sidecar in every instance has requests and limits', () => {
  expect(objectStore(base).spec.instanceSidecarConfiguration.resources).toEqual({
    requests: { cpu: '50m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' },
  });
});

test('one store for the application: a cluster named in data.postgres.name (an adopted recovery) archives to the same one', () => {
  const adopted = variantModel(shop, {
    data: { postgres: { name: 'shop-db-restore-202611201015', recovery: { source: 'shop-db', targetTime: '2026-11-20T10:15:00Z' } } },
  });
  expect(objectStore(adopted)).toEqual(objectStore(base));
  const objects = dataChart(adopted);
  expect(objects.filter((o) => o.kind === 'ObjectStore').map((o) => o.metadata.name)).toEqual(['shop-db-backups']);
  expect(only(objects, 'Cluster').spec.plugins[0].parameters.barmanObjectName).toBe('shop-db-backups');
});

test('in the data chart, the Cluster archives to this store and its credentials come from the secret manager, never from git', () => {
  const model = variantModel(shop, {
    externalSecrets: { store: 'vault-backend', storeKind: 'SecretStore', refreshInterval: '15m', keyPrefix: 'teams/shop/test' },
    objectStorage: { region: 'ap-south-2' },
  });
  const objects = dataChart(model);
  const os = only(objects, 'ObjectStore');
  expect(only(objects, 'Cluster').spec.plugins[0].parameters.barmanObjectName).toBe(os.metadata.name);
  // The Secret the store names is the one External Secrets makes, with both keys it reads.
  const { accessKeyId, secretAccessKey, region } = os.spec.configuration.s3Credentials;
  expect(secretAccessKey.name).toBe(accessKeyId.name);
  expect(region.name).toBe(accessKeyId.name);
  const es = only(objects, 'ExternalSecret', accessKeyId.name);
  // The region is configuration, not a secret: External Secrets' template adds it beside the credentials.
  expect(es.spec.target).toEqual({
    name: accessKeyId.name, creationPolicy: 'Owner', deletionPolicy: 'Retain',
    template: { engineVersion: 'v2', mergePolicy: 'Merge', data: { [region.key]: 'ap-south-2' } },
  });
  expect(es.spec.refreshInterval).toBe('15m');
  expect(es.spec.secretStoreRef).toEqual({ name: 'vault-backend', kind: 'SecretStore' });
  expect(es.spec.data).toEqual([accessKeyId.key, secretAccessKey.key].map((key) => ({
    secretKey: key, remoteRef: { key: 'teams/shop/test/object-storage', property: key, conversionStrategy: 'Default', decodingStrategy: 'None', metadataPolicy: 'None' },
  })));
  expect(objects.some((o) => o.kind === 'Secret')).toBe(false);
});
