/**
 * What the Redis Sentinel set runs: `redis.conf`, a `sentinel.conf` template, and the POSIX sh
 * script (charts/data/scripts/redis-sentinel.sh, shipped as it is) that starts either process,
 * answers the probes and hands mastership over before a stop, with its settings
 * (`redis-sentinel.env`: the members and timeouts). The generated files are a pure function of their
 * parameters and the script is the shipped file, so the construct renders them into the ConfigMap
 * with the cluster's host names and ports, and the live test renders the very same files with
 * loopback addresses and separate directories, and runs them with real redis-server and
 * redis-sentinel.
 *
 * Secrets never appear here: the script writes the password from the environment into files on a
 * memory-backed emptyDir when a process starts.
 */
import { createHash } from 'node:crypto';
import type { RedisEndpoints } from '../../environments/model/names';
import { REDIS_PORT, SENTINEL_PORT } from '../../environments/model/network';
import { redisMaxmemory } from '../../environments/model/redis-memory';
import type { Environment } from '../../environments/schema';
import { readScript } from '../common/shipped-files';

/** Sentinels that must agree a master is down before a failover: a majority of three. */
export const SENTINEL_QUORUM = 2;

/**
 * Replicas a master needs connected (and at most min-replicas-max-lag behind) to take writes: one,
 * so a master cut off from every replica stops taking writes (the Redis alerts page on it too).
 */
export const MIN_REPLICAS_TO_WRITE = 1;

/** One member of the set: a redis-server and a sentinel, addressed as the other members see them. */
export interface RedisMember {
  /** Stable address: the pod's DNS name under the headless Service (never its IP, which changes). */
  readonly host: string;
  readonly redisPort: number;
  readonly sentinelPort: number;
}

/** Where each process finds and keeps its files. */
export interface RedisPaths {
  /** The ConfigMap's mount (read-only). */
  readonly config: string;
  /** Redis data: AOF and RDB (the volume claim template). */
  readonly data: string;
  /** Writable, memory-backed: the redis-server config made at start (it holds the password). */
  readonly redisRuntime: string;
  /** Writable, memory-backed: the sentinel config, which Sentinel rewrites as it learns. */
  readonly sentinelRuntime: string;
}

export interface RedisSentinelConfigProps {
  /** Sentinel master set name: what clients ask the sentinels for. */
  readonly masterSet: string;
  /** Members in ordinal order: member N runs in the pod whose name ends in `-N`. */
  readonly members: readonly RedisMember[];
  /** Sentinels that must agree before a failover. */
  readonly quorum: number;
  /** Redis `bind` of both processes. */
  readonly bind: string;
  readonly paths: RedisPaths;
  /** Redis `maxmemory` (e.g. 384mb). */
  readonly maxmemory: string;
  /** Redis `maxmemory-policy`. */
  readonly maxmemoryPolicy: string;
  /** How long a master must be unreachable before a sentinel calls it down. */
  readonly downAfterMilliseconds: number;
  /** Sentinel `failover-timeout`: also the pause before the same master is failed over again. */
  readonly failoverTimeoutMilliseconds: number;
  /** Upper bound of one redis-cli call the script makes (discovery, probes). */
  readonly cliTimeoutSeconds: number;
  /** How long a starting sentinel waits for the master's host name to resolve. */
  readonly resolveTimeoutSeconds: number;
  /**
   * How long a stopping master holds writes back (CLIENT PAUSE) while the sentinels promote a replica
   * in its place: pre-stop never outlasts it, and never asks for a failover once it has passed.
   */
  readonly switchoverTimeoutSeconds: number;
}

/** Mount points in the pod. */
export const REDIS_POD_PATHS: RedisPaths = {
  config: '/etc/redis',
  data: '/data',
  redisRuntime: '/run/redis',
  sentinelRuntime: '/run/sentinel',
};

/** ConfigMap keys. */
export const REDIS_CONF = 'redis.conf';
export const SENTINEL_CONF = 'sentinel.conf';
export const REDIS_SCRIPT = 'redis-sentinel.sh';
export const REDIS_SETTINGS = 'redis-sentinel.env';
/** The shipped script's folder, relative to the repository root. */
export const REDIS_SCRIPTS_FOLDER = 'charts/data/scripts';

/** Redis as configured, defaults applied. */
export type RedisConfig = NonNullable<Environment['data']['redis']>;

/** The production parameters: the members' DNS names, the standard ports, the pod's paths. */
export function redisSentinelConfigProps(redis: RedisEndpoints, config: RedisConfig): RedisSentinelConfigProps {
  return {
    masterSet: redis.masterSet,
    members: redis.memberHosts.map((host) => ({ host, redisPort: REDIS_PORT, sentinelPort: SENTINEL_PORT })),
    quorum: SENTINEL_QUORUM,
    // Every address of the pod, IPv6 only where the node has it; the NetworkPolicy decides who may connect.
    bind: '* -::*',
    paths: REDIS_POD_PATHS,
    maxmemory: redisMaxmemory(config),
    maxmemoryPolicy: config.maxmemoryPolicy,
    // Long enough to ride out a slow fork or a short network blip, short enough that a lost node
    // costs seconds of writes, not minutes.
    downAfterMilliseconds: 5000,
    failoverTimeoutMilliseconds: 60000,
    cliTimeoutSeconds: 2,
    resolveTimeoutSeconds: 120,
    switchoverTimeoutSeconds: 20,
  };
}

/** Sentinel run id of a member: fixed, so a restarted sentinel is the same peer to the others, not a stale one plus a new one. */
export function sentinelId(masterSet: string, ordinal: number): string {
  return createHash('sha1').update(`shipshape/${masterSet}/sentinel-${ordinal}`).digest('hex');
}

/**
 * How long pre-stop waits, with writes paused, for the replicas to acknowledge every write before it
 * asks for a failover anyway: half of down-after-milliseconds, in whole seconds. Under CLIENT PAUSE
 * WRITE a sentinel's hello PUBLISH to the master blocks, and its PINGs on the same connection queue
 * behind it: from then on (within 2 s of the pause) the master looks unreachable to that sentinel,
 * which calls it down after down-after-milliseconds and starts a failover of its own. Half leaves
 * the other half for asking and for the promotion to begin before that can happen.
 */
export function catchUpTimeoutSeconds(props: Pick<RedisSentinelConfigProps, 'downAfterMilliseconds'>): number {
  return Math.max(1, Math.floor(props.downAfterMilliseconds / 2 / 1000));
}

/** A value the script receives as a single-quoted sh word. */
function shQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

function check(props: RedisSentinelConfigProps): void {
  const word = /^[A-Za-z0-9._:-]+$/;
  if (props.members.length < 3) throw new Error('Redis Sentinel needs at least 3 members for a quorum that survives the loss of one');
  if (props.quorum < 1 || props.quorum > props.members.length) throw new Error(`quorum ${props.quorum} is not between 1 and ${props.members.length}`);
  for (const m of props.members) if (!word.test(m.host)) throw new Error(`member host ${JSON.stringify(m.host)} is not a host name or address`);
  if (!word.test(props.masterSet)) throw new Error(`master set ${JSON.stringify(props.masterSet)} is not a plain name`);
  for (const p of Object.values(props.paths)) if (!/^\/[A-Za-z0-9._/-]*$/.test(p)) throw new Error(`path ${JSON.stringify(p)} is not a plain absolute path`);
  const catchUp = catchUpTimeoutSeconds(props);
  if (catchUp * 2000 > props.downAfterMilliseconds) {
    throw new Error(`down-after-milliseconds ${props.downAfterMilliseconds} leaves pre-stop less than 1 s to wait for the replicas (it waits half of it)`);
  }
  if (props.switchoverTimeoutSeconds <= catchUp + props.cliTimeoutSeconds) {
    throw new Error(`switchover timeout ${props.switchoverTimeoutSeconds} s leaves no time to ask for a failover after the replicas' ${catchUp} s`);
  }
}

/** `redis.conf`: everything but what differs per member or is secret (the script adds those). */
function redisConf(p: RedisSentinelConfigProps): string {
  return `# Generated by shipshape (charts/data/redis-sentinel-config.ts). The start script includes this
# file and adds the member's port and announced name, the password and, on a replica, replicaof.
bind ${p.bind}
protected-mode yes
daemonize no
logfile ""
loglevel notice
dir ${p.paths.data}

# Persistence: the AOF, fsynced every second, loses at most about 2 s of writes when a pod dies
# (while an fsync is slow, Redis holds the next write back for up to 2 s); the replicas hold them.
# The RDB preamble keeps rewrites compact. Snapshots beside it give backups a single file to copy.
appendonly yes
appendfsync everysec
aof-use-rdb-preamble yes
save 3600 1 300 100 60 10000

# Memory: evict by policy before the container's memory limit is reached.
maxmemory ${p.maxmemory}
maxmemory-policy ${p.maxmemoryPolicy}

# Replication. A master cut off from every replica stops taking writes after 10 s, which bounds
# what a partitioned old master can accept and lose once Sentinel has promoted another member.
replica-read-only yes
replica-serve-stale-data yes
min-replicas-to-write ${MIN_REPLICAS_TO_WRITE}
min-replicas-max-lag 10
# Full syncs stream the RDB over the socket. They start after a second, or at once when every
# replica of the set is waiting, not after the default 5 s kept for sets with many replicas.
repl-diskless-sync yes
repl-diskless-sync-delay 1
repl-diskless-sync-max-replicas ${p.members.length - 1}

# Shutdown on SIGTERM waits up to 10 s for replicas to catch up, then writes the AOF out.
shutdown-timeout 10
tcp-keepalive 60
`;
}

/** `sentinel.conf` template: @UPPERCASE@ words are filled in per member by the start script. */
function sentinelConf(p: RedisSentinelConfigProps): string {
  const set = p.masterSet;
  return `# Generated by shipshape (charts/data/redis-sentinel-config.ts). A template: the start script
# copies it to a writable directory (Sentinel rewrites its config as it learns), fills in the
# @WORDS@ and appends the passwords.
port @SENTINEL_PORT@
bind ${p.bind}
daemonize no
logfile ""
dir ${p.paths.sentinelRuntime}

# Members are known by their stable DNS names, never by pod IPs, so a failover survives pods
# coming back with new addresses.
sentinel resolve-hostnames yes
sentinel announce-hostnames yes
sentinel announce-ip @ANNOUNCE_HOST@
sentinel announce-port @SENTINEL_PORT@
sentinel myid @SENTINEL_ID@

sentinel monitor ${set} @MASTER_HOST@ @MASTER_PORT@ ${p.quorum}
sentinel down-after-milliseconds ${set} ${p.downAfterMilliseconds}
sentinel failover-timeout ${set} ${p.failoverTimeoutMilliseconds}
sentinel parallel-syncs ${set} 1
`;
}

/**
 * `redis-sentinel.env`: what the shipped script (charts/data/scripts/redis-sentinel.sh) needs to know
 * of this set, sourced by it: the master set, each member's address and sentinel id, the runtime
 * directories and the timeouts. The only part of the script that is generated.
 */
function settings(p: RedisSentinelConfigProps): string {
  const members = p.members.map((m, i) =>
    `    ${i}) m_host=${shQuote(m.host)}; m_redis_port=${m.redisPort}; m_sentinel_port=${m.sentinelPort}; m_sentinel_id=${sentinelId(p.masterSet, i)} ;;`).join('\n');
  return `# Generated by shipshape (charts/data/redis-sentinel-config.ts) for redis-sentinel.sh, which
# sources it: this set's members and timeouts.
MASTER_SET=${shQuote(p.masterSet)}
MEMBERS='${p.members.map((_, i) => i).join(' ')}'
REDIS_DATA_DIR=${shQuote(p.paths.data)}
REDIS_RUNTIME_DIR=${shQuote(p.paths.redisRuntime)}
SENTINEL_RUNTIME_DIR=${shQuote(p.paths.sentinelRuntime)}
CLI_TIMEOUT=${p.cliTimeoutSeconds}
RESOLVE_TIMEOUT=${p.resolveTimeoutSeconds}
SWITCHOVER_TIMEOUT=${p.switchoverTimeoutSeconds}
CATCHUP_TIMEOUT=${catchUpTimeoutSeconds(p)}

# member <ordinal>: sets m_host, m_redis_port, m_sentinel_port and m_sentinel_id.
member() {
  case "$1" in
${members}
    *) return 1 ;;
  esac
}
`;
}

export function redisSentinelConfigFiles(props: RedisSentinelConfigProps): Record<string, string> {
  check(props);
  return {
    [REDIS_CONF]: redisConf(props),
    [REDIS_SETTINGS]: settings(props),
    [REDIS_SCRIPT]: readScript(REDIS_SCRIPTS_FOLDER, REDIS_SCRIPT),
    [SENTINEL_CONF]: sentinelConf(props),
  };
}
