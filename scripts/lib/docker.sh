# Shared by scripts/offline-images, scripts/test and the compose tests: Debian's Docker client
# (/usr/bin/docker) and engine, started here when none runs and stopped again by whoever started it.

DOCKER=/usr/bin/docker
[ -x "$DOCKER" ] || DOCKER=$(command -v docker || echo docker)
docker() { "$DOCKER" "$@"; }

docker_up() { "$DOCKER" info >/dev/null 2>&1; }

# ensure_dockerd STATE_DIR: starts dockerd (log in STATE_DIR/dockerd.log) when no engine answers and
# records its pid in STATE_DIR/dockerd.pid; stop_dockerd STATE_DIR stops only that one.
ensure_dockerd() {
  local dir=$1
  docker_up && return 0
  command -v dockerd >/dev/null || die "dockerd is missing (install the package docker.io)"
  mkdir -p "$dir"
  say "starting dockerd (log in $dir/dockerd.log)"
  dockerd >"$dir/dockerd.log" 2>&1 &
  echo $! >"$dir/dockerd.pid"
  local deadline=$((SECONDS + 60))
  until docker_up; do
    if ! kill -0 "$(cat "$dir/dockerd.pid")" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
      tail -n 20 "$dir/dockerd.log" >&2
      die "dockerd did not start"
    fi
    sleep 0.2
  done
}

stop_dockerd() {
  local pid
  pid=$(cat "$1/dockerd.pid" 2>/dev/null || true)
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$1/dockerd.pid"
}

image_present() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }
