#!/usr/bin/env bats
# --format (Go templates, table, json) and ps's filters, as docker's.
load helpers

@test "ps --format: fields, table with headers, json lines" {
  import_busybox
  run -3 skiff run --name done3 bb sh -c 'exit 3'
  skiff run -d --name live bb sleep 1000 >/dev/null
  run -0 skiff ps -a --format '{{.Names}} {{.State}}'
  [ "$output" = $'live running\ndone3 exited' ]
  run -0 skiff ps --format 'table {{.Names}}\t{{.State}}'
  [ "${lines[0]}" = "NAMES   STATE" ]
  [ "${lines[1]}" = "live    running" ]
  run -0 skiff ps -a --filter exited=3 --format json
  [[ "$output" == '{'*'"Names":"done3"'*'"State":"exited"'* ]]
  run -0 skiff ps -a --format '{{if eq .State "exited"}}{{.Names}}{{end}}'
  [ "$output" = $'\ndone3' ]
  run -0 skiff ps --format '{{json .Names}} {{upper .Image}} {{len .ID}}'
  [ "$output" = '"live" BB 12' ]
}

@test "ps --filter: status, name, id, ancestor, exited; -n and -l" {
  import_busybox
  skiff tag bb other
  skiff run --name one bb true
  run -1 skiff run --name two other sh -c 'exit 1'
  skiff run -d --name three bb sleep 1000 >/dev/null
  run -0 skiff ps --filter status=exited --format '{{.Names}}'
  [ "$output" = $'two\none' ]
  run -0 skiff ps -a --filter name=thr --format '{{.Names}}'
  [ "$output" = three ]
  id=$(skiff ps -a -q --no-trunc --filter name=one)
  run -0 skiff ps -a --filter "id=${id:0:5}" --format '{{.Names}}'
  [ "$output" = one ]
  run -0 skiff ps -a --filter ancestor=other --format '{{.Names}}'
  [ "$output" = two ]
  run -0 skiff ps -a --filter status=exited --filter status=running --format '{{.Names}}'
  [ "$output" = $'three\ntwo\none' ]
  run -0 skiff ps -a --filter status=exited --filter name=one --format '{{.Names}}'
  [ "$output" = one ]
  run -0 skiff ps -n 2 --format '{{.Names}}'
  [ "$output" = $'three\ntwo' ]
  run -0 skiff ps -l -q
  [ "${#lines[@]}" = 1 ]
  run -125 skiff ps --filter color=red
  [ "${lines[0]}" = 'skiff: invalid filter "color"' ]
  run -125 skiff ps --filter status=asleep
  [[ "${lines[0]}" == *"invalid filter 'status=asleep'"* ]]
}

@test "images --format" {
  import_busybox
  skiff tag bb other:v1
  run -0 skiff images --format '{{.Repository}}:{{.Tag}}'
  [ "$output" = $'bb:latest\nother:v1' ] || [ "$output" = $'other:v1\nbb:latest' ]
  run -0 skiff images --format 'table {{.Repository}}\t{{.Tag}}'
  [ "${lines[0]}" = "REPOSITORY   TAG" ]
  run -0 skiff images --format json
  [ "${#lines[@]}" = 2 ]
  [[ "${lines[0]}" == '{"CreatedAt":'* ]]
}

@test "a --format that does not parse or fails is exit 125 in one line" {
  import_busybox
  skiff run --name x1 bb true
  run -125 skiff ps -a --format '{{.Names'
  [ "${#lines[@]}" = 1 ]
  [[ "$output" == *'invalid format "{{.Names": an action {{ is not closed with }}'* ]]
  run -125 skiff ps -a --format '{{nosuch .Names}}'
  [[ "$output" == *'function "nosuch" not defined'* ]]
  run -125 skiff images --format '{{if .Tag}}'
  [[ "$output" == *'has no {{end}}'* ]]
}

@test "run --label and --label-file: ps shows them and filters by them; the image's labels come first" {
  import_busybox
  mkdir -p "$BATS_TEST_TMPDIR/ctx"
  printf 'FROM bb\nLABEL tier=back owner=img\n' >"$BATS_TEST_TMPDIR/ctx/Dockerfile"
  skiff build -q -t labelled "$BATS_TEST_TMPDIR/ctx" >/dev/null
  printf '# a comment\nfrom=file\n' >"$BATS_TEST_TMPDIR/labels"
  skiff run --name l1 --label tier=front -l app=shop --label-file "$BATS_TEST_TMPDIR/labels" labelled true
  skiff run --name l2 bb true
  run -0 skiff ps -a --filter name=l1 --format '{{.Labels}}'
  [ "$output" = "app=shop,from=file,owner=img,tier=front" ]
  run -0 skiff ps -a --filter label=app --format '{{.Names}}'
  [ "$output" = l1 ]
  run -0 skiff ps -a --filter label=tier=back --format '{{.Names}}'
  [ -z "$output" ]
  run -0 skiff ps -a --filter label=tier=front --format '{{.Names}}'
  [ "$output" = l1 ]
  run -125 skiff run --label '=x' bb true
  [[ "$output" == *'invalid label "=x"'* ]]
  run -125 skiff ps --filter exited=abc
  [[ "$output" == *"an exit code is a number"* ]]
  run -125 skiff ps -q --format '{{.X'
}

@test "run --cidfile writes the id to a new file, and refuses one that exists" {
  import_busybox
  skiff run --cidfile "$BATS_TEST_TMPDIR/cid" --name c1 bb true
  [ "$(cat "$BATS_TEST_TMPDIR/cid")" = "$(skiff ps -a -q --no-trunc --filter name=c1)" ]
  run -125 skiff run --cidfile "$BATS_TEST_TMPDIR/cid" bb true
  [[ "$output" == *"container ID file found"* ]]
  run -0 skiff ps -a -q --filter name=c1
  [ "${#lines[@]}" = 1 ]
  # A container that cannot start leaves no file.
  run -127 skiff run --cidfile "$BATS_TEST_TMPDIR/cid2" bb /no/such
  [ ! -e "$BATS_TEST_TMPDIR/cid2" ]
  id=$(skiff run -d --cidfile "$BATS_TEST_TMPDIR/cid3" bb sleep 1000)
  [ "$(cat "$BATS_TEST_TMPDIR/cid3")" = "$id" ]
}

@test "rename: the new name works everywhere, the old is free; a taken or bad name is refused" {
  import_busybox
  skiff run -d --name before bb sleep 1000 >/dev/null
  skiff run --name other bb true
  run -0 skiff rename before after
  [ -z "$output" ]
  run -0 skiff ps --format '{{.Names}}'
  [ "$output" = after ]
  run -0 skiff stop -t 0 after
  run -125 skiff rename after other
  [[ "$output" == *'the container name "/other" is already in use'* ]]
  run -125 skiff rename after 'bad name'
  [[ "$output" == *"invalid container name"* ]]
  run -125 skiff rename nosuch x2
  [ "$output" = "skiff: no such container: nosuch" ]
  skiff run --name before bb true
  run -0 skiff container rename before again
  run -0 skiff ps -a --format '{{.Names}}'
  [ "$output" = $'again\nother\nafter' ]
}
