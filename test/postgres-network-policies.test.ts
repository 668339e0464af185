/**
 * PostgreSQL and PgBouncer under the namespace's default deny, judged by flows over the whole
 * environment's policies (application, data tier, backups): who may reach them, and where they may
 * go. The pods carry the labels CloudNativePG gives them (test/support/network-endpoints.ts); the
 * database side is also checked on its own, so it cannot lean on the senders' egress.
 */
import { recommendedLabels } from '../charts/common/labels';
import { dataEndpoints } from '../environments/model/names';
import { INSTANCE_MANAGER_PORT, PGBOUNCER_METRICS_PORT, POSTGRES_METRICS_PORT } from '../environments/model/network';
import { environments } from '../environments/index';
import { resolveEnvironment, resolveEnvironments } from '../environments/load';
import { production } from '../environments/production';
import { networkCast, PRIMARY, STANDBY, UNLABELLED_HERE } from './support/network-endpoints';
import { allowed, sideAllows } from './support/network-policy-evaluator';

const [stagingEnv, env] = resolveEnvironments(environments, process.cwd());
const cast = networkCast(env, stagingEnv);
const policies = cast.policies;
const data = dataEndpoints(env);

const pods = {
  api: cast.pod('api'),
  web: cast.pod('web'),
  primary: cast.pod(PRIMARY),
  standby: cast.pod(STANDBY),
  pooler: cast.pod(data.postgres.pooler),
  dumpJob: cast.pod(data.backups.databaseBackupJob),
  filesJob: cast.pod(data.backups.filesBackupJob),
  unlabelled: cast.pod(UNLABELLED_HERE),
  operator: cast.pod('cnpg-operator'),
  prometheus: cast.pod('prometheus'),
  grafana: cast.pod('grafana'),
  fakeApi: cast.pod('impostor of api'),
  fakePooler: cast.pod(`impostor of ${data.postgres.pooler}`),
  objectStore: cast.endpoint('object-storage'),
  apiServer: cast.endpoint('api-server'),
  metadata: cast.endpoint('metadata-endpoint'),
};

test('the api reaches PgBouncer and the instances on 5432; web reaches neither', () => {
  expect(allowed(policies, pods.api, pods.pooler, 5432)).toBe(true);
  expect(allowed(policies, pods.api, pods.primary, 5432)).toBe(true);
  expect(allowed(policies, pods.web, pods.pooler, 5432)).toBe(false);
  expect(allowed(policies, pods.web, pods.primary, 5432)).toBe(false);
});

test('the database side itself refuses undeclared senders, whatever their egress says', () => {
  for (const receiver of [pods.primary, pods.standby, pods.pooler]) {
    for (const sender of [pods.web, pods.unlabelled, pods.fakeApi, pods.fakePooler]) {
      expect(sideAllows(policies, 'Ingress', receiver, sender, 5432)).toBe(false);
    }
    expect(sideAllows(policies, 'Ingress', receiver, pods.api, 5432)).toBe(true);
  }
});

test('PgBouncer reaches the instances; the instances replicate among themselves', () => {
  expect(allowed(policies, pods.pooler, pods.primary, 5432)).toBe(true);
  expect(allowed(policies, pods.standby, pods.primary, 5432)).toBe(true);
  expect(allowed(policies, pods.primary, pods.standby, 5432)).toBe(true);
});

test('the instances admit the dump job (it reads a standby)', () => {
  expect(allowed(policies, pods.dumpJob, pods.standby, 5432)).toBe(true);
});

test('PgBouncer is not an instance: the instances\' policy does not select it although CloudNativePG labels it cnpg.io/cluster', () => {
  expect(sideAllows(policies, 'Ingress', pods.pooler, pods.dumpJob, 5432)).toBe(false);
  expect(sideAllows(policies, 'Ingress', pods.pooler, pods.prometheus, POSTGRES_METRICS_PORT)).toBe(false);
  expect(sideAllows(policies, 'Egress', pods.pooler, pods.standby, INSTANCE_MANAGER_PORT)).toBe(false);
});

test('the instances admit no backup job but the dump', () => {
  expect(sideAllows(policies, 'Ingress', pods.primary, pods.filesJob, 5432)).toBe(false);
});

test('the instances reach each other\'s status port, for the primary\'s isolation check', () => {
  expect(allowed(policies, pods.primary, pods.standby, INSTANCE_MANAGER_PORT)).toBe(true);
});

test('the operator reaches the instance manager; Prometheus the exporters; nothing else from outside', () => {
  expect(allowed(policies, pods.operator, pods.primary, INSTANCE_MANAGER_PORT)).toBe(true);
  expect(allowed(policies, pods.operator, pods.pooler, INSTANCE_MANAGER_PORT)).toBe(true);
  expect(allowed(policies, pods.prometheus, pods.primary, POSTGRES_METRICS_PORT)).toBe(true);
  expect(allowed(policies, pods.prometheus, pods.pooler, PGBOUNCER_METRICS_PORT)).toBe(true);
  expect(allowed(policies, pods.grafana, pods.primary, POSTGRES_METRICS_PORT)).toBe(false);
  expect(allowed(policies, pods.prometheus, pods.primary, 5432)).toBe(false);
  expect(allowed(policies, pods.fakePooler, pods.pooler, 5432)).toBe(false);
});

test('instances send WAL to the object store and talk to the API server; not to the metadata endpoint', () => {
  expect(allowed(policies, pods.primary, pods.objectStore, 443)).toBe(true);
  expect(allowed(policies, pods.primary, pods.apiServer, 6443)).toBe(true);
  expect(allowed(policies, pods.primary, pods.metadata, 80)).toBe(false);
  expect(allowed(policies, pods.primary, pods.objectStore, 80)).toBe(false);
});

test('PgBouncer goes nowhere but the instances and the API server', () => {
  expect(allowed(policies, pods.pooler, pods.apiServer, 443)).toBe(true);
  expect(allowed(policies, pods.pooler, pods.web, 3000)).toBe(false);
  expect(allowed(policies, pods.pooler, pods.objectStore, 80)).toBe(false);
});

test('each policy is labelled as a network policy of what it guards', () => {
  const byName = (name: string) => policies.find((p) => p.metadata.name === name)!;
  expect(byName(data.postgres.cluster).metadata.labels).toEqual(recommendedLabels(env, 'postgresql', 'network-policy'));
  expect(byName(data.postgres.pooler).metadata.labels).toEqual(recommendedLabels(env, 'pgbouncer', 'network-policy'));
});

test('with no service using PostgreSQL, PgBouncer admits nobody on 5432 (an empty peer list would admit everyone)', () => {
  const config = structuredClone(production.config) as { services: Record<string, { uses?: string[]; env?: Record<string, string> }> };
  for (const s of Object.values(config.services)) {
    s.uses = (s.uses ?? []).filter((u) => u !== 'postgres');
    // Settings that refer to the variables `uses: postgres` injects go with it.
    s.env = Object.fromEntries(Object.entries(s.env ?? {}).filter(([, v]) => !v.includes('$(DATABASE_')));
  }
  const variant = resolveEnvironment({ ...production, config: config as typeof production.config }, process.cwd());
  const c = networkCast(variant, stagingEnv);
  const pooler = c.pod(data.postgres.pooler);
  for (const sender of [c.pod('api'), c.pod('web'), c.pod(UNLABELLED_HERE)]) {
    expect(sideAllows(c.policies, 'Ingress', pooler, sender, 5432)).toBe(false);
  }
  expect(c.policies.find((p) => p.metadata.name === data.postgres.pooler)!.spec.ingress
    .every((rule: { from?: unknown[] }) => (rule.from ?? []).length > 0)).toBe(true);
});
