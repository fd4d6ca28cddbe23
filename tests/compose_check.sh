#!/usr/bin/env bash
# compose.yaml is valid for docker-compose and names every service and port of the contract;
# compose.yaml and compose.ha.yaml give every service a restart policy.
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
need "restart: unless-stopped" "restart policies"
# Every long-running container restarts by itself after a crash, in both files; the one-off
# import of compose.ha.yaml restarts only on failure.
for f in compose.yaml compose.ha.yaml; do
  cfg=$(cd "$root" && docker-compose -f "$f" config) || { echo "$f: not valid for docker-compose"; fail=1; continue; }
  without=$(awk '/^services:/ { in_s = 1; next } /^[a-z]/ { in_s = 0 }
    in_s && /^  [a-z0-9-]+:$/ { if (name != "" && !r) print name; name = $1; r = 0 }
    in_s && /^    restart: (unless-stopped|always)$/ { r = 1 }
    in_s && /^    restart: on-failure$/ && name == "rabbitmq-definitions:" { r = 1 }
    END { if (name != "" && !r) print name }' <<<"$cfg")
  [ -z "$without" ] || { echo "$f: no restart policy for $(echo $without)"; fail=1; }
done
[ $fail -eq 0 ] && echo "compose.yaml and compose.ha.yaml ok"
exit $fail
