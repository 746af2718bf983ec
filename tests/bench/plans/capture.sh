#!/usr/bin/env bash
# Regenerates the query-plan evidence of tests/bench/plans/ at scale:
# auto_explain (log_analyze, log_buffers, nested statements, every statement)
# is switched on for the database, a fresh service instance is started, every
# /v1 endpoint is called once (exercise.py) and the background jobs run for
# 70 s (temporary-access sweep every second, outbox poll every second, the
# idempotency sweep after a minute); then the logged plans are collected
# (analyze.py -> plans.txt, summary.md) and auto_explain is switched off again.
#
#   DATABASE_URL=postgresql://postgres@127.0.0.1:PG/household_scale \
#   REDIS_URL=redis://127.0.0.1:RP PG_LOG=/tmp/scale-stores/pg.log \
#   tests/bench/plans/capture.sh
#
# The database must hold tests/bench/seed.sql (n=1000000) and
# tests/bench/seed_history.sql, and be reached as a superuser (the local
# services.sh cluster: user postgres). Loopback only; stops what it starts.
# auto_explain is set per database: any other service connected to the same
# database meanwhile has its statements logged too (they end up in plans.txt).
set -euo pipefail
cd "$(dirname "$0")/../../.."
root="$PWD"
out="$root/tests/bench/plans"
bin="${HOUSEHOLD_SERVICE_BIN:-$root/build/household-service}"
: "${DATABASE_URL:?}" "${REDIS_URL:?}" "${PG_LOG:?server log of the cluster}"
db="${DATABASE_URL##*/}"
secret="plans-jwt-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
mail="$(mktemp -d /tmp/plans-mail.XXXXXX)"
port="$(deploy/local/services.sh free-port)"
pid=""

settings=(session_preload_libraries auto_explain.log_min_duration auto_explain.log_analyze
          auto_explain.log_buffers auto_explain.log_nested_statements auto_explain.log_timing
          auto_explain.log_format)
# SIGTERM, then SIGKILL if the service has not exited within 40 s (noted).
stop_service() {
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  local t=$SECONDS
  while kill -0 "$pid" 2>/dev/null && (( SECONDS - t < 40 )); do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "note: the service did not exit within 40 s of SIGTERM; sent SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
  else
    echo "service exited $((SECONDS - t)) s after SIGTERM" >&2
  fi
  wait "$pid" 2>/dev/null || true
  pid=""
}
cleanup() {
  stop_service
  for s in "${settings[@]}"; do psql "$DATABASE_URL" -X -q -c "ALTER DATABASE \"$db\" RESET $s" || true; done
  rm -rf "$mail"
}
trap cleanup EXIT

psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 <<SQL
ALTER DATABASE "$db" SET session_preload_libraries = 'auto_explain';
ALTER DATABASE "$db" SET auto_explain.log_min_duration = 0;
ALTER DATABASE "$db" SET auto_explain.log_analyze = on;
ALTER DATABASE "$db" SET auto_explain.log_buffers = on;
ALTER DATABASE "$db" SET auto_explain.log_nested_statements = on;
ALTER DATABASE "$db" SET auto_explain.log_timing = on;
ALTER DATABASE "$db" SET auto_explain.log_format = text;
SQL
read -r seeded_hid seeded_uid < <(psql "$DATABASE_URL" -X -At -F ' ' -c \
  "SELECT id, leader_id FROM households WHERE name = 'Seed House 424242'")
offset="$(stat -c %s "$PG_LOG")"

env -i PATH="$PATH" HOME="$HOME" APP_ENV=test DATABASE_URL="$DATABASE_URL" REDIS_URL="$REDIS_URL" \
  HOST=127.0.0.1 PORT="$port" LOG_LEVEL=warn SHUTDOWN_DRAIN_DELAY_MS=0 JWT_SECRET="$secret" \
  ENCRYPTION_KEY=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= \
  PASSWORD_HASH_OPSLIMIT=1 PASSWORD_HASH_MEMLIMIT_KIB=8192 RATE_LIMIT_MAX_REQUESTS=1000000000 \
  AUTH_RATE_LIMIT_MAX_REQUESTS=1000000000 CODE_LOOKUP_RATE_LIMIT_MAX=1000000000 \
  EMAIL_TRANSPORT=file EMAIL_FILE_DIR="$mail" OUTBOX_POLL_INTERVAL_MS=1000 EXPIRY_SWEEP_INTERVAL_MS=1000 \
  "$bin" serve >"$out/service.log" 2>&1 &
pid=$!
started=$SECONDS
for _ in $(seq 1 300); do
  curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break
  sleep 0.1
done
python3 "$out/exercise.py" "http://127.0.0.1:$port" "$secret" "$mail" "$seeded_hid" "$seeded_uid" \
  | tee "$out/calls.txt"
# Let the background jobs run (the idempotency sweep first runs a minute after start).
while (( SECONDS - started < 70 )); do sleep 1; done
stop_service
raw="${RAW_LOG:-/tmp/auto_explain.log}"
tail -c +"$((offset + 1))" "$PG_LOG" >"$raw"
python3 "$out/analyze.py" "$raw" "$out" "$DATABASE_URL"
echo "raw auto_explain log (not committed): $raw"
rm -f "$out/service.log"
