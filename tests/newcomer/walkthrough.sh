#!/usr/bin/env bash
# What a newcomer does in a fresh clone, taken line by line from the README so the two cannot
# drift apart: the `scripts/up` line of "Two commands", every command of "Try it" (each answer
# compared with the `#>` lines under it), `scripts/dlq loyalty list` from "Dead letters", then
# `scripts/down`. Run inside the checkout, as the user who would type these lines.
#   tests/newcomer/walkthrough.sh [CHECKOUT] [--ha]   (--ha: the same against `scripts/up --ha`)
set -uo pipefail
ROOT=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
UP_ARGS=${2:-}
README="$ROOT/README.md"
failures=0

fail() { printf 'FAIL: %s\n' "$*"; failures=$((failures + 1)); }

source "$(dirname "$0")/../support/readme.sh"

# Runs one README command in the checkout and compares its answer. A read (no -X) is asked again
# until it answers as shown or 20 s pass, since the subscribers apply events asynchronously;
# a write runs once.
check_command() {  # check_command COMMAND EXPECTED
  local cmd=$1 expected=$2 out deadline=$((SECONDS + 20))
  while :; do
    out=$(cd "$ROOT" && eval "$cmd" 2>&1)
    if [ -z "$expected" ] || answers_match "$out" "$expected"; then
      printf 'ok    %s\n' "$cmd"
      return 0
    fi
    [[ $cmd == *" -X "* ]] && break
    [ $SECONDS -ge $deadline ] && break
    sleep 0.5
  done
  fail "$cmd"
  printf '  expected:\n%s\n  got:\n%s\n' "$(sed 's/^/    /' <<<"$expected")" \
    "$(head -c 3000 <<<"$out" | sed 's/^/    /')"
}

down() { (cd "$ROOT" && scripts/down) || fail "scripts/down exited $?"; }

up_line=$(readme_block "Two commands" | grep -m1 '^scripts/up' | sed 's/[[:space:]]*#.*//')${UP_ARGS:+ $UP_ARGS}
[ -n "$up_line" ] || { echo "FAIL: README.md has no scripts/up line under \"Two commands\""; exit 1; }
echo "== $up_line"
if ! (cd "$ROOT" && eval "$up_line"); then
  fail "$up_line"
  down
  exit 1
fi

echo "== README \"Try it\""
readme_examples "Try it" check_command
[ "$README_EXAMPLES" -ge 10 ] || fail "only $README_EXAMPLES commands found under \"Try it\""
count=$README_EXAMPLES

echo "== README \"Dead letters\""
dlq_line=$(readme_block "Dead letters" | grep -m1 '^scripts/dlq loyalty list' | sed 's/[[:space:]]*#.*//')
if [ -z "$dlq_line" ]; then
  fail "README.md has no scripts/dlq loyalty list line under \"Dead letters\""
else
  # Nothing of the walk-through fails, so the loyalty DLQ is empty.
  check_command "$dlq_line" $'0 dead letters in loyalty.dlq\n#\tmessage_id\ttype\tretries\tfailed_at\treason'
fi

echo "== scripts/down"
down
for port in 5672 15672 25672 6379 8080 8081 8082 8083; do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && fail "port $port still listens after scripts/down"
done
left=$(ps -eo pid=,args= | grep -F -- "$ROOT/" | grep -E -- '/build/bin/|/\.run/' || true)
[ -z "$left" ] || fail "processes of this checkout still running after scripts/down: $left"

if [ $failures -eq 0 ]; then
  echo "newcomer walk-through passed ($count README commands) in $ROOT as $(id -un)"
else
  echo "newcomer walk-through: $failures failures in $ROOT as $(id -un)"
fi
[ $failures -eq 0 ]
