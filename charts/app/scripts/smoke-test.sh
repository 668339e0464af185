#!/bin/sh
# The smoke test Argo CD runs after every sync (a PostSync hook Job, charts/app/smoke-test-job.ts):
# the public endpoints as a visitor meets them. For every host, each routed path over HTTPS with
# curl's own certificate verification (an expired, self-signed or wrong-host certificate is a
# failure), answering with a status below 500 and carrying every security header its HTTPRoute
# sets; and plain HTTP answering with a permanent redirect to HTTPS. One line per check, PASS or
# FAIL with what was expected and what came, then a summary; exit 1 when any check failed, which
# fails the hook and so the sync.
#
# A status below 500 counts as up: the Gateway routed the request and something behind it answered
# (401 and 403 from a login wall, 404 from an api's root, 405 from a POST-only path are all the
# application speaking). The route's headers tell a matched route from the Gateway's own 404.
# 5xx (no healthy backend, an invalid route) and no answer at all (refused, timed out, TLS) fail.
#
# The Gateway may take a few seconds to program what the sync just applied: the whole list is tried
# again, up to SMOKE_TEST_ATTEMPTS times, SMOKE_TEST_PAUSE_SECONDS apart, and only the last
# attempt's lines are printed in full.
#
# Settings, from the environment:
#   SMOKE_TEST_CHECKS           the check list: a file generated from the configuration, lines of
#                                 https <host> <path>                GET https://<host><path>
#                                 http <host>                        GET http://<host>/ redirects
#                                 header-equals <name> <value>       exactly one such header, this value
#                                 header-includes <name> <value>     one of the header's values is this
#                               (header lines apply to every https line; # starts a comment)
#   SMOKE_TEST_ATTEMPTS         how many times the list is tried before the run fails
#   SMOKE_TEST_PAUSE_SECONDS    pause between two attempts
#   SMOKE_TEST_TIMEOUT_SECONDS  the longest one request may take, connecting and TLS included
#   SMOKE_TEST_VERIFY_CERTIFICATES  true, or false where the hosts' issuer is one no trust store
#                               holds (Let's Encrypt's staging environment): the certificate is
#                               then not verified (curl --insecure), everything else is checked
#   SMOKE_TEST_CONNECT_TO       for tests only, never set by the Job: curl --connect-to entries
#                               (host:port:address:port, separated by spaces), so that a test checks
#                               the configured host names against a server of its own
# Certificates are verified against curl's CA bundle: the image's (curlimages/curl sets
# CURL_CA_BUNDLE), which a test replaces through the same variable.
#
# POSIX sh: the image's shell is BusyBox ash.
set -eu
# No word of a setting or a header is a pattern.
set -f

EX_CONFIG=64
nl='
'

die() {
  printf 'FAILED: %s\n' "$1" >&2
  exit "$EX_CONFIG"
}

whole_number() {
  case $2 in
    '' | *[!0-9]*) die "$1 must be a whole number of at least $3, not \"$2\"" ;;
  esac
  if [ "$2" -lt "$3" ]; then die "$1 must be a whole number of at least $3, not \"$2\""; fi
}

checks=${SMOKE_TEST_CHECKS:-}
attempts=${SMOKE_TEST_ATTEMPTS:-}
pause=${SMOKE_TEST_PAUSE_SECONDS:-}
timeout=${SMOKE_TEST_TIMEOUT_SECONDS:-}
[ -n "$checks" ] || die 'SMOKE_TEST_CHECKS is not set'
[ -r "$checks" ] || die "cannot read the check list $checks"
whole_number SMOKE_TEST_ATTEMPTS "$attempts" 1
whole_number SMOKE_TEST_PAUSE_SECONDS "$pause" 0
whole_number SMOKE_TEST_TIMEOUT_SECONDS "$timeout" 1
verify=${SMOKE_TEST_VERIFY_CERTIFICATES:-}
case $verify in
  true | false) ;;
  *) die "SMOKE_TEST_VERIFY_CERTIFICATES must be true or false, not \"$verify\"" ;;
esac

# The list is checked before any request: one line not understood refuses it whole.
targets=0
# The names of the headers looked at, as the list spells them (HTTP/2 sends them in lower case).
names=Location
while read -r kind first rest || [ -n "$kind" ]; do
  case $kind in
    '' | '#'*) ;;
    https)
      case $rest in
        /*) targets=$((targets + 1)) ;;
        *) die "$checks: an https line needs a host and a path starting with /: \"$kind $first $rest\"" ;;
      esac
      ;;
    http)
      if [ -z "$first" ] || [ -n "$rest" ]; then die "$checks: an http line names one host: \"$kind $first $rest\""; fi
      targets=$((targets + 1))
      ;;
    header-equals | header-includes)
      if [ -z "$first" ] || [ -z "$rest" ]; then die "$checks: a header line needs a name and a value: \"$kind $first $rest\""; fi
      names="$names $first"
      ;;
    *) die "$checks: unknown check \"$kind\"" ;;
  esac
done <"$checks"
[ "$targets" -gt 0 ] || die "$checks names no host to check"

# The response as lines `<name> <value>`: names as the list spells them whatever their case,
# values without surrounding blanks, carriage returns gone; then the result line curl writes out.
# One awk per request: a report of many checks costs no process per check.
# shellcheck disable=SC2016 # awk's program, not the shell's
normalize='
  BEGIN { n = split(names, list, " "); for (i = 1; i <= n; i++) spelled[tolower(list[i])] = list[i] }
  /^=result / { print; next }
  {
    sub(/\r$/, "")
    i = index($0, ":")
    if (i < 2) next
    name = tolower(substr($0, 1, i - 1))
    if (name in spelled) name = spelled[name]
    value = substr($0, i + 1)
    gsub(/^[ \t]+|[ \t]+$/, "", value)
    print name " " value
  }'

# GET $1 without following redirects. Sets status (000 when nothing answered), headers (see
# normalize) and problem (curl's error, or empty).
fetch() {
  url=$1
  set -- -q --silent --output /dev/null --dump-header - --max-time "$timeout" \
    --user-agent shipshape-smoke-test --write-out '\n=result %{http_code} %{exitcode} %{errormsg}\n'
  for entry in ${SMOKE_TEST_CONNECT_TO:-}; do
    set -- "$@" --connect-to "$entry"
  done
  if [ "$verify" = false ]; then set -- "$@" --insecure; fi
  # curl's exit status is in the written-out line; a failed request is a result, not an error.
  out=$(curl "$@" "$url" | awk -v names="$names" "$normalize") || true
  result=${out##*"$nl"}
  case $out in
    *"$nl"*) headers=${out%"$nl"*} ;;
    *) headers='' ;;
  esac
  result=${result#=result }
  status=${result%% *}
  after_status=${result#* }
  code=${after_status%% *}
  problem=''
  if [ "$code" != 0 ]; then problem="curl error $code: ${after_status#* }"; fi
}

# Sets values to the values of header $1 in the last response, one a line, and got to them as
# `"a", "b"` (or `none`). With $2 = split, a value holding several comma-separated ones (a proxy
# may join repeated headers) counts as each of them.
find_header() {
  values='' got=''
  old_ifs=$IFS
  IFS=$nl
  for line in $headers; do
    [ "${line%% *}" = "$1" ] || continue
    value=${line#* }
    if [ "${2:-}" = split ]; then
      IFS=,
      for part in $value; do
        part=${part#"${part%%[! ]*}"}
        part=${part%"${part##*[! ]}"}
        values="$values$part$nl"
        got="$got${got:+, }\"$part\""
      done
      IFS=$nl
    else
      values="$values$value$nl"
      got="$got${got:+, }\"$value\""
    fi
  done
  IFS=$old_ifs
  values=${values%"$nl"}
  got=${got:-none}
}

pass() {
  total=$((total + 1))
  report="${report}PASS $1$nl"
}

fail() {
  total=$((total + 1))
  failed=$((failed + 1))
  report="${report}FAIL $1$nl"
  if [ -z "$first_failure" ]; then first_failure="FAIL $1"; fi
}

check_header() {
  url=$1 check=$2 name=$3 expected=$4
  if [ -n "$problem" ]; then
    fail "$url $name: expected \"$expected\", got no response"
  elif [ "$check" = header-equals ]; then
    find_header "$name"
    if [ "$values" = "$expected" ]; then
      pass "$url $name: \"$expected\""
    else
      fail "$url $name: expected \"$expected\", got $got"
    fi
  else
    find_header "$name" split
    case "$nl$values$nl" in
      *"$nl$expected$nl"*) pass "$url $name: includes \"$expected\"" ;;
      *) fail "$url $name: expected a value \"$expected\", got $got" ;;
    esac
  fi
}

check_https() {
  url="https://$1$2"
  fetch "$url"
  if [ -n "$problem" ]; then
    fail "$url answers over verified TLS: expected a status below 500, got no response ($problem)"
  elif [ "$status" -ge 500 ]; then
    fail "$url answers: expected a status below 500, got $status"
  else
    pass "$url answers: $status"
  fi
  while read -r check name value || [ -n "$check" ]; do
    case $check in
      header-equals | header-includes) check_header "$url" "$check" "$name" "$value" ;;
    esac
  done <"$checks"
}

check_http() {
  url="http://$1/"
  fetch "$url"
  if [ -n "$problem" ]; then
    fail "$url redirects to HTTPS: expected 301 or 308 to https://$1/, got no response ($problem)"
    return
  fi
  find_header Location
  case "$status $values" in
    "301 https://$1/" | "308 https://$1/" | "301 https://$1:443/" | "308 https://$1:443/")
      pass "$url redirects to HTTPS: $status to $values"
      ;;
    *) fail "$url redirects to HTTPS: expected 301 or 308 to https://$1/, got $status to $got" ;;
  esac
}

run_checks() {
  report='' total=0 failed=0 first_failure=''
  while read -r kind first rest || [ -n "$kind" ]; do
    case $kind in
      https) check_https "$first" "$rest" ;;
      http) check_http "$first" ;;
    esac
  done <"$checks"
}

attempt=1
while :; do
  run_checks
  if [ "$failed" -eq 0 ] || [ "$attempt" -ge "$attempts" ]; then break; fi
  printf 'attempt %s of %s: %s of %s checks failed, the first: %s; next attempt in %s s\n' \
    "$attempt" "$attempts" "$failed" "$total" "$first_failure" "$pause"
  sleep "$pause"
  attempt=$((attempt + 1))
done

printf '%s' "$report"
if [ "$failed" -eq 0 ]; then
  printf 'smoke test passed: %s checks, at attempt %s of %s\n' "$total" "$attempt" "$attempts"
  exit 0
fi
printf 'smoke test FAILED: %s of %s checks failed at the last of %s attempts\n' "$failed" "$total" "$attempts"
exit 1
