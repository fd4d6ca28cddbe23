#!/bin/sh
# As the official image: options or a configuration file alone go to redis-server, and protected
# mode is off unless the arguments turn it on again (later options win).
set -e
case "$1" in -* | *.conf) set -- redis-server "$@" ;; esac
case "$1" in
  redis-server | redis-sentinel)
    bin=$1
    shift
    case "${1:-}" in
      *.conf) conf=$1; shift; set -- "$bin" "$conf" --protected-mode no "$@" ;;
      *) set -- "$bin" --protected-mode no "$@" ;;
    esac
    ;;
esac
exec "$@"
