/**
 * What the Redis Sentinel set runs: `redis.conf`, a `sentinel.conf` template and one POSIX sh script
 * that starts either process, answers the probes and hands mastership over before a stop. It is a
 * pure function of its parameters, so the construct renders it into the ConfigMap with the
 * cluster's host names and ports, and the live test renders the very same files with loopback
 * addresses, separate directories and short timings, and runs them with real redis-server and
 * redis-sentinel.
 *
 * Secrets never appear here: the script writes the password from the environment into files on a
 * memory-backed emptyDir when a process starts.
 */
import { createHash } from 'node:crypto';
import type { Environment } from '../../environments/schema';
import { dataEndpoints, REDIS_REPLICAS } from '../../environments/model/names';
import { REDIS_PORT, SENTINEL_PORT } from '../../environments/model/network';

/** Sentinels that must agree a master is down before a failover: a majority of three. */
export const SENTINEL_QUORUM = 2;

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

/** The production parameters of an environment: pod DNS names, standard ports, pod paths. */
export function redisSentinelConfigProps(env: Environment): RedisSentinelConfigProps {
  const redis = dataEndpoints(env).redis;
  return {
    masterSet: redis.masterSet,
    members: Array.from({ length: REDIS_REPLICAS }, (_, i) => ({
      host: `${redis.name}-${i}.${redis.headlessService}.${env.app.namespace}.svc.cluster.local`,
      redisPort: REDIS_PORT,
      sentinelPort: SENTINEL_PORT,
    })),
    quorum: SENTINEL_QUORUM,
    // Every address of the pod, IPv6 only where the node has it; the NetworkPolicy decides who may connect.
    bind: '* -::*',
    paths: REDIS_POD_PATHS,
    maxmemory: env.data.redis.maxmemory,
    maxmemoryPolicy: env.data.redis.maxmemoryPolicy,
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
min-replicas-to-write 1
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

/** The start, probe and pre-stop script (POSIX sh: the image's /bin/sh is dash). */
function script(p: RedisSentinelConfigProps): string {
  const members = p.members.map((m, i) =>
    `    ${i}) m_host=${shQuote(m.host)}; m_redis_port=${m.redisPort}; m_sentinel_port=${m.sentinelPort}; m_sentinel_id=${sentinelId(p.masterSet, i)} ;;`).join('\n');
  return `#!/bin/sh
# Generated by shipshape (charts/data/redis-sentinel-config.ts): starts redis-server or
# redis-sentinel for the member this pod is, answers the kubelet's probes, and hands mastership
# over before a master stops.
#
#   redis-sentinel.sh redis | sentinel | probe <redis-alive|redis-ready|sentinel-alive|sentinel-ready> | pre-stop
#
# Needs POD_NAME (<statefulset>-<ordinal>) and REDIS_PASSWORD in the environment.
set -eu

MASTER_SET=${shQuote(p.masterSet)}
MEMBERS='${p.members.map((_, i) => i).join(' ')}'
CONFIG_DIR=${shQuote(p.paths.config)}
REDIS_RUNTIME_DIR=${shQuote(p.paths.redisRuntime)}
SENTINEL_RUNTIME_DIR=${shQuote(p.paths.sentinelRuntime)}
CLI_TIMEOUT=${p.cliTimeoutSeconds}
RESOLVE_TIMEOUT=${p.resolveTimeoutSeconds}
SWITCHOVER_TIMEOUT=${p.switchoverTimeoutSeconds}
CATCHUP_TIMEOUT=${catchUpTimeoutSeconds(p)}
# Set by pre-stop: the end of its write pause (epoch seconds); every redis-cli call ends before it.
DEADLINE=

say() { printf 'redis-sentinel.sh: %s\\n' "$*" >&2; }
# printf, not echo: dash's echo would turn a password's backslashes into escapes.
line() { printf '%s\\n' "$*"; }
die() { say "$*"; exit 1; }

# member <ordinal>: sets m_host, m_redis_port, m_sentinel_port and m_sentinel_id.
member() {
  case "$1" in
${members}
    *) return 1 ;;
  esac
}

[ -n "\${POD_NAME:-}" ] || die "POD_NAME is not set"
ORDINAL="\${POD_NAME##*-}"
member "$ORDINAL" || die "pod $POD_NAME is not a member (ordinals: $MEMBERS)"
SELF_HOST=$m_host
SELF_REDIS_PORT=$m_redis_port
SELF_SENTINEL_PORT=$m_sentinel_port
SELF_SENTINEL_ID=$m_sentinel_id

[ -n "\${REDIS_PASSWORD:-}" ] || die "REDIS_PASSWORD is empty: the password Secret has not synced"
case "$REDIS_PASSWORD" in *'
'*) die "REDIS_PASSWORD contains a line break" ;; esac
# redis-cli reads the password from here: never on a command line, where ps would show it.
REDISCLI_AUTH=$REDIS_PASSWORD
export REDISCLI_AUTH

# seconds_left: whole seconds certainly left before DEADLINE. date +%s rounds the time down, so
# one second less: a call bounded by it ends before the deadline, however late in its second it starts.
seconds_left() {
  line "$(( DEADLINE - $(date +%s) - 1 ))"
}

# cli <host> <port> <command…>: one redis-cli call, raw output, bounded by CLI_TIMEOUT and, once
# DEADLINE is set, by the time left before it (with none left, it fails without a call).
cli() {
  _host=$1; _port=$2; shift 2
  _limit=$CLI_TIMEOUT
  if [ -n "$DEADLINE" ]; then
    _left=$(seconds_left)
    [ "$_left" -gt 0 ] || return 1
    [ "$_left" -ge "$_limit" ] || _limit=$_left
  fi
  timeout "$_limit" redis-cli --no-auth-warning -h "$_host" -p "$_port" "$@" 2>/dev/null
}

# sentinel_master <host> <port>: prints "host port" of the master that sentinel reports.
sentinel_master() {
  _out=$(cli "$1" "$2" SENTINEL get-master-addr-by-name "$MASTER_SET") || return 1
  _mhost=$(printf '%s\\n' "$_out" | sed -n 1p)
  _mport=$(printf '%s\\n' "$_out" | sed -n 2p | tr -d '\\r')
  case "$_mport" in '' | *[!0-9]*) return 1 ;; esac
  case "$_mhost" in '' | *' '* | ERR* | NOAUTH* | WRONGPASS*) return 1 ;; esac
  line "$_mhost $_mport"
}

# is_master <host> <port>: whether that redis-server runs as a master.
is_master() {
  cli "$1" "$2" INFO replication | grep -q '^role:master'
}

# find_master: prints "host port" of the current master, or fails when nobody knows one.
# The sentinels first: after any failover they know the master. Then the data members themselves
# (the sentinels restarted but a master kept running).
find_master() {
  for _o in $MEMBERS; do
    member "$_o"
    if sentinel_master "$m_host" "$m_sentinel_port"; then return 0; fi
  done
  for _o in $MEMBERS; do
    member "$_o"
    if is_master "$m_host" "$m_redis_port"; then line "$m_host $m_redis_port"; return 0; fi
  done
  return 1
}

# The master to follow, or member 0 when no sentinel and no member knows one: that only happens on
# the first start of the set (or after every member stopped), and member 0 then starts as master.
current_master() {
  if find_master; then return 0; fi
  member 0
  say "no sentinel or member knows a master: bootstrapping with member 0 ($m_host) as master"
  line "$m_host $m_redis_port"
}

# Config values in double quotes, as redis.conf reads them.
quoted_password() {
  printf '%s' "$REDIS_PASSWORD" | sed -e 's/\\\\/\\\\\\\\/g' -e 's/"/\\\\"/g'
}

run_redis() {
  # shellcheck disable=SC2046
  set -- $(current_master)
  umask 077
  _conf="$REDIS_RUNTIME_DIR/redis.conf"
  {
    line "include $CONFIG_DIR/redis.conf"
    line "port $SELF_REDIS_PORT"
    # Replicas are known to the sentinels by their stable DNS name, not by the pod's IP.
    line "replica-announce-ip $SELF_HOST"
    line "replica-announce-port $SELF_REDIS_PORT"
    line "requirepass \\"$(quoted_password)\\""
    line "masterauth \\"$(quoted_password)\\""
    if [ "$1" = "$SELF_HOST" ] && [ "$2" = "$SELF_REDIS_PORT" ]; then
      say "starting as master"
    else
      say "starting as replica of $1:$2"
      line "replicaof $1 $2"
    fi
  } >"$_conf"
  exec redis-server "$_conf"
}

run_sentinel() {
  # shellcheck disable=SC2046
  set -- $(current_master)
  # resolve-hostnames: Sentinel refuses to start when a monitored name does not resolve yet
  # (a pod's DNS record appears only once the pod has an address).
  _deadline=$(( $(date +%s) + RESOLVE_TIMEOUT ))
  until getent hosts "$1" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$_deadline" ] || die "master host $1 did not resolve within $RESOLVE_TIMEOUT s"
    sleep 1
  done
  umask 077
  _conf="$SENTINEL_RUNTIME_DIR/sentinel.conf"
  sed -e "s/@SENTINEL_PORT@/$SELF_SENTINEL_PORT/g" \\
    -e "s/@ANNOUNCE_HOST@/$SELF_HOST/g" \\
    -e "s/@SENTINEL_ID@/$SELF_SENTINEL_ID/g" \\
    -e "s/@MASTER_HOST@/$1/g" \\
    -e "s/@MASTER_PORT@/$2/g" \\
    "$CONFIG_DIR/sentinel.conf" >"$_conf"
  {
    # Clients and the other sentinels authenticate to this one; it authenticates to both.
    line "requirepass \\"$(quoted_password)\\""
    line "sentinel sentinel-pass \\"$(quoted_password)\\""
    line "sentinel auth-pass $MASTER_SET \\"$(quoted_password)\\""
  } >>"$_conf"
  say "monitoring $MASTER_SET at $1:$2"
  exec redis-sentinel "$_conf"
}

# replicas_behind <offset>: prints the online replicas of this master (host:port, space-separated)
# that have not yet acknowledged that replication offset; nothing when all have. A replica
# acknowledges what it holds once a second. Fails when this master does not answer.
replicas_behind() {
  _info=$(cli 127.0.0.1 "$SELF_REDIS_PORT" INFO replication) || return 1
  # One "host:port,offset" word per online replica.
  _acks=$(printf '%s\\n' "$_info" | tr -d '\\r' \\
    | sed -n 's/^slave[0-9]*:ip=\\([^,]*\\),port=\\([0-9]*\\),state=online,offset=\\([0-9]*\\),.*/\\1:\\2,\\3/p')
  _behind=
  for _r in $_acks; do
    [ "\${_r##*,}" -ge "$1" ] || _behind="$_behind \${_r%,*}"
  done
  line "\${_behind# }"
}

# sentinel_state <host> <port>: prints "host port flags" of the master as that sentinel has it
# configured (it changes when a failover ends) and its flags (failover_in_progress while one runs).
sentinel_state() {
  _out=$(cli "$1" "$2" SENTINEL MASTER "$MASTER_SET") || return 1
  # Name and value lines alternate, in the order name, ip, port, runid, flags.
  _state=$(printf '%s\\n' "$_out" | sed -n -e '/^ip$/{n;p;}' -e '/^port$/{n;p;}' -e '/^flags$/{n;p;}' | tr '\\n' ' ')
  # shellcheck disable=SC2086
  set -- $_state
  [ $# -eq 3 ] || return 1
  case "$2" in '' | *[!0-9]*) return 1 ;; esac
  line "$1 $2 $3"
}

# Before a master stops (rolling update, drain): hand mastership to a replica that holds every write
# this master acknowledged, so clients move within seconds instead of after down-after-milliseconds.
#
# 1. Pause writes (CLIENT PAUSE WRITE) for SWITCHOVER_TIMEOUT s. A write that arrives later waits, and
#    then fails with its connection when this master stops: it never lands on a master that is about
#    to be replaced. The end of the pause is the deadline of everything below; the hook returns by
#    then and every redis-cli call is bounded by the time left, so it never asks for a failover, or
#    waits, once writes could be flowing again.
# 2. Wait until every online replica has acknowledged the offset of the last acknowledged write, for
#    at most CATCHUP_TIMEOUT s, half of down-after-milliseconds: the pause blocks a sentinel's hello
#    PUBLISH and its PINGs queue behind it, so from down-after-milliseconds into the pause the
#    sentinels can call this master down and start a failover of their own; the other half is for
#    asking and for the promotion to start. Replication is asynchronous and the sentinels rank
#    replicas by offsets they read up to 10 s ago: this wait is what makes any replica they pick hold
#    every acknowledged write. At the cap a failover is asked anyway. The sentinels never pick a
#    replica they call down or that has not answered them for 5 s; one that still answers them but
#    lags can be picked, and the writes it lacks are then lost, as they would be in the failover the
#    sentinels would start themselves.
# 3. Unless a sentinel already names another master (it was replaced and has not been told yet) or
#    reports a failover in progress, ask the sentinels in turn for a failover: OK (it starts one) and
#    INPROG (one is already under way) both keep the pause. Asking while another is under way would
#    start a second, competing one: two replicas promoted at once.
# 4. Wait until a sentinel names the new master; ask again if the failover ended without one.
#    If no sentinel will fail over, resume writes and stop as master (the sentinels fail over after
#    down-after-milliseconds). If the deadline comes first, the pause ends and the pod stops.
# Never fails: the pod stops either way.
pre_stop() {
  DEADLINE=$(( $(date +%s) + SWITCHOVER_TIMEOUT ))
  is_master 127.0.0.1 "$SELF_REDIS_PORT" || return 0
  # The deadline was taken before the pause began and rounded down: it never falls after its end.
  cli 127.0.0.1 "$SELF_REDIS_PORT" CLIENT PAUSE "$((SWITCHOVER_TIMEOUT * 1000))" WRITE >/dev/null || :
  say "writes paused for up to $SWITCHOVER_TIMEOUT s"
  _offset=$(cli 127.0.0.1 "$SELF_REDIS_PORT" INFO replication | tr -d '\\r' | sed -n 's/^master_repl_offset:\\([0-9]*\\)$/\\1/p')
  if [ -n "$_offset" ]; then
    _waited=0
    _behind=$(replicas_behind "$_offset") || _behind='(this master did not answer)'
    [ -z "$_behind" ] || say "waiting up to $CATCHUP_TIMEOUT s for replicas to acknowledge offset $_offset: $_behind"
    while [ -n "$_behind" ] && [ "$_waited" -lt "$CATCHUP_TIMEOUT" ]; do
      sleep 1
      _waited=$((_waited + 1))
      _behind=$(replicas_behind "$_offset") || _behind='(this master did not answer)'
    done
    if [ -n "$_behind" ]; then
      say "still behind offset $_offset after $CATCHUP_TIMEOUT s: $_behind; asking for a failover anyway"
    else
      say "replicas acknowledged offset $_offset"
    fi
  fi
  _underway=
  while [ "$(seconds_left)" -gt 0 ]; do
    # The sentinel running the failover names the promoted replica as soon as it is promoted.
    if [ -n "$_underway" ] && _m=$(sentinel_master "\${_underway%:*}" "\${_underway##*:}"); then
      [ "$_m" = "$SELF_HOST $SELF_REDIS_PORT" ] || { say "new master: $_m"; return 0; }
    fi
    _running=
    for _o in $MEMBERS; do
      member "$_o"
      _state=$(sentinel_state "$m_host" "$m_sentinel_port") || continue
      # A failover has ended: this sentinel has the new master configured.
      case "$_state" in "$SELF_HOST $SELF_REDIS_PORT "*) ;; *) say "new master: \${_state% *}"; return 0 ;; esac
      case "$_state" in *failover_in_progress*) [ -n "$_running" ] || _running=$m_host:$m_sentinel_port ;; esac
    done
    if [ -n "$_running" ]; then
      [ "$_running" = "$_underway" ] || say "sentinel $_running has a failover in progress; writes stay paused"
      _underway=$_running
    else
      _underway=
      for _o in $MEMBERS; do
        member "$_o"
        # An error reply is printed; redis-cli exits 0 or 1 on it depending on its version.
        _reply=$(cli "$m_host" "$m_sentinel_port" SENTINEL FAILOVER "$MASTER_SET") || :
        case "$_reply" in
          OK*) _underway=$m_host:$m_sentinel_port; say "sentinel $_underway is promoting a replica"; break ;;
          INPROG*) _underway=$m_host:$m_sentinel_port; say "sentinel $_underway has a failover in progress; writes stay paused"; break ;;
        esac
      done
      if [ -z "$_underway" ]; then
        cli 127.0.0.1 "$SELF_REDIS_PORT" CLIENT UNPAUSE >/dev/null || :
        say "no sentinel would fail over; stopping as master"
        return 0
      fi
    fi
    [ "$(seconds_left)" -gt 0 ] || break
    sleep 1
  done
  say "no new master before the pause ended ($SWITCHOVER_TIMEOUT s)"
}

# Probes: exit 0 when healthy. Loading the AOF counts as alive (a large one takes a while), but
# not as ready; a replica is ready once its link to the master is up and the initial sync is done.
probe() {
  case "$1" in
    redis-alive)
      _r=$(cli 127.0.0.1 "$SELF_REDIS_PORT" PING) || return 1
      case "$_r" in PONG* | LOADING*) return 0 ;; *) return 1 ;; esac ;;
    redis-ready)
      _info=$(cli 127.0.0.1 "$SELF_REDIS_PORT" INFO replication | tr -d '\\r') || return 1
      case "$_info" in *role:master*) return 0 ;; esac
      case "$_info" in *master_link_status:up*) ;; *) return 1 ;; esac
      case "$_info" in *master_sync_in_progress:0*) return 0 ;; *) return 1 ;; esac ;;
    sentinel-alive)
      _r=$(cli 127.0.0.1 "$SELF_SENTINEL_PORT" PING) || return 1
      case "$_r" in PONG*) return 0 ;; *) return 1 ;; esac ;;
    sentinel-ready)
      # It knows the master and enough peers to authorize a failover: a rolling update waits for
      # a restarted sentinel to rejoin before it takes down the next.
      sentinel_master 127.0.0.1 "$SELF_SENTINEL_PORT" >/dev/null || return 1
      _r=$(cli 127.0.0.1 "$SELF_SENTINEL_PORT" SENTINEL CKQUORUM "$MASTER_SET") || return 1
      case "$_r" in OK*) return 0 ;; *) return 1 ;; esac ;;
    *) die "unknown probe $1" ;;
  esac
}

case "\${1:-}" in
  redis) run_redis ;;
  sentinel) run_sentinel ;;
  probe) probe "\${2:-}" ;;
  pre-stop) pre_stop ;;
  *) die "usage: $0 redis|sentinel|probe <name>|pre-stop" ;;
esac
`;
}

/** The ConfigMap's data: `redis.conf`, `sentinel.conf` (a template) and the script. */
export function redisSentinelConfigFiles(props: RedisSentinelConfigProps): Record<string, string> {
  check(props);
  return {
    [REDIS_CONF]: redisConf(props),
    [SENTINEL_CONF]: sentinelConf(props),
    [REDIS_SCRIPT]: script(props),
  };
}
