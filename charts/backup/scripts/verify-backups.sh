#!/usr/bin/env bash
#
# Restore verification: the newest database dump must restore into a throwaway PostgreSQL (started
# here, listening on a Unix socket only) with every table of VERIFY_TABLES present and holding at
# least one row; the newest dump and the newest files snapshot must be younger than
# MAX_SNAPSHOT_AGE_HOURS; and `restic check` must pass on the repositories, reading back
# CHECK_READ_DATA_PERCENT percent of their data. An application with only a database or only
# uploaded files sets only that repository. Any doubt is a failure: the script stops at the first
# problem and exits non-zero.
#
# Settings (environment): DATABASE_REPOSITORY and/or FILES_REPOSITORY, RESTIC_KEY_FILE or RESTIC_PASSWORD_FILE (or
# RESTIC_PASSWORD, one key for both), RESTIC_CACHE_DIR, the AWS_* credentials for s3:
# repositories, RESTIC_BIN and RESTIC_RETRY_LOCK (optional); BACKUP_HOST, DATABASE_TAG, FILES_TAG,
# DUMP_NAME; WORK_DIR (room for the dump and the restored database); VERIFY_TABLES (names
# separated by spaces or commas, `table` or `schema.table`); CHECK_READ_DATA_PERCENT (1-100);
# MAX_SNAPSHOT_AGE_HOURS. PostgreSQL's initdb, pg_ctl, pg_restore and psql must be on PATH.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

database=${DATABASE_REPOSITORY:-}
files=${FILES_REPOSITORY:-}
[[ -n $database || -n $files ]] || die "$EX_CONFIG" "neither DATABASE_REPOSITORY nor FILES_REPOSITORY is set: nothing to verify"
require_env BACKUP_HOST WORK_DIR
require_uint CHECK_READ_DATA_PERCENT MAX_SNAPSHOT_AGE_HOURS
((CHECK_READ_DATA_PERCENT >= 1 && CHECK_READ_DATA_PERCENT <= 100)) \
  || die "$EX_CONFIG" "CHECK_READ_DATA_PERCENT must be between 1 and 100"
((MAX_SNAPSHOT_AGE_HOURS >= 1)) || die "$EX_CONFIG" "MAX_SNAPSHOT_AGE_HOURS must be at least 1"
tables=()
if [[ -n $database ]]; then
  require_env DATABASE_TAG DUMP_NAME VERIFY_TABLES
  require_file_name DUMP_NAME
  read -r -a tables <<<"${VERIFY_TABLES//,/ }"
  ((${#tables[@]} > 0)) || die "$EX_CONFIG" "VERIFY_TABLES names no table"
  for table in "${tables[@]}"; do
    # Lowercase identifiers only: the names go into SQL, and the configuration allows no others.
    [[ $table =~ ^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$ ]] || die "$EX_CONFIG" "'$table' is not a table name (table or schema.table, lowercase)"
  done
fi
[[ -z $files ]] || require_env FILES_TAG

umask 077
work=$WORK_DIR/verify
pgdata=$work/pgdata
socket=$work/socket
dump=$work/${DUMP_NAME:-}
rm -rf -- "$work"
mkdir -p -- "$work" "$socket"

server_started=false
stop_server() {
  if [[ $server_started == true ]]; then
    pg_ctl --pgdata="$pgdata" --mode=immediate stop >/dev/null 2>&1 || true
  fi
}
# The throwaway server goes with the script, whatever way the script ends (see on_exit in lib.sh).
cleanup() { stop_server; }

restic_version=$("$RESTIC" version)
log "$restic_version"

# newest_snapshot REPOSITORY TAG: "<id> <age in hours>" of the newest snapshot of BACKUP_HOST
# with TAG; fails when there is none or it is older than MAX_SNAPSHOT_AGE_HOURS.
newest_snapshot() {
  local repository=$1 tag=$2 json
  json=$(RESTIC_REPOSITORY=$repository restic_run snapshots --json --host "$BACKUP_HOST" --tag "$tag")
  local times ids
  mapfile -t times < <(grep -o '"time":"[^"]*"' <<<"$json" | cut -d '"' -f 4)
  mapfile -t ids < <(grep -o '"id":"[0-9a-f]\{64\}"' <<<"$json" | cut -d '"' -f 4)
  ((${#ids[@]} > 0)) || die "$EX_DATA" "$repository holds no snapshot of host $BACKUP_HOST with tag $tag"
  ((${#ids[@]} == ${#times[@]})) || die "$EX_DATA" "cannot read the snapshot list of $repository"
  local i newest=-1 newest_epoch=0 epoch
  for i in "${!ids[@]}"; do
    epoch=$(date -d "${times[i]}" +%s) || die "$EX_DATA" "cannot read snapshot time '${times[i]}'"
    if ((newest < 0 || epoch > newest_epoch)); then newest=$i newest_epoch=$epoch; fi
  done
  local age_hours=$((($(date +%s) - newest_epoch) / 3600))
  ((age_hours < MAX_SNAPSHOT_AGE_HOURS)) \
    || die "$EX_DATA" "the newest $tag snapshot (${ids[newest]:0:8}, ${times[newest]}) is ${age_hours}h old, older than ${MAX_SNAPSHOT_AGE_HOURS}h: backups have stopped"
  printf '%s %s\n' "${ids[newest]}" "$age_hours"
}

# 1. The newest dump, restored into a throwaway server.
if [[ -n $database ]]; then
  latest=$(newest_snapshot "$database" "$DATABASE_TAG")
  read -r dump_snapshot dump_age <<<"$latest"
  log "restoring snapshot ${dump_snapshot:0:8} (${dump_age}h old) of $database"
  RESTIC_REPOSITORY=$database restic_run dump "$dump_snapshot" "/$DUMP_NAME" >"$dump"
  [[ -s $dump ]] || die "$EX_DATA" "the restored dump is empty"

  initdb --pgdata="$pgdata" --username=postgres --auth=trust --encoding=UTF8 --no-locale --no-sync >"$work/initdb.log" \
    || { cat -- "$work/initdb.log" >&2; die 1 "initdb failed"; }
  # No TCP at all: the server is reachable only through its socket in the work directory.
  cat >>"$pgdata/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$socket'
fsync = off
full_page_writes = off
synchronous_commit = off
CONF
  # The throwaway server is the only one these tools may talk to.
  unset PGSERVICE PGPASSWORD PGPASSFILE PGSSLMODE PGSSLROOTCERT PGOPTIONS
  export PGHOST=$socket PGPORT=5432 PGUSER=postgres PGDATABASE=verify
  pg_ctl --pgdata="$pgdata" --log="$work/postgres.log" --wait --timeout=300 start >/dev/null \
    || { cat -- "$work/postgres.log" >&2; die 1 "the throwaway PostgreSQL did not start"; }
  server_started=true
  createdb verify
  # --no-owner/--no-privileges: the production roles do not exist here, and need not.
  pg_restore --exit-on-error --no-owner --no-privileges --dbname=verify -- "$dump" \
    || die "$EX_DATA" "the dump of snapshot ${dump_snapshot:0:8} does not restore"

  problems=()
  for table in "${tables[@]}"; do
    present=$(psql -X -v ON_ERROR_STOP=1 -At -c "SELECT to_regclass('$table') IS NOT NULL")
    if [[ $present != t ]]; then
      problems+=("$table is missing")
      continue
    fi
    rows=$(psql -X -v ON_ERROR_STOP=1 -At -c "SELECT count(*) FROM $table")
    [[ $rows =~ ^[0-9]+$ ]] || die "$EX_DATA" "cannot count the rows of $table ('$rows')"
    if ((rows == 0)); then problems+=("$table is empty"); else log "$table: $rows rows"; fi
  done
  ((${#problems[@]} == 0)) || die "$EX_DATA" "the restored dump of snapshot ${dump_snapshot:0:8} fails the checks: $(IFS=';'; echo "${problems[*]}")"
  stop_server
  server_started=false
  log "snapshot ${dump_snapshot:0:8} restores with all ${#tables[@]} checked tables present and non-empty"
fi

# 2. The newest files snapshot is recent too.
if [[ -n $files ]]; then
  latest=$(newest_snapshot "$files" "$FILES_TAG")
  read -r files_snapshot files_age <<<"$latest"
  log "newest files snapshot ${files_snapshot:0:8} is ${files_age}h old"
fi

# 3. Each repository: structure, and a random share of the data read back and verified.
repositories=()
[[ -z $database ]] || repositories+=("$database")
[[ -z $files ]] || repositories+=("$files")
for repository in "${repositories[@]}"; do
  log "checking $repository, reading ${CHECK_READ_DATA_PERCENT}% of its data"
  RESTIC_REPOSITORY=$repository restic_run check --read-data-subset="${CHECK_READ_DATA_PERCENT}%" \
    || die "$EX_DATA" "restic check found errors in $repository"
done

log "verification passed"
