#!/usr/bin/env bats
# skiff ps and rm, the container group, and what a container leaves behind.
load helpers

# Column COL's text in a table row: the row's characters from where COL starts
# in the header, up to the next run of two spaces.
column() {
  local header=$1 row=$2 col=$3 before
  before=${header%%"$col"*}
  local cell=${row:${#before}}
  echo "${cell%%  *}"
}

# Container NAME runs, and its process has started (skiff ps says "Up" for a
# few seconds at most).
is_up() {
  "$SKIFF" ps | grep -Eq "  Up (Less than a second|[0-9]+ seconds?) .*  $1\$"
}

# Nothing is left of any container: no directory, no name.
no_containers_left() {
  [ -z "$(ls "$SKIFF_ROOT/containers")" ]
  [ -z "$(ls -A "$SKIFF_ROOT/containers/.names" 2>/dev/null)" ]
}

# --- ps ------------------------------------------------------------------------

@test "ps lists running containers only; ps -a also lists exited ones" {
  import_busybox
  run -0 skiff run --name c1 bb true
  run -0 skiff ps
  [ "${#lines[@]}" -eq 1 ]
  [[ "${lines[0]}" =~ ^CONTAINER\ ID\ {2,}IMAGE\ {2,}COMMAND\ {2,}CREATED\ {2,}STATUS\ {2,}PORTS\ {2,}NAMES$ ]]
  run -0 skiff ps -a
  [ "${#lines[@]}" -eq 2 ]
  local h=${lines[0]} r=${lines[1]}
  [[ "$(column "$h" "$r" "CONTAINER ID")" =~ ^[0-9a-f]{12}$ ]]
  [ "$(column "$h" "$r" IMAGE)" = bb ]
  [ "$(column "$h" "$r" COMMAND)" = '"true"' ]
  [[ "$(column "$h" "$r" STATUS)" =~ ^Exited\ \(0\)\ (Less\ than\ a\ second|[0-9]+\ seconds?)\ ago$ ]]
  [[ "$r" =~ \ c1$ ]]
}

@test "ps -a shows the exit code of each container" {
  import_busybox
  run -3 skiff run --name three bb sh -c 'exit 3'
  run -0 skiff ps -a
  [[ "${lines[1]}" =~ \ Exited\ \(3\)\ .*\ three$ ]]
}

@test "ps -q and ps -aq print short IDs; --no-trunc whole ones" {
  import_busybox
  skiff run --name c1 bb true 2>/dev/null
  skiff run --name c2 bb true 2>/dev/null
  run -0 skiff ps -q
  [ "$output" = "" ]
  run -0 skiff ps -aq
  [ "${#lines[@]}" -eq 2 ]
  [[ "${lines[0]}" =~ ^[0-9a-f]{12}$ ]]
  [[ "${lines[1]}" =~ ^[0-9a-f]{12}$ ]]
  # Newest first.
  [ -d "$SKIFF_ROOT/containers/$(skiff ps -aq --no-trunc | head -1)" ]
  run -0 skiff ps -aq --no-trunc
  [[ "${lines[0]}" =~ ^[0-9a-f]{64}$ ]]
  [[ "${lines[1]}" =~ ^[0-9a-f]{64}$ ]]
  run -0 skiff ps -a --no-trunc
  [[ "${lines[1]}" =~ ^[0-9a-f]{64}\  ]]
  [[ "${lines[1]}" =~ \ c2$ ]]
  [[ "${lines[2]}" =~ \ c1$ ]]
}

@test "ps truncates a long command to 20 characters unless --no-trunc" {
  import_busybox
  skiff run --name long-cmd bb echo aaaaaaaaaa bbbbbbbbbb cccccccccc >/dev/null 2>&1
  run -0 skiff ps -a
  [[ "${lines[1]}" == *'   "echo aaaaaaaaaa bbb…"   '* ]]
  run -0 skiff ps -a --no-trunc
  [ "$(column "${lines[0]}" "${lines[1]}" COMMAND)" = '"echo aaaaaaaaaa bbbbbbbbbb cccccccccc"' ]
}

@test "ps keeps its columns aligned when a command is truncated" {
  import_busybox
  skiff run --name long-cmd bb echo aaaaaaaaaa bbbbbbbbbb cccccccccc >/dev/null 2>&1
  skiff run --name short bb true 2>/dev/null
  run -0 skiff ps -a
  [ "$(column "${lines[0]}" "${lines[1]}" NAMES)" = short ]
  [ "$(column "${lines[0]}" "${lines[2]}" NAMES)" = long-cmd ]
}

@test "container ls, container list and container ps are the same as ps" {
  import_busybox
  skiff run --name c1 bb true 2>/dev/null
  local want
  want=$(skiff ps -aq)
  local cmd
  for cmd in ls list ps; do
    run -0 skiff container "$cmd" -aq
    [ "$output" = "$want" ]
    run -0 skiff container "$cmd"
    [ "${#lines[@]}" -eq 1 ]
  done
}

# --- names ---------------------------------------------------------------------

@test "run --name: a name in use is exit 125 and nothing new is made" {
  import_busybox
  skiff run --name c1 bb true 2>/dev/null
  local id
  id=$(skiff ps -aq --no-trunc)
  run -125 skiff run --name c1 bb echo never
  [ "${lines[0]}" = "skiff: the container name \"/c1\" is already in use by container \"$id\"" ]
  [[ "$output" != *never* ]]
  run -0 skiff ps -aq --no-trunc
  [ "$output" = "$id" ]
  [ "$(ls "$SKIFF_ROOT/containers")" = "$id" ]
}

@test "run --name: a name left by a killed skiff is taken over, one being made is not" {
  import_busybox
  skiff run --rm bb true 2>/dev/null  # makes the store's directories
  local names="$SKIFF_ROOT/containers/.names"
  # Reserved, then the skiff was killed before the record: no record, no lock.
  local ghost=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
  ln -s "$ghost" "$names/c1"
  run -0 skiff run --name c1 bb echo ran
  [ "$output" = "ran" ]
  local id
  id=$(skiff ps -aq --no-trunc)
  [ "$(readlink "$names/c1")" = "$id" ]
  [ ! -e "$SKIFF_RUNROOT/locks/ctr-$ghost.lock" ]
  # Reserved by a skiff still making it (it holds the lock): in use.
  local maker=fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210
  ln -s "$maker" "$names/c2"
  local lockfd
  exec {lockfd}>"$SKIFF_RUNROOT/locks/ctr-$maker.lock"
  flock "$lockfd"
  run -125 skiff run --name c2 bb echo never {lockfd}>&-
  exec {lockfd}>&-
  [[ "${lines[0]}" == *'the container name "/c2" is already in use'* ]]
  [ "$(readlink "$names/c2")" = "$maker" ]
}

@test "rm sweeps the directory a killed skiff left with no record, unless its lock is held" {
  import_busybox
  skiff run --name victim bb true
  local ctrs="$SKIFF_ROOT/containers"
  # Made, then the skiff was killed before the record: no record, lock free.
  local ghost=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
  mkdir -p "$ctrs/$ghost/upper/etc" "$ctrs/$ghost/work"
  echo x > "$ctrs/$ghost/upper/etc/file"
  # Being made by a skiff that holds its lock: left alone.
  local maker=fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210
  mkdir -p "$ctrs/$maker/upper" "$ctrs/$maker/work"
  local lockfd
  exec {lockfd}>"$SKIFF_RUNROOT/locks/ctr-$maker.lock"
  flock "$lockfd"
  run -0 skiff rm victim {lockfd}>&-
  exec {lockfd}>&-
  [ ! -e "$ctrs/$ghost" ]
  [ ! -e "$SKIFF_RUNROOT/locks/ctr-$ghost.lock" ]
  [ -d "$ctrs/$maker/upper" ]
  # Once nobody holds it, the next rm takes it too.
  skiff run --name victim2 bb true
  run -0 skiff rm victim2
  [ ! -e "$ctrs/$maker" ]
  [ -z "$(ls "$ctrs")" ]
}

@test "run --name: invalid names are exit 125" {
  import_busybox
  run -125 skiff run --name w bb true
  [ "$output" = 'skiff: invalid container name "w": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed' ]
  run -125 skiff run --name 'a/b' bb true
  [[ "$output" == 'skiff: invalid container name "a/b"'* ]]
  run -0 skiff ps -aq
  [ "$output" = "" ]
}

@test "run without --name makes up a name" {
  import_busybox
  skiff run bb true 2>/dev/null
  run -0 skiff ps -a
  [[ "${lines[1]}" =~ \ [a-z]+_[a-z]+$ ]]
}

# --- rm ------------------------------------------------------------------------

@test "rm NAME prints the name and removes the container and its directory" {
  import_busybox
  skiff run --name c1 bb true 2>/dev/null
  local id
  id=$(skiff ps -aq --no-trunc)
  [ -d "$SKIFF_ROOT/containers/$id" ]
  run -0 skiff rm c1
  [ "$output" = c1 ]
  run -0 skiff ps -aq
  [ "$output" = "" ]
  [ ! -e "$SKIFF_ROOT/containers/$id" ]
  # The name is free again.
  run -0 --separate-stderr skiff run --rm --name c1 bb echo again
  [ "$output" = again ]
}

@test "rm takes an ID or a unique ID prefix" {
  import_busybox
  skiff run --name c1 bb true 2>/dev/null
  skiff run --name c2 bb true 2>/dev/null
  local id1 id2
  id1=$(skiff ps -aq --no-trunc | tail -1)
  id2=$(skiff ps -aq --no-trunc | head -1)
  run -0 skiff rm "${id1:0:5}"
  [ "$output" = "${id1:0:5}" ]
  [ ! -e "$SKIFF_ROOT/containers/$id1" ]
  run -0 skiff rm "$id2"
  [ "$output" = "$id2" ]
  run -0 skiff ps -aq
  [ "$output" = "" ]
}

@test "rm of an unknown container is exit 125 and names it" {
  run -125 skiff rm nope
  [ "$output" = "skiff: no such container: nope" ]
}

@test "rm of several containers removes the ones that exist and is exit 125" {
  import_busybox
  skiff run --name c1 bb true 2>/dev/null
  run -125 --separate-stderr skiff rm nope c1
  [ "$stderr" = "skiff: no such container: nope" ]
  [ "$output" = c1 ]
  run -0 skiff ps -aq
  [ "$output" = "" ]
}

@test "container rm is the same as rm" {
  import_busybox
  skiff run --name c1 bb true 2>/dev/null
  run -0 skiff container rm c1
  [ "$output" = c1 ]
  run -0 skiff ps -aq
  [ "$output" = "" ]
}

@test "container run is the same as run" {
  import_busybox
  run -0 --separate-stderr skiff container run --rm bb echo hi
  [ "$output" = hi ]
  run -0 skiff ps -aq
  [ "$output" = "" ]
}

@test "run --rm leaves no container behind" {
  import_busybox
  skiff run --rm --name gone bb true 2>/dev/null
  run -0 skiff ps -aq
  [ "$output" = "" ]
  no_containers_left
}

# skiff run --rm NAME in the background, killed with SIGKILL once its command
# runs: its container stays behind, its lock free. With ranges the command
# leaves a directory only a subordinate id may enter.
run_rm_killed() {
  local user=()
  has_subuid && user=(-u app)
  "$SKIFF" run --rm --name "$1" "${user[@]}" bb \
    sh -c 'mkdir /tmp/d && echo x > /tmp/d/f && chmod 700 /tmp/d && echo ready && exec sleep 100' \
    > "$BATS_TEST_TMPDIR/out.$1" &
  local pid=$!
  wait_for grep -q ready "$BATS_TEST_TMPDIR/out.$1"
  kill -KILL $pid
  wait $pid || true
}

@test "a run --rm whose skiff was killed is removed by the next ps, run --name or rm" {
  import_busybox
  run_rm_killed k1
  [ -n "$(ls "$SKIFF_ROOT/containers")" ]
  run -0 skiff ps -a
  [ "${#lines[@]}" -eq 1 ]
  no_containers_left
  run_rm_killed k2
  run -0 --separate-stderr skiff run --rm --name k2 bb echo again
  [ "$output" = again ]
  no_containers_left
  run_rm_killed k3
  run -0 skiff rm k3
  no_containers_left
  # One that runs stays, and shows as Up.
  "$SKIFF" run --rm --name live bb sh -c 'echo ready; exec sleep 100' > "$BATS_TEST_TMPDIR/out" &
  local pid=$!
  wait_for grep -q ready "$BATS_TEST_TMPDIR/out"
  run -0 skiff ps
  [[ "${lines[1]}" == *"  Up "*"  live" ]]
  run -0 skiff rm -f live
  wait $pid || true
}

@test "container prune removes every container that does not run, after asking" {
  import_busybox
  skiff run --name stopped bb true
  run_rm_killed killed
  "$SKIFF" run --rm --name live bb sh -c 'echo ready; exec sleep 100' > "$BATS_TEST_TMPDIR/out" &
  local pid=$!
  wait_for grep -q ready "$BATS_TEST_TMPDIR/out"
  local stopped killed
  stopped=$(readlink "$SKIFF_ROOT/containers/.names/stopped")
  killed=$(readlink "$SKIFF_ROOT/containers/.names/killed")
  run -0 skiff container prune <<< n
  [ "$output" = "WARNING! This will remove all stopped containers.
Are you sure you want to continue? [y/N] " ]
  [ -e "$SKIFF_ROOT/containers/$stopped" ]
  run -0 skiff container prune -f
  [ "${lines[0]}" = "Deleted Containers:" ]
  [[ "$output" == *"$stopped"* ]]
  [[ "$output" == *"$killed"* ]]
  [[ "${lines[-1]}" =~ ^Total\ reclaimed\ space:\ [0-9.]+[kMG]?B$ ]]
  run -0 skiff ps -a
  [ "${#lines[@]}" -eq 2 ]
  [[ "${lines[1]}" == *"  live" ]]
  run -0 skiff rm -f live
  wait $pid || true
  no_containers_left
}

# --- running containers --------------------------------------------------------

@test "rm of a running container must be forced; rm -f kills it" {
  import_busybox
  skiff run --name long bb sleep 100 2>/dev/null &
  local pid=$!
  wait_for is_up long
  run -0 skiff ps
  [ "${#lines[@]}" -eq 2 ]
  [[ "${lines[1]}" =~ \ long$ ]]
  run -125 skiff rm long
  [ "$output" = "skiff: cannot remove container long: container is running: stop the container before removing or force remove" ]
  run -0 skiff ps -q
  [ "${#lines[@]}" -eq 1 ]
  run -0 skiff rm -f long
  [ "$output" = long ]
  # Its skiff run reports the SIGKILL.
  local status=0
  wait "$pid" || status=$?
  [ "$status" -eq 137 ]
  run -0 skiff ps -a
  [ "${#lines[@]}" -eq 1 ]
  no_containers_left
}

# A first run takes the container's name, then waits for the layer's lock to
# unpack it, then starts the process. Holding that lock keeps a run in between:
# listed by ps as running, with no process yet.
hold_first_run() {
  local layer
  layer=$("$SKIFF" image inspect bb | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["RootFS"]["Layers"][0][7:])')
  mkdir -p "$SKIFF_RUNROOT/locks"
  exec {lockfd}>"$SKIFF_RUNROOT/locks/layer-$layer.lock"
  flock "$lockfd"
  "$SKIFF" run --name long bb sleep 100 {lockfd}>&- >/dev/null 2>&1 &
  runpid=$!
  wait_for sh -c '"$SKIFF" ps -q | grep -q .'
}

release_first_run() { exec {lockfd}>&-; }

@test "ps: a container that is still starting does not show as Up for decades" {
  import_busybox
  hold_first_run
  run -0 skiff ps
  # Never let it start.
  kill -9 "$runpid"
  release_first_run
  # (a busy machine may take a second or two to get here)
  [[ "$(column "${lines[0]}" "${lines[1]}" STATUS)" =~ ^(Created|Up\ Less\ than\ a\ second|Up\ [0-9]\ seconds?)$ ]]
}

@test "rm -f of a container that is still starting stops it" {
  import_busybox
  hold_first_run
  "$SKIFF" rm -f long {lockfd}>&- >/dev/null 2>&1 &
  local rmpid=$!
  release_first_run
  # Both the rm and the run end promptly, not after the 100 s sleep.
  local status=0
  wait_for sh -c "! kill -0 $rmpid 2>/dev/null && ! kill -0 $runpid 2>/dev/null" || status=$?
  if [ "$status" -ne 0 ]; then
    # Stop the container the way that works once it has started.
    timeout 20 "$SKIFF" rm -f long >/dev/null 2>&1 || true
    kill -9 "$rmpid" "$runpid" 2>/dev/null || true
    false
  fi
  wait "$rmpid"
  run -0 skiff ps -aq
  [ "$output" = "" ]
}

# --- what an exited container keeps ---------------------------------------------

@test "an exited container keeps its writable layer until rm" {
  import_busybox
  run -0 skiff info
  [[ "$output" == *"graphDriverName: overlay"* ]] || skip "not the overlay driver"
  skiff run --name wr bb sh -c 'echo x > /f' 2>/dev/null
  local id
  id=$(skiff ps -aq --no-trunc)
  [ "$(cat "$SKIFF_ROOT/containers/$id/upper/f")" = x ]
  # The image itself is unchanged.
  run -1 --separate-stderr skiff run --rm bb cat /f
  skiff rm wr
  [ ! -e "$SKIFF_ROOT/containers/$id" ]
}

@test "rm removes files a container made as another user" {
  has_subuid || skip "needs /etc/subuid ranges"
  import_busybox
  skiff run --name wr -u app bb sh -c 'mkdir /tmp/d && echo x > /tmp/d/f && chmod 700 /tmp/d'
  local id
  id=$(skiff ps -aq --no-trunc)
  # Owned by a subordinate id: not removable by the user directly.
  [ "$(stat -c %u "$SKIFF_ROOT/containers/$id/upper/tmp/d")" != "$(id -u)" ]
  run -0 skiff rm wr
  [ ! -e "$SKIFF_ROOT/containers/$id" ]
}
