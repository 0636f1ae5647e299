#!/usr/bin/env bats
# create, start, restart, and run --restart's policies.
load helpers

is_running() { skiff ps -q --no-trunc | grep -qx "$1"; }
not_running() { ! is_running "$1"; }
status_of() { skiff ps -a --no-trunc --filter "id=$1" --format '{{.State}}'; }
has_status() { [ "$(status_of "$1")" = "$2" ]; }
monitor_of() { grep -o '"skiff_pid": *[0-9]*' "$SKIFF_ROOT/containers/$1/container.json" | grep -o '[0-9]*$'; }
shows_restarting() { skiff ps --format '{{.Status}}' | grep -q '^Restarting (1) '; }
inspect_says_restarting() { [ "$(skiff container inspect -f '{{.State.Restarting}}' "$1")" = true ]; }
log_lines() { skiff logs "$1" 2>/dev/null | wc -l; }
log_has_at_least() { [ "$(log_lines "$1")" -ge "$2" ]; }

@test "create makes a container that does not run; start runs it, and again on the same writable layer" {
  import_busybox
  run -0 --separate-stderr skiff create --name c1 bb sh -c 'echo run $(cat /count 2>/dev/null); echo x >> /count; exit 3'
  [[ "$output" =~ ^[0-9a-f]{64}$ ]]
  id=$output
  run -0 skiff ps -a --format '{{.Names}} {{.Status}}'
  [ "$output" = "c1 Created" ]
  run -0 skiff ps -a -q --filter status=created --no-trunc
  [ "$output" = "$id" ]
  run -0 skiff inspect -f '{{.State.Status}} {{.State.StartedAt}}' c1
  [ "$output" = "created 0001-01-01T00:00:00Z" ]
  run -0 skiff ps -q
  [ -z "$output" ]
  run -0 skiff start c1
  [ "$output" = c1 ]
  run -0 skiff wait c1
  [ "$output" = 3 ]
  run -0 skiff logs c1
  [ "$output" = "run" ]
  # -a: in the foreground, with the container's exit status; the file the
  # first run wrote is still there.
  run -3 skiff start -a c1
  [ "$output" = "run x" ]
  run -0 skiff ps -a --format '{{.Names}} {{.Status}}'
  [[ "$output" == "c1 Exited (3) "* ]]
}

@test "container create and container start; start of a running container leaves it as it is" {
  import_busybox
  id=$(skiff container create --name svc bb sleep 1000)
  run -0 skiff container start svc
  [ "$output" = svc ]
  wait_for is_running "$id"
  monitor=$(monitor_of "$id")
  run -0 skiff start svc
  [ "$output" = svc ]
  [ "$(monitor_of "$id")" = "$monitor" ]
  run -0 skiff ps -q --no-trunc
  [ "$output" = "$id" ]
  skiff rm -f svc >/dev/null
}

@test "create: a name in use, and start of an unknown container, are one sentence and exit 125" {
  import_busybox
  skiff create --name taken bb true >/dev/null
  run -125 skiff create --name taken bb true
  [[ "$output" == *'the container name "/taken" is already in use'* ]]
  run -0 skiff ps -a -q
  [ "${#lines[@]}" = 1 ]
  run -125 skiff start nosuch
  [ "$output" = "skiff: no such container: nosuch" ]
  run -125 skiff start -a taken nosuch
  [[ "$output" == *"cannot start and attach multiple containers"* ]]
  run -0 skiff rm taken
  [ -z "$(ls "$SKIFF_ROOT/containers")" ]
}

@test "--restart on-failure: a container that fails twice, then succeeds" {
  import_busybox
  skiff run -d --name flaky --restart on-failure bb \
    sh -c 'n=$(cat /n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /n; echo try $n; [ $n -ge 3 ]' >/dev/null
  run -0 skiff wait flaky
  [ "$output" = 0 ]
  run -0 skiff logs flaky
  [ "$output" = $'try 1\ntry 2\ntry 3' ]
  run -0 skiff inspect -f '{{.RestartCount}} {{.HostConfig.RestartPolicy.Name}} {{.State.ExitCode}}' flaky
  [ "$output" = "2 on-failure 0" ]
  run -0 skiff ps -a --format '{{.Status}}'
  [[ "$output" == "Exited (0) "* ]]
}

@test "--restart on-failure:N gives up after N restarts; no and a zero exit do not restart" {
  import_busybox
  skiff run -d --name twice --restart on-failure:1 bb sh -c 'echo t; exit 4' >/dev/null
  run -0 skiff wait twice
  [ "$output" = 4 ]
  run -0 skiff logs twice
  [ "$output" = $'t\nt' ]
  skiff run -d --name ok --restart on-failure bb sh -c 'echo t' >/dev/null
  skiff run -d --name never --restart no bb sh -c 'echo t; exit 1' >/dev/null
  run -0 skiff wait ok never
  [ "$output" = $'0\n1' ]
  [ "$(log_lines ok)" = 1 ] && [ "$(log_lines never)" = 1 ]
}

@test "--restart always: restarted until stop, which ends it for good; ps says Restarting meanwhile" {
  import_busybox
  id=$(skiff run -d --name loop --restart always bb sh -c 'echo up; exit 1')
  # The back-off doubles from 100 ms: the monitor soon waits long enough to be seen.
  wait_for has_status "$id" restarting
  # Each look may fall between two runs or in one: the back-off grows, so
  # the monitor is soon seen waiting.
  wait_for shows_restarting
  wait_for inspect_says_restarting loop
  run -0 skiff container inspect -f '{{.HostConfig.RestartPolicy.Name}}' loop
  [ "$output" = always ]
  wait_for log_has_at_least loop 3
  run -0 skiff stop loop
  [ "$output" = loop ]
  run -0 skiff ps -a --format '{{.Names}} {{.State}}'
  [ "$output" = "loop exited" ]
  n=$(log_lines loop)
  run -0 skiff wait loop
  [ "$(log_lines loop)" = "$n" ]
  # Started again, the policy holds again.
  run -0 skiff start loop
  wait_for log_has_at_least loop $((n + 2))
  skiff rm -f loop >/dev/null
}

@test "--restart always: stop and kill of a running one end it; a signal that does not end it keeps the policy" {
  import_busybox
  id=$(skiff run -d --name svc --restart always bb sh -c 'trap "echo usr1" USR1; echo up; while :; do sleep 0.05; done')
  wait_for log_has_at_least svc 1
  run -0 skiff kill -s USR1 svc
  wait_for log_has_at_least svc 2
  run -0 skiff kill svc
  wait_for not_running "$id"
  run -0 skiff logs svc
  [ "$output" = $'up\nusr1' ]
  run -0 skiff ps -a --format '{{.State}}'
  [ "$output" = exited ]
}

@test "restart: a running container gets a new process, an exited one starts again" {
  import_busybox
  id=$(skiff run -d --name rs bb sh -c 'echo started; exec sleep 1000')
  wait_for log_has_at_least rs 1
  run -0 skiff restart -t 0 rs
  [ "$output" = rs ]
  wait_for log_has_at_least rs 2
  run -0 skiff ps --format '{{.Names}} {{.State}}'
  [ "$output" = "rs running" ]
  skiff stop -t 0 rs >/dev/null
  run -0 skiff container restart rs
  wait_for log_has_at_least rs 3
  wait_for is_running "$id"
  skiff rm -f rs >/dev/null
}

@test "kill -9 of a monitor waiting to restart: the container is shown exited, not restarting" {
  import_busybox
  id=$(skiff run -d --name km --restart always bb sh -c 'exit 2')
  wait_for has_status "$id" restarting
  kill -9 "$(monitor_of "$id")"
  wait_for has_status "$id" exited
  # (Exited (2) when it was waiting, Exited (unknown) when it was starting
  # the container again.)
  run -0 skiff ps -a --format '{{.Status}}'
  [[ "$output" == "Exited ("* ]]
  run -0 skiff rm km
}

@test "--restart: bad policies, and --rm with one, are one sentence and exit 125, nothing made" {
  import_busybox
  run -125 skiff run --rm --restart always bb true
  [ "$output" = "skiff: conflicting options: cannot specify both --restart and --rm" ]
  run -125 skiff run --restart bogus bb true
  [[ "$output" == *"invalid restart policy: unknown policy \"bogus\""* ]]
  run -125 skiff create --restart always:3 bb true
  [[ "$output" == *"maximum retry count can only be used with 'on-failure'"* ]]
  run -125 skiff run --restart on-failure:x bb true
  [[ "$output" == *"maximum retry count"* ]]
  run -0 skiff ps -a -q
  [ -z "$output" ]
}
