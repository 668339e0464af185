/** PostgresPooler: PgBouncer in transaction mode, on every node it can be, with a budget. */
import { PostgresPooler } from '../charts/data/postgres-pooler';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { only, synthConstruct } from './support/synth-construct';

const [, env] = resolveEnvironments(environments, process.cwd());
const objects = synthConstruct((s) => new PostgresPooler(s, 'pooler', { env }));

test('transaction pooling in front of the primary, sized from the configuration', () => {
  const p = only(objects, 'Pooler');
  expect(p.metadata.name).toBe('student-portal-db-pooler');
  expect(p.spec).toMatchObject({ cluster: { name: 'student-portal-db' }, instances: 2, type: 'rw' });
  expect(p.spec.pgbouncer.poolMode).toBe('transaction');
  expect(p.spec.pgbouncer.parameters).toMatchObject({ max_client_conn: '1000', default_pool_size: '25' });
  expect(p.spec.template.spec.containers[0].resources).toEqual({ requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } });
});

test('pods spread over nodes (hard) and zones, and one may be disrupted at a time', () => {
  const p = only(objects, 'Pooler');
  const keys = p.spec.template.spec.topologySpreadConstraints.map((t: { topologyKey: string; whenUnsatisfiable: string }) => `${t.topologyKey}=${t.whenUnsatisfiable}`);
  expect(keys).toEqual(['topology.kubernetes.io/zone=ScheduleAnyway', 'kubernetes.io/hostname=DoNotSchedule']);
  const pdb = only(objects, 'PodDisruptionBudget');
  expect(pdb.spec).toEqual({ selector: { matchLabels: { 'cnpg.io/poolerName': 'student-portal-db-pooler' } }, maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
});

test('a PodMonitor scrapes PgBouncer\'s exporter', () => {
  expect(only(objects, 'PodMonitor').spec.selector.matchLabels).toEqual({ 'cnpg.io/poolerName': 'student-portal-db-pooler' });
});
