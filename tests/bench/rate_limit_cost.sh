#!/usr/bin/env bash
# Cost of one rate-limit check (SPEC §3.9) and its share of a /v1 request.
#   tests/bench/rate_limit_cost.sh BINARY DATABASE_URL REDIS_PORT [STORES_DIR]
# 1. redis-benchmark of the limiter's Lua script (storage/redis.cpp) against PING,
#    as EVALSHA and as EVAL with the full script text (what actors/rate_limit.cpp sends):
#    -c 1 gives the round-trip latency, -c 50 the server CPU per call (1 / throughput).
# 2. Sequential latency through the service on one keep-alive connection:
#    /health (no limiter), an unknown /v1 route (global limit + 404 only), and
#    /v1/households/me (limit + session + household actor).
# 3. With STORES_DIR (deploy/local/services.sh dir): the same /v1 404 with Redis stopped,
#    i.e. with the in-memory limiter; the difference is the Redis check's cost. Redis is
#    started again at the end. Loopback only; bounded (a few seconds per step).
set -euo pipefail
cd "$(dirname "$0")"
bin="$1" db="$2" rport="$3" stores="${4:-}"
N="${N:-3000}"
script="$(sed -n '/constexpr const char\* rate_script = R"lua(/,/^)lua";/p' ../../storage/redis.cpp | sed '1d;$d')"
sha="$(redis-cli -p "$rport" SCRIPT LOAD "$script")"
key='hh:rl:bench:user:__rand_int__'
echo "== redis-benchmark (Redis 127.0.0.1:$rport), 100-entry windows over 1000 keys"
redis-cli -p "$rport" CONFIG RESETSTAT >/dev/null
for c in 1 50; do
  redis-benchmark -p "$rport" -n 50000 -c "$c" -q PING | tr "\r" "\n" | tail -1 | sed "s/^/c=$c /"
  redis-benchmark -p "$rport" -n 50000 -c "$c" -r 1000 -q EVALSHA "$sha" 1 "$key" 900000 100 m:__rand_int__ count \
    | tr '\r' '\n' | tail -1 | sed "s/^/c=$c EVALSHA rate_script: /"
  redis-benchmark -p "$rport" -n 50000 -c "$c" -r 1000 -q EVAL "$script" 1 "$key" 900000 100 m:__rand_int__ count \
    | tr '\r' '\n' | tail -1 | sed "s/^/c=$c EVAL rate_script (full text): /"
done
echo "-- server CPU per call (INFO commandstats, usec_per_call):"
redis-cli -p "$rport" INFO commandstats | tr -d '\r' | grep -E '^cmdstat_(ping|evalsha|eval):' | sed 's/^/   /'
redis-cli -p "$rport" --scan --pattern 'hh:rl:bench:*' | xargs -r -n 500 redis-cli -p "$rport" DEL >/dev/null

echo "== through the service (sequential, one connection, N=$N)"
python3 - "$bin" "$db" "redis://127.0.0.1:$rport" "$N" "$stores" <<'EOF'
import os, subprocess, sys, time, benchlib as bl
binary, db, redis, n, stores = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
bl.psql(db, """
INSERT INTO users (id, email, password_hash, display_name) VALUES
  ('00000000-0000-4000-8000-0000000000b1', 'rlcost@bench.invalid', 'x', 'Cost') ON CONFLICT DO NOTHING;
INSERT INTO sessions (id, user_id, refresh_token_hash, expires_at) VALUES
  ('00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-0000000000b1', repeat('0', 64), now() + interval '1 day')
  ON CONFLICT DO NOTHING;
INSERT INTO households (id, name, invite_code, leader_id, created_by) VALUES
  ('00000000-0000-4000-8000-0000000000b2', 'Cost House', 'CST-ALPHA-BRAVO',
   '00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-0000000000b1') ON CONFLICT DO NOTHING;
INSERT INTO household_members (household_id, user_id, role)
  SELECT '00000000-0000-4000-8000-0000000000b2', '00000000-0000-4000-8000-0000000000b1', 'leader'
  WHERE NOT EXISTS (SELECT 1 FROM household_members WHERE user_id = '00000000-0000-4000-8000-0000000000b1');""")
tok = bl.token('00000000-0000-4000-8000-0000000000b1')
svc = bl.Service(binary, db, redis)
here = os.path.dirname(os.path.abspath("latency.py"))
def lat(path, token=""):
    subprocess.run([sys.executable, "latency.py", str(svc.port), path, n, token], check=True)
try:
    lat("/health")
    lat("/v1/no-such-route")
    lat("/v1/households/me", tok)
    if stores:
        script = os.path.join(here, "../../deploy/local/services.sh")
        subprocess.run([script, "redis-stop", stores], check=True, capture_output=True)
        try:
            time.sleep(2.0)
            print("-- Redis stopped (in-memory limiter):")
            lat("/v1/no-such-route")
        finally:
            subprocess.run([script, "redis-start", stores], check=True, capture_output=True)
        time.sleep(3.0)
        print("-- Redis back:")
        lat("/v1/no-such-route")
finally:
    svc.stop()
EOF
