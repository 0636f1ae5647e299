#!/usr/bin/env bats
# top (the host's ps over a container's processes), pause and unpause.
load helpers

# Succeeds when top of container $1 lists $2 processes.
top_lists() { [ "$(skiff top "$1" | tail -n +2 | wc -l)" = "$2" ]; }

@test "top shows the container's processes as ps -ef does, and none of the host's" {
  import_busybox
  skiff run -d --name web bb sh -c 'sleep 1000 & exec sleep 999' >/dev/null
  wait_for top_lists web 2
  run -0 --separate-stderr skiff top web
  [ -z "$stderr" ]
  # docker's table: every column but the last at least 20 wide
  [ "${lines[0]}" = "UID                 PID                 PPID                C                   STIME               TTY                 TIME                CMD" ]
  [ "${#lines[@]}" = 3 ]
  first=$(printf '%s\n' "${lines[@]:1}" | grep ' sleep 999$')
  second=$(printf '%s\n' "${lines[@]:1}" | grep ' sleep 1000$')
  # sleep 1000's parent is the container's first process, sleep 999 (sh exec'd it)
  [ "$(echo "$second" | awk '{print $3}')" = "$(echo "$first" | awk '{print $2}')" ]
  run -0 skiff container top web
  [ "${#lines[@]}" = 3 ]
}

@test "top shows processes of a user other than root in the container (a subordinate id on the host)" {
  has_subuid || skip "without /etc/subuid ranges only root exists in a container"
  import_busybox
  skiff run -d --name web -u 1000 bb sh -c 'sleep 1000 & exec sleep 999' >/dev/null
  wait_for top_lists web 2
  run -0 skiff top web -o user,pid,comm
  [ "${#lines[@]}" = 3 ]
  [[ "${lines[1]}" != "$(id -un) "* ]]  # not the caller: its subordinate id
}

@test "top with ps options: those columns, the container's rows only" {
  import_busybox
  skiff run -d --name web bb sh -c 'sleep 1000 & exec sleep 999' >/dev/null
  wait_for top_lists web 2
  run -0 --separate-stderr skiff top web -o pid,comm
  [ -z "$stderr" ]
  [ "${lines[0]}" = "PID                 COMMAND" ]
  [ "${#lines[@]}" = 3 ]
  [[ "${lines[1]}" =~ ^[0-9]+\ +sleep$ ]]
  [[ "${lines[2]}" =~ ^[0-9]+\ +sleep$ ]]
  run -0 skiff top web "-o pid,args"  # one word, split at spaces as docker does
  [[ "${lines[0]}" =~ ^PID\ +COMMAND$ ]]
  [ "${#lines[@]}" = 3 ]
  # a forest listing refuses ps's -q: ps runs again without it, and its rows are filtered
  run -0 skiff top web axf
  [ "${#lines[@]}" = 3 ]
  [[ "$output" == *'\_ sleep 1000'* ]]
}

@test "top: ps options without a PID column, a column titled PID, and ps's own refusal" {
  import_busybox
  skiff run -d --name web bb sleep 1000 >/dev/null
  run -125 --separate-stderr skiff top web -o comm
  [ "${stderr_lines[0]}" = "skiff: ps printed no PID column: top needs it to find the container's processes" ]
  run -125 --separate-stderr skiff top web -o pid,comm=PID
  [ "$stderr" = "skiff: specifying \"pid,comm=PID\" is not allowed: top finds a container's processes by the column titled PID" ]
  run -125 --separate-stderr skiff top web --no-such-ps-option
  [[ "$stderr" == "skiff: ps: "* ]]
  [ "${#stderr_lines[@]}" = 1 ]
}

@test "top of a container that is not running, or not there, fails in one sentence" {
  import_busybox
  skiff run --name done bb true
  run -125 --separate-stderr skiff top done
  [ "$stderr" = "skiff: container done is not running" ]
  [ -z "$output" ]
  skiff create --name made bb true >/dev/null
  run -125 --separate-stderr skiff top made
  [ "$stderr" = "skiff: container made is not running" ]
  run -125 --separate-stderr skiff top nope
  [ "$stderr" = "skiff: no such container: nope" ]
}

@test "pause and unpause say why skiff cannot, and leave the container running" {
  import_busybox
  skiff run -d --name sleeper bb sleep 1000 >/dev/null
  run -125 --separate-stderr skiff pause sleeper
  [ -z "$output" ]
  [ "$stderr" = "skiff: cannot pause container sleeper: it is in no cgroup of its own, so there is no cgroup freezer to stop it with; nothing was changed" ]
  run -125 skiff container pause sleeper
  run -0 skiff inspect -f '{{.State.Status}}' sleeper
  [ "$output" = running ]
  run -0 skiff top sleeper -o pid,stat
  [[ "${lines[1]}" =~ ^[0-9]+\ +S ]]  # sleeping, not stopped (T)
  run -125 --separate-stderr skiff unpause sleeper
  [ -z "$output" ]
  [ "$stderr" = "skiff: container sleeper is not paused: skiff cannot pause a container, which is in no cgroup of its own" ]
  run -125 skiff container unpause sleeper
}

@test "pause of a container that is not running says so; each container named gets its line" {
  import_busybox
  skiff run --name done bb true
  skiff run -d --name sleeper bb sleep 1000 >/dev/null
  run -125 --separate-stderr skiff pause done
  [ "$stderr" = "skiff: container done is not running" ]
  run -125 --separate-stderr skiff pause nope sleeper
  [ "${stderr_lines[0]}" = "skiff: no such container: nope" ]
  [[ "${stderr_lines[1]}" == "skiff: cannot pause container sleeper: "* ]]
  [ "${#stderr_lines[@]}" = 2 ]
}
