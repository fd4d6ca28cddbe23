#!/usr/bin/env bash
# The newcomer path as the README promises it, from fresh clones of this repository's HEAD:
#  1. as root, in a 0700 folder made by mktemp whose path has a space in it;
#  2. as a new user with sudo rights and a 0700 home (Debian 12's default), cloning it themselves
#     into a folder whose name has a space, and running part of scripts/test there too.
# Each runs tests/newcomer/walkthrough.sh of its own clone (scripts/up, the README's examples,
# scripts/dlq, scripts/down). Afterwards nothing may be left running or listening.
# Needs root (it creates the user) and the contract's ports free; outside CI it skips (exit 77)
# when it cannot run, with CI=true that is a failure.
#   tests/newcomer/check.sh [CHECKOUT]
set -uo pipefail
ROOT=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
NEWCOMER=offers-newcomer
PORTS=(5672 15672 25672 6379 8080 8081 8082 8083)

cannot_run() {
  if [ "${CI:-}" = true ]; then
    echo "FAIL: $*"
    exit 1
  fi
  echo "SKIP: $*"
  exit 77
}

[ "$(id -u)" -eq 0 ] || cannot_run "the newcomer check runs as root (it creates a user)"
for tool in git sudo adduser deluser su; do
  command -v "$tool" >/dev/null || cannot_run "$tool is missing (.ci/run installs it)"
done
for port in "${PORTS[@]}"; do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null &&
    cannot_run "port $port is taken (a scripts/up still running? scripts/down stops it)"
done

epmd_listening() { ss -ltnH 'sport = :4369' | grep -q .; }

remove_newcomer() {
  id "$NEWCOMER" >/dev/null 2>&1 || return 0
  pkill -KILL -u "$NEWCOMER" 2>/dev/null || true
  deluser --quiet --remove-home "$NEWCOMER" >/dev/null 2>&1 || true
  rm -f "/etc/sudoers.d/$NEWCOMER"
}

WORK=$(mktemp -d)
PUB=$(mktemp -d)
cleanup() {
  remove_newcomer
  rm -rf "$WORK" "$PUB"
}
trap cleanup EXIT

failures=0
fail() { printf 'FAIL: %s\n' "$*"; failures=$((failures + 1)); }

# Erlang's port mapper is shared by every node of the machine and started by the first one. Root
# keeps one up for the whole check (as the test suite's own broker does when this runs under
# scripts/test), so the clones' nodes register with it and no user is left owning it.
epmd_before=no
epmd_listening && epmd_before=yes
ensure_epmd() { epmd_listening || epmd -daemon; }
echo "== newcomer check of $(git -C "$ROOT" log -1 --format='%h %s' | cut -c1-72)"
[ -z "$(git -C "$ROOT" status --porcelain --untracked-files=no)" ] ||
  echo "   (uncommitted changes in $ROOT are not part of the clones)"
chmod 755 "$PUB"
git -C "$ROOT" bundle create "$PUB/offers.bundle" HEAD >/dev/null 2>&1 || fail "git bundle"
chmod 644 "$PUB/offers.bundle"
clone() { git -c advice.detachedHead=false clone -q "$@"; }

ensure_epmd
echo "== as root, in $WORK/offers clone (mode $(stat -c %a "$WORK"))"
clone "$PUB/offers.bundle" "$WORK/offers clone" || fail "git clone as root"
"$WORK/offers clone/tests/newcomer/walkthrough.sh" "$WORK/offers clone" || fail "walk-through as root"

echo "== as $NEWCOMER, a new user with sudo rights and a 0700 home"
remove_newcomer
adduser --quiet --disabled-password --gecos "" "$NEWCOMER" >/dev/null || fail "adduser"
home=$(getent passwd "$NEWCOMER" | cut -d: -f6)
home=${home:-/home/$NEWCOMER}
chmod 700 "$home"
echo "$NEWCOMER ALL=(ALL) NOPASSWD:ALL" >"/etc/sudoers.d/$NEWCOMER"
chmod 440 "/etc/sudoers.d/$NEWCOMER"
su - "$NEWCOMER" -c "sudo -n true" || fail "$NEWCOMER cannot use sudo"
ensure_epmd
su - "$NEWCOMER" -c "git -c advice.detachedHead=false clone -q '$PUB/offers.bundle' 'my offers' && \
  cd 'my offers' && tests/newcomer/walkthrough.sh" || fail "walk-through as $NEWCOMER (home mode $(stat -c %a "$home"))"
# The test command too, on the tests that start, kill and restart the throwaway broker and run the
# tools by path (the whole suite runs as root in the same CI run).
echo "== as $NEWCOMER: scripts/test on the broker-handling tests"
ensure_epmd
su - "$NEWCOMER" -c "cd 'my offers' && scripts/test -R 'offers-dlq|RabbitMQ kill -9|while RabbitMQ is down'" ||
  fail "scripts/test as $NEWCOMER"
left=$(pgrep -u "$NEWCOMER" -a || true)
[ -z "$left" ] || fail "processes of $NEWCOMER still running: $left"

left=$(ps -eo pid=,args= | grep -F -e "$WORK/" -e "$home/" | grep -v -e grep -e "$0" || true)
[ -z "$left" ] || fail "processes of the clones still running: $left"
if [ $epmd_before = no ] && ! epmd -names 2>/dev/null | grep -q '^name '; then
  epmd -kill >/dev/null 2>&1 || true
fi

if [ $failures -eq 0 ]; then
  echo "newcomer check passed: root in a 0700 folder, $NEWCOMER in a 0700 home; nothing left running"
fi
[ $failures -eq 0 ]
