#!/usr/bin/env bats
# skiff cp: files between a container (running, or stopped) and the host,
# and tar streams, by docker's rules; never outside the container's root.
load helpers

eval "common_$(declare -f setup)"

setup() {
  common_setup
  import_busybox
  H="$BATS_TEST_TMPDIR/host"
  mkdir -p "$H"
  # A directory of the host that a container's symlinks point at: it must
  # keep its one file, unread and as it was.
  CANARY="$BATS_TEST_TMPDIR/canary"
  mkdir -p "$CANARY"
  echo host-file > "$CANARY/file"
}

# Starts container NAME (busybox, sleeping) with run -d.
start_container() {
  skiff run -d --name "$1" bb sleep 1000 >/dev/null
}

# The canary holds its one file, unchanged.
canary_untouched() {
  local listing
  listing=$(cd "$CANARY" && find . | sort | tr '\n' ' ')
  [ "$listing" = ". ./file " ] || { echo "made in the canary: $listing" >&2; return 1; }
  [ "$(cat "$CANARY/file")" = host-file ] || { echo "the canary's file was written" >&2; return 1; }
}

# Nothing of a copy is left: no mount, no work in the store's tmp/.
nothing_left() {
  ! grep -q "$SKIFF_ROOT" /proc/self/mountinfo
  [ -z "$(ls -A "$SKIFF_ROOT/containers/.mount-point" 2>/dev/null)" ]
  [ -z "$(ls -A "$SKIFF_ROOT/tmp" 2>/dev/null)" ]
}

@test "cp copies a file into a running container, which sees it, and out again" {
  start_container web
  echo hello > "$H/f"
  run -0 --separate-stderr skiff cp "$H/f" web:/tmp/f
  [ -z "$output" ] && [ -z "$stderr" ]
  run -0 skiff exec web cat /tmp/f
  [ "$output" = hello ]
  # Into a directory, under its own name; onto a file, replacing it.
  skiff cp "$H/f" web:/etc
  skiff exec web sh -c 'echo old > /tmp/g'
  skiff container cp "$H/f" web:/tmp/g
  run -0 skiff exec web cat /etc/f /tmp/g
  [ "$output" = "$(printf 'hello\nhello')" ]
  # What the container writes is what comes out.
  skiff exec web sh -c 'echo written-inside > /tmp/new'
  run -0 skiff cp web:/tmp/new "$H/out"
  [ "$(cat "$H/out")" = written-inside ]
  skiff cp web:/tmp/new "$H"
  [ "$(cat "$H/new")" = written-inside ]
}

@test "cp works on stopped containers, created and exited, through their layers" {
  skiff create --name made bb cat /tmp/f >/dev/null
  echo from-host > "$H/f"
  skiff cp "$H/f" made:/tmp/f
  run -0 skiff start -a made
  [ "$output" = from-host ]
  # Exited now: what it wrote comes out.
  skiff run --name done bb sh -c 'echo last-words > /root/note'
  run -0 skiff cp done:/root/note "$H/note"
  [ "$(cat "$H/note")" = last-words ]
  run -0 skiff cp done:/bin/busybox "$H/bb"
  skiff run --rm bb cat /bin/busybox > "$H/bb.expected"
  cmp "$H/bb" "$H/bb.expected"
  [ -x "$H/bb" ]
  nothing_left
}

@test "cp of directories follows docker's rules for new and existing destinations and /." {
  start_container web
  mkdir -p "$H/dir/sub"
  echo a > "$H/dir/a"
  echo b > "$H/dir/sub/b"
  # A missing destination is made as the directory.
  skiff cp "$H/dir" web:/tmp/new
  # An existing one gets it under its name.
  skiff cp "$H/dir" web:/tmp/new
  # "/." copies the contents.
  skiff exec web mkdir /tmp/flat
  skiff cp "$H/dir/." web:/tmp/flat
  run -0 skiff exec web sh -c 'cd /tmp && find new flat | sort'
  [ "$output" = "$(printf '%s\n' flat flat/a flat/sub flat/sub/b new new/a new/dir new/dir/a new/dir/sub new/dir/sub/b new/sub new/sub/b)" ]
  # Out again, the same rules.
  skiff cp web:/tmp/new "$H/back"
  [ "$(cat "$H/back/sub/b")" = b ]
  skiff cp web:/tmp/new "$H/back"
  [ "$(cat "$H/back/new/dir/a")" = a ]
  mkdir "$H/contents"
  skiff cp web:/tmp/flat/. "$H/contents"
  [ "$(cd "$H/contents" && find . | sort | tr '\n' ' ')" = ". ./a ./sub ./sub/b " ]
}

@test "cp copies symlinks as symlinks, and follows a source symlink with -L" {
  start_container web
  skiff exec web sh -c 'echo target > /tmp/real; ln -s real /tmp/link; ln -s /etc /tmp/etclink'
  skiff cp web:/tmp/link "$H/link"
  [ -L "$H/link" ] && [ "$(readlink "$H/link")" = real ]
  skiff cp -L web:/tmp/link "$H/followed"
  [ ! -L "$H/followed" ] && [ "$(cat "$H/followed")" = target ]
  # Into a directory, -L keeps the link's name.
  mkdir "$H/d"
  skiff cp --follow-link web:/tmp/link "$H/d"
  [ "$(cat "$H/d/link")" = target ]
  # A trailing slash follows a symlink to a directory, inside the container.
  skiff cp web:/tmp/etclink/ "$H/etc"
  [ -f "$H/etc/passwd" ] && ! cmp -s "$H/etc/passwd" /etc/passwd
  # Host symlinks go in as symlinks.
  ln -s /nowhere "$H/hostlink"
  skiff cp "$H/hostlink" web:/tmp/hostlink
  run -0 skiff exec web readlink /tmp/hostlink
  [ "$output" = /nowhere ]
}

@test "cp: files in belong to the container's root, with -a to the source's owners; out, to the caller" {
  start_container web
  echo x > "$H/mine"
  chmod 0640 "$H/mine"
  skiff cp "$H/mine" web:/tmp/mine
  run -0 skiff exec web stat -c '%u:%g %a' /tmp/mine
  [ "$output" = "0:0 640" ]
  run -0 skiff cp web:/etc/passwd "$H/passwd"
  [ "$(stat -c %u "$H/passwd")" = "$(id -u)" ]
  if has_subuid; then
    # A file of id 1234 in the user namespace, owned by a subordinate id on the host.
    skiff unshare sh -c "cp '$H/mine' '$H/theirs' && chown 1234:2345 '$H/theirs'"
    skiff cp -a "$H/theirs" web:/tmp/kept
    skiff cp "$H/theirs" web:/tmp/root
    run -0 skiff exec web stat -c '%u:%g' /tmp/kept /tmp/root
    [ "$output" = "$(printf '1234:2345\n0:0')" ]
    # Out of the container, the caller's, -a or not.
    skiff exec web chown 1234:2345 /tmp/mine
    skiff cp -a web:/tmp/mine "$H/back"
    [ "$(stat -c %u:%g "$H/back")" = "$(id -u):$(id -g)" ]
    skiff unshare rm -f "$H/theirs"
    # A container that maps the caller to itself: out, still the caller's.
    skiff run -d --userns=keep-id --name kept bb sleep 1000 >/dev/null
    skiff cp kept:/etc/passwd "$H/kept-passwd"
    [ "$(stat -c %u:%g "$H/kept-passwd")" = "$(id -u):$(id -g)" ]
  fi
}

@test "cp - reads a tar into a container's directory; cp CONTAINER:PATH - writes one" {
  start_container web
  mkdir -p "$H/t/d"
  echo one > "$H/t/d/one"
  tar -C "$H/t" -cf - d | skiff cp - web:/tmp
  run -0 skiff exec web cat /tmp/d/one
  [ "$output" = one ]
  run -0 skiff exec web stat -c %u /tmp/d/one
  [ "$output" = 0 ]
  # A tar of "." fills the directory and leaves its own mode alone.
  tar -C "$H/t/d" -cf - . | skiff cp - web:/tmp
  run -0 skiff exec web stat -c '%a %n' /tmp /tmp/one
  [ "$output" = "$(printf '1777 /tmp\n644 /tmp/one')" ]
  skiff cp web:/tmp/d - > "$H/out.tar"
  run -0 tar -tf "$H/out.tar"
  [ "$output" = "$(printf 'd/\nd/one')" ]
  mkdir "$H/x"
  tar -C "$H/x" -xf "$H/out.tar"
  [ "$(cat "$H/x/d/one")" = one ]
  run -125 --separate-stderr skiff cp - web:/etc/hostname < "$H/out.tar"
  [ "$stderr" = 'skiff: destination "web:/etc/hostname" must be a directory' ]
  run -125 --separate-stderr skiff cp - web:/nope < "$H/out.tar"
  [ "$stderr" = "skiff: No such container:path: web:/nope" ]
}

@test "cp: bad input is one line and exit 125, and leaves nothing behind" {
  start_container web
  skiff create --name stopped bb true >/dev/null
  echo x > "$H/f"
  run -125 --separate-stderr skiff cp "$H/f" nope:/tmp
  [ "$stderr" = "skiff: no such container: nope" ]
  run -125 --separate-stderr skiff cp web:/nope "$H/out"
  [ "$stderr" = "skiff: No such container:path: web:/nope" ]
  run -125 --separate-stderr skiff cp stopped:/nope "$H/out"
  [ "$stderr" = "skiff: No such container:path: stopped:/nope" ]
  run -125 --separate-stderr skiff cp "$H/f" web:/nope/f
  [ "$stderr" = "skiff: No such container:path: web:/nope" ]
  run -125 --separate-stderr skiff cp "$H/f" stopped:/nope/f
  [ "$stderr" = "skiff: No such container:path: stopped:/nope" ]
  run -125 --separate-stderr skiff cp web:/etc/hostname "$H/nope/x"
  [ "$stderr" = "skiff: lstat $H/nope: no such file or directory" ]
  run -125 --separate-stderr skiff cp "$H/nope" web:/tmp
  [ "$stderr" = "skiff: lstat $H/nope: no such file or directory" ]
  run -125 --separate-stderr skiff cp "$H/f" web:/tmp/missing/
  [ "$stderr" = "skiff: no such directory: web:/tmp/missing/" ]
  run -125 --separate-stderr skiff cp web:/etc "$H/f"
  [ "$stderr" = "skiff: cannot copy a directory to the file $H/f" ]
  run -125 --separate-stderr skiff cp web:/etc/hostname/ "$H"
  [ "$stderr" = "skiff: web:/etc/hostname/: not a directory" ]
  run -125 skiff cp "$H/f" "$H/g"
  [ "${lines[0]}" = "skiff: must specify at least one container source" ]
  run -125 --separate-stderr skiff cp web:/etc/hostname stopped:/tmp
  [ "$stderr" = "skiff: copying between containers is not supported" ]
  [ ! -e "$H/out" ] && [ ! -e "$H/g" ]
  nothing_left
}

@test "cp never leaves the root of a container that swaps a directory for a symlink to the host" {
  # /d is in turn a directory and a symlink to the canary's host path,
  # which the container does not have: inside its root that path names
  # nothing, on the host the canary.
  skiff run -d --name racer bb sh -c "while :; do mkdir /d.new; echo inside > /d.new/secret; mv -f /d.new /d.tmp; rm -rf /d; mv /d.tmp /d; rm -rf /d; ln -s '$CANARY' /d; done" >/dev/null
  # Niced: it keeps a core busy, the copies need the other.
  renice -n 19 -p "$(skiff inspect -f '{{.State.Pid}}' racer)" >/dev/null 2>&1 || true
  echo copied > "$H/in"
  local i
  for i in $(seq 1 200); do
    skiff cp "$H/in" racer:/d/ 2>/dev/null || true
    skiff cp racer:/d/file "$H/out.$i" 2>/dev/null || true
  done
  canary_untouched
  # Nothing of the canary's came out: no file named as its file was made.
  [ -z "$(ls "$H" | grep '^out\.' || true)" ]
  skiff rm -f racer >/dev/null
}
