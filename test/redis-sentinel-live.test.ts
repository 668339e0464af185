/**
 * Redis Sentinel for real: the files the construct puts in the staging ConfigMap, rendered by the
 * same builder with loopback addresses, a directory per member and short timings, run with
 * Debian's redis-server and redis-sentinel. Three members (a redis-server and a sentinel each, on
 * 127.0.0.1 with distinct ports) start through the script the pods run, exactly as the pods would:
 *
 *   1. they settle on member 0 as master with two replicas, and the sentinels agree (quorum 2);
 *   2. the probes the kubelet runs pass;
 *   3. the master is killed with SIGKILL; a sentinel promotes a replica within a bounded time, and
 *      data written before (acknowledged by a replica with WAIT) is readable on the new master;
 *   4. every member kept an AOF;
 *   5. the killed member, started again, asks the sentinels and rejoins as a replica;
 *   6. pre-stop on the master pauses its writes and hands over to a replica before it would stop.
 *
 * Every wait is bounded; every process is killed by PID in afterAll.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Chart, Testing } from 'cdk8s';
import { RedisSentinel } from '../charts/data/redis-sentinel';
import {
  REDIS_SCRIPT, redisSentinelConfigFiles, redisSentinelConfigProps, type RedisMember, type RedisSentinelConfigProps,
} from '../charts/data/redis-sentinel-config';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';

const [staging] = resolveEnvironments(environments, process.cwd());
const STAGING = redisSentinelConfigProps(staging);
const SET = STAGING.masterSet;
/** A quote and a backslash: the script must escape both for redis.conf and sentinel.conf. */
const PASSWORD = 'Live test "pass\\word"';
/** Scaled-down Sentinel timings: the same mechanism as staging's 5 s / 60 s, in seconds. */
const DOWN_AFTER_MS = 1000;
const FAILOVER_TIMEOUT_MS = 4000;
/** The bound on a failover here: down-after, the election and the promotion, with room to spare. */
const FAILOVER_BOUND_MS = 10_000;

let work: string;
let members: RedisMember[];
const running: { name: string; process: ChildProcess }[] = [];

interface Member {
  readonly ordinal: number;
  readonly dir: string;
  readonly script: string;
  readonly port: number;
  readonly sentinelPort: number;
  readonly env: NodeJS.ProcessEnv;
}
const m: Member[] = [];

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

function log(name: string): string {
  const file = join(work, `${name}.log`);
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-30).join('\n') : '(no log)';
}

/** `sh <script> <args>` of a member, as the container command runs it; output to <name>.log. */
function start(member: Member, what: 'redis' | 'sentinel'): ChildProcess {
  const name = `${what}-${member.ordinal}`;
  const child = spawn('sh', [member.script, what], { env: member.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const file = join(work, `${name}.log`);
  child.stdout?.on('data', (chunk: Buffer) => appendFileSync(file, chunk));
  child.stderr?.on('data', (chunk: Buffer) => appendFileSync(file, chunk));
  running.push({ name, process: child });
  return child;
}

/** One redis-cli call against 127.0.0.1:<port>; raw output, trimmed ('' when it fails). */
function cli(port: number, ...args: string[]): string {
  const r = spawnSync('redis-cli', ['--no-auth-warning', '-h', '127.0.0.1', '-p', String(port), ...args], {
    encoding: 'utf8', timeout: 3_000, env: { PATH: process.env.PATH, REDISCLI_AUTH: PASSWORD },
  });
  return r.status === 0 ? r.stdout.replaceAll('\r', '').trim() : '';
}

/** The script's own subcommands (probes, pre-stop) for a member; exit status and output. */
function script(member: Member, ...args: string[]): { status: number | null; output: string } {
  const r = spawnSync('sh', [member.script, ...args], { encoding: 'utf8', timeout: 30_000, env: member.env });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

function info(port: number): Record<string, string> {
  return Object.fromEntries(cli(port, 'INFO', 'replication').split('\n').filter((l) => l.includes(':')).map((l) => l.split(/:(.*)/s).slice(0, 2)));
}

const masterOf = (sentinelPort: number) => cli(sentinelPort, 'SENTINEL', 'get-master-addr-by-name', SET).split('\n').join(':');

async function waitFor<T>(what: string, timeoutMs: number, probe: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const { name, process: p } of running) {
      if (p.exitCode !== null && p.exitCode !== 0) throw new Error(`${name} exited with ${p.exitCode}:\n${log(name)}`);
    }
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${running.map(({ name }) => `--- ${name}\n${log(name)}`).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The member whose redis-server serves 127.0.0.1:<port>. */
const byPort = (port: number) => m.find((x) => x.port === port)!;
const address = (x: Member) => `127.0.0.1:${x.port}`;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'shipshape-redis-'));
  const ports = await freePorts(6);
  members = [0, 1, 2].map((i) => ({ host: '127.0.0.1', redisPort: ports[i], sentinelPort: ports[3 + i] }));
  for (const ordinal of [0, 1, 2]) {
    const dir = join(work, `member-${ordinal}`);
    const paths = { config: join(dir, 'etc'), data: join(dir, 'data'), redisRuntime: join(dir, 'run-redis'), sentinelRuntime: join(dir, 'run-sentinel') };
    for (const p of Object.values(paths)) mkdirSync(p, { recursive: true });
    // Staging's parameters; only addresses, directories and timings differ.
    const props: RedisSentinelConfigProps = {
      ...STAGING,
      members,
      bind: '127.0.0.1',
      paths,
      downAfterMilliseconds: DOWN_AFTER_MS,
      failoverTimeoutMilliseconds: FAILOVER_TIMEOUT_MS,
      cliTimeoutSeconds: 1,
      resolveTimeoutSeconds: 5,
      switchoverTimeoutSeconds: 10,
    };
    for (const [file, content] of Object.entries(redisSentinelConfigFiles(props))) writeFileSync(join(paths.config, file), content);
    m.push({
      ordinal,
      dir,
      script: join(paths.config, REDIS_SCRIPT),
      port: members[ordinal].redisPort,
      sentinelPort: members[ordinal].sentinelPort,
      // What the pod gives each container: its name (the ordinal) and the password.
      env: { PATH: process.env.PATH, POD_NAME: `${staging.app.name}-redis-${ordinal}`, REDIS_PASSWORD: PASSWORD },
    });
  }
  // Like podManagementPolicy Parallel: every process of every member at once.
  for (const x of m) {
    start(x, 'redis');
    start(x, 'sentinel');
  }
});

afterAll(async () => {
  await Promise.all(running.map(({ process: p }) => new Promise<void>((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) return resolve();
    const timer = setTimeout(resolve, 5_000);
    p.once('exit', () => { clearTimeout(timer); resolve(); });
    p.kill('SIGKILL');
  })));
  if (work) rmSync(work, { recursive: true, force: true });
}, 15_000);

test('the staging ConfigMap is what the builder renders from staging\'s parameters', () => {
  const chart = new Chart(Testing.app({ outdir: 'unused' }), 'test', { disableResourceNameHashes: true });
  new RedisSentinel(chart, 'redis', { env: staging });
  const configMap = Testing.synth(chart).find((o) => o.kind === 'ConfigMap');
  expect(configMap.data).toEqual(redisSentinelConfigFiles(STAGING));
});

test('the members settle on member 0 as master with two replicas', async () => {
  await waitFor('1 master with 2 replicas, both links up', 15_000, () => {
    const roles = m.map((x) => info(x.port));
    return roles[0].role === 'master' && roles[0].connected_slaves === '2'
      && roles.slice(1).every((r) => r.role === 'slave' && r.master_port === String(m[0].port) && r.master_link_status === 'up');
  });
  expect(readFileSync(join(work, 'redis-0.log'), 'utf8')).toContain('bootstrapping with member 0');
});

test('the sentinels agree on the master, see each other and both replicas, and reach the quorum of 2', async () => {
  await waitFor('three sentinels agreeing, each knowing 2 other sentinels and 2 replicas', 20_000, () => m.every((x) => {
    const master = cli(x.sentinelPort, 'SENTINEL', 'MASTER', SET).split('\n');
    const field = (k: string) => master[master.indexOf(k) + 1];
    return masterOf(x.sentinelPort) === address(m[0]) && field('num-other-sentinels') === '2' && field('num-slaves') === '2';
  }));
  for (const x of m) {
    const master = cli(x.sentinelPort, 'SENTINEL', 'MASTER', SET).split('\n');
    expect(master[master.indexOf('quorum') + 1]).toBe('2');
    expect(cli(x.sentinelPort, 'SENTINEL', 'CKQUORUM', SET)).toMatch(/^OK 3 usable Sentinels/);
  }
  // The sentinels demand the password too.
  const anonymous = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(m[0].sentinelPort), 'PING'], { encoding: 'utf8', timeout: 3_000, env: { PATH: process.env.PATH } });
  expect(anonymous.stdout).toMatch(/NOAUTH/);
});

test('the kubelet\'s probes pass on every member', () => {
  for (const x of m) {
    for (const p of ['redis-alive', 'redis-ready', 'sentinel-alive', 'sentinel-ready']) {
      expect({ member: x.ordinal, probe: p, ...script(x, 'probe', p) }).toMatchObject({ status: 0 });
    }
  }
});

let newMaster: Member;

test('after SIGKILL of the master a sentinel promotes a replica, and data written before is still there', async () => {
  const keys = Array.from({ length: 50 }, (_, i) => `session:${i}`);
  for (const k of keys) expect(cli(m[0].port, 'SET', k, `value of ${k}`)).toBe('OK');
  // Acknowledged by at least one replica: what a failover must not lose.
  expect(Number(cli(m[0].port, 'WAIT', '1', '2000'))).toBeGreaterThanOrEqual(1);

  const killedAt = Date.now();
  running.find((r) => r.name === 'redis-0')!.process.kill('SIGKILL');
  const promoted = await waitFor('the sentinels to agree on a new master', FAILOVER_BOUND_MS, () => {
    const seen = new Set(m.map((x) => masterOf(x.sentinelPort)));
    const [only] = [...seen];
    return seen.size === 1 && only !== address(m[0]) && only.startsWith('127.0.0.1:') ? only : undefined;
  });
  newMaster = byPort(Number(promoted.split(':')[1]));
  await waitFor('the promoted replica to run as master', 5_000, () => info(newMaster.port).role === 'master');
  expect(Date.now() - killedAt).toBeLessThan(FAILOVER_BOUND_MS);
  // The killed member is dead to the kubelet too.
  expect(script(m[0], 'probe', 'redis-alive').status).not.toBe(0);

  for (const k of keys) expect(cli(newMaster.port, 'GET', k)).toBe(`value of ${k}`);
  // And it takes writes once the other replica follows it (min-replicas-to-write 1).
  await waitFor('the new master to accept a write', 10_000, () => cli(newMaster.port, 'SET', 'after-failover', 'yes') === 'OK');
});

test('every member kept an append-only file, and the killed master\'s has the writes', () => {
  for (const x of m) {
    const aofDir = join(x.dir, 'data', 'appendonlydir');
    const files = readdirSync(aofDir);
    expect(files).toContain('appendonly.aof.manifest');
    expect(files.some((f) => f.endsWith('.incr.aof'))).toBe(true);
  }
  const aofDir = join(m[0].dir, 'data', 'appendonlydir');
  const incr = readdirSync(aofDir).filter((f) => f.endsWith('.incr.aof')).map((f) => readFileSync(join(aofDir, f), 'utf8')).join('');
  expect(incr).toContain('session:49');
});

test('the killed member, started again, asks the sentinels and rejoins as a replica of the new master', async () => {
  start(m[0], 'redis');
  await waitFor('member 0 to replicate from the new master', 10_000, () => {
    const r = info(m[0].port);
    return r.role === 'slave' && r.master_port === String(newMaster.port) && r.master_link_status === 'up';
  });
  expect(readFileSync(join(work, 'redis-0.log'), 'utf8')).toContain(`starting as replica of ${address(newMaster)}`);
  expect(cli(m[0].port, 'GET', 'after-failover')).toBe('yes');
  expect(script(m[0], 'probe', 'redis-ready').status).toBe(0);
});

test('pre-stop on the master has a replica promoted before the master stops', async () => {
  await waitFor('the sentinels to see both replicas of the new master', 10_000, () => m.every((x) => {
    const master = cli(x.sentinelPort, 'SENTINEL', 'MASTER', SET).split('\n');
    return master[master.indexOf('num-slaves') + 1] === '2' && info(x.port).master_link_status !== 'down';
  }));
  // Written just before the hand-over, without WAIT: pre-stop pauses writes before the failover,
  // so the promoted replica has it.
  expect(cli(newMaster.port, 'SET', 'before-switchover', 'kept')).toBe('OK');
  const started = Date.now();
  const r = script(newMaster, 'pre-stop');
  expect(r).toMatchObject({ status: 0 });
  expect(r.output).toMatch(/new master: 127\.0\.0\.1 \d+/);
  expect(Date.now() - started).toBeLessThan(10_000);
  const after = new Set(m.map((x) => masterOf(x.sentinelPort)));
  expect(after.size).toBe(1);
  expect([...after][0]).not.toBe(address(newMaster));
  const successor = byPort(Number([...after][0].split(':')[1]));
  await waitFor('the successor to run as master', 5_000, () => info(successor.port).role === 'master');
  expect(cli(successor.port, 'GET', 'before-switchover')).toBe('kept');
  // The stopping master takes no more writes: they wait (paused) or are refused (now a replica).
  expect(cli(newMaster.port, 'SET', 'too-late', 'lost')).not.toBe('OK');
  // On a replica, pre-stop does nothing.
  const replica = m.find((x) => x !== newMaster && address(x) !== [...after][0])!;
  expect(script(replica, 'pre-stop')).toMatchObject({ status: 0, output: '' });
});
