#!/usr/bin/env bats
# skiff version, info, the global options and where the store lives,
# unshare, and system reset.
load helpers

# --- version and usage ---------------------------------------------------------

@test "version shows the version, build and platform" {
  run -0 skiff version
  [[ "${lines[0]}" =~ ^Version:\ +[0-9]+\.[0-9]+\.[0-9]+ ]]
  [[ "${lines[1]}" =~ ^Built:\  ]]
  [[ "${lines[2]}" =~ ^OS/Arch:\ +linux/ ]]
}

@test "-v and --version print one line with the same version" {
  local version
  version=$(skiff version | sed -n 's/^Version: *//p')
  run -0 skiff -v
  [ "$output" = "skiff version $version" ]
  run -0 skiff --version
  [ "$output" = "skiff version $version" ]
}

@test "an error is still exit 125 when stderr cannot be written" {
  local rc=0
  skiff run --rm --pull=never no-such-image true 2>&- || rc=$?
  [ "$rc" = 125 ]
  rc=0
  skiff run --rm --pull=never no-such-image true 2>/dev/full || rc=$?
  [ "$rc" = 125 ]
  rc=0
  skiff no-such-command 2>&- || rc=$?
  [ "$rc" = 125 ]
}

@test "an unknown command is exit 125" {
  run -125 skiff frobnicate
  [[ "$output" == *"See 'skiff --help'."* ]]
  run -125 skiff image frobnicate
  run -125 skiff
}

@test "an unknown command is named in the error" {
  run -125 skiff frobnicate
  [[ "${lines[0]}" == *frobnicate* ]]
}

@test "an unknown global flag is exit 125" {
  run -125 skiff --frobnicate images
  [[ "${lines[0]}" == *--frobnicate* ]]
}

# --- info ----------------------------------------------------------------------

@test "info shows the store, the driver and the id mapping" {
  run -0 skiff info
  [[ "$output" == *$'\n'"  graphRoot: $SKIFF_ROOT"$'\n'* ]]
  [[ "$output" == *$'\n'"  runRoot: $SKIFF_RUNROOT"$'\n'* ]]
  [[ "$output" == *$'\n'"  graphDriverName: overlay"$'\n'* ]]
  [[ "$output" == *$'\n'"  rootless: true"$'\n'* ]]
  [[ "$output" =~ $'\n'\ \ cgroupVersion:\ (v1|v2|none) ]]
  [[ "$output" == *$'\n'"  resourceLimits: unavailable"* ]]
  if has_subuid; then
    [[ "$output" == *"mode: subordinate ranges"* ]]
    # Root is the user; 1 and up come from /etc/subuid.
    [[ "$output" == *"    - container_id: 0"$'\n'"      host_id: $(id -u)"$'\n'"      size: 1"* ]]
    [[ "$output" == *"    - container_id: 1"$'\n'"      host_id: "*$'\n'"      size: 65536"* ]]
  else
    [[ "$output" == *"mode: single id"* ]]
    [[ "$output" != *"container_id: 1"* ]]
  fi
}

@test "info counts images and containers" {
  import_busybox
  skiff run --name c1 bb true 2>/dev/null
  run -0 skiff info
  [[ "$output" == *$'\n'"  imageStore:"$'\n'"    number: 1"$'\n'* ]]
  [[ "$output" == *$'\n'"  containerStore:"$'\n'"    number: 1"$'\n'"    running: 0"$'\n'* ]]
}

# --- where the store lives -------------------------------------------------------

@test "--root DIR uses DIR instead of SKIFF_ROOT" {
  local dir=$BATS_TEST_TMPDIR/other-root
  run -0 skiff --root "$dir" import "$SKIFF_TEST_FIXTURES/busybox.tar" elsewhere
  [ -d "$dir/blobs/sha256" ]
  run -0 skiff --root "$dir" images
  [[ "${lines[1]}" =~ ^elsewhere\  ]]
  run -0 skiff --root "$dir" info
  [[ "$output" == *"graphRoot: $dir"$'\n'* ]]
  # The store in SKIFF_ROOT has none of it.
  run -0 skiff images -q
  [ "$output" = "" ]
  [ ! -e "$SKIFF_ROOT/blobs" ]
  skiff --root "$dir" system reset -f
  [ ! -e "$dir" ]
}

@test "--runroot DIR uses DIR instead of SKIFF_RUNROOT" {
  local dir=$BATS_TEST_TMPDIR/other-run
  run -0 skiff --runroot "$dir" info
  [[ "$output" == *"runRoot: $dir"$'\n'* ]]
  [ "$(stat -c %a "$dir")" = 700 ]
}

@test "without SKIFF_RUNROOT and XDG_RUNTIME_DIR the runroot is /tmp/skiff-run-UID, mode 700" {
  unset SKIFF_RUNROOT XDG_RUNTIME_DIR
  local dir=/tmp/skiff-run-$(id -u)
  # A runroot left by an earlier run is the user's own: start without it.
  rm -rf "$dir"
  run -0 skiff info
  [[ "$output" == *"runRoot: $dir"$'\n'* ]]
  [ "$(stat -c '%a %u' "$dir")" = "700 $(id -u)" ]
  # One made too open is closed again.
  chmod 755 "$dir"
  import_busybox
  [ "$(stat -c %a "$dir")" = 700 ]
  skiff system reset -f
  [ ! -e "$dir" ]
}

@test "XDG_RUNTIME_DIR/skiff is the runroot when SKIFF_RUNROOT is unset" {
  unset SKIFF_RUNROOT
  export XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/xdg
  mkdir -m 700 "$XDG_RUNTIME_DIR"
  run -0 skiff info
  [[ "$output" == *"runRoot: $XDG_RUNTIME_DIR/skiff"$'\n'* ]]
  [ -d "$XDG_RUNTIME_DIR/skiff" ]
}

@test "a runroot that is a symlink is refused" {
  mkdir "$BATS_TEST_TMPDIR/real"
  ln -s real "$BATS_TEST_TMPDIR/link"
  # --runroot, not SKIFF_RUNROOT: teardown's reset must not use it.
  run -125 skiff --runroot "$BATS_TEST_TMPDIR/link" import "$SKIFF_TEST_FIXTURES/busybox.tar" bb
  [ "${lines[0]}" = "skiff: $BATS_TEST_TMPDIR/link is not a directory owned by you" ]
  [ "${lines[1]}" = "hint: remove it or choose another place with --runroot" ]
  run -125 skiff --runroot "$BATS_TEST_TMPDIR/link" info
  [ "${lines[0]}" = "skiff: $BATS_TEST_TMPDIR/link is not a directory owned by you" ]
  # Nothing was made through the link.
  [ -z "$(ls -A "$BATS_TEST_TMPDIR/real")" ]
}

@test "a runroot owned by someone else is refused" {
  run -125 skiff --runroot /tmp info
  [ "${lines[0]}" = "skiff: /tmp is not a directory owned by you" ]
  [ "$(stat -c %a /tmp)" = 1777 ]
}

# --- unshare -------------------------------------------------------------------

@test "unshare runs a command as root of skiff's user namespace" {
  run -0 skiff unshare id -u
  [ "$output" = 0 ]
  run -0 skiff unshare cat /proc/self/uid_map
  if has_subuid; then
    [ "${#lines[@]}" -eq 2 ]
    [[ "${lines[0]}" =~ ^\ +0\ +$(id -u)\ +1$ ]]
    [[ "${lines[1]}" =~ ^\ +1\ +[0-9]+\ +65536$ ]]
  else
    [ "${#lines[@]}" -eq 1 ]
    [[ "${lines[0]}" =~ ^\ +0\ +$(id -u)\ +1$ ]]
  fi
}

@test "unshare passes the command's exit status, 128+N for signal N" {
  run -7 skiff unshare sh -c 'exit 7'
  run -0 skiff unshare true
  run -137 skiff unshare sh -c 'kill -9 $$'
}

@test "unshare: 127 for a command not found, 126 for one that cannot be run" {
  run -127 skiff unshare no-such-command
  [[ "$output" == *"no-such-command"* ]]
  run -126 skiff unshare /etc/passwd
}

@test "unshare passes arguments unchanged and tells the command where the store is" {
  run -0 skiff unshare sh -c 'printf "[%s]" "$@"; echo " $SKIFF_ROOT $SKIFF_RUNROOT"' sh -x 'a b' --root
  [ "$output" = "[-x][a b][--root] $SKIFF_ROOT $SKIFF_RUNROOT" ]
}

@test "unshare can remove files a container made as another user" {
  has_subuid || skip "needs /etc/subuid ranges"
  import_busybox
  skiff run --name owner bb sh -c 'mkdir /x && touch /x/y && chown -R 1000:1000 /x && chmod 700 /x'
  local x=$SKIFF_ROOT/containers/$(skiff ps -aq --no-trunc)/upper/x
  # The user cannot, directly.
  run rm -rf "$x"
  [ "$status" -ne 0 ]
  [ -d "$x" ]
  run -0 skiff unshare stat -c '%u:%g' "$x/y"
  [ "$output" = 1000:1000 ]
  run -0 skiff unshare rm -rf "$x"
  [ ! -e "$x" ]
}

# --- system reset --------------------------------------------------------------

@test "system reset asks, and any answer but y keeps the store" {
  import_busybox
  local answer
  for answer in n "" no N yy; do
    run -0 skiff system reset <<< "$answer"
    [[ "$output" == "WARNING! This will remove all containers and images, and the store in"* ]]
    [[ "$output" == *"$SKIFF_ROOT"* ]]
    [[ "$output" == *"Are you sure you want to continue? [y/N] " ]]
    run -0 skiff images -q
    [ "${#lines[@]}" -eq 1 ]
  done
  # No answer at all (end of input) keeps it too.
  run -0 skiff system reset < /dev/null
  run -0 skiff images -q
  [ "${#lines[@]}" -eq 1 ]
}

@test "system reset with y removes the store and the runroot" {
  import_busybox
  skiff run --name c1 bb true 2>/dev/null
  [ -d "$SKIFF_RUNROOT" ]
  run -0 skiff system reset <<< y
  [ ! -e "$SKIFF_ROOT" ]
  [ ! -e "$SKIFF_RUNROOT" ]
  run -0 skiff images -q
  [ "$output" = "" ]
}

@test "system reset -f removes the store without asking" {
  import_busybox
  run -0 skiff system reset -f < /dev/null
  [ "$output" = "" ]
  [ ! -e "$SKIFF_ROOT" ]
  [ ! -e "$SKIFF_RUNROOT" ]
}

@test "system reset removes files containers made as other users" {
  has_subuid || skip "needs /etc/subuid ranges"
  import_busybox
  skiff run --name c1 -u app bb sh -c 'mkdir /tmp/d && echo x > /tmp/d/f && chmod 700 /tmp/d'
  local d=$SKIFF_ROOT/containers/$(skiff ps -aq --no-trunc)/upper/tmp/d
  [ "$(stat -c %u "$d")" != "$(id -u)" ]
  run -0 skiff system reset -f
  [ ! -e "$SKIFF_ROOT" ]
  # And with a prompt.
  import_busybox
  skiff run --name c2 -u app bb sh -c 'mkdir /tmp/d && echo x > /tmp/d/f && chmod 700 /tmp/d'
  run -0 skiff system reset <<< y
  [ ! -e "$SKIFF_ROOT" ]
}

@test "system reset kills running containers first" {
  import_busybox
  skiff run --name long bb sleep 100 2>/dev/null &
  local pid=$!
  wait_for sh -c '"$SKIFF" ps | grep -Eq "  Up (Less than a second|[0-9]+ seconds?) .*  long$"'
  run -0 skiff system reset -f
  local status=0
  wait "$pid" || status=$?
  [ "$status" -eq 137 ]
  [ ! -e "$SKIFF_ROOT" ]
}

@test "system reset of a store that does not exist succeeds" {
  run -0 skiff system reset -f
  [ ! -e "$SKIFF_ROOT" ]
}
