/**
 * WebService: what one configured service becomes, checked field by field against what a
 * production review asks of it, with variants of the shop fixture that flip each decision.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { containerEnv, imageReference, orderEnv, secretAliases, WebService, type WebServiceProps } from '../charts/app/web-service';
import { restrictedContainerSecurityContext } from '../charts/common/pod-security';
import { mergeConfig } from '../environments/define';
import { envReferences } from '../environments/env-references';
import { resolveEnvironment } from '../environments/load';
import { appIdentity, selectorLabels } from '../environments/model/identity';
import { injectedEnv } from '../environments/model/injected-env';
import { scratchVolumeName, dataEndpoints } from '../environments/model/names';
import type { Environment } from '../environments/schema';
import type { K8sObject } from '../pipeline/k8s-object';
import { synthObjects } from '../pipeline/synth';
import { shop, variant } from './support/fixtures';
import { synthConstruct } from './support/synth-construct';

/** One service of `env` alone, with only the props the test gives beyond its configuration. */
function synth(env: Environment, name: string, more: Partial<WebServiceProps> = {}): K8sObject[] {
  return synthConstruct((scope) => new WebService(scope, name, { identity: appIdentity(env), name, service: env.services[name], ...more }));
}

const find = (objects: K8sObject[], kind: string) => objects.find((o) => o.kind === kind);
const kinds = (objects: K8sObject[]) => objects.map((o) => o.kind).sort();
const podSpec = (objects: K8sObject[]) => find(objects, 'Deployment')!.spec.template.spec;
const container = (objects: K8sObject[]) => podSpec(objects).containers[0];

/** The shop's api under an HPA of 3 to 12 pods instead of its fixed count. */
function autoscaled(autoscaling: object = {}): Environment {
  return variant(shop, { services: { api: { autoscaling: { minReplicas: 3, maxReplicas: 12, ...autoscaling } } } }, (c) => {
    delete c.services.api.replicas;
  });
}

describe('replicas: a fixed count or the HPA, never both', () => {
  test('a fixed replica count is set on the Deployment, with no HPA', () => {
    const objects = synth(variant(shop, { services: { api: { replicas: 3 } } }), 'api');
    expect(find(objects, 'Deployment')!.spec.replicas).toBe(3);
    expect(find(objects, 'HorizontalPodAutoscaler')).toBeUndefined();
  });

  test('under autoscaling the Deployment has no replicas and the HPA owns the range', () => {
    const objects = synth(autoscaled(), 'api');
    expect(find(objects, 'Deployment')!.spec).not.toHaveProperty('replicas');
    const hpa = find(objects, 'HorizontalPodAutoscaler')!;
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' });
    expect(hpa.spec.minReplicas).toBe(3);
    expect(hpa.spec.maxReplicas).toBe(12);
  });

  test('the HPA targets CPU and memory utilization and limits how fast it scales both ways', () => {
    const env = autoscaled({
      targetCPUUtilization: 65, targetMemoryUtilization: 75, scaleDownStabilizationSeconds: 600,
      scaleDownPercentPerMinute: 15, scaleUpPercentPerMinute: 150, scaleUpPodsPerMinute: 3,
    });
    const hpa = find(synth(env, 'api'), 'HorizontalPodAutoscaler')!;
    expect(hpa.spec.metrics).toEqual([
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 65 } } },
      { type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 75 } } },
    ]);
    const { scaleUp, scaleDown } = hpa.spec.behavior;
    expect(scaleDown.stabilizationWindowSeconds).toBe(600);
    expect(scaleDown.policies).toEqual([{ type: 'Percent', value: 15, periodSeconds: 60 }]);
    expect(scaleDown.selectPolicy).toBe('Min');
    // Up at once, by whichever of the two allows more.
    expect(scaleUp.stabilizationWindowSeconds).toBe(0);
    expect(scaleUp.policies).toEqual([{ type: 'Percent', value: 150, periodSeconds: 60 }, { type: 'Pods', value: 3, periodSeconds: 60 }]);
    expect(scaleUp.selectPolicy).toBe('Max');
  });
});

describe('PodDisruptionBudget', () => {
  test('selects the pods and lets one go at a time, never blocking a drain at the HPA minimum', () => {
    const objects = synth(autoscaled(), 'api');
    const pdb = find(objects, 'PodDisruptionBudget')!;
    expect(pdb.spec.selector.matchLabels).toEqual(find(objects, 'Deployment')!.spec.selector.matchLabels);
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(pdb.spec).not.toHaveProperty('minAvailable');
    expect(pdb.spec.maxUnavailable).toBeLessThan(find(objects, 'HorizontalPodAutoscaler')!.spec.minReplicas);
    expect(pdb.spec.unhealthyPodEvictionPolicy).toBe('AlwaysAllow');
  });

  test('none when the HPA can never run more than one pod: it would only block drains', () => {
    const objects = synth(autoscaled({ minReplicas: 1, maxReplicas: 1 }), 'api');
    expect(find(objects, 'HorizontalPodAutoscaler')).toBeDefined();
    expect(find(objects, 'PodDisruptionBudget')).toBeUndefined();
  });

  test('none for a single fixed replica, one for two', () => {
    expect(find(synth(variant(shop, { services: { web: { replicas: 1 } } }), 'web'), 'PodDisruptionBudget')).toBeUndefined();
    expect(find(synth(variant(shop, { services: { web: { replicas: 2 } } }), 'web'), 'PodDisruptionBudget')).toBeDefined();
  });
});

describe('ServiceMonitor', () => {
  test('none when the service declares no metrics', () => {
    const env = variant(shop, { services: { web: { autoscaling: { minReplicas: 2, maxReplicas: 4 } } } }, (c) => { delete c.services.web.replicas; });
    expect(env.services.web.metrics).toBeUndefined();
    expect(kinds(synth(env, 'web'))).toEqual(['Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Service', 'ServiceAccount']);
  });

  test('scrapes the declared path on the named port of the service', () => {
    const env = variant(shop, { services: { api: { metrics: { path: '/internal/prometheus', interval: '20s' } } } });
    const objects = synth(env, 'api');
    const sm = find(objects, 'ServiceMonitor')!;
    expect(sm.spec.selector.matchLabels).toEqual(find(objects, 'Service')!.spec.selector);
    expect(sm.spec.endpoints).toEqual([{ port: 'http', path: '/internal/prometheus', interval: '20s', scheme: 'http' }]);
    expect(find(objects, 'Service')!.spec.ports[0].name).toBe('http');
  });
});

describe('pod security', () => {
  const env = variant(shop, { services: { web: { runAsUser: 1234, writablePaths: ['/tmp', '/app/.next/cache'] } } });
  const objects = synth(env, 'web');

  test('restricted: non-root, no escalation, all capabilities dropped, seccomp RuntimeDefault', () => {
    const pod = podSpec(objects);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1234, seccompProfile: { type: 'RuntimeDefault' } });
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

describe('uploaded files', () => {
  test('the claim it is given is mounted where it is told, beside the scratch volumes', () => {
    const objects = synth(variant(shop), 'api', { uploads: { claimName: 'orders-files', mountPath: '/srv/orders' } });
    expect(podSpec(objects).volumes).toContainEqual({ name: 'uploads', persistentVolumeClaim: { claimName: 'orders-files' } });
    expect(container(objects).volumeMounts).toEqual([{ name: 'scratch-tmp', mountPath: '/tmp' }, { name: 'uploads', mountPath: '/srv/orders' }]);
  });

  test('none without it', () => {
    const objects = synth(variant(shop), 'api');
    expect(podSpec(objects).volumes.map((v: K8sObject) => v.name)).toEqual(['scratch-tmp']);
    expect(container(objects).volumeMounts).toEqual([{ name: 'scratch-tmp', mountPath: '/tmp' }]);
  });
});

describe('container', () => {
  test('probes hit the configured endpoints on the container port', () => {
    const env = variant(shop, { services: { api: { port: 8181, health: { livenessPath: '/alive', readinessPath: '/serving' } } } });
    const c = container(synth(env, 'api'));
    expect(c.ports).toEqual([{ name: 'http', containerPort: 8181, protocol: 'TCP' }]);
    expect(c.readinessProbe.httpGet).toEqual({ path: '/serving', port: 'http', scheme: 'HTTP' });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/alive', port: 'http', scheme: 'HTTP' });
    // Without a startup path the startup probe waits on liveness, with its own long allowance
    // (the schema's default: 5 s × 36).
    expect(c.startupProbe.httpGet.path).toBe('/alive');
    expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBe(180);
  });

  test('each probe takes its own configured timing, and a probe succeeds after one good check', () => {
    // Three distinct timings, so a probe wired to another's settings cannot pass.
    const timing = {
      startup: { periodSeconds: 3, timeoutSeconds: 1, failureThreshold: 50 },
      readiness: { periodSeconds: 7, timeoutSeconds: 3, failureThreshold: 2 },
      liveness: { periodSeconds: 13, timeoutSeconds: 4, failureThreshold: 5 },
    };
    const c = container(synth(variant(shop, { services: { api: { health: timing } } }), 'api'));
    for (const kind of ['startup', 'readiness', 'liveness'] as const) {
      expect({ kind, ...c[`${kind}Probe`] }).toMatchObject({ kind, ...timing[kind], successThreshold: 1 });
    }
  });

  test('a separate startup path is used when configured', () => {
    const env = variant(shop, { services: { api: { health: { startupPath: '/health/started' } } } });
    expect(container(synth(env, 'api')).startupProbe.httpGet.path).toBe('/health/started');
  });

  test('requests and limits as configured; image pinned by digest, pulled only when missing', () => {
    const resources = { requests: { cpu: '300m', memory: '384Mi' }, limits: { cpu: '1', memory: '384Mi' } };
    const env = variant(shop, { services: { api: { resources } } });
    const c = container(synth(env, 'api'));
    expect(c.resources).toEqual(resources);
    expect(c.image).toBe(imageReference(env.services.api.image));
    // The pin of test/fixtures/images/shop.yaml.
    expect(c.image).toBe(`registry.test.invalid/shop/api:2.0.0@sha256:${'2'.repeat(64)}`);
    expect(c.imagePullPolicy).toBe('IfNotPresent');
  });

  test('imageReference without a digest is repository:tag', () => {
    expect(imageReference({ repository: 'r.example/app', tag: '1.2.3' })).toBe('r.example/app:1.2.3');
  });
});

describe('graceful shutdown', () => {
  test('the grace period covers the preStop delay, the drain and a margin', () => {
    const env = variant(shop, { services: { api: { shutdown: { preStopSeconds: 15, drainSeconds: 40 } } } });
    const objects = synth(env, 'api');
    expect(container(objects).lifecycle).toEqual({ preStop: { sleep: { seconds: 15 } } });
    expect(podSpec(objects).terminationGracePeriodSeconds).toBe(15 + 40 + 5);
  });

  test('no preStop hook when the delay is zero: the API server refuses a zero-second sleep', () => {
    const env = variant(shop, { services: { api: { shutdown: { preStopSeconds: 0, drainSeconds: 30 } } } });
    const objects = synth(env, 'api');
    expect(container(objects)).not.toHaveProperty('lifecycle');
    expect(podSpec(objects).terminationGracePeriodSeconds).toBe(35);
  });
});

describe('rollout and placement', () => {
  const env = variant(shop);
  const identity = appIdentity(env);
  const objects = synth(env, 'api');

  test('rolling update never takes a serving pod away first', () => {
    expect(find(objects, 'Deployment')!.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } });
  });

  test('pods spread over zones and nodes (soft unless zones are said to exist), per revision, ignoring tainted nodes', () => {
    const spread = podSpec(objects).topologySpreadConstraints;
    // Preferred by default: on nodes without a zone label a hard rule would leave every pod Pending.
    expect(spread.map((t: K8sObject) => [t.topologyKey, t.whenUnsatisfiable])).toEqual([
      ['topology.kubernetes.io/zone', 'ScheduleAnyway'],
      ['kubernetes.io/hostname', 'ScheduleAnyway'],
    ]);
    const required = podSpec(synth(env, 'api', { zoneSpread: 'required' })).topologySpreadConstraints;
    expect(required.map((t: K8sObject) => [t.topologyKey, t.whenUnsatisfiable])).toEqual([
      ['topology.kubernetes.io/zone', 'DoNotSchedule'],
      ['kubernetes.io/hostname', 'ScheduleAnyway'],
    ]);
    expect(podSpec(synth(env, 'api', { zoneSpread: 'preferred' })).topologySpreadConstraints).toEqual(spread);
    // The environment's zoneSpread reaches every service.
    const zoned = synthObjects(variant(shop, { zoneSpread: 'required' })).map((o) => o.object).filter((o) => o.kind === 'Deployment' && Object.hasOwn(shop.config.services ?? {}, o.metadata.name));
    expect(zoned.map((d) => [d.metadata.name, d.spec.template.spec.topologySpreadConstraints[0].whenUnsatisfiable])).toEqual([['web', 'DoNotSchedule'], ['api', 'DoNotSchedule']]);
    for (const t of spread) {
      expect(t.labelSelector).toEqual({ matchLabels: selectorLabels(identity, 'api') });
      expect(t.matchLabelKeys).toEqual(['pod-template-hash']);
      expect(t.nodeTaintsPolicy).toBe('Honor');
    }
  });

  test('selectors use only the stable labels; the pod template carries them', () => {
    const deployment = find(objects, 'Deployment')!;
    const stable = { 'app.kubernetes.io/name': 'api', 'app.kubernetes.io/instance': 'shop-shop' };
    expect(selectorLabels(identity, 'api')).toEqual(stable);
    expect(deployment.spec.selector.matchLabels).toEqual(stable);
    expect(deployment.spec.template.metadata.labels).toMatchObject(stable);
    expect(find(objects, 'Service')!.spec.selector).toEqual(stable);
    expect(JSON.stringify(objects)).not.toContain('cdk8s.io/metadata.addr');
  });

  test('every object is named after the service, in the application namespace', () => {
    expect(objects.length).toBeGreaterThan(0);
    for (const o of objects) expect(o.metadata).toMatchObject({ name: 'api', namespace: 'shop-test' });
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
    const env = variant(shop);
    const vars = container(synth(env, 'api', { injectedEnv: injectedEnv(dataEndpoints(env), env.services.api.uses) })).env;
    expect(vars.map((v: K8sObject) => v.name)).toEqual([
      'DATABASE_HOST', 'DATABASE_PORT', 'DATABASE_NAME', 'DATABASE_USER', 'DATABASE_PASSWORD',
      'REDIS_SENTINEL_MASTER', 'REDIS_SENTINEL_NODES', 'REDIS_PASSWORD',
      'UPLOADS_DIR',
      'DB_URL',
    ]);
    // The shop's cluster is `shop-db`; CloudNativePG writes the owner's credentials to `<cluster>-app`.
    expect(vars.find((v: K8sObject) => v.name === 'DATABASE_PASSWORD').valueFrom).toEqual({ secretKeyRef: { name: 'shop-db-app', key: 'password' } });
    expect(vars.find((v: K8sObject) => v.name === 'DB_URL').value).toContain('$(DATABASE_HOST)');
    expect(unresolved(vars)).toEqual([]);
  });

  test('injected variables are written as given: a value, or a reference to a key of a Secret', () => {
    const given = [{ name: 'PLAIN', value: 'v' }, { name: 'SECRET', secretKeyRef: { name: 'creds', key: 'token' } }];
    expect(container(synth(variant(shop), 'web', { injectedEnv: given })).env.slice(0, 2)).toEqual([
      { name: 'PLAIN', value: 'v' },
      { name: 'SECRET', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } },
    ]);
    expect(containerEnv(given)).toEqual(container(synth(variant(shop), 'web', { injectedEnv: given })).env.slice(0, 2));
  });

  test('a variable that is exactly an injected secret reads that Secret key itself; anything else stays as written', () => {
    const given = [{ name: 'PLAIN', value: 'v' }, { name: 'SECRET', secretKeyRef: { name: 'creds', key: 'token' } }];
    expect(secretAliases(orderEnv({
      APP_TOKEN: '$(SECRET)', APP_PLAIN: '$(PLAIN)', APP_URL: 'x:$(SECRET)', APP_ESCAPED: '$$(SECRET)', APP_OTHER: '$(UNKNOWN)',
    }), given)).toEqual([
      { name: 'APP_ESCAPED', value: '$$(SECRET)' },
      { name: 'APP_OTHER', value: '$(UNKNOWN)' },
      { name: 'APP_PLAIN', value: '$(PLAIN)' },
      { name: 'APP_TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } },
      { name: 'APP_URL', value: 'x:$(SECRET)' },
    ]);
    const env = structuredClone(variant(shop));
    env.services.web.env = { APP_TOKEN: '$(SECRET)' };
    expect(container(synth(env, 'web', { injectedEnv: given })).env).toContainEqual({ name: 'APP_TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } });
  });

  test('none injected when none is given: only the service\'s own', () => {
    expect(container(synth(variant(shop), 'api')).env.map((v: K8sObject) => v.name)).toEqual(['DB_URL']);
  });

  test('a variable that refers to another of the service\'s own comes after it, whatever the names', () => {
    // Built past the configuration rules, which may refuse such references: the construct must
    // not depend on them to produce a list the kubelet can expand.
    const env = structuredClone(variant(shop));
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
    // Its own pin file, so the fixture's stays as it is: resolved here rather than through variant().
    const config = mergeConfig(structuredClone(shop.config), {
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
    const env = resolveEnvironment({ ...shop, config, imagePinsFile: 'pins.yaml' }, pinsRoot);
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
