# Shared by the compose tests: a compose project of its own (unique name, free published ports),
# the README's "Try it" lines run against it, health waits, and what was lost per subscriber.
# Sourced after scripts/lib/common.sh and scripts/lib/docker.sh.

failures=0
fail() { printf 'FAIL: %s\n' "$*"; failures=$((failures + 1)); }
step() { printf '== %s (%d s)\n' "$*" "$SECONDS"; }

# Outside CI a missing Docker engine skips the test; under CI it fails (.ci/run installs it).
require_docker() {
  local why=""
  command -v docker-compose >/dev/null || why="docker-compose is missing"
  [ -x /usr/bin/docker ] || command -v docker >/dev/null || why="docker is missing"
  [ -z "$why" ] && ! docker_up && why="no Docker engine answers (scripts/test starts dockerd)"
  [ -z "$why" ] && return 0
  if [ "${CI:-}" = true ]; then
    echo "FAIL: $why"
    exit 1
  fi
  echo "SKIP: $why"
  exit 77
}

# The rabbitmq and redis images of the compose file: present, pulled, or built as stand-ins.
ensure_images() {
  local missing=0 image
  for image in $(sed -n 's/^ *image: *\(\(rabbitmq\|redis\):[^ ]*\)$/\1/p' "$ROOT/compose.yaml" | sort -u); do
    image_present "$image" && continue
    timeout 60 "$DOCKER" pull -q "$image" >/dev/null 2>&1 || missing=1
  done
  if [ $missing -eq 1 ] || ! image_present debian:bookworm || ! image_present debian:bookworm-slim; then
    "$ROOT/scripts/offline-images" || die "scripts/offline-images failed"
  fi
}

# compose_project NAME FILE...: this test's project, named NAME-<pid>, on the given compose files,
# with the contract's published ports moved to free ones (PORT_OF maps each to its own), taken
# down with its volumes when the test exits.
compose_project() {
  local f p
  PROJECT="$1-$$"
  shift
  COMPOSE_FILES=()
  for f in "$@"; do COMPOSE_FILES+=(-f "$f"); done
  declare -gA PORT_OF=()
  for p in 5672 15672 6379 8080 8081 8082 8083; do PORT_OF[$p]=$(free_port); done
  export OFFERS_AMQP_PORT=${PORT_OF[5672]} OFFERS_MANAGEMENT_PORT=${PORT_OF[15672]} \
    OFFERS_REDIS_PORT=${PORT_OF[6379]} OFFERS_SPECIAL_OFFERS_PORT=${PORT_OF[8080]} \
    OFFERS_LOYALTY_PORT=${PORT_OF[8081]} OFFERS_NOTIFICATIONS_PORT=${PORT_OF[8082]} \
    OFFERS_STATISTICS_PORT=${PORT_OF[8083]}
  trap compose_cleanup EXIT
  trap 'exit 130' INT TERM
}

# compose ARGS...: docker-compose on this test's project.
compose() { docker-compose -p "$PROJECT" "${COMPOSE_FILES[@]}" "$@"; }

compose_cleanup() {
  local rc=$?
  if [ -n "${PROJECT:-}" ]; then
    if [ $rc -ne 0 ] || [ $failures -ne 0 ]; then
      mkdir -p "$BUILD/test-logs"
      compose logs --no-color --timestamps >"$BUILD/test-logs/$PROJECT.log" 2>&1 || true
      echo "container logs kept in build/test-logs/$PROJECT.log"
    fi
    compose down -v --remove-orphans -t 20 >/dev/null 2>&1 || true
  fi
  exit $rc
}

# compose_up SERVICE: builds the image (through SERVICE, one of the four that share it) and starts
# the project. Tests running at once build one at a time, so the later ones find every layer in
# the cache instead of compiling the same sources side by side.
compose_up() {
  local log="$BUILD/$PROJECT-up.log" start=$SECONDS
  (
    flock 8
    compose build "$1"
  ) 8>"${TMPDIR:-/tmp}/offers-image-build.lock" >"$log" 2>&1 ||
    { tail -n 30 "$log"; die "the image did not build (log $log)"; }
  compose up --build -d >>"$log" 2>&1 || { tail -n 30 "$log"; die "docker-compose up failed (log $log)"; }
  rm -f "$log"
  echo "   built and created in $((SECONDS - start)) s"
}

container_of() { compose ps -q "$1" | head -1; }
containers() { compose ps -q; }

health_of() { "$DOCKER" inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$1" 2>/dev/null; }

# Every container with a health check healthy (at least COUNT of them); a one-off without one
# must have exited 0.
all_healthy() {  # all_healthy COUNT
  local c n=0 h
  for c in $(containers); do
    h=$(health_of "$c")
    if [ "$h" = none ]; then
      [ "$("$DOCKER" inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$c")" = "exited 0" ] || return 1
      continue
    fi
    [ "$h" = healthy ] || return 1
    n=$((n + 1))
  done
  [ $n -ge "$1" ]
}

wait_healthy() {  # wait_healthy SECONDS COUNT
  local deadline=$((SECONDS + $1)) c
  until all_healthy "$2"; do
    if [ $SECONDS -ge $deadline ]; then
      for c in $(containers); do
        echo "  $("$DOCKER" inspect -f '{{.Name}}' "$c"): $(health_of "$c")"
      done
      return 1
    fi
    sleep 1
  done
}

README="$ROOT/README.md"
source "$ROOT/tests/support/readme.sh"

# The contract's ports in a README line moved to the ones this project published.
published() {
  local cmd=$1 port
  for port in "${!PORT_OF[@]}"; do cmd=${cmd//localhost:$port/localhost:${PORT_OF[$port]}}; done
  printf '%s' "$cmd"
}

# Reads (no -X) are asked again until they answer as shown, since events apply asynchronously.
check_readme_command() {  # COMMAND EXPECTED
  local cmd out deadline=$((SECONDS + 30))
  cmd=$(published "$1")
  while :; do
    out=$(eval "$cmd" 2>&1)
    if [ -z "$2" ] || answers_match "$out" "$2"; then
      printf 'ok    %s\n' "$1"
      return 0
    fi
    [[ $cmd == *" -X "* ]] && break
    [ $SECONDS -ge $deadline ] && break
    sleep 0.5
  done
  fail "$1"
  printf '  expected:\n%s\n  got:\n%s\n' "$(sed 's/^/    /' <<<"$2")" "$(head -c 3000 <<<"$out" | sed 's/^/    /')"
}

# run_readme_examples [SKIP]: every command of "Try it" but those matching the regex SKIP.
run_readme_examples() {
  README_SKIP=${1:-}
  readme_examples "Try it" check_or_skip
  [ "$README_EXAMPLES" -ge 10 ] || fail "only $README_EXAMPLES commands found under \"Try it\""
}

check_or_skip() {  # COMMAND EXPECTED
  if [ -n "$README_SKIP" ] && [[ $1 =~ $README_SKIP ]]; then
    printf 'skip  %s\n' "$1"
  else
    check_readme_command "$1" "$2"
  fi
}

json_count() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s);console.log(eval(process.argv[1]))})' "$1" 2>/dev/null; }

# Every event of the feed applied once by each subscriber: statistics counted each type once,
# notifications holds one notification per event, loyalty's offers are special-offers' offers.
check_nothing_lost() {  # check_nothing_lost SECONDS
  local so=${PORT_OF[8080]} deadline=$((SECONDS + $1)) events offers stats notes loyal
  while :; do
    events=$(curl -s "localhost:$so/events?start=1" | json_count 'v.length')
    offers=$(curl -s "localhost:$so/offers" | json_count 'JSON.stringify(v)')
    stats=$(curl -s "localhost:${PORT_OF[8083]}/stats" |
      json_count 'Object.values(v.eventsByType).reduce((a,b)=>a+b,0)+" "+v.lastSequenceNumber')
    notes=$(curl -s "localhost:${PORT_OF[8082]}/notifications?limit=10000" |
      json_count 'v.length+" "+new Set(v.map(n=>n.messageId)).size')
    loyal=$(curl -s "localhost:${PORT_OF[8081]}/offers" | json_count 'JSON.stringify(v)')
    [ "$stats" = "$events $events" ] && [ "$notes" = "$events $events" ] && [ "$loyal" = "$offers" ] &&
      break
    if [ $SECONDS -ge $deadline ]; then
      fail "events lost or applied twice: $events events in the feed; statistics counted (sum, last) $stats; notifications (count, distinct) $notes; loyalty's offers differ: $([ "$loyal" = "$offers" ] && echo no || echo yes)"
      return 1
    fi
    sleep 1
  done
  echo "ok    $events events applied once by each subscriber"
}

restarts_of() { "$DOCKER" inspect -f '{{.RestartCount}}' "$1"; }

# SIGKILL to a container's main process, as a crash or the kernel's OOM killer sends it; the
# restart policy must bring the same container back healthy. (docker kill would not do: Docker
# counts it as a stop by the operator, which unless-stopped honours by leaving the container down.)
kill_and_see_restart() {  # kill_and_see_restart SERVICE SECONDS
  local c pid before deadline=$((SECONDS + $2))
  c=$(container_of "$1")
  before=$(restarts_of "$c")
  pid=$("$DOCKER" inspect -f '{{.State.Pid}}' "$c")
  [ "${pid:-0}" -gt 0 ] && kill -KILL "$pid" || { fail "$1 has no running process to kill"; return 1; }
  until [ "$(restarts_of "$c")" -gt "$before" ] && [ "$(health_of "$c")" = healthy ]; do
    if [ $SECONDS -ge $deadline ]; then
      fail "$1 was not restarted healthy within $2 s after SIGKILL (restarts $(restarts_of "$c"), $(health_of "$c"))"
      return 1
    fi
    sleep 0.5
  done
  echo "ok    $1 killed with SIGKILL, restarted by its policy and healthy again"
}

post_offers() {  # post_offers COUNT PREFIX: writes, each retried until it is accepted
  local i deadline
  for ((i = 1; i <= $1; i++)); do
    deadline=$((SECONDS + 60))
    until [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "localhost:${PORT_OF[8080]}/offers" \
      -H "Idempotency-Key: $2-$i" -d "{\"description\":\"$2 $i\"}")" = 201 ]; do
      [ $SECONDS -ge $deadline ] && { fail "POST /offers ($2 $i) not accepted within 60 s"; return 1; }
      sleep 0.2
    done
  done
}

# docker-compose stop: every container exits 0 by itself within its grace period.
stop_and_check_exit_codes() {
  local c name code
  compose stop >/dev/null 2>&1 || fail "docker-compose stop exited $?"
  for c in $(containers); do
    name=$("$DOCKER" inspect -f '{{.Name}}' "$c")
    code=$("$DOCKER" inspect -f '{{.State.ExitCode}}' "$c")
    if [ "$code" = 0 ]; then
      echo "ok    ${name#/} exited 0"
    else
      fail "${name#/} exited $code on docker-compose stop (137: killed after its grace period)"
    fi
  done
}
