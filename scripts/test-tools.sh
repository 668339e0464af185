#!/usr/bin/env bash
# Makes sure the Debian tools the tests run for real are installed. As root it installs what is
# missing; otherwise it says exactly what to install and fails, so no test is silently skipped.
set -euo pipefail

# command → Debian package
declare -A TOOLS=(
  [yamllint]=yamllint
  [shellcheck]=shellcheck
  [restic]=restic
  [redis-server]=redis-server
  [redis-sentinel]=redis-sentinel
  [/usr/lib/postgresql/15/bin/postgres]=postgresql-15
  [promtool]=prometheus
  [prometheus]=prometheus
  [amtool]=prometheus-alertmanager
  [prometheus-alertmanager]=prometheus-alertmanager
  [prometheus-blackbox-exporter]=prometheus-blackbox-exporter
  [prometheus-redis-exporter]=prometheus-redis-exporter
  [lua5.1]=lua5.1
)

missing=()
for cmd in "${!TOOLS[@]}"; do
  if [[ $cmd == /* ]]; then [ -x "$cmd" ] && continue; else command -v "$cmd" >/dev/null 2>&1 && continue; fi
  missing+=("${TOOLS[$cmd]}")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "test-tools: installing ${missing[*]}" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "test-tools: missing ${missing[*]}; install with: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
