# Shared set-up for the system tests. Every test gets its own store, so no
# test sees another's images or containers.
bats_require_minimum_version 1.5.0

setup() {
  export SKIFF_ROOT="$BATS_TEST_TMPDIR/root"
  export SKIFF_RUNROOT="$BATS_TEST_TMPDIR/run"
  # The single-id map is announced on stderr once per store; tests that
  # compare a command's whole output take it as said (run.bats checks it).
  mkdir -p "$SKIFF_ROOT"
  touch "$SKIFF_ROOT/.single-id-map-noted"
}

teardown() {
  # Files owned by subordinate ids can only be removed from the namespace.
  "$SKIFF" system reset -f >/dev/null 2>&1 || true
}

skiff() { "$SKIFF" "$@"; }

# Imports the busybox rootfs as NAME (default bb).
import_busybox() {
  "$SKIFF" import "$SKIFF_TEST_FIXTURES/busybox.tar" "${1:-bb}" >/dev/null
}

has_subuid() { [ "${SKIFF_TEST_SUBUID:-0}" = 1 ]; }

# Waits (polling, no fixed sleep) until a command succeeds; fails after ~10 s.
wait_for() {
  local i
  for i in $(seq 1 1000); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.01
  done
  echo "timed out waiting for: $*" >&2
  return 1
}
