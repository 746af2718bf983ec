#!/usr/bin/env bash
# Installs the Debian 12 packages needed to build, run and test the service.
# Does nothing (and needs no network) when they are all installed already.
set -euo pipefail

# The one list of packages. PostgreSQL and Redis are only used as private,
# per-checkout instances started by deploy/local/services.sh.
PACKAGES=(
  # toolchain
  build-essential cmake pkg-config ccache
  # libraries
  libcaf-dev librestinio-dev libasio-dev libfmt-dev libhttp-parser-dev
  libpqxx-dev libhiredis-dev nlohmann-json3-dev libboost-test-dev
  libsodium-dev libqrencode-dev libpng-dev libcurl4-openssl-dev libsystemd-dev
  # servers for development and tests
  postgresql redis-server
  # tools used by the scripts and tests
  curl procps zbar-tools python3 jq openssl shellcheck
)

# Packages from PACKAGES that are not fully installed ("ii").
missing_packages() {
  local installed
  # dpkg-query exits non-zero when it does not know a package; the status
  # output for the known ones is still complete.
  installed="$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "${PACKAGES[@]}" 2>/dev/null || true)"
  local p
  for p in "${PACKAGES[@]}"; do
    grep -qx "ii  $p" <<<"$installed" || printf '%s\n' "$p"
  done
}

mapfile -t missing < <(missing_packages)
if (( ${#missing[@]} == 0 )); then
  exit 0
fi

sudo=()
if [[ "$(id -u)" != 0 ]]; then
  command -v sudo >/dev/null || { echo "deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi

echo "deps: installing ${missing[*]}" >&2
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  "${missing[@]}"

# Fail early, with a clear message, if something still is not there.
mapfile -t missing < <(missing_packages)
if (( ${#missing[@]} )); then
  echo "deps: still missing after apt-get install: ${missing[*]}" >&2
  exit 1
fi
