/** PostgresPooler: PgBouncer in transaction mode, on every node it can be, with a budget. */
import { PGBOUNCER_IMAGE } from '../charts/common/images';
import { PostgresPooler } from '../charts/data/postgres-pooler';
import type { Model } from '../environments/model/model';
import { shop, variantModel } from './support/fixtures';
import { only, synthConstruct } from './support/synth-construct';

/** The construct with the props the data chart gives it from the model. */
function synthPooler(model: Model) {
  const pg = model.data.postgres!;
  return synthConstruct((s) => new PostgresPooler(s, 'pooler', {
    identity: model.identity, name: pg.pooler, cluster: pg.cluster, config: model.env.data.postgres!.pooler,
    podLabels: pg.poolerPodLabels,
  }));
}

const POOLER = { instances: 3, defaultPoolSize: 40, maxClientConnections: 500, resources: { requests: { cpu: '150m', memory: '48Mi' }, limits: { cpu: '300m', memory: '96Mi' } } };
const objects = synthPooler(variantModel(shop, { data: { postgres: { pooler: POOLER } } }));

test('transaction pooling in front of the primary, sized from the configuration', () => {
  const p = only(objects, 'Pooler');
  expect(p.apiVersion).toBe('postgresql.cnpg.io/v1');
  expect(p.metadata).toMatchObject({ name: 'shop-db-pooler', namespace: 'shop-test' });
  expect(p.spec).toMatchObject({ cluster: { name: 'shop-db' }, instances: 3, type: 'rw' });
  expect(p.spec.pgbouncer.poolMode).toBe('transaction');
  expect(p.spec.pgbouncer.parameters).toEqual({ max_client_conn: '500', default_pool_size: '40', server_idle_timeout: '300' });
  expect(p.spec.template.spec.containers).toEqual([expect.objectContaining({ name: 'pgbouncer', resources: POOLER.resources })]);
});

test('PgBouncer pinned by digest, with the restricted security context the operator gives it, stated', () => {
  const p = only(objects, 'Pooler');
  const [container] = p.spec.template.spec.containers;
  expect(container.image).toBe(PGBOUNCER_IMAGE);
  expect(container.image).toMatch(/^ghcr\.io\/cloudnative-pg\/pgbouncer:1\.25\.1@sha256:[a-f0-9]{64}$/);
  // CloudNativePG 1.30: pkg/specs/containers.go GetSecurityContext, pkg/specs/pgbouncer/deployments.go createPodSecurityContext.
  expect(container.securityContext).toEqual({
    runAsNonRoot: true, privileged: false, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
  });
  expect(p.spec.template.spec.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 998, runAsGroup: 996, fsGroup: 996, seccompProfile: { type: 'RuntimeDefault' } });
});

test('unconfigured, the schema\'s defaults: two instances, 25 server connections, 1000 clients', () => {
  const p = only(synthPooler(variantModel(shop)), 'Pooler');
  expect(p.spec.instances).toBe(2);
  expect(p.spec.pgbouncer.parameters).toMatchObject({ max_client_conn: '1000', default_pool_size: '25' });
});

test('pods spread over nodes (hard) and zones, and one may be disrupted at a time', () => {
  const p = only(objects, 'Pooler');
  const spread = p.spec.template.spec.topologySpreadConstraints;
  expect(spread.map((t: { topologyKey: string; whenUnsatisfiable: string }) => `${t.topologyKey}=${t.whenUnsatisfiable}`))
    .toEqual(['topology.kubernetes.io/zone=ScheduleAnyway', 'kubernetes.io/hostname=DoNotSchedule']);
  for (const t of spread) expect(t.labelSelector).toEqual({ matchLabels: { 'cnpg.io/poolerName': 'shop-db-pooler' } });
  const pdb = only(objects, 'PodDisruptionBudget');
  expect(pdb.metadata.name).toBe('shop-db-pooler');
  expect(pdb.spec).toEqual({ selector: { matchLabels: { 'cnpg.io/poolerName': 'shop-db-pooler' } }, maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
});

test('its pods say whose application they are in the one recommended label the operator does not overwrite', () => {
  expect(only(objects, 'Pooler').spec.template.metadata.labels).toEqual({ 'app.kubernetes.io/part-of': 'shop' });
});

test('a PodMonitor scrapes PgBouncer\'s exporter', () => {
  const pm = only(objects, 'PodMonitor');
  expect(pm.metadata.name).toBe('shop-db-pooler');
  expect(pm.spec.selector.matchLabels).toEqual({ 'cnpg.io/poolerName': 'shop-db-pooler' });
  expect(pm.spec.podMetricsEndpoints).toEqual([{ port: 'metrics', interval: '30s' }]);
});

test('a cluster named in data.postgres.name (an adopted recovery) gets its own Pooler, pointing at it', () => {
  const adopted = synthPooler(variantModel(shop, {
    data: { postgres: { name: 'shop-db-restore-202611201015', recovery: { source: 'shop-db', targetTime: '2026-11-20T10:15:00Z' } } },
  }));
  const p = only(adopted, 'Pooler');
  expect(p.metadata.name).toBe('shop-db-restore-202611201015-pooler');
  expect(p.spec.cluster).toEqual({ name: 'shop-db-restore-202611201015' });
  expect(only(adopted, 'PodDisruptionBudget').spec.selector).toEqual({ matchLabels: { 'cnpg.io/poolerName': 'shop-db-restore-202611201015-pooler' } });
});
