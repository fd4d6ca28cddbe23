# Shared by scripts/up, scripts/down and scripts/test: packages, build, and local broker and
# Redis processes with their state in a folder of their own.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PACKAGES=(build-essential cmake pkg-config librabbitmq-dev libuv1-dev libhiredis-dev rapidjson-dev
  libpistache-dev catch2 rabbitmq-server redis-server curl iproute2)

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

ensure_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build() {  # build [ON|OFF]: warnings as errors; without it, the build folder's setting stays
  say "building into build/"
  cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo ${1:+-DOFFERS_WERROR=$1} >/dev/null
  cmake --build "$ROOT/build" -j"$(nproc)"
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

rabbit_env() {  # rabbit_env DIR NODE DIST_PORT
  echo RABBITMQ_NODENAME="$2" RABBITMQ_DIST_PORT="$3" RABBITMQ_CONFIG_FILE="$1/rabbitmq.conf" \
    RABBITMQ_MNESIA_BASE="$1/mnesia" RABBITMQ_LOG_BASE="$1/log" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$1/enabled_plugins" RABBITMQ_PID_FILE="$1/rabbit.pid"
}

# start_rabbit DIR NODE AMQP_PORT MGMT_PORT DIST_PORT [DEFINITIONS]
start_rabbit() {
  local dir=$1 node=$2 amqp=$3 mgmt=$4 dist=$5 defs=${6:-}
  mkdir -p "$dir/mnesia" "$dir/log"
  {
    echo "listeners.tcp.default = $amqp"
    echo "management.tcp.port = $mgmt"
    echo "loopback_users.guest = false"
    echo "collect_statistics_interval = 1000"
    [ -n "$defs" ] && echo "load_definitions = $defs"
  } >"$dir/rabbitmq.conf"
  cp "$ROOT/rabbitmq/enabled_plugins" "$dir/enabled_plugins"
  echo "$node $amqp $mgmt $dist" >"$dir/node"
  [ "$(id -u)" -eq 0 ] && chown -R rabbitmq:rabbitmq "$dir"
  env $(rabbit_env "$dir" "$node" "$dist") rabbitmq-server -detached >/dev/null 2>&1 || true
  wait_until 90 "RabbitMQ node $node" rabbitmqctl -q -n "$node" await_startup --timeout 5
  wait_until 30 "RabbitMQ AMQP port $amqp" port_in_use "$amqp"
}

# Starts a node again with the configuration start_rabbit wrote (after a kill or a stop).
restart_rabbit() {  # restart_rabbit DIR
  local dir=$1 node amqp mgmt dist
  read -r node amqp mgmt dist <"$dir/node"
  env $(rabbit_env "$dir" "$node" "$dist") rabbitmq-server -detached >/dev/null 2>&1 || true
  wait_until 90 "RabbitMQ node $node" rabbitmqctl -q -n "$node" await_startup --timeout 5
  wait_until 30 "RabbitMQ AMQP port $amqp" port_in_use "$amqp"
}

kill_rabbit() {  # kill_rabbit DIR: SIGKILL, no goodbye
  local pid
  pid=$(cat "$1/rabbit.pid" 2>/dev/null || true)
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
}

stop_rabbit() {  # stop_rabbit DIR
  local dir=$1 node pid
  [ -f "$dir/node" ] || return 0
  node=$(cut -d' ' -f1 "$dir/node")
  timeout 30 rabbitmqctl -q -n "$node" stop >/dev/null 2>&1 || true
  pid=$(cat "$dir/rabbit.pid" 2>/dev/null || true)
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
}

start_redis() {  # start_redis DIR PORT
  local dir=$1 port=$2
  mkdir -p "$dir"
  redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --appendonly yes --appendfsync always \
    --save "" --databases 4096 --daemonize yes --pidfile "$dir/redis.pid" \
    --logfile "$dir/redis.log" >/dev/null
  if ! wait_until_quiet 30 redis-cli -p "$port" ping; then
    cat "$dir/redis.log" >&2 2>/dev/null || true
    die "timed out waiting for Redis on port $port"
  fi
}

stop_redis() {  # stop_redis DIR
  local pid
  pid=$(cat "$1/redis.pid" 2>/dev/null || true)
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
}

# A throwaway RabbitMQ and Redis on free non-default ports with their own state folder, for
# scripts/test and scripts/bench; stopped and removed on exit, whatever happens. Exports the
# OFFERS_TEST_* variables the tests and the benchmark read.
start_throwaway_servers() {
  STATE=$(mktemp -d /tmp/offers-test.XXXXXX)
  chmod 755 "$STATE"
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
  local rc=$?
  stop_rabbit "$STATE/rabbit"
  stop_redis "$STATE/redis"
  if [ $rc -ne 0 ] && [ -d "$STATE/logs" ]; then
    rm -rf "$ROOT/build/test-logs" && cp -r "$STATE/logs" "$ROOT/build/test-logs" || true
    say "service logs kept in build/test-logs"
  fi
  rm -rf "$STATE"
  exit $rc
}
