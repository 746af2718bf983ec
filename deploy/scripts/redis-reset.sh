#!/usr/bin/env bash
# Redis reset (SPEC §8.3): deletes every `hh:*` key of the household service.
#
#   REDIS_URL=redis://host:port[/db] deploy/scripts/redis-reset.sh [--dry-run]
#
# Mandatory after restoring either store (PostgreSQL from a backup, or Redis):
# a session cached in Redis (`hh:session:{sid}`) could otherwise be served
# after the restored database no longer knows it, or after it was revoked.
# What it costs (SPEC §2, §8.3), nothing durable:
#   hh:session:*  cached sessions: the next request of each session reads its
#                 row from PostgreSQL and re-caches it if still active; no
#                 user is signed out
#   hh:rl:*       rate-limit windows (global, auth, join_request, code_lookup,
#                 household_create, ...): every limit starts from zero
# The invalidation channel (hh:invalidate) is pub/sub, not a key: untouched.
# Only `hh:*` keys are deleted (SCAN + UNLINK in batches, no FLUSHDB), so a
# Redis shared with other applications keeps their data. Instances keep
# running; their in-process caches follow the invalidation channel.
#
# --dry-run counts the keys per prefix without deleting anything.
# Env: REDIS_URL (required; rediss:// needs a redis-cli built with TLS).
set -euo pipefail

log() { printf 'redis-reset: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

dry_run=0
case "${1:-}" in
  --dry-run) dry_run=1 ;;
  "") ;;
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument $1" ;;
esac
[[ -n "${REDIS_URL:-}" ]] || die "REDIS_URL is not set"
command -v redis-cli >/dev/null || die "redis-cli not found (install redis-tools)"

# -u takes the URL (password included); REDISCLI_AUTH would also do.
rcli() { redis-cli --no-auth-warning -u "$REDIS_URL" "$@"; }
[[ "$(rcli PING 2>/dev/null)" == PONG ]] || die "Redis does not answer PING"

count_by_prefix() {
  rcli --scan --pattern 'hh:*' \
    | awk -F: '{ n[$1 ":" $2]++ } END { for (p in n) printf "  %s:* %d\n", p, n[p] }' | sort
}

before="$(rcli --scan --pattern 'hh:*' | wc -l)"
log "$before hh:* keys"
count_by_prefix >&2
if (( dry_run )); then
  log "dry run: nothing deleted"
  exit 0
fi

# UNLINK frees memory in the background; 500 keys per command.
rcli --scan --pattern 'hh:*' | xargs -r -d '\n' -n 500 redis-cli --no-auth-warning -u "$REDIS_URL" UNLINK >/dev/null
after="$(rcli --scan --pattern 'hh:*' | wc -l)"
log "deleted; $after hh:* keys left (new ones appear as soon as instances serve requests)"
