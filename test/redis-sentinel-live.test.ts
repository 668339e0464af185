/**
 * Redis Sentinel for real: production's synthesized ConfigMap and StatefulSet, run with Debian's
 * redis-server and redis-sentinel. Three members (a redis-server and a sentinel each, on 127.0.0.1
 * with distinct ports) start through the commands the pod's containers run, with the environment
 * the pod gives them, and are probed and stopped the way the kubelet does it.
 *
 * What differs from production is only what names places on this machine (member addresses, ports,
 * bind, directories) and one pure delay, Sentinel's failover-timeout (after a failed election the
 * next attempt waits twice that: 2 minutes as shipped). The first test proves that nothing else
 * differs and asserts production's values of what was replaced. Everything else runs as shipped,
 * down-after-milliseconds, min-replicas-*, the CLI timeouts and the pre-stop switchover included:
 *
 *   1. the members settle on member 0 as master with two replicas;
 *   2. with both replicas stopped (SIGSTOP), the master refuses writes once min-replicas-max-lag has
 *      passed, and takes them again when they resume;
 *   3. the sentinels agree (quorum 2), and the kubelet's probes pass;
 *   4. the master is killed with SIGKILL; a sentinel promotes a replica within a bounded time, and
 *      data both replicas acknowledged is readable on the new master;
 *   5. every member kept an AOF (the killed master's holds what it took seconds before); the killed
 *      member, started again, rejoins as a replica;
 *   6. pre-stop on the master holds the writes that arrive during the hand-over, asks for no
 *      promotion while a replica lacks acknowledged writes, has a replica promoted that holds every
 *      write the old master acknowledged, and the old master then stops on SIGTERM as the kubelet
 *      sends it, its held write failing with its connection.
 *
 * Every wait is bounded; every process is killed by PID in afterAll.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataEndpoints } from '../environments/model/names';
import { REDIS_PORT, SENTINEL_PORT } from '../environments/model/network';
import type { K8sObject } from '../pipeline/k8s-object';
import { RedisSentinel } from '../charts/data/redis-sentinel';
import {
  REDIS_CONF, REDIS_POD_PATHS, REDIS_SCRIPT, redisSentinelConfigFiles, SENTINEL_CONF, type RedisMember, type RedisPaths,
} from '../charts/data/redis-sentinel-config';
import { buildCharts, synthObjects } from '../pipeline/synth';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { RedisConnection, RedisError, type Reply } from './support/redis-connection';
import { only } from './support/synth-construct';

const [, productionEnv] = resolveEnvironments(environments, process.cwd());
const REDIS = dataEndpoints(productionEnv).redis;
const OBJECTS = synthObjects(productionEnv).map((o) => o.object);
/** Production's ConfigMap, as written to dist/production. */
const SHIPPED: Record<string, string> = only(OBJECTS, 'ConfigMap', REDIS.name).data;
const POD = only(OBJECTS, 'StatefulSet', REDIS.name).spec.template.spec;
const containerSpec = (name: string): K8sObject => POD.containers.find((c: K8sObject) => c.name === name);
/** The parameters the construct rendered production's ConfigMap from. */
const PROPS = buildCharts(productionEnv).flatMap((c) => c.node.findAll()).find((c): c is RedisSentinel => c instanceof RedisSentinel)!.configProps;
const SET = PROPS.masterSet;

/** Production's value of a setting: the first group of `pattern` in a shipped file. */
function shipped(file: string, pattern: RegExp): string {
  const match = pattern.exec(SHIPPED[file]);
  if (!match) throw new Error(`${file} of production's ConfigMap has no line matching ${pattern}`);
  return match[1];
}

const DOWN_AFTER_MS = Number(shipped(SENTINEL_CONF, /^sentinel down-after-milliseconds \S+ (\d+)$/m));
const MIN_REPLICAS_TO_WRITE = Number(shipped(REDIS_CONF, /^min-replicas-to-write (\d+)$/m));
const MIN_REPLICAS_MAX_LAG_S = Number(shipped(REDIS_CONF, /^min-replicas-max-lag (\d+)$/m));
const SWITCHOVER_TIMEOUT_S = Number(shipped(REDIS_SCRIPT, /^SWITCHOVER_TIMEOUT=(\d+)$/m));
const GRACE_PERIOD_S: number = POD.terminationGracePeriodSeconds;
/** Scaled from production's 60 s: it is how long a sentinel waits before it retries a failover that did not happen. */
const FAILOVER_TIMEOUT_MS = 4000;
/** A failover: down-after, then an election, which a split vote can make wait 2 × failover-timeout to retry. */
const FAILOVER_BOUND_MS = DOWN_AFTER_MS + 2 * FAILOVER_TIMEOUT_MS + 5_000;

/** A quote and a backslash: the script must escape both for redis.conf and sentinel.conf. */
const PASSWORD = 'Live test "pass\\word"';

interface Member {
  readonly ordinal: number;
  readonly paths: RedisPaths;
  readonly files: Record<string, string>;
  readonly port: number;
  readonly sentinelPort: number;
}
interface Proc { readonly name: string; readonly process: ChildProcess; stopping: boolean }

let work: string;
const m: Member[] = [];
const running: Proc[] = [];
/** Hooks and probes started: a failed test may leave one running. */
const execs: ChildProcess[] = [];

/** Ports nothing listens on right now (asked of the kernel, then released). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve(s));
  })));
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function log(name: string): string {
  const file = join(work, `${name}.log`);
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-30).join('\n') : '(no log)';
}

/** What the pod gives a container: its name (hence the ordinal) and the password, nothing else. */
function podEnv(container: K8sObject, ordinal: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
  for (const e of container.env ?? []) {
    if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = `${REDIS.name}-${ordinal}`;
    else if (e.valueFrom?.secretKeyRef?.name === REDIS.passwordSecret && e.valueFrom.secretKeyRef.key === 'password') env[e.name] = PASSWORD;
    else throw new Error(`${container.name}: the live test does not provide ${JSON.stringify(e)}`);
  }
  return env;
}

/** A command of the pod spec, with the ConfigMap's mount replaced by the member's config directory. */
function local(member: Member, command: readonly string[]): string[] {
  return command.map((arg) => arg.startsWith(`${PROPS.paths.config}/`) ? member.paths.config + arg.slice(PROPS.paths.config.length) : arg);
}

/** A container of a member, started with the pod's command; output to <container>-<ordinal>.log. */
function start(member: Member, container: 'redis' | 'sentinel'): Proc {
  const name = `${container}-${member.ordinal}`;
  const spec = containerSpec(container);
  const [command, ...args] = local(member, spec.command);
  // Straight to the file: a pipe that jest does not drain would stall the server writing its log.
  const out = openSync(join(work, `${name}.log`), 'a');
  const child = spawn(command, args, { env: podEnv(spec, member.ordinal), stdio: ['ignore', out, out] });
  closeSync(out);
  const proc = { name, process: child, stopping: false };
  running.push(proc);
  return proc;
}

/** The container's process now running (the last one started). */
const current = (member: Member, container: 'redis' | 'sentinel') => running.filter((p) => p.name === `${container}-${member.ordinal}`).at(-1)!;

interface Exec {
  /** What it printed so far. */
  readonly output: () => string;
  readonly done: Promise<{ status: number | null; output: string; ms: number }>;
}

/** An exec hook or probe of a container, as the kubelet runs it: killed after `timeoutMs`. */
function startExec(member: Member, container: string, command: readonly string[], timeoutMs: number): Exec {
  const [cmd, ...args] = local(member, command);
  const started = Date.now();
  const child = spawn(cmd, args, { env: podEnv(containerSpec(container), member.ordinal), stdio: ['ignore', 'pipe', 'pipe'] });
  execs.push(child);
  let output = '';
  child.stdout.on('data', (c: Buffer) => { output += c; });
  child.stderr.on('data', (c: Buffer) => { output += c; });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<{ status: number | null; output: string; ms: number }>((resolve) => {
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, output, ms: Date.now() - started }); });
  });
  return { output: () => output, done };
}

const exec = (member: Member, container: string, command: readonly string[], timeoutMs: number) => startExec(member, container, command, timeoutMs).done;

/** One command on a fresh connection; undefined when the server does not answer within 3 s. */
async function ask(port: number, ...args: (string | number)[]): Promise<Reply | undefined> {
  let connection: RedisConnection | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    connection = await RedisConnection.open(port, PASSWORD);
    const timeout = new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), 3_000); });
    // A reply after the timeout lands on a closed connection: caught, not left unhandled.
    return await Promise.race([connection.command(...args).catch(() => undefined), timeout]);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
    connection?.close();
  }
}

/** `INFO replication` as fields. */
async function info(port: number): Promise<Record<string, string>> {
  const reply = await ask(port, 'INFO', 'replication');
  if (typeof reply !== 'string') return {};
  return Object.fromEntries(reply.split('\r\n').filter((l) => l.includes(':')).map((l) => l.split(/:(.*)/s).slice(0, 2)));
}

/** A flat RESP array of alternating names and values (SENTINEL MASTER and REPLICAS) as fields. */
const fields = (reply: Reply | undefined): Record<string, string> => Array.isArray(reply)
  ? Object.fromEntries(Array.from({ length: reply.length / 2 }, (_, i) => [String(reply[2 * i]), String(reply[2 * i + 1])]))
  : {};

/** host:port of the master a sentinel names, or undefined. */
async function masterOf(sentinelPort: number): Promise<string | undefined> {
  const reply = await ask(sentinelPort, 'SENTINEL', 'get-master-addr-by-name', SET);
  return Array.isArray(reply) && reply.length === 2 ? reply.join(':') : undefined;
}

/** The master all three sentinels name, when they agree. */
async function agreedMaster(): Promise<string | undefined> {
  const named = await Promise.all(m.map((x) => masterOf(x.sentinelPort)));
  return named[0] !== undefined && named.every((n) => n === named[0]) ? named[0] : undefined;
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | false>, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const { name, process: p, stopping } of running) {
      const status = p.exitCode ?? p.signalCode;
      if (!stopping && status !== null) throw new Error(`${name} exited (${status}):\n${log(name)}`);
    }
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      const logs = [...new Set(running.map((r) => r.name))].map((n) => `--- ${n}\n${log(n)}`).join('\n');
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${logs}`);
    }
    await sleep(intervalMs);
  }
}

/** Stops a process on purpose, and waits for it to be gone. */
async function stop(proc: Proc, signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
  proc.stopping = true;
  let exited = proc.process.exitCode !== null || proc.process.signalCode !== null;
  proc.process.once('exit', () => { exited = true; });
  proc.process.kill(signal);
  await waitFor(`${proc.name} to exit after ${signal}`, timeoutMs, async () => exited);
}

/** The message of an error reply ('' for any other reply). */
const errorOf = (reply: Reply | undefined) => reply instanceof RedisError ? reply.message : '';

/** The member whose redis-server serves 127.0.0.1:<port>. */
const byPort = (port: number) => m.find((x) => x.port === port)!;
const address = (x: Member) => `127.0.0.1:${x.port}`;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'shipshape-redis-'));
  const ports = await freePorts(6);
  const members: RedisMember[] = [0, 1, 2].map((i) => ({ host: '127.0.0.1', redisPort: ports[i], sentinelPort: ports[3 + i] }));
  for (const ordinal of [0, 1, 2]) {
    const dir = join(work, `member-${ordinal}`);
    const paths: RedisPaths = {
      config: join(dir, 'etc'), data: join(dir, 'data'), redisRuntime: join(dir, 'run-redis'), sentinelRuntime: join(dir, 'run-sentinel'),
    };
    for (const p of Object.values(paths)) mkdirSync(p, { recursive: true });
    const files = redisSentinelConfigFiles({ ...PROPS, members, bind: '127.0.0.1', paths, failoverTimeoutMilliseconds: FAILOVER_TIMEOUT_MS });
    for (const [file, content] of Object.entries(files)) writeFileSync(join(paths.config, file), content);
    m.push({ ordinal, paths, files, port: members[ordinal].redisPort, sentinelPort: members[ordinal].sentinelPort });
  }
  // Like podManagementPolicy Parallel: every container of every member at once.
  for (const x of m) {
    start(x, 'redis');
    start(x, 'sentinel');
  }
});

afterAll(async () => {
  await Promise.all([...running.map((r) => r.process), ...execs].map((p) => new Promise<void>((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) return resolve();
    const timer = setTimeout(resolve, 5_000);
    p.once('exit', () => { clearTimeout(timer); resolve(); });
    p.kill('SIGKILL');
  })));
  if (work) rmSync(work, { recursive: true, force: true });
}, 15_000);

test('what runs here is production\'s ConfigMap, with only addresses, ports, directories and failover-timeout replaced', () => {
  expect(redisSentinelConfigFiles(PROPS)).toEqual(SHIPPED);
  // Line by line, each member's files differ from production's only in these lines.
  const replaced: Record<string, RegExp> = {
    [REDIS_CONF]: /^(bind|dir) /,
    [SENTINEL_CONF]: /^(bind|dir|sentinel failover-timeout) /,
    [REDIS_SCRIPT]: /^((CONFIG|REDIS_RUNTIME|SENTINEL_RUNTIME)_DIR=| {4}\d\) m_host=)/,
  };
  for (const x of m) {
    expect(Object.keys(x.files).sort()).toEqual(Object.keys(SHIPPED).sort());
    for (const [file, content] of Object.entries(x.files)) {
      const ours = content.split('\n');
      const theirs = SHIPPED[file].split('\n');
      expect(ours.length).toBe(theirs.length);
      const differing = theirs.flatMap((line, i) => line === ours[i] ? [] : [[line, ours[i]]]);
      expect(differing.filter(([a, b]) => !replaced[file].test(a) || !replaced[file].test(b))).toEqual([]);
    }
  }
  // Production's values of what was replaced: the pods' ports, every address, the pod's mounts, 60 s.
  const container = (name: string) => containerSpec(name).ports.map((p: K8sObject) => p.containerPort);
  expect([REDIS_PORT, SENTINEL_PORT]).toEqual([6379, 26379]);
  expect(container('redis')).toEqual([REDIS_PORT]);
  expect(container('sentinel')).toEqual([SENTINEL_PORT]);
  PROPS.members.forEach((member, i) => {
    const host = `${REDIS.name}-${i}.${REDIS.headlessService}.${productionEnv.app.namespace}.svc.cluster.local`;
    expect(member.host).toBe(host);
    expect(SHIPPED[REDIS_SCRIPT]).toContain(`    ${i}) m_host='${host}'; m_redis_port=6379; m_sentinel_port=26379;`);
  });
  expect(shipped(REDIS_CONF, /^bind (.*)$/m)).toBe('* -::*');
  expect(shipped(SENTINEL_CONF, /^bind (.*)$/m)).toBe('* -::*');
  expect(PROPS.paths).toEqual(REDIS_POD_PATHS);
  expect(REDIS_POD_PATHS).toEqual({ config: '/etc/redis', data: '/data', redisRuntime: '/run/redis', sentinelRuntime: '/run/sentinel' });
  expect(shipped(REDIS_CONF, /^dir (.*)$/m)).toBe('/data');
  expect(shipped(SENTINEL_CONF, /^dir (.*)$/m)).toBe('/run/sentinel');
  expect(shipped(REDIS_SCRIPT, /^CONFIG_DIR=(.*)$/m)).toBe("'/etc/redis'");
  expect(shipped(REDIS_SCRIPT, /^REDIS_RUNTIME_DIR=(.*)$/m)).toBe("'/run/redis'");
  expect(shipped(REDIS_SCRIPT, /^SENTINEL_RUNTIME_DIR=(.*)$/m)).toBe("'/run/sentinel'");
  expect(containerSpec('redis').volumeMounts).toContainEqual({ name: 'config', mountPath: '/etc/redis', readOnly: true });
  expect(shipped(SENTINEL_CONF, /^sentinel failover-timeout \S+ (\d+)$/m)).toBe('60000');
  // Run as shipped below; the bounds the tests wait within are derived from them.
  expect(DOWN_AFTER_MS).toBe(5000);
  expect(MIN_REPLICAS_TO_WRITE).toBe(1);
  expect(MIN_REPLICAS_MAX_LAG_S).toBe(10);
  expect(SWITCHOVER_TIMEOUT_S).toBe(20);
  expect(shipped(REDIS_SCRIPT, /^CLI_TIMEOUT=(\d+)$/m)).toBe('2');
});

test('the members settle on member 0 as master with two replicas', async () => {
  await waitFor('1 master with 2 replicas, both links up', 30_000, async () => {
    const roles = await Promise.all(m.map((x) => info(x.port)));
    return roles[0].role === 'master' && roles[0].connected_slaves === '2'
      && roles.slice(1).every((r) => r.role === 'slave' && r.master_port === String(m[0].port) && r.master_link_status === 'up');
  });
  expect(readFileSync(join(work, 'redis-0.log'), 'utf8')).toContain('bootstrapping with member 0');
}, 40_000);

test('a master whose replicas stop acknowledging refuses writes after min-replicas-max-lag, and takes them again when they resume', async () => {
  const master = await RedisConnection.open(m[0].port, PASSWORD);
  const replicas = [m[1], m[2]].map((x) => current(x, 'redis').process);
  try {
    // Run before the sentinels' test: the lag passes while they spend an INFO period (10 s) learning of each other.
    expect(await master.command('SET', 'cut-off:before', 'yes')).toBe('OK');
    // Acknowledged by both now: the lag counts from here.
    expect(await master.command('WAIT', 2, 5_000)).toBe(2);
    const stoppedAt = Date.now();
    for (const r of replicas) r.kill('SIGSTOP');
    let refusal: { reply: Reply; at: number };
    try {
      let n = 0;
      refusal = await waitFor('the master to refuse a write', (MIN_REPLICAS_MAX_LAG_S + 5) * 1000, async () => {
        const reply = await master.command('SET', `cut-off:${n++}`, 'yes');
        return reply !== 'OK' && { reply, at: Date.now() };
      }, 250);
    } finally {
      for (const r of replicas) r.kill('SIGCONT');
    }
    expect(errorOf(refusal.reply)).toMatch(/^NOREPLICAS /);
    // Not before: the lag is counted in whole seconds since the last acknowledgement.
    expect(refusal.at - stoppedAt).toBeGreaterThan((MIN_REPLICAS_MAX_LAG_S - 1) * 1000);
    await waitFor('the master to take writes again', 10_000, async () => (await master.command('SET', 'cut-off:after', 'yes')) === 'OK');
    expect(await master.command('WAIT', 2, 5_000)).toBe(2);
  } finally {
    master.close();
  }
}, 60_000);

test('the sentinels agree on the master, see each other and both replicas, and reach the quorum of 2', async () => {
  await waitFor('three sentinels agreeing, each knowing 2 other sentinels and 2 replicas', 30_000, async () => {
    if (await agreedMaster() !== address(m[0])) return false;
    const states = await Promise.all(m.map(async (x) => fields(await ask(x.sentinelPort, 'SENTINEL', 'MASTER', SET))));
    return states.every((s) => s['num-other-sentinels'] === '2' && s['num-slaves'] === '2');
  });
  for (const x of m) {
    expect(fields(await ask(x.sentinelPort, 'SENTINEL', 'MASTER', SET)).quorum).toBe('2');
    expect(await ask(x.sentinelPort, 'SENTINEL', 'CKQUORUM', SET)).toMatch(/^OK 3 usable Sentinels/);
  }
  // The sentinels demand the password too.
  const anonymous = await RedisConnection.open(m[0].sentinelPort);
  try {
    expect(errorOf(await anonymous.command('PING'))).toMatch(/^NOAUTH /);
  } finally {
    anonymous.close();
  }
}, 40_000);

test('the kubelet\'s probes pass on every member', async () => {
  for (const x of m) {
    for (const container of ['redis', 'sentinel']) {
      for (const kind of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        const probe = containerSpec(container)[kind];
        const r = await exec(x, container, probe.exec.command, probe.timeoutSeconds * 1000);
        const which = { member: x.ordinal, container, kind };
        expect({ ...which, status: r.status, output: r.output }).toEqual({ ...which, status: 0, output: '' });
      }
    }
  }
}, 60_000);

let newMaster: Member;

test('after SIGKILL of the master a sentinel promotes a replica, and data both replicas acknowledged is still there', async () => {
  const keys = Array.from({ length: 50 }, (_, i) => `session:${i}`);
  const old = await RedisConnection.open(m[0].port, PASSWORD);
  try {
    expect(await Promise.all(keys.map((k) => old.command('SET', k, `value of ${k}`)))).toEqual(keys.map(() => 'OK'));
    // WAIT counts what this connection wrote: whichever replica is promoted must hold it.
    expect(await old.command('WAIT', 2, 5_000)).toBe(2);
  } finally {
    old.close();
  }

  const killedAt = Date.now();
  await stop(current(m[0], 'redis'), 'SIGKILL', 5_000);
  const promoted = await waitFor('the sentinels to agree on a new master', FAILOVER_BOUND_MS, async () => {
    const agreed = await agreedMaster();
    return agreed !== undefined && agreed !== address(m[0]) ? agreed : undefined;
  });
  newMaster = byPort(Number(promoted.split(':')[1]));
  await waitFor('the promoted replica to run as master', 5_000, async () => (await info(newMaster.port)).role === 'master');
  expect(Date.now() - killedAt).toBeLessThan(FAILOVER_BOUND_MS);
  // The killed member is dead to the kubelet too.
  const liveness = containerSpec('redis').livenessProbe;
  expect((await exec(m[0], 'redis', liveness.exec.command, liveness.timeoutSeconds * 1000)).status).not.toBe(0);

  const connection = await RedisConnection.open(newMaster.port, PASSWORD);
  try {
    expect(await Promise.all(keys.map((k) => connection.command('GET', k)))).toEqual(keys.map((k) => `value of ${k}`));
    // And it takes writes once the other replica follows it (min-replicas-to-write 1).
    await waitFor('the new master to accept a write', 15_000, async () => (await connection.command('SET', 'after-failover', 'yes')) === 'OK');
  } finally {
    connection.close();
  }
}, FAILOVER_BOUND_MS + 40_000);

test('every member kept an append-only file, and the killed master\'s holds what it took seconds before', () => {
  for (const x of m) {
    const files = readdirSync(join(x.paths.data, 'appendonlydir'));
    expect(files).toContain('appendonly.aof.manifest');
    expect(files.some((f) => f.endsWith('.incr.aof'))).toBe(true);
  }
  const aofDir = join(m[0].paths.data, 'appendonlydir');
  const incr = readdirSync(aofDir).filter((f) => f.endsWith('.incr.aof')).map((f) => readFileSync(join(aofDir, f), 'utf8')).join('');
  // appendfsync everysec holds a write back for up to 2 s while an fsync is slow, so the writes of
  // the last moments before SIGKILL may be missing here (the replicas have them); this one was
  // taken more than min-replicas-max-lag seconds before.
  expect(incr).toContain('cut-off:before');
});

test('the killed member, started again, asks the sentinels and rejoins as a replica of the new master', async () => {
  start(m[0], 'redis');
  await waitFor('member 0 to replicate from the new master', 20_000, async () => {
    const r = await info(m[0].port);
    return r.role === 'slave' && r.master_port === String(newMaster.port) && r.master_link_status === 'up';
  });
  expect(readFileSync(join(work, 'redis-0.log'), 'utf8')).toContain(`starting as replica of ${address(newMaster)}`);
  expect(await ask(m[0].port, 'GET', 'after-failover')).toBe('yes');
  const readiness = containerSpec('redis').readinessProbe;
  expect(await exec(m[0], 'redis', readiness.exec.command, readiness.timeoutSeconds * 1000)).toMatchObject({ status: 0 });
}, 30_000);

interface Writer {
  /** Keys the master answered OK for. */
  readonly acknowledged: string[];
  /** The write sent and not answered yet. */
  pending?: { readonly key: string; readonly since: number };
  /** Why writing stopped: an error reply or the connection's end. */
  ended?: string;
  done?: Promise<void>;
}

/** A client writing one new key after another on one connection, as an application would. */
function startWriter(connection: RedisConnection, prefix: string): Writer {
  const writer: Writer = { acknowledged: [] };
  writer.done = (async () => {
    for (let i = 0; ; i++) {
      const key = `${prefix}:${i}`;
      writer.pending = { key, since: Date.now() };
      let reply: Reply;
      try {
        reply = await connection.command('SET', key, String(i));
      } catch (error) {
        writer.ended = (error as Error).message;
        return;
      }
      writer.pending = undefined;
      if (reply !== 'OK') {
        writer.ended = reply instanceof RedisError ? reply.message : String(reply);
        return;
      }
      writer.acknowledged.push(key);
      await sleep(2);
    }
  })();
  return writer;
}

test('pre-stop on the master holds writes, waits for a replica that is behind, has one holding every acknowledged write promoted, '
  + 'and the master then stops on SIGTERM', async () => {
  const old = newMaster;
  await waitFor('every sentinel to name the master and see its 2 replicas up', 30_000, async () => {
    if (await agreedMaster() !== address(old)) return false;
    const seen = await Promise.all(m.map(async (x) => {
      const reply = await ask(x.sentinelPort, 'SENTINEL', 'REPLICAS', SET);
      return Array.isArray(reply) ? reply.map(fields) : [];
    }));
    const replicas = await info(old.port);
    return replicas.connected_slaves === '2' && seen.every((r) => r.length === 2 && r.every((f) => f.flags === 'slave'));
  });

  const connection = await RedisConnection.open(old.port, PASSWORD);
  const writer = startWriter(connection, 'handover');
  try {
    await waitFor('the client to be writing', 5_000, async () => writer.acknowledged.length >= 20);
    // One replica falls behind (stopped for less than down-after, so the sentinels still count it).
    const behind = m.find((x) => x !== old)!;
    const preStop = containerSpec('redis').lifecycle.preStop.exec.command;
    let hook: Exec;
    current(behind, 'redis').process.kill('SIGSTOP');
    try {
      const from = writer.acknowledged.length;
      await waitFor('writes the stopped replica has not received', 5_000, async () => writer.acknowledged.length >= from + 20);
      hook = startExec(old, 'redis', preStop, GRACE_PERIOD_S * 1000);
      // Writes are held once pre-stop has paused them...
      await waitFor('the client\'s write to be held', 10_000, async () => writer.ended === undefined && writer.pending !== undefined
        && Date.now() - writer.pending.since > 300);
      const replication = await info(old.port);
      const offsets = Object.entries(replication).filter(([k]) => /^slave\d+$/.test(k)).map(([, v]) => Number(/offset=(\d+)/.exec(v)![1]));
      expect(Math.min(...offsets)).toBeLessThan(Number(replication.master_repl_offset));
      // ...and no sentinel is asked to promote anyone while a replica lacks some of the acknowledged writes
      // (a pre-stop that did not wait would ask within milliseconds of the pause).
      await sleep(1_000);
      expect(hook.output()).not.toMatch(/promoting/);
      expect(await masterOf(old.sentinelPort)).toBe(address(old));
    } finally {
      current(behind, 'redis').process.kill('SIGCONT');
    }
    const r = await hook.done;
    expect(r).toMatchObject({ status: 0 });
    expect(r.output).toMatch(/new master: 127\.0\.0\.1 \d+/);
    expect(r.output).not.toMatch(/still behind|no sentinel would fail over|no new master/);
    expect(r.ms).toBeLessThan(SWITCHOVER_TIMEOUT_S * 1000);

    // The write sent during the hand-over is held: neither done nor refused, still after a while.
    const held = writer.pending;
    const acknowledged = writer.acknowledged.length;
    expect({ held: held !== undefined, ended: writer.ended }).toEqual({ held: true, ended: undefined });
    await sleep(500);
    expect(writer.pending).toBe(held);
    expect(writer.acknowledged.length).toBe(acknowledged);

    // The kubelet stops the container once pre-stop returns: Redis shuts down, the held write fails with its connection.
    await stop(current(old, 'redis'), 'SIGTERM', (GRACE_PERIOD_S * 1000) - r.ms);
    await writer.done;
    expect(writer.ended).toMatch(/connection closed|ECONNRESET/);

    const successor = byPort(Number((await waitFor('every sentinel to name the successor', 10_000, async () => {
      const agreed = await agreedMaster();
      return agreed !== undefined && agreed !== address(old) ? agreed : undefined;
    })).split(':')[1]));
    await waitFor('the successor to run as master', 5_000, async () => (await info(successor.port)).role === 'master');
    const next = await RedisConnection.open(successor.port, PASSWORD);
    try {
      // No write the old master acknowledged is lost; the held one was never done.
      expect(await next.command('EXISTS', ...writer.acknowledged)).toBe(writer.acknowledged.length);
      expect(await next.command('EXISTS', held!.key)).toBe(0);
      // Its client, reconnected through the sentinels, writes on: the other replica follows the successor.
      await waitFor('the successor to accept a write', 15_000, async () => (await next.command('SET', 'after-handover', 'yes')) === 'OK');
    } finally {
      next.close();
    }

    // On a replica, pre-stop does nothing.
    const replica = m.find((x) => x !== old && x !== successor)!;
    expect(await exec(replica, 'redis', preStop, GRACE_PERIOD_S * 1000)).toMatchObject({ status: 0, output: '' });
  } finally {
    connection.close();
    await writer.done;
  }
}, 90_000);
