/**
 * Worker: what one configured worker becomes (a Deployment that serves no HTTP, with the same
 * security, scaling and injected settings as a service), its flows, and the configuration errors a
 * worker can be given. The box designer's renderer is the fixture; variants flip each decision.
 */
import { Worker, MANAGEMENT_PORT_NAME } from '../charts/app/worker';
import { restrictedContainerSecurityContext } from '../charts/common/pod-security';
import { resolveEnvironment } from '../environments/load';
import { appIdentity } from '../environments/model/identity';
import { injectedEnv } from '../environments/model/injected-env';
import { buildModel } from '../environments/model/model';
import type { Environment } from '../environments/schema';
import type { K8sObject } from '../pipeline/k8s-object';
import { NO_LIVENESS_ANNOTATION } from '../pipeline/policy';
import { synthesizeEnvironment } from '../pipeline/synth';
import { boxDesigner, boxDesignerWithRenderer, configProblems, REPOSITORY_ROOT } from './support/fixtures';
import { only, synthConstruct } from './support/synth-construct';

/** The renderer alone, as AppChart builds it. */
function synth(env: Environment): K8sObject[] {
  const data = buildModel(env).data;
  const worker = env.workers.renderer;
  return synthConstruct((scope) => new Worker(scope, 'renderer', {
    identity: appIdentity(env), name: 'renderer', worker, injectedEnv: injectedEnv(data, worker.uses),
    uploads: data.uploads ? { claimName: data.uploads.claim, mountPath: data.uploads.mountPath } : undefined,
  }));
}
const kinds = (objects: K8sObject[]) => objects.map((o) => o.kind).sort();
const podSpec = (objects: K8sObject[]) => only(objects, 'Deployment').spec.template.spec;
const container = (objects: K8sObject[]) => podSpec(objects).containers[0];

describe('a worker', () => {
  const objects = synth(boxDesignerWithRenderer());

  test('is a Deployment and its ServiceAccount: no Service, route, monitor, or disruption budget for one replica', () => {
    expect(kinds(objects)).toEqual(['Deployment', 'ServiceAccount']);
    expect(only(objects, 'ServiceAccount').automountServiceAccountToken).toBe(false);
    expect(only(objects, 'Deployment').spec.replicas).toBe(1);
  });

  test('runs its command, listens on nothing, and has no readiness (nothing sends it requests)', () => {
    const c = container(objects);
    expect(c.command).toEqual(['python', '-m', 'boxes.render_worker']);
    expect(c).not.toHaveProperty('ports');
    expect(c).not.toHaveProperty('readinessProbe');
    expect(c.image).toBe('registry.test.invalid/box-designer/renderer:0.4.1@sha256:4444444444444444444444444444444444444444444444444444444444444444');
  });

  test('liveness by its command, patient while it starts, then at the configured pace', () => {
    const c = container(objects);
    const exec = { command: ['python', '-m', 'boxes.heartbeat', '--max-age', '120'] };
    expect(c.startupProbe).toEqual({ exec, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 36, successThreshold: 1 });
    expect(c.livenessProbe).toEqual({ exec, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 6, successThreshold: 1 });
  });

  test('stops within its configured grace: time to finish the job it holds', () => {
    expect(podSpec(objects).terminationGracePeriodSeconds).toBe(300);
    expect(container(objects)).not.toHaveProperty('lifecycle');
  });

  test('gets the connection settings of what it uses, and the uploaded files mounted', () => {
    const names = container(objects).env.map((e: K8sObject) => e.name);
    expect(names).toEqual(expect.arrayContaining(['DATABASE_HOST', 'DATABASE_PASSWORD', 'UPLOADS_DIR', 'RENDER_OUTPUT']));
    expect(names.indexOf('UPLOADS_DIR')).toBeLessThan(names.indexOf('RENDER_OUTPUT'));
    expect(names.some((n: string) => n.startsWith('REDIS_'))).toBe(false);
    expect(container(objects).volumeMounts).toContainEqual({ name: 'uploads', mountPath: '/data/designs' });
  });

  test('runs restricted, read-only, as its own user', () => {
    expect(container(objects).securityContext).toEqual(restrictedContainerSecurityContext());
    expect(podSpec(objects).securityContext).toMatchObject({ runAsUser: 1000, runAsNonRoot: true });
    expect(podSpec(objects).automountServiceAccountToken).toBe(false);
  });
});

describe('what the configuration asks of it', () => {
  test('a management port with metrics: a PodMonitor on it, and liveness asked there', () => {
    const objects = synth(boxDesignerWithRenderer({
      workers: { renderer: { managementPort: 9100, metrics: { path: '/metrics' }, liveness: { path: '/live', failureThreshold: 4 } } },
    }, (c) => { delete c.workers.renderer.liveness.command; }));
    expect(kinds(objects)).toEqual(['Deployment', 'PodMonitor', 'ServiceAccount']);
    expect(container(objects).ports).toEqual([{ name: MANAGEMENT_PORT_NAME, containerPort: 9100, protocol: 'TCP' }]);
    expect(container(objects).livenessProbe).toMatchObject({ httpGet: { path: '/live', port: MANAGEMENT_PORT_NAME, scheme: 'HTTP' }, failureThreshold: 4 });
    expect(only(objects, 'PodMonitor').spec.podMetricsEndpoints).toEqual([{ port: MANAGEMENT_PORT_NAME, path: '/metrics', interval: '30s', scheme: 'http' }]);
  });

  test('no liveness check: no probes, and the reason on the pod template', () => {
    const reason = 'the render loop has no state a restart would fix; a hung render is killed by its own timeout';
    const objects = synth(boxDesignerWithRenderer({ workers: { renderer: { liveness: { none: reason } } } }, (c) => {
      delete c.workers.renderer.liveness.command;
    }));
    expect(container(objects)).not.toHaveProperty('livenessProbe');
    expect(container(objects)).not.toHaveProperty('startupProbe');
    expect(only(objects, 'Deployment').spec.template.metadata.annotations).toEqual({ [NO_LIVENESS_ANNOTATION]: reason });
  });

  test('autoscaling: an HPA on CPU and memory and a disruption budget; fixed replicas above one: the budget alone', () => {
    const scaled = synth(boxDesignerWithRenderer({ workers: { renderer: { autoscaling: { minReplicas: 2, maxReplicas: 6 } } } }, (c) => {
      delete c.workers.renderer.replicas;
    }));
    expect(kinds(scaled)).toEqual(['Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'ServiceAccount']);
    expect(only(scaled, 'Deployment').spec).not.toHaveProperty('replicas');
    expect(only(scaled, 'HorizontalPodAutoscaler').spec.metrics.map((m: K8sObject) => m.resource.name)).toEqual(['cpu', 'memory']);
    expect(kinds(synth(boxDesignerWithRenderer({ workers: { renderer: { replicas: 2 } } })))).toEqual(['Deployment', 'PodDisruptionBudget', 'ServiceAccount']);
  });
});

describe('through the whole gate', () => {
  test.each([
    ['a command', boxDesignerWithRenderer()],
    ['no liveness check, with a reason', boxDesignerWithRenderer({ workers: { renderer: { liveness: { none: 'renders are short; a stuck one is cancelled by the job timeout' } } } }, (c) => {
      delete c.workers.renderer.liveness.command;
    })],
    ['metrics on a management port, scaled', boxDesignerWithRenderer({
      workers: { renderer: { managementPort: 9100, metrics: { path: '/metrics' }, autoscaling: { minReplicas: 2, maxReplicas: 4 } } },
    }, (c) => { delete c.workers.renderer.replicas; })],
  ])('%s: schema, defaults, policy and flows pass', async (_name, env) => {
    const result = await synthesizeEnvironment(env);
    expect(result.problems).toEqual([]);
    expect(result.objects.some((o) => o.kind === 'Deployment' && o.metadata.name === 'renderer')).toBe(true);
  });

  test('its flows: to PgBouncer, nothing to it but Prometheus on the management port when it has metrics', () => {
    const flowsOf = (env: Environment) => buildModel(env).network.flows
      .filter((f) => [...f.from, ...f.to].some((p) => p.name === 'renderer'))
      .map((f) => `${f.from.map((p) => p.name).join(',')} -> ${f.to.map((p) => p.name).join(',')} ${f.ports.map((p) => p.port).join(',')}`);
    expect(flowsOf(boxDesignerWithRenderer())).toEqual(['renderer -> PgBouncer (box-designer-db-pooler) 5432']);
    expect(flowsOf(boxDesignerWithRenderer({ workers: { renderer: { managementPort: 9100, metrics: { path: '/metrics' } } } }))).toEqual([
      'Prometheus -> renderer 9100',
      'renderer -> PgBouncer (box-designer-db-pooler) 5432',
    ]);
    const subject = buildModel(boxDesignerWithRenderer()).network.subjects.find((s) => s.name === 'renderer');
    expect(subject?.types).toEqual(['Ingress', 'Egress']);
  });

  test('the backup of the uploaded files lends it its group', async () => {
    const result = await synthesizeEnvironment(boxDesignerWithRenderer({ workers: { renderer: { runAsUser: 1100 } } }));
    const files = result.objects.find((o) => o.kind === 'CronJob' && o.metadata.name.includes('files'))!;
    expect(files.spec.jobTemplate.spec.template.spec.securityContext.supplementalGroups).toEqual([1000, 1100]);
  });
});

describe('configuration errors name the worker and the field', () => {
  const problems = (overrides: object, edit?: (c: any) => void) => configProblems(() => boxDesignerWithRenderer(overrides, edit));

  test('routes to a worker, and a service calling one', () => {
    expect(problems({ hosts: [{ hostname: 'boxes.test', routes: [{ path: '/', service: 'api' }, { path: '/render', service: 'renderer' }] }] })).toEqual([
      'box-designer: hosts[0].routes[1].service ("renderer") is a worker, which serves no HTTP: route to a service',
    ]);
    expect(problems({ services: { api: { calls: ['renderer'] } } })).toEqual([
      'box-designer: services.api.calls[0] ("renderer") is a worker, which serves no HTTP: call a service, or hand the worker its work through a queue',
    ]);
  });

  test('what only a service has is refused on a worker', () => {
    expect(problems({ workers: { renderer: { port: 8080, health: { livenessPath: '/l', readinessPath: '/r' } } } })).toEqual([
      'box-designer: workers.renderer.port is not a known field',
      'box-designer: workers.renderer.health is not a known field',
    ]);
  });

  test('metrics or a liveness path without a management port; two liveness checks; none without a reason', () => {
    expect(problems({ workers: { renderer: { metrics: { path: '/metrics' } } } })).toEqual([
      'box-designer: workers.renderer.metrics is set, but the worker has no managementPort to serve it on',
    ]);
    expect(problems({ workers: { renderer: { liveness: { path: '/live' } } } }, (c) => { delete c.workers.renderer.liveness.command; })).toEqual([
      'box-designer: workers.renderer.liveness.path is asked on the management port: set managementPort, or check liveness with a command',
    ]);
    expect(problems({ workers: { renderer: { liveness: { path: '/live' } } } })).toEqual([
      'box-designer: workers.renderer.liveness sets command and path: choose one',
    ]);
    expect(problems({ workers: { renderer: { liveness: { none: 'no' } } } }, (c) => { delete c.workers.renderer.liveness.command; })).toEqual([
      'box-designer: workers.renderer.liveness.none must say why the worker has no liveness check, in a sentence a reviewer can judge',
    ]);
  });

  test('a name a service takes, a data component the environment lacks', () => {
    const clash = { ...boxDesigner, imagePinsFile: 'test/fixtures/images/box-designer-worker-clash.yaml' };
    const worker = { description: 'x', liveness: { command: ['true'] }, resources: boxDesigner.config.services?.api?.resources, replicas: 1 };
    const config = { ...clash.config, workers: { api: worker } } as never;
    expect(() => resolveEnvironment({ ...clash, config }, REPOSITORY_ROOT)).toThrow(
      'box-designer: workers.api uses the name "api", which services.api already takes (each makes a Deployment, a ServiceAccount and a NetworkPolicy of its name)',
    );
    expect(problems({ workers: { renderer: { uses: ['postgres', 'uploads', 'redis'] } } })).toEqual([
      'box-designer: workers.renderer.uses[2] ("redis") is not configured: add data.redis, or remove it from uses',
    ]);
  });

  test('every worker needs an image pin, and a pin needs its worker', () => {
    const config = { ...boxDesigner.config, workers: { renderer: boxDesignerWithRenderer().workers.renderer } } as never;
    expect(() => resolveEnvironment({ ...boxDesigner, config }, REPOSITORY_ROOT))
      .toThrow(/workers\.renderer is required: every worker of the environment needs an image pin/);
    expect(() => resolveEnvironment({ ...boxDesigner, imagePinsFile: 'test/fixtures/images/box-designer-renderer.yaml' }, REPOSITORY_ROOT))
      .toThrow(/workers\.renderer pins an image for a worker this environment does not have/);
  });
});
