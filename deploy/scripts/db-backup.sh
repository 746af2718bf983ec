#!/usr/bin/env bash
# Logical backup of the household database (SPEC §8.3): pg_dump custom format,
# UTC-stamped name, SHA-256 file beside it, optional retention.
#
#   DATABASE_URL=postgresql://... deploy/scripts/db-backup.sh [-d DIR] [-k DAYS] [-n COUNT]
#
#   -d DIR    where to write (default $BACKUP_DIR or ./var/backups)
#   -k DAYS   after a successful backup, delete dumps in DIR older than DAYS
#             days (default $BACKUP_KEEP_DAYS; unset = keep everything)
#   -n COUNT  after a successful backup, keep only the newest COUNT dumps
#             (default $BACKUP_KEEP_COUNT; unset = keep everything)
#   -j JOBS   unused by pg_dump -Fc (kept for symmetry with db-restore.sh)
#
# Writes DIR/household-YYYYMMDDTHHMMSSZ.dump and .dump.sha256 (sha256sum
# format, so `cd DIR && sha256sum -c FILE.sha256` checks it), prints the dump's
# path on stdout. The dump is written under a temporary name and renamed only
# once complete and readable (pg_restore --list), so a crash never leaves a
# half-written file with a valid name. Only dumps named household-*.dump are
# ever deleted by retention, never the newest one.
#
# This is the daily logical copy; point-in-time recovery (RPO 5 min) rests on
# WAL archiving, see deploy/scripts/pitr-drill.sh. Env: PG_BINDIR (directory
# of pg_dump, default: from PATH). The password may come from PGPASSWORD or
# ~/.pgpass instead of the URL (a URL on the command line is visible in ps).
set -euo pipefail

log() { printf 'db-backup: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
# Never print a password: postgresql://user:secret@host -> postgresql://user:***@host
mask() { sed -E 's#(://[^:/@]+):[^@]*@#\1:***@#' <<<"$1"; }

dir="${BACKUP_DIR:-./var/backups}"
keep_days="${BACKUP_KEEP_DAYS:-}"
keep_count="${BACKUP_KEEP_COUNT:-}"
while getopts 'd:k:n:j:h' opt; do
  case "$opt" in
    d) dir="$OPTARG" ;;
    k) keep_days="$OPTARG" ;;
    n) keep_count="$OPTARG" ;;
    j) ;;
    h) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
(( $# == 0 )) || die "unexpected argument: $1"
[[ -n "${DATABASE_URL:-}" ]] || die "DATABASE_URL is not set"
[[ -z "$keep_days" || "$keep_days" =~ ^[0-9]+$ ]] || die "-k needs a number of days"
[[ -z "$keep_count" || "$keep_count" =~ ^[1-9][0-9]*$ ]] || die "-n needs a count >= 1"

bin() { if [[ -n "${PG_BINDIR:-}" ]]; then printf '%s/%s\n' "$PG_BINDIR" "$1"; else command -v "$1"; fi; }
pg_dump="$(bin pg_dump)" || die "pg_dump not found (install postgresql-client)"
pg_restore="$(bin pg_restore)" || die "pg_restore not found"

mkdir -p "$dir"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
name="household-$stamp.dump"
tmp="$dir/.$name.partial"
trap 'rm -f "$tmp"' EXIT
[[ ! -e "$dir/$name" ]] || die "$dir/$name already exists"

log "dumping $(mask "$DATABASE_URL") to $dir/$name"
t0=$SECONDS
# -Fc: compressed, restorable selectively and in parallel with pg_restore -j.
"$pg_dump" --format=custom --compress=6 --no-password --dbname="$DATABASE_URL" --file="$tmp"
"$pg_restore" --list "$tmp" >/dev/null || die "the dump is not readable by pg_restore"
mv "$tmp" "$dir/$name"
(cd "$dir" && sha256sum "$name" >"$name.sha256.tmp" && mv "$name.sha256.tmp" "$name.sha256")
log "done in $((SECONDS - t0)) s: $(du -h "$dir/$name" | cut -f1), sha256 $(cut -d' ' -f1 "$dir/$name.sha256")"

# Retention: only our own names, oldest first, never the dump just written.
prune() {
  local f
  while IFS= read -r f; do
    [[ "$f" == "$dir/$name" ]] && continue
    log "retention: deleting $f"
    rm -f "$f" "$f.sha256"
  done
}
if [[ -n "$keep_days" ]]; then
  find "$dir" -maxdepth 1 -type f -name 'household-*.dump' -mtime "+$((keep_days - 1))" -print | sort | prune
fi
if [[ -n "$keep_count" ]]; then
  find "$dir" -maxdepth 1 -type f -name 'household-*.dump' -print | sort -r | tail -n "+$((keep_count + 1))" | prune
fi

printf '%s\n' "$dir/$name"
