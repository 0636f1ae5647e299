#!/usr/bin/env bats
# skiff import, images, tag, rmi, image inspect, and layers that try to leave
# the store.
load helpers

# The field EXPR (Python, over d = the first inspected image) of image IMAGE,
# printed as text for a string and as JSON otherwise.
inspect_field() {
  "$SKIFF" image inspect "$1" |
    python3 -c 'import json, sys; d = json.load(sys.stdin)[0]; v = eval(sys.argv[1]); print(v if isinstance(v, str) else json.dumps(v))' "$2"
}

# True if DIR is absent or empty.
empty_dir() { [ ! -d "$1" ] || [ -z "$(ls -A "$1")" ]; }

# The store holds no image and nothing half-written.
store_is_empty() {
  run -0 skiff images -q
  [ "$output" = "" ]
  empty_dir "$SKIFF_ROOT/blobs/sha256"
  [ -z "$(find "$SKIFF_ROOT/tmp" -mindepth 1 2>/dev/null)" ]
}

# Column COL's text in a table row: the row's characters from where COL starts
# in the header, up to the next run of two spaces.
column() {
  local header=$1 row=$2 col=$3 before
  before=${header%%"$col"*}
  local cell=${row:${#before}}
  echo "${cell%%  *}"
}

# --- import --------------------------------------------------------------------

@test "import FILE NAME prints the new image's ID, which images lists" {
  run -0 skiff import "$SKIFF_TEST_FIXTURES/busybox.tar" bb
  [[ "$output" =~ ^sha256:[0-9a-f]{64}$ ]]
  local id=$output
  run -0 skiff images -q --no-trunc
  [ "$output" = "$id" ]
  run -0 --separate-stderr skiff run --rm bb echo ok
  [ "$output" = ok ]
}

@test "import - reads the tarball from standard input" {
  run -0 skiff import - fromstdin < "$SKIFF_TEST_FIXTURES/busybox.tar"
  [[ "$output" =~ ^sha256:[0-9a-f]{64}$ ]]
  run -0 --separate-stderr skiff run --rm fromstdin echo ok
  [ "$output" = ok ]
}

@test "import takes gzip, zstd and xz compressed tarballs: same layer as the plain tar" {
  import_busybox plain
  local layers
  layers=$(inspect_field plain 'd["RootFS"]["Layers"]')
  local tar=$SKIFF_TEST_FIXTURES/busybox.tar
  gzip -c "$tar" > "$BATS_TEST_TMPDIR/bb.tar.gz"
  zstd -q -c "$tar" > "$BATS_TEST_TMPDIR/bb.tar.zst"
  xz -0 -c "$tar" > "$BATS_TEST_TMPDIR/bb.tar.xz"
  local ext
  for ext in gz zst xz; do
    run -0 skiff import "$BATS_TEST_TMPDIR/bb.tar.$ext" "bb-$ext"
    [[ "$output" =~ ^sha256:[0-9a-f]{64}$ ]]
    run -0 inspect_field "bb-$ext" 'd["RootFS"]["Layers"]'
    [ "$output" = "$layers" ]
    run -0 --separate-stderr skiff run --rm "bb-$ext" cat /etc/hostname /etc/passwd
    [[ "$output" == *"app:x:1000:1000"* ]]
  done
}

@test "import without a name makes an image listed as <none>, which tag can name" {
  run -0 skiff import "$SKIFF_TEST_FIXTURES/busybox.tar"
  local id=$output
  run -0 skiff images
  [ "${#lines[@]}" -eq 2 ]
  [[ "${lines[1]}" =~ ^\<none\>\ +\<none\>\ +${id:7:12}\  ]]
  run -0 skiff tag "${id:7:12}" named
  run -0 skiff images
  [[ "${lines[1]}" =~ ^named\ +latest\ +${id:7:12}\  ]]
}

@test "image import is the same command" {
  run -0 skiff image import -c 'CMD ["echo","hi"]' "$SKIFF_TEST_FIXTURES/busybox.tar" viaimage
  [[ "$output" =~ ^sha256:[0-9a-f]{64}$ ]]
  run -0 --separate-stderr skiff run --rm viaimage
  [ "$output" = hi ]
}

# --- import --change and --message ---------------------------------------------

@test "import -c CMD sets the default command" {
  skiff import -c 'CMD ["echo","hi"]' "$SKIFF_TEST_FIXTURES/busybox.tar" bb >/dev/null
  run -0 inspect_field bb 'd["Config"]["Cmd"]'
  [ "$output" = '["echo", "hi"]' ]
  run -0 --separate-stderr skiff run --rm bb
  [ "$output" = hi ]
  # A command given to run replaces it.
  run -0 --separate-stderr skiff run --rm bb echo other
  [ "$output" = other ]
}

@test "import -c CMD in shell form runs through /bin/sh -c" {
  skiff import -c 'CMD echo $((6*7))' "$SKIFF_TEST_FIXTURES/busybox.tar" bb >/dev/null
  run -0 inspect_field bb 'd["Config"]["Cmd"]'
  [ "$output" = '["/bin/sh", "-c", "echo $((6*7))"]' ]
  run -0 --separate-stderr skiff run --rm bb
  [ "$output" = 42 ]
}

@test "import -c ENV sets environment variables" {
  skiff import -c 'ENV A=1 B=2' "$SKIFF_TEST_FIXTURES/busybox.tar" bb >/dev/null
  run -0 inspect_field bb 'd["Config"]["Env"]'
  [ "$output" = '["A=1", "B=2"]' ]
  run -0 --separate-stderr skiff run --rm bb sh -c 'echo "$A $B"'
  [ "$output" = "1 2" ]
}

@test "import -c WORKDIR sets the working directory" {
  skiff import -c 'WORKDIR /tmp' "$SKIFF_TEST_FIXTURES/busybox.tar" bb >/dev/null
  run -0 inspect_field bb 'd["Config"]["WorkingDir"]'
  [ "$output" = /tmp ]
  run -0 --separate-stderr skiff run --rm bb pwd
  [ "$output" = /tmp ]
}

@test "import -c ENTRYPOINT: the command's arguments follow the entrypoint" {
  skiff import -c 'ENTRYPOINT ["echo","ep"]' -c 'CMD ["default"]' "$SKIFF_TEST_FIXTURES/busybox.tar" bb >/dev/null
  run -0 inspect_field bb 'd["Config"]["Entrypoint"]'
  [ "$output" = '["echo", "ep"]' ]
  run -0 --separate-stderr skiff run --rm bb
  [ "$output" = "ep default" ]
  run -0 --separate-stderr skiff run --rm bb x y
  [ "$output" = "ep x y" ]
}

@test "import -c USER sets the user the command runs as" {
  skiff import -c 'USER app' "$SKIFF_TEST_FIXTURES/busybox.tar" bb >/dev/null
  run -0 inspect_field bb 'd["Config"]["User"]'
  [ "$output" = app ]
  if has_subuid; then
    run -0 --separate-stderr skiff run --rm bb id
    [ "$output" = "uid=1000(app) gid=1000(app) groups=50(staff)" ]
  else
    # Only root exists in a single-id user namespace.
    run -125 --separate-stderr skiff run --rm bb id
    [[ "$stderr" == *"user 1000:1000 does not exist in the container's user namespace"* ]]
  fi
}

@test "import -c can be given several times; all of it shows in image inspect" {
  skiff import -c 'CMD ["echo","hi"]' -c 'ENV A=1 B=2' -c 'WORKDIR /tmp' -c 'USER app' \
    -c 'LABEL k=v' -c 'EXPOSE 80' "$SKIFF_TEST_FIXTURES/busybox.tar" bb >/dev/null
  run -0 inspect_field bb 'd["Config"]'
  [ "$output" = '{"Cmd": ["echo", "hi"], "Env": ["A=1", "B=2"], "ExposedPorts": {"80/tcp": {}}, "Labels": {"k": "v"}, "User": "app", "WorkingDir": "/tmp"}' ]
}

@test "import -m sets the image's comment" {
  skiff import -m "built by hand" "$SKIFF_TEST_FIXTURES/busybox.tar" bb >/dev/null
  run -0 inspect_field bb 'd["Comment"]'
  [ "$output" = "built by hand" ]
  run -0 inspect_field bb 'd["History"][-1]["comment"]'
  [ "$output" = "built by hand" ]
  # Without -m there is none.
  skiff import "$SKIFF_TEST_FIXTURES/busybox.tar" plain >/dev/null
  run -0 inspect_field plain 'd["Comment"]'
  [ "$output" = "" ]
}

# --- import errors: exit 125, one line, nothing left behind ---------------------

@test "import: an unknown --change instruction is exit 125 with one clear line" {
  run -125 skiff import -c 'FROB x' "$SKIFF_TEST_FIXTURES/busybox.tar" bb
  [ "${#lines[@]}" -eq 1 ]
  [[ "$output" == 'skiff: invalid change "FROB x": "FROB" cannot be used here: '* ]]
  store_is_empty
}

@test "import: a file that is not a tarball is exit 125 and leaves nothing behind" {
  echo "just some text" > "$BATS_TEST_TMPDIR/notatar.txt"
  run -125 skiff import "$BATS_TEST_TMPDIR/notatar.txt" bad
  [ "$output" = "skiff: not a tar archive: Unrecognized archive format" ]
  store_is_empty
  # The same from standard input, and compressed.
  run -125 skiff import - bad < "$BATS_TEST_TMPDIR/notatar.txt"
  gzip -c "$BATS_TEST_TMPDIR/notatar.txt" > "$BATS_TEST_TMPDIR/notatar.gz"
  run -125 skiff import "$BATS_TEST_TMPDIR/notatar.gz" bad
  [[ "$output" == "skiff: not a tar archive: "* ]]
  store_is_empty
}

@test "import: a truncated tarball is exit 125 and leaves nothing behind" {
  head -c 100000 "$SKIFF_TEST_FIXTURES/busybox.tar" > "$BATS_TEST_TMPDIR/short.tar"
  run -125 skiff import "$BATS_TEST_TMPDIR/short.tar" short
  [[ "$output" == "skiff: not a tar archive: Truncated"* ]]
  store_is_empty
}

@test "import: a missing file is exit 125 and names the path" {
  run -125 skiff import "$BATS_TEST_TMPDIR/no-such.tar" bb
  [ "$output" = "skiff: open $BATS_TEST_TMPDIR/no-such.tar: no such file or directory" ]
  store_is_empty
}

@test "import: an invalid name is exit 125 and stores nothing" {
  run -125 skiff import "$SKIFF_TEST_FIXTURES/busybox.tar" UPPER
  [[ "$output" == 'skiff: invalid reference format: "UPPER"'* ]]
  store_is_empty
}

# --- images --------------------------------------------------------------------

@test "images: a header and one aligned row per name" {
  run -0 skiff import "$SKIFF_TEST_FIXTURES/busybox.tar" bb
  local id=${output:7:12}
  run -0 skiff images
  [ "${#lines[@]}" -eq 2 ]
  [[ "${lines[0]}" =~ ^REPOSITORY\ {2,}TAG\ {2,}IMAGE\ ID\ {2,}CREATED\ {2,}SIZE$ ]]
  [ "$(column "${lines[0]}" "${lines[1]}" REPOSITORY)" = bb ]
  [ "$(column "${lines[0]}" "${lines[1]}" TAG)" = latest ]
  [ "$(column "${lines[0]}" "${lines[1]}" "IMAGE ID")" = "$id" ]
  [[ "$(column "${lines[0]}" "${lines[1]}" CREATED)" =~ (Less\ than\ a\ second|[0-9]+\ seconds?)\ ago ]]
  [[ "$(column "${lines[0]}" "${lines[1]}" SIZE)" =~ ^[0-9.]+MB$ ]]
}

@test "images shows docker.io/library names short and other registries in full" {
  import_busybox
  skiff tag bb docker.io/library/lib:1
  skiff tag bb docker.io/someone/thing:2
  skiff tag bb quay.io/org/tool:3
  run -0 skiff images
  [ "${#lines[@]}" -eq 5 ]
  [[ "$output" =~ $'\n'lib\ +1\  ]]
  [[ "$output" =~ $'\n'someone/thing\ +2\  ]]
  [[ "$output" =~ $'\n'quay.io/org/tool\ +3\  ]]
}

@test "images -q prints short IDs, one per line, each image once" {
  import_busybox
  import_busybox other
  skiff tag bb bb:second
  run -0 skiff images -q
  [ "${#lines[@]}" -eq 2 ]
  [[ "${lines[0]}" =~ ^[0-9a-f]{12}$ ]]
  [[ "${lines[1]}" =~ ^[0-9a-f]{12}$ ]]
  [ "${lines[0]}" != "${lines[1]}" ]
}

@test "images --no-trunc prints whole IDs" {
  run -0 skiff import "$SKIFF_TEST_FIXTURES/busybox.tar" bb
  local id=$output
  run -0 skiff images --no-trunc
  [[ "${lines[1]}" =~ ^bb\ +latest\ +$id\ {2,} ]]
  run -0 skiff images -q --no-trunc
  [ "$output" = "$id" ]
}

@test "images --digests adds a DIGEST column" {
  import_busybox
  run -0 skiff images --digests
  [[ "${lines[0]}" =~ ^REPOSITORY\ {2,}TAG\ {2,}DIGEST\ {2,}IMAGE\ ID\ {2,}CREATED\ {2,}SIZE$ ]]
  # An imported image was never pushed or pulled: it has no digest.
  [ "$(column "${lines[0]}" "${lines[1]}" DIGEST)" = "<none>" ]
  [[ "$(column "${lines[0]}" "${lines[1]}" "IMAGE ID")" =~ ^[0-9a-f]{12}$ ]]
}

@test "images REPOSITORY[:TAG] lists only that repository" {
  import_busybox
  import_busybox other
  skiff tag other other:2
  run -0 skiff images other
  [ "${#lines[@]}" -eq 3 ]
  [[ "${lines[1]}" =~ ^other\  ]]
  [[ "${lines[2]}" =~ ^other\  ]]
  run -0 skiff images other:2
  [ "${#lines[@]}" -eq 2 ]
  [[ "${lines[1]}" =~ ^other\ +2\  ]]
  run -0 skiff images -q bb
  [ "$output" = "$(skiff images -q --no-trunc bb | cut -c8-19)" ]
  [ "${#lines[@]}" -eq 1 ]
  # No match: the header only.
  run -0 skiff images nothing
  [ "${#lines[@]}" -eq 1 ]
  [[ "${lines[0]}" == REPOSITORY* ]]
}

@test "image ls and image list are the same as images" {
  import_busybox
  local want
  want=$(skiff images -q)
  run -0 skiff image ls -q
  [ "$output" = "$want" ]
  run -0 skiff image list -q
  [ "$output" = "$want" ]
  run -0 skiff image ls
  [[ "${lines[1]}" =~ ^bb\ +latest\  ]]
}

# --- tag -----------------------------------------------------------------------

@test "tag gives an image another name with the same ID" {
  import_busybox
  run -0 skiff tag bb other:1
  [ "$output" = "" ]
  run -0 skiff images
  [ "${#lines[@]}" -eq 3 ]
  local id
  id=$(skiff images -q)
  [[ "$output" =~ $'\n'bb\ +latest\ +$id\  ]]
  [[ "$output" =~ $'\n'other\ +1\ +$id\  ]]
  run -0 inspect_field other:1 'd["RepoTags"]'
  [ "$output" = '["bb:latest", "other:1"]' ]
}

@test "tag moves a name from the image that had it" {
  run -0 skiff import "$SKIFF_TEST_FIXTURES/busybox.tar" first
  local first=${output:7:12}
  run -0 skiff import "$SKIFF_TEST_FIXTURES/busybox.tar" second
  local second=${output:7:12}
  skiff tag first second
  run -0 skiff images
  [ "${#lines[@]}" -eq 4 ]
  [[ "$output" =~ $'\n'first\ +latest\ +$first\  ]]
  [[ "$output" =~ $'\n'second\ +latest\ +$first\  ]]
  # The image that lost its only name is left without one.
  [[ "$output" =~ $'\n'\<none\>\ +\<none\>\ +$second\  ]]
}

@test "image tag is the same command" {
  import_busybox
  run -0 skiff image tag bb via:image
  run -0 skiff images via
  [[ "${lines[1]}" =~ ^via\ +image\  ]]
}

@test "tag: an unknown source image is exit 125" {
  run -125 skiff tag nope other
  [ "$output" = "skiff: no such image: nope" ]
}

@test "tag: references are normalised, and invalid ones refused" {
  import_busybox
  run -0 skiff tag bb localhost:5000/ns/app:v1
  run -0 skiff images localhost:5000/ns/app
  [[ "${lines[1]}" =~ ^localhost:5000/ns/app\ +v1\  ]]
  # The same image under its full docker.io name is the short one.
  run -0 skiff tag bb docker.io/library/bb:latest
  run -0 skiff images bb
  [ "${#lines[@]}" -eq 2 ]
  run -125 skiff tag bb UPPER
  [[ "$output" == 'skiff: invalid reference format: "UPPER"'* ]]
  run -125 skiff tag bb 'bad name'
  [[ "$output" == 'skiff: invalid reference format: '* ]]
  run -125 skiff tag bb bb:-tag
  [[ "$output" == 'skiff: invalid reference format: '* ]]
  # A registry host is a host name (it names a certs.d/HOST/ directory).
  local bad
  for bad in ..:5000/x ../x .../x a..b/x; do
    run -125 skiff tag bb "$bad"
    [[ "$output" == "skiff: invalid reference format: \"$bad\": \"${bad%%/*}\" is not a registry host name ("* ]]
  done
  run -125 skiff pull ..:5000/x
  [[ "$output" == 'skiff: invalid reference format: "..:5000/x": "..:5000" is not a registry host name ('* ]]
  run -125 skiff push bb ..:5000/x
  [[ "$output" == 'skiff: invalid reference format: "..:5000/x": "..:5000" is not a registry host name ('* ]]
  run -0 skiff images -q
  [ "${#lines[@]}" -eq 1 ]
}

# --- rmi -----------------------------------------------------------------------

@test "rmi of one of two names untags it; the image stays under the other" {
  import_busybox
  local id
  id=$(skiff images -q)
  skiff tag bb other:1
  run -0 skiff rmi other:1
  [ "$output" = "Untagged: other:1" ]
  run -0 skiff images
  [ "${#lines[@]}" -eq 2 ]
  [[ "${lines[1]}" =~ ^bb\ +latest\ +$id\  ]]
}

@test "rmi of the last name deletes the image and its blobs" {
  run -0 skiff import "$SKIFF_TEST_FIXTURES/busybox.tar" bb
  local id=$output
  [ -n "$(ls -A "$SKIFF_ROOT/blobs/sha256")" ]
  run -0 skiff rmi bb
  [ "${lines[0]}" = "Untagged: bb:latest" ]
  [ "${lines[1]}" = "Deleted: $id" ]
  [ "${#lines[@]}" -eq 2 ]
  store_is_empty
}

@test "rmi also removes the layers a run unpacked" {
  import_busybox
  skiff run --rm bb true 2>/dev/null
  [ -n "$(ls -A "$SKIFF_ROOT/layers")" ]
  run -0 skiff rmi bb
  empty_dir "$SKIFF_ROOT/layers"
  store_is_empty
}

@test "rmi by ID of an image with two names must be forced" {
  run -0 skiff import "$SKIFF_TEST_FIXTURES/busybox.tar" bb
  local id=$output
  skiff tag bb other:1
  run -125 skiff rmi "${id:7:12}"
  [ "$output" = "skiff: conflict: unable to delete ${id:7:12} (must be forced) - image is referenced in multiple repositories" ]
  run -0 skiff images -q
  [ "${#lines[@]}" -eq 1 ]
  run -0 skiff rmi -f "${id:7:12}"
  [ "${lines[0]}" = "Untagged: bb:latest" ]
  [ "${lines[1]}" = "Untagged: other:1" ]
  [ "${lines[2]}" = "Deleted: $id" ]
  store_is_empty
}

@test "rmi by ID of an image with one name deletes it" {
  run -0 skiff import "$SKIFF_TEST_FIXTURES/busybox.tar" bb
  local id=$output
  run -0 skiff rmi "$id"
  [ "${lines[0]}" = "Untagged: bb:latest" ]
  [ "${lines[1]}" = "Deleted: $id" ]
  store_is_empty
}

@test "rmi of an image a container uses must be forced, and then only untags it" {
  import_busybox
  skiff run --name user1 bb true 2>/dev/null
  local cid id
  cid=$(skiff ps -aq)
  id=$(skiff images -q)
  run -125 skiff rmi bb
  [ "$output" = "skiff: conflict: unable to delete bb:latest (must be forced) - container $cid is using its referenced image $id" ]
  run -125 skiff rmi "$id"
  [ "$output" = "skiff: conflict: unable to delete $id (must be forced) - image is being used by stopped container $cid" ]
  run -0 skiff images -q
  [ "$output" = "$id" ]
  # Forced, the name goes; the image stays while the container needs it.
  run -0 skiff rmi -f bb
  [ "$output" = "Untagged: bb:latest" ]
  run -0 skiff images
  [[ "${lines[1]}" =~ ^\<none\>\ +\<none\>\ +$id\  ]]
  run -0 skiff ps -aq
  [ "$output" = "$cid" ]
  run -125 skiff rmi -f "$id"
  [ "$output" = "skiff: conflict: unable to delete $id (cannot be forced) - image is being used by stopped container $cid" ]
  run -0 skiff commit user1 saved
  skiff rmi saved >/dev/null
  run -0 skiff rm user1
  run -0 skiff rmi "$id"
  [[ "$output" =~ ^Deleted:\ sha256:$id[0-9a-f]{52}$ ]]
  run -0 skiff images -q
  [ "$output" = "" ]
  empty_dir "$SKIFF_ROOT/blobs/sha256"
}

@test "rmi: the image of a running container cannot be removed, even forced" {
  import_busybox
  "$SKIFF" run --name busy bb sh -c 'echo ready; exec sleep 100' > "$BATS_TEST_TMPDIR/out" &
  local pid=$!
  wait_for grep -q ready "$BATS_TEST_TMPDIR/out"
  local cid id
  cid=$(skiff ps -q)
  id=$(skiff images -q)
  run -125 skiff rmi -f "$id"
  [ "$output" = "skiff: conflict: unable to delete $id (cannot be forced) - image is being used by running container $cid" ]
  run -125 skiff rmi bb
  [ "$output" = "skiff: conflict: unable to delete bb:latest (must be forced) - container $cid is using its referenced image $id" ]
  run -0 skiff images -q
  [ "$output" = "$id" ]
  # By name, forced: untagged, as docker does; the image stays.
  run -0 skiff rmi -f bb
  [ "$output" = "Untagged: bb:latest" ]
  run -0 skiff images -q
  [ "$output" = "$id" ]
  run -0 skiff rm -f busy
  wait $pid || true
}

@test "rmi of an unknown image is exit 125 and names it" {
  run -125 skiff rmi nope
  [ "$output" = "skiff: no such image: nope" ]
}

@test "rmi of several images removes the ones that exist and is exit 125" {
  import_busybox
  run -125 --separate-stderr skiff rmi nope bb
  [ "$stderr" = "skiff: no such image: nope" ]
  [ "${lines[0]}" = "Untagged: bb:latest" ]
  store_is_empty
}

@test "rmi of one of two images that share a layer keeps the other whole" {
  import_busybox one
  import_busybox two
  skiff run --rm one true 2>/dev/null
  run -0 skiff rmi one
  run -0 --separate-stderr skiff run --rm two echo still here
  [ "$output" = "still here" ]
}

@test "image rm is the same as rmi" {
  import_busybox
  run -0 skiff image rm bb
  [ "${lines[0]}" = "Untagged: bb:latest" ]
  [[ "${lines[1]}" =~ ^Deleted:\ sha256:[0-9a-f]{64}$ ]]
  store_is_empty
}

# --- image inspect -------------------------------------------------------------

@test "image inspect shows the ID, names, layers and platform as JSON" {
  run -0 skiff import "$SKIFF_TEST_FIXTURES/busybox.tar" bb
  local id=$output
  run -0 inspect_field bb 'd["Id"]'
  [ "$output" = "$id" ]
  run -0 inspect_field bb 'd["RepoTags"]'
  [ "$output" = '["bb:latest"]' ]
  run -0 inspect_field bb 'len(d["RootFS"]["Layers"])'
  [ "$output" = 1 ]
  run -0 inspect_field bb 'd["RootFS"]["Layers"][0]'
  [[ "$output" =~ ^sha256:[0-9a-f]{64}$ ]]
  # The layer ID is the digest of the uncompressed tar.
  [ "$output" = "sha256:$(sha256sum < "$SKIFF_TEST_FIXTURES/busybox.tar" | cut -d' ' -f1)" ]
  run -0 inspect_field bb 'd["Os"]'
  [ "$output" = linux ]
  # The platform skiff runs on, as skiff version names it.
  local arch
  arch=$(skiff version | sed -n 's|^OS/Arch: *linux/||p')
  run -0 inspect_field bb 'd["Architecture"]'
  [ "$output" = "$arch" ]
  # By ID too.
  run -0 inspect_field "${id:7:12}" 'd["Id"]'
  [ "$output" = "$id" ]
}

@test "image inspect of an unknown image is exit 125" {
  run -125 --separate-stderr skiff image inspect nope
  [ "$stderr" = "skiff: no such image: nope" ]
  [ "$output" = "[]" ]
}

# --- layers that try to leave the store (tests/fixtures/make-hostile-tarballs.sh)

outside_is_untouched() {
  [ -z "$(ls -A "$BATS_TEST_TMPDIR/outside")" ]
  [ ! -e "$BATS_TEST_TMPDIR/escape" ]
  [ ! -e "$SKIFF_ROOT/escape" ]
}

@test "hostile layer: a '../' entry is refused at import" {
  make_hostile
  run -125 skiff import "$BATS_TEST_TMPDIR/hostile/dotdot.tar" evil
  [ "$output" = 'skiff: path "../escape" in layer leaves the layer ("..")' ]
  store_is_empty
  outside_is_untouched
  [ -z "$(find "$BATS_TEST_TMPDIR" -name escape)" ]
}

@test "hostile layer: an absolute entry is refused at import" {
  make_hostile
  run -125 skiff import "$BATS_TEST_TMPDIR/hostile/absolute.tar" evil
  [ "$output" = 'skiff: absolute path "/abs" in layer' ]
  store_is_empty
}

@test "hostile layer: a hard link to a path outside is refused at import" {
  make_hostile
  run -125 skiff import "$BATS_TEST_TMPDIR/hostile/hardlink-dotdot.tar" evil
  [ "$output" = 'skiff: path "../../etc/passwd" in layer leaves the layer ("..")' ]
  store_is_empty
  run -125 skiff import "$BATS_TEST_TMPDIR/hostile/hardlink-abs.tar" evil
  [ "$output" = 'skiff: absolute path "/etc/passwd" in layer' ]
  store_is_empty
}

@test "hostile layer: a file written through an absolute symlink fails the run" {
  make_hostile
  # Symlinks may point anywhere, so the import takes it ...
  run -0 skiff import "$BATS_TEST_TMPDIR/hostile/symlink-abs.tar" evil
  # ... but unpacking a file through it fails, every time.
  local try
  for try in 1 2; do
    run -125 --separate-stderr skiff run --rm evil true
    [[ "$stderr" =~ layer\ entry\ \"evil/pwned\":\ \"evil\"\ leads\ outside\ the\ layer\ through\ a\ symlink$ ]]
    outside_is_untouched
  done
  # Nothing half-made is left: no container, no layer, no temporary files.
  run -0 skiff ps -aq
  [ "$output" = "" ]
  empty_dir "$SKIFF_ROOT/layers"
  [ -z "$(find "$SKIFF_ROOT/tmp" -mindepth 1)" ]
}

@test "hostile layer: a file written through a '../' symlink fails the run" {
  make_hostile
  run -0 skiff import "$BATS_TEST_TMPDIR/hostile/symlink-rel.tar" evil
  run -125 --separate-stderr skiff run --rm evil true
  [[ "$stderr" == *'layer entry "evil/pwned": "evil" leads outside the layer through a symlink' ]]
  outside_is_untouched
  run -0 skiff ps -aq
  [ "$output" = "" ]
  empty_dir "$SKIFF_ROOT/layers"
}

@test "hostile layer: a hard link through a symlink fails the run" {
  make_hostile
  run -0 skiff import "$BATS_TEST_TMPDIR/hostile/hardlink-symlink.tar" evil
  run -125 --separate-stderr skiff run --rm evil true
  [[ "$stderr" == *'layer entry "passwd-link": "hop/etc" leads outside the layer through a symlink' ]]
  empty_dir "$SKIFF_ROOT/layers"
}

@test "layer with whiteouts and an opaque marker: imports and runs, markers hidden" {
  make_hostile
  run -0 skiff import "$BATS_TEST_TMPDIR/hostile/whiteout.tar" wh
  run -0 --separate-stderr skiff run --rm wh sh -c \
    'cat /wh/keep /wh/sub/file && test ! -e /wh/gone && test ! -e /wh/.wh.gone && test ! -e /wh/sub/.wh..wh..opq'
  [ "$output" = $'keep\nfile' ]
  run -0 --separate-stderr skiff run --rm wh ls -A /wh/sub
  [ "$output" = file ]
}

@test "layer with whiteouts: the whited-out name is not listed in its directory" {
  make_hostile
  run -0 skiff import "$BATS_TEST_TMPDIR/hostile/whiteout.tar" wh
  run -0 --separate-stderr skiff run --rm wh ls -A /wh
  [ "$output" = $'keep\nsub' ]
  run -0 --separate-stderr skiff run --rm wh find / -xdev -name '.wh.*'
  [ "$output" = "" ]
}

@test "layer with a device node: imports and runs without the device" {
  make_hostile
  run -0 skiff import "$BATS_TEST_TMPDIR/hostile/device.tar" dev
  run -0 --separate-stderr skiff run --rm dev sh -c 'test ! -c /devnode && cat /after'
  [ "$output" = after ]
}

@test "layer with a fifo: imports and runs with the fifo" {
  make_hostile
  run -0 skiff import "$BATS_TEST_TMPDIR/hostile/fifo.tar" fifo
  run -0 --separate-stderr skiff run --rm fifo sh -c 'test -p /fifo && cat /after'
  [ "$output" = after ]
}
