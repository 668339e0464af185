#!/bin/sh
# Starts redis-server or redis-sentinel for the member this pod is, answers the kubelet's probes,
# and hands mastership over before a master stops. Shipped as it is in the Redis ConfigMap beside
# redis-sentinel.env, which charts/data/redis-sentinel-config.ts generates: the master set's name,
# its members (the member function), the runtime directories and the timeouts.
#
#   redis-sentinel.sh redis | sentinel | probe <redis-alive|redis-ready|sentinel-alive|sentinel-ready> | pre-stop
#
# Needs POD_NAME (<statefulset>-<ordinal>) and REDIS_PASSWORD in the environment. POSIX sh: the
# image's /bin/sh is dash.
set -eu

# The ConfigMap's mount: where this script, its settings and the two config templates are.
CONFIG_DIR=${0%/*}
# shellcheck source=/dev/null
. "$CONFIG_DIR/redis-sentinel.env"
# What member() (from redis-sentinel.env) sets for the member it is asked about.
m_host='' m_redis_port='' m_sentinel_port='' m_sentinel_id=''
# Set by pre-stop: the end of its write pause (epoch seconds); every redis-cli call ends before it.
DEADLINE=

say() { printf 'redis-sentinel.sh: %s\n' "$*" >&2; }
# printf, not echo: dash's echo would turn a password's backslashes into escapes.
line() { printf '%s\n' "$*"; }
die() { say "$*"; exit 1; }

[ -n "${POD_NAME:-}" ] || die "POD_NAME is not set"
ORDINAL="${POD_NAME##*-}"
member "$ORDINAL" || die "pod $POD_NAME is not a member (ordinals: $MEMBERS)"
SELF_HOST=$m_host
SELF_REDIS_PORT=$m_redis_port
SELF_SENTINEL_PORT=$m_sentinel_port
SELF_SENTINEL_ID=$m_sentinel_id

[ -n "${REDIS_PASSWORD:-}" ] || die "REDIS_PASSWORD is empty: the password Secret has not synced"
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
  _mhost=$(printf '%s\n' "$_out" | sed -n 1p)
  _mport=$(printf '%s\n' "$_out" | sed -n 2p | tr -d '\r')
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

# The last master this member knew, on its own volume: written when redis-server starts and by
# every readiness probe (the master names itself, a replica its master), read when every member
# starts at once. That master holds the newest writes: the replicas hold what it acknowledged and
# may lag behind it, so a replica made master then would throw the rest away.
LAST_MASTER_FILE="$REDIS_DATA_DIR/last-master"

# last_master: prints "host port" of the last master this member knew, if that is a member.
last_master() {
  [ -r "$LAST_MASTER_FILE" ] || return 1
  read -r _lh _lp <"$LAST_MASTER_FILE" || return 1
  for _o in $MEMBERS; do
    member "$_o"
    if [ "$m_host" = "$_lh" ] && [ "$m_redis_port" = "$_lp" ]; then line "$_lh $_lp"; return 0; fi
  done
  return 1
}

# remember_master <host> <port>: keeps the master on the volume (written beside, then renamed).
remember_master() {
  [ "$(cat "$LAST_MASTER_FILE" 2>/dev/null)" != "$1 $2" ] || return 0
  printf '%s %s\n' "$1" "$2" >"$LAST_MASTER_FILE.new" && mv -f "$LAST_MASTER_FILE.new" "$LAST_MASTER_FILE"
}

# The master to follow. When no sentinel and no member knows one (every member starts at once),
# the last master this member knew; on the set's first start, member 0. A member that remembers
# being master itself may be wrong (a failover it did not see, or a hand-over it did not record):
# it first gives the others, lower ordinals first, five seconds per ordinal to come up and name
# one, so two such members never both start as master.
current_master() {
  if find_master; then return 0; fi
  if _last=$(last_master); then
    if [ "$_last" = "$SELF_HOST $SELF_REDIS_PORT" ] && [ "$ORDINAL" -gt 0 ]; then
      _until=$(( $(date +%s) + 5 * ORDINAL ))
      while [ "$(date +%s)" -lt "$_until" ]; do
        if find_master; then return 0; fi
        sleep 1
      done
    fi
    say "no sentinel or member knows a master: following the last master this member knew"
    line "$_last"
    return 0
  fi
  member 0
  say "no sentinel or member knows a master, nor did this member: bootstrapping with member 0 ($m_host) as master"
  line "$m_host $m_redis_port"
}

# Config values in double quotes, as redis.conf reads them.
quoted_password() {
  printf '%s' "$REDIS_PASSWORD" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'
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
    line "requirepass \"$(quoted_password)\""
    line "masterauth \"$(quoted_password)\""
    if [ "$1" = "$SELF_HOST" ] && [ "$2" = "$SELF_REDIS_PORT" ]; then
      say "starting as master"
      remember_master "$1" "$2"
    else
      say "starting as replica of $1:$2"
      remember_master "$1" "$2"
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
  sed -e "s/@SENTINEL_PORT@/$SELF_SENTINEL_PORT/g" \
    -e "s/@ANNOUNCE_HOST@/$SELF_HOST/g" \
    -e "s/@SENTINEL_ID@/$SELF_SENTINEL_ID/g" \
    -e "s/@MASTER_HOST@/$1/g" \
    -e "s/@MASTER_PORT@/$2/g" \
    "$CONFIG_DIR/sentinel.conf" >"$_conf"
  {
    # Clients and the other sentinels authenticate to this one; it authenticates to both.
    line "requirepass \"$(quoted_password)\""
    line "sentinel sentinel-pass \"$(quoted_password)\""
    line "sentinel auth-pass $MASTER_SET \"$(quoted_password)\""
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
  _acks=$(printf '%s\n' "$_info" | tr -d '\r' \
    | sed -n 's/^slave[0-9]*:ip=\([^,]*\),port=\([0-9]*\),state=online,offset=\([0-9]*\),.*/\1:\2,\3/p')
  _behind=
  for _r in $_acks; do
    [ "${_r##*,}" -ge "$1" ] || _behind="$_behind ${_r%,*}"
  done
  line "${_behind# }"
}

# sentinel_state <host> <port>: prints "host port flags" of the master as that sentinel has it
# configured (it changes when a failover ends) and its flags (failover_in_progress while one runs).
sentinel_state() {
  _out=$(cli "$1" "$2" SENTINEL MASTER "$MASTER_SET") || return 1
  # Name and value lines alternate, in the order name, ip, port, runid, flags.
  _state=$(printf '%s\n' "$_out" | sed -n -e '/^ip$/{n;p;}' -e '/^port$/{n;p;}' -e '/^flags$/{n;p;}' | tr '\n' ' ')
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
  _offset=$(cli 127.0.0.1 "$SELF_REDIS_PORT" INFO replication | tr -d '\r' | sed -n 's/^master_repl_offset:\([0-9]*\)$/\1/p')
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
    if [ -n "$_underway" ] && _m=$(sentinel_master "${_underway%:*}" "${_underway##*:}"); then
      [ "$_m" = "$SELF_HOST $SELF_REDIS_PORT" ] || { say "new master: $_m"; remember_master "${_m% *}" "${_m#* }" || true; return 0; }
    fi
    _running=
    for _o in $MEMBERS; do
      member "$_o"
      _state=$(sentinel_state "$m_host" "$m_sentinel_port") || continue
      # A failover has ended: this sentinel has the new master configured.
      case "$_state" in "$SELF_HOST $SELF_REDIS_PORT "*) ;; *)
        _m=${_state% *}
        say "new master: $_m"
        remember_master "${_m% *}" "${_m#* }" || true
        return 0 ;;
      esac
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
      _info=$(cli 127.0.0.1 "$SELF_REDIS_PORT" INFO replication | tr -d '\r') || return 1
      case "$_info" in *role:master*) remember_master "$SELF_HOST" "$SELF_REDIS_PORT" || true; return 0 ;; esac
      case "$_info" in *master_link_status:up*) ;; *) return 1 ;; esac
      case "$_info" in *master_sync_in_progress:0*) ;; *) return 1 ;; esac
      remember_master "$(printf '%s\n' "$_info" | sed -n 's/^master_host://p')" "$(printf '%s\n' "$_info" | sed -n 's/^master_port://p')" || true
      return 0 ;;
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

case "${1:-}" in
  redis) run_redis ;;
  sentinel) run_sentinel ;;
  probe) probe "${2:-}" ;;
  pre-stop) pre_stop ;;
  *) die "usage: $0 redis|sentinel|probe <name>|pre-stop" ;;
esac
