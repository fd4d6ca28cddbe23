#!/usr/bin/env bash
# compose.yaml is valid for docker-compose and names every service and port of the contract.
set -euo pipefail
root=$1
out=$(cd "$root" && docker-compose -f compose.yaml config)
fail=0
need() { grep -qE -- "$1" <<<"$out" || { echo "compose.yaml: missing $2"; fail=1; }; }
for s in rabbitmq redis special-offers loyalty notifications statistics; do need "^  $s:" "service $s"; done
for p in 5672 15672 6379 8080 8081 8082 8083; do need "published: $p|- $p:$p|$p:$p" "port $p"; done
need "appendonly" "Redis AOF persistence"
need "definitions.json" "the broker definitions"
need "condition: service_healthy" "depends_on with healthy dependencies"
need "healthcheck" "health checks"
[ $fail -eq 0 ] && echo "compose.yaml ok"
exit $fail
