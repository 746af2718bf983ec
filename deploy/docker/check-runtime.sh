#!/usr/bin/env bash
# Proves that the runtime stage of deploy/docker/Dockerfile installs every shared
# library the binary needs, without Docker: a bare Debian 12 root made with
# `debootstrap --variant=minbase`, plus exactly the runtime stage's packages
# (read from the Dockerfile), plus the binary; then, inside that root and as
# the image's non-root user, `--version`, `migrate` and `serve` (strict
# production configuration) against a throwaway PostgreSQL + Redis on
# loopback, until the HEALTHCHECK command (`curl -f …/health/ready`, run inside
# the root too) succeeds; then SIGTERM and exit status 0.
#
# Slow (debootstrap downloads ~100 MB): not part of deploy/check-artefacts.sh or CI.
#
# usage: deploy/docker/check-runtime.sh [BINARY]      (default: build/household-service)
# Needs root (debootstrap, chroot, mount) and the Debian mirror.
# env: MIRROR      Debian mirror (default: the host's, from /etc/apt/sources.list*)
#      ROOTFS      reuse (or create and keep) this root instead of a temporary one
#      KEEP_ROOTFS=1  keep the temporary root
set -euo pipefail

cd "$(dirname "$0")/../.."
repo="$PWD"
services="$repo/deploy/local/services.sh"
dockerfile="$repo/deploy/docker/Dockerfile"
binary="$(readlink -f "${1:-build/household-service}")"

log() { printf 'check-runtime: %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }
step() { printf '\n== %s\n' "$*"; }

[[ "$(id -u)" == 0 ]] || die "needs root (debootstrap, chroot, mount)"
[[ -x "$binary" ]] || die "no binary at $binary (build it first)"
if ! command -v debootstrap >/dev/null; then
  log "installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null
fi

# The runtime stage's package list, straight from the Dockerfile: the words of
# the continuation lines after its `apt-get install` up to the `&&` line.
mapfile -t packages < <(awk '
  /^FROM .* AS runtime/ { runtime = 1 }
  runtime && /apt-get install/ { inside = 1; next }
  inside && /&&/ { exit }
  inside { gsub(/\\/, ""); for (i = 1; i <= NF; i++) print $i }' "$dockerfile")
(( ${#packages[@]} > 0 )) || die "no runtime packages found in $dockerfile"

mirror="${MIRROR:-}"
if [[ -z "$mirror" ]]; then
  mirror="$(grep -rhoE 'https?://[^ ]*debian(/)?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
            | grep -v security | head -n1 | tr -d ' ')" || true
  mirror="${mirror:-http://deb.debian.org/debian}"
fi

temporary_root=0
if [[ -n "${ROOTFS:-}" ]]; then
  rootfs="$ROOTFS"
else
  rootfs="$(mktemp -d "${TMPDIR:-/tmp}/household-rootfs.XXXXXX")"
  temporary_root=1
fi
stores="$(mktemp -d "${TMPDIR:-/tmp}/household-runtime-stores.XXXXXX")"
service_pid=""
mounted_proc=0

# shellcheck disable=SC2317 # called from the trap
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [[ -n "$service_pid" ]] && kill -0 "$service_pid" 2>/dev/null; then
    kill -KILL "$service_pid" 2>/dev/null || true
  fi
  "$services" stop "$stores" >/dev/null 2>&1 || true
  rm -rf "$stores"
  if (( mounted_proc )); then umount "$rootfs/proc" 2>/dev/null || umount -l "$rootfs/proc" || true; fi
  if (( temporary_root )) && [[ "${KEEP_ROOTFS:-0}" != 1 ]]; then rm -rf "$rootfs"; fi
  if (( status == 0 )); then printf '\nRESULT: PASS\n'; else printf '\nRESULT: FAIL (status %s)\n' "$status"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

in_root() { chroot "$rootfs" "$@"; }
as_app() { chroot --userspec=10001:10001 "$rootfs" "$@"; }

step "binary"
echo "$binary"
file_info="$(file -b "$binary" 2>/dev/null || true)"
[[ -n "$file_info" ]] && echo "$file_info"
echo "NEEDED: $(objdump -p "$binary" 2>/dev/null | awk '/NEEDED/ { printf "%s ", $2 }')"
echo "runtime packages (Dockerfile): ${packages[*]}"

if [[ -f "$rootfs/etc/debian_version" && -x "$rootfs/usr/bin/apt-get" ]]; then
  step "debootstrap: reusing $rootfs (Debian $(cat "$rootfs/etc/debian_version"))"
else
  step "debootstrap --variant=minbase bookworm $rootfs $mirror"
  t0=$SECONDS
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$stores/debootstrap.log" 2>&1 \
    || { tail -n 20 "$stores/debootstrap.log"; die "debootstrap failed"; }
  echo "done in $((SECONDS - t0)) s"
fi

# Same suites as the debian:12 images: bookworm, bookworm-updates, security.
security_mirror="${mirror%/debian}/debian-security"
[[ "$mirror" == *deb.debian.org* ]] || security_mirror="http://deb.debian.org/debian-security"
cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security_mirror bookworm-security main
EOF
cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
if ! mountpoint -q "$rootfs/proc"; then
  mount -t proc proc "$rootfs/proc" 2>/dev/null || mount --bind /proc "$rootfs/proc"
  mounted_proc=1
fi

step "apt-get install --no-install-recommends (the runtime stage's list, nothing else)"
# shellcheck disable=SC2016 # ${Package} is dpkg-query's format, not the shell's
before="$(in_root dpkg-query -W -f='${Package}\n' | wc -l)"
in_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >"$stores/apt.log" 2>&1 \
  || { tail -n 20 "$stores/apt.log"; die "apt-get update failed"; }
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${packages[@]}" \
  >>"$stores/apt.log" 2>&1 || { tail -n 20 "$stores/apt.log"; die "apt-get install failed"; }
# shellcheck disable=SC2016
after="$(in_root dpkg-query -W -f='${Package}\n' | wc -l)"
echo "packages: $before (minbase) + $((after - before)) = $after; root size $(du -sh --exclude=proc "$rootfs" | cut -f1)"
if ! in_root getent passwd household >/dev/null; then
  in_root groupadd --system --gid 10001 household
  in_root useradd --system --uid 10001 --gid household --home-dir /nonexistent --no-create-home \
    --shell /usr/sbin/nologin household
fi
install -m 0755 "$binary" "$rootfs/usr/local/bin/household-service"

step "ldd inside the root"
in_root ldd /usr/local/bin/household-service | sed 's/^/  /'
if in_root ldd /usr/local/bin/household-service | grep -q 'not found'; then
  die "libraries missing from the runtime package list"
fi

step "household-service --version (as uid 10001)"
as_app /usr/local/bin/household-service --version

step "throwaway PostgreSQL + Redis on loopback"
pg_port="$("$services" free-port)"
redis_port="$("$services" free-port)"
while [[ "$redis_port" == "$pg_port" ]]; do redis_port="$("$services" free-port)"; done
"$services" start --throwaway "$stores" "$pg_port" "$redis_port" >/dev/null 2>&1 \
  || die "could not start PostgreSQL/Redis"
"$services" createdb "$stores" household >/dev/null
echo "PostgreSQL :$pg_port, Redis :$redis_port"

http_port="$("$services" free-port)"
while [[ "$http_port" == "$pg_port" || "$http_port" == "$redis_port" ]]; do http_port="$("$services" free-port)"; done
# A strict (production) configuration, as in the image: the process would exit 78 otherwise.
app_env=(
  PATH=/usr/local/bin:/usr/bin:/bin
  APP_ENV=production
  DATABASE_URL="postgresql://postgres@127.0.0.1:$pg_port/household"
  REDIS_URL="redis://127.0.0.1:$redis_port"
  HOST=127.0.0.1 PORT="$http_port"
  JWT_SECRET="$(head -c 36 /dev/urandom | base64 | tr -d '/+=' | head -c 48)"
  ENCRYPTION_KEY="$(head -c 32 /dev/urandom | base64)"
  CORS_ORIGINS=https://app.example.com PUBLIC_APP_URL=https://app.example.com
  EMAIL_TRANSPORT=smtp SMTP_HOST=127.0.0.1 FROM_EMAIL=noreply@example.com
  SHUTDOWN_DRAIN_DELAY_MS=1000 SHUTDOWN_TIMEOUT_MS=5000
)

step "household-service migrate (as uid 10001)"
as_app env -i "${app_env[@]}" /usr/local/bin/household-service migrate

step "household-service serve (as uid 10001) until the HEALTHCHECK command succeeds"
# Not through as_app: a function would run in a subshell, and $! would be that shell.
chroot --userspec=10001:10001 "$rootfs" env -i "${app_env[@]}" /usr/local/bin/household-service serve \
  >"$stores/service.log" 2>&1 &
service_pid=$!
t0=$SECONDS
ready=""
while (( SECONDS - t0 < 60 )); do
  kill -0 "$service_pid" 2>/dev/null || { tail -n 20 "$stores/service.log"; die "the service exited"; }
  # The image's HEALTHCHECK, run inside the root with the root's curl.
  if ready="$(as_app curl -fsS "http://127.0.0.1:$http_port/health/ready" 2>/dev/null)"; then break; fi
  ready=""
  sleep 0.5
done
[[ -n "$ready" ]] || { tail -n 20 "$stores/service.log"; die "/health/ready never answered 200"; }
echo "GET /health/ready → 200 $ready  (after $((SECONDS - t0)) s)"
echo "GET /health       → $(as_app curl -fsS "http://127.0.0.1:$http_port/health")"
echo "GET /health/live  → $(as_app curl -fsS "http://127.0.0.1:$http_port/health/live")"

step "SIGTERM"
t0=$SECONDS
kill -TERM "$service_pid"
status=0
wait "$service_pid" || status=$?
service_pid=""
echo "exit status $status after $((SECONDS - t0)) s"
(( status == 0 )) || { tail -n 20 "$stores/service.log"; die "exit status $status"; }
grep -o '"event":"[a-z._]*"' "$stores/service.log" | sort | uniq -c | sed 's/^/  /'
