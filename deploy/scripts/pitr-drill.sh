#!/usr/bin/env bash
# Point-in-time recovery drill (SPEC §8.3: RPO 5 min rests on continuous WAL
# archiving). Everything on loopback under DRILL_DIR, stopped at the end.
#
#   deploy/scripts/pitr-drill.sh
#
#  1. A PostgreSQL with wal_level=replica, archive_mode=on, archive_timeout=60s
#     and archive_command copying each finished WAL segment into
#     DRILL_DIR/archive (atomically: copy to a temporary name, then rename;
#     never overwriting). deploy/local/services.sh always writes its own
#     settings, so this drill runs initdb/pg_ctl itself.
#  2. Schema (household-service migrate) and DRILL_HOUSEHOLDS seeded households.
#  3. pg_basebackup (plain format, WAL streamed into it).
#  4. Application-like writes, one committed transaction per second for
#     DRILL_WRITE_SECONDS: a row in pitr_marks (sequence number, commit time)
#     and an UPDATE of one household's description.
#  5. The operator error, time D noted first: TRUNCATE households CASCADE
#     (row triggers that forbid deletes do not fire on TRUNCATE).
#     A copy of the archive is taken right then (= what would exist if the
#     primary had been lost at D, disk and all).
#  6. Restore A (the operator error): base backup + full archive (after
#     pg_switch_wal on the surviving primary), recovery_target_time =
#     D - DRILL_TARGET_BEFORE (default 60 s), promote; then migrate + verify,
#     households back, and the writes lost = those committed in (target, D].
#  7. Restore B (the lost primary): base backup + the archive copy of step 5,
#     recovered to its end: the writes lost = those not yet archived at D,
#     bounded by archive_timeout (60 s) + copy time, against the 5 min RPO.
#
# Env: DRILL_DIR (default .local/pitr-drill, wiped first), DRILL_HOUSEHOLDS
# (1000), DRILL_WRITE_SECONDS (100), DRILL_TARGET_BEFORE (60), HOUSEHOLD_BIN,
# PG_BINDIR (default: newest /usr/lib/postgresql/*/bin).
set -euo pipefail
if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
  sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0
fi

cd "$(dirname "$0")/../.."
root="$PWD"
services="$root/deploy/local/services.sh"
dir="${DRILL_DIR:-$root/.local/pitr-drill}"
n="${DRILL_HOUSEHOLDS:-1000}"
write_s="${DRILL_WRITE_SECONDS:-100}"
before_s="${DRILL_TARGET_BEFORE:-60}"
bin="${HOUSEHOLD_BIN:-$root/build/household-service}"
[[ -x "$bin" ]] || { echo "pitr-drill: $bin not found (build first)" >&2; exit 1; }

log() { printf 'pitr-drill: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

pgbin="${PG_BINDIR:-$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}"
[[ -x "$pgbin/pg_ctl" ]] || die "PostgreSQL server binaries not found in $pgbin"
# PostgreSQL refuses to run as root: server-side tools run as `postgres` then.
as_pg() { if [[ "$(id -u)" == 0 ]]; then (cd / && runuser -u postgres -- "$@"); else (cd / && "$@"); fi; }
own() { if [[ "$(id -u)" == 0 ]]; then chown -R postgres: "$@"; fi; }

# Every server this drill starts has its data directory directly under $dir
# (restores start in subshells, so no list is kept: the pid files tell).
stop_all() {
  local d
  for d in "$dir"/*/; do
    if [[ -f "$d/postmaster.pid" ]]; then as_pg "$pgbin/pg_ctl" stop -s -m fast -D "$d" >/dev/null 2>&1 || true; fi
  done
}
# shellcheck disable=SC2317 # called from the trap
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  stop_all
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

stop_all
rm -rf "$dir"
mkdir -p "$dir/archive" "$dir/sock" "$dir/logs"
chmod a+x "$dir"
own "$dir/archive" "$dir/sock" "$dir/logs"

ports=()
while (( ${#ports[@]} < 3 )); do
  p="$("$services" free-port)"
  [[ " ${ports[*]} " == *" $p "* ]] || ports+=("$p")
done
url() { printf 'postgresql://postgres@127.0.0.1:%s/household_dev\n' "$1"; }
q() { PGOPTIONS='-c client_min_messages=warning' psql -X -q -t -A -v ON_ERROR_STOP=1 -d "$(url "$1")" -c "$2"; }

pg_start() { # pg_start DATADIR
  local logfile; logfile="$dir/logs/$(basename "$1").log"
  as_pg "$pgbin/pg_ctl" start -w -t 120 -s -D "$1" -l "$logfile" || { tail -n 30 "$logfile" >&2; die "start failed"; }
}

# ---------------------------------------------------------------- primary ---
primary="$dir/primary" p_port="${ports[0]}"
mkdir -p "$primary" && own "$primary" && chmod 0700 "$primary"
as_pg "$pgbin/initdb" -D "$primary" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log"
cat >>"$primary/postgresql.conf" <<EOF

# pitr-drill
port = $p_port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir/sock'
wal_level = replica
archive_mode = on
# A finished segment is copied under a temporary name and renamed, so the
# archive never holds a partial file; an existing name is never overwritten.
archive_command = 'test ! -f $dir/archive/%f && cp %p $dir/archive/%f.tmp && mv $dir/archive/%f.tmp $dir/archive/%f'
# Switch to a new segment (and so archive) at least every 60 s even when
# traffic is too light to fill 16 MB: bounds the data loss when the primary
# is lost to ~60 s + copy time, well inside the 5 min RPO.
archive_timeout = 60s
max_wal_senders = 4
EOF
pg_start "$primary"
psql -X -q -d "postgresql://postgres@127.0.0.1:$p_port/postgres" -c 'CREATE DATABASE household_dev' >/dev/null
DATABASE_URL="$(url "$p_port")" "$bin" migrate >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$(url "$p_port")" -v n="$n" -f "$root/tests/bench/seed.sql" >/dev/null
q "$p_port" "CREATE TABLE pitr_marks (k int PRIMARY KEY, at timestamptz NOT NULL)" >/dev/null
households="$(q "$p_port" "SELECT count(*) FROM households")"
log "primary on :$p_port, $households households"

# ------------------------------------------------------------ base backup ---
t0=$SECONDS
mkdir -p "$dir/base" && own "$dir/base" && chmod 0700 "$dir/base"
as_pg "$pgbin/pg_basebackup" -h 127.0.0.1 -p "$p_port" -U postgres -D "$dir/base" -Fp -X stream -c fast
base_s=$((SECONDS - t0))
base_at="$(q "$p_port" "SELECT now()")"
log "base backup in ${base_s}s ($(du -sh "$dir/base" | cut -f1))"

# ----------------------------------------------------------------- writes ---
log "writing one transaction per second for ${write_s}s"
for ((k = 1; k <= write_s; k++)); do
  q "$p_port" "BEGIN;
    INSERT INTO pitr_marks VALUES ($k, clock_timestamp());
    UPDATE households SET description = 'pitr write $k', updated_at = now()
     WHERE id = (SELECT id FROM households ORDER BY id OFFSET $((k % n)) LIMIT 1);
    COMMIT;" >/dev/null
  sleep 1
done

# -------------------------------------------------------------- disaster ---
disaster_at="$(q "$p_port" "SELECT clock_timestamp()")"
q "$p_port" "TRUNCATE households CASCADE" >/dev/null
cp -a "$dir/archive" "$dir/archive-at-disaster"
archiver="$(q "$p_port" "SELECT last_archived_wal || ' archived at ' || last_archived_time FROM pg_stat_archiver")"
written="$(q "$p_port" "SELECT count(*) FROM pitr_marks")"
log "disaster at $disaster_at: TRUNCATE households CASCADE ($(q "$p_port" "SELECT count(*) FROM households") households left); last archived: $archiver"
# The primary survived the operator error: archive what it still has.
q "$p_port" "SELECT pg_switch_wal()" >/dev/null
sleep 2
target="$(q "$p_port" "SELECT ('$disaster_at'::timestamptz - interval '$before_s seconds')")"

# --------------------------------------------------------------- restores ---
restore() { # restore NAME PORT ARCHIVE [TARGET_TIME]; prints seconds taken
  local name="$1" port="$2" archive="$3" tt="${4:-}" d="$dir/$1" t
  t="$EPOCHREALTIME"
  cp -a "$dir/base" "$d"
  rm -f "$d/postmaster.pid" "$d/postmaster.opts"
  {
    echo ""
    echo "# pitr-drill restore $name"
    echo "port = $port"
    echo "archive_mode = off   # never write into the archive being restored from"
    echo "restore_command = 'cp $archive/%f %p'"
    if [[ -n "$tt" ]]; then
      echo "recovery_target_time = '$tt'"
      echo "recovery_target_inclusive = false"
    fi
    echo "recovery_target_action = 'promote'"
  } >>"$d/postgresql.conf"
  touch "$d/recovery.signal"
  own "$d"
  pg_start "$d"
  local deadline=$((SECONDS + 300))
  until [[ "$(q "$port" "SELECT pg_is_in_recovery()" 2>/dev/null)" == f ]]; do
    (( SECONDS < deadline )) || die "restore $name still in recovery after 300 s (see $dir/logs/$name.log)"
    sleep 0.2
  done
  awk -v a="$t" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f\n", b - a }'
}

log "restore A: recovery_target_time = $target (D - ${before_s}s)"
a_s="$(restore restore-a "${ports[1]}" "$dir/archive" "$target")"
DATABASE_URL="$(url "${ports[1]}")" "$bin" migrate >/dev/null
DATABASE_URL="$(url "${ports[1]}")" "$bin" verify >"$dir/verify-a.log" 2>&1 || { cat "$dir/verify-a.log"; die "verify failed on restore A"; }
a_households="$(q "${ports[1]}" "SELECT count(*) FROM households")"
a_marks="$(q "${ports[1]}" "SELECT count(*) || ' writes, last at ' || coalesce(max(at)::text, '-') FROM pitr_marks")"
a_lost="$(q "$p_port" "SELECT count(*) FROM pitr_marks WHERE at > '$target'")"
a_last="$(q "${ports[1]}" "SELECT coalesce(max(k), 0) FROM pitr_marks")"

log "restore B: the archive as it was at D, recovered to its end"
b_s="$(restore restore-b "${ports[2]}" "$dir/archive-at-disaster")"
b_households="$(q "${ports[2]}" "SELECT count(*) FROM households")"
b_last="$(q "${ports[2]}" "SELECT coalesce(max(k), 0) FROM pitr_marks")"
b_window="$(q "${ports[2]}" "SELECT round(extract(epoch FROM '$disaster_at'::timestamptz - coalesce(max(at), '$base_at'::timestamptz)))::int FROM pitr_marks")"

echo "---- PITR drill"
echo "base backup: ${base_s}s at $base_at; ${written} writes after it, 1/s; disaster (TRUNCATE households CASCADE) at $disaster_at"
echo "restore A (target D - ${before_s}s = $target): ${a_s}s to promoted; households $a_households of $households back; $a_marks; verify: $(tr '\n' ' ' <"$dir/verify-a.log")"
echo "          writes lost by the chosen target: $a_lost (those in (target, D]); last write recovered: #$a_last of #$written"
rpo="met"
(( b_window <= 300 )) || rpo="MISSED"
echo "restore B (archive at D, primary lost): ${b_s}s; households $b_households of $households; last write recovered #$b_last of #$written; data lost: $((written - b_last)) writes = the last ${b_window}s before D (RPO 300 s: $rpo)"
echo "last archived at D: $archiver; archive_timeout = 60s"
