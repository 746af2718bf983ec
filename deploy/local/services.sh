#!/usr/bin/env bash
# Private PostgreSQL + Redis on 127.0.0.1 for development and tests.
#
# Everything lives under one directory DIR (nothing is installed system-wide,
# no system service is touched):
#   DIR/pg/          PostgreSQL data directory (initdb on first start)
#   DIR/pg.log       PostgreSQL server log
#   DIR/sock/        PostgreSQL Unix socket directory (TCP is what clients use)
#   DIR/redis.pid    Redis pid file, DIR/redis.log its log
#   DIR/ports        the ports and mode chosen at `start`, reused by *-start
#
# When run as root the PostgreSQL server runs as the `postgres` system user
# (PostgreSQL refuses to run as root); otherwise everything runs as the caller.
# Authentication is `trust` for user `postgres`, listening on loopback only.
set -euo pipefail

readonly DEV_DATABASE=household_dev
# Bounded wait for readiness/shutdown, seconds.
readonly TIMEOUT="${SERVICES_TIMEOUT:-60}"

usage() {
  cat <<'EOF'
usage: services.sh COMMAND ...
  start [--throwaway] DIR PG_PORT REDIS_PORT
                      initdb DIR/pg if absent, start PostgreSQL and Redis on
                      127.0.0.1, create database household_dev.
                      --throwaway: fsync off etc. (only for disposable dirs)
  stop DIR            stop both (only the processes recorded in DIR)
  pg-stop DIR | pg-start DIR | redis-stop DIR | redis-start DIR
                      stop/start one service with the ports given at start
  createdb DIR NAME   create database NAME unless it exists
  status DIR          print what is running
  free-port           print a free loopback TCP port (below 32768)
env: SERVICES_TIMEOUT (seconds, default 60), PG_BINDIR (default: newest
     /usr/lib/postgresql/*/bin)
EOF
}

log() { printf 'services: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

is_root() { [[ "$(id -u)" == 0 ]]; }

# ---------------------------------------------------------------- helpers ---

# Debian installs PostgreSQL's server binaries in a versioned directory;
# use the newest one unless PG_BINDIR says otherwise.
pg_bindir() {
  if [[ -n "${PG_BINDIR:-}" ]]; then
    printf '%s\n' "$PG_BINDIR"
    return
  fi
  local d best=""
  while IFS= read -r d; do
    [[ -x "$d/initdb" ]] && best="$d"
  done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V)
  if [[ -z "$best" ]] && command -v pg_ctl >/dev/null; then
    best="$(dirname "$(readlink -f "$(command -v pg_ctl)")")"
  fi
  [[ -n "$best" ]] || die "PostgreSQL server binaries not found (run deploy/local/deps.sh)"
  printf '%s\n' "$best"
}

# Run a PostgreSQL server-side tool (initdb, pg_ctl) as the right user,
# from / so the postgres user never needs access to the caller's cwd.
as_pg() {
  if is_root; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

port_ok() { [[ "$1" =~ ^[0-9]+$ ]] && (( $1 > 0 && $1 < 65536 )); }

# True if something accepts connections on 127.0.0.1:PORT (or ss lists a
# listener on that port). bash's /dev/tcp needs no extra tools.
port_in_use() {
  local port="$1"
  if timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null; then
    return 0
  fi
  if command -v ss >/dev/null 2>&1 && [[ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]]; then
    return 0
  fi
  return 1
}

# True while PID runs. A zombie counts as gone: a daemon whose parent is a
# slow-reaping init (containers) can linger as one after it has exited.
proc_alive() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [[ -n "$stat" && "${stat:0:1}" != Z ]]
}

# Make DIR absolute (it must exist).
abs_dir() { (cd "$1" && pwd -P); }

# Load PG_PORT, REDIS_PORT and THROWAWAY recorded by `start`.
load_ports() {
  local dir="$1"
  [[ -f "$dir/ports" ]] || die "$dir/ports not found: run 'services.sh start' first"
  PG_PORT="" REDIS_PORT="" THROWAWAY=0
  local key value
  while IFS='=' read -r key value; do
    case "$key" in
      PG_PORT) PG_PORT="$value" ;;
      REDIS_PORT) REDIS_PORT="$value" ;;
      THROWAWAY) THROWAWAY="$value" ;;
    esac
  done <"$dir/ports"
  { port_ok "$PG_PORT" && port_ok "$REDIS_PORT"; } || die "$dir/ports is corrupt"
}

# When root, the postgres user must be able to reach DIR. A checkout under
# /root (mode 0700) is the usual obstacle: add only the search (x) bit for
# "others" on the directories that block it, and say so.
ensure_pg_can_reach() {
  local dir="$1" path="" part
  is_root || return 0
  runuser -u postgres -- test -x "$dir" 2>/dev/null && return 0
  IFS='/' read -ra parts <<<"${dir#/}"
  for part in "" "${parts[@]}"; do
    path="${path%/}/$part"
    if ! runuser -u postgres -- test -x "$path" 2>/dev/null; then
      log "note: chmod o+x $path (search permission only) so the postgres user can reach $dir"
      chmod o+x "$path"
    fi
  done
  runuser -u postgres -- test -x "$dir" 2>/dev/null \
    || die "the postgres user cannot access $dir; put the checkout somewhere it can reach"
}

# ------------------------------------------------------------- PostgreSQL ---

# The postmaster pid recorded in DIR/pg/postmaster.pid, if it still runs.
pg_pid() {
  local dir="$1" pid=""
  [[ -f "$dir/pg/postmaster.pid" ]] || return 1
  read -r pid <"$dir/pg/postmaster.pid" || true
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  { proc_alive "$pid" && grep -q postgres "/proc/$pid/cmdline" 2>/dev/null; } || return 1
  printf '%s\n' "$pid"
}

pg_running() { pg_pid "$1" >/dev/null; }

pg_init() {
  local dir="$1"
  if [[ -f "$dir/pg/PG_VERSION" ]]; then
    return 0
  fi
  log "initdb $dir/pg"
  mkdir -p "$dir/pg"
  if is_root; then
    getent passwd postgres >/dev/null || die "system user 'postgres' missing (install the postgresql package)"
    chown postgres: "$dir/pg"
  fi
  chmod 0700 "$dir/pg"
  as_pg "$(pg_bindir)/initdb" -D "$dir/pg" -A trust -U postgres -E UTF8 --locale=C.UTF-8 \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  # Our settings live in a separate file, rewritten at every start.
  printf "\ninclude_if_exists = 'household_local.conf'\n" >>"$dir/pg/postgresql.conf"
}

# Quote a value for postgresql.conf.
pg_quote() { printf "'%s'" "${1//\'/\'\'}"; }

pg_write_conf() {
  local dir="$1" sockdir="$1/sock" conf="$1/pg/household_local.conf"
  mkdir -p "$sockdir"
  is_root && chown postgres: "$sockdir"
  # A Unix socket path is limited to 107 bytes; without one, TCP still works.
  local sockpath="$sockdir/.s.PGSQL.$PG_PORT.lock"
  (( ${#sockpath} < 100 )) || sockdir=""
  {
    echo "# Written by deploy/local/services.sh at every start; edits are lost."
    echo "port = $PG_PORT"
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = $(pg_quote "$sockdir")"
    echo "max_connections = 200"
    echo "log_min_messages = warning"
    if [[ "$THROWAWAY" == 1 ]]; then
      # Durability is pointless for a directory deleted after the run.
      echo "fsync = off"
      echo "synchronous_commit = off"
      echo "full_page_writes = off"
    fi
  } >"$conf"
  is_root && chown postgres: "$conf"
  return 0
}

pg_wait_ready() {
  local deadline=$((SECONDS + TIMEOUT))
  until "$(pg_bindir)/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -t 1; do
    (( SECONDS < deadline )) || die "PostgreSQL not ready on port $PG_PORT after ${TIMEOUT}s (see $1/pg.log)"
    sleep 0.2
  done
}

# Called when our postmaster is not running. One killed with -9 leaves
# postmaster.pid and the socket lock file behind. PostgreSQL ignores them when
# that pid is gone, but refuses to start while the pid exists: as a zombie
# (slow-reaping init in containers) or reused by an unrelated process. Give a
# zombie a moment to be reaped, then drop the stale files.
pg_clear_stale() {
  local dir="$1" pid="" stat
  [[ -f "$dir/pg/postmaster.pid" ]] || return 0
  read -r pid <"$dir/pg/postmaster.pid" || true
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  local deadline=$((SECONDS + 5))
  while stat="$(cat "/proc/$pid/stat" 2>/dev/null)"; do
    stat="${stat##*) }"
    if [[ "${stat:0:1}" != Z ]] || (( SECONDS >= deadline )); then
      log "removing lock files left by the dead postmaster $pid"
      rm -f "$dir/pg/postmaster.pid" "$dir"/sock/.s.PGSQL.*.lock
      return 0
    fi
    sleep 0.1
  done
}

cmd_pg_start() {
  local dir; dir="$(abs_dir "$1")"
  load_ports "$dir"
  if pg_running "$dir"; then
    log "PostgreSQL already running ($dir)"
    return 0
  fi
  port_in_use "$PG_PORT" && die "port $PG_PORT is already in use; cannot start PostgreSQL"
  pg_clear_stale "$dir"
  pg_write_conf "$dir"
  touch "$dir/pg.log"
  is_root && chown postgres: "$dir/pg.log"
  as_pg "$(pg_bindir)/pg_ctl" start -w -t "$TIMEOUT" -s -D "$dir/pg" -l "$dir/pg.log" \
    || { tail -n 20 "$dir/pg.log" >&2; die "PostgreSQL failed to start"; }
  pg_wait_ready "$dir"
}

cmd_pg_stop() {
  local dir; dir="$(abs_dir "$1")"
  pg_running "$dir" || return 0
  # fast: roll back open transactions, disconnect clients, shut down cleanly.
  as_pg "$(pg_bindir)/pg_ctl" stop -w -t "$TIMEOUT" -s -m fast -D "$dir/pg" && return 0
  # pg_ctl can be fooled by a postmaster that died but was not yet reaped.
  ! pg_running "$dir" || die "PostgreSQL in $dir did not stop"
}

cmd_createdb() {
  local dir name="$2"
  dir="$(abs_dir "$1")"
  load_ports "$dir"
  [[ "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "bad database name: $name"
  local psql; psql="$(pg_bindir)/psql"
  local exists
  exists="$("$psql" -X -q -t -A -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres \
    -c "SELECT 1 FROM pg_database WHERE datname = '$name'")"
  if [[ "$exists" != 1 ]]; then
    "$psql" -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres \
      -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$name\"" >/dev/null
  fi
}

# ------------------------------------------------------------------ Redis ---

# The pid recorded in DIR/redis.pid, if that process is still a redis-server.
redis_pid() {
  local dir="$1" pid
  [[ -f "$dir/redis.pid" ]] || return 1
  pid="$(tr -dc '0-9' <"$dir/redis.pid")"
  [[ -n "$pid" ]] || return 1
  { proc_alive "$pid" && grep -q redis-server "/proc/$pid/cmdline" 2>/dev/null; } || return 1
  printf '%s\n' "$pid"
}

cmd_redis_start() {
  local dir; dir="$(abs_dir "$1")"
  load_ports "$dir"
  if redis_pid "$dir" >/dev/null; then
    log "Redis already running ($dir)"
    return 0
  fi
  port_in_use "$REDIS_PORT" && die "port $REDIS_PORT is already in use; cannot start Redis"
  rm -f "$dir/redis.pid"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" \
    || die "redis-server failed to start (see $dir/redis.log)"
  local deadline=$((SECONDS + TIMEOUT))
  until [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]] \
        && redis_pid "$dir" >/dev/null; do
    (( SECONDS < deadline )) || die "Redis not ready on port $REDIS_PORT after ${TIMEOUT}s (see $dir/redis.log)"
    sleep 0.1
  done
}

cmd_redis_stop() {
  local dir pid
  dir="$(abs_dir "$1")"
  pid="$(redis_pid "$dir")" || { rm -f "$dir/redis.pid"; return 0; }
  load_ports "$dir"
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  # Wait for the recorded process to exit (its port closes with it); if the
  # polite request did not work, escalate with signals to that pid only.
  local start=$SECONDS signalled=0
  while proc_alive "$pid"; do
    if (( signalled < 2 && SECONDS - start >= TIMEOUT )); then
      log "Redis (pid $pid) did not stop; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      signalled=2
    elif (( signalled < 1 && SECONDS - start >= 5 )); then
      kill -TERM "$pid" 2>/dev/null || true
      signalled=1
    fi
    sleep 0.05
  done
  rm -f "$dir/redis.pid"
  ! port_in_use "$REDIS_PORT" || log "warning: port $REDIS_PORT is still in use by another process"
}

# --------------------------------------------------------------- commands ---

cmd_start() {
  local throwaway=0 args=()
  while (( $# )); do
    case "$1" in
      --throwaway) throwaway=1 ;;
      -*) die "unknown option $1" ;;
      *) args+=("$1") ;;
    esac
    shift
  done
  (( ${#args[@]} == 3 )) || { usage >&2; exit 2; }
  local dir="${args[0]}" pg_port="${args[1]}" redis_port="${args[2]}"
  { port_ok "$pg_port" && port_ok "$redis_port"; } || die "ports must be numbers in 1..65535"
  [[ "$pg_port" != "$redis_port" ]] || die "PostgreSQL and Redis need different ports"

  mkdir -p "$dir"
  dir="$(abs_dir "$dir")"
  # mktemp -d makes 0700 directories; the postgres user needs to enter.
  chmod a+x "$dir"
  ensure_pg_can_reach "$dir"

  # Leftovers from an earlier run (e.g. killed with -9) would hold the ports.
  if [[ -f "$dir/ports" ]]; then
    cmd_redis_stop "$dir"
    cmd_pg_stop "$dir"
  fi
  printf 'PG_PORT=%s\nREDIS_PORT=%s\nTHROWAWAY=%s\n' "$pg_port" "$redis_port" "$throwaway" >"$dir/ports"

  pg_init "$dir"
  cmd_pg_start "$dir"
  cmd_createdb "$dir" "$DEV_DATABASE"
  cmd_redis_start "$dir"
  log "PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port ($dir)"
}

cmd_stop() {
  local dir="$1"
  [[ -d "$dir" ]] || return 0
  cmd_redis_stop "$dir"
  cmd_pg_stop "$dir"
}

cmd_status() {
  local dir; dir="$(abs_dir "$1")"
  load_ports "$dir"
  if pg_running "$dir"; then echo "postgresql: running on 127.0.0.1:$PG_PORT"
  else echo "postgresql: stopped (port $PG_PORT)"; fi
  if redis_pid "$dir" >/dev/null; then echo "redis: running on 127.0.0.1:$REDIS_PORT"
  else echo "redis: stopped (port $REDIS_PORT)"; fi
}

# Random ports in [20000, 32767]: below Linux's ephemeral range (32768+), so
# outgoing connections will not grab the port between now and its use.
cmd_free_port() {
  local i port
  for ((i = 0; i < 500; i++)); do
    port=$((20000 + (RANDOM % 12768)))
    if ! port_in_use "$port"; then
      printf '%s\n' "$port"
      return 0
    fi
  done
  die "no free port found"
}

need_args() { (( $1 >= $2 )) || { usage >&2; exit 2; }; }

main() {
  (( $# )) || { usage >&2; exit 2; }
  local cmd="$1"; shift
  case "$cmd" in
    start) cmd_start "$@" ;;
    stop) need_args $# 1; cmd_stop "$1" ;;
    pg-start) need_args $# 1; cmd_pg_start "$1" ;;
    pg-stop) need_args $# 1; cmd_pg_stop "$1" ;;
    redis-start) need_args $# 1; cmd_redis_start "$1" ;;
    redis-stop) need_args $# 1; cmd_redis_stop "$1" ;;
    createdb) need_args $# 2; cmd_createdb "$1" "$2" ;;
    status) need_args $# 1; cmd_status "$1" ;;
    free-port) cmd_free_port ;;
    -h|--help|help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
