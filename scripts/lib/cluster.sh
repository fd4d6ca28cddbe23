#!/usr/bin/env bash
# A RabbitMQ cluster on this machine for the ha tests: nodes on free ports, each in its own folder.
#   cluster.sh start DIR N [DEFINITIONS]   DIR/ports gets a line per node: NODE AMQP MGMT DIST
#   cluster.sh kill DIR I | restart DIR I | stop-node DIR I
#   cluster.sh stop DIR                    every node, the last one first
set -euo pipefail
source "$(dirname "$0")/common.sh"
dir=${2:?usage: cluster.sh start|kill|restart|stop-node|stop DIR ...}
case "$1" in
  start)
    n=${3:?node count}
    mkdir -p "$dir"
    name="offers-ha-$$"
    amqp="" mgmt="" dist=""
    for ((i = 1; i <= n; i++)); do
      amqp+=" $(free_port)" mgmt+=" $(free_port)" dist+=" $(free_port)"
    done
    start_cluster "$dir" "$name" "$n" "$amqp" "$mgmt" "$dist" "${4:-}"
    for ((i = 1; i <= n; i++)); do cat "$dir/node$i/node"; done >"$dir/ports"
    ;;
  kill) kill_rabbit "$dir/node${3:?node}" ;;
  restart) restart_rabbit "$dir/node${3:?node}" ;;
  stop-node) stop_rabbit "$dir/node${3:?node}" ;;
  stop) stop_cluster "$dir" ;;
  *) die "usage: cluster.sh start|kill|restart|stop-node|stop DIR ..." ;;
esac
