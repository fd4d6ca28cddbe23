#!/bin/sh
# The cluster's Erlang cookie from RABBITMQ_ERLANG_COOKIE, written where the server and the CLI
# tools read it (the user's home), readable by that user alone.
set -e
if [ -n "${RABBITMQ_ERLANG_COOKIE:-}" ]; then
  cookie="$HOME/.erlang.cookie"
  umask 077
  printf '%s' "$RABBITMQ_ERLANG_COOKIE" >"$cookie.tmp" && mv "$cookie.tmp" "$cookie"
  unset RABBITMQ_ERLANG_COOKIE
fi
exec "$@"
