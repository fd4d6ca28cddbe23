#!/usr/bin/env bash
# The management console of the native stack: a RabbitMQ node of this test's own (free ports,
# management plugin, the contract's definitions), Redis, the four services from the build, one
# event dead-lettered by loyalty, then tests/browser/console.mjs in headless Chromium.
#   tests/browser/native_test.sh CHECKOUT BUILD_DIR
set -uo pipefail
ROOT=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
BUILD=${2:-$ROOT/build}
source "$ROOT/scripts/lib/common.sh"

if [ ! -x /usr/bin/chromium ]; then
  [ "${CI:-}" = true ] && { echo "FAIL: /usr/bin/chromium is missing (.ci/run installs chromium)"; exit 1; }
  echo "SKIP: /usr/bin/chromium is missing (apt-get install chromium)"
  exit 77
fi

STATE=$(mktemp -d "${TMPDIR:-/tmp}/offers-browser.XXXXXX")
pids=()
cleanup() {
  local rc=$? pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  stop_rabbit "$STATE/rabbit"
  stop_redis "$STATE/redis"
  if [ $rc -ne 0 ]; then
    mkdir -p "$BUILD/test-logs" && cp -r "$STATE/logs" "$BUILD/test-logs/browser-native" 2>/dev/null &&
      echo "service logs kept in $BUILD/test-logs/browser-native"
  fi
  rm -rf "$STATE"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$STATE/logs"

amqp=$(free_port) mgmt=$(free_port) dist=$(free_port) redis=$(free_port)
start_redis "$STATE/redis" "$redis"
start_rabbit "$STATE/rabbit" "offers-browser-$$@localhost" "$amqp" "$mgmt" "$dist" \
  "$ROOT/rabbitmq/definitions.json"

declare -A port
for s in special-offers loyalty notifications statistics; do port[$s]=$(free_port); done
for s in special-offers loyalty notifications statistics; do
  env AMQP_URL="amqp://guest:guest@localhost:$amqp/" REDIS_URL="redis://localhost:$redis/0" \
    HTTP_PORT="${port[$s]}" FEED_URL="http://localhost:${port[special-offers]}" \
    RETRY_DELAYS=200ms,200ms FAIL_ON_DESCRIPTION="$([ "$s" = loyalty ] && echo "poison pill")" \
    "$BUILD/bin/$s" >"$STATE/logs/$s.log" 2>&1 &
  pids+=($!)
done
for s in "${!port[@]}"; do
  wait_until 60 "$s to be ready" curl -fsS "localhost:${port[$s]}/readyz"
done

curl -fsS -o /dev/null -X POST "localhost:${port[special-offers]}/offers" -d '{"description":"Two coffees for one"}'
curl -fsS -o /dev/null -X POST "localhost:${port[special-offers]}/offers" -d '{"description":"poison pill"}'
wait_until 60 "the poison pill in loyalty.dlq" bash -c \
  "curl -s -u guest:guest localhost:$mgmt/api/queues/%2F/loyalty.dlq | grep -q '\"messages\":1'"

OFFERS_BUILD_DIR=$BUILD node "$ROOT/tests/browser/console.mjs" --url "http://localhost:$mgmt" \
  --name native --dlq loyalty.dlq
