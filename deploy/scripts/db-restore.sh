#!/usr/bin/env bash
# Restores a db-backup.sh dump into a NEW or EMPTY database, then runs
# `household-service migrate` and `household-service verify` (SPEC §8.3).
#
#   deploy/scripts/db-restore.sh [-j JOBS] [--keep-owner] [--no-checksum] DUMP TARGET_URL
#
#   DUMP        household-*.dump written by db-backup.sh; DUMP.sha256 must
#               match unless --no-checksum
#   TARGET_URL  postgresql://user[:pw]@host:port/dbname; the database is
#               created (through the server's `postgres` database) when it does
#               not exist; the script refuses one that holds any table, view,
#               sequence or function of its own
#   -j JOBS     parallel pg_restore jobs (default 2)
#   --keep-owner  keep the dump's owners and GRANTs (the roles must exist on
#               the target); by default objects belong to the restoring user
#               and privileges are re-granted by the operator
#
# Steps, each timed: checksum, create/check the database, pg_restore
# (--exit-on-error, single pass), ANALYZE, migrate, verify. Exit status non-zero
# if any step fails, e.g. verify finding an invariant violation.
#
# Afterwards (not done here): run deploy/scripts/redis-reset.sh against the
# Redis the instances will use (mandatory, SPEC §8.3), then start the service.
#
# Env: HOUSEHOLD_BIN (default: household-service on PATH, else the checkout's
# build/household-service), PG_BINDIR (directory of pg_restore/psql).
set -euo pipefail

log() { printf 'db-restore: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
mask() { sed -E 's#(://[^:/@]+):[^@]*@#\1:***@#' <<<"$1"; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

jobs=2 keep_owner=0 checksum=1 args=()
while (( $# )); do
  case "$1" in
    -j) shift; jobs="${1:-}" ;;
    --keep-owner) keep_owner=1 ;;
    --no-checksum) checksum=0 ;;
    -h|--help) usage; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) args+=("$1") ;;
  esac
  shift
done
(( ${#args[@]} == 2 )) || { usage >&2; exit 2; }
dump="${args[0]}" target="${args[1]}"
[[ "$jobs" =~ ^[1-9][0-9]?$ ]] || die "-j needs a number 1..99"
[[ -f "$dump" ]] || die "$dump not found"
[[ "$target" =~ ^postgres(ql)?://[^/]*/[A-Za-z_][A-Za-z0-9_]*(\?.*)?$ ]] \
  || die "TARGET_URL must look like postgresql://user@host:port/dbname"

bin() { if [[ -n "${PG_BINDIR:-}" ]]; then printf '%s/%s\n' "$PG_BINDIR" "$1"; else command -v "$1"; fi; }
pg_restore="$(bin pg_restore)" || die "pg_restore not found"
psql="$(bin psql)" || die "psql not found"
service="${HOUSEHOLD_BIN:-}"
if [[ -z "$service" ]]; then
  service="$(command -v household-service || true)"
  [[ -n "$service" ]] || service="$(cd "$(dirname "$0")/../.." && pwd)/build/household-service"
fi
[[ -x "$service" ]] || die "$service not executable (set HOUSEHOLD_BIN)"

# postgresql://u@h:p/db?x=y -> dbname "db" and the same URL for "postgres".
no_query="${target%%\?*}"
query="${target#"$no_query"}"
dbname="${no_query##*/}"
admin_url="${no_query%/*}/postgres$query"

start=$SECONDS
step_t=$SECONDS
step() { log "$(printf '%-9s %4d s' "$1" $((SECONDS - step_t)))"; step_t=$SECONDS; }

# 1. The dump is the one db-backup.sh wrote.
if (( checksum )); then
  [[ -f "$dump.sha256" ]] || die "$dump.sha256 missing (use --no-checksum to skip)"
  (cd "$(dirname "$dump")" && sha256sum --quiet -c "$(basename "$dump").sha256") \
    || die "checksum mismatch: $dump is damaged"
fi
step checksum

# 2. A new database, or an empty one: never restore over live data.
exists="$("$psql" -X -q -t -A -v ON_ERROR_STOP=1 -d "$admin_url" \
  -c "SELECT 1 FROM pg_database WHERE datname = '$dbname'")" \
  || die "cannot connect to $(mask "$admin_url")"
if [[ "$exists" != 1 ]]; then
  log "creating database $dbname"
  "$psql" -X -q -v ON_ERROR_STOP=1 -d "$admin_url" -c "CREATE DATABASE \"$dbname\"" >/dev/null
else
  objects="$("$psql" -X -q -t -A -v ON_ERROR_STOP=1 -d "$target" -c "
    SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
              AND n.nspname NOT LIKE 'pg_temp%')
         + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema'))")"
  [[ "$objects" == 0 ]] || die "database $dbname is not empty ($objects objects): restore into a new database"
fi
step database

# 3. Restore: schema, data, then indexes/constraints/triggers (post-data).
owner_opts=(--no-owner --no-privileges)
(( keep_owner )) && owner_opts=()
log "restoring $dump into $(mask "$target") with $jobs jobs"
"$pg_restore" --exit-on-error --jobs="$jobs" "${owner_opts[@]}" --dbname="$target" "$dump"
step restore

# 4. Planner statistics are not in a dump; without them the first queries scan.
"$psql" -X -q -v ON_ERROR_STOP=1 -d "$target" -c 'ANALYZE' >/dev/null
step analyze

# 5. Bring the schema to this binary's version (no-op for a dump of the same
#    version), then check invariants I1-I5.
DATABASE_URL="$target" "$service" migrate
step migrate
DATABASE_URL="$target" "$service" verify
step verify

log "restored in $((SECONDS - start)) s. Next: deploy/scripts/redis-reset.sh (mandatory), then start the service."
