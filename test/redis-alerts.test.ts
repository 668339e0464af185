/**
 * The Redis alerts (charts/observability/redis-alerts.ts) as synthesized for each environment:
 * promtool accepts them, they read the members, quorum and min-replicas-to-write of the shipped
 * configuration and the series the ServiceMonitor makes (job, endpoint), a page is no slower than
 * 3 minutes of `for`, and promtool runs every alert of production's rules where it must fire, with
 * its labels and annotations, and where it must stay silent.
 *
 * Then for real: production's Redis set (its ConfigMap's files, started by the shipped script as
 * the pod's containers start it, three members on loopback) scraped by Debian's redis_exporter
 * (1.45; production runs v1.91.1) configured as the pod's exporter container, through each
 * endpoint of the synthesized ServiceMonitor (/metrics for redis-server, /scrape for the sentinel).
 * Every redis_* name the rules use must be in what it exposes; the scraped values, labelled as
 * Prometheus labels them, go to promtool: healthy, every alert stays silent; after a replica's
 * redis-server is killed, RedisDown fires and the others stay silent.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisSentinel } from '../charts/data/redis-sentinel';
import { REDIS_CONF, REDIS_SCRIPT, SENTINEL_CONF, redisSentinelConfigFiles, type RedisMember, type RedisPaths } from '../charts/data/redis-sentinel-config';
import { MEMORY_WARNING_RATIO, REDIS_ALERTS, redisSelectors } from '../charts/observability/redis-alerts';
import { repositoryFilesUrl, runbookUrl } from '../charts/observability/runbooks';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { buildModel } from '../environments/model/model';
import { dataEndpoints } from '../environments/model/names';
import { REDIS_EXPORTER_PORT, REDIS_PORT, SENTINEL_PORT } from '../environments/model/network';
import { redisMaxmemory } from '../environments/model/redis-memory';
import { parseDuration, parseRedisMemory } from '../environments/quantity';
import type { Environment } from '../environments/schema';
import type { K8sObject } from '../pipeline/k8s-object';
import { buildCharts, synthObjects } from '../pipeline/synth';
import { alertNames, checkRules, rulesOf, testRules, testsOf, untestedAlerts, type AlertRuleTest, type RuleTest } from './support/alert-rules';
import { parseExposition, seriesName, type Sample } from './support/exposition';
import { ADDRESS_IN_USE, listenPorts } from './support/ports';
import { only } from './support/synth-construct';
import { waitFor } from './support/wait';

const envs = resolveEnvironments(environments, process.cwd());
const production = envs.find((e) => e.name === 'production') as Environment;

/** The output's PrometheusRule of the set's alerts, and the objects its values come from. */
function output(env: Environment) {
  const objects = synthObjects(env).map((o) => o.object);
  const redis = dataEndpoints(env).redis;
  if (!redis) throw new Error(`${env.name} has no Redis`);
  return { objects, redis, rule: only(objects, 'PrometheusRule', REDIS_ALERTS) };
}

/** The `endpoint` label Prometheus gives an endpoint's series: its port's name, unless relabelled. */
const endpointLabel = (e: K8sObject): string => e.relabelings?.find((r: K8sObject) => r.targetLabel === 'endpoint')?.replacement ?? e.port;
/** The redis_* names a rule's expression selects. */
const namesIn = (rule: K8sObject) => [...new Set(rulesOf(rule).flatMap((r) => [...(r.expr as string).matchAll(/\bredis_[a-z0-9_]+\b/g)].map((m) => m[0])))].sort();

describe.each(envs.map((e) => [e.name, e] as const))('%s', (_name, env) => {
  const { objects, redis, rule } = output(env);
  const ns = env.app.namespace;
  const configMap = only(objects, 'ConfigMap', redis.name).data as Record<string, string>;

  test('promtool check rules accepts the rules', () => {
    const r = checkRules(rule);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });

  test('every alert names the namespace and the StatefulSet; a page fires within 3 minutes of `for`', () => {
    for (const r of rulesOf(rule)) {
      expect([r.alert, r.labels.namespace, r.labels.service]).toEqual([r.alert, ns, redis.name]);
      if (r.labels.severity === 'critical') expect([r.alert, parseDuration(r.for) <= 180]).toEqual([r.alert, true]);
    }
    expect(rulesOf(rule).filter((r) => r.labels.severity === 'critical').map((r) => r.alert)).toEqual([
      'RedisNoMaster', 'RedisSentinelQuorumLost', 'RedisReplicaLinkDown',
    ]);
  });

  test('the series are selected as the ServiceMonitor makes them: job of the headless Service, endpoint per ServiceMonitor endpoint', () => {
    const monitor = only(objects, 'ServiceMonitor', redis.name);
    const service = only(objects, 'Service', redis.headlessService);
    for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels)) expect(service.metadata.labels[k]).toBe(v);
    const [server, sentinel] = monitor.spec.endpoints as K8sObject[];
    expect(server.path).toBe('/metrics');
    expect(sentinel).toMatchObject({ path: '/scrape', params: { target: [`redis://localhost:${SENTINEL_PORT}`] } });
    const selectors = redisSelectors(ns, redis.headlessService);
    expect(selectors.server).toBe(`namespace="${ns}",job="${redis.headlessService}",endpoint="${endpointLabel(server)}"`);
    expect(selectors.sentinel).toBe(`namespace="${ns}",job="${redis.headlessService}",endpoint="${endpointLabel(sentinel)}"`);
    expect(endpointLabel(server)).not.toBe(endpointLabel(sentinel));
    const exprs = rulesOf(rule).map((r) => r.expr as string);
    expect(exprs.every((e) => e.includes(selectors.server) || e.includes(selectors.sentinel))).toBe(true);
    expect(exprs.filter((e) => e.includes('redis_sentinel_')).every((e) => e.includes(selectors.sentinel) && !e.includes(selectors.server))).toBe(true);
  });

  test('members, quorum and min-replicas-to-write are the shipped configuration\'s', () => {
    const expr = (alert: string, severity: string) => rulesOf(rule).find((r) => r.alert === alert && r.labels.severity === severity)?.expr as string;
    const members = only(objects, 'StatefulSet', redis.name).spec.replicas as number;
    expect(expr('RedisDown', 'warning')).toMatch(new RegExp(`< ${members}$`));
    const quorum = Number(new RegExp(`^sentinel monitor ${redis.masterSet} \\S+ \\S+ (\\d+)$`, 'm').exec(configMap[SENTINEL_CONF])?.[1]);
    expect(expr('RedisSentinelQuorumLost', 'critical')).toContain(`master_name="${redis.masterSet}"`);
    expect(expr('RedisSentinelQuorumLost', 'critical')).toMatch(new RegExp(`< ${quorum}$`));
    const minReplicas = Number(/^min-replicas-to-write (\d+)$/m.exec(configMap[REDIS_CONF])?.[1]);
    expect(minReplicas).toBeGreaterThan(0);
    expect(expr('RedisReplicaLinkDown', 'critical')).toContain(`} < ${minReplicas}\n`);
    expect(rulesOf(rule).find((r) => r.alert === 'RedisMemoryNearMax')?.annotations.description)
      .toContain(`maxmemory-policy ${/^maxmemory-policy (\S+)$/m.exec(configMap[REDIS_CONF])?.[1]}`);
  });
});

test('production\'s values the rules are read against', () => {
  const { objects, redis } = output(production);
  const config = only(objects, 'ConfigMap', redis.name).data as Record<string, string>;
  expect(only(objects, 'StatefulSet', redis.name).spec.replicas).toBe(3);
  expect(config[SENTINEL_CONF]).toMatch(new RegExp(`^sentinel monitor ${redis.masterSet} @MASTER_HOST@ @MASTER_PORT@ 2$`, 'm'));
  expect(config[REDIS_CONF]).toMatch(/^min-replicas-to-write 1$/m);
  expect(config[REDIS_CONF]).toMatch(/^maxmemory 992mb$/m);
  expect(config[REDIS_CONF]).toMatch(/^maxmemory-policy allkeys-lru$/m);
});

describe('production, by promtool', () => {
  const { redis, rule } = output(production);
  const NS = production.app.namespace;
  const RUNBOOKS = repositoryFilesUrl(production.delivery.repoURL, production.delivery.targetRevision);
  const R = redis.name;
  const pods = [0, 1, 2].map((i) => `${R}-${i}`);
  const MAXMEMORY = parseRedisMemory(redisMaxmemory(production.data.redis!));

  /** The labels Prometheus gives the exporter's series of a member, through the headless Service. */
  const target = (pod: string, endpoint: 'metrics' | 'sentinel'): Record<string, string> => ({
    namespace: NS, job: redis.headlessService, service: redis.headlessService, endpoint, pod, container: 'exporter', instance: `10.3.0.${pod.slice(-1)}:9121`,
  });
  const s = (name: string, labels: Record<string, string>, values: string) => ({ series: seriesName(name, labels), values });
  const info = (pod: string, role: string, values = '1x12') => s('redis_instance_info', { ...target(pod, 'metrics'), role, redis_mode: 'standalone' }, values);
  const quorum = (pod: string, ok: boolean, values?: string) => s('redis_sentinel_master_ckquorum_status',
    { ...target(pod, 'sentinel'), master_name: redis.masterSet, message: ok ? 'OK 3 usable Sentinels. Quorum and failover authorization can be reached' : 'NOQUORUM 1 usable Sentinels' },
    values ?? (ok ? '1x12' : '0x12'));
  const healthy = () => [
    ...pods.map((p) => s('redis_up', target(p, 'metrics'), '1x12')),
    info(pods[0], 'master'), info(pods[1], 'slave'), info(pods[2], 'slave'),
    s('redis_connected_slaves', target(pods[0], 'metrics'), '2x12'),
    s('redis_connected_slaves', target(pods[1], 'metrics'), '0x12'),
    s('redis_connected_slaves', target(pods[2], 'metrics'), '0x12'),
    ...pods.slice(1).map((p) => s('redis_master_link_up', { ...target(p, 'metrics'), master_host: `${pods[0]}.${redis.headlessService}`, master_port: '6379' }, '1x12')),
    ...pods.map((p) => quorum(p, true)),
  ];
  /** What the alert's labels are: the series' with `service` the StatefulSet's. */
  const as = (labels: Record<string, string>) => ({ ...labels, service: R });

  const fired = (alert: string, severity: string, labels: Record<string, string>, summary: string, description: string) => ({
    exp_labels: { severity, namespace: NS, service: R, ...labels },
    exp_annotations: { summary, description, runbook_url: runbookUrl(RUNBOOKS, alert) },
  });
  const at = (evalTime: string, alertname: string, exp: AlertRuleTest['exp_alerts'] = []): AlertRuleTest => ({ eval_time: evalTime, alertname, exp_alerts: exp });
  const redisDown = (answering: number) => fired('RedisDown', 'warning', {}, `Redis ${R} runs with fewer than its 3 members`,
    `Only ${answering} of the 3 members of ${NS}/${R} have answered their exporter for 5 minutes: one more loss and the sentinels can no longer fail over.`);

  const TESTS: RuleTest[] = [
    {
      name: 'healthy: a master, two linked replicas, three sentinels with their quorum',
      interval: '30s',
      input_series: healthy(),
      alert_rule_test: ['RedisDown', 'RedisNoMaster', 'RedisSentinelQuorumLost', 'RedisReplicaLinkDown'].map((a) => at('6m', a)),
    },
    {
      name: 'RedisDown: a member\'s redis-server does not answer, for 5 minutes',
      interval: '30s',
      input_series: healthy().map((x) => (x.series === seriesName('redis_up', target(pods[2], 'metrics')) ? { ...x, values: '0x12' } : x)),
      alert_rule_test: [at('4m', 'RedisDown'), at('6m', 'RedisDown', [redisDown(2)])],
    },
    {
      name: 'RedisDown: a member gone altogether (no exporter to scrape)',
      interval: '30s',
      input_series: healthy().filter((x) => !x.series.includes(`pod="${pods[2]}"`)),
      alert_rule_test: [at('6m', 'RedisDown', [redisDown(2)])],
    },
    {
      name: 'RedisNoMaster: every member a replica, for a minute',
      interval: '30s',
      input_series: [...pods.map((p) => s('redis_up', target(p, 'metrics'), '1x12')), ...pods.map((p) => info(p, 'slave'))],
      alert_rule_test: [
        at('30s', 'RedisNoMaster'),
        at('2m', 'RedisNoMaster', [fired('RedisNoMaster', 'critical', {}, `Redis ${R} has no master`,
          `No member of ${NS}/${R} has reported the master role for a minute: the application cannot write to Redis, and the sentinels have not promoted a replica.`)]),
      ],
    },
    {
      name: 'RedisNoMaster stays silent through a failover: the master lost, a replica promoted 30 s later',
      interval: '30s',
      input_series: [info(pods[0], 'master', '1 1 stale'), info(pods[1], 'slave', '1 1 1 stale'), info(pods[1], 'master', '_ _ _ 1x9'), info(pods[2], 'slave')],
      alert_rule_test: [at('1m30s', 'RedisNoMaster'), at('5m', 'RedisNoMaster')],
    },
    {
      name: 'RedisSentinelQuorumLost: two sentinels gone, the third cannot reach its quorum, for 2 minutes',
      interval: '30s',
      input_series: [quorum(pods[0], false)],
      alert_rule_test: [
        at('1m', 'RedisSentinelQuorumLost'),
        at('3m', 'RedisSentinelQuorumLost', [fired('RedisSentinelQuorumLost', 'critical', {}, `Redis ${R}: the sentinels cannot reach their quorum`,
          `Only 0 sentinels of ${NS}/${R} have been able to reach a quorum (2) for master set ${redis.masterSet} for 2 minutes: a master lost now is not replaced.`)]),
      ],
    },
    {
      name: 'RedisSentinelQuorumLost stays silent with one sentinel gone: two still make the quorum',
      interval: '30s',
      input_series: [quorum(pods[0], true), quorum(pods[1], true)],
      alert_rule_test: [at('6m', 'RedisSentinelQuorumLost')],
    },
    {
      name: 'RedisReplicaLinkDown: a replica cut off from its master for 5 minutes',
      interval: '30s',
      input_series: healthy().map((x) => (x.series.startsWith('redis_master_link_up') && x.series.includes(`pod="${pods[2]}"`) ? { ...x, values: '0x12' } : x))
        .map((x) => (x.series === seriesName('redis_connected_slaves', target(pods[0], 'metrics')) ? { ...x, values: '1x12' } : x)),
      alert_rule_test: [
        at('4m', 'RedisReplicaLinkDown'),
        at('6m', 'RedisReplicaLinkDown', [fired('RedisReplicaLinkDown', 'warning',
          as({ ...target(pods[2], 'metrics'), master_host: `${pods[0]}.${redis.headlessService}`, master_port: '6379' }),
          `Redis replica ${pods[2]} of ${R} is not replicating`,
          `The replica ${pods[2]} of ${NS}/${R} has had no working link to its master ${pods[0]}.${redis.headlessService} for 5 minutes.`)]),
      ],
    },
    {
      name: 'RedisReplicaLinkDown pages: the master has no replica left, so it refuses writes, for a minute',
      interval: '30s',
      input_series: [info(pods[0], 'master'), s('redis_connected_slaves', target(pods[0], 'metrics'), '0x12')],
      alert_rule_test: [
        at('30s', 'RedisReplicaLinkDown'),
        // `and` keeps the left side's series whole, labels and all.
        at('2m', 'RedisReplicaLinkDown', [fired('RedisReplicaLinkDown', 'critical', as(target(pods[0], 'metrics')),
          `Redis master ${pods[0]} of ${R} has no replica: it refuses writes`,
          `The master ${pods[0]} of ${NS}/${R} has had 0 replicas connected for a minute, fewer than the 1 it needs to take writes (min-replicas-to-write): `
          + 'every write of the application fails.')]),
      ],
    },
    {
      name: 'RedisMemoryNearMax: 95 % of production\'s maxmemory for 15 minutes; 85 % is fine',
      interval: '1m',
      input_series: [
        s('redis_memory_used_bytes', target(pods[0], 'metrics'), `${0.95 * MAXMEMORY}x20`),
        s('redis_memory_max_bytes', target(pods[0], 'metrics'), `${MAXMEMORY}x20`),
        s('redis_memory_used_bytes', target(pods[1], 'metrics'), `${0.85 * MAXMEMORY}x20`),
        s('redis_memory_max_bytes', target(pods[1], 'metrics'), `${MAXMEMORY}x20`),
      ],
      alert_rule_test: [
        at('10m', 'RedisMemoryNearMax'),
        at('20m', 'RedisMemoryNearMax', [fired('RedisMemoryNearMax', 'warning', as(target(pods[0], 'metrics')),
          `Redis ${pods[0]} of ${R} is near its maxmemory`,
          `${pods[0]} of ${NS}/${R} has used 95% of its maxmemory for 15 minutes; at the limit (maxmemory-policy allkeys-lru) it evicts keys, `
          + 'the application\'s sessions among them.')]),
      ],
    },
    {
      name: 'RedisMemoryNearMax stays silent without a maxmemory (0: no limit)',
      interval: '1m',
      input_series: [s('redis_memory_used_bytes', target(pods[0], 'metrics'), '1000000x20'), s('redis_memory_max_bytes', target(pods[0], 'metrics'), '0x20')],
      alert_rule_test: [at('20m', 'RedisMemoryNearMax')],
    },
    {
      name: 'RedisRejectedConnections: ten refused in five minutes; none after',
      interval: '1m',
      input_series: [s('redis_rejected_connections_total', target(pods[0], 'metrics'), '0 0 2 4 6 8 10x20')],
      alert_rule_test: [
        at('1m', 'RedisRejectedConnections'),
        at('6m', 'RedisRejectedConnections', [fired('RedisRejectedConnections', 'warning', as(target(pods[0], 'metrics')),
          `Redis ${pods[0]} of ${R} refuses connections`, `${pods[0]} of ${NS}/${R} refused 10 connections in the last 5 minutes: it is at maxclients.`)]),
        at('20m', 'RedisRejectedConnections'),
      ],
    },
  ];

  test('the memory threshold is production\'s maxmemory', () => {
    expect(MAXMEMORY).toBe(992 * 2 ** 20);
    expect(MEMORY_WARNING_RATIO).toBe(0.9);
  });

  test('every alert has a test where it fires and one where it stays silent', () => {
    expect(alertNames([rule]).length).toBe(6);
    expect(untestedAlerts([rule], TESTS)).toEqual({ neverFires: [], neverSilent: [] });
  });

  test.each(alertNames([rule]))('%s fires and stays silent as expected', (alert) => {
    const r = testRules([rule], testsOf(alert, TESTS));
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });
});

describe('production\'s set scraped by Debian\'s redis_exporter', () => {
  const { objects, redis, rule } = output(production);
  const NS = production.app.namespace;
  const pod = only(objects, 'StatefulSet', redis.name).spec.template.spec;
  const container = (name: string): K8sObject => pod.containers.find((c: K8sObject) => c.name === name);
  const monitor = only(objects, 'ServiceMonitor', redis.name);
  const shipped = only(objects, 'ConfigMap', redis.name).data as Record<string, string>;
  /** What production's set was rendered from (the ConfigMap's files are those, test/redis-sentinel-live.test.ts). */
  const props = buildCharts(buildModel(production)).flatMap((c) => c.node.findAll()).find((c): c is RedisSentinel => c instanceof RedisSentinel)!.configProps;
  const PASSWORD = 'exporter live test';
  const EXPORTER = '/usr/bin/prometheus-redis-exporter';

  interface Member {
    readonly ordinal: number;
    readonly pod: string;
    readonly port: number;
    readonly sentinelPort: number;
    readonly exporterPort: number;
    /** Where its ConfigMap files are (the pod's /etc/redis). */
    readonly config: string;
  }
  interface Proc { readonly name: string; readonly process: ChildProcess }
  let root: string;
  const members: Member[] = [];
  const running: Proc[] = [];
  const log = (name: string) => (existsSync(join(root, `${name}.log`)) ? readFileSync(join(root, `${name}.log`), 'utf8').split('\n').slice(-20).join('\n') : '(no log)');
  const logs = () => running.map((p) => `--- ${p.name}\n${log(p.name)}`).join('\n');
  const exited = (p: Proc) => p.process.exitCode !== null || p.process.signalCode !== null;

  /** A process with its output in <name>.log; killed by PID in afterAll. */
  function start(name: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv): Proc {
    const out = openSync(join(root, `${name}.log`), 'a');
    const child = spawn(command, args, { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', out, out] });
    closeSync(out);
    const proc = { name, process: child };
    running.push(proc);
    return proc;
  }

  /** The pod's environment for a container: its name and the password, as the StatefulSet gives them. */
  function podEnv(spec: K8sObject, m: Member): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const e of spec.env ?? []) {
      if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = m.pod;
      else if (e.valueFrom?.secretKeyRef?.name === redis.passwordSecret) env[e.name] = PASSWORD;
      // The exporter's address of its own pod's redis-server: this member's port instead of 6379.
      else if (e.name === 'REDIS_ADDR') env[e.name] = String(e.value).replace(`:${REDIS_PORT}`, `:${m.port}`);
      else throw new Error(`${spec.name}: the test does not provide ${JSON.stringify(e)}`);
    }
    return env;
  }

  /** The set's files rendered for loopback ports and directories here; everything else as production's. */
  function prepare(ports: number[]): void {
    const dir = mkdtempSync(join(root, 'set-'));
    const addresses: RedisMember[] = [0, 1, 2].map((i) => ({ host: '127.0.0.1', redisPort: ports[i], sentinelPort: ports[3 + i] }));
    for (const ordinal of [0, 1, 2]) {
      const base = join(dir, `member-${ordinal}`);
      const paths: RedisPaths = { config: join(base, 'etc'), data: join(base, 'data'), redisRuntime: join(base, 'run-redis'), sentinelRuntime: join(base, 'run-sentinel') };
      for (const p of Object.values(paths)) mkdirSync(p, { recursive: true });
      const files = redisSentinelConfigFiles({ ...props, members: addresses, bind: '127.0.0.1', paths });
      for (const [file, content] of Object.entries({ ...files, [REDIS_SCRIPT]: shipped[REDIS_SCRIPT] })) writeFileSync(join(paths.config, file), content);
      members.push({ ordinal, pod: `${redis.name}-${ordinal}`, port: ports[ordinal], sentinelPort: ports[3 + ordinal], exporterPort: ports[6 + ordinal], config: paths.config });
    }
  }

  /** The pod's command with the ConfigMap's mount replaced by the member's config directory. */
  const local = (m: Member, command: readonly string[]) => command.map((a) => (a.startsWith(`${props.paths.config}/`) ? m.config + a.slice(props.paths.config.length) : a));

  async function startSet(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      prepare(await listenPorts(9));
      for (const m of members) {
        for (const c of ['redis', 'sentinel'] as const) {
          const [command, ...args] = local(m, container(c).command);
          start(`${c}-${m.ordinal}`, command, args, podEnv(container(c), m));
        }
        start(`exporter-${m.ordinal}`, EXPORTER, [`-web.listen-address=127.0.0.1:${m.exporterPort}`], podEnv(container('exporter'), m));
      }
      const dead = await waitFor('every redis-server, sentinel and exporter to start', 20_000, async () => {
        const gone = running.filter(exited);
        if (gone.length > 0) return gone;
        const answering = await Promise.all(members.map((m) => fetch(`http://127.0.0.1:${m.exporterPort}/health`, { signal: AbortSignal.timeout(2_000) })
          .then((r) => r.ok, () => false)));
        return answering.every(Boolean) && [];
      }, { intervalMs: 100, context: logs });
      if (dead.length === 0) return;
      const message = dead.map((p) => `--- ${p.name} exited:\n${log(p.name)}`).join('\n');
      for (const p of running) if (!exited(p)) p.process.kill('SIGKILL');
      // The exporter says it in lower case ("bind: address already in use").
      if (!dead.some((p) => new RegExp(ADDRESS_IN_USE.source, 'i').test(log(p.name))) || attempt === 3) throw new Error(message);
      running.length = 0;
      members.length = 0;
    }
  }

  interface Scrape { readonly member: Member; readonly endpoint: string; readonly samples: readonly Sample[] }

  /** Every endpoint of the ServiceMonitor, on every member's exporter, as Prometheus requests it. */
  async function scrapeAll(): Promise<Scrape[]> {
    const scrapes: Promise<Scrape>[] = [];
    for (const m of members) {
      for (const e of monitor.spec.endpoints as K8sObject[]) {
        const url = new URL(`http://127.0.0.1:${m.exporterPort}${e.path}`);
        // The sentinel of the pod: this member's port instead of 26379.
        for (const [k, values] of Object.entries((e.params ?? {}) as Record<string, string[]>)) {
          for (const v of values) url.searchParams.append(k, v.replace(`:${SENTINEL_PORT}`, `:${m.sentinelPort}`));
        }
        scrapes.push(fetch(url, { signal: AbortSignal.timeout(10_000) }).then(async (r) => {
          if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
          return { member: m, endpoint: endpointLabel(e), samples: parseExposition(await r.text()) };
        }));
      }
    }
    return Promise.all(scrapes);
  }

  const value = (scrapes: readonly Scrape[], m: Member, endpoint: string, name: string, labels: Record<string, string> = {}) =>
    scrapes.find((x) => x.member === m && x.endpoint === endpoint)?.samples
      .find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v))?.value;

  let healthy: Scrape[];
  let afterKill: Scrape[];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'shipshape-redis-exporter-'));
    await startSet();
    const [master, ...replicas] = members;
    // The first start makes member 0 master; the sentinels find each other over the master within seconds.
    healthy = await waitFor('a master with two linked replicas and three sentinels with their quorum, as the exporters see them', 30_000, async () => {
      const scrapes = await scrapeAll();
      const ok = value(scrapes, master, 'metrics', 'redis_connected_slaves') === 2
        && replicas.every((r) => value(scrapes, r, 'metrics', 'redis_master_link_up') === 1)
        && members.every((m) => value(scrapes, m, 'sentinel', 'redis_sentinel_master_ckquorum_status', { master_name: redis.masterSet }) === 1);
      return ok && scrapes;
    }, { intervalMs: 250, context: logs, check: () => { for (const p of running) if (exited(p)) throw new Error(`${p.name} exited:\n${log(p.name)}`); } });
    const victim = running.find((p) => p.name === `redis-${replicas[1].ordinal}`)!;
    victim.process.kill('SIGKILL');
    afterKill = await waitFor('the master to lose the replica, and its exporter to report its redis-server down', 20_000, async () => {
      const scrapes = await scrapeAll();
      return value(scrapes, master, 'metrics', 'redis_connected_slaves') === 1 && value(scrapes, replicas[1], 'metrics', 'redis_up') === 0 && scrapes;
    }, { intervalMs: 250, context: logs });
  }, 90_000);

  afterAll(async () => {
    await Promise.all(running.map((p) => new Promise<void>((resolve) => {
      if (exited(p)) return resolve();
      const timer = setTimeout(resolve, 5_000);
      p.process.once('exit', () => { clearTimeout(timer); resolve(); });
      p.process.kill('SIGKILL');
    })));
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test('the exporter runs as the pod\'s container has it: its port, its address of redis-server, no other setting', () => {
    const exporter = container('exporter');
    expect(exporter.ports).toEqual([{ name: 'metrics', containerPort: REDIS_EXPORTER_PORT, protocol: 'TCP' }]);
    // Its default listen address is :9121, the port above.
    expect(REDIS_EXPORTER_PORT).toBe(9121);
    expect(exporter.args).toBeUndefined();
    expect(exporter.env.map((e: K8sObject) => e.name)).toEqual(['REDIS_ADDR', 'REDIS_PASSWORD']);
    expect(value(healthy, members[0], 'metrics', 'redis_memory_max_bytes')).toBe(parseRedisMemory(redisMaxmemory(production.data.redis!)));
  });

  test('every redis_* name the rules use is exposed (1.45 here exposes them all; each is in the v1.91.1 list too)', () => {
    const used = namesIn(rule);
    const exposed = new Set([...healthy, ...afterKill].flatMap((x) => x.samples.map((s) => s.name)));
    const listed = new Set(readFileSync(join(process.cwd(), 'test/fixtures/metrics/redis_exporter.txt'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#')));
    expect(used.length).toBeGreaterThan(5);
    expect(used.filter((n) => !exposed.has(n))).toEqual([]);
    expect(used.filter((n) => !listed.has(n))).toEqual([]);
    // The sentinel's names only through the sentinel's endpoint, redis-server's only through its own.
    expect(healthy.filter((x) => x.endpoint === 'sentinel').every((x) => x.samples.some((s) => s.name === 'redis_sentinel_master_ckquorum_status'))).toBe(true);
    expect(healthy.filter((x) => x.endpoint === 'metrics').some((x) => x.samples.some((s) => s.name.startsWith('redis_sentinel_')))).toBe(false);
  });

  test('the scraped values, as Prometheus labels them: healthy, every alert silent; a replica\'s redis-server killed, RedisDown fires after its 5 minutes', () => {
    const used = new Set(namesIn(rule));
    /** Each scrape's samples of the names the rules use, with the labels Prometheus adds (the ServiceMonitor's target labels). */
    const labelled = (scrapes: readonly Scrape[]) => new Map(scrapes.flatMap((x) => {
      const target = {
        namespace: NS, job: redis.headlessService, service: redis.headlessService, endpoint: x.endpoint,
        pod: x.member.pod, container: 'exporter', instance: `127.0.0.1:${x.member.exporterPort}`,
      };
      return x.samples.filter((s) => used.has(s.name) && Number.isFinite(s.value))
        .map((s) => [seriesName(s.name, { ...s.labels, ...target }), s.value] as const);
    }));
    const before = labelled(healthy);
    const after = labelled(afterKill);
    // Ten samples healthy (0 to 4m30s), then fourteen after the kill (5m to 11m30s); a series that
    // is gone from a scrape is marked stale at once, as Prometheus does.
    const input_series = [...new Set([...before.keys(), ...after.keys()])].map((series) => {
      const a = before.get(series);
      const b = after.get(series);
      const first = Array.from({ length: 10 }, () => (a === undefined ? '_' : String(a)));
      const then = Array.from({ length: 14 }, (_, i) => (b !== undefined ? String(b) : a !== undefined && i === 0 ? 'stale' : '_'));
      return { series, values: [...first, ...then].join(' ') };
    });
    const RUNBOOK = runbookUrl(repositoryFilesUrl(production.delivery.repoURL, production.delivery.targetRevision), 'RedisDown');
    const others = alertNames([rule]).filter((a) => a !== 'RedisDown');
    const r = testRules([rule], [{
      interval: '30s',
      input_series,
      alert_rule_test: [
        ...alertNames([rule]).map((a) => ({ eval_time: '4m30s', alertname: a, exp_alerts: [] })),
        ...others.map((a) => ({ eval_time: '11m', alertname: a, exp_alerts: [] })),
        { eval_time: '9m30s', alertname: 'RedisDown', exp_alerts: [] },
        {
          eval_time: '11m',
          alertname: 'RedisDown',
          exp_alerts: [{
            exp_labels: { severity: 'warning', namespace: NS, service: redis.name },
            exp_annotations: {
              summary: `Redis ${redis.name} runs with fewer than its 3 members`,
              description: `Only 2 of the 3 members of ${NS}/${redis.name} have answered their exporter for 5 minutes: one more loss and the sentinels can no longer fail over.`,
              runbook_url: RUNBOOK,
            },
          }],
        },
      ],
    }]);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });
});
