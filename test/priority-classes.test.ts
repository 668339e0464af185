/**
 * charts/platform/priority-classes.ts: serving pods above batch jobs, both below the system's, none
 * the cluster's default; and every pod of the output names the class of its kind.
 */
import { PriorityClasses, PRIORITY_VALUES } from '../charts/platform/priority-classes';
import { appIdentity } from '../environments/model/identity';
import type { K8sObject } from '../pipeline/k8s-object';
import { podTemplate } from '../pipeline/policy';
import { synthObjects } from '../pipeline/synth';
import { shop, variant } from './support/fixtures';
import { only, synthConstruct } from './support/synth-construct';

const env = variant(shop);
const objects = synthObjects(env).map((o) => o.object);

test('two cluster-scoped classes named after the application: serving above batch, batch preempts nothing', () => {
  const classes = synthConstruct((s) => new PriorityClasses(s, 'p', { identity: appIdentity(env), names: { serving: 'shop-serving', batch: 'shop-batch' } }));
  const serving = only(classes, 'PriorityClass', 'shop-serving');
  const batch = only(classes, 'PriorityClass', 'shop-batch');
  expect(serving.metadata.namespace).toBeUndefined();
  expect(serving).toMatchObject({ apiVersion: 'scheduling.k8s.io/v1', value: 100000, globalDefault: false, preemptionPolicy: 'PreemptLowerPriority' });
  expect(batch).toMatchObject({ value: 10000, globalDefault: false, preemptionPolicy: 'Never' });
  // Above the default 0, far below system-cluster-critical (2000000000).
  expect(PRIORITY_VALUES.batch).toBeGreaterThan(0);
  expect(PRIORITY_VALUES.serving).toBeGreaterThan(PRIORITY_VALUES.batch);
  expect(PRIORITY_VALUES.serving).toBeLessThan(1_000_000_000);
});

test('the services, PostgreSQL, PgBouncer and Redis serve; the backup jobs and the smoke test are batch', () => {
  const classOf = (o: K8sObject) => (o.kind === 'Cluster' ? o.spec.priorityClassName
    : o.kind === 'Pooler' ? o.spec.template.spec.priorityClassName : podTemplate(o)?.spec.priorityClassName);
  const running = objects.filter((o) => podTemplate(o) || ['Cluster', 'Pooler'].includes(o.kind));
  expect(Object.fromEntries(running.map((o) => [`${o.kind} ${o.metadata.name}`, classOf(o)]))).toEqual({
    'Deployment web': 'shop-serving',
    'Deployment api': 'shop-serving',
    // The uptime checks' probers: a page depends on them.
    'Deployment blackbox-exporter-0': 'shop-serving',
    'Deployment blackbox-exporter-1': 'shop-serving',
    'Cluster shop-db': 'shop-serving',
    'Pooler shop-db-pooler': 'shop-serving',
    'StatefulSet shop-redis': 'shop-serving',
    'CronJob backup-database': 'shop-batch',
    'CronJob backup-files': 'shop-batch',
    'Job smoke-test': 'shop-batch',
    'CronJob backup-verify': 'shop-batch',
  });
  expect(objects.filter((o) => o.kind === 'PriorityClass').map((o) => o.metadata.name).sort()).toEqual(['shop-batch', 'shop-serving']);
});
