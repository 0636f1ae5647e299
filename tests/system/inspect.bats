#!/usr/bin/env bats
# inspect, container inspect and image inspect, as docker's; --format for
# history, info and version.
load helpers

status_of() { skiff inspect -f '{{.State.Status}}' "$1"; }
is_exited() { [ "$(status_of "$1")" = exited ]; }

@test "inspect -f: a running container, then stopped; an exited one keeps its code" {
  import_busybox
  run -3 skiff run --name done3 bb sh -c 'exit 3'
  run -0 skiff inspect -f '{{.State.Status}} {{.State.Running}} {{.State.ExitCode}} {{.State.Pid}}' done3
  [ "$output" = "exited false 3 0" ]
  run -0 skiff inspect -f '{{.State.FinishedAt}}' done3
  [[ "$output" =~ ^20[0-9]{2}-[0-9]{2}-[0-9]{2}T ]]
  id=$(skiff run -d --name live bb sleep 1000)
  run -0 skiff inspect -f '{{.State.Status}} {{.State.Running}} {{.State.FinishedAt}}' live
  [ "$output" = "running true 0001-01-01T00:00:00Z" ]
  run -0 skiff container inspect --format '{{.Id}} {{.Name}} {{.Image}}' live
  [[ "$output" =~ ^$id\ /live\ sha256:[0-9a-f]{64}$ ]]
  pid=$(skiff inspect -f '{{.State.Pid}}' live)
  [ "$pid" -gt 0 ]
  skiff stop -t 1 live >/dev/null
  wait_for is_exited live
  run -0 skiff inspect -f '{{.State.Running}} {{.State.Pid}}' live
  [ "$output" = "false 0" ]
}

@test "inspect: name, labels, env, command, mounts and run's flags" {
  import_busybox
  mkdir "$BATS_TEST_TMPDIR/data"
  skiff run --name cfg --label team=db --label tier=1 -e FOO=bar -w /tmp -u 0:0 --read-only --cap-add NET_ADMIN \
    -v "$BATS_TEST_TMPDIR/data:/data:ro" bb sh -c true
  run -0 skiff inspect -f '{{.Name}}' cfg
  [ "$output" = /cfg ]
  run -0 skiff inspect -f '{{json .Config.Labels}}' cfg
  [ "$output" = '{"team":"db","tier":"1"}' ]
  run -0 skiff inspect -f '{{.Config.Env}}' cfg
  [[ "$output" == '['*'FOO=bar'*']' ]]
  run -0 skiff inspect -f '{{.Path}} {{json .Args}} {{json .Config.Cmd}} {{.Config.Image}}' cfg
  [ "$output" = 'sh ["-c","true"] ["sh","-c","true"] bb' ]
  run -0 skiff inspect -f '{{.Config.WorkingDir}} {{.Config.User}} {{.HostConfig.ReadonlyRootfs}}' cfg
  [ "$output" = '/tmp 0:0 true' ]
  run -0 skiff inspect -f '{{json .HostConfig.CapAdd}} {{.HostConfig.RestartPolicy.Name}} {{.HostConfig.NetworkMode}}' cfg
  [ "$output" = '["CAP_NET_ADMIN"] no slirp4netns' ]
  run -0 skiff inspect -f '{{range .Mounts}}{{.Type}} {{.Source}} {{.Destination}} {{.RW}}{{end}}' cfg
  [ "$output" = "bind $BATS_TEST_TMPDIR/data /data false" ]
}

@test "inspect: a JSON array indented as docker's; -s adds the sizes" {
  import_busybox
  skiff run --name one bb true
  skiff run --name two bb sh -c 'echo hello > /file'
  run -0 skiff inspect one two
  [ "${lines[0]}" = "[" ]
  [ "${lines[1]}" = "    {" ]
  [ "$(printf '%s\n' "$output" | grep -c '^        "Id": ')" = 2 ]
  run -0 skiff container inspect -s -f '{{.SizeRw}}' two
  [ "$output" -ge 6 ]
  run -0 skiff inspect -f '{{.SizeRw}}' two
  [ "$output" = '<no value>' ]
}

@test "inspect: images by the top-level command; --type picks one kind" {
  import_busybox
  skiff run --name bb bb true
  imgid=$(skiff images -q --no-trunc)
  # A container and an image of one name: the container first, as docker.
  run -0 skiff inspect -f '{{.Name}}' bb
  [ "$output" = /bb ]
  run -0 skiff inspect --type image -f '{{.Id}} {{.RepoTags}}' bb
  [ "$output" = "$imgid [bb:latest]" ]
  run -0 skiff image inspect --format '{{.Id}}' bb
  [ "$output" = "$imgid" ]
  run -1 --separate-stderr skiff inspect --type container bb:latest
  [ "$stderr" = "Error: No such container: bb:latest" ]
  run -125 skiff inspect --type volume bb
  [[ "$output" == *'invalid --type "volume"'* ]]
}

@test "inspect: a missing name is said after the objects found, exit 1" {
  import_busybox
  skiff run --name here bb true
  run -1 --separate-stderr skiff inspect -f '{{.Name}}' here missing
  [ "$output" = /here ]
  [ "$stderr" = "Error: No such object: missing" ]
  run -1 --separate-stderr skiff inspect missing
  [ "$output" = "[]" ]
  run -1 --separate-stderr skiff container inspect -f '{{.Name}}' missing here
  [ "$output" = /here ]
  [ "$stderr" = "Error: No such container: missing" ]
}

@test "inspect: a bad template is said alone, exit 125" {
  import_busybox
  skiff run --name here bb true
  run -125 --separate-stderr skiff inspect -f '{{.State' here
  [ -z "$output" ]
  [[ "$stderr" == 'skiff: invalid format "{{.State": '* ]]
  run -125 --separate-stderr skiff container inspect -f '{{if}}' here
  [ -z "$output" ]
  [[ "$stderr" == 'skiff: invalid format '* ]]
}

@test "history, info and version --format" {
  import_busybox
  run -0 skiff history --format '{{.ID}}|{{.CreatedBy}}' bb
  id=$(skiff images -q)
  [ "${lines[0]%%|*}" = "$id" ]
  run -0 skiff history --format 'table {{.ID}}\t{{.Size}}' bb
  [[ "${lines[0]}" == "IMAGE "*"SIZE" ]]
  run -0 skiff history --format json bb
  [[ "${lines[0]}" == '{'*'"CreatedBy":'* ]]
  run -0 skiff info --format '{{.store.imageStore.number}} {{.host.os}}'
  [ "$output" = "1 linux" ]
  run -0 skiff info --format '{{json .}}'
  [[ "$output" == '{"host":'* ]]
  run -0 skiff info --format json
  [[ "$output" == '{"host":'* ]]
  run -0 skiff version --format '{{.Client.Version}}'
  [ -n "$output" ]
  [[ "$(skiff version)" == "Version:      $output"* ]]
  run -125 --separate-stderr skiff version --format '{{.Client'
  [[ "$stderr" == 'skiff: invalid format '* ]]
}
