/**
 * RedisSentinel: the StatefulSet, its configuration (the shipped script and what is generated for
 * it), password, Service, budget and monitoring, checked field by field against what the issue and
 * a production review ask, on the `shop` fixture with variants that flip each decision; and the
 * flows the environment's NetworkPolicies allow its pods. The configuration is run for real in
 * redis-sentinel-live.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REDIS_EXPORTER_IMAGE, REDIS_IMAGE, REDIS_IMAGE_UID } from '../charts/common/images';
import { RedisSentinel } from '../charts/data/redis-sentinel';
import {
  catchUpTimeoutSeconds, REDIS_CONF, REDIS_SCRIPT, REDIS_SCRIPTS_FOLDER, REDIS_SETTINGS, redisSentinelConfigFiles, redisSentinelConfigProps,
  SENTINEL_CONF, sentinelId, type RedisSentinelConfigProps,
} from '../charts/data/redis-sentinel-config';
import { NetworkPolicies } from '../charts/security/network-policies';
import { selectorLabels } from '../environments/model/identity';
import { injectedEnv } from '../environments/model/injected-env';
import type { Model } from '../environments/model/model';
import { REDIS_REPLICAS, secretManagerKey, dataEndpoints } from '../environments/model/names';
import type { K8sObject } from '../pipeline/k8s-object';
import { policyProblems, synthObjects } from '../pipeline/synth';
import { AS_PRODUCTION, boxDesigner, shop, variant, variantModel } from './support/fixtures';
import { allowed, sideAllows, type Endpoint } from './support/network-policy-evaluator';
import { only, synthConstruct } from './support/synth-construct';

/** The construct with the props the data chart gives it from the model. */
function build(model: Model): { objects: K8sObject[]; construct: RedisSentinel } {
  let construct: RedisSentinel | undefined;
  const objects = synthConstruct((scope) => {
    construct = new RedisSentinel(scope, 'redis', {
      identity: model.identity,
      endpoints: model.data.redis!,
      config: model.env.data.redis!,
      password: { store: model.env.externalSecrets!, remoteKey: secretManagerKey(model.env, 'redis') },
    });
  });
  return { objects, construct: construct! };
}
const synth = (model: Model) => build(model).objects;
const configProps = (model: Model) => redisSentinelConfigProps(model.data.redis!, model.env.data.redis!);
const statefulSet = (objects: K8sObject[]) => only(objects, 'StatefulSet');
const podSpec = (objects: K8sObject[]) => statefulSet(objects).spec.template.spec;
const container = (objects: K8sObject[], name: string) => podSpec(objects).containers.find((c: K8sObject) => c.name === name);
const configData = (objects: K8sObject[]): Record<string, string> => only(objects, 'ConfigMap').data;

const base = variantModel(shop);
const REDIS = base.data.redis!;
/** The shipped script, as it is in the repository. */
const SHIPPED_SCRIPT = readFileSync(join(REDIS_SCRIPTS_FOLDER, REDIS_SCRIPT), 'utf8');
/** The script's line that sources the generated settings (and shellcheck's directive for it). */
const SOURCE_LINE = /^# shellcheck source=\/dev\/null\n\. "\$CONFIG_DIR\/redis-sentinel\.env"\n/m;

describe('objects and names', () => {
  test('one of each, under the names the application uses; the NetworkPolicy is the environment\'s, not the construct\'s', () => {
    const objects = synth(base);
    expect(objects.map((o) => `${o.kind} ${o.metadata.name}`).sort()).toEqual([
      'ConfigMap shop-redis',
      'ExternalSecret shop-redis-auth',
      'PodDisruptionBudget shop-redis',
      'Service shop-redis-headless',
      'ServiceMonitor shop-redis',
      'StatefulSet shop-redis',
    ]);
    for (const o of objects) expect(o.metadata.namespace).toBe('shop-test');
  });

  test('the pods carry the labels the services\' egress policies select', () => {
    const objects = synth(base);
    const labels = statefulSet(objects).spec.template.metadata.labels;
    expect(REDIS.podLabels).toEqual(selectorLabels(base.identity, 'redis'));
    for (const [k, v] of Object.entries(REDIS.podLabels)) expect(labels[k]).toBe(v);
    expect(statefulSet(objects).spec.selector.matchLabels).toEqual(REDIS.podLabels);
  });
});

describe('StatefulSet', () => {
  const objects = synth(base);
  const sts = statefulSet(objects);
  const spec = podSpec(objects);

  test('three members with stable DNS names, started in parallel, updated one at a time', () => {
    expect(sts.spec.replicas).toBe(REDIS_REPLICAS);
    expect(REDIS_REPLICAS).toBe(3);
    expect(sts.spec.serviceName).toBe('shop-redis-headless');
    expect(sts.spec.podManagementPolicy).toBe('Parallel');
    expect(sts.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
    expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
  });

  test('redis, sentinel and exporter, at exact image versions pinned by digest', () => {
    expect(spec.containers.map((c: K8sObject) => [c.name, c.image])).toEqual([
      ['redis', REDIS_IMAGE], ['sentinel', REDIS_IMAGE], ['exporter', REDIS_EXPORTER_IMAGE],
    ]);
    expect(REDIS_IMAGE).toMatch(/^docker\.io\/library\/redis:\d+\.\d+\.\d+@sha256:[a-f0-9]{64}$/);
    expect(REDIS_EXPORTER_IMAGE).toMatch(/^docker\.io\/oliver006\/redis_exporter:v\d+\.\d+\.\d+@sha256:[a-f0-9]{64}$/);
    for (const c of spec.containers) expect(c.imagePullPolicy).toBe('IfNotPresent');
  });

  test('redis is sized by the configuration; sentinel and exporter have small fixed resources', () => {
    expect(container(objects, 'redis').resources).toEqual({ requests: { cpu: '50m', memory: '128Mi' }, limits: { cpu: '100m', memory: '128Mi' } });
    const bigger = variantModel(shop, { data: { redis: { resources: { requests: { cpu: '300m', memory: '512Mi' }, limits: { cpu: '600m', memory: '512Mi' } }, maxmemory: '200mb' } } });
    expect(container(synth(bigger), 'redis').resources).toEqual({ requests: { cpu: '300m', memory: '512Mi' }, limits: { cpu: '600m', memory: '512Mi' } });
    for (const name of ['sentinel', 'exporter']) {
      const r = container(objects, name).resources;
      expect(r.requests.cpu && r.requests.memory && r.limits.cpu && r.limits.memory).toBeTruthy();
      expect(container(synth(bigger), name).resources).toEqual(r);
    }
    expect(container(objects, 'exporter').resources.limits.memory).toBe('64Mi');
  });

  test('Pod Security restricted: UID 999 of the redis image, read-only root, no capabilities, seccomp', () => {
    expect(REDIS_IMAGE_UID).toBe(999);
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
    expect(startup.periodSeconds * startup.failureThreshold).toBeGreaterThan(configProps(base).resolveTimeoutSeconds);
    expect(probe('redis', 'startupProbe').exec.command).toEqual(['sh', '/etc/redis/redis-sentinel.sh', 'probe', 'redis-alive']);
    // The probes' redis-cli calls are bounded by the script below the kubelet's timeout.
    expect(configProps(base).cliTimeoutSeconds).toBeLessThan(probe('redis', 'readinessProbe').timeoutSeconds);
  });

  test('the password comes from the synced Secret into every container, never from the ConfigMap', () => {
    for (const c of spec.containers) {
      expect(c.env).toContainEqual({ name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'shop-redis-auth', key: 'password' } } });
    }
    const data = configData(objects);
    for (const file of [REDIS_CONF, SENTINEL_CONF, REDIS_SETTINGS]) expect(data[file]).not.toMatch(/requirepass|masterauth|auth-pass|sentinel-pass|PASSWORD/);
    expect(container(objects, 'exporter').env).toContainEqual({ name: 'REDIS_ADDR', value: 'redis://localhost:6379' });
    for (const name of ['redis', 'sentinel']) {
      expect(container(objects, name).env).toContainEqual({ name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } });
    }
  });

  test('data on a volume claim template sized and classed by the configuration; writable scratch in memory only', () => {
    const claim = (model: Model) => statefulSet(synth(model)).spec.volumeClaimTemplates[0];
    expect(claim(base).metadata.name).toBe('data');
    // The API server stores the claim template with its type; without it Argo CD never sees the StatefulSet in sync.
    expect(claim(base)).toMatchObject({ apiVersion: 'v1', kind: 'PersistentVolumeClaim' });
    expect(claim(base).spec).toEqual({ accessModes: ['ReadWriteOnce'], volumeMode: 'Filesystem', storageClassName: 'fast', resources: { requests: { storage: '1Gi' } } });
    const other = variantModel(shop, { data: { redis: { storage: { size: '4Gi', storageClass: 'ssd-keep' } } } });
    expect(claim(other).spec).toMatchObject({ storageClassName: 'ssd-keep', resources: { requests: { storage: '4Gi' } } });
    expect(container(objects, 'redis').volumeMounts).toContainEqual({ name: 'data', mountPath: '/data' });
    const emptyDirs = spec.volumes.filter((v: K8sObject) => v.emptyDir);
    expect(emptyDirs.map((v: K8sObject) => v.name).sort()).toEqual(['redis-runtime', 'sentinel-runtime']);
    for (const v of emptyDirs) expect(v.emptyDir.medium).toBe('Memory');
    expect(spec.volumes).toContainEqual({ name: 'config', configMap: { name: 'shop-redis', defaultMode: 0o444 } });
  });

  test('one member per node, required; spread over zones', () => {
    const labels = selectorLabels(base.identity, 'redis');
    expect(spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toEqual([
      { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: labels } },
    ]);
    expect(spec.topologySpreadConstraints).toEqual([expect.objectContaining({
      topologyKey: 'topology.kubernetes.io/zone', maxSkew: 1, labelSelector: { matchLabels: labels },
    })]);
  });

  test('a master hands over before it stops, within the grace period', () => {
    expect(container(objects, 'redis').lifecycle.preStop.exec.command).toEqual(['sh', '/etc/redis/redis-sentinel.sh', 'pre-stop']);
    expect(spec.terminationGracePeriodSeconds).toBeGreaterThan(configProps(base).switchoverTimeoutSeconds + 10);
  });

  test('a configuration change rolls the members (checksum of the ConfigMap in the pod template)', () => {
    const checksum = (model: Model) => statefulSet(synth(model)).spec.template.metadata.annotations['checksum/config'];
    expect(checksum(base)).toMatch(/^[0-9a-f]{64}$/);
    expect(checksum(variantModel(shop))).toBe(checksum(base));
    expect(checksum(variantModel(shop, { data: { redis: { maxmemoryPolicy: 'allkeys-lfu' } } }))).not.toBe(checksum(base));
    // The members' names are in the generated settings: another namespace is another configuration.
    expect(checksum(variantModel(shop, { app: { namespace: 'shop-other' } }))).not.toBe(checksum(base));
  });
});

describe('configuration', () => {
  test('the ConfigMap holds the two configs, the shipped script as it is in the repository, and its generated settings', () => {
    const { objects, construct } = build(base);
    const data = configData(objects);
    expect(Object.keys(data).sort()).toEqual([REDIS_CONF, REDIS_SETTINGS, REDIS_SCRIPT, SENTINEL_CONF].sort());
    expect(data[REDIS_SCRIPT]).toBe(SHIPPED_SCRIPT);
    // Whatever the configuration: only the generated files differ.
    const other = configData(synth(variantModel(shop, { app: { name: 'store', namespace: 'store' }, data: { redis: { maxmemory: '16mb' } } })));
    expect(other[REDIS_SCRIPT]).toBe(SHIPPED_SCRIPT);
    expect(other[REDIS_SETTINGS]).not.toBe(data[REDIS_SETTINGS]);
    // What the live test renders again with other addresses: the construct's own parameters.
    expect(construct.configProps).toEqual(configProps(base));
    expect(redisSentinelConfigFiles(construct.configProps)).toEqual(data);
  });

  test('AOF every second, maxmemory and its policy from the configuration', () => {
    const conf = configData(synth(base))[REDIS_CONF];
    expect(conf).toMatch(/^appendonly yes$/m);
    expect(conf).toMatch(/^appendfsync everysec$/m);
    expect(conf).toMatch(/^dir \/data$/m);
    expect(conf).toMatch(/^maxmemory 30mb$/m);
    // Left out, the safe share of the limit: 128Mi - 64Mi, halved.
    const derived = variantModel(shop, {}, (c) => { delete c.data.redis.maxmemory; });
    expect(configData(synth(derived))[REDIS_CONF]).toMatch(/^maxmemory 32mb$/m);
    expect(conf).toMatch(/^maxmemory-policy volatile-lru$/m);
    const other = configData(synth(variantModel(shop, { data: { redis: { maxmemory: '16mb', maxmemoryPolicy: 'volatile-lfu' } } })))[REDIS_CONF];
    expect(other).toMatch(/^maxmemory 16mb$/m);
    expect(other).toMatch(/^maxmemory-policy volatile-lfu$/m);
  });

  test('Sentinel: quorum 2 on the agreed master set, host names resolved and announced', () => {
    const conf = configData(synth(base))[SENTINEL_CONF];
    expect(REDIS.masterSet).toBe('shop');
    expect(conf).toMatch(/^sentinel monitor shop @MASTER_HOST@ @MASTER_PORT@ 2$/m);
    expect(conf).toMatch(/^sentinel resolve-hostnames yes$/m);
    expect(conf).toMatch(/^sentinel announce-hostnames yes$/m);
    expect(conf).toMatch(/^sentinel announce-ip @ANNOUNCE_HOST@$/m);
    expect(conf).toMatch(/^dir \/run\/sentinel$/m);
    // Per-master settings must follow the monitor line, or Sentinel refuses the file.
    expect(conf.indexOf('sentinel monitor')).toBeLessThan(conf.indexOf('sentinel down-after-milliseconds'));
  });

  test('the script knows each member by the DNS name clients get in REDIS_SENTINEL_NODES', () => {
    const settings = configData(synth(base))[REDIS_SETTINGS];
    const nodes = injectedEnv(dataEndpoints(base.env), ['redis']).find((e) => e.name === 'REDIS_SENTINEL_NODES')!.value!.split(',');
    expect(nodes).toHaveLength(3);
    nodes.forEach((node, i) => {
      const [host, port] = node.split(':');
      expect(host).toBe(`shop-redis-${i}.shop-redis-headless.shop-test.svc.cluster.local`);
      expect(settings).toContain(`    ${i}) m_host='${host}'; m_redis_port=6379; m_sentinel_port=${port}; m_sentinel_id=${sentinelId('shop', i)} ;;`);
    });
    expect(injectedEnv(dataEndpoints(base.env), ['redis']).find((e) => e.name === 'REDIS_SENTINEL_MASTER')).toEqual({ name: 'REDIS_SENTINEL_MASTER', value: 'shop' });
    // Replicas announce that name, not the pod IP.
    expect(SHIPPED_SCRIPT).toContain('line "replica-announce-ip $SELF_HOST"');
  });

  test('the generated settings, sourced by sh, give the member table, the directories and the timeouts', () => {
    const props = configProps(base);
    const dir = mkdtempSync(join(tmpdir(), 'shipshape-redis-env-'));
    try {
      writeFileSync(join(dir, REDIS_SETTINGS), configData(synth(base))[REDIS_SETTINGS]);
      // dash, as the image's /bin/sh; `set -eu` as the script sources it.
      const r = spawnSync('dash', ['-c', `set -eu; . ./${REDIS_SETTINGS}
        printf '%s\\n' "$MASTER_SET|$MEMBERS|$REDIS_RUNTIME_DIR|$SENTINEL_RUNTIME_DIR|$CLI_TIMEOUT|$RESOLVE_TIMEOUT|$SWITCHOVER_TIMEOUT|$CATCHUP_TIMEOUT"
        for o in $MEMBERS; do member "$o"; printf '%s\\n' "$m_host $m_redis_port $m_sentinel_port $m_sentinel_id"; done
        if member 3; then echo 'member 3 exists'; fi`], { cwd: dir, encoding: 'utf8', timeout: 10_000 });
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      expect(r.stdout.split('\n')).toEqual([
        `shop|0 1 2|/run/redis|/run/sentinel|${props.cliTimeoutSeconds}|${props.resolveTimeoutSeconds}|${props.switchoverTimeoutSeconds}|${catchUpTimeoutSeconds(props)}`,
        ...REDIS.memberHosts.map((host, i) => `${host} 6379 26379 ${sentinelId('shop', i)}`),
        '',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('only the member table and the timeouts are generated: the settings hold nothing else', () => {
    for (const model of [base, variantModel(shop, { app: { name: 'store', namespace: 'store' } })]) {
      const settings = configData(synth(model))[REDIS_SETTINGS];
      const lines = settings.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
      const assignments = lines.filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split('=')[0]);
      expect(assignments).toEqual([
        'MASTER_SET', 'MEMBERS', 'REDIS_DATA_DIR', 'REDIS_RUNTIME_DIR', 'SENTINEL_RUNTIME_DIR', 'CLI_TIMEOUT', 'RESOLVE_TIMEOUT', 'SWITCHOVER_TIMEOUT', 'CATCHUP_TIMEOUT',
      ]);
      const rest = lines.filter((l) => !/^[A-Z_]+=/.test(l));
      expect(rest).toEqual([
        'member() {',
        '  case "$1" in',
        ...[0, 1, 2].map((i) => expect.stringMatching(new RegExp(`^ {4}${i}\\) m_host='[^']+'; m_redis_port=\\d+; m_sentinel_port=\\d+; m_sentinel_id=[0-9a-f]{40} ;;$`))),
        '    *) return 1 ;;',
        '  esac',
        '}',
      ]);
    }
    // And the script sets none of them itself: it takes them from the settings it sources.
    for (const name of ['MASTER_SET', 'MEMBERS', 'REDIS_RUNTIME_DIR', 'SENTINEL_RUNTIME_DIR', 'CLI_TIMEOUT', 'RESOLVE_TIMEOUT', 'SWITCHOVER_TIMEOUT', 'CATCHUP_TIMEOUT']) {
      expect(SHIPPED_SCRIPT).not.toMatch(new RegExp(`^\\s*${name}=`, 'm'));
    }
    expect(SHIPPED_SCRIPT).not.toMatch(/svc\.cluster\.local|\b(6379|26379)\b|\/run\/(redis|sentinel)/);
    expect(SHIPPED_SCRIPT).toMatch(SOURCE_LINE);
  });

  test('sentinel ids are fixed per member and distinct', () => {
    const ids = [0, 1, 2].map((i) => sentinelId('shop', i));
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{40}$/);
    expect(sentinelId('shop', 0)).toBe(ids[0]);
    expect(sentinelId('store', 0)).not.toBe(ids[0]);
  });

  test('a full resync streams to every other member at once: as many replicas as members less the master', () => {
    const props = configProps(base);
    const conf = redisSentinelConfigFiles(props)[REDIS_CONF];
    expect(conf).toMatch(new RegExp(`^repl-diskless-sync-max-replicas ${props.members.length - 1}$`, 'm'));
    expect(conf).toMatch(/^repl-diskless-sync yes$/m);
  });

  test('the builder refuses what would break the set or the script', () => {
    const props = configProps(base);
    expect(() => redisSentinelConfigFiles({ ...props, members: props.members.slice(0, 2) })).toThrow(/at least 3 members/);
    expect(() => redisSentinelConfigFiles({ ...props, quorum: 4 })).toThrow(/quorum 4/);
    expect(() => redisSentinelConfigFiles({ ...props, quorum: 0 })).toThrow(/quorum 0/);
    // Every sentinel agreeing is a strict quorum, but a valid one.
    expect(() => redisSentinelConfigFiles({ ...props, quorum: props.members.length })).not.toThrow();
    expect(() => redisSentinelConfigFiles({ ...props, members: [...props.members.slice(1), { host: "x'; rm -rf /", redisPort: 1, sentinelPort: 2 }] })).toThrow(/not a host name/);
    expect(() => redisSentinelConfigFiles({ ...props, masterSet: 'a b' })).toThrow(/not a plain name/);
    expect(() => redisSentinelConfigFiles({ ...props, paths: { ...props.paths, data: 'relative' } })).toThrow(/absolute path/);
    // Anchored at both ends: nothing before the first '/', no shell word after a plain path.
    expect(() => redisSentinelConfigFiles({ ...props, paths: { ...props.paths, data: 'x/data' } })).toThrow(/absolute path/);
    expect(() => redisSentinelConfigFiles({ ...props, paths: { ...props.paths, data: '/data; rm -rf /' } })).toThrow(/absolute path/);
    // pre-stop must be able to wait for the replicas, then ask, within the pause.
    expect(() => redisSentinelConfigFiles({ ...props, downAfterMilliseconds: 1999 })).toThrow(/down-after-milliseconds 1999 leaves pre-stop less than 1 s/);
    expect(() => redisSentinelConfigFiles({ ...props, downAfterMilliseconds: 2000 })).not.toThrow();
    expect(() => redisSentinelConfigFiles({ ...props, switchoverTimeoutSeconds: 4 })).toThrow(/switchover timeout 4 s leaves no time/);
    expect(() => redisSentinelConfigFiles({ ...props, switchoverTimeoutSeconds: 5 })).not.toThrow();
  });

  test('pre-stop waits for the replicas at most half of down-after, in whole seconds, and pauses writes for the switchover timeout', () => {
    const props: RedisSentinelConfigProps = { ...configProps(base), downAfterMilliseconds: 9000, switchoverTimeoutSeconds: 30 };
    const files = redisSentinelConfigFiles(props);
    expect(files[REDIS_SETTINGS]).toMatch(/^CATCHUP_TIMEOUT=4$/m);
    expect(files[REDIS_SETTINGS]).toMatch(/^SWITCHOVER_TIMEOUT=30$/m);
    expect(files[SENTINEL_CONF]).toMatch(/^sentinel down-after-milliseconds shop 9000$/m);
    expect([2000, 3999, 4000, 5000, 9999, 30000].map((ms) => catchUpTimeoutSeconds({ downAfterMilliseconds: ms }))).toEqual([1, 1, 2, 2, 4, 15]);
    // As rendered for the fixture: the construct's own timings, consistent with each other.
    const rendered = configData(synth(base));
    const shipped = configProps(base);
    expect(rendered[REDIS_SETTINGS]).toMatch(new RegExp(`^CATCHUP_TIMEOUT=${catchUpTimeoutSeconds(shipped)}$`, 'm'));
    expect(rendered[REDIS_SETTINGS]).toMatch(new RegExp(`^SWITCHOVER_TIMEOUT=${shipped.switchoverTimeoutSeconds}$`, 'm'));
    expect(rendered[SENTINEL_CONF]).toMatch(new RegExp(`^sentinel down-after-milliseconds shop ${shipped.downAfterMilliseconds}$`, 'm'));
    expect(SHIPPED_SCRIPT).toContain('CLIENT PAUSE "$((SWITCHOVER_TIMEOUT * 1000))" WRITE');
    expect(SHIPPED_SCRIPT).toContain('[ "$_waited" -lt "$CATCHUP_TIMEOUT" ]');
  });

  test('the script passes shellcheck as POSIX sh (the image\'s /bin/sh is dash), alone and with its settings where it sources them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shipshape-redis-sh-'));
    const shellcheck = (file: string) => {
      const r = spawnSync('shellcheck', ['--shell=sh', '--severity=style', file], { encoding: 'utf8', timeout: 30_000 });
      return { file, status: r.status, output: `${r.stdout}${r.stderr}` };
    };
    try {
      const alone = join(dir, REDIS_SCRIPT);
      writeFileSync(alone, SHIPPED_SCRIPT);
      expect(shellcheck(alone)).toEqual({ file: alone, status: 0, output: '' });
      for (const model of [base, variantModel(shop, { app: { name: 'store', namespace: 'store' } })]) {
        const data = configData(synth(model));
        // What the shell runs: the settings in place of the line that sources them.
        const file = join(dir, `${model.identity.app}.sh`);
        writeFileSync(file, data[REDIS_SCRIPT].replace(SOURCE_LINE, data[REDIS_SETTINGS]));
        expect(readFileSync(file, 'utf8')).toContain('member() {');
        expect(shellcheck(file)).toEqual({ file, status: 0, output: '' });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Service, budget, monitoring, secret', () => {
  const objects = synth(base);

  test('the headless Service publishes members before they are ready', () => {
    const svc = only(objects, 'Service');
    expect(svc.spec.clusterIP).toBe('None');
    expect(svc.spec.publishNotReadyAddresses).toBe(true);
    expect(svc.spec.selector).toEqual(selectorLabels(base.identity, 'redis'));
    expect(svc.spec.ports.map((p: K8sObject) => [p.name, p.port, p.targetPort])).toEqual([
      ['redis', 6379, 'redis'], ['sentinel', 26379, 'sentinel'], ['metrics', 9121, 'metrics'],
    ]);
  });

  test('at most one member down voluntarily, and not past the budget while one is unready', () => {
    expect(only(objects, 'PodDisruptionBudget').spec).toEqual({
      selector: { matchLabels: selectorLabels(base.identity, 'redis') }, maxUnavailable: 1, unhealthyPodEvictionPolicy: 'IfHealthyBudget',
    });
  });

  test('the ServiceMonitor scrapes the exporter port through the headless Service', () => {
    const sm = only(objects, 'ServiceMonitor');
    const svc = only(objects, 'Service');
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) expect(svc.metadata.labels[k]).toBe(v);
    expect(sm.spec.endpoints).toEqual([
      { port: 'metrics', path: '/metrics', interval: '30s', scheme: 'http' },
      // The pod's sentinel, through the exporter's /scrape, its series told apart by their endpoint label.
      {
        port: 'metrics', path: '/scrape', params: { target: ['redis://localhost:26379'] }, interval: '30s', scheme: 'http',
        relabelings: [{ action: 'replace', targetLabel: 'endpoint', replacement: 'sentinel' }],
      },
    ]);
  });

  test('the password is an ExternalSecret of <prefix>/redis, property password, from the configured store', () => {
    const es = only(objects, 'ExternalSecret');
    expect(es.spec.target).toMatchObject({ name: 'shop-redis-auth', creationPolicy: 'Owner', deletionPolicy: 'Retain' });
    expect(es.spec.data).toEqual([{ secretKey: 'password', remoteRef: { key: 'shop/test/redis', property: 'password', conversionStrategy: 'Default', decodingStrategy: 'None', metadataPolicy: 'None' } }]);
    expect(es.spec.secretStoreRef).toEqual({ name: 'test-store', kind: 'ClusterSecretStore' });
    expect(es.spec.refreshInterval).toBe('30m');
    expect(objects.some((o) => o.kind === 'Secret')).toBe(false);
  });
});

describe('NetworkPolicy, judged by the flows it allows', () => {
  const pod = (model: Model, name: string): Endpoint => ({
    namespace: model.identity.namespace, labels: { ...selectorLabels(model.identity, name), 'app.kubernetes.io/component': 'workload' },
  });
  /** A member as the StatefulSet makes it: the labels the construct gives its pods. */
  const redisPod = (model: Model): Endpoint => ({ namespace: model.identity.namespace, labels: statefulSet(synth(model)).spec.template.metadata.labels });
  const prometheus: Endpoint = { namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'prometheus' } };
  /** The namespace's policies as deployed: every one comes from the environment's flows. */
  const policies = (model: Model) => synthConstruct((scope) => new NetworkPolicies(scope, 'np', {
    identity: model.identity, flows: model.network.flows, subjects: model.network.subjects,
  }));

  test('the api (it uses redis) reaches Redis and Sentinel; web does not', () => {
    const p = policies(base);
    const redis = redisPod(base);
    expect(allowed(p, pod(base, 'api'), redis, 6379)).toBe(true);
    expect(allowed(p, pod(base, 'api'), redis, 26379)).toBe(true);
    expect(allowed(p, pod(base, 'api'), redis, 9121)).toBe(false);
    expect(allowed(p, pod(base, 'web'), redis, 6379)).toBe(false);
    expect(allowed(p, { namespace: 'elsewhere', labels: selectorLabels(base.identity, 'api') }, redis, 6379)).toBe(false);
  });

  test('Redis itself refuses pods no flow names, whatever their own egress says', () => {
    const p = policies(base);
    const redis = redisPod(base);
    for (const sender of [pod(base, 'web'), { namespace: base.identity.namespace, labels: {} }]) {
      for (const port of [6379, 26379, 9121]) expect(sideAllows(p, 'Ingress', redis, sender, port)).toBe(false);
    }
    expect(sideAllows(p, 'Ingress', redis, pod(base, 'api'), 6379)).toBe(true);
  });

  test('members replicate and watch each other, and reach nothing else', () => {
    const p = policies(base);
    const redis = redisPod(base);
    expect(allowed(p, redis, redis, 6379)).toBe(true);
    expect(allowed(p, redis, redis, 26379)).toBe(true);
    expect(allowed(p, redis, pod(base, 'api'), 8080)).toBe(false);
    expect(allowed(p, redis, { ip: '93.184.216.34' }, 443)).toBe(false);
    expect(allowed(p, redis, { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } }, 53, 'UDP')).toBe(true);
  });

  test('Prometheus scrapes the exporter only', () => {
    const p = policies(base);
    const redis = redisPod(base);
    expect(allowed(p, prometheus, redis, 9121)).toBe(true);
    expect(allowed(p, prometheus, redis, 6379)).toBe(false);
    expect(allowed(p, { namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'grafana' } }, redis, 9121)).toBe(false);
  });

  test('follows `uses`: a new user is let in, and with no user there is no client rule (never an empty `from`)', () => {
    const webToo = variantModel(shop, { services: { web: { uses: ['redis'] } } });
    expect(allowed(policies(webToo), pod(webToo, 'web'), redisPod(webToo), 6379)).toBe(true);
    const nobody = variantModel(shop, { services: { api: { uses: ['postgres', 'uploads'] } } });
    const np = only(policies(nobody), 'NetworkPolicy', 'shop-redis');
    expect(np.spec.ingress).toHaveLength(2);
    for (const rule of np.spec.ingress) expect(rule.from.length).toBeGreaterThan(0);
    expect(allowed(policies(nobody), pod(nobody, 'api'), redisPod(nobody), 6379)).toBe(false);
  });
});

describe('in the whole output', () => {
  test.each([['shop', shop, {}], ['shop as production', shop, AS_PRODUCTION]] as const)('%s: no policy violation names a Redis object', (_, definition, overrides) => {
    const env = variant(definition, overrides);
    const objects = synthObjects(env).map((o) => o.object);
    expect(objects.filter((o) => o.kind === 'StatefulSet').map((o) => o.metadata.name)).toEqual(['shop-redis']);
    expect(policyProblems(env, objects).filter((p) => p.includes('redis'))).toEqual([]);
  });

  test('the ConfigMap and the headless Service come in the StatefulSet\'s sync wave, not after it', () => {
    const objects = synthObjects(variant(shop)).map((o) => o.object);
    const wave = (kind: string, name: string) => only(objects, kind, name).metadata.annotations?.['argocd.argoproj.io/sync-wave'];
    expect(wave('StatefulSet', 'shop-redis')).toBe('-1');
    expect(Number(wave('ConfigMap', 'shop-redis'))).toBeLessThanOrEqual(-1);
    expect(Number(wave('Service', 'shop-redis-headless'))).toBeLessThanOrEqual(-1);
    expect(Number(wave('ExternalSecret', 'shop-redis-auth'))).toBeLessThan(-1);
    expect(Number(wave('NetworkPolicy', 'shop-redis'))).toBeLessThan(-1);
  });

  test('an application without data.redis gets no Redis object, variable or flow', () => {
    const env = variant(boxDesigner);
    expect(env.data.redis).toBeUndefined();
    const objects = synthObjects(env).map((o) => o.object);
    expect(objects.filter((o) => /redis|\b(6379|26379|9121)\b/i.test(JSON.stringify(o))).map((o) => `${o.kind} ${o.metadata.name}`)).toEqual([]);
    expect(variantModel(boxDesigner).network.flows.filter((f) => /redis/i.test(JSON.stringify(f)))).toEqual([]);
    // The same application with Redis has them all: the check above would see them.
    const withRedis = variant(boxDesigner, { data: { redis: shop.config.data!.redis }, services: { api: { uses: ['postgres', 'uploads', 'redis'] } } });
    const deployment = only(synthObjects(withRedis).map((o) => o.object), 'Deployment', 'api');
    expect(deployment.spec.template.spec.containers[0].env.map((e: K8sObject) => e.name)).toEqual(expect.arrayContaining(['REDIS_SENTINEL_NODES', 'REDIS_PASSWORD']));
  });
});
