/**
 * environments/model/injected-env.ts: the one table of the variables a service gets for the data
 * components it `uses`. Checked from its three readers: the containers the app chart renders, the
 * configuration's rules (which names a service may not set, which `$(NAME)` it may refer to), and
 * the data tier, whose objects the values must name.
 */
import { Testing } from 'cdk8s';
import { AppChart } from '../charts/app/app-chart';
import { containerEnv } from '../charts/app/web-service';
import { type Dependency, INJECTED_ENV, injectedEnv } from '../environments/model/injected-env';
import { buildModel, type Model } from '../environments/model/model';
import { dataEndpoints } from '../environments/model/names';
import { POSTGRES_PORT } from '../environments/model/network';
import { DEPENDENCIES } from '../environments/schema';
import type { K8sObject } from '../pipeline/k8s-object';
import { podTemplate } from '../pipeline/policy';
import { synthObjects } from '../pipeline/synth';
import { boxDesigner, boxDesignerPostgresOnly, boxDesignerWithoutData, configProblems, shop, variant, variantModel } from './support/fixtures';
import { only } from './support/synth-construct';

const shopEnv = variant(shop);
const boxEnv = variant(boxDesigner);

/** Every subset of the components, each in the table's order. */
const SUBSETS: Dependency[][] = Array.from({ length: 2 ** DEPENDENCIES.length }, (_, bits) => DEPENDENCIES.filter((_d, i) => bits & (1 << i)));

const names = (vars: readonly { readonly name?: unknown }[]) => vars.map((v) => String(v.name));

describe('the table', () => {
  test('the variables each component injects, by the names the applications read', () => {
    expect(INJECTED_ENV).toEqual({
      postgres: ['DATABASE_HOST', 'DATABASE_PORT', 'DATABASE_NAME', 'DATABASE_USER', 'DATABASE_PASSWORD'],
      redis: ['REDIS_SENTINEL_MASTER', 'REDIS_SENTINEL_NODES', 'REDIS_PASSWORD'],
      uploads: ['UPLOADS_DIR'],
    });
    expect(Object.keys(INJECTED_ENV)).toEqual([...DEPENDENCIES]);
    // No variable belongs to two components: leaving one out must take all of its variables away.
    const all = Object.values(INJECTED_ENV).flat();
    expect(new Set(all).size).toBe(all.length);
  });

  test.each(SUBSETS.map((uses) => [`[${uses.join(', ')}]`, uses] as const))(
    'uses: %s gives exactly the variables of those components, in the table\'s order', (_, uses) => {
      const vars = injectedEnv(dataEndpoints(shopEnv), uses);
      expect(names(vars)).toEqual(uses.flatMap((d) => INJECTED_ENV[d]));
      for (const other of DEPENDENCIES.filter((d) => !uses.includes(d))) {
        for (const name of INJECTED_ENV[other]) expect(names(vars)).not.toContain(name);
      }
      // However the configuration lists them.
      expect(injectedEnv(dataEndpoints(shopEnv), [...uses].reverse())).toEqual(vars);
    });

  test('every variable is a value or a reference to a key of a Secret, never both', () => {
    for (const v of injectedEnv(dataEndpoints(shopEnv), DEPENDENCIES)) {
      expect([v.name, (v.value === undefined) !== (v.secretKeyRef === undefined)]).toEqual([v.name, true]);
    }
  });
});

describe('the values: where the shop\'s components are', () => {
  const vars = new Map(injectedEnv(dataEndpoints(shopEnv), DEPENDENCIES).map((v) => [v.name, v]));
  const value = (name: string) => vars.get(name)?.value;
  const secret = (name: string) => vars.get(name)?.secretKeyRef;

  test('PostgreSQL through PgBouncer, with the credentials CloudNativePG keeps for the owner', () => {
    expect(value('DATABASE_HOST')).toBe('shop-db-pooler');
    expect(value('DATABASE_PORT')).toBe(String(POSTGRES_PORT));
    expect(value('DATABASE_NAME')).toBe('shop');
    expect(secret('DATABASE_USER')).toEqual({ name: 'shop-db-app', key: 'username' });
    expect(secret('DATABASE_PASSWORD')).toEqual({ name: 'shop-db-app', key: 'password' });
  });

  test('Redis through its sentinels, each by its member\'s stable DNS name', () => {
    expect(value('REDIS_SENTINEL_MASTER')).toBe('shop');
    expect(value('REDIS_SENTINEL_NODES')).toBe([0, 1, 2].map((i) => `shop-redis-${i}.shop-redis-headless.shop-test.svc.cluster.local:26379`).join(','));
    expect(secret('REDIS_PASSWORD')).toEqual({ name: 'shop-redis-auth', key: 'password' });
  });

  test('uploaded files at the configured mount path', () => {
    expect(value('UPLOADS_DIR')).toBe('/srv/uploads');
  });

  test('after a restore is adopted (data.postgres.name), the services follow the recovered cluster', () => {
    const adopted = new Map(injectedEnv(dataEndpoints(variant(shop, { data: { postgres: { name: 'shop-db-2' } } })), ['postgres']).map((v) => [v.name, v]));
    expect(adopted.get('DATABASE_HOST')?.value).toBe('shop-db-2-pooler');
    expect(adopted.get('DATABASE_PASSWORD')?.secretKeyRef).toEqual({ name: 'shop-db-2-app', key: 'password' });
  });
});

test('each value names what the data tier of the same environment creates', () => {
  const objects = synthObjects(shopEnv).map((o) => o.object);
  const vars = new Map(injectedEnv(dataEndpoints(shopEnv), DEPENDENCIES).map((v) => [v.name, v]));

  const pooler = only(objects, 'Pooler', vars.get('DATABASE_HOST')!.value);
  const cluster = only(objects, 'Cluster', pooler.spec.cluster.name);
  expect(vars.get('DATABASE_NAME')!.value).toBe(cluster.spec.bootstrap.initdb.database);
  // CloudNativePG names the owner's Secret `<cluster>-app`.
  for (const v of ['DATABASE_USER', 'DATABASE_PASSWORD']) expect(vars.get(v)!.secretKeyRef!.name).toBe(`${cluster.metadata.name}-app`);

  const redisSecret = vars.get('REDIS_PASSWORD')!.secretKeyRef!;
  const external = objects.find((o) => o.kind === 'ExternalSecret' && o.spec.target.name === redisSecret.name)!;
  expect(external.spec.data.map((d: K8sObject) => d.secretKey)).toContain(redisSecret.key);
  const members = only(objects, 'StatefulSet');
  const headless = only(objects, 'Service', members.spec.serviceName);
  const sentinelPort = headless.spec.ports.find((p: K8sObject) => p.name === 'sentinel').port;
  expect(vars.get('REDIS_SENTINEL_NODES')!.value!.split(',')).toEqual(Array.from({ length: members.spec.replicas },
    (_, i) => `${members.metadata.name}-${i}.${headless.metadata.name}.${headless.metadata.namespace}.svc.cluster.local:${sentinelPort}`));
  const sentinelConf: string = only(objects, 'ConfigMap', members.metadata.name).data['sentinel.conf'];
  expect(sentinelConf).toMatch(new RegExp(`^sentinel monitor ${vars.get('REDIS_SENTINEL_MASTER')!.value} `, 'm'));

  const api = only(objects, 'Deployment', 'api').spec.template.spec;
  const claim = only(objects, 'PersistentVolumeClaim').metadata.name;
  const volume = api.volumes.find((v: K8sObject) => v.persistentVolumeClaim?.claimName === claim);
  expect(api.containers[0].volumeMounts).toContainEqual({ name: volume.name, mountPath: vars.get('UPLOADS_DIR')!.value });
});

describe('what the app chart renders: each service gets the variables of what it uses, before its own', () => {
  const fixtures: [string, Model][] = [
    ['shop', buildModel(shopEnv)],
    ['box designer', buildModel(boxEnv)],
    ['box designer, PostgreSQL only', buildModel(boxDesignerPostgresOnly())],
    ['box designer without data', buildModel(boxDesignerWithoutData())],
  ];

  test.each(fixtures)('%s', (_, model) => {
    const deployments = Testing.synth(new AppChart(Testing.app({ outdir: 'unused' }), 'app', { model })).filter((o: K8sObject) => o.kind === 'Deployment');
    expect(deployments.map((d: K8sObject) => d.metadata.name).sort()).toEqual(Object.keys(model.env.services).sort());
    for (const d of deployments) {
      const service = model.env.services[d.metadata.name];
      const expected = containerEnv(injectedEnv(dataEndpoints(model.env), service.uses));
      const env: K8sObject[] = d.spec.template.spec.containers[0].env;
      expect([d.metadata.name, env.slice(0, expected.length)]).toEqual([d.metadata.name, expected]);
      expect([d.metadata.name, names(env.slice(expected.length)).sort()]).toEqual([d.metadata.name, Object.keys(service.env).sort()]);
    }
  });

  test('in the shop, the api gets every component\'s variables and web, which uses none, gets none', () => {
    const deployments = Testing.synth(new AppChart(Testing.app({ outdir: 'unused' }), 'app', { model: buildModel(shopEnv) }));
    const envOf = (name: string) => names(only(deployments, 'Deployment', name).spec.template.spec.containers[0].env);
    expect(envOf('api')).toEqual([...Object.values(INJECTED_ENV).flat(), 'DB_URL']);
    expect(envOf('web')).toEqual(['API_URL']);
  });
});

describe('a service measured by its own timer (sli: spring-boot) gets the settings of its histogram', () => {
  const deploymentEnv = (threshold: number) => {
    const model = variantModel(shop, { slo: { latencyThresholdSeconds: threshold }, services: { api: { sli: 'spring-boot', metrics: { path: '/actuator/prometheus' } } } });
    const deployments = Testing.synth(new AppChart(Testing.app({ outdir: 'unused' }), 'app', { model }));
    return (name: string) => only(deployments, 'Deployment', name).spec.template.spec.containers[0].env as K8sObject[];
  };

  test('after the data components\' variables and before its own; a bucket exactly at the threshold; web gets none', () => {
    const envOf = deploymentEnv(0.5);
    const sli = ['MANAGEMENT_METRICS_DISTRIBUTION_PERCENTILESHISTOGRAM_HTTP_SERVER_REQUESTS', 'MANAGEMENT_METRICS_DISTRIBUTION_SLO_HTTP_SERVER_REQUESTS'];
    expect(names(envOf('api'))).toEqual([...Object.values(INJECTED_ENV).flat(), ...sli, 'DB_URL']);
    expect(envOf('api').filter((v) => sli.includes(v.name)).map((v) => v.value)).toEqual(['true', '500ms']);
    expect(names(envOf('web'))).toEqual(['API_URL']);
  });

  test.each([[1, '1s'], [2.5, '2500ms'], [0.0005, '500us'], [0.025, '25ms']])('a threshold of %s s is the Spring Boot duration %s', (threshold, text) => {
    const boundary = deploymentEnv(threshold)('api').find((v) => v.name === 'MANAGEMENT_METRICS_DISTRIBUTION_SLO_HTTP_SERVER_REQUESTS');
    expect(boundary?.value).toBe(text);
  });
});

describe('the box designer has no Redis', () => {
  test('no REDIS_* variable anywhere in its output', () => {
    const objects = synthObjects(boxEnv).map((o) => o.object);
    const variables = objects.flatMap((o) => {
      const pod = podTemplate(o)?.spec;
      return [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])].flatMap((c: K8sObject) => names(c.env ?? []));
    });
    expect(variables).toEqual(expect.arrayContaining([...INJECTED_ENV.postgres, ...INJECTED_ENV.uploads]));
    expect(variables.filter((n) => n.startsWith('REDIS_'))).toEqual([]);
    expect(JSON.stringify(objects)).not.toContain('REDIS_');
  });

  test('a service cannot use it: the configuration is refused, and the table refuses too', () => {
    expect(configProblems(() => variant(boxDesigner, { services: { api: { uses: ['postgres', 'redis', 'uploads'] } } }))).toEqual([
      'box-designer: services.api.uses[1] ("redis") is not configured: add data.redis, or remove it from uses',
    ]);
    expect(() => injectedEnv(dataEndpoints(boxEnv), ['redis'])).toThrow('a service uses redis, which is not configured');
  });
});

describe('the configuration\'s rules read the same table', () => {
  const cases = DEPENDENCIES.flatMap((dep) => INJECTED_ENV[dep].map((name) => [name, dep] as const));

  test.each(cases)('%s: injected by uses: %s, so a service that uses it may not set it itself', (name, dep) => {
    expect(configProblems(() => variant(shop, { services: { web: { uses: [dep], env: { [name]: 'mine' } } } }))).toEqual([
      `shop: services.web.env.${name} is injected by uses: ${dep}; remove it from env`,
    ]);
  });

  test.each(cases)('%s: a service may refer to it only when it uses %s', (name, dep) => {
    const refers = { env: { REFERS: `<$(${name})>` } };
    expect(configProblems(() => variant(shop, { services: { web: { uses: [], ...refers } } }))).toEqual([
      `shop: services.web.env.REFERS refers to $(${name}), which only uses: ${dep} injects`,
    ]);
    expect(configProblems(() => variant(shop, { services: { web: { uses: [dep], ...refers } } }))).toEqual([]);
  });
});
