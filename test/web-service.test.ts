/**
 * WebService: what one configured service becomes, checked field by field against what a
 * production review asks of it, with configuration variants that flip each decision.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Chart, Testing } from 'cdk8s';
import { stringify } from 'yaml';
import { imageReference, orderEnv, WebService } from '../charts/app/web-service';
import { scratchVolumeName } from '../environments/model/names';
import { envReferences } from '../environments/env-references';
import { restrictedContainerSecurityContext } from '../charts/common/pod-security';
import { selectorLabels } from '../environments/model/identity';
import type { K8sObject } from '../pipeline/k8s-object';
import { environments } from '../environments/index';
import { mergeConfig, type EnvironmentDefinition } from '../environments/define';
import { resolveEnvironment, resolveEnvironments } from '../environments/load';
import { production } from '../environments/production';
import type { Environment } from '../environments/schema';
import { staging } from '../environments/staging';

const root = process.cwd();
const [stagingEnv, productionEnv] = resolveEnvironments(environments, root);

/** A variant of an environment, validated like the real ones; `edit` may delete what merging cannot. */
function variant(base: EnvironmentDefinition, overrides: object, edit?: (config: any) => void): Environment {
  const config = mergeConfig(structuredClone(base.config), overrides);
  edit?.(config);
  return resolveEnvironment({ ...base, config }, root);
}

/** Nothing is written, so the App's outdir is never created. */
function synth(env: Environment, name: string): K8sObject[] {
  const chart = new Chart(Testing.app({ outdir: 'unused' }), 'test', { disableResourceNameHashes: true });
  new WebService(chart, name, { env, name, service: env.services[name] });
  return Testing.synth(chart);
}

const find = (objects: K8sObject[], kind: string) => objects.find((o) => o.kind === kind);
const kinds = (objects: K8sObject[]) => objects.map((o) => o.kind).sort();
const podSpec = (objects: K8sObject[]) => find(objects, 'Deployment')!.spec.template.spec;
const container = (objects: K8sObject[]) => podSpec(objects).containers[0];

describe('replicas: a fixed count or the HPA, never both', () => {
  test('a fixed replica count is set on the Deployment, with no HPA', () => {
    const env = variant(staging, { services: { api: { replicas: 3 } } }, (c) => { delete c.services.api.autoscaling; });
    const objects = synth(env, 'api');
    expect(find(objects, 'Deployment')!.spec.replicas).toBe(3);
    expect(find(objects, 'HorizontalPodAutoscaler')).toBeUndefined();
  });

  test('under autoscaling the Deployment has no replicas and the HPA owns the range', () => {
    const objects = synth(productionEnv, 'api');
    expect(find(objects, 'Deployment')!.spec).not.toHaveProperty('replicas');
    const hpa = find(objects, 'HorizontalPodAutoscaler')!;
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' });
    expect(hpa.spec.minReplicas).toBe(3);
    expect(hpa.spec.maxReplicas).toBe(12);
  });

  test('the HPA targets CPU and memory utilization and limits how fast it scales both ways', () => {
    const env = variant(production, {
      services: { api: { autoscaling: { targetCPUUtilization: 65, targetMemoryUtilization: 75, scaleDownStabilizationSeconds: 600 } } },
    });
    const hpa = find(synth(env, 'api'), 'HorizontalPodAutoscaler')!;
    expect(hpa.spec.metrics).toEqual([
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 65 } } },
      { type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 75 } } },
    ]);
    const { scaleUp, scaleDown } = hpa.spec.behavior;
    expect(scaleDown.stabilizationWindowSeconds).toBe(600);
    expect(scaleDown.policies).toEqual([{ type: 'Percent', value: 20, periodSeconds: 60 }]);
    expect(scaleUp.policies.map((p: K8sObject) => p.type).sort()).toEqual(['Percent', 'Pods']);
    expect(scaleUp.selectPolicy).toBe('Max');
  });
});

describe('PodDisruptionBudget', () => {
  test('selects the pods and lets one go at a time, never blocking a drain at the HPA minimum', () => {
    const objects = synth(productionEnv, 'api');
    const pdb = find(objects, 'PodDisruptionBudget')!;
    expect(pdb.spec.selector.matchLabels).toEqual(find(objects, 'Deployment')!.spec.selector.matchLabels);
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(pdb.spec).not.toHaveProperty('minAvailable');
    expect(pdb.spec.maxUnavailable).toBeLessThan(find(objects, 'HorizontalPodAutoscaler')!.spec.minReplicas);
    expect(pdb.spec.unhealthyPodEvictionPolicy).toBe('AlwaysAllow');
  });

  test('none when the HPA can never run more than one pod: it would only block drains', () => {
    const env = variant(staging, { services: { api: { autoscaling: { minReplicas: 1, maxReplicas: 1 } } } });
    const objects = synth(env, 'api');
    expect(find(objects, 'HorizontalPodAutoscaler')).toBeDefined();
    expect(find(objects, 'PodDisruptionBudget')).toBeUndefined();
  });

  test('none for a single fixed replica, one for two', () => {
    const single = variant(staging, { services: { web: { replicas: 1 } } }, (c) => { delete c.services.web.autoscaling; });
    expect(find(synth(single, 'web'), 'PodDisruptionBudget')).toBeUndefined();
    const two = variant(staging, { services: { web: { replicas: 2 } } }, (c) => { delete c.services.web.autoscaling; });
    expect(find(synth(two, 'web'), 'PodDisruptionBudget')).toBeDefined();
  });
});

describe('ServiceMonitor', () => {
  test('none when the service declares no metrics', () => {
    expect(productionEnv.services.web.metrics).toBeUndefined();
    expect(kinds(synth(productionEnv, 'web'))).toEqual(
      ['Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Service', 'ServiceAccount']);
  });

  test('scrapes the declared path on the named port of the service', () => {
    const objects = synth(productionEnv, 'api');
    const sm = find(objects, 'ServiceMonitor')!;
    expect(sm.spec.selector.matchLabels).toEqual(find(objects, 'Service')!.spec.selector);
    expect(sm.spec.endpoints).toEqual([{ port: 'http', path: '/actuator/prometheus', interval: '30s', scheme: 'http' }]);
    expect(find(objects, 'Service')!.spec.ports[0].name).toBe('http');
  });
});

describe('pod security', () => {
  const objects = synth(productionEnv, 'web');

  test('restricted: non-root, no escalation, all capabilities dropped, seccomp RuntimeDefault', () => {
    const pod = podSpec(objects);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1001, seccompProfile: { type: 'RuntimeDefault' } });
    // The one definition of restricted (its fields: test/pod-security.test.ts), not a copy.
    expect(container(objects).securityContext).toEqual(restrictedContainerSecurityContext());
  });

  test('the root filesystem is read-only and every writable path is its own emptyDir', () => {
    const mounts = container(objects).volumeMounts;
    expect(mounts).toEqual([
      { name: 'scratch-tmp', mountPath: '/tmp' },
      { name: 'scratch-app-next-cache', mountPath: '/app/.next/cache' },
    ]);
    for (const m of mounts) {
      expect(podSpec(objects).volumes).toContainEqual({ name: m.name, emptyDir: expect.objectContaining({ sizeLimit: expect.any(String) }) });
    }
  });

  test('no service account token anywhere', () => {
    expect(find(objects, 'ServiceAccount')!.automountServiceAccountToken).toBe(false);
    expect(podSpec(objects).automountServiceAccountToken).toBe(false);
    expect(podSpec(objects).serviceAccountName).toBe('web');
  });

  test('scratch volume names are valid and distinct', () => {
    expect(scratchVolumeName('/tmp')).toBe('scratch-tmp');
    expect(scratchVolumeName('/')).toBe('scratch-root');
    expect(scratchVolumeName(`/${'x'.repeat(100)}`)).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
  });
});

describe('container', () => {
  test('probes hit the configured endpoints on the container port', () => {
    const c = container(synth(productionEnv, 'api'));
    expect(c.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    expect(c.readinessProbe.httpGet).toEqual({ path: '/actuator/health/readiness', port: 'http', scheme: 'HTTP' });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/actuator/health/liveness', port: 'http', scheme: 'HTTP' });
    // Without a startup path the startup probe waits on liveness, with its own long allowance.
    expect(c.startupProbe.httpGet.path).toBe('/actuator/health/liveness');
    expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBe(180);
  });

  test('each probe takes its own configured timing, and a probe succeeds after one good check', () => {
    // Three distinct timings, so a probe wired to another's settings cannot pass.
    const timing = {
      startup: { periodSeconds: 3, timeoutSeconds: 1, failureThreshold: 50 },
      readiness: { periodSeconds: 7, timeoutSeconds: 3, failureThreshold: 2 },
      liveness: { periodSeconds: 13, timeoutSeconds: 4, failureThreshold: 5 },
    };
    const c = container(synth(variant(production, { services: { api: { health: timing } } }), 'api'));
    for (const kind of ['startup', 'readiness', 'liveness'] as const) {
      expect({ kind, ...c[`${kind}Probe`] }).toMatchObject({ kind, ...timing[kind], successThreshold: 1 });
    }
  });

  test('a separate startup path is used when configured', () => {
    const env = variant(production, { services: { api: { health: { startupPath: '/actuator/health/started' } } } });
    expect(container(synth(env, 'api')).startupProbe.httpGet.path).toBe('/actuator/health/started');
  });

  test('requests and limits as configured; image pinned by digest, pulled only when missing', () => {
    const c = container(synth(productionEnv, 'api'));
    expect(c.resources).toEqual({ requests: { cpu: '500m', memory: '1536Mi' }, limits: { cpu: '2', memory: '1536Mi' } });
    expect(c.image).toBe(imageReference(productionEnv.services.api.image));
    expect(c.image).toMatch(/^registry\.university\.example\/student-portal\/api:3\.7\.2@sha256:[a-f0-9]{64}$/);
    expect(c.imagePullPolicy).toBe('IfNotPresent');
  });

  test('imageReference without a digest is repository:tag', () => {
    expect(imageReference({ repository: 'r.example/app', tag: '1.2.3' })).toBe('r.example/app:1.2.3');
  });
});

describe('graceful shutdown', () => {
  test('the grace period covers the preStop delay, the drain and a margin', () => {
    const env = variant(production, { services: { api: { shutdown: { preStopSeconds: 15, drainSeconds: 40 } } } });
    const objects = synth(env, 'api');
    expect(container(objects).lifecycle).toEqual({ preStop: { sleep: { seconds: 15 } } });
    expect(podSpec(objects).terminationGracePeriodSeconds).toBe(15 + 40 + 5);
  });

  test('no preStop hook when the delay is zero: the API server refuses a zero-second sleep', () => {
    const env = variant(production, { services: { api: { shutdown: { preStopSeconds: 0, drainSeconds: 30 } } } });
    const objects = synth(env, 'api');
    expect(container(objects)).not.toHaveProperty('lifecycle');
    expect(podSpec(objects).terminationGracePeriodSeconds).toBe(35);
  });
});

describe('rollout and placement', () => {
  const objects = synth(productionEnv, 'api');

  test('rolling update never takes a serving pod away first', () => {
    expect(find(objects, 'Deployment')!.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } });
  });

  test('pods spread over zones (hard) and nodes (soft), per revision, ignoring tainted nodes', () => {
    const spread = podSpec(objects).topologySpreadConstraints;
    expect(spread.map((t: K8sObject) => [t.topologyKey, t.whenUnsatisfiable])).toEqual([
      ['topology.kubernetes.io/zone', 'DoNotSchedule'],
      ['kubernetes.io/hostname', 'ScheduleAnyway'],
    ]);
    for (const t of spread) {
      expect(t.labelSelector).toEqual({ matchLabels: selectorLabels(productionEnv, 'api') });
      expect(t.matchLabelKeys).toEqual(['pod-template-hash']);
      expect(t.nodeTaintsPolicy).toBe('Honor');
    }
  });

  test('selectors use only the stable labels; the pod template carries them', () => {
    const deployment = find(objects, 'Deployment')!;
    expect(deployment.spec.selector.matchLabels).toEqual(selectorLabels(productionEnv, 'api'));
    expect(deployment.spec.template.metadata.labels).toMatchObject(selectorLabels(productionEnv, 'api'));
    expect(find(objects, 'Service')!.spec.selector).toEqual(selectorLabels(productionEnv, 'api'));
    expect(JSON.stringify(objects)).not.toContain('cdk8s.io/metadata.addr');
  });

  test('every object is named after the service, in the application namespace', () => {
    for (const o of objects) expect(o.metadata).toMatchObject({ name: 'api', namespace: 'student-portal' });
  });

  test('the Service forwards port 80 to the named container port', () => {
    expect(find(objects, 'Service')!.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP', appProtocol: 'http' }]);
  });
});

describe('environment variables', () => {
  /** Every $(NAME) must name a variable defined earlier in the list, or the kubelet leaves it as text. */
  function unresolved(vars: K8sObject[]): string[] {
    const seen = new Set<string>();
    const out: string[] = [];
    for (const v of vars) {
      for (const ref of envReferences(v.value ?? '')) if (!seen.has(ref)) out.push(`${v.name} → ${ref}`);
      seen.add(v.name);
    }
    return out;
  }

  test('injected connection settings come first, so the service can refer to them', () => {
    const vars = container(synth(productionEnv, 'api')).env;
    expect(vars.slice(0, 8).map((v: K8sObject) => v.name)).toEqual([
      'DATABASE_HOST', 'DATABASE_PORT', 'DATABASE_NAME', 'DATABASE_USER', 'DATABASE_PASSWORD',
      'REDIS_SENTINEL_MASTER', 'REDIS_SENTINEL_NODES', 'REDIS_PASSWORD',
    ]);
    expect(vars.find((v: K8sObject) => v.name === 'DATABASE_PASSWORD').valueFrom).toEqual(
      { secretKeyRef: { name: 'student-portal-db-app', key: 'password' } });
    expect(unresolved(vars)).toEqual([]);
    expect(vars.find((v: K8sObject) => v.name === 'SPRING_DATASOURCE_URL').value).toContain('$(DATABASE_HOST)');
  });

  test('a variable that refers to another of the service\'s own comes after it, whatever the names', () => {
    // Built past the configuration rules, which may refuse such references: the construct must
    // not depend on them to produce a list the kubelet can expand.
    const env = structuredClone(stagingEnv);
    env.services.web.env = { A_URL: 'http://$(Z_HOST):$(M_PORT)', M_PORT: '8080', Z_HOST: 'example' };
    const vars = container(synth(env, 'web')).env;
    expect(unresolved(vars)).toEqual([]);
    const names = vars.map((v: K8sObject) => v.name);
    expect(names.indexOf('A_URL')).toBeGreaterThan(names.indexOf('Z_HOST'));
    expect(names.indexOf('A_URL')).toBeGreaterThan(names.indexOf('M_PORT'));
  });

  test('otherwise by name in codepoint order, whatever order the configuration used or the locale says', () => {
    expect(orderEnv({ b: '1', a: '2', A_B: '3', AB: '4' }).map((v) => v.name)).toEqual(['AB', 'A_B', 'a', 'b']);
  });

  test('$$(NAME) is a literal, not a reference; a cycle keeps name order rather than failing', () => {
    expect(envReferences('$$(A) $(B) $$$(C)')).toEqual(['B', 'C']);
    expect(orderEnv({ A: '$(B)', B: '$(A)' }).map((v) => v.name)).toEqual(['A', 'B']);
  });
});

describe('a service added in configuration', () => {
  let pinsRoot: string;
  beforeAll(() => {
    pinsRoot = mkdtempSync(join(tmpdir(), 'shipshape-pins-'));
    const image = (name: string) => ({ repository: `registry.example/${name}`, tag: '1.0.0', digest: `sha256:${'a'.repeat(64)}` });
    writeFileSync(join(pinsRoot, 'pins.yaml'), stringify({ services: { web: image('web'), api: image('api'), worker: image('worker') } }));
  });
  afterAll(() => rmSync(pinsRoot, { recursive: true, force: true }));

  test('gets the whole set of objects under its own name, defaults applied', () => {
    const config = mergeConfig(structuredClone(production.config), {
      services: {
        worker: {
          description: 'Background jobs',
          port: 9000,
          health: { livenessPath: '/live', readinessPath: '/ready' },
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
          replicas: 2,
        },
      },
    });
    const env = resolveEnvironment({ name: 'production', config, imagePinsFile: 'pins.yaml' }, pinsRoot);
    const objects = synth(env, 'worker');
    expect(kinds(objects)).toEqual(['Deployment', 'PodDisruptionBudget', 'Service', 'ServiceAccount']);
    expect(find(objects, 'Deployment')!.spec.replicas).toBe(2);
    const c = container(objects);
    expect(c.image).toBe(`registry.example/worker:1.0.0@sha256:${'a'.repeat(64)}`);
    expect(c.env).toEqual([]);
    expect(c.volumeMounts).toEqual([{ name: 'scratch-tmp', mountPath: '/tmp' }]);
    // Schema defaults: 10 s preStop and 30 s drain.
    expect(podSpec(objects).terminationGracePeriodSeconds).toBe(45);
  });
});
