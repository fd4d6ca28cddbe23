#!/usr/bin/env bash
# Used by the failure tests to kill and restart the throwaway broker that scripts/test started.
#   broker.sh kill | restart      (needs OFFERS_TEST_RABBIT_DIR)
set -euo pipefail
source "$(dirname "$0")/common.sh"
dir=${OFFERS_TEST_RABBIT_DIR:?set by scripts/test}
case "${1:-}" in
  kill) kill_rabbit "$dir" ;;
  restart) restart_rabbit "$dir" ;;
  *) die "usage: broker.sh kill|restart" ;;
esac
