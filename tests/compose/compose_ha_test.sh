#!/usr/bin/env bash
# compose.ha.yaml for real: three RabbitMQ nodes in one cluster with quorum queues, a Redis master
# with a replica and three sentinels, two replicas of every service, all healthy under a project
# of its own on free ports; the README's "Try it" lines against the first replicas; one broker
# node and then the Redis master killed with SIGKILL while offers are written, each restarted by
# its policy with nothing lost; every container exits 0 on docker-compose stop; down -v.
# The services reach Redis through REDIS_URL (the master) and also get REDIS_SENTINELS: until
# they follow the sentinels, the master comes back by its restart policy rather than by a
# failover, and the test checks that the sentinels watch it, its replica and each other.
#   tests/compose/compose_ha_test.sh [CHECKOUT]
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
compose_project offers-compose-ha "$ROOT/compose.ha.yaml"
for v in OFFERS_AMQP_PORT_2 OFFERS_AMQP_PORT_3 OFFERS_MANAGEMENT_PORT_2 OFFERS_MANAGEMENT_PORT_3 \
  OFFERS_REDIS_PORT_2 OFFERS_SPECIAL_OFFERS_PORT_2 OFFERS_LOYALTY_PORT_2 \
  OFFERS_NOTIFICATIONS_PORT_2 OFFERS_STATISTICS_PORT_2; do
  export "$v=$(free_port)"
done

step "docker-compose -f compose.ha.yaml up --build -d (project $PROJECT)"
start=$SECONDS
compose_up special-offers-1
# 3 brokers, master, replica, 3 sentinels, 8 services (the one-off import has exited by then).
wait_healthy 420 16 || die "not every container became healthy within 420 s"
echo "ok    all sixteen long-running containers healthy after $((SECONDS - start)) s"

mgmt() { curl -s -u guest:guest "localhost:${PORT_OF[15672]}/api/$1"; }
step "one cluster of three nodes, quorum queues with a member on each"
nodes=$(mgmt nodes | json_count 'v.filter(n=>n.running).length')
[ "$nodes" = 3 ] && echo "ok    three running nodes" || fail "running broker nodes: $nodes"
for q in loyalty notifications statistics loyalty.retry loyalty.dlq; do
  members=$(mgmt "queues/%2F/$q" | json_count 'v.type+" "+(v.members||[]).length')
  [ "$members" = "quorum 3" ] && echo "ok    $q is a quorum queue on three nodes" || fail "$q: $members"
done

sentinel() { compose exec -T sentinel1 redis-cli -p 26379 "$@" | tr -d '\r'; }
sentinels_see_all() {
  [ "$(sentinel sentinel replicas offers | grep -c '^redis-replica$')" -ge 1 ] &&
    [ "$(sentinel sentinel sentinels offers | grep -c '^sentinel[0-9]$')" -ge 2 ]
}
step "three sentinels watch the master and its replica"
if wait_until_quiet 60 sentinels_see_all; then
  echo "ok    sentinel1 knows redis-replica and two other sentinels"
else
  fail "the sentinels do not see the replica and each other: $(sentinel sentinel master offers | tr '\n' ' ' | head -c 400)"
fi

step "README \"Try it\" against the first replicas"
# Two replicas consume each queue side by side, so an Updated and the Removed after it may be
# handled at once by the two: the notifications may be listed in another order and statistics may
# count the Updated as stale (see "Competing consumers"). Those two reads and the per-process
# /metrics are checked by what holds whatever the order: every event handled once (below, and in
# check_nothing_lost), and the deliveries the loyalty replicas settled adding up to the feed.
run_readme_examples '/metrics$|/notifications|/stats$'
metric_sum() {
  local total=0 port n
  for port in "${PORT_OF[8081]}" "$OFFERS_LOYALTY_PORT_2"; do
    n=$(curl -s "localhost:$port/metrics" |
      sed -n -E 's/^deliveries_total\{result="(applied|stale|ignored)"\} //p' | awk '{ s += $1 } END { print s + 0 }')
    total=$((total + ${n:-0}))
  done
  echo "$total"
}
events=$(curl -s "localhost:${PORT_OF[8080]}/events?start=1" | json_count 'v.length')
loyalty_applied_all() { [ "$(metric_sum)" = "$events" ]; }
if wait_until_quiet 30 loyalty_applied_all; then
  echo "ok    the loyalty replicas settled $events deliveries between them"
else
  fail "the loyalty replicas settled $(metric_sum) deliveries between them (applied, stale or ignored), the feed holds $events events"
fi

step "a broker node killed with SIGKILL while offers are written"
post_offers 30 broker-kill &
writer=$!
kill_and_see_restart rabbitmq2 180
wait $writer || fail "writes during the broker kill"
step "the Redis master killed with SIGKILL while offers are written"
post_offers 30 redis-kill &
writer=$!
kill_and_see_restart redis-master 120
wait $writer || fail "writes during the Redis master kill"
post_offers 10 after-kills
check_nothing_lost 180
role=$(compose exec -T redis-replica redis-cli info replication | tr -d '\r' | grep -E '^(role|master_link_status):' | tr '\n' ' ')
[[ $role == *"role:slave"*"master_link_status:up"* ]] && echo "ok    redis-replica follows the master again" ||
  fail "redis-replica after the master's restart: $role"

step "docker-compose stop"
stop_and_check_exit_codes

step "docker-compose down -v"
compose down -v --remove-orphans >/dev/null 2>&1 || fail "docker-compose down -v exited $?"
PROJECT=""

if [ $failures -eq 0 ]; then
  echo "HA compose test passed in $SECONDS s"
else
  echo "HA compose test: $failures failures"
fi
[ $failures -eq 0 ]
