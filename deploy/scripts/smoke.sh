#!/usr/bin/env bash
# Post-deploy smoke test against a running deployment (SPEC §5, §4.3, §4.4).
#
#   deploy/scripts/smoke.sh BASE_URL        e.g. https://api.example.com
#
# Operational endpoints: /health (200 healthy + version), /health/ready (200
# ready; "degraded" = Redis down is reported as a warning), /health/live,
# /openapi.json (OpenAPI 3.1, info.version = /health version), /metrics
# (Prometheus text; METRICS_TOKEN is sent when set), X-Request-Id and
# Cache-Control: no-store on responses.
# Round trip through the API with two new users: register A -> A creates a
# household -> register B -> B joins with the invite code (pending) -> A sees
# the request -> A approves -> both see 2 members -> clean-up (B leaves, A
# leaves, which deactivates the household; both log out). Users are never
# deleted (SPEC §2); they are named smoke-<time>-<random>@$SMOKE_EMAIL_DOMAIN.
#
# Prints PASS/FAIL/WARN per check and a summary; exit 0 only if nothing failed.
# Env: SMOKE_EMAIL_DOMAIN (default smoke.invalid), METRICS_TOKEN,
#      SMOKE_TIMEOUT (seconds per request, default 10). Needs curl and jq.
set -euo pipefail
if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
  sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0
fi

(( $# == 1 )) || { echo "usage: smoke.sh BASE_URL" >&2; exit 2; }
base="${1%/}"
domain="${SMOKE_EMAIL_DOMAIN:-smoke.invalid}"
max_time="${SMOKE_TIMEOUT:-10}"
for tool in curl jq; do
  command -v "$tool" >/dev/null || { echo "smoke: $tool is required" >&2; exit 2; }
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0 failed=0 warned=0
pass() { printf 'PASS %s\n' "$1"; passed=$((passed + 1)); }
fail() { printf 'FAIL %s: %s\n' "$1" "$2"; failed=$((failed + 1)); }
warn() { printf 'WARN %s: %s\n' "$1" "$2"; warned=$((warned + 1)); }

# req METHOD PATH [JSON_BODY] [TOKEN]: sets status; body in $work/body,
# headers in $work/headers. A transport error gives status 000.
status=""
req() {
  local method="$1" path="$2" body="${3:-}" token="${4:-}" args=()
  args=(-s -S -X "$method" -o "$work/body" -D "$work/headers" -w '%{http_code}'
        --max-time "$max_time" -H 'Accept: application/json'
        -H "X-Request-Id: smoke-$run-$((++seq))")
  [[ -n "$body" ]] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  [[ -n "$token" ]] && args+=(-H "Authorization: Bearer $token")
  status="$(curl "${args[@]}" "$base$path" 2>"$work/curl.err")" || status="${status:-000}"
  [[ -n "$status" ]] || status=000
}
json() { jq -r "$1" "$work/body" 2>/dev/null || true; }
header() { tr -d '\r' <"$work/headers" | awk -v h="$(tr '[:upper:]' '[:lower:]' <<<"$1")" \
  'BEGIN{FS=": "} tolower($1)==h {sub(/^[^:]*: /,""); v=$0} END{print v}'; }
# expect NAME STATUS: checks the last request's status, prints the error body.
expect() {
  if [[ "$status" == "$2" ]]; then return 0; fi
  local detail; detail="$(json '.error.code // empty')"
  [[ -n "$detail" ]] || detail="$(head -c 200 "$work/body" 2>/dev/null || true)$(cat "$work/curl.err" 2>/dev/null)"
  fail "$1" "expected $2, got $status ${detail}"
  return 1
}

run="$(date -u +%Y%m%d%H%M%S)-$RANDOM"
seq=0
echo "smoke: $base (run $run)"

# ------------------------------------------------------------ operational ---
version=""
req GET /health
if expect "GET /health" 200; then
  version="$(json .version)"
  if [[ "$(json .status)" == healthy && -n "$version" && "$version" != null ]]; then
    pass "GET /health (version $version)"
  else
    fail "GET /health" "body $(head -c 200 "$work/body")"
  fi
  if [[ -n "$(header X-Request-Id)" ]]; then pass "X-Request-Id header"; else fail "X-Request-Id header" "missing"; fi
  if [[ "$(header Cache-Control)" == *no-store* ]]; then pass "Cache-Control: no-store"
  else fail "Cache-Control: no-store" "got '$(header Cache-Control)'"; fi
fi

req GET /health/ready
case "$status/$(json .status)" in
  200/ready) pass "GET /health/ready (ready)" ;;
  200/degraded) warn "GET /health/ready" "degraded: $(jq -c .checks "$work/body")" ;;
  *) fail "GET /health/ready" "$status $(head -c 200 "$work/body")" ;;
esac

req GET /health/live
if expect "GET /health/live" 200; then
  if [[ "$(json .status)" == alive ]]; then
    pass "GET /health/live (uptime $(json .uptime) s, memory $(json .memoryUsage), cpu $(json .cpuUsage))"
  else fail "GET /health/live" "body $(head -c 200 "$work/body")"; fi
fi

req GET /openapi.json
if expect "GET /openapi.json" 200; then
  oa="$(json .openapi)" ov="$(json .info.version)" paths="$(json '.paths | length')"
  if [[ "$oa" == 3.1* && "$ov" == "$version" && "${paths:-0}" -gt 0 ]]; then
    pass "GET /openapi.json (OpenAPI $oa, $paths paths, version $ov)"
  else
    fail "GET /openapi.json" "openapi=$oa info.version=$ov (health $version) paths=$paths"
  fi
fi

metrics_args=(-s -o "$work/metrics" -w '%{http_code}' --max-time "$max_time")
[[ -n "${METRICS_TOKEN:-}" ]] && metrics_args+=(-H "Authorization: Bearer $METRICS_TOKEN")
mstatus="$(curl "${metrics_args[@]}" "$base/metrics" 2>/dev/null || true)"
if [[ "$mstatus" == 200 ]] && grep -q '^http_requests_total' "$work/metrics" && grep -q '^build_info' "$work/metrics"; then
  pass "GET /metrics (Prometheus text)"
elif [[ "$mstatus" == 401 && -z "${METRICS_TOKEN:-}" ]]; then
  warn "GET /metrics" "401: METRICS_TOKEN is set on the service; export it to check metrics"
else
  fail "GET /metrics" "status ${mstatus:-000}"
fi

# ------------------------------------------------------------- round trip ---
password="Smoke-$(head -c 12 /dev/urandom | base64 | tr -d '/+=')"
register() { # register WHO -> prints token
  local email="smoke-$run-$1@$domain"
  req POST /v1/auth/register "$(jq -nc --arg e "$email" --arg p "$password" --arg n "Smoke $1" \
    '{email:$e, password:$p, displayName:$n}')"
}

token_a="" token_b="" hid="" code="" rid="" uid_b=""
register a
if expect "register user A" 201; then token_a="$(json .accessToken)"; pass "register user A"; fi

if [[ -n "$token_a" ]]; then
  req GET /v1/me "" "$token_a"
  if expect "GET /v1/me" 200; then
    if [[ "$(json .householdId)" == null ]]; then pass "GET /v1/me (no household yet)"
    else fail "GET /v1/me" "householdId $(json .householdId)"; fi
  fi
  req POST /v1/households "{\"name\":\"Smoke $RANDOM\",\"description\":\"post-deploy smoke test\"}" "$token_a"
  if expect "create household" 201; then
    hid="$(json .household.id)" code="$(json .household.inviteCode)"
    if [[ -n "$code" && "$code" != null ]]; then pass "create household (leader sees invite code)"
    else fail "create household" "no inviteCode in the leader view"; fi
  fi
fi

register b
if expect "register user B" 201; then token_b="$(json .accessToken)" uid_b="$(json .user.id)"; pass "register user B"; fi

if [[ -n "$token_b" && -n "$code" ]]; then
  req POST /v1/households/join "$(jq -nc --arg c "$code" '{inviteCode:$c}')" "$token_b"
  if expect "B joins with the invite code" 201; then
    rid="$(json .joinRequest.id)"
    if [[ "$(json .joinRequest.status)" == pending ]]; then pass "B joins with the invite code (request pending)"
    else fail "B joins" "status $(json .joinRequest.status)"; fi
  fi
fi

if [[ -n "$rid" ]]; then
  req GET "/v1/households/$hid/join-requests" "" "$token_a"
  if expect "leader lists pending requests" 200; then
    if [[ "$(jq -r --arg r "$rid" '[.joinRequests[] | select(.id == $r)] | length' "$work/body")" == 1 ]]; then
      pass "leader lists pending requests"
    else fail "leader lists pending requests" "request not listed"; fi
  fi
  req POST "/v1/join-requests/$rid/approve" "" "$token_a"
  if expect "leader approves" 200; then
    if [[ "$(json .member.userId)" == "$uid_b" ]]; then pass "leader approves (B is a member)"
    else fail "leader approves" "member $(json .member.userId)"; fi
  fi
  req GET /v1/households/me "" "$token_b"
  if expect "B sees the household" 200; then
    if [[ "$(json .household.id)" == "$hid" && "$(json .household.memberCount)" == 2 && "$(json .myRole)" == member ]]; then
      pass "B sees the household (2 members, role member)"
    else
      fail "B sees the household" "id $(json .household.id) members $(json .household.memberCount) role $(json .myRole)"
    fi
  fi
  req GET /v1/households/me "" "$token_a"
  if expect "A sees 2 members" 200; then
    if [[ "$(json '.members | length')" == 2 ]]; then pass "A sees 2 members"
    else fail "A sees 2 members" "$(json '.members | length') members"; fi
  fi
fi

# Clean-up: leave (B, then A: the household is deactivated), log out.
if [[ -n "$hid" && -n "$rid" ]]; then
  req POST "/v1/households/$hid/leave" "" "$token_b"
  if expect "clean-up: B leaves" 200; then pass "clean-up: B leaves"; fi
fi
if [[ -n "$hid" ]]; then
  req POST "/v1/households/$hid/leave" "" "$token_a"
  if expect "clean-up: A leaves" 200; then
    if [[ "$(json .householdDeactivated)" == true ]]; then pass "clean-up: A leaves (household deactivated)"
    else fail "clean-up: A leaves" "householdDeactivated $(json .householdDeactivated)"; fi
  fi
fi
for t in "$token_a" "$token_b"; do
  [[ -n "$t" ]] || continue
  req POST /v1/auth/logout "" "$t"
  if expect "clean-up: logout" 204; then pass "clean-up: logout"; fi
done

echo "smoke: $passed passed, $failed failed, $warned warnings"
(( failed == 0 ))
