/**
 * PostgreSQL and PgBouncer under the namespace's default deny, judged by flows over the whole
 * environment's policies (application, data tier): who may reach them, and where they may go.
 */
import { instanceOf, selectorLabels } from '../charts/common/labels';
import { dataEndpoints } from '../charts/common/names';
import type { K8sObject } from '../charts/common/policy';
import { INSTANCE_MANAGER_PORT, PGBOUNCER_METRICS_PORT, POSTGRES_METRICS_PORT } from '../charts/data/postgres-network-policies';
import { synthObjects } from '../charts/synth';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { allowed, sideAllows, type Endpoint } from './support/network-policy-evaluator';

const [, env] = resolveEnvironments(environments, process.cwd());
const policies: K8sObject[] = synthObjects(env).map((o) => o.object).filter((o) => o.kind === 'NetworkPolicy');
const ns = env.app.namespace;
const data = dataEndpoints(env);

const pods = {
  api: { namespace: ns, labels: { ...selectorLabels(env, 'api'), 'app.kubernetes.io/component': 'workload' } },
  web: { namespace: ns, labels: { ...selectorLabels(env, 'web'), 'app.kubernetes.io/component': 'workload' } },
  primary: { namespace: ns, labels: { ...data.postgres.clusterPodLabels, 'cnpg.io/podRole': 'instance', 'cnpg.io/instanceRole': 'primary' } },
  standby: { namespace: ns, labels: { ...data.postgres.clusterPodLabels, 'cnpg.io/podRole': 'instance', 'cnpg.io/instanceRole': 'replica' } },
  pooler: { namespace: ns, labels: { ...data.postgres.poolerPodLabels, 'cnpg.io/podRole': 'pooler' } },
  backupJob: { namespace: ns, labels: { 'app.kubernetes.io/instance': instanceOf(env), 'app.kubernetes.io/component': 'backup', 'app.kubernetes.io/name': 'database-backup' } },
  operator: { namespace: 'cnpg-system', labels: { 'app.kubernetes.io/name': 'cloudnative-pg' } },
  prometheus: { namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'prometheus' } },
  grafana: { namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'grafana' } },
  stranger: { namespace: 'elsewhere', labels: { ...data.postgres.poolerPodLabels } },
  objectStore: { ip: '52.219.170.10' },
  apiServer: { ip: '10.0.0.1' },
  metadata: { ip: '169.254.169.254' },
} satisfies Record<string, Endpoint>;

test('the api reaches PgBouncer and the instances on 5432; web reaches neither', () => {
  expect(allowed(policies, pods.api, pods.pooler, 5432)).toBe(true);
  expect(allowed(policies, pods.api, pods.primary, 5432)).toBe(true);
  expect(allowed(policies, pods.web, pods.pooler, 5432)).toBe(false);
  expect(allowed(policies, pods.web, pods.primary, 5432)).toBe(false);
});

test('PgBouncer reaches the instances; the instances replicate among themselves', () => {
  expect(allowed(policies, pods.pooler, pods.primary, 5432)).toBe(true);
  expect(allowed(policies, pods.standby, pods.primary, 5432)).toBe(true);
  expect(allowed(policies, pods.primary, pods.standby, 5432)).toBe(true);
});

test('the instances admit backup jobs (the dump reads a standby); PgBouncer does not', () => {
  // The jobs' own egress is charts/backup's; here, the database side of the flow.
  expect(sideAllows(policies, 'Ingress', pods.standby, pods.backupJob, 5432)).toBe(true);
  expect(sideAllows(policies, 'Ingress', pods.pooler, pods.backupJob, 5432)).toBe(false);
});

test('the operator reaches the instance manager; Prometheus the exporters; nothing else from outside', () => {
  expect(allowed(policies, pods.operator, pods.primary, INSTANCE_MANAGER_PORT)).toBe(true);
  expect(allowed(policies, pods.operator, pods.pooler, INSTANCE_MANAGER_PORT)).toBe(true);
  expect(allowed(policies, pods.prometheus, pods.primary, POSTGRES_METRICS_PORT)).toBe(true);
  expect(allowed(policies, pods.prometheus, pods.pooler, PGBOUNCER_METRICS_PORT)).toBe(true);
  expect(allowed(policies, pods.grafana, pods.primary, POSTGRES_METRICS_PORT)).toBe(false);
  expect(allowed(policies, pods.prometheus, pods.primary, 5432)).toBe(false);
  expect(allowed(policies, pods.stranger, pods.pooler, 5432)).toBe(false);
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
