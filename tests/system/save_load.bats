#!/usr/bin/env bats
# skiff save, load and export: archives other tools read, archives skiff
# refuses, and a container's file system as a tar.
load helpers

# True if DIR is absent or empty.
empty_dir() { [ ! -d "$1" ] || [ -z "$(ls -A "$1")" ]; }

# The store holds no image, no blob, no unpacked layer and nothing
# half-written in tmp/.
store_is_empty() {
  run -0 skiff images -q
  [ "$output" = "" ]
  empty_dir "$SKIFF_ROOT/blobs/sha256"
  empty_dir "$SKIFF_ROOT/layers"
  [ -z "$(find "$SKIFF_ROOT/tmp" -mindepth 1 2>/dev/null)" ]
}

# The full ID of IMAGE.
image_id() { "$SKIFF" images -q --no-trunc "$1" | head -n 1; }

# Imports busybox as bb with a second layer (a committed container's
# changes), so archives carry more than one layer.
two_layer_image() {
  import_busybox base
  "$SKIFF" run --name mk base sh -c 'echo two > /layer2' >/dev/null
  "$SKIFF" commit mk "${1:-bb}" >/dev/null
  "$SKIFF" rm mk >/dev/null
  "$SKIFF" rmi base >/dev/null
}

# --- save and load round trips -------------------------------------------------

@test "save then load gives back the same image, with its tag, in each format" {
  two_layer_image bb
  local id
  id=$(image_id bb)
  local fmt
  for fmt in docker-archive oci-archive oci-dir; do
    local out=$BATS_TEST_TMPDIR/bb-$fmt
    run -0 skiff save --format "$fmt" -o "$out" bb
    [ "$output" = "" ]
    run -0 skiff rmi bb
    run -0 skiff load -i "$out"
    [ "$output" = "Loaded image: bb:latest" ]
    [ "$(image_id bb)" = "$id" ]
    run -0 --separate-stderr skiff run --rm bb cat /layer2
    [ "$output" = two ]
  done
}

@test "docker-archive is docker's layout: manifest.json, repositories, the config and layers" {
  two_layer_image bb
  skiff save -o "$BATS_TEST_TMPDIR/a.tar" bb
  mkdir "$BATS_TEST_TMPDIR/x"
  tar -xf "$BATS_TEST_TMPDIR/a.tar" -C "$BATS_TEST_TMPDIR/x"
  local id
  id=$(image_id bb)
  run -0 python3 -c '
import json, sys
m = json.load(open(sys.argv[1] + "/manifest.json"))
assert len(m) == 1, m
print(m[0]["Config"], m[0]["RepoTags"], len(m[0]["Layers"]))
r = json.load(open(sys.argv[1] + "/repositories"))
print(sorted(r["bb"]))' "$BATS_TEST_TMPDIR/x"
  [ "${lines[0]}" = "blobs/sha256/${id#sha256:} ['bb:latest'] 2" ]
  [ "${lines[1]}" = "['latest']" ]
}

@test "several images and several tags go in one archive and all come back" {
  two_layer_image bb
  import_busybox other
  skiff tag bb bb:v2
  run -0 skiff save -o "$BATS_TEST_TMPDIR/all.tar" bb bb:v2 other
  skiff rmi bb bb:v2 other >/dev/null
  run -0 skiff load -i "$BATS_TEST_TMPDIR/all.tar"
  [ "${lines[0]}" = "Loaded image: bb:latest" ]
  [ "${lines[1]}" = "Loaded image: bb:v2" ]
  [ "${lines[2]}" = "Loaded image: other:latest" ]
  [ "${#lines[@]}" -eq 3 ]
  [ "$(image_id bb)" = "$(image_id bb:v2)" ]
  run -0 --separate-stderr skiff run --rm other echo ok
  [ "$output" = ok ]
}

@test "an image saved by ID loads without a name" {
  import_busybox bb
  local id
  id=$(image_id bb)
  skiff save -o "$BATS_TEST_TMPDIR/a.tar" "${id:7:12}"
  skiff rmi bb >/dev/null
  run -0 skiff load -i "$BATS_TEST_TMPDIR/a.tar"
  [ "$output" = "Loaded image ID: $id" ]
}

@test "save writes to standard output and load reads standard input" {
  two_layer_image bb
  local id
  id=$(image_id bb)
  skiff save bb > "$BATS_TEST_TMPDIR/a.tar"
  skiff rmi bb >/dev/null
  run -0 skiff load < "$BATS_TEST_TMPDIR/a.tar"
  [ "$output" = "Loaded image: bb:latest" ]
  [ "$(image_id bb)" = "$id" ]
  # Through a pipe, save straight into load.
  run -0 bash -c 'set -o pipefail; "$SKIFF" save --format oci-archive bb | "$SKIFF" image load'
  [ "$output" = "Loaded image: bb:latest" ]
  [ "$(image_id bb)" = "$id" ]
}

@test "image save and image load are the same commands" {
  import_busybox bb
  run -0 skiff image save -o "$BATS_TEST_TMPDIR/a.tar" bb
  skiff rmi bb >/dev/null
  run -0 skiff image load -q -i "$BATS_TEST_TMPDIR/a.tar"
  [ "$output" = "Loaded image: bb:latest" ]
}

@test "load takes gzip, xz and zstd compressed archives" {
  two_layer_image bb
  local id
  id=$(image_id bb)
  skiff save -o "$BATS_TEST_TMPDIR/a.tar" bb
  gzip -c "$BATS_TEST_TMPDIR/a.tar" > "$BATS_TEST_TMPDIR/a.tar.gz"
  xz -0 -c "$BATS_TEST_TMPDIR/a.tar" > "$BATS_TEST_TMPDIR/a.tar.xz"
  local exts="gz xz"
  if command -v zstd >/dev/null; then
    zstd -q -c "$BATS_TEST_TMPDIR/a.tar" > "$BATS_TEST_TMPDIR/a.tar.zst"
    exts="$exts zst"
  fi
  local ext
  for ext in $exts; do
    skiff rmi bb >/dev/null
    run -0 skiff load -i "$BATS_TEST_TMPDIR/a.tar.$ext"
    [ "$output" = "Loaded image: bb:latest" ]
    [ "$(image_id bb)" = "$id" ]
  done
}

@test "layers stored gzip-compressed are saved as they are and load back" {
  import_busybox base
  skiff run --name mk base sh -c 'echo gz > /f' >/dev/null
  skiff commit mk bb >/dev/null
  skiff rm mk >/dev/null
  local id
  id=$(image_id bb)
  skiff save --format oci-archive -o "$BATS_TEST_TMPDIR/a.tar" bb
  mkdir "$BATS_TEST_TMPDIR/x"
  tar -xf "$BATS_TEST_TMPDIR/a.tar" -C "$BATS_TEST_TMPDIR/x"
  # Every layer blob in the archive is a blob of the store, byte for byte.
  local b
  for b in "$SKIFF_ROOT"/blobs/sha256/*; do
    [ -f "$BATS_TEST_TMPDIR/x/blobs/sha256/${b##*/}" ] || continue
    cmp "$b" "$BATS_TEST_TMPDIR/x/blobs/sha256/${b##*/}"
  done
  skiff rmi bb base >/dev/null
  run -0 skiff load -i "$BATS_TEST_TMPDIR/a.tar"
  [ "$(image_id bb)" = "$id" ]
  run -0 --separate-stderr skiff run --rm bb cat /f
  [ "$output" = gz ]
}

@test "save --compress with oci-dir writes gzip layers that load back" {
  import_busybox bb
  run -0 skiff save --format oci-dir --compress -o "$BATS_TEST_TMPDIR/d" bb
  run -0 python3 -c '
import json, sys
d = sys.argv[1]
i = json.load(open(d + "/index.json"))
m = json.load(open(d + "/blobs/sha256/" + i["manifests"][0]["digest"][7:]))
print(m["layers"][0]["mediaType"])' "$BATS_TEST_TMPDIR/d"
  [ "$output" = "application/vnd.oci.image.layer.v1.tar+gzip" ]
  skiff rmi bb >/dev/null
  run -0 skiff load -i "$BATS_TEST_TMPDIR/d"
  [ "$output" = "Loaded image: bb:latest" ]
  run -0 --separate-stderr skiff run --rm bb echo ok
  [ "$output" = ok ]
}

@test "an archive made with subordinate ids loads for any user, owners kept or squashed" {
  # The layers carry /home/app as 1000:1000 whoever saved them: save copies
  # blobs byte for byte, whatever the saver's id map.
  import_busybox bb
  skiff save -o "$BATS_TEST_TMPDIR/a.tar" bb
  skiff rmi bb >/dev/null
  run -0 skiff load -i "$BATS_TEST_TMPDIR/a.tar"
  [ "$output" = "Loaded image: bb:latest" ]
  run -0 --separate-stderr skiff run --rm bb stat -c %u:%g /home/app
  if has_subuid; then
    [ "$output" = 1000:1000 ]
  else
    [ "$output" = 0:0 ]
  fi
}

@test "a docker-archive in podman's and older docker's layout loads: <id>/layer.tar links to the layer" {
  import_busybox bb
  local id
  id=$(image_id bb)
  skiff save -o "$BATS_TEST_TMPDIR/a.tar" bb
  skiff rmi bb >/dev/null
  mkdir "$BATS_TEST_TMPDIR/x"
  tar -xf "$BATS_TEST_TMPDIR/a.tar" -C "$BATS_TEST_TMPDIR/x"
  # Rewritten the legacy way: config <hex>.json, layer <diff_id>.tar with
  # <id>/layer.tar a symbolic link to it, manifest.json last.
  python3 - "$BATS_TEST_TMPDIR/x" "$BATS_TEST_TMPDIR/legacy.tar" <<'EOF'
import io, json, sys, tarfile
d, out = sys.argv[1], sys.argv[2]
m = json.load(open(d + "/manifest.json"))[0]
config = open(d + "/" + m["Config"], "rb").read()
layer = open(d + "/" + m["Layers"][0], "rb").read()
chex = m["Config"].split("/")[-1]
lhex = m["Layers"][0].split("/")[-1]
def add(t, name, data):
    i = tarfile.TarInfo(name); i.size = len(data)
    t.addfile(i, io.BytesIO(data))
with tarfile.open(out, "w") as t:
    add(t, lhex + ".tar", layer)
    add(t, chex + ".json", config)
    i = tarfile.TarInfo("0123abcd/layer.tar"); i.type = tarfile.SYMTYPE; i.linkname = "../" + lhex + ".tar"
    t.addfile(i)
    add(t, "manifest.json", json.dumps([{"Config": chex + ".json", "RepoTags": ["bb:legacy"],
                                         "Layers": ["0123abcd/layer.tar"]}]).encode())
EOF
  run -0 skiff load -i "$BATS_TEST_TMPDIR/legacy.tar"
  [ "$output" = "Loaded image: bb:legacy" ]
  [ "$(image_id bb:legacy)" = "$id" ]
  run -0 --separate-stderr skiff run --rm bb:legacy echo ok
  [ "$output" = ok ]
}

# --- other tools read skiff's archives -----------------------------------------

@test "skopeo reads skiff's docker-archive and oci-archive" {
  command -v skopeo >/dev/null || skip "skopeo is not installed"
  two_layer_image bb
  skiff save -o "$BATS_TEST_TMPDIR/d.tar" bb
  skiff save --format oci-archive -o "$BATS_TEST_TMPDIR/o.tar" bb
  local f
  for f in "docker-archive:$BATS_TEST_TMPDIR/d.tar" "oci-archive:$BATS_TEST_TMPDIR/o.tar"; do
    run -0 skopeo inspect --config "$f"
    run -0 python3 -c 'import json, sys; print(len(json.load(sys.stdin)["rootfs"]["diff_ids"]))' <<< "$output"
    [ "$output" = 2 ]
    run -0 skopeo inspect "$f"
    run -0 python3 -c 'import json, sys; print(json.load(sys.stdin)["Digest"] != "")' <<< "$output"
  done
  # skopeo's copy of an archive loads back with the same layers (skopeo
  # writes the config again, so the ID may change).
  local layers
  layers=$(skiff image inspect --format '{{json .RootFS.Layers}}' bb)
  run -0 skopeo copy -q "docker-archive:$BATS_TEST_TMPDIR/d.tar" "oci-archive:$BATS_TEST_TMPDIR/s.tar:bb:latest"
  skiff rmi bb >/dev/null
  run -0 skiff load -i "$BATS_TEST_TMPDIR/s.tar"
  [ "$output" = "Loaded image: bb:latest" ]
  run -0 skiff image inspect --format '{{json .RootFS.Layers}}' bb
  [ "$output" = "$layers" ]
  run -0 --separate-stderr skiff run --rm bb cat /layer2
  [ "$output" = two ]
}

# --- what save and load refuse -------------------------------------------------

@test "save refuses to write an archive to a terminal" {
  import_busybox bb
  command -v script >/dev/null || skip "script (util-linux) is not installed"
  run -125 script -qec "$SKIFF save bb" /dev/null
  [[ "$output" == *"skiff: cowardly refusing to save to a terminal: use the -o flag or redirect"* ]]
}

@test "save of an unknown image or format fails and writes no file" {
  import_busybox bb
  run -125 skiff save -o "$BATS_TEST_TMPDIR/a.tar" nosuch
  [ "$output" = "skiff: no such image: nosuch" ]
  [ ! -e "$BATS_TEST_TMPDIR/a.tar" ]
  run -125 skiff save --format tarball -o "$BATS_TEST_TMPDIR/a.tar" bb
  [ "$output" = 'skiff: unknown archive format "tarball": use docker-archive, oci-archive or oci-dir' ]
  [ -z "$(ls -A "$BATS_TEST_TMPDIR" | grep a.tar)" ]
  run -125 skiff save --format oci-dir bb
  [ "$output" = "skiff: --format oci-dir writes a directory: name it with -o" ]
  run -125 skiff save -o "$BATS_TEST_TMPDIR/nosuch/a.tar" bb
  [ "$output" = "skiff: create $BATS_TEST_TMPDIR/nosuch/a.tar: no such file or directory" ]
}

@test "load refuses what is not an image archive, storing nothing" {
  echo hello > "$BATS_TEST_TMPDIR/text"
  run -125 skiff load -i "$BATS_TEST_TMPDIR/text"
  [ "$output" = "skiff: load: read the archive: it is not a tar archive" ]
  store_is_empty
  tar -cf "$BATS_TEST_TMPDIR/plain.tar" -C "$BATS_TEST_TMPDIR" text
  run -125 skiff load -i "$BATS_TEST_TMPDIR/plain.tar"
  [ "$output" = "skiff: load: the archive has neither manifest.json nor index.json: it is not a docker-archive or oci-archive" ]
  store_is_empty
  run -125 skiff load -i "$BATS_TEST_TMPDIR/nosuch"
  [ "$output" = "skiff: open $BATS_TEST_TMPDIR/nosuch: no such file or directory" ]
}

@test "a truncated archive is refused and nothing is stored" {
  two_layer_image bb
  skiff save -o "$BATS_TEST_TMPDIR/a.tar" bb
  skiff rmi bb >/dev/null
  local size
  size=$(stat -c %s "$BATS_TEST_TMPDIR/a.tar")
  head -c $((size / 2)) "$BATS_TEST_TMPDIR/a.tar" > "$BATS_TEST_TMPDIR/half.tar"
  run -125 skiff load -i "$BATS_TEST_TMPDIR/half.tar"
  [[ "$output" == "skiff: load: read the archive: "*"truncated"* ]] || [[ "$output" == "skiff: load: read the archive: "*"Truncated"* ]]
  [ "${#lines[@]}" -eq 1 ]
  store_is_empty
  # The same through a pipe, compressed.
  gzip -c "$BATS_TEST_TMPDIR/half.tar" > "$BATS_TEST_TMPDIR/half.tar.gz"
  run -125 skiff load < "$BATS_TEST_TMPDIR/half.tar.gz"
  [[ "$output" == "skiff: load: read the archive: "* ]]
  store_is_empty
}

# Writes a docker-archive of bb to $BATS_TEST_TMPDIR/x/ (unpacked), for the
# hostile archives below to change; the image is removed again.
unpacked_archive() {
  import_busybox bb
  skiff save -o "$BATS_TEST_TMPDIR/a.tar" bb
  skiff rmi bb >/dev/null
  mkdir "$BATS_TEST_TMPDIR/x"
  tar -xf "$BATS_TEST_TMPDIR/a.tar" -C "$BATS_TEST_TMPDIR/x"
}

# The single layer blob's name in $BATS_TEST_TMPDIR/x.
layer_of() {
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1] + "/manifest.json"))[0]["Layers"][0])' "$BATS_TEST_TMPDIR/x"
}

@test "a blob whose content does not match its digest is refused and nothing is stored" {
  unpacked_archive
  local layer
  layer=$(layer_of)
  printf 'x' >> "$BATS_TEST_TMPDIR/x/$layer"
  tar -cf "$BATS_TEST_TMPDIR/bad.tar" -C "$BATS_TEST_TMPDIR/x" .
  run -125 skiff load -i "$BATS_TEST_TMPDIR/bad.tar"
  [[ "$output" =~ ^"skiff: load: archive entry $layer does not match its digest: its content is sha256:"[0-9a-f]{64}$ ]]
  store_is_empty
}

@test "an archive that lacks a blob its manifest names is refused and nothing is stored" {
  unpacked_archive
  rm "$BATS_TEST_TMPDIR/x/$(layer_of)"
  tar -cf "$BATS_TEST_TMPDIR/bad.tar" -C "$BATS_TEST_TMPDIR/x" .
  run -125 skiff load -i "$BATS_TEST_TMPDIR/bad.tar"
  [ "$output" = "skiff: load: the archive lacks $(layer_of), which its metadata names" ]
  store_is_empty
}

@test "an archive refused after a layer was unpacked leaves no layer behind" {
  unpacked_archive
  # manifest.json first, then both configs, then the first image's layer:
  # the layer unpacks while the archive streams in, and the second image's
  # layer never comes.
  python3 - "$BATS_TEST_TMPDIR/x" "$BATS_TEST_TMPDIR/bad.tar" <<'EOF'
import hashlib, io, json, sys, tarfile
d, out = sys.argv[1], sys.argv[2]
m = json.load(open(d + "/manifest.json"))
config = json.load(open(d + "/" + m[0]["Config"]))
config["author"] = "another image"
config["rootfs"]["diff_ids"] = ["sha256:" + "0" * 64]
c2 = json.dumps(config).encode()
c2name = "blobs/sha256/" + hashlib.sha256(c2).hexdigest()
m.append({"Config": c2name, "RepoTags": ["other:latest"], "Layers": ["blobs/sha256/" + "1" * 64]})
def add(t, name, data):
    i = tarfile.TarInfo(name); i.size = len(data)
    t.addfile(i, io.BytesIO(data))
with tarfile.open(out, "w") as t:
    add(t, "manifest.json", json.dumps(m).encode())
    add(t, m[0]["Config"], open(d + "/" + m[0]["Config"], "rb").read())
    add(t, c2name, c2)
    add(t, m[0]["Layers"][0], open(d + "/" + m[0]["Layers"][0], "rb").read())
EOF
  run -125 skiff load -i "$BATS_TEST_TMPDIR/bad.tar"
  [ "$output" = "skiff: load: the archive lacks blobs/sha256/$(printf '1%.0s' {1..64}), which its metadata names" ]
  store_is_empty
}

@test "a layer that is unpacked already must still match the diff_id the archive's config gives it" {
  unpacked_archive
  import_busybox bb
  skiff run --rm bb true  # the layer is in the store, unpacked
  # The archive's layer swapped for another tar, under a name without a digest.
  python3 - "$BATS_TEST_TMPDIR/x" "$BATS_TEST_TMPDIR/bad.tar" <<'EOF'
import io, json, sys, tarfile
d, out = sys.argv[1], sys.argv[2]
m = json.load(open(d + "/manifest.json"))
other = io.BytesIO()
with tarfile.open(fileobj=other, mode="w") as t:
    i = tarfile.TarInfo("evil"); i.size = 5
    t.addfile(i, io.BytesIO(b"evil\n"))
def add(t, name, data):
    i = tarfile.TarInfo(name); i.size = len(data)
    t.addfile(i, io.BytesIO(data))
with tarfile.open(out, "w") as t:
    add(t, "manifest.json", json.dumps([{"Config": m[0]["Config"], "RepoTags": ["swapped:latest"],
                                         "Layers": ["layer.tar"]}]).encode())
    add(t, m[0]["Config"], open(d + "/" + m[0]["Config"], "rb").read())
    add(t, "layer.tar", other.getvalue())
EOF
  run -125 skiff load -i "$BATS_TEST_TMPDIR/bad.tar"
  [[ "$output" =~ ^"skiff: load: archive entry layer.tar does not match the diff_id sha256:"[0-9a-f]{64}" of its image's config"$ ]]
  run -0 skiff images --format '{{.Repository}}'
  [ "$output" = bb ]
}

@test "archive entries that leave the archive or are links are refused and nothing is stored" {
  unpacked_archive
  # A name with "..", an absolute name, a symlink, a hard link: each added
  # to an otherwise good archive.
  python3 - "$BATS_TEST_TMPDIR" <<'EOF'
import io, sys, tarfile
d = sys.argv[1]
def make(name, edit):
    with tarfile.open(f"{d}/{name}.tar", "w") as out:
        with tarfile.open(f"{d}/a.tar") as src:
            for m in src.getmembers():
                out.addfile(m, src.extractfile(m) if m.isfile() else None)
        edit(out)
def file(name):
    def add(out):
        i = tarfile.TarInfo(name); i.size = 2
        out.addfile(i, io.BytesIO(b"x\n"))
    return add
def link(kind, name, target):
    def add(out):
        i = tarfile.TarInfo(name); i.type = kind; i.linkname = target
        out.addfile(i)
    return add
make("dotdot", file("../escape"))
make("absolute", file("/tmp/escape"))
make("symlink", link(tarfile.SYMTYPE, "blobs/sha256/evil", "/etc/passwd"))
make("uplink", link(tarfile.SYMTYPE, "blobs/sha256/up", "../../../etc/passwd"))
make("hardlink", link(tarfile.LNKTYPE, "blobs/sha256/evil", "manifest.json"))
EOF
  run -125 skiff load -i "$BATS_TEST_TMPDIR/dotdot.tar"
  [ "$output" = 'skiff: load: archive entry "../escape" leaves the archive: refused' ]
  store_is_empty
  run -125 skiff load -i "$BATS_TEST_TMPDIR/absolute.tar"
  [ "$output" = 'skiff: load: archive entry "/tmp/escape" leaves the archive: refused' ]
  store_is_empty
  run -125 skiff load -i "$BATS_TEST_TMPDIR/symlink.tar"
  [ "$output" = 'skiff: load: archive entry "blobs/sha256/evil" is a symbolic link that leads out of the archive: refused' ]
  store_is_empty
  run -125 skiff load -i "$BATS_TEST_TMPDIR/uplink.tar"
  [ "$output" = 'skiff: load: archive entry "blobs/sha256/up" is a symbolic link that leads out of the archive: refused' ]
  store_is_empty
  run -125 skiff load -i "$BATS_TEST_TMPDIR/hardlink.tar"
  [ "$output" = 'skiff: load: archive entry "blobs/sha256/evil" is a hard link: refused' ]
  store_is_empty
  [ ! -e "$BATS_TEST_TMPDIR/escape" ]
}

@test "a manifest.json naming a path outside the archive is refused" {
  unpacked_archive
  python3 - "$BATS_TEST_TMPDIR/x/manifest.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
m[0]["Layers"][0] = "../../etc/passwd"
json.dump(m, open(sys.argv[1], "w"))
EOF
  tar -cf "$BATS_TEST_TMPDIR/bad.tar" -C "$BATS_TEST_TMPDIR/x" .
  run -125 skiff load -i "$BATS_TEST_TMPDIR/bad.tar"
  [[ "$output" == "skiff: load: the archive's manifest.json is malformed: path \"../../etc/passwd\" in layer leaves the layer"* ]]
  store_is_empty
}

@test "an OCI layout directory with a symlinked blob is refused" {
  import_busybox bb
  skiff save --format oci-dir -o "$BATS_TEST_TMPDIR/d" bb
  skiff rmi bb >/dev/null
  local blob
  for blob in "$BATS_TEST_TMPDIR"/d/blobs/sha256/*; do
    [ "$(stat -c %s "$blob")" -gt 100000 ] || continue
    mv "$blob" "$BATS_TEST_TMPDIR/moved"
    ln -s "$BATS_TEST_TMPDIR/moved" "$blob"
  done
  run -125 skiff load -i "$BATS_TEST_TMPDIR/d"
  [[ "$output" =~ ^"skiff: load: blobs/sha256/"[0-9a-f]{64}" in the image layout is a symbolic link: refused"$ ]]
  store_is_empty
}

# --- export ------------------------------------------------------------------

@test "export | import round-trips a container's file system" {
  two_layer_image bb
  skiff run --name ctr bb sh -c 'echo mine > /home/app/note; rm /bin/vi' >/dev/null
  run -0 bash -c 'set -o pipefail; "$SKIFF" export ctr | "$SKIFF" import - flat'
  run -0 --separate-stderr skiff run --rm flat cat /layer2 /home/app/note
  [ "${lines[0]}" = two ]
  [ "${lines[1]}" = mine ]
  run -1 --separate-stderr skiff run --rm flat test -e /bin/vi
  run -0 --separate-stderr skiff run --rm flat stat -c %u /home/app
  if has_subuid; then [ "$output" = 1000 ]; else [ "$output" = 0 ]; fi
  # One layer: the flattened file system.
  run -0 skiff image inspect --format '{{len .RootFS.Layers}}' flat
  [ "$output" = 1 ]
}

@test "export -o writes a tar of a running container" {
  import_busybox bb
  skiff run -d --name ctr bb sh -c 'echo up > /up; exec sleep 1000' >/dev/null
  wait_for skiff exec ctr test -e /up
  run -0 skiff export -o "$BATS_TEST_TMPDIR/c.tar" ctr
  [ "$output" = "" ]
  run -0 tar -tf "$BATS_TEST_TMPDIR/c.tar"
  [[ "$output" == *"up"* ]]
  [[ "$output" == *"bin/busybox"* ]]
  skiff container export ctr > "$BATS_TEST_TMPDIR/c2.tar"
  cmp <(tar -tf "$BATS_TEST_TMPDIR/c.tar") <(tar -tf "$BATS_TEST_TMPDIR/c2.tar")
  skiff rm -f ctr >/dev/null
}

@test "export refuses a terminal and an unknown container" {
  import_busybox bb
  run -125 skiff export -o "$BATS_TEST_TMPDIR/c.tar" nosuch
  [[ "$output" == "skiff: "*"nosuch"* ]]
  [ ! -e "$BATS_TEST_TMPDIR/c.tar" ]
  command -v script >/dev/null || skip "script (util-linux) is not installed"
  skiff create --name ctr bb true >/dev/null
  run -125 script -qec "$SKIFF export ctr" /dev/null
  [[ "$output" == *"skiff: cowardly refusing to export to a terminal: use the -o flag or redirect"* ]]
}
