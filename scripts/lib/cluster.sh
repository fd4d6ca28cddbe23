#!/usr/bin/env bash
# A RabbitMQ cluster on this machine for the ha tests: nodes on free ports, each in its own folder.
#   cluster.sh start DIR N [DEFINITIONS]   DIR/ports gets a line per node: NODE AMQP MGMT DIST
#   cluster.sh kill DIR I | restart DIR I | stop-node DIR I
#   cluster.sh alive DIR I                 succeeds when node I's Erlang VM is up
#   cluster.sh running DIR I               succeeds when node I runs its applications (not paused)
#   cluster.sh partition DIR I | heal DIR  cut node I off from its peers and its clients, and back
#   cluster.sh can-partition               succeeds when this user may set packet filter rules
#   cluster.sh stop DIR                    heals, then stops every node, the last one first
#
# All nodes listen on 127.0.0.1, so a cut by port alone cannot tell which node opened a
# distribution connection (it comes from an ephemeral port). Each node therefore opens its
# distribution connections from an address of its own, 127.0.0.(I+1) (inet_dist_connect_options;
# Linux answers for all of 127.0.0.0/8 on lo): node I's links are then exactly the packets from
# its address to another node's distribution port, from another node's address to its port, and
# the answers to both, which iptables rules of a chain of the cluster's own drop.
set -euo pipefail
source "$(dirname "$0")/common.sh"

# The tick that notices a silent peer (RabbitMQ's default is 60 s): 10 s keeps a partition test short.
NET_TICKTIME=10

# How long a quorum queue's at-least-once dead-letter worker waits before it sends a message
# again that its target did not confirm or refused (RabbitMQ's default is 3 minutes). With 3.10,
# a worker that starts on a new leader while its target queue's leader died with the same node
# has its first sends refused, retried only on this timer (see the README).
DLX_CONFIRM_TIMEOUT_MS=5000

chain_of() { echo "OFFERS-$(basename "$1")"; }
address_of() { echo "127.0.0.$(($1 + 1))"; }
field() { cut -d' ' -f"$2" "$1/node"; }  # field NODE_DIR N: 1 name, 2 AMQP, 3 management, 4 dist

heal() {
  local dir=$1 chain
  [ -f "$dir/partition" ] || return 0
  chain=$(cat "$dir/partition")
  while iptables -w -D INPUT -j "$chain" 2>/dev/null; do :; done
  iptables -w -F "$chain" 2>/dev/null || true
  iptables -w -X "$chain" 2>/dev/null || true
  rm -f "$dir/partition"
}

partition() {
  local dir=$1 i=$2 chain n j me them
  chain=$(chain_of "$dir")
  heal "$dir"
  n=$(ls -d "$dir"/node* | wc -l)
  me=$(address_of "$i")
  # Written first, so that heal removes whatever part of the cut was set up.
  echo "$chain" >"$dir/partition"
  iptables -w -N "$chain"
  for ((j = 1; j <= n; j++)); do
    [ "$j" -eq "$i" ] && continue
    them=$(address_of "$j")
    iptables -w -A "$chain" -p tcp -s "$me" --dport "$(field "$dir/node$j" 4)" -j DROP
    iptables -w -A "$chain" -p tcp -d "$me" --sport "$(field "$dir/node$j" 4)" -j DROP
    iptables -w -A "$chain" -p tcp -s "$them" --dport "$(field "$dir/node$i" 4)" -j DROP
    iptables -w -A "$chain" -p tcp -d "$them" --sport "$(field "$dir/node$i" 4)" -j DROP
  done
  # The clients: AMQP both ways, established connections included (the management port stays
  # open: the tests watch the cluster through it).
  iptables -w -A "$chain" -p tcp --dport "$(field "$dir/node$i" 2)" -j DROP
  iptables -w -A "$chain" -p tcp --sport "$(field "$dir/node$i" 2)" -j DROP
  iptables -w -I INPUT -j "$chain"
}

dir=${2:-}
case "$1" in
  start)
    [ -n "$dir" ] || die "usage: cluster.sh start DIR N [DEFINITIONS]"
    n=${3:?node count}
    name="offers-ha-$$"
    amqp="" mgmt="" dist=""
    for ((i = 1; i <= n; i++)); do
      amqp+=" $(free_port)" mgmt+=" $(free_port)" dist+=" $(free_port)"
      mkdir -p "$dir/node$i"
      echo "[{kernel, [{net_ticktime, $NET_TICKTIME}," \
        "{inet_dist_connect_options, [{ip, {$(address_of "$i" | tr . ,)}}]}]}," \
        "{rabbit, [{dead_letter_worker_publisher_confirm_timeout, $DLX_CONFIRM_TIMEOUT_MS}]}]." \
        >"$dir/node$i/advanced.config"
    done
    start_cluster "$dir" "$name" "$n" "$amqp" "$mgmt" "$dist" "${4:-}"
    for ((i = 1; i <= n; i++)); do cat "$dir/node$i/node"; done >"$dir/ports"
    ;;
  kill) kill_rabbit "$dir/node${3:?node}" ;;
  restart) restart_rabbit "$dir/node${3:?node}" ;;
  stop-node) stop_rabbit "$dir/node${3:?node}" ;;
  alive)
    pid=$(cat "$dir/node${3:?node}/rabbit.pid" 2>/dev/null || true)
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
    ;;
  running)
    node_dir="$dir/node${3:?node}"
    [ "$(rabbit_run "$node_dir" timeout 20 rabbitmqctl -q -n "$(rabbit_node "$node_dir")" \
      eval 'rabbit:is_running().' 2>/dev/null)" = true ]
    ;;
  partition) partition "$dir" "${3:?node}" ;;
  heal) heal "$dir" ;;
  can-partition) command -v iptables >/dev/null && iptables -w -S INPUT >/dev/null 2>&1 ;;
  stop)
    heal "$dir"
    stop_cluster "$dir"
    ;;
  *) die "usage: cluster.sh start|kill|restart|stop-node|alive|running|partition|heal|can-partition|stop DIR ..." ;;
esac
