#!/usr/bin/env bats
# Detached containers: run -d and its monitor, stop, kill, wait, logs.
load helpers

is_running() { skiff ps -q --no-trunc | grep -qx "$1"; }
not_running() { ! is_running "$1"; }
# The pid of the monitor of container $1 (full id), from its record.
monitor_of() { grep -o '"skiff_pid": *[0-9]*' "$SKIFF_ROOT/containers/$1/container.json" | grep -o '[0-9]*$'; }
# Succeeds when the container's log has a line equal to $2.
log_has() { skiff logs "$1" 2>&1 | grep -qx "$2"; }

@test "run -d prints the full id, and the container runs on after skiff has exited" {
  import_busybox
  run -0 --separate-stderr skiff run -d --name web bb sleep 1000
  [[ "$output" =~ ^[0-9a-f]{64}$ ]]
  [ -z "$stderr" ]
  id=$output
  run -0 skiff ps --no-trunc -q
  [ "$output" = "$id" ]
  run -0 skiff ps
  [[ "$output" == *" Up "*" web"* ]]
  run -0 skiff container ls -q
  [ "$output" = "${id:0:12}" ]
}

@test "logs keeps stdout and stderr apart, --tail, -t, and a line without newline" {
  import_busybox
  skiff run -d --name chatty bb sh -c 'echo out1; echo err1 >&2; echo out2; printf last' >/dev/null
  run -0 skiff wait chatty
  [ "$output" = 0 ]
  run -0 --separate-stderr skiff logs chatty
  [ "$output" = $'out1\nout2\nlast' ]
  [ "$stderr" = "err1" ]
  run -0 --separate-stderr skiff logs --tail 1 chatty
  [ "$output" = "last" ]
  [ -z "$stderr" ]
  run -0 --separate-stderr skiff logs -n 0 chatty
  [ -z "$output" ]
  run -0 --separate-stderr skiff logs -t chatty
  [[ "${lines[0]}" =~ ^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}Z\ out1$ ]]
  run -0 skiff logs --since 1h chatty
  [ "${#lines[@]}" = 4 ]
  run -0 --separate-stderr skiff logs --until 2000-01-01T00:00:00Z chatty
  [ -z "$output" ] && [ -z "$stderr" ]
  run -125 skiff logs --since yesterday chatty
  [[ "$output" == *'invalid --since "yesterday"'* ]]
}

@test "logs -f follows until the container exits" {
  import_busybox
  skiff run -d --name follow bb sh -c 'echo one; sleep 0.3; echo two; sleep 0.3; echo three' >/dev/null
  run -0 skiff logs -f follow
  [ "$output" = $'one\ntwo\nthree' ]
  run -0 skiff logs -f follow  # of a container that has exited: what there is
  [ "$output" = $'one\ntwo\nthree' ]
}

@test "logs of a container not run with -d is refused in one line" {
  import_busybox
  skiff run --name fg bb true
  run -125 skiff logs fg
  [ "${#lines[@]}" = 1 ]
  [[ "$output" == *"was not run detached"* ]]
  run -125 skiff logs nosuch
  [ "$output" = "skiff: no such container: nosuch" ]
}

@test "stop sends SIGTERM, then returns once the exit is recorded" {
  import_busybox
  skiff run -d --name trap bb sh -c 'trap "echo got TERM; exit 3" TERM; echo ready; while :; do sleep 0.05; done' >/dev/null
  wait_for log_has trap ready
  run -0 skiff stop trap
  [ "$output" = trap ]
  # Recorded before stop returned: no waiting here.
  run -0 skiff ps -a
  [[ "$output" == *"Exited (3)"*" trap"* ]]
  run -0 skiff logs trap
  [ "$output" = $'ready\ngot TERM' ]
  # stop of a stopped container: its name, and nothing else.
  run -0 skiff stop trap
  [ "$output" = trap ]
}

@test "stop -t: SIGKILL after the timeout; --stop-timeout and --stop-signal" {
  import_busybox
  # PID 1 of a namespace ignores SIGTERM it does not handle: only SIGKILL ends it.
  skiff run -d --name stubborn bb sleep 1000 >/dev/null
  run -0 skiff stop -t 0 stubborn
  run -0 skiff wait stubborn
  [ "$output" = 137 ]
  skiff run -d --name quick --stop-timeout 0 bb sleep 1000 >/dev/null
  run -0 skiff stop quick
  run -0 skiff wait quick
  [ "$output" = 137 ]
  skiff run -d --name usr1 --stop-signal USR1 bb sh -c 'trap "exit 10" USR1; echo ready; while :; do sleep 0.05; done' >/dev/null
  wait_for log_has usr1 ready
  run -0 skiff stop usr1
  run -0 skiff wait usr1
  [ "$output" = 10 ]
  run -125 skiff run -d --stop-signal NOPE bb true
  [[ "$output" == *'invalid --stop-signal "NOPE"'* ]]
}

@test "an image's STOPSIGNAL is what stop sends" {
  import_busybox
  mkdir -p "$BATS_TEST_TMPDIR/ctx"
  printf 'FROM bb\nSTOPSIGNAL SIGUSR2\n' >"$BATS_TEST_TMPDIR/ctx/Dockerfile"
  skiff build -q -t stopsig "$BATS_TEST_TMPDIR/ctx" >/dev/null
  skiff run -d --name s2 stopsig sh -c 'trap "exit 12" USR2; echo ready; while :; do sleep 0.05; done' >/dev/null
  wait_for log_has s2 ready
  skiff stop s2
  run -0 skiff wait s2
  [ "$output" = 12 ]
}

@test "kill sends a signal by name or number; a container not running is refused" {
  import_busybox
  skiff run -d --name k1 bb sh -c 'trap "exit 7" HUP; echo ready; while :; do sleep 0.05; done' >/dev/null
  wait_for log_has k1 ready
  run -0 skiff kill -s HUP k1
  [ "$output" = k1 ]
  run -0 skiff wait k1
  [ "$output" = 7 ]
  skiff run -d --name k2 bb sleep 1000 >/dev/null
  run -0 skiff container kill k2
  run -0 skiff wait k2
  [ "$output" = 137 ]
  run -125 skiff kill k2
  [[ "$output" == *"k2 is not running"* ]]
  skiff run -d --name k3 bb sleep 1000 >/dev/null
  run -125 skiff kill -s NOSIG k3
  [[ "$output" == *'invalid signal "NOSIG"'* ]]
  run -0 skiff kill -s 9 k3
}

@test "wait prints each exit code; an unknown container is exit 125 and the rest still go" {
  import_busybox
  skiff run -d --name w1 bb sh -c 'exit 5' >/dev/null
  skiff run -d --name w2 bb sh -c 'sleep 0.2; exit 6' >/dev/null
  run -0 skiff wait w1 w2
  [ "$output" = $'5\n6' ]
  run -125 skiff wait w1 nosuch
  [ "${lines[0]}" = 5 ]
  [ "${lines[1]}" = "skiff: no such container: nosuch" ]
}

@test "run -d: a command that cannot start fails the command, with run's exit code and nothing left" {
  import_busybox
  run -127 --separate-stderr skiff run -d --name broken bb /no/such/file
  [ -z "$output" ]
  [[ "$stderr" == *'exec "/no/such/file"'* ]]
  run -125 skiff run -d --pull=never nosuchimage
  run -0 skiff ps -a -q
  [ -z "$output" ]
}

@test "run -d --rm: removed when it exits, wait still says how; rm -f of a running one removes everything" {
  import_busybox
  skiff run -d --rm --name gone bb sh -c 'sleep 1; exit 9' >/dev/null
  run -0 skiff wait gone
  [ "$output" = 9 ]
  run -0 skiff ps -a -q
  [ -z "$output" ]
  skiff run -d --name forced bb sleep 1000 >/dev/null
  run -125 skiff rm forced
  [[ "$output" == *"container is running"* ]]
  run -0 skiff rm -f forced
  run -0 skiff ps -a -q
  [ -z "$output" ]
  [ -z "$(ls "$SKIFF_ROOT/containers")" ]
  # The name is free again.
  skiff run -d --name forced bb true >/dev/null
}

@test "run -dt: the terminal's output is the log" {
  import_busybox
  skiff run -dt --name tty bb sh -c 'tty; echo in tty' >/dev/null
  skiff wait tty
  run -0 skiff logs tty
  [[ "${lines[0]}" == /dev/pts/0* ]]
  [[ "${lines[1]}" == "in tty"* ]]
}

@test "the log is rotated past --log-opt max-size" {
  import_busybox
  skiff run -d --name big --log-opt max-size=4k bb sh -c 'i=0; while [ $i -lt 400 ]; do echo line $i; i=$((i+1)); done' >/dev/null
  skiff wait big
  dir="$SKIFF_ROOT/containers/$(skiff ps -a -q --no-trunc)"
  [ -f "$dir/ctr.log.1" ]
  [ "$(stat -c %s "$dir/ctr.log")" -le 4096 ]
  [ "$(stat -c %s "$dir/ctr.log.1")" -le 4096 ]
  run -0 skiff logs --tail 1 big
  [ "$output" = "line 399" ]
  run -125 skiff run -d --log-opt max-file=3 bb true
  [[ "$output" == *'invalid --log-opt "max-file=3"'* ]]
}

@test "kill -9 of the monitor: the container is not shown running, and ends with it" {
  import_busybox
  id=$(skiff run -d --name orphan bb sleep 1000)
  monitor=$(monitor_of "$id")
  kill -9 "$monitor"
  wait_for not_running "$id"
  run -0 skiff ps -a
  [[ "$output" == *"Exited"*" orphan"* ]]
  run -0 skiff rm -f orphan
}

@test "a detached container's monitor leaves the caller's terminal session and holds none of its fds" {
  import_busybox
  exec 7</etc/hostname
  id=$(skiff run -d --name sess bb sleep 1000)
  exec 7<&-
  monitor=$(monitor_of "$id")
  [ "$(ps -o sid= -p "$monitor" | tr -d ' ')" = "$monitor" ]
  run ls "/proc/$monitor/fd"
  ! [[ " ${lines[*]} " == *" 7 "* ]]
}
