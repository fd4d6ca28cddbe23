#!/usr/bin/env bash
# compose.yaml for real: the images built (scripts/offline-images without a registry), the system
# up under a project name of its own on free published ports, every health check passing, the
# README's "Try it" lines answering as shown, a service killed with SIGKILL and restarted by its
# policy with nothing lost, the management console checked in a browser, every container exiting
# 0 on docker-compose stop, then down -v.
#   tests/compose/compose_test.sh [CHECKOUT]
set -uo pipefail
ROOT=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
source "$ROOT/scripts/lib/common.sh"
source "$ROOT/scripts/lib/docker.sh"
source "$ROOT/tests/compose/lib.sh"
BUILD=${OFFERS_BUILD_DIR:-$ROOT/build}
mkdir -p "$BUILD"
set +e

require_docker
ensure_images
compose_project offers-compose "$ROOT/compose.yaml" "$ROOT/tests/compose/test.override.yaml"

step "docker-compose up --build -d (project $PROJECT)"
start=$SECONDS
compose_up special-offers
wait_healthy 300 6 || die "not every container became healthy within 300 s"
echo "ok    all six containers healthy after $((SECONDS - start)) s"

step "README \"Try it\" against the published ports"
run_readme_examples

step "a subscriber killed with SIGKILL while offers are written"
post_offers 20 before-kill &
writer=$!
kill_and_see_restart notifications 120
wait $writer || fail "writes during the kill"
post_offers 10 after-kill
step "special-offers killed with SIGKILL"
kill_and_see_restart special-offers 120
post_offers 10 after-relay-kill
check_nothing_lost 90

step "an event dead-lettered into loyalty.dlq"
curl -s -o /dev/null -X POST "localhost:${PORT_OF[8080]}/offers" -d '{"description":"poison pill"}'
wait_until_quiet 60 bash -c "curl -s -u guest:guest localhost:${PORT_OF[15672]}/api/queues/%2F/loyalty.dlq | grep -q '\"messages\":1'" ||
  fail "the poison pill did not reach loyalty.dlq"

step "the management console in a browser"
OFFERS_BUILD_DIR=$BUILD node "$ROOT/tests/browser/console.mjs" --url "http://localhost:${PORT_OF[15672]}" \
  --name compose --dlq loyalty.dlq || fail "management console check"

step "docker-compose stop"
stop_and_check_exit_codes

step "docker-compose down -v"
compose down -v --remove-orphans >/dev/null 2>&1 || fail "docker-compose down -v exited $?"
left=$("$DOCKER" ps -aq --filter "label=com.docker.compose.project=$PROJECT")
[ -z "$left" ] || fail "containers left after down: $left"
PROJECT=""

if [ $failures -eq 0 ]; then
  echo "compose test passed in $SECONDS s"
else
  echo "compose test: $failures failures"
fi
[ $failures -eq 0 ]
