#!/usr/bin/env bash
#
# Stores the verified dump dump-database.sh left in DUMP_DIR as a restic snapshot, reads the
# snapshot back to prove it, then applies the retention policy. A dump without its completion
# marker, or whose bytes no longer match it, is refused; a snapshot that does not read back
# byte-identical is removed again. Either way the job fails and nothing counts as a backup.
#
# Settings (environment): DUMP_DIR, DUMP_NAME; RESTIC_REPOSITORY, RESTIC_KEY_FILE or RESTIC_PASSWORD_FILE (or
# RESTIC_PASSWORD), RESTIC_CACHE_DIR, the AWS_* credentials for s3: repositories, RESTIC_BIN and
# RESTIC_RETRY_LOCK (optional); BACKUP_HOST and BACKUP_TAG (stable, so snapshots form one history);
# KEEP_HOURLY, KEEP_DAILY, KEEP_WEEKLY, KEEP_MONTHLY.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_env DUMP_DIR DUMP_NAME RESTIC_REPOSITORY BACKUP_HOST BACKUP_TAG
require_file_name DUMP_NAME
read_retention

dump=$DUMP_DIR/$DUMP_NAME
marker=$dump.sha256
[[ -f $marker ]] || die "$EX_DATA" "no verified dump ($marker is missing): the dump did not complete, so nothing is stored"
(cd -- "$DUMP_DIR" && sha256sum --check --status -- "$DUMP_NAME.sha256") \
  || die "$EX_DATA" "$dump does not match its verified checksum; nothing is stored"
expected=$(cut -d ' ' -f 1 -- "$marker")

restic_version=$("$RESTIC" version)
log "$restic_version"
remove_stale_locks

# No `restic check` here: it locks the repository exclusively for as long as it runs. The weekly
# restore test checks both repositories (reading data back too); this snapshot is read back below,
# which is what proves this backup.
output=$(mktemp)
cleanup() { rm -f -- "$output"; }
status=0
# --stdin with a fixed file name: the snapshot holds /$DUMP_NAME whatever the scratch path was.
restic_from "$dump" backup --stdin --stdin-filename "$DUMP_NAME" \
  --host "$BACKUP_HOST" --tag "$BACKUP_TAG" >"$output" || status=$?
cat -- "$output"
snapshot=$(saved_snapshot "$output")
if ((status != 0)); then
  if [[ -n $snapshot ]]; then discard_snapshot "$snapshot" "restic backup exited with $status"; fi
  die "$status" "restic backup exited with $status"
fi
[[ -n $snapshot ]] || die 1 "restic backup did not report a snapshot ID"

# Read the whole dump back from the repository: restic reuses data it already holds, and a
# snapshot built on damaged packs would otherwise look like a good backup until the day it is needed.
if ! actual=$(restic_run dump "$snapshot" "/$DUMP_NAME" | sha256sum | cut -d ' ' -f 1); then
  discard_snapshot "$snapshot" "it cannot be read back"
  die "$EX_DATA" "snapshot $snapshot cannot be read back from the repository"
fi
if [[ $actual != "$expected" ]]; then
  discard_snapshot "$snapshot" "it reads back as sha256 $actual, not $expected"
  die "$EX_DATA" "snapshot $snapshot does not read back as the dump that was stored"
fi
log "snapshot $snapshot stored and read back (sha256 $expected)"

apply_retention
log "database backup complete: snapshot $snapshot"
