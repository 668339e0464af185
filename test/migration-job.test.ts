/**
 * A service's database migration (charts/app/migration-job.ts, wired in charts/app/app-chart.ts):
 * an Argo CD Sync hook Job against the PostgreSQL primary, on the small fixtures, so every value
 * asserted is one the test set. The policy gate and the schema run over the result too.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATION_CONTAINER, MIGRATION_HOOK, MigrationJob } from '../charts/app/migration-job';
import { imageReference } from '../charts/app/web-service';
import { recommendedLabels } from '../charts/common/labels';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../charts/common/pod-security';
import { SYNC_WAVES } from '../charts/common/sync-waves';
import { mergeConfig } from '../environments/define';
import { ConfigError, resolveEnvironment } from '../environments/load';
import { INJECTED_ENV, migrationEnv } from '../environments/model/injected-env';
import { buildModel } from '../environments/model/model';
import { migrationJobName } from '../environments/model/names';
import type { Environment } from '../environments/schema';
import type { K8sObject } from '../pipeline/k8s-object';
import { checkPolicy } from '../pipeline/policy';
import { synthesizeEnvironment, synthObjects } from '../pipeline/synth';
import { AS_PRODUCTION, boxDesigner, REPOSITORY_ROOT, shop, variant } from './support/fixtures';
import { only, synthConstruct } from './support/synth-construct';

const JOB = migrationJobName('api');

/** The shop with a migration on its api (which uses PostgreSQL, Redis and uploaded files). */
function migrating(migration: object = {}, overrides: object = {}): Environment {
  return variant(shop, mergeConfig({ services: { api: { migration: { command: ['/app/migrate'], ...migration } } } }, overrides));
}

const objectsOf = (env: Environment): K8sObject[] => synthObjects(env).map((o) => o.object);
const jobOf = (env: Environment) => only(objectsOf(env), 'Job', JOB);
const containerOf = (job: K8sObject): K8sObject => only(job.spec.template.spec.containers.map((c: K8sObject) => ({ ...c, kind: 'Container', metadata: { name: c.name } })), 'Container');

/** The problems resolving a configuration reports, or [] when it resolves. */
function problems(build: () => unknown): string[] {
  try {
    build();
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return [...e.problems].sort();
  }
}

const env = migrating({ args: ['--target', 'latest'] });
const model = buildModel(env);
const pg = model.data.postgres!;
const job = jobOf(env);
const container = containerOf(job);

describe('an Argo CD Sync hook in its own wave', () => {
  test('the Job is a hook Argo CD deletes only when it creates the next (the last run stays for its logs); its ServiceAccount is a plain object', () => {
    expect(MIGRATION_HOOK).toEqual({ 'argocd.argoproj.io/hook': 'Sync', 'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation' });
    const account = only(objectsOf(env), 'ServiceAccount', JOB);
    expect(job.metadata.annotations).toMatchObject(MIGRATION_HOOK);
    expect(account.metadata.annotations?.['argocd.argoproj.io/hook']).toBeUndefined();
  });

  test('after the namespace, flows, secrets and accounts it needs, before the services\' pods and the database\'s Pooler', () => {
    const objects = synthObjects(env).map((o) => o.object);
    const wave = (o: K8sObject) => Number(o.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? 0);
    const hook = wave(job);
    for (const kind of ['Namespace', 'NetworkPolicy', 'ExternalSecret', 'ServiceAccount', 'PriorityClass']) {
      for (const o of objects.filter((x) => x.kind === kind)) expect({ kind, before: wave(o) < hook }).toEqual({ kind, before: true });
    }
    for (const o of objects.filter((x) => x.kind === 'Deployment')) expect(wave(o)).toBeGreaterThan(hook);
    expect(hook).toBe(SYNC_WAVES.Job);
  });

  test('no TTL: BeforeHookCreation replaces the Job, and a Job deleted under a running hook leaves the sync stuck', () => {
    expect(job.spec).not.toHaveProperty('ttlSecondsAfterFinished');
  });

  test('its deadline and retries come from the configuration: 900 s and one retry unless it says otherwise', () => {
    expect(job.spec).toMatchObject({ activeDeadlineSeconds: 900, backoffLimit: 1 });
    expect(jobOf(migrating({ timeoutSeconds: 1800, backoffLimit: 0 })).spec).toMatchObject({ activeDeadlineSeconds: 1800, backoffLimit: 0 });
    // A drained node or a preempted pod uses up no retry.
    expect(job.spec.podFailurePolicy).toEqual({ rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] });
  });

  test('named <service>-migrate, labelled as the migration of the application', () => {
    expect(JOB).toBe('api-migrate');
    expect(job.metadata).toMatchObject({ name: JOB, namespace: env.app.namespace, labels: recommendedLabels(model.identity, JOB, 'migration') });
    expect(job.spec.template.metadata.labels).toEqual(recommendedLabels(model.identity, JOB, 'migration'));
  });
});

describe('what it runs', () => {
  test('the service\'s own image by default, pinned as the service is, with the configured command and arguments', () => {
    expect(container.name).toBe(MIGRATION_CONTAINER);
    expect(container.image).toBe(imageReference(env.services.api.image));
    expect(container.image).toBe('registry.test.invalid/shop/api:2.0.0@sha256:2222222222222222222222222222222222222222222222222222222222222222');
    expect(container.command).toEqual(['/app/migrate']);
    expect(container.args).toEqual(['--target', 'latest']);
    expect(container.imagePullPolicy).toBe('IfNotPresent');
  });

  test('an image of its own from the pin file\'s migrations section; without a command, the image\'s entrypoint', () => {
    const config = mergeConfig(structuredClone(shop.config), { services: { api: { migration: { args: ['migrate'] } } } });
    const own = resolveEnvironment({ ...shop, imagePinsFile: 'test/fixtures/images/shop-migration.yaml', config }, REPOSITORY_ROOT);
    const c = containerOf(jobOf(own));
    expect(c.image).toBe('registry.test.invalid/shop/api-migrations:2.0.0-flyway@sha256:4444444444444444444444444444444444444444444444444444444444444444');
    expect(c).not.toHaveProperty('command');
    expect(c.args).toEqual(['migrate']);
    // The service keeps its own.
    expect(only(objectsOf(own), 'Deployment', 'api').spec.template.spec.containers[0].image).toBe(container.image);
  });

  test('the service\'s resources, user and scratch paths unless it says otherwise', () => {
    const api = env.services.api;
    expect(container.resources).toEqual(api.resources);
    expect(job.spec.template.spec.securityContext.runAsUser).toBe(api.runAsUser);
    expect(container.volumeMounts).toEqual([{ name: 'scratch-tmp', mountPath: '/tmp' }]);
    const resources = { requests: { cpu: '50m', memory: '128Mi' }, limits: { cpu: '100m', memory: '192Mi' } };
    const sized = jobOf(migrating({ resources, runAsUser: 4242 }));
    expect(containerOf(sized).resources).toEqual(resources);
    expect(sized.spec.template.spec.securityContext).toEqual(restrictedPodSecurityContext(4242));
  });
});

describe('its database connection', () => {
  const vars = new Map((container.env as K8sObject[]).map((e) => [e.name, e]));

  test('the primary\'s -rw Service, never PgBouncer, with the same Secret keys as the service', () => {
    expect(vars.get('DATABASE_HOST')).toEqual({ name: 'DATABASE_HOST', value: `${pg.cluster}-rw` });
    expect(pg.primaryService).toBe(`${pg.cluster}-rw`);
    expect(JSON.stringify(container)).not.toContain(pg.pooler);
    const service = only(objectsOf(env), 'Deployment', 'api').spec.template.spec.containers[0].env as K8sObject[];
    for (const name of ['DATABASE_USER', 'DATABASE_PASSWORD']) {
      expect(vars.get(name)).toEqual(service.find((e) => e.name === name));
      expect(vars.get(name)?.valueFrom.secretKeyRef.name).toBe(pg.appSecret);
    }
    expect(service.find((e) => e.name === 'DATABASE_HOST')?.value).toBe(pg.pooler);
  });

  test('PostgreSQL\'s variables only: nothing of Redis or the uploaded files, which the service also uses', () => {
    expect([...vars.keys()]).toEqual(INJECTED_ENV.postgres);
    expect(job.spec.template.spec.volumes.map((v: K8sObject) => v.name)).toEqual(['scratch-tmp']);
    expect(migrationEnv(model.data).map((v) => v.name)).toEqual(INJECTED_ENV.postgres);
  });

  test('its own variables come after the injected ones; one that is exactly a secret\'s reads the Secret itself', () => {
    const withEnv = containerOf(jobOf(migrating({ env: { FLYWAY_URL: 'jdbc:postgresql://$(DATABASE_HOST)/$(DATABASE_NAME)', FLYWAY_PASSWORD: '$(DATABASE_PASSWORD)' } })));
    const names = (withEnv.env as K8sObject[]).map((e) => e.name);
    expect(names).toEqual([...INJECTED_ENV.postgres, 'FLYWAY_PASSWORD', 'FLYWAY_URL']);
    const byName = new Map((withEnv.env as K8sObject[]).map((e) => [e.name, e]));
    expect(byName.get('FLYWAY_URL')).toEqual({ name: 'FLYWAY_URL', value: 'jdbc:postgresql://$(DATABASE_HOST)/$(DATABASE_NAME)' });
    expect(byName.get('FLYWAY_PASSWORD')).toEqual({ name: 'FLYWAY_PASSWORD', valueFrom: { secretKeyRef: { name: pg.appSecret, key: 'password' } } });
  });
});

describe('its pod', () => {
  const spec = job.spec.template.spec;

  test('Pod Security restricted with a read-only root filesystem, as every workload', () => {
    expect(spec.securityContext).toEqual(restrictedPodSecurityContext(env.services.api.runAsUser));
    expect(container.securityContext).toEqual(restrictedContainerSecurityContext());
  });

  test('its own ServiceAccount without a token, never restarted in place, at the batch priority', () => {
    const account = only(objectsOf(env), 'ServiceAccount', JOB);
    expect(account.automountServiceAccountToken).toBe(false);
    expect(spec).toMatchObject({
      serviceAccountName: JOB, automountServiceAccountToken: false, enableServiceLinks: false, restartPolicy: 'Never',
      priorityClassName: model.priorityClasses.batch,
    });
    // No probes: it is not a server.
    expect(Object.keys(container).filter((k) => k.endsWith('Probe'))).toEqual([]);
  });

  test('the construct alone makes exactly a ServiceAccount and a Job', () => {
    const objects = synthConstruct((s) => new MigrationJob(s, 'm', {
      identity: model.identity, name: 'x-migrate', image: env.services.api.image, args: [], env: {}, injectedEnv: [],
      resources: env.services.api.resources, runAsUser: 1234, writablePaths: [], timeoutSeconds: 60, backoffLimit: 2,
    }));
    expect(objects.map((o) => `${o.kind} ${o.metadata.name}`)).toEqual(['ServiceAccount x-migrate', 'Job x-migrate']);
    const { spec: jobSpec } = only(objects, 'Job');
    expect(jobSpec.template.spec).not.toHaveProperty('priorityClassName');
    expect(jobSpec.template.spec.containers[0]).not.toHaveProperty('args');
    expect(jobSpec.template.spec.containers[0]).not.toHaveProperty('command');
  });
});

describe('the gate', () => {
  test('the whole environment passes the schema and every policy rule, in production too (digests, priorities, policy coverage)', async () => {
    for (const e of [env, migrating({}, AS_PRODUCTION)]) {
      expect((await synthesizeEnvironment(e)).problems).toEqual([]);
    }
  });

  test('the policy rules see the Job: without a NetworkPolicy naming its pods, coverage fails', () => {
    const objects = objectsOf(env).filter((o) => !(o.kind === 'NetworkPolicy' && o.metadata.name === JOB));
    expect(checkPolicy(objects, { production: false }).map((v) => `${v.rule} ${v.object}`)).toEqual([`network-policy-coverage Job ${env.app.namespace}/${JOB}`]);
  });

  test('no migration, no Job, ServiceAccount or NetworkPolicy of one', () => {
    for (const e of [variant(shop), variant(boxDesigner)]) {
      const objects = objectsOf(e);
      // (Other hooks, the smoke test's, are Jobs too.)
      expect(objects.filter((o) => o.metadata.labels['app.kubernetes.io/component'] === 'migration' || o.metadata.name.endsWith('-migrate'))).toEqual([]);
      expect(objects.filter((o) => o.kind === 'Job').map((o) => o.metadata.annotations?.['argocd.argoproj.io/hook'])).not.toContain('Sync');
    }
  });
});

describe('configurations refused', () => {
  const line = (path: string, message: string) => `shop: ${path} ${message}`;

  test('a migration of a service that does not use PostgreSQL', () => {
    expect(problems(() => variant(shop, { services: { web: { migration: { command: ['migrate'] } } } }))).toEqual([
      line('services.web.migration', 'is set, but services.web does not use postgres: a migration changes data.postgres\'s schema (add \'postgres\' to uses)'),
    ]);
  });

  test('the service\'s own image without a command: its entrypoint starts the service, which never ends', () => {
    expect(problems(() => variant(shop, { services: { api: { migration: { args: ['migrate'] } } } }))).toEqual([
      line('services.api.migration.command', 'is required with the service\'s own image: its entrypoint starts the service, which never exits '
        + '(or pin an image of its own under migrations.api in the pin file)'),
    ]);
    expect(problems(() => migrating({ command: [] }))).toEqual([line('services.api.migration.command', 'is empty: leave it out to run the image\'s entrypoint')]);
  });

  test('an image written in the environment file, not the pin file', () => {
    const image = { repository: 'registry.test.invalid/shop/flyway', tag: '11.0.0' };
    expect(problems(() => migrating({ image }))).toEqual([
      line('services.api.migration.image', 'is set here, but images come only from test/fixtures/images/shop.yaml (migrations.api)'),
    ]);
  });

  test('a migration pin for a service without a migration', () => {
    expect(problems(() => resolveEnvironment({ ...shop, imagePinsFile: 'test/fixtures/images/shop-migration.yaml' }, REPOSITORY_ROOT))).toEqual([
      line('test/fixtures/images/shop-migration.yaml: migrations.api', 'pins a migration image, but services.api has no migration'),
    ]);
  });

  test('its own variables may not set what is injected, nor refer to what it does not get', () => {
    expect(problems(() => migrating({ env: { DATABASE_HOST: 'elsewhere', CACHE: '$(REDIS_PASSWORD)' }, args: ['$(UPLOADS_DIR)', '$(NOWHERE)', '$$(LITERAL)'] }))).toEqual([
      line('services.api.migration.args[0]', 'refers to $(UPLOADS_DIR), which a migration does not get: it gets only PostgreSQL\'s variables '
        + '(DATABASE_HOST, DATABASE_PORT, DATABASE_NAME, DATABASE_USER, DATABASE_PASSWORD)'),
      line('services.api.migration.args[1]', 'refers to $(NOWHERE), which is not defined: Kubernetes would keep the text "$(NOWHERE)"'),
      line('services.api.migration.env.CACHE', 'refers to $(REDIS_PASSWORD), which a migration does not get: it gets only PostgreSQL\'s variables '
        + '(DATABASE_HOST, DATABASE_PORT, DATABASE_NAME, DATABASE_USER, DATABASE_PASSWORD)'),
      line('services.api.migration.env.DATABASE_HOST', 'is injected for the migration (pointing at the primary); remove it from env'),
    ]);
  });

  test('a name another object takes, and a name too long for a Job', () => {
    // A service named like the api's migration, and one whose migration's name would not fit in 63.
    const long = `a${'x'.repeat(56)}`;
    const config = structuredClone(shop.config) as any;
    config.services['api-migrate'] = { ...config.services.web, calls: [] };
    config.services[long] = { ...config.services.api, migration: { command: ['migrate'] } };
    config.services.api.migration = { command: ['migrate'] };
    const root = mkdtempSync(join(tmpdir(), 'shipshape-migration-'));
    try {
      const pin = (name: string) => `  ${name}:\n    repository: registry.test.invalid/shop/${name}\n    tag: 1.0.0\n`;
      writeFileSync(join(root, 'pins.yaml'), `services:\n${['web', 'api', 'api-migrate', long].map(pin).join('')}`);
      expect(problems(() => resolveEnvironment({ ...shop, imagePinsFile: 'pins.yaml', config }, root))).toEqual([
        line('services.api.migration', 'makes the Job, ServiceAccount and NetworkPolicy "api-migrate", a name another object of the environment already takes'),
        line(`services.${long}.migration`, `makes the Job "${long}-migrate", 65 characters; Kubernetes allows 63 (its pods carry the name as a label): shorten the service's name`),
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('a deadline under a minute or over an hour, more than five retries, requests above limits', () => {
    expect(problems(() => migrating({ timeoutSeconds: 59, backoffLimit: 6 }))).toEqual([
      line('services.api.migration.backoffLimit', '(6) must be at most 5'),
      line('services.api.migration.timeoutSeconds', '(59) must be at least 60'),
    ]);
    expect(problems(() => migrating({ timeoutSeconds: 3601 }))).toEqual([line('services.api.migration.timeoutSeconds', '(3601) must be at most 3600')]);
    const resources = { requests: { cpu: '2', memory: '128Mi' }, limits: { cpu: '1', memory: '128Mi' } };
    expect(problems(() => migrating({ resources }))).toEqual([line('services.api.migration.resources.requests.cpu', '(2) is greater than limits.cpu (1)')]);
  });
});
