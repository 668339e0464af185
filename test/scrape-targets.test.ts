/**
 * Every ServiceMonitor and PodMonitor of each environment's output finds what it is meant to
 * scrape: a ServiceMonitor selects, in the namespaces of its namespace selector, Services by their
 * labels, each with a port of every endpoint's name, whose target port the pods behind the Service
 * have; a PodMonitor selects pods, each with a container port of every endpoint's name. A monitor
 * that selects nothing, or a port that was renamed on one side only, gives no target at all and no
 * error anywhere: the alerts on those metrics then never fire.
 *
 * The pods are those of the output's workloads, those the operators make from its objects and
 * those the platform's charts install, with the labels and ports their source gives them
 * (test/support/monitored-pods.ts, cited at the versions deployed). The other direction too: every
 * container port named `metrics` among those pods is scraped.
 */
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { buildModel } from '../environments/model/model';
import { dataEndpoints, FIXED_NAMES } from '../environments/model/names';
import type { Environment } from '../environments/schema';
import type { K8sObject } from '../pipeline/k8s-object';
import { argocdObjects, synthObjects } from '../pipeline/synth';
import { cloudnativePgPods, gatewayProxyPods, platformWorkloads, workloadPods, type Pod } from './support/monitored-pods';

type Selector = { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };

/** Whether a label selector selects these labels (an empty selector selects everything). */
function selects(selector: Selector | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!selector) return false;
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every((e) => {
    switch (e.operator) {
      case 'In': return k(labels, e.key) && (e.values ?? []).includes(labels[e.key]);
      case 'NotIn': return !k(labels, e.key) || !(e.values ?? []).includes(labels[e.key]);
      case 'Exists': return k(labels, e.key);
      case 'DoesNotExist': return !k(labels, e.key);
      default: throw new Error(`unknown selector operator ${e.operator}`);
    }
  });
  return byLabels && byExpressions;
}
const k = (labels: Readonly<Record<string, string>>, key: string) => Object.hasOwn(labels, key);

/** The namespaces a monitor looks in: its selector's, or its own. */
function inNamespaces(monitor: K8sObject): (namespace: string) => boolean {
  const selector = monitor.spec.namespaceSelector;
  if (selector?.any) return () => true;
  const names: string[] = selector?.matchNames ?? [monitor.metadata.namespace];
  return (namespace) => names.includes(namespace);
}

/**
 * What an environment's monitors may select: the output's objects with the Services the platform's
 * charts install, and every pod, the output's own, its operators' and the charts'.
 */
function targets(env: Environment): { objects: K8sObject[]; pods: Pod[] } {
  const synthesized = synthObjects(env);
  const platform = platformWorkloads(argocdObjects(buildModel(env), synthesized));
  const objects = [...synthesized.map((o) => o.object), ...platform.services];
  const operators = [...cloudnativePgPods(objects), ...gatewayProxyPods(objects, env.gateway.proxyNamespace)];
  return { objects, pods: [...workloadPods(objects), ...operators, ...platform.pods] };
}

/** Why a monitor finds nothing to scrape, or finds it only in part; empty when it scrapes what it names. */
function problems(monitor: K8sObject, objects: readonly K8sObject[], pods: readonly Pod[]): string[] {
  const within = inNamespaces(monitor);
  const out: string[] = [];
  if (monitor.kind === 'PodMonitor') {
    const selected = pods.filter((p) => within(p.namespace) && selects(monitor.spec.selector, p.labels));
    if (selected.length === 0) out.push('selects no pod');
    for (const e of monitor.spec.podMetricsEndpoints ?? []) {
      for (const p of selected) if (!p.ports.some((port) => port.name === e.port)) out.push(`${p.origin} has no container port ${e.port}`);
    }
    return out;
  }
  const services = objects.filter((o) => o.kind === 'Service' && within(o.metadata.namespace) && selects(monitor.spec.selector, o.metadata.labels ?? {}));
  if (services.length === 0) out.push('selects no Service');
  for (const s of services) {
    const behind = pods.filter((p) => p.namespace === s.metadata.namespace && Object.keys(s.spec.selector ?? {}).length > 0
      && selects({ matchLabels: s.spec.selector }, p.labels));
    if (behind.length === 0) out.push(`Service ${s.metadata.name} selects no pod`);
    for (const e of monitor.spec.endpoints ?? []) {
      const port = (s.spec.ports ?? []).find((sp: K8sObject) => sp.name === e.port);
      if (!port) {
        out.push(`Service ${s.metadata.name} has no port ${e.port}`);
        continue;
      }
      const target = port.targetPort ?? port.port;
      for (const p of behind) {
        if (!p.ports.some((cp) => (typeof target === 'string' ? cp.name === target : cp.containerPort === target))) {
          out.push(`${p.origin} has no container port ${target} behind Service ${s.metadata.name} port ${e.port}`);
        }
      }
    }
  }
  return out;
}

/** The pods with a container port named metrics that no monitor scrapes there. */
function unscraped(monitors: readonly K8sObject[], objects: readonly K8sObject[], pods: readonly Pod[]): string[] {
  const isMetrics = (port: K8sObject) => (cp: { name?: string; containerPort: number }) =>
    cp.name === 'metrics' && (cp.name === port.targetPort || cp.containerPort === (port.targetPort ?? port.port));
  const scraped = (pod: Pod) => monitors.some((m) => {
    const within = inNamespaces(m);
    if (m.kind === 'PodMonitor') {
      return within(pod.namespace) && selects(m.spec.selector, pod.labels) && (m.spec.podMetricsEndpoints ?? []).some((e: K8sObject) => e.port === 'metrics');
    }
    return objects.some((s) => s.kind === 'Service' && s.metadata.namespace === pod.namespace && within(s.metadata.namespace)
      && selects(m.spec.selector, s.metadata.labels ?? {}) && selects({ matchLabels: s.spec.selector }, pod.labels)
      && (m.spec.endpoints ?? []).some((e: K8sObject) => (s.spec.ports ?? []).some((sp: K8sObject) => sp.name === e.port && pod.ports.some(isMetrics(sp)))));
  });
  return pods.filter((p) => p.ports.some((port) => port.name === 'metrics') && !scraped(p)).map((p) => p.origin);
}

const envs = resolveEnvironments(environments, process.cwd());

describe.each(envs.map((e) => [e.name, e] as const))('%s', (_name, env) => {
  const { objects, pods } = targets(env);
  const monitors = objects.filter((o) => o.kind === 'ServiceMonitor' || o.kind === 'PodMonitor');

  test('monitors the services with metrics, PostgreSQL and PgBouncer, Redis and the Gateway\'s proxies', () => {
    const { postgres, redis } = dataEndpoints(env);
    const services = Object.entries(env.services).filter(([, s]) => s.metrics).map(([name]) => `ServiceMonitor ${name}`);
    expect(services.length).toBeGreaterThan(0);
    expect(monitors.map((m) => `${m.kind} ${m.metadata.name}`)).toEqual(expect.arrayContaining([
      `PodMonitor ${FIXED_NAMES.gatewayProxyMonitor}`, `PodMonitor ${postgres?.cluster}`, `PodMonitor ${postgres?.pooler}`, `ServiceMonitor ${redis?.name}`, ...services,
    ]));
  });

  test.each(monitors.map((m) => [`${m.kind} ${m.metadata.name}`, m] as const))('%s selects what it scrapes, by labels, namespace and port name', (_m, monitor) => {
    expect(problems(monitor, objects, pods)).toEqual([]);
  });

  test('every container port named metrics is scraped by a monitor', () => {
    expect(pods.filter((p) => p.ports.some((port) => port.name === 'metrics')).length).toBeGreaterThan(0);
    expect(unscraped(monitors, objects, pods)).toEqual([]);
  });
});

describe('the check itself', () => {
  const env = envs.find((e) => e.name === 'production')!;
  const { objects, pods } = targets(env);
  const monitor = (kind: string, name: string) => structuredClone(objects.find((o) => o.kind === kind && o.metadata.name === name)!);

  test('a renamed port, a label no pod has and another namespace are each caught', () => {
    const pooler = monitor('PodMonitor', 'student-portal-db-pooler');
    pooler.spec.podMetricsEndpoints[0].port = 'exporter';
    expect(problems(pooler, objects, pods)).toEqual(['PgBouncer pods of Pooler student-portal-db-pooler has no container port exporter']);

    const gateway = monitor('PodMonitor', 'gateway-proxy');
    gateway.spec.namespaceSelector = { matchNames: [env.app.namespace] };
    expect(problems(gateway, objects, pods)).toEqual(['selects no pod']);

    const redis = monitor('ServiceMonitor', 'student-portal-redis');
    redis.spec.endpoints[1].port = 'exporter';
    expect(problems(redis, objects, pods)).toEqual(['Service student-portal-redis-headless has no port exporter']);
    redis.spec.selector.matchLabels['app.kubernetes.io/name'] = 'valkey';
    expect(problems(redis, objects, pods)).toEqual(['selects no Service']);
  });

  test('a selector of the cluster alone would take in its Job pods, which have no metrics port', () => {
    const instances = monitor('PodMonitor', 'student-portal-db');
    delete instances.spec.selector.matchLabels['cnpg.io/podRole'];
    expect(problems(instances, objects, pods)).toEqual(['initdb Job of Cluster student-portal-db has no container port metrics']);
  });

  test('a metrics port no monitor scrapes is caught', () => {
    const monitors = objects.filter((o) => (o.kind === 'ServiceMonitor' || o.kind === 'PodMonitor') && o.metadata.name !== 'student-portal-db-pooler');
    expect(unscraped(monitors, objects, pods)).toEqual(['PgBouncer pods of Pooler student-portal-db-pooler']);
  });

  test('selectors: matchLabels and every expression operator', () => {
    const labels = { a: '1', b: '2' };
    expect(selects({ matchLabels: { a: '1' } }, labels)).toBe(true);
    expect(selects({ matchLabels: { a: '2' } }, labels)).toBe(false);
    expect(selects({ matchExpressions: [{ key: 'b', operator: 'In', values: ['2', '3'] }] }, labels)).toBe(true);
    expect(selects({ matchExpressions: [{ key: 'b', operator: 'NotIn', values: ['2'] }] }, labels)).toBe(false);
    expect(selects({ matchExpressions: [{ key: 'c', operator: 'NotIn', values: ['2'] }] }, labels)).toBe(true);
    expect(selects({ matchExpressions: [{ key: 'c', operator: 'Exists' }] }, labels)).toBe(false);
    expect(selects({ matchExpressions: [{ key: 'c', operator: 'DoesNotExist' }] }, labels)).toBe(true);
    expect(selects(undefined, labels)).toBe(false);
  });
});
