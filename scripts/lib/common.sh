# Shared by scripts/up, scripts/down and scripts/test: packages, build, and local broker and
# Redis processes with their state in a folder of their own.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PACKAGES=(build-essential cmake pkg-config librabbitmq-dev libuv1-dev libhiredis-dev rapidjson-dev
  libpistache-dev catch2 rabbitmq-server redis-server curl iproute2 nodejs)

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Only package installation needs root: as another user it goes through sudo.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    die "installing packages needs root: run as root, or install sudo and give $(id -un) sudo rights"
  fi
}

ensure_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
  # On a host with systemd the packages start the distribution's own broker and Redis on the
  # default ports; this project runs its own, so the ones installed just now are switched off.
  for p in rabbitmq-server redis-server; do
    [[ " ${missing[*]} " == *" $p "* ]] || continue
    if command -v systemctl >/dev/null && systemctl is-enabled "$p" >/dev/null 2>&1; then
      say "disabling the $p service the package started (this project runs its own)"
      as_root systemctl disable --now "$p" >/dev/null 2>&1 || true
    fi
  done
}

# The npm packages the API checks use (tests/package.json), installed from tests/package-lock.json
# into tests/node_modules when that is missing or older than the lock file; nothing is fetched
# when it is up to date. npm comes with Debian's nodejs on some systems and as its own package on
# others (where installing the package `npm` over a nodejs that provides it would fail).
ensure_node_modules() {
  command -v node >/dev/null || die "node is missing (the package nodejs did not install it); the API checks need it"
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 18 ] || die "node $(node --version) is too old for the API checks: 18 or newer is needed"
  if ! command -v npm >/dev/null; then
    say "installing npm"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null
  fi
  local stamp="$ROOT/tests/node_modules/.package-lock.json"
  if [ ! -f "$stamp" ] || [ "$ROOT/tests/package-lock.json" -nt "$stamp" ]; then
    say "installing the npm packages of tests/package-lock.json into tests/node_modules"
    (cd "$ROOT/tests" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) ||
      die "npm ci in tests/ failed (it needs the npm registry once)"
  fi
}

# build [ON|OFF] [TARGET...]: warnings as errors (without ON|OFF the build folder's setting
# stays), and only the given targets when some are named.
build() {
  local werror=${1:-}
  shift || true
  local targets=()
  [ $# -gt 0 ] && targets=(--target "$@")
  say "building into build/"
  cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo ${werror:+-DOFFERS_WERROR=$werror} >/dev/null
  cmake --build "$ROOT/build" -j"$(nproc)" "${targets[@]}"
}

# Who listens on a port, for error messages (process names need root).
port_holder() {
  local who
  who=$(ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'users:(("[^"]*"' | head -1 | cut -d'"' -f2)
  echo "${who:-another process}"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A port nobody listens on, away from the defaults and below the kernel's ephemeral range, so no
# outgoing connection takes it before the server binds it.
free_port() {
  local p i
  for i in $(seq 1 200); do
    p=$((20000 + RANDOM % 12000))
    if ! port_in_use "$p" && [[ " ${TAKEN_PORTS:-} " != *" $p "* ]]; then
      TAKEN_PORTS="${TAKEN_PORTS:-} $p"
      echo "$p"
      return 0
    fi
  done
  die "no free port found"
}

wait_until() {  # wait_until SECONDS DESCRIPTION COMMAND...
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -ge $deadline ] && die "timed out waiting for $what"
    sleep 0.2
  done
}

wait_until_quiet() {  # like wait_until, but returns 1 instead of exiting
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.2
  done
}

# The node runs as whoever calls these functions, through the scripts Debian keeps in
# /usr/lib/rabbitmq/bin: the wrappers in /usr/sbin switch to the rabbitmq user, which cannot read
# a checkout in a 0700 home. All of a node's state, its configuration and a copy of the
# definitions live in its own folder; the Erlang cookie is the invoking user's (~/.erlang.cookie).
RABBIT_BIN=/usr/lib/rabbitmq/bin
case ":$PATH:" in *":$RABBIT_BIN:"*) ;; *) export PATH="$RABBIT_BIN:$PATH" ;; esac

rabbit_run() {  # rabbit_run DIR COMMAND...: COMMAND with the node's environment (from DIR/node)
  local dir=$1 node amqp mgmt dist
  shift
  read -r node amqp mgmt dist <"$dir/node"
  env RABBITMQ_NODENAME="$node" RABBITMQ_DIST_PORT="$dist" \
    RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf" RABBITMQ_ADVANCED_CONFIG_FILE="$dir/advanced.config" \
    RABBITMQ_MNESIA_BASE="$dir/mnesia" \
    RABBITMQ_LOG_BASE="$dir/log" RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" \
    RABBITMQ_PID_FILE="$dir/rabbit.pid" ERL_CRASH_DUMP="$dir/erl_crash.dump" "$@"
}

rabbit_node() { cut -d' ' -f1 "$1/node"; }

# Why a node did not start: the end of its own log and of what the start command printed.
rabbit_failed() {  # rabbit_failed DIR WHAT
  local dir=$1 log
  log="$dir/log/$(rabbit_node "$dir").log"
  {
    echo "---- last lines of $log ----"
    tail -n 40 "$log" 2>/dev/null || echo "(no log written)"
    if [ -s "$dir/erl_crash.dump" ]; then
      echo "---- the Erlang VM stopped with ----"
      grep -m1 '^Slogan:' "$dir/erl_crash.dump" | cut -c1-600
    fi
    if [ -s "$dir/startup.log" ]; then
      echo "---- rabbitmq-server printed ----"
      tail -n 20 "$dir/startup.log"
    fi
  } >&2
  die "$2"
}

# Starts the node and waits until it runs its applications and listens on its AMQP port.
launch_rabbit() {  # launch_rabbit DIR
  local dir=$1 node amqp mgmt dist deadline=$((SECONDS + 90))
  read -r node amqp mgmt dist <"$dir/node"
  rm -f "$dir/erl_crash.dump" "$dir/rabbit.pid"
  (cd "$dir" && rabbit_run "$dir" rabbitmq-server -detached) >"$dir/startup.log" 2>&1 || true
  # One CLI call that follows the node's pid file until it runs (each call starts an Erlang VM, so
  # polling with many would cost more than the boot itself); it returns early if the node dies.
  rabbitmqctl -q -n "$node" wait "$dir/rabbit.pid" --timeout 90 >/dev/null 2>&1 || true
  until rabbitmqctl -q -n "$node" await_startup --timeout 5 >/dev/null 2>&1 && port_in_use "$amqp"; do
    [ -e "$dir/erl_crash.dump" ] && rabbit_failed "$dir" "RabbitMQ node $node crashed while starting"
    [ $SECONDS -ge $deadline ] && rabbit_failed "$dir" "RabbitMQ node $node did not start within 90 s"
    sleep 0.5
  done
}

# start_rabbit DIR NODE AMQP_PORT MGMT_PORT DIST_PORT [DEFINITIONS] [EXTRA_CONFIG_LINES]
start_rabbit() {
  local dir=$1 node=$2 amqp=$3 mgmt=$4 dist=$5 defs=${6:-} extra=${7:-}
  mkdir -p "$dir/mnesia" "$dir/log"
  [ -n "$defs" ] && cp "$defs" "$dir/definitions.json"
  {
    echo "listeners.tcp.default = $amqp"
    echo "management.tcp.port = $mgmt"
    echo "loopback_users.guest = false"
    echo "collect_statistics_interval = 1000"
    grep -E '^max_message_size ' "$ROOT/rabbitmq/rabbitmq.conf"
    [ -n "$defs" ] && echo "load_definitions = $dir/definitions.json"
    [ -n "$extra" ] && echo "$extra"
  } >"$dir/rabbitmq.conf"
  cp "$ROOT/rabbitmq/enabled_plugins" "$dir/enabled_plugins"
  echo "$node $amqp $mgmt $dist" >"$dir/node"
  launch_rabbit "$dir"
}

# Starts a node again with the configuration start_rabbit wrote (after a kill or a stop).
restart_rabbit() { launch_rabbit "$1"; }

kill_rabbit() {  # kill_rabbit DIR: SIGKILL, no goodbye
  local pid
  pid=$(cat "$1/rabbit.pid" 2>/dev/null || true)
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
}

stop_rabbit() {  # stop_rabbit DIR: a clean stop, SIGKILL if it hangs; epmd goes with the last node
  local dir=$1 pid
  [ -f "$dir/node" ] || return 0
  pid=$(cat "$dir/rabbit.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    timeout 30 rabbitmqctl -q -n "$(rabbit_node "$dir")" stop "$dir/rabbit.pid" >/dev/null 2>&1 || true
    kill -9 "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$dir/rabbit.pid"
  release_epmd
}

# The Erlang port mapper starts with the first node and outlives it; stop it once no node is
# registered (it refuses to stop while one is), so nothing is left listening.
release_epmd() {
  command -v epmd >/dev/null || return 0
  epmd -names 2>/dev/null | grep -q '^name ' && return 0
  epmd -kill >/dev/null 2>&1 || true
}

# start_cluster DIR NAME N AMQP_PORTS MGMT_PORTS DIST_PORTS [DEFINITIONS]: N nodes NAME-1@localhost
# ... with their state in DIR/node1 ..., joined into one cluster that pauses its minority side in
# a partition; the definitions are imported once every node is in, so quorum queues get a member
# on each. The port lists hold N ports each, separated by spaces.
start_cluster() {
  local dir=$1 name=$2 n=$3 defs=${7:-} i first
  local -a amqp=($4) mgmt=($5) dist=($6)
  first="$name-1@localhost"
  for ((i = 1; i <= n; i++)); do
    start_rabbit "$dir/node$i" "$name-$i@localhost" "${amqp[i - 1]}" "${mgmt[i - 1]}" \
      "${dist[i - 1]}" "" "cluster_partition_handling = pause_minority"
    if [ "$i" -gt 1 ]; then
      rabbitmqctl -q -n "$name-$i@localhost" stop_app >/dev/null
      rabbitmqctl -q -n "$name-$i@localhost" join_cluster "$first" >/dev/null ||
        rabbit_failed "$dir/node$i" "node $name-$i@localhost could not join $first"
      rabbitmqctl -q -n "$name-$i@localhost" start_app >/dev/null
    fi
  done
  if [ -n "$defs" ]; then
    cp "$defs" "$dir/definitions.json"
    rabbitmqctl -q -n "$first" import_definitions "$dir/definitions.json" >/dev/null ||
      die "the definitions could not be imported into the cluster"
  fi
}

stop_cluster() {  # stop_cluster DIR: every node, the last one first
  local node
  for node in $(ls -d "$1"/node* 2>/dev/null | sort -r); do stop_rabbit "$node"; done
}

start_redis() {  # start_redis DIR PORT
  local dir=$1 port=$2
  mkdir -p "$dir"
  redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --appendonly yes --appendfsync always \
    --save "" --databases 4096 --daemonize yes --pidfile "$dir/redis.pid" \
    --logfile "$dir/redis.log" >"$dir/startup.log" 2>&1 || true
  wait_redis_up "$dir" "$port"
}

# One data node of the replicated Redis (scripts/up --ha), from a config file of its own that
# Sentinel rewrites when it changes the node's role, so a node restarted later keeps the role the
# last failover gave it. The file is written once; REPLICAOF_PORT only matters then.
start_redis_node() {  # start_redis_node DIR PORT [REPLICAOF_PORT]
  local dir=$1 port=$2 master=${3:-}
  mkdir -p "$dir"
  if [ ! -f "$dir/redis.conf" ]; then
    {
      echo "port $port"
      echo "bind 127.0.0.1"
      echo "dir $dir"
      echo "appendonly yes"
      echo "appendfsync always"
      echo "save \"\""
      echo "databases 4096"
      # A replica that joins (after a failover, say) gets its copy at once, not 5 s later.
      echo "repl-diskless-sync-delay 0"
      [ -n "$master" ] && echo "replicaof 127.0.0.1 $master"
    } >"$dir/redis.conf"
  fi
  redis-server "$dir/redis.conf" --daemonize yes --pidfile "$dir/redis.pid" \
    --logfile "$dir/redis.log" >"$dir/startup.log" 2>&1 || true
  wait_redis_up "$dir" "$port"
}

# A sentinel watching MASTER_NAME, first seen at MASTER_PORT, with short timeouts: the master is
# judged down after 1 s without an answer, so a failover takes a few seconds.
start_sentinel() {  # start_sentinel DIR PORT MASTER_NAME MASTER_PORT
  local dir=$1 port=$2 name=$3 master=$4
  mkdir -p "$dir"
  if [ ! -f "$dir/sentinel.conf" ]; then
    cat >"$dir/sentinel.conf" <<CONF
port $port
bind 127.0.0.1
dir $dir
sentinel monitor $name 127.0.0.1 $master 2
sentinel down-after-milliseconds $name 1000
sentinel failover-timeout $name 3000
sentinel parallel-syncs $name 1
CONF
  fi
  redis-server "$dir/sentinel.conf" --sentinel --daemonize yes --pidfile "$dir/redis.pid" \
    --logfile "$dir/redis.log" >"$dir/startup.log" 2>&1 || true
  wait_redis_up "$dir" "$port"
}

wait_redis_up() {  # wait_redis_up DIR PORT
  if ! wait_until_quiet 30 redis-cli -p "$2" ping; then
    {
      echo "---- last lines of $1/redis.log ----"
      tail -n 20 "$1/redis.log" 2>/dev/null || echo "(no log written)"
      cat "$1/startup.log" 2>/dev/null
    } >&2
    stop_redis "$1"
    die "Redis did not start on port $2"
  fi
}

stop_redis() {  # stop_redis DIR
  local pid
  pid=$(cat "$1/redis.pid" 2>/dev/null || true)
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$1/redis.pid"
}

# A throwaway RabbitMQ and Redis on free non-default ports with their own state folder, for
# scripts/test and scripts/bench; stopped and removed on exit, whatever happens. Exports the
# OFFERS_TEST_* variables the tests and the benchmark read.
start_throwaway_servers() {
  STATE=$(mktemp -d "${TMPDIR:-/tmp}/offers-test.XXXXXX")
  mkdir -p "$STATE/logs"
  NODE="offers-test-$$@localhost"
  trap cleanup_throwaway_servers EXIT
  trap 'exit 130' INT TERM
  local amqp mgmt dist redis
  amqp=$(free_port)
  mgmt=$(free_port)
  dist=$(free_port)
  redis=$(free_port)
  say "starting RabbitMQ on $amqp (management $mgmt) and Redis on $redis"
  start_redis "$STATE/redis" "$redis"
  start_rabbit "$STATE/rabbit" "$NODE" "$amqp" "$mgmt" "$dist" "$ROOT/rabbitmq/definitions.json"
  export OFFERS_TEST_AMQP_PORT=$amqp OFFERS_TEST_MGMT_PORT=$mgmt OFFERS_TEST_REDIS_PORT=$redis
  export OFFERS_TEST_RABBIT_NODE=$NODE OFFERS_TEST_STATE=$STATE OFFERS_TEST_RABBIT_DIR=$STATE/rabbit
}

cleanup_throwaway_servers() {
  local rc=$? cluster
  # Clusters the ha tests started and could not stop themselves (a test that crashed), with
  # any partition rules they left.
  for cluster in "$STATE"/cluster-*/; do
    [ -d "$cluster" ] && bash "$ROOT/scripts/lib/cluster.sh" stop "${cluster%/}"
  done
  stop_rabbit "$STATE/rabbit"
  stop_redis "$STATE/redis"
  if [ $rc -ne 0 ] && [ -d "$STATE/logs" ]; then
    rm -rf "$ROOT/build/test-logs" && cp -r "$STATE/logs" "$ROOT/build/test-logs" || true
    say "service logs kept in build/test-logs"
  fi
  rm -rf "$STATE"
  exit $rc
}
