#!/usr/bin/env bash
# The deployment guide's monitoring checks (SPEC §5, §8.1, §8.2, §8.3) as one
# read-only report: Prometheus metrics of each instance and PostgreSQL queries.
#
#   deploy/scripts/monitoring.sh [-i SECONDS] [INSTANCE_URL ...]
#     e.g. DATABASE_URL=postgresql://... deploy/scripts/monitoring.sh \
#            http://10.0.0.5:3000 http://10.0.0.6:3000
#
# Metrics (per instance URL, /metrics sampled twice -i seconds apart, default
# 10; METRICS_TOKEN is sent when set), over that interval:
#   request rate; 5xx share (alert > 5 %, SLO < 0.1 %); P99 of /v1 requests
#   from the latency histogram (alert > 1 s, SLO < 500 ms); CPU of the process
#   (autoscale at > 70 % of one vCPU); resident memory (alert > 80 % of
#   MEMORY_LIMIT_MB, default 2048 = the 2 GB task); DB pool in use / max and
#   acquire timeouts; actor restarts; rate-limit rejections; auth failures;
#   outbox pending/failed; household actors; SSE streams; in-flight requests.
# PostgreSQL (when DATABASE_URL is set), read-only:
#   connections by state and application vs max_connections (the pool budget
#   is instances x DATABASE_POOL_MAX); transactions open > 30 s; lock waits;
#   email outbox backlog (pending, oldest due, failed in 24 h); temporary
#   memberships past their end still active (the expiry sweep is lagging);
#   pending join requests; active sessions; schema version; WAL archiving
#   (pg_stat_archiver: failures and the age of the last archived segment --
#   the RPO of 5 min depends on it); database and largest table sizes.
#
# Prints ALERT lines for breached thresholds; exit status 1 if any, 0 if none,
# 2 on usage errors. Needs curl, awk, psql (for the database part).
set -euo pipefail

interval=10
while getopts 'i:h' opt; do
  case "$opt" in
    i) interval="$OPTARG" ;;
    h) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[[ "$interval" =~ ^[1-9][0-9]*$ ]] || { echo "monitoring: -i needs whole seconds" >&2; exit 2; }
(( $# > 0 )) || [[ -n "${DATABASE_URL:-}" ]] || { echo "monitoring: give instance URLs and/or set DATABASE_URL" >&2; exit 2; }
mem_limit_mb="${MEMORY_LIMIT_MB:-2048}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
alerts=0

fetch() { # fetch URL FILE
  local args=(-s -f --max-time 5 -o "$2")
  [[ -n "${METRICS_TOKEN:-}" ]] && args+=(-H "Authorization: Bearer $METRICS_TOKEN")
  curl "${args[@]}" "$1/metrics"
}

# Prints the report for one instance from two samples; ALERT lines included.
# Counters are summed over label sets; the histogram is merged over /v1 routes.
report() {
  awk -v dt="$interval" -v memlimit="$mem_limit_mb" '
    function val(line) { return line + 0 }
    {
      if ($0 ~ /^#/ || NF < 2) next
      name = $1; v = $NF + 0; base = name; sub(/\{.*/, "", base)
      s = (FILENAME == ARGV[1]) ? 1 : 2
      if (base == "http_requests_total") {
        total[s] += v
        if (name ~ /status="5/) err[s] += v
      } else if (base == "http_request_duration_seconds_bucket" && name ~ /route="\/v1/) {
        le = name; sub(/.*le="/, "", le); sub(/".*/, "", le)
        bucket[s, le] += v; les[le] = 1
      } else if (base == "process_cpu_seconds_total") cpu[s] = v
      else if (base == "process_resident_memory_bytes") rss[s] = v
      else if (name == "db_pool_connections{state=\"in_use\"}") inuse[s] = v
      else if (base == "db_pool_max") poolmax[s] = v
      else if (base == "db_pool_acquire_timeouts_total") acq[s] += v
      else if (base == "actor_restarts_total") restarts[s] += v
      else if (base == "rate_limit_rejections_total") rl[s] += v
      else if (base == "auth_failures_total") authf[s] += v
      else if (base == "email_outbox_pending") outbox[s] = v
      else if (base == "email_outbox_failed_total") outfail[s] += v
      else if (base == "household_actors_active") actors[s] = v
      else if (base == "sse_streams_open") sse[s] = v
      else if (base == "http_requests_in_flight") inflight[s] = v
      else if (base == "build_info") { ver = name; sub(/.*version="/, "", ver); sub(/".*/, "", ver) }
    }
    END {
      n = total[2] - total[1]; e = err[2] - err[1]
      printf "  version %s; requests %.1f/s; 5xx %d of %d (%.2f %%); in flight %d\n", ver, n / dt, e, n, n ? 100 * e / n : 0, inflight[2]
      if (n > 0 && 100 * e / n > 5) print "ALERT 5xx share above 5 %"
      # P99 over the interval: the smallest bucket holding 99 % of the /v1 requests.
      cnt = 0; for (le in les) { d[le] = bucket[2, le] - bucket[1, le]; if (le == "+Inf") cnt = d[le] }
      p99 = "n/a"
      if (cnt > 0) {
        m = 0; for (le in les) if (le != "+Inf") ks[++m] = le + 0
        for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (ks[j] < ks[i]) { t = ks[i]; ks[i] = ks[j]; ks[j] = t }
        p99 = "> 10 s"
        for (i = 1; i <= m; i++) {
          for (le in les) if (le != "+Inf" && le + 0 == ks[i]) c = d[le]
          if (c >= 0.99 * cnt) { p99 = "<= " ks[i] " s"; p99v = ks[i]; break }
        }
        if (p99 == "> 10 s") p99v = 99
      }
      printf "  /v1 P99 %s (%d requests)\n", p99, cnt
      if (cnt > 0 && p99v > 1) print "ALERT P99 above 1 s"
      c = 100 * (cpu[2] - cpu[1]) / dt
      printf "  CPU %.0f %% of one core; RSS %.0f MB (%.0f %% of %d MB)\n", c, rss[2] / 1048576, 100 * rss[2] / 1048576 / memlimit, memlimit
      if (c > 70) print "ALERT CPU above 70 % (scale out)"
      if (rss[2] / 1048576 > 0.8 * memlimit) print "ALERT memory above 80 %"
      printf "  DB pool %d in use of %d; acquire timeouts +%d\n", inuse[2], poolmax[2], acq[2] - acq[1]
      if (acq[2] - acq[1] > 0) print "ALERT DB pool acquire timeouts"
      if (poolmax[2] > 0 && inuse[2] >= poolmax[2]) print "ALERT DB pool exhausted"
      printf "  actor restarts +%d; rate-limit rejections +%d; auth failures +%d\n", restarts[2] - restarts[1], rl[2] - rl[1], authf[2] - authf[1]
      if (restarts[2] - restarts[1] > 0) print "ALERT actor restarts"
      printf "  outbox pending %d, failed total %d; household actors %d; SSE streams %d\n", outbox[2], outfail[2], actors[2], sse[2]
    }' "$work/a" "$work/b"
}

for url in "$@"; do
  url="${url%/}"
  echo "== $url"
  if ! fetch "$url" "$work/a"; then echo "ALERT $url/metrics unreachable"; alerts=$((alerts + 1)); continue; fi
  sleep "$interval"
  if ! fetch "$url" "$work/b"; then echo "ALERT $url/metrics unreachable"; alerts=$((alerts + 1)); continue; fi
  ready="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url/health/ready" || true)"
  echo "  /health/ready $ready"
  [[ "$ready" == 200 ]] || echo "ALERT /health/ready $ready"
  report | tee "$work/out"
  alerts=$((alerts + $(grep -c '^ALERT' "$work/out" || true) + $([[ "$ready" == 200 ]] && echo 0 || echo 1)))
done

if [[ -n "${DATABASE_URL:-}" ]]; then
  echo "== PostgreSQL"
  psql -X -q -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -P pager=off >"$work/db" 2>&1 <<'SQL' || true
\pset footer off
SET default_transaction_read_only = on;
SET statement_timeout = '10s';
\echo '-- connections (pool budget: instances x DATABASE_POOL_MAX)'
SELECT coalesce(nullif(application_name, ''), '-') AS application, state, count(*)
  FROM pg_stat_activity WHERE datname = current_database() GROUP BY 1, 2 ORDER BY 3 DESC;
SELECT count(*) AS connections, current_setting('max_connections')::int AS max_connections
  FROM pg_stat_activity;
\echo '-- transactions open longer than 30 s'
SELECT pid, state, now() - xact_start AS open_for, left(query, 80) AS query
  FROM pg_stat_activity
 WHERE xact_start < now() - interval '30 seconds' AND pid <> pg_backend_pid() ORDER BY xact_start;
\echo '-- sessions waiting for a lock'
SELECT count(*) AS waiting FROM pg_stat_activity WHERE wait_event_type = 'Lock';
\echo '-- email outbox'
SELECT status, count(*), min(next_attempt_at) AS oldest_due FROM email_outbox
 WHERE status IN ('pending', 'sending') OR (status = 'failed' AND created_at > now() - interval '24 hours')
 GROUP BY status;
\echo '-- temporary memberships past their end, still active (expiry sweep lag)'
SELECT count(*) AS overdue, max(now() - temporary_expires_at) AS worst
  FROM household_members WHERE status = 'active' AND is_temporary AND temporary_expires_at < now() - interval '5 minutes';
\echo '-- households, pending join requests, active sessions'
SELECT (SELECT count(*) FROM households WHERE status = 'active') AS active_households,
       (SELECT count(*) FROM household_join_requests WHERE status = 'pending') AS pending_requests,
       (SELECT count(*) FROM sessions WHERE revoked_at IS NULL AND expires_at > now()) AS active_sessions;
\echo '-- schema version'
SELECT max(version) AS version, max(applied_at) AS applied_at FROM schema_migrations;
\echo '-- WAL archiving (RPO 5 min)'
SELECT current_setting('archive_mode') AS archive_mode, current_setting('archive_timeout') AS archive_timeout,
       archived_count, failed_count, last_failed_time,
       now() - last_archived_time AS since_last_archived
  FROM pg_stat_archiver;
\echo '-- sizes'
SELECT pg_size_pretty(pg_database_size(current_database())) AS database;
SELECT relname AS table, pg_size_pretty(pg_total_relation_size(relid)) AS size, n_live_tup AS rows
  FROM pg_stat_user_tables ORDER BY pg_total_relation_size(relid) DESC LIMIT 8;
SQL
  cat "$work/db"
  if grep -q '^psql:\|ERROR' "$work/db"; then echo "ALERT PostgreSQL queries failed"; alerts=$((alerts + 1)); fi
  # Machine-checkable thresholds, one value per line.
  checks="$(psql -X -q -t -A -F ' ' -d "$DATABASE_URL" -c "
    SELECT (SELECT count(*) FROM pg_stat_activity WHERE xact_start < now() - interval '30 seconds' AND pid <> pg_backend_pid()),
           (SELECT count(*) FROM household_members WHERE status = 'active' AND is_temporary AND temporary_expires_at < now() - interval '5 minutes'),
           (SELECT count(*) FROM email_outbox WHERE status = 'pending' AND next_attempt_at < now() - interval '15 minutes'),
           (SELECT CASE WHEN current_setting('archive_mode') = 'off' THEN -1
                        ELSE coalesce(extract(epoch FROM now() - last_archived_time)::int, -2) END FROM pg_stat_archiver),
           (SELECT count(*) * 100 / current_setting('max_connections')::int FROM pg_stat_activity)" 2>/dev/null || true)"
  read -r long_tx overdue stuck_mail archive_age conn_pct <<<"${checks:-x x x x x}"
  [[ "$long_tx" == 0 ]] || { echo "ALERT transactions open > 30 s: $long_tx"; alerts=$((alerts + 1)); }
  [[ "$overdue" == 0 ]] || { echo "ALERT temporary memberships overdue > 5 min: $overdue"; alerts=$((alerts + 1)); }
  [[ "$stuck_mail" == 0 ]] || { echo "ALERT outbox rows due > 15 min ago: $stuck_mail"; alerts=$((alerts + 1)); }
  case "$archive_age" in
    -1) echo "WARN archive_mode is off: no point-in-time recovery on this server" ;;
    -2) echo "WARN nothing archived yet" ;;
    x|'') ;;
    *) if (( archive_age > 300 )); then echo "ALERT last WAL archived ${archive_age} s ago (> RPO 5 min)"; alerts=$((alerts + 1)); fi ;;
  esac
  if [[ "$conn_pct" =~ ^[0-9]+$ ]] && (( conn_pct > 80 )); then echo "ALERT connections at ${conn_pct} % of max_connections"; alerts=$((alerts + 1)); fi
fi

echo "monitoring: $alerts alert(s)"
(( alerts == 0 ))
