#!/usr/bin/env bats
# attach: joining a detached container's output and input through its monitor.
load helpers

is_running() { skiff ps -q --no-trunc | grep -qx "$1"; }
log_has() { skiff logs "$1" 2>/dev/null | grep -qx "$2"; }

@test "attach shows the output from now on and ends with the container's exit status" {
  import_busybox
  skiff run -d --name ticker bb sh -c 'while [ ! -e /go ]; do echo tick; sleep 0.05; done; echo second; exit 7' >/dev/null
  out="$BATS_TEST_TMPDIR/out"
  skiff attach ticker >"$out" 2>&1 & pid=$!
  wait_for grep -q tick "$out"
  # -d: the container ends as soon as /go is there, and takes a touch that
  # has not exited yet down with it (137); this exec's status is not the test's.
  skiff exec -d ticker touch /go
  status=0
  wait "$pid" || status=$?
  [ "$status" = 7 ]
  [ "$(tail -1 "$out")" = second ]
}

@test "attach -i: standard input reaches a container run with -di, stdout and stderr stay apart" {
  import_busybox
  skiff run -di --name echoer bb sh -c 'while read l; do echo "got $l"; echo "err $l" >&2; [ "$l" = quit ] && exit 5; done' >/dev/null
  run -5 --separate-stderr skiff attach echoer < <(printf 'hello\nquit\n')
  [ "$output" = $'got hello\ngot quit' ]
  [ "$stderr" = $'err hello\nerr quit' ]
  run -0 --separate-stderr skiff logs echoer
  [ "$output" = $'got hello\ngot quit' ]
}

@test "the detach keys leave the container running: exit 1 and docker's words; --detach-keys" {
  import_busybox
  id=$(skiff run -di --name cat1 bb cat)
  run -1 --separate-stderr skiff attach cat1 < <(printf 'one\n\020\021')
  [ "$stderr" = "read escape sequence" ]
  is_running "$id"
  run -1 --separate-stderr skiff attach --detach-keys ctrl-x,q cat1 < <(printf 'two\n\030q')
  [ "$stderr" = "read escape sequence" ]
  is_running "$id"
  wait_for log_has cat1 two
  # --no-stdin: the keys are not read, the input not passed on.
  skiff attach --no-stdin cat1 < <(printf 'three\n') & pid=$!
  skiff stop -t 0 cat1 >/dev/null
  wait "$pid" || true
  run -0 skiff logs cat1
  [ "$output" = $'one\ntwo' ]
}

@test "attach -t: the container's terminal, its size, and typing exit in it" {
  command -v script >/dev/null || skip "script (bsdutils) is not installed"
  import_busybox
  skiff run -dit --name term bb sh >/dev/null
  out="$BATS_TEST_TMPDIR/out"
  (sleep 0.3; printf 'stty size; echo hi-$((6*7)); exit 3\n'; sleep 2) |
    script -qec "stty rows 33 cols 77; $SKIFF attach term" /dev/null >"$out" || status=$?
  [ "${status:-0}" = 3 ]
  grep -q '^hi-42' "$out"
  grep -q '^33 77' "$out"
  run -0 skiff ps -a --format '{{.Status}}'
  [[ "$output" == "Exited (3) "* ]]
}

@test "attach: a stopped container, a foreground one and bad keys are one sentence and exit 125" {
  import_busybox
  skiff create --name made bb true >/dev/null
  run -125 skiff attach made
  [ "$output" = "skiff: you cannot attach to a stopped container, start it first" ]
  skiff run -d --name bg bb sleep 1000 >/dev/null
  run -125 skiff attach --detach-keys ctrl-9 bg
  [ "$output" = "skiff: invalid detach keys (ctrl-9) provided" ]
  run -125 skiff attach nosuch
  [ "$output" = "skiff: no such container: nosuch" ]
  skiff rm -f bg >/dev/null
}
