#!/usr/bin/env bats
# Many skiffs at once, and skiffs killed: with no daemon, the records on disk,
# the name index and the locks must stay right by themselves.
load helpers

# Runs N copies of a command at once, "@" in its words standing for the
# copy's number (1..N). Copy I's stdout, stderr and exit code go to
# $par/I.out, I.err and I.rc. They wait at a gate until all are forked, so
# they really race; returns when all are done.
at_once() {
  local n=$1 i gate rc
  shift
  par="$BATS_TEST_TMPDIR/par"
  rm -rf "$par"
  mkdir -p "$par"
  exec {gate}>"$par/gate"
  flock "$gate"
  for ((i = 1; i <= n; i++)); do
    (
      exec {gate}>&-
      flock -s "$par/gate" true
      rc=0
      "${@//@/$i}" >"$par/$i.out" 2>"$par/$i.err" || rc=$?
      echo "$rc" >"$par/$i.rc"
    ) &
  done
  flock -u "$gate"
  exec {gate}>&-
  wait
}

# How many copies of the last at_once exited with code $1.
exited_with() { cat "$par"/*.rc | grep -cx "$1" || true; }

# The pid of the monitor of container $1 (full id), from its record.
monitor_of() { grep -o '"skiff_pid": *[0-9]*' "$SKIFF_ROOT/containers/$1/container.json" | grep -o '[0-9]*$'; }

# Succeeds when process $1 has ended (a zombie waiting to be reaped has).
process_gone() { [ ! -e "/proc/$1" ] || [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" = Z ]; }

# The containers' lock files left in the runroot.
ctr_locks() { ls "$SKIFF_RUNROOT/locks" 2>/dev/null | grep '^ctr-' || true; }

# Succeeds when nobody holds container $1's lock (it does not run).
lock_free() { flock -n "$SKIFF_RUNROOT/locks/ctr-$1.lock" true; }

# Runs a container -d --rm named $1, kills its monitor with SIGKILL and waits
# until its lock is free.
run_rm_and_kill_monitor() {
  local id monitor
  id=$(skiff run -d --rm --name "$1" bb sleep 1000)
  monitor=$(monitor_of "$id")
  kill -9 "$monitor"
  wait_for process_gone "$monitor"
  wait_for lock_free "$id"
}

is_running() { skiff ps -q --no-trunc | grep -qx "$1"; }
not_running() { ! is_running "$1"; }

# ps -a, then rm -f of container c$1, then ps -a again; says what rm says.
look_and_remove() {
  skiff ps -a >/dev/null && skiff rm -f "c$1" && skiff ps -a >/dev/null
}

@test "32 runs -d at once all start, each with its record; 32 rm -f at once (and ps) leave nothing" {
  import_busybox
  at_once 32 skiff run -d --name c@ bb sleep 1000
  [ "$(exited_with 0)" = 32 ]
  local k ids=() monitors=() names
  for k in $(seq 1 32); do
    [[ "$(cat "$par/$k.out")" =~ ^[0-9a-f]{64}$ ]]
    [ ! -s "$par/$k.err" ]
    ids+=("$(cat "$par/$k.out")")
  done
  [ "$(printf '%s\n' "${ids[@]}" | sort -u | wc -l)" = 32 ]
  names=$(seq 1 32 | sed 's/^/c/' | sort)
  run -0 skiff ps --format '{{.Names}} {{.State}}'
  [ "${#lines[@]}" = 32 ]
  [ "$(printf '%s\n' "${lines[@]}" | sed -n 's/ running$//p' | sort)" = "$names" ]
  for k in $(seq 1 32); do
    run -0 --separate-stderr skiff inspect --format '{{.Id}} {{.Name}} {{.State.Status}}' "c$k"
    [ "$output" = "${ids[k - 1]} /c$k running" ]
    monitors+=("$(monitor_of "${ids[k - 1]}")")
  done
  [ "$(printf '%s\n' "${monitors[@]}" | sort -u | wc -l)" = 32 ]

  # Each also lists the containers while the others remove theirs: ps must
  # not leave a lock file behind for a container removed meanwhile.
  at_once 32 look_and_remove @
  [ "$(exited_with 0)" = 32 ]
  for k in $(seq 1 32); do
    [ "$(cat "$par/$k.out")" = "c$k" ]
    [ ! -s "$par/$k.err" ]
  done
  run -0 skiff ps -a -q
  [ -z "$output" ]
  [ -z "$(ls "$SKIFF_ROOT/containers")" ]
  [ -z "$(ls -A "$SKIFF_ROOT/containers/.names")" ]
  [ -z "$(ctr_locks)" ]
  local pid
  for pid in "${monitors[@]}"; do wait_for process_gone "$pid"; done
}

@test "rm -f of one container by 4 at once: one removes it, the others find no such container" {
  import_busybox
  local round
  for round in 1 2 3; do
    skiff run -d --name dup bb sleep 1000 >/dev/null
    at_once 4 skiff rm -f dup
    [ "$(exited_with 0)" = 1 ]
    [ "$(exited_with 125)" = 3 ]
    [ "$(cat "$par"/*.out)" = dup ]
    [ "$(cat "$par"/*.err | sort -u)" = "skiff: no such container: dup" ]
    [ -z "$(ls "$SKIFF_ROOT/containers")" ]
    [ -z "$(ctr_locks)" ]
  done
}

@test "32 runs -d at once with one name: one wins, 31 are refused in one line, nothing half-made stays" {
  import_busybox
  at_once 32 skiff run -d --name same bb sleep 1000
  [ "$(exited_with 0)" = 1 ]
  [ "$(exited_with 125)" = 31 ]
  local k winner=
  for k in $(seq 1 32); do
    if [ "$(cat "$par/$k.rc")" = 0 ]; then
      winner=$(cat "$par/$k.out")
      [ ! -s "$par/$k.err" ]
    fi
  done
  [[ "$winner" =~ ^[0-9a-f]{64}$ ]]
  for k in $(seq 1 32); do
    if [ "$(cat "$par/$k.rc")" = 0 ]; then continue; fi
    [ ! -s "$par/$k.out" ]
    run cat "$par/$k.err"
    [ "${lines[0]}" = "skiff: the container name \"/same\" is already in use by container \"$winner\"" ]
    # What may follow is the hint, nothing else.
    [ "${#lines[@]}" -le 2 ]
    [ "${#lines[@]}" = 1 ] || [[ "${lines[1]}" == "hint: "* ]]
  done
  run -0 skiff ps -a -q --no-trunc
  [ "$output" = "$winner" ]
  [ "$(ls "$SKIFF_ROOT/containers")" = "$winner" ]
  [ "$(ls -A "$SKIFF_ROOT/containers/.names")" = same ]
  [ "$(ctr_locks)" = "ctr-$winner.lock" ]
  run -0 skiff rm -f same
}

@test "32 runs -d at once without names all start, with 32 names" {
  import_busybox
  at_once 32 skiff run -d bb true
  [ "$(exited_with 0)" = 32 ]
  local k
  for k in $(seq 1 32); do [ ! -s "$par/$k.err" ]; done
  [ "$(cat "$par"/*.out | sort -u | wc -l)" = 32 ]
  run -0 skiff ps -a --format '{{.Names}}'
  [ "${#lines[@]}" = 32 ]
  [ "$(printf '%s\n' "${lines[@]}" | sort -u | wc -l)" = 32 ]
  [ "$(ls -A "$SKIFF_ROOT/containers/.names" | wc -l)" = 32 ]
}

@test "a runroot wiped while a container ran (a reboot): it shows exited, rm and run work" {
  import_busybox
  local id monitor
  id=$(skiff run -d --name before bb sleep 1000)
  monitor=$(monitor_of "$id")
  kill -9 "$monitor"
  wait_for process_gone "$monitor"
  rm -rf "$SKIFF_RUNROOT"
  run -0 --separate-stderr skiff ps -a
  [ "${#lines[@]}" = 2 ]
  [[ "${lines[1]}" == *" Exited "*" before" ]]
  [ -z "$stderr" ]
  run -0 --separate-stderr skiff ps -q
  [ -z "$output" ]
  run -0 skiff rm before
  [ "$output" = before ]
  run -0 skiff ps -a -q
  [ -z "$output" ]
  run -0 skiff run --name before bb echo again
  [ "$output" = again ]
  id=$(skiff run -d --name after bb sleep 1000)
  wait_for is_running "$id"
  run -0 skiff rm -f after
}

@test "kill -9 of the monitor of a run -d --rm: the next ps, rm or run --name removes its container" {
  import_busybox
  run_rm_and_kill_monitor byps
  run -0 skiff ps -a --format '{{.Names}}'
  [ -z "$output" ]
  [ -z "$(ls "$SKIFF_ROOT/containers")" ]
  [ -z "$(ctr_locks)" ]

  run_rm_and_kill_monitor byrm
  run -0 skiff rm byrm
  [ "$output" = byrm ]
  [ -z "$(ls "$SKIFF_ROOT/containers")" ]
  [ -z "$(ctr_locks)" ]

  run_rm_and_kill_monitor byrun
  run -0 skiff run --rm --name byrun bb echo mine
  [ "$output" = mine ]
  [ -z "$(ls "$SKIFF_ROOT/containers")" ]
  [ -z "$(ls -A "$SKIFF_ROOT/containers/.names")" ]
  [ -z "$(ctr_locks)" ]
}

@test "two renames of one container at once: one wins, the other finds no such container" {
  import_busybox
  local round id
  for round in 1 2 3 4; do
    id=$(skiff run -d --name orig bb sleep 1000)
    at_once 2 skiff rename orig new@
    [ "$(exited_with 0)" = 1 ]
    [ "$(exited_with 125)" = 1 ]
    local won lost
    if [ "$(cat "$par/1.rc")" = 0 ]; then won=1 lost=2; else won=2 lost=1; fi
    [ ! -s "$par/$won.err" ]
    [ "$(cat "$par/$lost.err")" = "skiff: no such container: orig" ]
    run -0 skiff ps -a --format '{{.Names}}'
    [ "$output" = "new$won" ]
    [ "$(ls -A "$SKIFF_ROOT/containers/.names")" = "new$won" ]
    [ "$(readlink "$SKIFF_ROOT/containers/.names/new$won")" = "$id" ]
    skiff rm -f "new$won" >/dev/null
  done
}

# Copy 1 runs a container named taken, copy 2 renames container other to taken.
take_name() {
  if [ "$1" = 1 ]; then skiff run -d --name taken bb sleep 1000; else skiff rename other taken; fi
}

@test "run --name racing rename of another container to that name: one wins" {
  import_busybox
  local round other
  for round in 1 2 3 4; do
    other=$(skiff run -d --name other bb sleep 1000)
    at_once 2 take_name @
    [ "$(exited_with 0)" = 1 ]
    [ "$(exited_with 125)" = 1 ]
    if [ "$(cat "$par/2.rc")" = 0 ]; then  # the rename won
      run -0 skiff ps -a --format '{{.Names}}'
      [ "$output" = taken ]
      [ "$(ls "$SKIFF_ROOT/containers")" = "$other" ]
      [ "$(ls -A "$SKIFF_ROOT/containers/.names")" = taken ]
      [ "$(readlink "$SKIFF_ROOT/containers/.names/taken")" = "$other" ]
      [[ "$(cat "$par/1.err")" == "skiff: the container name \"/taken\" is already in use by container \"$other\""* ]]
    else
      run -0 skiff ps -a --format '{{.Names}}'
      [ "$(printf '%s\n' "${lines[@]}" | sort)" = $'other\ntaken' ]
      [ "$(ls "$SKIFF_ROOT/containers" | wc -l)" = 2 ]
      [ "$(ls -A "$SKIFF_ROOT/containers/.names" | sort)" = $'other\ntaken' ]
      [ "$(readlink "$SKIFF_ROOT/containers/.names/other")" = "$other" ]
      [ "$(readlink "$SKIFF_ROOT/containers/.names/taken")" = "$(cat "$par/1.out")" ]
      [[ "$(cat "$par/2.err")" == "skiff: the container name \"/taken\" is already in use by container \"$(cat "$par/1.out")\""* ]]
    fi
    skiff rm -f $(skiff ps -a -q) >/dev/null
  done
}
