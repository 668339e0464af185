/**
 * The names the data tier and its users agree on (environments/model/names.ts): derived once from
 * the configuration, only for the components an application has, on the fixtures. And the facts
 * about other software's pods and the network the model states once (gateway.ts, network.ts),
 * checked against their sources: Envoy Gateway's labels, the RFCs' address ranges.
 *
 * Expected values are written out, never recomputed with the code under test: a name is a contract
 * with the objects it refers to (an operator's, a Secret's, a NetworkPolicy's selector).
 */
import { gatewayProxyPodLabels } from '../environments/model/gateway';
import { buildModel } from '../environments/model/model';
import {
  clusterName, dataEndpoints, httpsListenerName, instancePodLabels, instancePodSelector, poolerPodLabels, REDIS_REPLICAS, requiredSection,
  reservedNames, scratchVolumeName, secretManagerKey, tlsSecretName,
} from '../environments/model/names';
import { DNS_NAMESPACE, NON_PUBLIC_RANGES } from '../environments/model/network';
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

describe('a section the data components need', () => {
  test('is returned when configured', () => {
    expect(requiredSection(variant(shop), 'objectStorage')).toEqual({ endpointURL: 'https://objects.shop.test', bucket: 'shop-backups', region: 'test-1' });
  });

  test('its absence is an error naming the environment and the section, not an undefined read further on', () => {
    // The schema refuses such a configuration; if it ever let one through, this is where it shows.
    const env = boxDesignerWithoutData();
    expect(() => requiredSection(env, 'objectStorage')).toThrow(/^box-designer: objectStorage is missing although a data component needs it$/);
    expect(() => requiredSection(env, 'backups')).toThrow(/^box-designer: backups is missing although a data component needs it$/);
    expect(() => secretManagerKey(env, 'restic')).toThrow(/^box-designer: externalSecrets is missing although a data component needs it$/);
  });
});

describe('names without the component they would name', () => {
  test('the cluster name of an application without PostgreSQL is still <app>-db (what a later restore would create)', () => {
    expect(clusterName(boxDesignerWithoutData())).toBe('box-designer-db');
  });

  test('the instance pods are known by the two labels CloudNativePG puts on them, and only those', () => {
    // cloudnative-pg pkg/utils/labels_annotations.go: ClusterLabelName and PodRoleLabelName = PodRoleInstance.
    expect(instancePodLabels('shop-db')).toEqual({ 'cnpg.io/cluster': 'shop-db', 'cnpg.io/podRole': 'instance' });
    expect(dataEndpoints(variant(shop, ADOPTED)).postgres!.instancePodLabels)
      .toEqual({ 'cnpg.io/cluster': 'shop-db-restore-202611201015', 'cnpg.io/podRole': 'instance' });
  });
});

describe('restic repositories', () => {
  test('one per kind of backup, below restic/ in the bucket, at the configured endpoint', () => {
    const backups = dataEndpoints(variant(shop, { objectStorage: { endpointURL: 'https://s3.example.net:9000', bucket: 'other-bucket' } })).backups!;
    expect(backups.database!.repository).toBe('s3:https://s3.example.net:9000/other-bucket/restic/database');
    expect(backups.uploads!.repository).toBe('s3:https://s3.example.net:9000/other-bucket/restic/uploads');
  });

  test('an endpoint written with a trailing slash gives the same repository, not an empty path segment', () => {
    // With the slash kept the repository would be `…test//shop-backups/…`: not the one already written.
    const backups = dataEndpoints(variant(shop, { objectStorage: { endpointURL: 'https://objects.shop.test/' } })).backups!;
    expect(backups.database!.repository).toBe('s3:https://objects.shop.test/shop-backups/restic/database');
    expect(backups.uploads!.repository).toBe('s3:https://objects.shop.test/shop-backups/restic/uploads');
  });
});

describe('reserved names', () => {
  // The order carries no meaning; every name does (a service taking one would collide with it).
  const sorted = (names: readonly string[]) => [...names].sort();
  const FIXED = [
    'default-deny', 'allow-dns', 'allow-acme-http01-solver', 'https-redirect', 'smoke-test', 'load-test', 'gateway-proxy',
    'blackbox-exporter', 'blackbox-exporter-0', 'blackbox-exporter-1',
  ];

  test('with every component: each data object, the component names postgresql and redis, every backup object, the fixed objects', () => {
    expect(sorted(reservedNames(variant(shop)))).toEqual(sorted([
      'shop-db', 'shop-db-pooler', 'shop-db-backups', 'postgresql',
      'shop-redis', 'shop-redis-headless', 'redis',
      'shop-uploads',
      'shop-object-storage', 'shop-restic', 'backup-verify', 'backup-scripts', 'backup-database', 'backup-files',
      ...FIXED,
    ]));
  });

  test('with PostgreSQL only: its objects and the database backup, no Redis, uploads or file backup', () => {
    expect(sorted(reservedNames(boxDesignerPostgresOnly()))).toEqual(sorted([
      'box-designer-db', 'box-designer-db-pooler', 'box-designer-db-backups', 'postgresql',
      'box-designer-object-storage', 'box-designer-restic', 'backup-verify', 'backup-scripts', 'backup-database',
      ...FIXED,
    ]));
  });

  test('with PostgreSQL and uploads, no Redis: the uploads claim and the file backup besides', () => {
    expect(sorted(reservedNames(variant(boxDesigner)))).toEqual(sorted([
      'box-designer-db', 'box-designer-db-pooler', 'box-designer-db-backups', 'postgresql',
      'box-designer-uploads',
      'box-designer-object-storage', 'box-designer-restic', 'backup-verify', 'backup-scripts', 'backup-database', 'backup-files',
      ...FIXED,
    ]));
  });

  test('without data: only the fixed objects', () => {
    expect(sorted(reservedNames(boxDesignerWithoutData()))).toEqual(sorted(FIXED));
  });
});

describe('scratch volume names', () => {
  test('a path becomes scratch-<its alphanumeric runs, lower case, joined by single dashes>', () => {
    expect(scratchVolumeName('/tmp')).toBe('scratch-tmp');
    expect(scratchVolumeName('/var/lib/x')).toBe('scratch-var-lib-x');
    expect(scratchVolumeName('/app/.next/cache')).toBe('scratch-app-next-cache');
    expect(scratchVolumeName('/A//b..c/')).toBe('scratch-a-b-c');
  });

  test('no dash at either end of the slug, whatever the path starts or ends with', () => {
    expect(scratchVolumeName('tmp/')).toBe('scratch-tmp');
    expect(scratchVolumeName('_cache_')).toBe('scratch-cache');
    expect(scratchVolumeName('--x--y--')).toBe('scratch-x-y');
  });

  test('a path with no letter or digit is scratch-root', () => {
    expect(scratchVolumeName('/')).toBe('scratch-root');
    expect(scratchVolumeName('/./_/')).toBe('scratch-root');
  });

  test('a long path is cut to the 63 characters a volume name may have, never ending in a dash', () => {
    expect(scratchVolumeName(`/${'x'.repeat(100)}`)).toBe(`scratch-${'x'.repeat(55)}`);
    // The 63rd character is the dash between the two segments: cut before it (62 characters).
    expect(scratchVolumeName(`/${'a'.repeat(54)}/bbbbbbbbbb`)).toBe(`scratch-${'a'.repeat(54)}`);
  });
});

describe('host names', () => {
  test('each host\'s certificate Secret is the host name with dots as dashes, then -tls', () => {
    expect(tlsSecretName('shop.test')).toBe('shop-test-tls');
    expect(tlsSecretName('www.shop.example.org')).toBe('www-shop-example-org-tls');
  });

  test('each host\'s Gateway listener is https- then the host name with dots as dashes', () => {
    expect(httpsListenerName('shop.test')).toBe('https-shop-test');
    expect(httpsListenerName('api.shop.example.org')).toBe('https-api-shop-example-org');
  });
});

describe('the Gateway\'s proxy pods', () => {
  test('are known by the labels Envoy Gateway puts on them, naming this environment\'s Gateway', () => {
    // envoyproxy/gateway internal/infrastructure/kubernetes/proxy/resource.go EnvoyAppLabel() (name, component;
    // its managed-by is left out) and internal/gatewayapi/helpers.go GatewayOwnerLabels(namespace, name).
    expect(gatewayProxyPodLabels(variant(shop))).toEqual({
      'app.kubernetes.io/name': 'envoy',
      'app.kubernetes.io/component': 'proxy',
      'gateway.envoyproxy.io/owning-gateway-name': 'shop',
      'gateway.envoyproxy.io/owning-gateway-namespace': 'shop-test',
    });
    expect(gatewayProxyPodLabels(variant(boxDesigner, { app: { namespace: 'boxes-ns' } }))).toEqual({
      'app.kubernetes.io/name': 'envoy',
      'app.kubernetes.io/component': 'proxy',
      'gateway.envoyproxy.io/owning-gateway-name': 'box-designer',
      'gateway.envoyproxy.io/owning-gateway-namespace': 'boxes-ns',
    });
  });
});

describe('network facts', () => {
  /** An IPv4 address as a number, refusing anything but four decimal octets. */
  const ipv4 = (address: string): number => {
    const octets = address.split('.');
    if (octets.length !== 4 || !octets.every((o) => /^(0|[1-9][0-9]{0,2})$/.test(o) && Number(o) <= 255)) throw new Error(`not an IPv4 address: ${address}`);
    return octets.reduce((n, o) => n * 256 + Number(o), 0);
  };
  /** A CIDR block's base and size, refusing a prefix over 32 or host bits set in the base. */
  const block = (cidr: string): { base: number; size: number } => {
    const match = /^([0-9.]+)\/([0-9]{1,2})$/.exec(cidr);
    if (!match || Number(match[2]) > 32) throw new Error(`not an IPv4 CIDR block: ${cidr}`);
    const base = ipv4(match[1]);
    const size = 2 ** (32 - Number(match[2]));
    if (base % size !== 0) throw new Error(`host bits set in ${cidr}`);
    return { base, size };
  };
  const inBlock = (address: string, cidr: string): boolean => {
    const { base, size } = block(cidr);
    const a = ipv4(address);
    return a >= base && a < base + size;
  };
  const nonPublic = (address: string) => NON_PUBLIC_RANGES.some((cidr) => inBlock(address, cidr));

  test('cluster DNS runs in kube-system (where kubeadm and most distributions deploy CoreDNS)', () => {
    expect(DNS_NAMESPACE).toBe('kube-system');
  });

  test('the non-public ranges are exactly the private, carrier-grade NAT and link-local blocks', () => {
    // RFC 1918 section 3: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16. RFC 6598: 100.64.0.0/10 (shared address
    // space, where some clusters put pods). RFC 3927: 169.254.0.0/16 (link-local, the cloud metadata endpoint).
    expect(NON_PUBLIC_RANGES).toEqual(['10.0.0.0/8', '100.64.0.0/10', '169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16']);
    for (const cidr of NON_PUBLIC_RANGES) expect(() => block(cidr)).not.toThrow();
    // …and the check above is one: a block with host bits set, or no block at all, is refused.
    expect(() => block('172.16.0.0/8')).toThrow('host bits set in 172.16.0.0/8');
    expect(() => block('192.168.0.0/33')).toThrow('not an IPv4 CIDR block');
  });

  test('they hold the private, shared and link-local addresses, from the first to the last of each block', () => {
    for (const address of ['10.0.0.0', '10.1.2.3', '10.255.255.255', '172.16.0.1', '172.31.255.255', '192.168.1.1', '192.168.255.255',
      '100.64.0.1', '100.127.255.255', '169.254.169.254']) {
      expect([address, nonPublic(address)]).toEqual([address, true]);
    }
  });

  test('no public address falls in any of them, not even one just outside a block', () => {
    for (const address of ['8.8.8.8', '1.1.1.1', '9.255.255.255', '11.0.0.0', '172.15.255.255', '172.32.0.0', '192.167.255.255', '192.169.0.0',
      '100.63.255.255', '100.128.0.0', '169.253.255.255', '169.255.0.0']) {
      expect([address, nonPublic(address)]).toEqual([address, false]);
    }
  });
});
