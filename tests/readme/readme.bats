#!/usr/bin/env bats
# README.md's quick start and examples, run as they stand in README.md (read
# at test time from the fresh clone of HEAD that run-as-user.sh made,
# $README_CLONE: uncommitted edits are not seen), as a user with
# /etc/subuid ranges; sudo is tests/readme/shim/sudo.
#
# The quick start is README.md's first sh block, run whole, in the clone. Every
# other line of README.md's sh blocks is an example, and each has a test
# here named "README: <the line's beginning>": the test runs the line that
# begins so (the longest such beginning among these names wins), in a
# directory holding the files the examples name, or skips it saying why it
# cannot run here. The first test checks that every example line has exactly
# one test and every test one line: an example added to README.md must be
# listed here, run or skipped with a reason; an example edited runs as edited.
#
# The tests named "README: ..." below are the list of README.md's examples,
# each either run or skipped with the reason it cannot run here (the
# network, a host path, CI's own command); TAP output prints it every run.
# A registry on 127.0.0.1:5000, started here, takes the README's push and
# pull; -it runs under script(1); install and uninstall go to a DESTDIR.
#
# The tests run in file order and share the user's store, as the README's
# reader would; each makes what it needs that an earlier one may not have.
bats_require_minimum_version 1.5.0

load ../system/registry_helpers

setup_file() {
  export README="$README_CLONE/README.md"
  # The skiff the quick start builds is the one the examples run as `skiff`.
  export PATH="$README_CLONE/build/src:$PATH"
  export EXAMPLES="$BATS_FILE_TMPDIR/examples" README_DESTDIR="$BATS_FILE_TMPDIR/destdir"
  readme_blocks > "$BATS_FILE_TMPDIR/blocks.tsv"
  map_examples > "$BATS_FILE_TMPDIR/examples.tsv"
  make_examples_dir
}

teardown_file() {
  stop_registries
}

setup() {
  cd "$EXAMPLES"
}

# README.md's sh blocks as "BLOCK<TAB>LINE", blocks counted from 1, a line
# ending in \ joined with the next, blank lines left out.
readme_blocks() {
  awk '
    /^```/ { if (fence) fence = 0; else { fence = 1; sh = ($0 == "```sh"); n += sh }; next }
    fence && sh {
      line = cont $0
      if (line ~ /\\$/) { cont = substr(line, 1, length(line) - 1); next }
      cont = ""
      if (line ~ /[^ ]/) print n "\t" line
    }' "$README"
}

# This file's example keys: the names of its tests after "README: ".
example_keys() {
  sed -n 's/^@test "README: \(.*\)" {$/\1/p' "$BATS_TEST_FILENAME"
}

# Every example (the lines of every sh block but the quick start's) as
# "KEY<TAB>LINE": KEY the longest key the line begins with, else empty.
map_examples() {
  awk -F'\t' '
    NR == FNR { keys[$0]; next }
    $1 == 1 { next }
    {
      best = ""
      for (k in keys) if (index($2, k) == 1 && length(k) > length(best)) best = k
      print best "\t" $2
    }' <(example_keys) "$BATS_FILE_TMPDIR/blocks.tsv"
}

# The directory the examples run in, with the files they name: rootfs.tar
# (Debian's busybox with stand-ins for the programs the examples run:
# /srv/serve, /usr/bin/make, /test), rootfs.tar.gz, vars, a Dockerfile (FROM
# scratch, so --pull=always has nothing to pull) and docker/Dockerfile.dev
# (stages base, test and one that fails if it is built).
make_examples_dir() {
  local stage="$BATS_FILE_TMPDIR/stand-ins"
  mkdir -p "$EXAMPLES/docker" "$stage/srv" "$stage/usr/bin"
  "$BATS_TEST_DIRNAME/../fixtures/make-busybox-rootfs.sh" "$EXAMPLES/rootfs.tar"
  printf '%s\n' '#!/bin/sh' 'echo "serving in $(pwd) as $(id -un), MODE=$MODE, A=$A"' > "$stage/srv/serve"
  # make -C DIR: DIR is there and read-only, /tmp is writable, / is not.
  printf '%s\n' '#!/bin/sh' '[ "$1" = -C ] && cd "$2" && ls >/dev/null && ! touch x 2>/dev/null &&' \
    '  touch /tmp/x && ! touch /x 2>/dev/null && echo made' > "$stage/usr/bin/make"
  printf '%s\n' '#!/bin/sh' 'echo "hostname=$(hostname) pid=$$"' > "$stage/test"
  chmod 0755 "$stage/srv/serve" "$stage/usr/bin/make" "$stage/test"
  tar --numeric-owner --owner=0 --group=0 -C "$stage" -rf "$EXAMPLES/rootfs.tar" ./srv ./usr/bin/make ./test
  gzip -c "$EXAMPLES/rootfs.tar" > "$EXAMPLES/rootfs.tar.gz"
  echo A=from-env-file > "$EXAMPLES/vars"
  printf '%s\n' 'FROM scratch' 'ADD rootfs.tar /' 'RUN echo built > /stamp' 'CMD ["/bin/sh"]' > "$EXAMPLES/Dockerfile"
  printf '%s\n' 'FROM busybox AS base' 'ARG VERSION=1' 'RUN echo "$VERSION" > /version' \
    'FROM base AS test' 'RUN test "$(cat /version)" = 2' \
    'FROM base AS unused' 'RUN exit 1' > "$EXAMPLES/docker/Dockerfile.dev"
}

# Runs the README line this test is named after with bash, in the current
# directory, through bats' run ($status, $output, $lines); prints the line
# and its output, which bats shows if the test fails. EXPECTED-STATUS
# defaults to 0.
run_example() {
  local want=${1:-0} key=${BATS_TEST_DESCRIPTION#README: } line
  line=$(K=$key awk -F'\t' '$1 == ENVIRON["K"] { print $2 }' "$BATS_FILE_TMPDIR/examples.tsv")
  [ -n "$line" ] || { echo "README.md has no example beginning: $key"; return 1; }
  [ -x "$README_CLONE/build/src/skiff" ] || { echo "the quick start built no build/src/skiff"; return 1; }
  echo "\$ $line"
  run bash -c "$line"
  printf '%s\n' "$output"
  [ "$status" -eq "$want" ]
}

# Imports rootfs.tar as NAME unless there is an image of that name.
have_image() {
  skiff image inspect "$1" >/dev/null 2>&1 || skiff import "$EXAMPLES/rootfs.tar" "$1" >/dev/null
}

# A container named web that has run and exited, made anew, which wrote /fixed.
make_web() {
  have_image myimage
  skiff rm -f web >/dev/null 2>&1 || true
  skiff run --name web myimage sh -c 'echo fixed > /fixed'
}

# The value of a field of `skiff image inspect IMAGE` (docker's JSON), as JSON.
inspect_field() {
  skiff image inspect "$1" | python3 -c 'import json, sys; print(json.dumps(eval("json.load(sys.stdin)[0]" + sys.argv[1])))' "$2"
}

# A Distribution registry on 127.0.0.1:5000, where the README's push and pull
# go: started at the first call (its pid goes to stop_registries), or the
# test skips if something else listens there.
registry_5000() {
  local dir="$BATS_FILE_TMPDIR/registry-5000" i code
  [ -d "$dir" ] && return 0
  if (exec 3<>/dev/tcp/127.0.0.1/5000) 2>/dev/null; then skip "127.0.0.1:5000 is taken on this machine"; fi
  mkdir -p "$dir/storage"
  _reg_config "$dir" 5000 "" ""
  _reg_spawn "$dir/registry.log" docker-registry serve "$dir/config.yml"
  for i in $(seq 1 1000); do
    kill -0 "$REG_LAST_PID" 2>/dev/null || break
    code=$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:5000/v2/ 2>/dev/null) || true
    [ -n "$code" ] && [ "$code" != 000 ] && return 0
    sleep 0.01
  done
  cat "$dir/registry.log"
  echo "the registry on 127.0.0.1:5000 did not start"
  return 1
}

@test "every example in README.md has one test here, every test one example" {
  local problems
  problems=$(awk -F'\t' '
    NR == FNR { keys[$0] = 0; next }
    $1 == "" { print "no test here for README line: " $2; next }
    { keys[$1]++ }
    END { for (k in keys) if (keys[k] != 1) print keys[k] " README lines for test \"README: " k "\"" }
    ' <(example_keys) "$BATS_FILE_TMPDIR/examples.tsv")
  echo "$problems"
  [ -z "$problems" ]
}

@test "README quick start: from a fresh clone to hello from skiff" {
  local block
  block=$(awk -F'\t' '$1 == 1 { print $2 }' "$BATS_FILE_TMPDIR/blocks.tsv")
  [ -n "$block" ]
  cd "$README_CLONE"
  echo "\$ $block"
  SECONDS=0
  run bash -e -c "$block"
  echo "# the quick start took ${SECONDS}s" >&3
  printf '%s\n' "$output" | tail -n 60
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" = "hello from skiff" ]
}

@test "README: sudo meson install -C build" {
  cd "$README_CLONE"
  rm -rf "$README_DESTDIR"
  run_example
  local d="$README_DESTDIR/usr/local" expected
  expected=$( (echo "$d/bin/skiff"
    for page in man/*.1; do echo "$d/share/man/man1/${page#man/}"; done
    echo "$d/share/bash-completion/completions/skiff"
    echo "$d/share/zsh/site-functions/_skiff"
    echo "$d/share/fish/vendor_completions.d/skiff.fish") | sort)
  diff -u <(echo "$expected") <(find "$README_DESTDIR" -type f | sort)
  [ -x "$d/bin/skiff" ]
  "$d/bin/skiff" version
}

@test "README: sudo ninja -C build uninstall" {
  cd "$README_CLONE"
  [ -x "$README_DESTDIR/usr/local/bin/skiff" ] || DESTDIR=$README_DESTDIR meson install -C build >/dev/null
  run_example
  [ -z "$(find "$README_DESTDIR" -type f 2>/dev/null)" ]
}

@test "README: sudo tests/ci.sh" {
  skip "CI's own command (.ci/run runs it), which runs this test"
}

@test "README: skiff import rootfs.tar myimage:1.0" {
  run_example
  [[ ${lines[-1]} == sha256:* ]]
  skiff image inspect myimage:1.0 >/dev/null
}

@test "README: skiff import -c 'CMD" {
  run_example
  [ "$(inspect_field app '["Config"]["Cmd"]')" = '["/bin/sh"]' ]
  [[ $(inspect_field app '["Config"]["Env"]') == *'"A=1"'* ]]
}

@test "README: skiff images" {
  have_image myimage:1.0
  run_example
  [[ ${lines[0]} == "REPOSITORY "*"TAG "*"IMAGE ID "*"CREATED "*"SIZE" ]]
  [[ $output == *myimage*1.0* ]]
}

@test "README: skiff tag myimage:1.0 registry.example:5000/team/app:v1" {
  have_image myimage:1.0
  run_example
  [ "$(inspect_field registry.example:5000/team/app:v1 '["Id"]')" = "$(inspect_field myimage:1.0 '["Id"]')" ]
}

@test "README: skiff image inspect myimage:1.0" {
  have_image myimage:1.0
  run_example
  [ "$(inspect_field myimage:1.0 '["RepoTags"][0]')" = '"myimage:1.0"' ]
}

@test "README: skiff rmi myimage:1.0" {
  have_image myimage:1.0
  run_example
  [[ $output == *"Untagged: myimage:1.0"* ]]
  run ! skiff image inspect myimage:1.0
}

@test "README: skiff run --rm myimage echo hi" {
  have_image myimage
  run_example
  [ "$output" = hi ]
}

@test "README: skiff run -it --rm myimage sh" {
  have_image myimage
  command -v script >/dev/null || skip "script(1) is not installed"
  local line
  line=$(K="${BATS_TEST_DESCRIPTION#README: }" awk -F'\t' '$1 == ENVIRON["K"] { print $2 }' "$BATS_FILE_TMPDIR/examples.tsv")
  [ -n "$line" ]
  # -it wants a terminal: script(1) gives it one and types the shell's input.
  run script -qec "$line" /dev/null <<< $'tty\nexit 3'
  printf '%s\n' "$output"
  [ "$status" -eq 3 ]
  [[ $output == */dev/pts/* ]]
}

@test "README: skiff run --name web" {
  have_image myimage
  skiff rm -f web >/dev/null 2>&1 || true
  run_example
  [ "$output" = "serving in /srv as app, MODE=dev, A=from-env-file" ]
}

@test "README: skiff run --rm -v" {
  have_image myimage
  run_example
  [ "$output" = made ]
}

@test "README: skiff run --rm --mount" {
  skip "needs /data on the host; run.bats runs --mount type=bind and type=tmpfs"
}

@test "README: skiff run --rm --userns=keep-id" {
  have_image myimage
  rm -f out
  run_example
  [ "$(stat -c %u:%g out)" = "$(id -u):$(id -g)" ]
}

@test "README: skiff run --rm --network none --init -h box" {
  have_image myimage
  run_example
  [[ $output == "hostname=box pid="* ]]
  [ "$output" != "hostname=box pid=1" ]
}

@test "README: skiff ps -a" {
  make_web
  run_example
  [[ ${lines[0]} == "CONTAINER ID "*"NAMES" ]]
  [[ $output == *" web"* ]]
}

@test "README: skiff rename web server" {
  make_web
  skiff rm -f server >/dev/null 2>&1 || true
  run_example
  [ -z "$output" ]
  run -0 skiff ps -a --format '{{.Names}}' -f name=server
  [ "$output" = server ]
  run -0 skiff ps -a -q -f name=web
  [ -z "$output" ]
}

@test "README: skiff rm server" {
  make_web
  skiff rm -f server >/dev/null 2>&1 || true
  skiff rename web server
  run_example
  [ "$output" = server ]
  run skiff ps -a
  [[ $output != *" server"* ]]
}

@test "README: skiff container prune -f" {
  make_web
  run_example
  [ "${lines[0]}" = "Deleted Containers:" ]
  [[ ${lines[-1]} == "Total reclaimed space: "* ]]
  run -0 skiff ps -a -q -f status=exited
  [ -z "$output" ]
}

@test "README: skiff info" {
  run_example
}

@test "README: skiff version" {
  run_example
  [[ ${lines[0]} == "Version: "* ]]
}

@test "README: skiff unshare rm -rf" {
  mkdir -p ~/.local/share/skiff/containers/xyz
  touch ~/.local/share/skiff/containers/xyz/file
  run_example
  [ ! -e ~/.local/share/skiff/containers/xyz ]
}

@test "README: skiff login -u alice ghcr.io" {
  skip "needs ghcr.io over the network and alice's password"
}

@test "README: skiff tag myimage:1.0 127.0.0.1:5000/team/app:v1" {
  have_image myimage:1.0
  run_example
  skiff image inspect 127.0.0.1:5000/team/app:v1 >/dev/null
}

@test "README: skiff push --tls-verify=false 127.0.0.1:5000/team/app:v1" {
  registry_5000
  have_image myimage:1.0
  skiff tag myimage:1.0 127.0.0.1:5000/team/app:v1
  run_example
  [[ ${lines[-1]} == "v1: digest: sha256:"*" size: "* ]]
}

@test "README: skiff pull --tls-verify=false 127.0.0.1:5000/team/app:v1" {
  registry_5000
  have_image myimage:1.0
  skiff tag myimage:1.0 127.0.0.1:5000/team/app:v1
  skiff push --tls-verify=false 127.0.0.1:5000/team/app:v1 >/dev/null
  skiff rmi 127.0.0.1:5000/team/app:v1 >/dev/null
  run_example
  [ "${lines[-1]}" = 127.0.0.1:5000/team/app:v1 ]
  skiff image inspect 127.0.0.1:5000/team/app:v1 >/dev/null
}

@test "README: skiff pull alpine:3.20" {
  skip "pulls from Docker Hub, over the network"
}

@test "README: skiff pull --platform linux/arm64 ghcr.io/alice/tool@sha256:<hex>" {
  skip "a placeholder digest, on ghcr.io over the network"
}

@test "README: skiff run --rm --pull=always alpine:latest" {
  skip "pulls from Docker Hub, over the network"
}

@test "README: skiff images --digests" {
  run_example
  [[ ${lines[0]} == "REPOSITORY "*"TAG "*"DIGEST "*"IMAGE ID"* ]]
}

@test "README: skiff logout ghcr.io" {
  # As if `skiff login ghcr.io` had been run.
  mkdir -p ~/.config/containers
  echo '{"auths":{"ghcr.io":{"auth":"YWxpY2U6cGFzcw=="}}}' > ~/.config/containers/auth.json
  run_example
  [ "$output" = "Removed login credentials for ghcr.io" ]
}

@test "README: skiff build -t app:1.0 ." {
  run_example
  [[ ${lines[-1]} =~ ^[0-9a-f]{64}$ ]]
  run -0 skiff run --rm app:1.0 cat /stamp
  [ "$output" = built ]
}

@test "README: skiff build -f docker/Dockerfile.dev" {
  have_image busybox
  run_example
  [[ $output != *"RUN exit 1"* ]]
  run -0 skiff run --rm app:test cat /version
  [ "$output" = 2 ]
}

@test "README: skiff build --no-cache --pull=always -q --iidfile id.txt ." {
  rm -f id.txt
  run_example
  [ "${#lines[@]}" = 1 ]
  [ "$(cat id.txt)" = "sha256:${lines[0]}" ] || [ "$(cat id.txt)" = "${lines[0]}" ]
}

@test "README: printf 'FROM busybox" {
  have_image busybox
  run_example
  run -0 skiff run --rm tool cat /stamp
  [ "$output" = built ]
}

@test "README: skiff history app:1.0" {
  run_example
  [[ ${lines[0]} == "IMAGE "*"CREATED "*"CREATED BY "*"SIZE "*"COMMENT" ]]
  [[ $output == *"echo built > /stamp"* ]]
}

@test "README: skiff commit" {
  make_web
  run_example
  [ "$(inspect_field app:hotfix '["Config"]["Cmd"]')" = '["/serve"]' ]
  [ "$(inspect_field app:hotfix '["Comment"]')" = '"fixed by hand"' ]
}

@test "README: skiff diff web" {
  make_web
  run_example
  [[ $output == *"A /fixed"* ]]
}

@test "README: skiff save -o images.tar" {
  have_image myimage:1.0
  have_image app
  run_example
  tar -tf images.tar | grep -qx manifest.json
}

@test "README: skiff save --format oci-archive" {
  have_image myimage:1.0
  run_example
  gzip -dc myimage.oci.tar.gz | tar -t | grep -qx index.json
}

@test "README: skiff load -i images.tar" {
  have_image myimage:1.0
  have_image app
  [ -f images.tar ] || skiff save -o images.tar myimage:1.0 app
  run_example
  [[ $output == *"Loaded image: myimage:1.0"* ]]
  [[ $output == *"Loaded image: app:latest"* ]]
}

@test "README: skiff export web" {
  make_web
  run_example
  [ "$(skiff run --rm web-flat cat /fixed)" = fixed ]
}

@test "README: skiff system reset" {
  have_image myimage
  [ -d ~/.local/share/skiff ]
  run_example 0 <<< y
  [ ! -e ~/.local/share/skiff ]
}

@test "meson install with --prefix=/usr puts files where Debian's packages do" {
  cd "$README_CLONE"
  local d="$BATS_TEST_TMPDIR/destdir"
  meson configure build -Dprefix=/usr >/dev/null
  meson install -C build --destdir "$d" >/dev/null
  [ -x "$d/usr/bin/skiff" ]
  [ -f "$d/usr/share/man/man1/skiff-run.1" ]
  [ -f "$d/usr/share/bash-completion/completions/skiff" ]
  [ -f "$d/usr/share/zsh/vendor-completions/_skiff" ]
  [ -f "$d/usr/share/fish/vendor_completions.d/skiff.fish" ]
}
