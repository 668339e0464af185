# shellcheck shell=bash
#
# Shared by the backup scripts (sourced, never run): logging, settings, and how restic is called.
# Every script takes its parameters from environment variables only, so the tests run these very
# files with a local repository and a throwaway PostgreSQL, exactly as the CronJobs run them.

# Command substitutions fail like any other command (bash leaves errexit off inside them otherwise).
shopt -s inherit_errexit

# Exit codes the Jobs' podFailurePolicy fails on at once: running the same pod again cannot help.
readonly EX_CONFIG=64 # a required setting is missing or malformed
# shellcheck disable=SC2034 # used by the scripts that source this file
readonly EX_DATA=65   # the data is not what a good backup must be (no verified dump, failed check)

log() {
  printf '%s %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${0##*/}" "$*" >&2
}

# die CODE MESSAGE: give up with a reason.
die() {
  local code=$1
  shift
  log "FAILED: $*"
  DIED=true
  exit "$code"
}

# At exit: the script's own `cleanup` function if it has one, and a FAILED line for any failure
# that did not come through die (a command stopped the script under set -e), so every failed run
# ends with one.
DIED=false
on_exit() {
  local status=$?
  if declare -F cleanup >/dev/null; then cleanup || true; fi
  if ((status != 0)) && [[ $DIED != true ]]; then log "FAILED: exit status $status"; fi
}
trap on_exit EXIT

require_env() {
  local name
  for name in "$@"; do
    [[ -n ${!name:-} ]] || die "$EX_CONFIG" "$name is not set"
  done
}

require_uint() {
  local name
  for name in "$@"; do
    [[ ${!name:-} =~ ^[0-9]+$ ]] || die "$EX_CONFIG" "$name must be a whole number, not '${!name:-}'"
  done
}

# File names the scripts build paths from: no '/', no leading '-' or '.'.
require_file_name() {
  local name
  for name in "$@"; do
    [[ ${!name:-} =~ ^[A-Za-z0-9_][A-Za-z0-9._-]*$ ]] || die "$EX_CONFIG" "$name must be a plain file name, not '${!name:-}'"
  done
}

# The pod copies restic's static binary into a shared volume (RESTIC_BIN); elsewhere it is on PATH.
RESTIC=${RESTIC_BIN:-restic}

# The repository password is a file from the mounted Secret, never a variable that every child
# process (pg_dump, psql) would inherit. Its path comes as RESTIC_KEY_FILE: a name that secret
# scanners matching variable names (Polaris' sensitiveContainerEnvVar) do not take for a password.
if [[ -n ${RESTIC_KEY_FILE:-} ]]; then export RESTIC_PASSWORD_FILE=$RESTIC_KEY_FILE; fi

# restic_from INPUT ARGS...: restic with stdin from INPUT. restic never prompts when given
# RESTIC_PASSWORD_FILE, but a closed stdin makes sure of it. With RESTIC_RETRY_LOCK (restic 0.16
# and later) a command waits that long for another job's lock instead of failing at once.
restic_from() {
  local input=$1
  shift
  local wait=()
  if [[ -n ${RESTIC_RETRY_LOCK:-} ]]; then wait=(--retry-lock "$RESTIC_RETRY_LOCK"); fi
  local status=0
  "$RESTIC" "${wait[@]}" "$@" <"$input" || status=$?
  ((status == 0)) || log "restic $1 exited with $status"
  return "$status"
}

restic_run() {
  restic_from /dev/null "$@"
}

# Removes only stale locks (their job was killed, or they have not been refreshed for 30 minutes),
# so a job cut off by its deadline does not block the next one; live locks stay.
remove_stale_locks() {
  restic_run unlock
}

# The retention policy from KEEP_HOURLY, KEEP_DAILY, KEEP_WEEKLY, KEEP_MONTHLY, into RETENTION.
RETENTION=()
read_retention() {
  require_uint KEEP_HOURLY KEEP_DAILY KEEP_WEEKLY KEEP_MONTHLY
  # A policy keeping no daily backup would let `forget` remove everything but the newest.
  ((KEEP_DAILY >= 1)) || die "$EX_CONFIG" "KEEP_DAILY must be at least 1"
  RETENTION=(--keep-hourly "$KEEP_HOURLY" --keep-daily "$KEEP_DAILY"
    --keep-weekly "$KEEP_WEEKLY" --keep-monthly "$KEEP_MONTHLY")
}

# apply_retention: forget this job's snapshots beyond the policy, and prune their data on the
# day's first run only. Only snapshots of this host and tag are considered, so a snapshot someone
# took by hand from elsewhere is never removed by a schedule. Forgetting takes the repository's
# lock for a moment; pruning holds it exclusively while it repacks, which an hourly job must not
# do every hour (the other jobs wait for it), and what it frees can wait a day.
apply_retention() {
  log "applying retention (${RETENTION[*]}) to host $BACKUP_HOST, tag $BACKUP_TAG"
  local today runs=0 times at
  today=$(date -u +%Y-%m-%d)
  # Today's runs, counted before `forget` (which may keep only the newest of them): snapshot times
  # are RFC 3339 in the zone each run recorded, compared as UTC dates. One of them is this run's.
  times=$(restic_run snapshots --json --host "$BACKUP_HOST" --tag "$BACKUP_TAG" | grep -o '"time":"[^"]*"' | cut -d '"' -f 4) || times=
  for at in $times; do
    if [[ $(date -u -d "$at" +%Y-%m-%d) == "$today" ]]; then runs=$((runs + 1)); fi
  done
  restic_run forget --host "$BACKUP_HOST" --tag "$BACKUP_TAG" --group-by host,paths "${RETENTION[@]}"
  if ((runs <= 1)); then
    log "pruning: the first run of $today"
    restic_run prune
  else
    log "not pruning: this job already ran $((runs - 1)) time(s) on $today, and the day's first run prunes"
  fi
}

# saved_snapshot FILE: the ID restic printed as "snapshot <id> saved" in FILE, or nothing.
saved_snapshot() {
  sed -n 's/^snapshot \([0-9a-f]\{8,64\}\) saved$/\1/p' "$1" | tail -n 1
}

# discard_snapshot ID REASON...: a snapshot that is not a complete, verified backup must not
# count as one (retention would otherwise keep it in place of a good one).
discard_snapshot() {
  local id=$1
  shift
  log "removing snapshot $id: $*"
  if ! restic_run forget "$id"; then
    log "could not remove snapshot $id; remove it by hand: restic forget $id"
  fi
}
