#!/usr/bin/env bash
# Scale measurements (issue #6) against a database seeded with
# tests/bench/seed.sql (n=1000000), tests/bench/seed_history.sql and
# tests/bench/scale/seed_joiners.sql: invite-code lookup (404: the lookup
# alone), join (201), approve (200) latency with wrk, then RSS with 100,000
# resident household actors. Prints everything; loopback only.
#
#   DATABASE_URL=... REDIS_URL=... tests/bench/scale/run.sh | tee tests/bench/scale/results.txt
#
# CONNECTIONS (16), DURATION (20 s per write scenario), VISIT (100000).
set -euo pipefail
cd "$(dirname "$0")/../../.."
root="$PWD"
: "${DATABASE_URL:?}" "${REDIS_URL:?}"
bin="${HOUSEHOLD_SERVICE_BIN:-$root/build/household-service}"
conns="${CONNECTIONS:-16}" duration="${DURATION:-20}" visit="${VISIT:-100000}"
secret="scale-jwt-secret-0123456789-abcdefghijklmnopqrstuvwxyz0"
work="$(mktemp -d /tmp/scale-run.XXXXXX)"
port="$(deploy/local/services.sh free-port)"
url="http://127.0.0.1:$port"
lua="tests/bench/scale/once.lua"
ulimit -n 20000
pid=""
stop_service() {
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  local t=$SECONDS
  while kill -0 "$pid" 2>/dev/null && (( SECONDS - t < 40 )); do sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}
trap 'stop_service; rm -rf "$work"' EXIT

metric() { curl -fsS "$url/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
rss_mib() { awk '/^VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status"; }

echo "# $(date -u +%FT%TZ) $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
psql "$DATABASE_URL" -X -At -c "SELECT 'rows: households ' || (SELECT count(*) FROM households)
  || ', users ' || (SELECT count(*) FROM users) || ', members ' || (SELECT count(*) FROM household_members)
  || ', join requests ' || (SELECT count(*) FROM household_join_requests)
  || ', audit ' || (SELECT count(*) FROM audit_log) || ', notifications ' || (SELECT count(*) FROM notifications)"

for kind in ${SKIP_WRITES:+none} lookup join; do
  [[ "$kind" != none ]] || break
  python3 tests/bench/scale/targets.py "$DATABASE_URL" "$secret" "$kind" "$work/$kind.txt"
done
python3 tests/bench/scale/targets.py "$DATABASE_URL" "$secret" "visit:$visit" "$work/visit.txt"

env -i PATH="$PATH" HOME="$HOME" APP_ENV=test DATABASE_URL="$DATABASE_URL" REDIS_URL="$REDIS_URL" \
  HOST=127.0.0.1 PORT="$port" LOG_LEVEL=warn SHUTDOWN_DRAIN_DELAY_MS=0 JWT_SECRET="$secret" \
  ENCRYPTION_KEY=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= \
  RATE_LIMIT_MAX_REQUESTS=1000000000 AUTH_RATE_LIMIT_MAX_REQUESTS=1000000000 \
  CODE_LOOKUP_RATE_LIMIT_MAX=1000000000 HOUSEHOLD_ACTOR_IDLE_TIMEOUT_MS=3600000 \
  HOUSEHOLD_ACTOR_MAILBOX_CAPACITY=1000 \
  "$bin" serve >"$work/service.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do curl -fsS "$url/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done
echo "service ready; idle RSS $(rss_mib) MiB"

run() {  # name mode file
  echo; echo "## $1: wrk -t2 -c$conns -d${duration}s --latency -s $lua $url -- $2 <$3> 2"
  wrk -t2 -c"$conns" -d"${duration}s" --timeout 10s --latency -s "$lua" "$url" -- "$2" "$3" 2 \
    | grep -E 'Requests/sec|statuses|latency p|Socket errors|Non-2xx'
}
if [[ -z "${SKIP_WRITES:-}" ]]; then
run "invite-code lookup of unknown codes (404 INVALID_INVITE_CODE, index lookup only)" join "$work/lookup.txt"
run "join with a valid code of a random household among 1M (201)" join "$work/join.txt"
python3 tests/bench/scale/targets.py "$DATABASE_URL" "$secret" approve "$work/approve.txt"
run "approve of those requests by the households' leaders (200)" approve "$work/approve.txt"
fi

echo; echo "## $visit resident household actors: GET /v1/households/{id} once per household (visit mode), 64 connections"
before="$(rss_mib)"
echo "before: RSS $before MiB, household_actors_active $(metric household_actors_active)"
t=$SECONDS
while (( $(metric household_actors_active | cut -d. -f1) < visit && SECONDS - t < ${VISIT_MAX_SECONDS:-900} )); do
  w=$(wrk -t2 -c64 -d30s --timeout 10s -s "$lua" "$url" -- visit "$work/visit.txt" 2)
  grep -E 'Requests/sec|statuses' <<<"$w"
  done_now=$(awk '/^Requests\/sec/ {r = $2} END {printf "%d", r * 30}' <<<"$w")
  # Each wrk run starts at the top of the file again: rotate past what was visited.
  k=$(( done_now / 2 * 2 )); (( k < visit )) || k=$(( visit / 2 * 2 ))
  { tail -n +"$((k + 1))" "$work/visit.txt"; head -n "$k" "$work/visit.txt"; } >"$work/visit.next"
  mv "$work/visit.next" "$work/visit.txt"
  echo "  RSS $(rss_mib) MiB, household_actors_active $(metric household_actors_active)"
done
sleep 5
echo "after: RSS $(rss_mib) MiB, household_actors_active $(metric household_actors_active), process_resident_memory_bytes $(metric process_resident_memory_bytes)"
after="$(rss_mib)" actors="$(metric household_actors_active | cut -d. -f1)"
echo "growth $((after - before)) MiB for $actors actors: $(awk -v a="$after" -v b="$before" -v n="$actors" \
  'BEGIN {printf "%.2f", (a - b) * 1024 / (n > 0 ? n : 1)}') KiB per resident household actor"
