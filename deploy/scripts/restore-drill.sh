#!/usr/bin/env bash
# Restore drill (SPEC §8.3, RTO 15 min), everything on loopback, all of it
# stopped at the end:
#   1. a "production" PostgreSQL + Redis (deploy/local/services.sh), migrated,
#      loaded with DRILL_HOUSEHOLDS households (tests/bench/seed.sql);
#   2. deploy/scripts/db-backup.sh;
#   3. disaster: PostgreSQL stopped and its data directory deleted -- the RTO
#      clock starts here;
#   4. a NEW PostgreSQL + Redis on new ports (services.sh start --throwaway);
#   5. deploy/scripts/db-restore.sh into a new database (restore, ANALYZE,
#      migrate, verify);
#   6. deploy/scripts/redis-reset.sh (mandatory after a restore);
#   7. a service instance on the restored database until /health/ready is 200;
#   8. checks: row counts equal those before the disaster, a seeded leader's
#      household is served (token signed like tests/bench/tokens.py), and
#      deploy/scripts/smoke.sh passes -- the RTO clock stops when they pass.
# Prints a timeline per step and the total against 900 s.
#
#   deploy/scripts/restore-drill.sh
#
# Env: DRILL_DIR (default .local/restore-drill, wiped first), DRILL_HOUSEHOLDS
# (default 100000), HOUSEHOLD_BIN (default build/household-service).
set -euo pipefail
if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
  sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0
fi

cd "$(dirname "$0")/../.."
root="$PWD"
services="$root/deploy/local/services.sh"
dir="${DRILL_DIR:-$root/.local/restore-drill}"
n="${DRILL_HOUSEHOLDS:-100000}"
bin="${HOUSEHOLD_BIN:-$root/build/household-service}"
export HOUSEHOLD_BIN="$bin"
[[ -x "$bin" ]] || { echo "restore-drill: $bin not found (build first)" >&2; exit 1; }

log() { printf 'restore-drill: %s\n' "$*" >&2; }
service_pid=""
# shellcheck disable=SC2317 # called from the trap
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [[ -n "$service_pid" ]] && kill -0 "$service_pid" 2>/dev/null; then
    kill -TERM "$service_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$service_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$service_pid" 2>/dev/null || true
    wait "$service_pid" 2>/dev/null || true
  fi
  "$services" stop "$dir/source" >/dev/null 2>&1 || true
  "$services" stop "$dir/target" >/dev/null 2>&1 || true
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$services" stop "$dir/source" >/dev/null 2>&1 || true
"$services" stop "$dir/target" >/dev/null 2>&1 || true
rm -rf "$dir"
mkdir -p "$dir"

ports=()
while (( ${#ports[@]} < 5 )); do
  p="$("$services" free-port)"
  [[ " ${ports[*]} " == *" $p "* ]] || ports+=("$p")
done
src_pg="${ports[0]}" src_redis="${ports[1]}" dst_pg="${ports[2]}" dst_redis="${ports[3]}" http_port="${ports[4]}"
src_url="postgresql://postgres@127.0.0.1:$src_pg/household_dev"
dst_url="postgresql://postgres@127.0.0.1:$dst_pg/household_restored"

now() { printf '%s\n' "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
timeline=()
mark() { timeline+=("$(printf '%-44s %7s s' "$1" "$(since "$2")")"); log "$1: $(since "$2") s"; }

# ----------------------------------------------------------- preparation ---
t="$(now)"
"$services" start "$dir/source" "$src_pg" "$src_redis"
DATABASE_URL="$src_url" "$bin" migrate >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$src_url" -v n="$n" -f "$root/tests/bench/seed.sql" >/dev/null
mark "prepare: start, migrate, seed $n households" "$t"

count_sql="SELECT (SELECT count(*) FROM users) || ' users, ' || (SELECT count(*) FROM households) || ' households, '
  || (SELECT count(*) FROM household_members) || ' members, ' || (SELECT count(*) FROM sessions) || ' sessions'"
before="$(psql -X -q -t -A -d "$src_url" -c "$count_sql")"
sample="$(psql -X -q -t -A -F ' ' -d "$src_url" -c \
  "SELECT household_id, user_id FROM household_members WHERE role = 'leader' ORDER BY random() LIMIT 1")"
log "before: $before"

t="$(now)"
dump="$(DATABASE_URL="$src_url" "$root/deploy/scripts/db-backup.sh" -d "$dir/backups")"
mark "backup: db-backup.sh ($(du -h "$dump" | cut -f1))" "$t"

# ------------------------------------------------------------ disaster ---
"$services" stop "$dir/source"
rm -rf "$dir/source/pg"
log "disaster: PostgreSQL stopped, $dir/source/pg deleted"
rto_start="$(now)"

t="$(now)"
"$services" start --throwaway "$dir/target" "$dst_pg" "$dst_redis"
mark "RTO 1: new PostgreSQL + Redis" "$t"

t="$(now)"
"$root/deploy/scripts/db-restore.sh" -j 2 "$dump" "$dst_url"
mark "RTO 2: db-restore.sh (restore, analyze, migrate, verify)" "$t"

t="$(now)"
REDIS_URL="redis://127.0.0.1:$dst_redis" "$root/deploy/scripts/redis-reset.sh"
mark "RTO 3: redis-reset.sh" "$t"

t="$(now)"
secret="$(head -c 48 /dev/urandom | base64 | tr -d '/+=\n')"
env DATABASE_URL="$dst_url" REDIS_URL="redis://127.0.0.1:$dst_redis" HOST=127.0.0.1 PORT="$http_port" \
  JWT_SECRET="$secret" AUTO_MIGRATE=false LOG_LEVEL=warn \
  PASSWORD_HASH_OPSLIMIT=1 PASSWORD_HASH_MEMLIMIT_KIB=8192 \
  "$bin" serve >"$dir/service.log" 2>&1 &
service_pid=$!
until [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$http_port/health/ready" || true)" == 200 ]]; do
  kill -0 "$service_pid" 2>/dev/null || { cat "$dir/service.log" >&2; log "service exited"; exit 1; }
  sleep 0.1
done
mark "RTO 4: service start -> /health/ready 200" "$t"

t="$(now)"
after="$(psql -X -q -t -A -d "$dst_url" -c "$count_sql")"
log "after:  $after"
[[ "$after" == "$before" ]] || { log "row counts differ"; exit 1; }
read -r hid uid <<<"$sample"
b64() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
iat="$(date +%s)"
signing="$(printf '{"alg":"HS256","typ":"JWT"}' | b64).$(printf '{"sub":"%s","sid":"%s","iat":%s,"exp":%s}' "$uid" "$uid" "$iat" $((iat + 600)) | b64)"
sig="$(printf '%s' "$signing" | openssl dgst -sha256 -hmac "$secret" -binary | b64)"
code="$(curl -s -o "$dir/household.json" -w '%{http_code}' -H "Authorization: Bearer $signing.$sig" \
  "http://127.0.0.1:$http_port/v1/households/$hid")"
[[ "$code" == 200 ]] || { log "GET /v1/households/{seeded id} -> $code"; exit 1; }
"$root/deploy/scripts/smoke.sh" "http://127.0.0.1:$http_port" >"$dir/smoke.log" || { cat "$dir/smoke.log"; exit 1; }
mark "RTO 5: checks (counts, seeded household, smoke.sh)" "$t"

total="$(since "$rto_start")"
echo "---- restore drill: $n households"
echo "before disaster: $before"
echo "after restore:   $after"
printf '%s\n' "${timeline[@]}"
printf '%-44s %7s s (RTO 900 s: %s)\n' "RTO total (disaster -> verified service)" "$total" \
  "$(awk -v t="$total" 'BEGIN { print (t <= 900) ? "met" : "MISSED" }')"
tail -n 1 "$dir/smoke.log"
