#!/usr/bin/env bash
# Soak: DURATION seconds (default 600) of mixed traffic (soak.lua) at
# CONNECTIONS (default 1000) against one service instance, as consecutive
# SEGMENT-second wrk runs (default 30) so p99 is known per interval; a sampler
# records RSS, threads, mailbox depths and pool gauges every 5 s.
# Writes to OUT (default tests/bench/soak): segments.csv, samples.csv,
# soak.png (gnuplot), summary.txt.
#
#   DATABASE_URL=... REDIS_URL=... tests/bench/soak/soak.sh
#
# The database must hold tests/bench/seed.sql; the first USERS (default 20000)
# seeded leaders are the clients (tokens signed here with the instance's secret).
set -euo pipefail
cd "$(dirname "$0")/../../.."
root="$PWD"
: "${DATABASE_URL:?}" "${REDIS_URL:?}"
bin="${HOUSEHOLD_SERVICE_BIN:-$root/build/household-service}"
out="${OUT:-$root/tests/bench/soak}"
duration="${DURATION:-600}" segment="${SEGMENT:-30}" conns="${CONNECTIONS:-1000}"
users="${USERS:-20000}" threads="${WRK_THREADS:-2}"
secret="soak-jwt-secret-0123456789-abcdefghijklmnopqrstuvwxyz01"
work="$(mktemp -d /tmp/soak.XXXXXX)"
port="$(deploy/local/services.sh free-port)"
ulimit -n 20000
pid="" sampler=""
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
  [[ -n "$sampler" ]] && kill "$sampler" 2>/dev/null || true
  stop_service
  rm -rf "$work"
}
trap cleanup EXIT

python3 tests/bench/scale/targets.py "$DATABASE_URL" "$secret" "visit:$users" "$work/targets.txt"
env -i PATH="$PATH" HOME="$HOME" APP_ENV=test DATABASE_URL="$DATABASE_URL" REDIS_URL="$REDIS_URL" \
  HOST=127.0.0.1 PORT="$port" LOG_LEVEL=warn SHUTDOWN_DRAIN_DELAY_MS=0 JWT_SECRET="$secret" \
  ENCRYPTION_KEY=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= \
  RATE_LIMIT_MAX_REQUESTS=1000000000 AUTH_RATE_LIMIT_MAX_REQUESTS=1000000000 \
  CODE_LOOKUP_RATE_LIMIT_MAX=1000000000 \
  "$bin" serve >"$work/service.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null

python3 tests/bench/soak/sampler.py "$pid" "http://127.0.0.1:$port" 5 "$((duration + 15))" >"$out/samples.csv" &
sampler=$!
echo "segment,t_start_s,t_end_s,requests,rps,err_connect,err_read,err_write,err_timeout,non2xx,s5xx,p50_ms,p90_ms,p99_ms,max_ms" \
  >"$out/segments.csv"
t0=$(date +%s.%N)
i=0
while :; do
  now=$(date +%s.%N)
  elapsed=$(python3 -c "print(int($now - $t0))")
  (( elapsed < duration )) || break
  i=$((i + 1))
  line=$(wrk -t"$threads" -c"$conns" -d"${segment}s" --timeout 10s -s tests/bench/soak/soak.lua \
           "http://127.0.0.1:$port" -- "$work/targets.txt" | grep '^CSV ' | cut -c5-)
  end=$(date +%s.%N)
  python3 - "$i" "$t0" "$now" "$end" "$line" "$segment" >>"$out/segments.csv" <<'PY'
import sys
i, t0, s, e, line, seg = sys.argv[1:7]
f = line.split(",")
print(f"{i},{float(s)-float(t0):.1f},{float(e)-float(t0):.1f},{f[0]},{int(f[0])/float(seg):.0f}," + ",".join(f[1:]))
PY
  tail -n 1 "$out/segments.csv"
  kill -0 "$pid" || { echo "service died" >&2; exit 1; }
done
wait "$sampler" || true; sampler=""
stop_service
python3 tests/bench/soak/report.py "$out" | tee "$out/summary.txt"
gnuplot -e "dir='$out'" tests/bench/soak/plot.gp
