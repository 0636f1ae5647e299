#!/usr/bin/env bats
# skiff exec: another process in a running container.
load helpers

# Starts container NAME (busybox, a file in /tmp, then sleep as PID 1) with
# skiff run in the background, plus run's flags, and waits until it runs.
start_container() {
  local name=$1
  shift
  "$SKIFF" run --rm --name "$name" "$@" bb sh -c 'echo hi > /tmp/mark; echo ready; exec sleep 1000' \
    > "$BATS_TEST_TMPDIR/out.$name" 2>&1 &
  echo $! > "$BATS_TEST_TMPDIR/pid.$name"
  wait_for grep -q ready "$BATS_TEST_TMPDIR/out.$name"
}

# Ends what start_container started (only that skiff and its container).
stop_container() {
  "$SKIFF" rm -f "$1" >/dev/null 2>&1 || true
  wait "$(cat "$BATS_TEST_TMPDIR/pid.$1")" 2>/dev/null || true
}

teardown() {
  local f
  for f in "$BATS_TEST_TMPDIR"/pid.*; do
    [ -e "$f" ] || continue
    kill -KILL "$(cat "$f")" 2>/dev/null || true
  done
  "$SKIFF" system reset -f >/dev/null 2>&1 || true
}

# A field of /proc/self/status as a command exec'd in container NAME sees it.
exec_status() {
  "$SKIFF" exec "$1" sh -c "grep '^$2:' /proc/self/status | cut -f2"
}

@test "exec prints the command's output and returns its exit code" {
  import_busybox
  start_container web
  run -0 --separate-stderr skiff exec web echo hello
  [ "$output" = hello ]
  [ -z "$stderr" ]
  run -3 skiff exec web sh -c 'exit 3'
  run -0 skiff container exec web echo again
  [ "$output" = again ]
  # By id prefix too.
  local id
  id=$(readlink "$SKIFF_ROOT/containers/.names/web")
  run -0 skiff exec "${id:0:12}" true
  stop_container web
}

@test "exec into a container run with -d, and not once it is stopped" {
  import_busybox
  run -0 skiff run -d --name bg bb sleep 1000
  run -0 skiff exec bg cat /proc/1/cmdline
  [ "$output" = "$(printf 'sleep\0001000')" ]
  run -5 skiff exec bg sh -c 'exit 5'
  run -0 skiff stop -t 1 bg
  run -125 --separate-stderr skiff exec bg true
  [ "$stderr" = "skiff: container bg is not running" ]
}

@test "exec: 127 for a command not found, 126 for one that cannot be run" {
  import_busybox
  start_container web
  run -127 --separate-stderr skiff exec web nosuch
  [ "$stderr" = 'skiff: exec "nosuch": executable file not found in $PATH' ]
  run -127 --separate-stderr skiff exec web /no/such
  [ "$stderr" = 'skiff: exec "/no/such": no such file or directory' ]
  run -126 --separate-stderr skiff exec web /etc/passwd
  [ "$stderr" = 'skiff: exec "/etc/passwd": permission denied' ]
  stop_container web
}

@test "exec joins the container's pid and mount namespaces" {
  import_busybox
  start_container web
  run -0 skiff exec web cat /proc/1/cmdline
  [ "$output" = "$(printf 'sleep\0001000')" ]
  run -0 skiff exec web cat /tmp/mark
  [ "$output" = hi ]
  run -0 skiff exec web hostname
  [ "$output" = "$(skiff exec web cat /etc/hostname)" ]
  stop_container web
}

@test "exec: the container's environment, then -e and --env-file" {
  import_busybox
  start_container web -e FROM_RUN=1 -e SHARED=run
  printf 'FROM_FILE=file\n# a comment\n' > "$BATS_TEST_TMPDIR/env"
  export FROM_HOST=host
  run -0 skiff exec -e SHARED=exec -e FROM_HOST --env-file "$BATS_TEST_TMPDIR/env" web \
    sh -c 'echo "$FROM_RUN $SHARED $FROM_HOST $FROM_FILE $HOME"'
  [ "$output" = "1 exec host file /root" ]
  stop_container web
}

@test "exec -u: a user by name or number, with that user's HOME, as run gives them" {
  import_busybox
  start_container web
  run -0 skiff exec -u root web sh -c 'id -u; echo $HOME'
  [ "$output" = "0
/root" ]
  run -0 skiff exec -u 0:0 web id -g
  [ "$output" = 0 ]
  if has_subuid; then
    run -0 skiff exec -u app web sh -c 'id -u; id -g; echo $HOME'
    [ "$output" = "1000
1000
/home/app" ]
    [ "$output" = "$(skiff run --rm -u app bb sh -c 'id -u; id -g; echo $HOME')" ]
    run -0 skiff exec -u 1000 web sh -c 'id -un; echo $HOME'
    [ "$output" = "app
/home/app" ]
    run -0 skiff exec -u 4242 web sh -c 'id -u; echo $HOME'
    [ "$output" = "4242
/" ]
  else
    run -125 --separate-stderr skiff exec -u app web id
    [ "${stderr_lines[0]}" = "skiff: user 1000:1000 does not exist in the container's user namespace" ]
  fi
  run -125 --separate-stderr skiff exec -u nosuchuser web id
  [ "$stderr" = "skiff: unable to find user nosuchuser: no matching entries in passwd file" ]
  stop_container web
}

@test "exec -w: the working directory, resolved inside the container" {
  import_busybox
  start_container web
  run -0 skiff exec -w /tmp web pwd
  [ "$output" = /tmp ]
  run -0 skiff exec web pwd
  [ "$output" = / ]
  run -125 --separate-stderr skiff exec -w tmp web pwd
  [ "$stderr" = 'skiff: the working directory "tmp" is not an absolute path' ]
  stop_container web
}

@test "exec -i passes standard input; without -i the command reads nothing" {
  import_busybox
  start_container web
  run -0 skiff exec -i web cat <<< "passed"
  [ "$output" = passed ]
  run -0 skiff exec web cat <<< "ignored"
  [ -z "$output" ]
  stop_container web
}

@test "exec -t gives the command a terminal of its own" {
  import_busybox
  command -v script >/dev/null || skip "script(1) not installed"
  start_container web
  run -0 script -qec "$SKIFF exec -t web sh -c 'tty; echo \$TERM'" /dev/null </dev/null
  [[ "$output" == *"/dev/pts/"* ]]
  [[ "$output" == *"xterm"* ]]
  run -0 skiff exec web sh -c 'tty || true'
  [ "$output" = "not a tty" ]
  stop_container web
}

@test "exec -d returns at once and leaves no zombie behind" {
  import_busybox
  start_container web
  run -0 --separate-stderr skiff exec -d web sh -c 'sleep 0.3; echo done > /tmp/detached'
  [ -z "$output" ]
  [ -z "$stderr" ]
  wait_for skiff exec web test -e /tmp/detached
  # The command was reaped: no zombie in the container, and skiff left no
  # process of its own (nothing but the container's skiff and its sleep).
  wait_for sh -c "! '$SKIFF' exec web ps -o stat,args | grep -q '^Z'"
  wait_for sh -c "! pgrep -u $(id -u) -f 'exec [-]d web'"
  run -0 skiff exec web ps -o args
  [ "$output" = "COMMAND
sleep 1000
ps -o args" ]
  run -127 skiff exec -d web nosuch
  stop_container web
}

@test "exec: the container's confinement (capabilities, seccomp, no_new_privs); --privileged lifts it" {
  import_busybox
  start_container web --security-opt no-new-privileges
  local pid1_eff
  pid1_eff=$(skiff exec web sh -c "grep '^CapEff:' /proc/1/status | cut -f2")
  run -0 exec_status web CapEff
  [ "$output" = "$pid1_eff" ]
  [ "$output" = 00000000800405fb ]
  run -0 exec_status web CapInh
  [ "$output" = 0000000000000000 ]
  run -0 exec_status web CapAmb
  [ "$output" = 0000000000000000 ]
  run -0 exec_status web CapBnd
  [ "$output" = "$pid1_eff" ]
  run -0 exec_status web Seccomp
  [ "$output" = 2 ]
  run -0 exec_status web NoNewPrivs
  [ "$output" = 1 ]
  run -0 skiff exec --privileged web sh -c "grep -E '^(Seccomp|CapEff):' /proc/self/status | cut -f2"
  [ "${lines[1]}" = 0 ]
  [ "${lines[0]}" != "$pid1_eff" ]
  [ "${lines[0]}" = "$(printf '%016x' $(((1 << ($(cat /proc/sys/kernel/cap_last_cap) + 1)) - 1)))" ]
  stop_container web
}

@test "exec forwards signals to the command" {
  import_busybox
  start_container web
  "$SKIFF" exec web sh -c 'trap "echo got TERM; exit 7" TERM; echo ready; while :; do sleep 0.05; done' \
    > "$BATS_TEST_TMPDIR/exec.out" &
  local pid=$!
  wait_for grep -q ready "$BATS_TEST_TMPDIR/exec.out"
  kill -TERM $pid
  local status=0
  wait $pid || status=$?
  [ "$status" = 7 ]
  grep -q "got TERM" "$BATS_TEST_TMPDIR/exec.out"
  stop_container web
}

@test "exec into a container that does not run: one line, exit 125" {
  import_busybox
  skiff run --name stopped bb true
  run -125 --separate-stderr skiff exec stopped true
  [ "$stderr" = "skiff: container stopped is not running" ]
  run -125 --separate-stderr skiff exec nosuch true
  [ "$stderr" = "skiff: no such container: nosuch" ]
  run -125 --separate-stderr skiff exec stopped
  [ "${stderr_lines[0]}" = "skiff: exec needs a container and a command" ]
}

@test "exec never joins a process that is not the container's first one" {
  import_busybox
  start_container web
  local lock
  lock="$SKIFF_RUNROOT/locks/ctr-$(readlink "$SKIFF_ROOT/containers/.names/web").lock"
  local pid1
  pid1=$(head -n 1 "$lock")
  [ -n "$pid1" ]
  # A process of the user's named by the note of a lock that is held, with
  # its own start time (as if the container's pid had been given to it and
  # the note were of it): it is not the child of the container's skiff, and
  # is not joined.
  sleep 100 &
  local other=$!
  echo "$other $(cut -d' ' -f22 "/proc/$other/stat")" > "$lock"
  run -125 --separate-stderr skiff exec web true
  [ "$stderr" = "skiff: container web is not running" ]
  kill $other
  echo "$pid1" > "$lock"
  run -0 skiff exec web true
  # Its skiff killed: the lock is free, the note names a pid nobody checks.
  kill -KILL "$(cat "$BATS_TEST_TMPDIR/pid.web")"
  wait "$(cat "$BATS_TEST_TMPDIR/pid.web")" || true
  rm "$BATS_TEST_TMPDIR/pid.web"
  run -125 --separate-stderr skiff exec web true
  [ "$stderr" = "skiff: container web is not running" ]
}
