/**
 * RedisSentinel: the StatefulSet, its configuration, password, Service, budget, monitoring and
 * network policy, checked field by field against what the issue and a production review ask, with
 * configuration variants that flip each decision. The configuration is run for real in
 * redis-sentinel-live.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dependencyEnv } from '../charts/app/web-service';
import { REDIS_EXPORTER_IMAGE, REDIS_IMAGE } from '../charts/common/images';
import { selectorLabels } from '../environments/model/identity';
import { dataEndpoints, REDIS_REPLICAS } from '../environments/model/names';
import type { K8sObject } from '../pipeline/k8s-object';
import { checkPolicy } from '../pipeline/policy';
import { RedisSentinel } from '../charts/data/redis-sentinel';
import {
  catchUpTimeoutSeconds, REDIS_CONF, REDIS_SCRIPT, redisSentinelConfigFiles, redisSentinelConfigProps, SENTINEL_CONF, sentinelId,
} from '../charts/data/redis-sentinel-config';
import { AppNetworkPolicies } from '../charts/security/app-network-policies';
import { synthObjects } from '../pipeline/synth';
import { environments } from '../environments/index';
import { mergeConfig, type EnvironmentDefinition } from '../environments/define';
import { resolveEnvironment, resolveEnvironments } from '../environments/load';
import { production } from '../environments/production';
import type { Environment } from '../environments/schema';
import { staging } from '../environments/staging';
import { only, synthConstruct } from './support/synth-construct';
import { allowed, sideAllows, type Endpoint } from './support/network-policy-evaluator';

const root = process.cwd();
const [stagingEnv, productionEnv] = resolveEnvironments(environments, root);

function variant(base: EnvironmentDefinition, overrides: object, edit?: (config: any) => void): Environment {
  const config = mergeConfig(structuredClone(base.config), overrides);
  edit?.(config);
  return resolveEnvironment({ ...base, config }, root);
}

const synth = (env: Environment) => synthConstruct((scope) => new RedisSentinel(scope, 'redis', { env }));
const statefulSet = (objects: K8sObject[]) => only(objects, 'StatefulSet');
const podSpec = (objects: K8sObject[]) => statefulSet(objects).spec.template.spec;
const container = (objects: K8sObject[], name: string) => podSpec(objects).containers.find((c: K8sObject) => c.name === name);
const configData = (objects: K8sObject[]): Record<string, string> => only(objects, 'ConfigMap').data;

describe('objects and names', () => {
  test('one of each, under the names the application and the policies already use', () => {
    const objects = synth(productionEnv);
    const redis = dataEndpoints(productionEnv).redis;
    expect(objects.map((o) => `${o.kind} ${o.metadata.name}`).sort()).toEqual([
      `ConfigMap ${redis.name}`,
      `ExternalSecret ${redis.passwordSecret}`,
      `NetworkPolicy ${redis.name}`,
      `PodDisruptionBudget ${redis.name}`,
      `Service ${redis.headlessService}`,
      `ServiceMonitor ${redis.name}`,
      `StatefulSet ${redis.name}`,
    ]);
    expect(redis.name).toBe('student-portal-redis');
    for (const o of objects) expect(o.metadata.namespace).toBe(productionEnv.app.namespace);
  });

  test('the pods carry the labels the services\' egress policies select', () => {
    const objects = synth(productionEnv);
    const labels = statefulSet(objects).spec.template.metadata.labels;
    for (const [k, v] of Object.entries(dataEndpoints(productionEnv).redis.podLabels)) expect(labels[k]).toBe(v);
    expect(statefulSet(objects).spec.selector.matchLabels).toEqual(dataEndpoints(productionEnv).redis.podLabels);
  });
});

describe('StatefulSet', () => {
  const objects = synth(productionEnv);
  const sts = statefulSet(objects);
  const spec = podSpec(objects);

  test('three members with stable DNS names, started in parallel, updated one at a time', () => {
    expect(sts.spec.replicas).toBe(REDIS_REPLICAS);
    expect(REDIS_REPLICAS).toBe(3);
    expect(sts.spec.serviceName).toBe(dataEndpoints(productionEnv).redis.headlessService);
    expect(sts.spec.podManagementPolicy).toBe('Parallel');
    expect(sts.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
    expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
  });

  test('redis, sentinel and exporter, at exact image versions', () => {
    expect(spec.containers.map((c: K8sObject) => [c.name, c.image])).toEqual([
      ['redis', REDIS_IMAGE], ['sentinel', REDIS_IMAGE], ['exporter', REDIS_EXPORTER_IMAGE],
    ]);
    expect(REDIS_IMAGE).toMatch(/^docker\.io\/library\/redis:\d+\.\d+\.\d+$/);
    expect(REDIS_EXPORTER_IMAGE).toMatch(/^docker\.io\/oliver006\/redis_exporter:v\d+\.\d+\.\d+$/);
    for (const c of spec.containers) expect(c.imagePullPolicy).toBe('IfNotPresent');
  });

  test('redis is sized by the configuration; sentinel and exporter have small fixed resources', () => {
    expect(container(objects, 'redis').resources).toEqual(productionEnv.data.redis.resources);
    const small = variant(staging, { data: { redis: { resources: { requests: { cpu: '50m', memory: '256Mi' }, limits: { cpu: '200m', memory: '256Mi' } }, maxmemory: '128mb' } } });
    expect(container(synth(small), 'redis').resources).toEqual({ requests: { cpu: '50m', memory: '256Mi' }, limits: { cpu: '200m', memory: '256Mi' } });
    for (const name of ['sentinel', 'exporter']) {
      const r = container(objects, name).resources;
      expect(r.requests.cpu && r.requests.memory && r.limits.cpu && r.limits.memory).toBeTruthy();
    }
    expect(container(objects, 'exporter').resources.limits.memory).toBe('64Mi');
  });

  test('Pod Security restricted: UID 999 of the redis image, read-only root, no capabilities, seccomp', () => {
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, fsGroup: 999, seccompProfile: { type: 'RuntimeDefault' } });
    for (const c of spec.containers) {
      expect(c.securityContext).toEqual({
        allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, privileged: false,
        readOnlyRootFilesystem: true, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' },
      });
    }
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.enableServiceLinks).toBe(false);
  });

  test('every container has liveness and readiness probes: redis-cli through the script, /health for the exporter', () => {
    const probe = (name: string, kind: string) => container(objects, name)[kind];
    expect(probe('redis', 'livenessProbe').exec.command).toEqual(['sh', '/etc/redis/redis-sentinel.sh', 'probe', 'redis-alive']);
    expect(probe('redis', 'readinessProbe').exec.command).toEqual(['sh', '/etc/redis/redis-sentinel.sh', 'probe', 'redis-ready']);
    expect(probe('sentinel', 'livenessProbe').exec.command).toEqual(['sh', '/etc/redis/redis-sentinel.sh', 'probe', 'sentinel-alive']);
    expect(probe('sentinel', 'readinessProbe').exec.command).toEqual(['sh', '/etc/redis/redis-sentinel.sh', 'probe', 'sentinel-ready']);
    for (const kind of ['livenessProbe', 'readinessProbe']) {
      expect(probe('exporter', kind).httpGet).toEqual({ path: '/health', port: 'metrics', scheme: 'HTTP' });
    }
    // Start-up covers the sentinel's wait for the master's DNS name.
    const startup = probe('sentinel', 'startupProbe');
    expect(startup.exec.command).toEqual(['sh', '/etc/redis/redis-sentinel.sh', 'probe', 'sentinel-alive']);
    expect(startup.periodSeconds * startup.failureThreshold).toBeGreaterThan(redisSentinelConfigProps(productionEnv).resolveTimeoutSeconds);
    expect(probe('redis', 'startupProbe').exec.command).toEqual(['sh', '/etc/redis/redis-sentinel.sh', 'probe', 'redis-alive']);
    // The probes' redis-cli calls are bounded by the script below the kubelet's timeout.
    expect(redisSentinelConfigProps(productionEnv).cliTimeoutSeconds).toBeLessThan(probe('redis', 'readinessProbe').timeoutSeconds);
  });

  test('the password comes from the synced Secret into every container, never from the ConfigMap', () => {
    const secret = dataEndpoints(productionEnv).redis.passwordSecret;
    for (const c of spec.containers) {
      expect(c.env).toContainEqual({ name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: secret, key: 'password' } } });
    }
    const data = configData(objects);
    for (const file of [REDIS_CONF, SENTINEL_CONF]) expect(data[file]).not.toMatch(/requirepass|masterauth|auth-pass|sentinel-pass/);
    expect(container(objects, 'exporter').env).toContainEqual({ name: 'REDIS_ADDR', value: 'redis://localhost:6379' });
    for (const name of ['redis', 'sentinel']) {
      expect(container(objects, name).env).toContainEqual({ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
    }
  });

  test('data on a volume claim template sized and classed by the configuration; writable scratch in memory only', () => {
    const claim = (env: Environment) => statefulSet(synth(env)).spec.volumeClaimTemplates[0];
    expect(claim(productionEnv).metadata.name).toBe('data');
    expect(claim(productionEnv).spec).toEqual({ accessModes: ['ReadWriteOnce'], storageClassName: 'ssd-retain', resources: { requests: { storage: '10Gi' } } });
    expect(claim(stagingEnv).spec).toMatchObject({ storageClassName: 'ssd', resources: { requests: { storage: '2Gi' } } });
    expect(container(objects, 'redis').volumeMounts).toContainEqual({ name: 'data', mountPath: '/data' });
    const emptyDirs = spec.volumes.filter((v: K8sObject) => v.emptyDir);
    expect(emptyDirs.map((v: K8sObject) => v.name).sort()).toEqual(['redis-runtime', 'sentinel-runtime']);
    for (const v of emptyDirs) expect(v.emptyDir.medium).toBe('Memory');
    expect(spec.volumes).toContainEqual({ name: 'config', configMap: { name: 'student-portal-redis', defaultMode: 0o444 } });
  });

  test('one member per node, required; spread over zones', () => {
    expect(spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toEqual([
      { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: selectorLabels(productionEnv, 'redis') } },
    ]);
    expect(spec.topologySpreadConstraints).toEqual([expect.objectContaining({
      topologyKey: 'topology.kubernetes.io/zone', maxSkew: 1, labelSelector: { matchLabels: selectorLabels(productionEnv, 'redis') },
    })]);
  });

  test('a master hands over before it stops, within the grace period', () => {
    expect(container(objects, 'redis').lifecycle.preStop.exec.command).toEqual(['sh', '/etc/redis/redis-sentinel.sh', 'pre-stop']);
    expect(spec.terminationGracePeriodSeconds).toBeGreaterThan(redisSentinelConfigProps(productionEnv).switchoverTimeoutSeconds + 10);
  });

  test('a configuration change rolls the members (checksum of the ConfigMap in the pod template)', () => {
    const checksum = (env: Environment) => statefulSet(synth(env)).spec.template.metadata.annotations['checksum/config'];
    expect(checksum(productionEnv)).toMatch(/^[0-9a-f]{64}$/);
    expect(checksum(productionEnv)).toBe(checksum(productionEnv));
    expect(checksum(variant(production, { data: { redis: { maxmemoryPolicy: 'allkeys-lfu' } } }))).not.toBe(checksum(productionEnv));
  });
});

describe('configuration', () => {
  test('AOF every second, maxmemory and its policy from the configuration', () => {
    const conf = configData(synth(productionEnv))[REDIS_CONF];
    expect(conf).toMatch(/^appendonly yes$/m);
    expect(conf).toMatch(/^appendfsync everysec$/m);
    expect(conf).toMatch(/^dir \/data$/m);
    expect(conf).toMatch(/^maxmemory 1536mb$/m);
    expect(conf).toMatch(/^maxmemory-policy allkeys-lru$/m);
    expect(configData(synth(stagingEnv))[REDIS_CONF]).toMatch(/^maxmemory 384mb$/m);
    const lfu = configData(synth(variant(staging, { data: { redis: { maxmemoryPolicy: 'volatile-lfu' } } })))[REDIS_CONF];
    expect(lfu).toMatch(/^maxmemory-policy volatile-lfu$/m);
  });

  test('Sentinel: quorum 2 on the agreed master set, host names resolved and announced', () => {
    const conf = configData(synth(productionEnv))[SENTINEL_CONF];
    expect(conf).toMatch(/^sentinel monitor student-portal @MASTER_HOST@ @MASTER_PORT@ 2$/m);
    expect(dataEndpoints(productionEnv).redis.masterSet).toBe('student-portal');
    expect(conf).toMatch(/^sentinel resolve-hostnames yes$/m);
    expect(conf).toMatch(/^sentinel announce-hostnames yes$/m);
    expect(conf).toMatch(/^sentinel announce-ip @ANNOUNCE_HOST@$/m);
    expect(conf).toMatch(/^dir \/run\/sentinel$/m);
    // Per-master settings must follow the monitor line, or Sentinel refuses the file.
    expect(conf.indexOf('sentinel monitor')).toBeLessThan(conf.indexOf('sentinel down-after-milliseconds'));
  });

  test('the script knows each member by the DNS name clients get in REDIS_SENTINEL_NODES', () => {
    const script = configData(synth(productionEnv))[REDIS_SCRIPT];
    const nodes = dependencyEnv(productionEnv, ['redis']).find((e) => e.name === 'REDIS_SENTINEL_NODES')!.value!.split(',');
    expect(nodes).toHaveLength(3);
    nodes.forEach((node, i) => {
      const [host, port] = node.split(':');
      expect(host).toBe(`student-portal-redis-${i}.student-portal-redis-headless.student-portal.svc.cluster.local`);
      expect(script).toContain(`${i}) m_host='${host}'; m_redis_port=6379; m_sentinel_port=${port}; m_sentinel_id=${sentinelId('student-portal', i)} ;;`);
    });
    // Replicas announce that name, not the pod IP.
    expect(script).toContain('line "replica-announce-ip $SELF_HOST"');
  });

  test('sentinel ids are fixed per member and distinct', () => {
    const ids = [0, 1, 2].map((i) => sentinelId('student-portal', i));
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{40}$/);
    expect(sentinelId('student-portal', 0)).toBe(ids[0]);
  });

  test('the builder refuses what would break the set or the script', () => {
    const props = redisSentinelConfigProps(stagingEnv);
    expect(() => redisSentinelConfigFiles({ ...props, members: props.members.slice(0, 2) })).toThrow(/at least 3 members/);
    expect(() => redisSentinelConfigFiles({ ...props, quorum: 4 })).toThrow(/quorum 4/);
    expect(() => redisSentinelConfigFiles({ ...props, members: [...props.members.slice(1), { host: "x'; rm -rf /", redisPort: 1, sentinelPort: 2 }] })).toThrow(/not a host name/);
    expect(() => redisSentinelConfigFiles({ ...props, paths: { ...props.paths, data: 'relative' } })).toThrow(/absolute path/);
    // pre-stop must be able to wait for the replicas, then ask, within the pause.
    expect(() => redisSentinelConfigFiles({ ...props, downAfterMilliseconds: 1999 })).toThrow(/down-after-milliseconds 1999 leaves pre-stop less than 1 s/);
    expect(() => redisSentinelConfigFiles({ ...props, downAfterMilliseconds: 2000 })).not.toThrow();
    expect(() => redisSentinelConfigFiles({ ...props, switchoverTimeoutSeconds: 4 })).toThrow(/switchover timeout 4 s leaves no time/);
    expect(() => redisSentinelConfigFiles({ ...props, switchoverTimeoutSeconds: 5 })).not.toThrow();
  });

  test('pre-stop waits for the replicas at most half of down-after, in whole seconds, and pauses writes for the switchover timeout', () => {
    const props = redisSentinelConfigProps(productionEnv);
    const script = configData(synth(productionEnv))[REDIS_SCRIPT];
    expect(props.downAfterMilliseconds).toBe(5000);
    expect(script).toMatch(/^CATCHUP_TIMEOUT=2$/m);
    expect(script).toMatch(/^SWITCHOVER_TIMEOUT=20$/m);
    expect(script).toContain('CLIENT PAUSE "$((SWITCHOVER_TIMEOUT * 1000))" WRITE');
    expect([2000, 3999, 4000, 5000, 9999, 30000].map((ms) => catchUpTimeoutSeconds({ downAfterMilliseconds: ms }))).toEqual([1, 1, 2, 2, 4, 15]);
    const slower = redisSentinelConfigFiles({ ...props, downAfterMilliseconds: 9000 });
    expect(slower[REDIS_SCRIPT]).toMatch(/^CATCHUP_TIMEOUT=4$/m);
    expect(slower[SENTINEL_CONF]).toMatch(/^sentinel down-after-milliseconds student-portal 9000$/m);
  });

  test('the script passes shellcheck as POSIX sh (the image\'s /bin/sh is dash)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shipshape-redis-sh-'));
    try {
      for (const env of [stagingEnv, productionEnv]) {
        const file = join(dir, `${env.name}.sh`);
        writeFileSync(file, configData(synth(env))[REDIS_SCRIPT]);
        const r = spawnSync('shellcheck', ['--shell=sh', '--severity=style', file], { encoding: 'utf8', timeout: 30_000 });
        expect({ env: env.name, status: r.status, output: `${r.stdout}${r.stderr}` }).toEqual({ env: env.name, status: 0, output: '' });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Service, budget, monitoring, secret', () => {
  const objects = synth(productionEnv);

  test('the headless Service publishes members before they are ready', () => {
    const svc = only(objects, 'Service');
    expect(svc.spec.clusterIP).toBe('None');
    expect(svc.spec.publishNotReadyAddresses).toBe(true);
    expect(svc.spec.selector).toEqual(selectorLabels(productionEnv, 'redis'));
    expect(svc.spec.ports.map((p: K8sObject) => [p.name, p.port, p.targetPort])).toEqual([
      ['redis', 6379, 'redis'], ['sentinel', 26379, 'sentinel'], ['metrics', 9121, 'metrics'],
    ]);
  });

  test('at most one member down voluntarily, and not past the budget while one is unready', () => {
    expect(only(objects, 'PodDisruptionBudget').spec).toEqual({
      selector: { matchLabels: selectorLabels(productionEnv, 'redis') }, maxUnavailable: 1, unhealthyPodEvictionPolicy: 'IfHealthyBudget',
    });
  });

  test('the ServiceMonitor scrapes the exporter port through the headless Service', () => {
    const sm = only(objects, 'ServiceMonitor');
    const svc = only(objects, 'Service');
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) expect(svc.metadata.labels[k]).toBe(v);
    expect(sm.spec.endpoints).toEqual([{ port: 'metrics', path: '/metrics', interval: '30s', scheme: 'http' }]);
  });

  test('the password is an ExternalSecret of <prefix>/redis, property password', () => {
    const es = only(objects, 'ExternalSecret');
    expect(es.spec.target.name).toBe('student-portal-redis-auth');
    expect(es.spec.data).toEqual([{ secretKey: 'password', remoteRef: { key: 'student-portal/production/redis', property: 'password' } }]);
  });
});

describe('NetworkPolicy, judged by the flows it allows', () => {
  const pod = (env: Environment, name: string): Endpoint => ({ namespace: env.app.namespace, labels: { ...selectorLabels(env, name), 'app.kubernetes.io/component': 'workload' } });
  const redisPod = (env: Environment): Endpoint => ({ namespace: env.app.namespace, labels: statefulSet(synth(env)).spec.template.metadata.labels });
  const prometheus: Endpoint = { namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'prometheus' } };
  /** The namespace's policies as deployed: default deny, DNS, the services', and Redis's. */
  const policies = (env: Environment) => [
    ...synthConstruct((scope) => new AppNetworkPolicies(scope, 'np', { env })),
    ...synth(env).filter((o) => o.kind === 'NetworkPolicy'),
  ].filter((o) => o.kind === 'NetworkPolicy');

  test('the api (it uses redis) reaches Redis and Sentinel; web does not', () => {
    const p = policies(productionEnv);
    const redis = redisPod(productionEnv);
    expect(allowed(p, pod(productionEnv, 'api'), redis, 6379)).toBe(true);
    expect(allowed(p, pod(productionEnv, 'api'), redis, 26379)).toBe(true);
    expect(allowed(p, pod(productionEnv, 'api'), redis, 9121)).toBe(false);
    expect(allowed(p, pod(productionEnv, 'web'), redis, 6379)).toBe(false);
    expect(allowed(p, { namespace: 'elsewhere', labels: selectorLabels(productionEnv, 'api') }, redis, 6379)).toBe(false);
  });

  test('Redis itself refuses pods no flow names, whatever their own egress says', () => {
    const p = policies(productionEnv);
    const redis = redisPod(productionEnv);
    for (const sender of [pod(productionEnv, 'web'), { namespace: productionEnv.app.namespace, labels: {} }]) {
      for (const port of [6379, 26379, 9121]) expect(sideAllows(p, 'Ingress', redis, sender, port)).toBe(false);
    }
    expect(sideAllows(p, 'Ingress', redis, pod(productionEnv, 'api'), 6379)).toBe(true);
  });

  test('members replicate and watch each other, and reach nothing else', () => {
    const p = policies(productionEnv);
    const redis = redisPod(productionEnv);
    expect(allowed(p, redis, redis, 6379)).toBe(true);
    expect(allowed(p, redis, redis, 26379)).toBe(true);
    expect(allowed(p, redis, pod(productionEnv, 'api'), 8080)).toBe(false);
    expect(allowed(p, redis, { ip: '93.184.216.34' }, 443)).toBe(false);
    expect(allowed(p, redis, { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } }, 53, 'UDP')).toBe(true);
  });

  test('Prometheus scrapes the exporter only', () => {
    const p = policies(productionEnv);
    const redis = redisPod(productionEnv);
    expect(allowed(p, prometheus, redis, 9121)).toBe(true);
    expect(allowed(p, prometheus, redis, 6379)).toBe(false);
    expect(allowed(p, { namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'grafana' } }, redis, 9121)).toBe(false);
  });

  test('follows `uses`: a new user is let in, and with no user there is no client rule (never an empty `from`)', () => {
    const webToo = variant(production, { services: { web: { uses: ['redis'] } } });
    expect(allowed(policies(webToo), pod(webToo, 'web'), redisPod(webToo), 6379)).toBe(true);
    const nobody = variant(production, {}, (c) => { c.services.api.uses = ['postgres', 'uploads']; delete c.services.api.env.SPRING_DATA_REDIS_SENTINEL_MASTER; delete c.services.api.env.SPRING_DATA_REDIS_SENTINEL_NODES; delete c.services.api.env.SPRING_DATA_REDIS_PASSWORD; delete c.services.api.env.SPRING_DATA_REDIS_SENTINEL_PASSWORD; });
    const np = only(synth(nobody), 'NetworkPolicy');
    expect(np.spec.ingress).toHaveLength(2);
    for (const rule of np.spec.ingress) expect(rule.from.length).toBeGreaterThan(0);
    expect(allowed(policies(nobody), pod(nobody, 'api'), redisPod(nobody), 6379)).toBe(false);
  });
});

describe('in the whole output', () => {
  test.each([['staging', stagingEnv], ['production', productionEnv]] as const)('%s: no policy violation names a Redis object', (_, env) => {
    const objects = synthObjects(env).map((o) => o.object);
    const ctx = { production: env.production, appImageRepositories: new Set(Object.values(env.services).map((s) => s.image.repository)) };
    expect(checkPolicy(objects, ctx).filter((v) => v.object.includes('redis'))).toEqual([]);
  });

  test('the ConfigMap and the headless Service come in the StatefulSet\'s sync wave, not after it', () => {
    const objects = synthObjects(productionEnv).map((o) => o.object);
    const wave = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name)!.metadata.annotations?.['argocd.argoproj.io/sync-wave'];
    const redis = dataEndpoints(productionEnv).redis;
    expect(wave('StatefulSet', redis.name)).toBe('-1');
    expect(Number(wave('ConfigMap', redis.name))).toBeLessThanOrEqual(-1);
    expect(Number(wave('Service', redis.headlessService))).toBeLessThanOrEqual(-1);
    expect(Number(wave('ExternalSecret', redis.passwordSecret))).toBeLessThan(-1);
    expect(Number(wave('NetworkPolicy', redis.name))).toBeLessThan(-1);
  });
});
