#!/usr/bin/env bash
#
# Snapshot of the uploaded files (SOURCE_DIR, the volume mounted read-only) into restic, then the
# retention policy. Every run is a new version: restic stores only what changed, and the stable
# host and path let it find the previous snapshot as parent. A snapshot restic could not complete
# (exit 3: some files could not be read) is removed again and the job fails: a partial copy must
# never take the place of a complete one under the retention policy.
#
# Settings (environment): SOURCE_DIR; RESTIC_REPOSITORY, RESTIC_KEY_FILE or RESTIC_PASSWORD_FILE (or RESTIC_PASSWORD),
# RESTIC_CACHE_DIR, the AWS_* credentials for s3: repositories, RESTIC_BIN and RESTIC_RETRY_LOCK
# (optional); BACKUP_HOST, BACKUP_TAG; KEEP_HOURLY, KEEP_DAILY, KEEP_WEEKLY, KEEP_MONTHLY.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_env SOURCE_DIR RESTIC_REPOSITORY BACKUP_HOST BACKUP_TAG
read_retention
[[ -d $SOURCE_DIR ]] || die "$EX_CONFIG" "$SOURCE_DIR is not a directory"
[[ -r $SOURCE_DIR && -x $SOURCE_DIR ]] || die "$EX_DATA" "$SOURCE_DIR cannot be read by uid $(id -u)"

restic_version=$("$RESTIC" version)
log "$restic_version"
remove_stale_locks

output=$(mktemp)
cleanup() { rm -f -- "$output"; }
status=0
# lost+found (ext4-backed volumes) belongs to root and holds no uploads; reading it would fail.
restic_run backup --host "$BACKUP_HOST" --tag "$BACKUP_TAG" \
  --exclude "$SOURCE_DIR/lost+found" -- "$SOURCE_DIR" >"$output" || status=$?
cat -- "$output"
snapshot=$(saved_snapshot "$output")
if ((status != 0)); then
  if [[ -n $snapshot ]]; then discard_snapshot "$snapshot" "it is incomplete (restic backup exited with $status)"; fi
  die "$status" "restic backup exited with $status; no snapshot was kept"
fi
[[ -n $snapshot ]] || die 1 "restic backup did not report a snapshot ID"
log "snapshot $snapshot stored"

apply_retention
log "files backup complete: snapshot $snapshot"
