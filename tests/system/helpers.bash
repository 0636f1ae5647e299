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

# Where tests/fixtures/make-hostile-tarballs.sh is (printed); fails if nowhere.
hostile_script() {
  local script
  for script in "$BATS_TEST_DIRNAME/../fixtures/make-hostile-tarballs.sh" \
    "$SKIFF_TEST_FIXTURES/make-hostile-tarballs.sh"; do
    [ -f "$script" ] && { echo "$script"; return 0; }
  done
  return 1
}

# Writes the hostile tarballs into $BATS_TEST_TMPDIR/hostile, each a busybox
# root filesystem plus its entries; absolute symlinks point at
# $BATS_TEST_TMPDIR/outside, a canary directory that must stay empty.
make_hostile() {
  local script
  script=$(hostile_script) || skip "tests/fixtures/make-hostile-tarballs.sh not found: run-as-user.sh must copy tests/fixtures next to system/"
  mkdir -p "$BATS_TEST_TMPDIR/outside"
  sh "$script" "$BATS_TEST_TMPDIR/hostile" "$SKIFF_TEST_FIXTURES/busybox.tar" "$BATS_TEST_TMPDIR/outside"
}

# A HOME and XDG_RUNTIME_DIR of the test's own: no credentials or settings
# from the user's own files.
private_home() {
  export HOME="$BATS_TEST_TMPDIR/home" XDG_RUNTIME_DIR="$BATS_TEST_TMPDIR/xdg"
  mkdir -p "$HOME"
  mkdir -m 0700 "$XDG_RUNTIME_DIR"
}
