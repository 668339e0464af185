#!/usr/bin/env bash
#
# Logical dump of the application database: pg_dump in custom format into DUMP_DIR, verified by
# reading it back with pg_restore, then marked complete. Only a dump with the marker is ever
# stored (backup-database.sh refuses anything else), so a pg_dump that fails half way, a full
# disk or a truncated file never becomes a "good" backup.
#
# Settings (environment): PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD and the other libpq
# variables (PGSSLMODE, PGSSLROOTCERT, PGAPPNAME, PGCONNECT_TIMEOUT); DUMP_DIR, DUMP_NAME;
# DUMP_ATTEMPTS (default 3) and DUMP_RETRY_DELAY_SECONDS (default 60) for recovery conflicts;
# DUMP_LOCK_WAIT_TIMEOUT (default 10min).
#
# Output: DUMP_DIR/DUMP_NAME and DUMP_DIR/DUMP_NAME.sha256 (the marker, written last).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_env PGHOST PGDATABASE PGUSER DUMP_DIR DUMP_NAME
require_file_name DUMP_NAME
DUMP_ATTEMPTS=${DUMP_ATTEMPTS:-3}
DUMP_RETRY_DELAY_SECONDS=${DUMP_RETRY_DELAY_SECONDS:-60}
require_uint DUMP_ATTEMPTS DUMP_RETRY_DELAY_SECONDS
((DUMP_ATTEMPTS >= 1)) || die "$EX_CONFIG" "DUMP_ATTEMPTS must be at least 1"

umask 077
mkdir -p -- "$DUMP_DIR"
dump=$DUMP_DIR/$DUMP_NAME
partial=$dump.partial
marker=$dump.sha256
errors=$DUMP_DIR/pg_dump.stderr
# Whatever an earlier attempt left behind is not this run's dump.
rm -f -- "$marker" "$dump" "$partial"

pg_dump_version=$(pg_dump --version)
log "dumping database $PGDATABASE from $PGHOST as $PGUSER ($pg_dump_version)"
attempt=1
while :; do
  status=0
  # A replica cancels a long query whose rows recovery must remove ("conflict with recovery");
  # that is worth another try after a pause, anything else is not. The lock timeout keeps a dump
  # from queueing behind a migration's exclusive lock for hours.
  pg_dump --format=custom --no-password \
    --lock-wait-timeout="${DUMP_LOCK_WAIT_TIMEOUT:-10min}" \
    --file="$partial" 2>"$errors" || status=$?
  cat -- "$errors" >&2
  ((status == 0)) && break
  rm -f -- "$partial"
  if grep -q 'conflict with recovery' "$errors" && ((attempt < DUMP_ATTEMPTS)); then
    log "pg_dump was cancelled by a recovery conflict on the replica (attempt $attempt of $DUMP_ATTEMPTS); retrying in ${DUMP_RETRY_DELAY_SECONDS}s"
    sleep "$DUMP_RETRY_DELAY_SECONDS"
    attempt=$((attempt + 1))
    continue
  fi
  die "$status" "pg_dump exited with $status; no dump was kept"
done

# pg_dump exited 0; reading the whole archive back (every table's data, decompressed) proves the
# file on disk is complete and readable before anything is stored.
pg_restore --list -- "$partial" >/dev/null || die "$EX_DATA" "pg_restore cannot read the table of contents of the new dump"
pg_restore --file=/dev/null -- "$partial" || die "$EX_DATA" "pg_restore cannot read the new dump back"

mv -- "$partial" "$dump"
(cd -- "$DUMP_DIR" && sha256sum -- "$DUMP_NAME") >"$marker.tmp"
mv -- "$marker.tmp" "$marker"
log "dump complete and verified: $dump ($(stat -c %s -- "$dump") bytes, sha256 $(cut -d ' ' -f 1 -- "$marker"))"
