#!/usr/bin/env bats
# Container escapes that runc, crun and docker have shipped fixes for, each
# tried against skiff the way its CVE did it: an image, a Dockerfile, a
# flag or a running container reaching for the host. Each asserts what a
# user would check: nothing outside the container's root was read, written,
# made or mounted over, the host's files are as they were, and where skiff
# refuses, it says why in one line. (security.bats and hardening.bats hold
# the cases probes of skiff found; what they cover is not repeated here.)
load helpers
load build_helpers

eval "common_$(declare -f setup)"
eval "common_$(declare -f teardown)"

setup() {
  common_setup
  private_home
  # A directory of the host that hostile images point their symlinks at.
  # It must keep its one file, as it was.
  CANARY="$BATS_TEST_TMPDIR/canary"
  mkdir -p "$CANARY"
  echo host-file > "$CANARY/file"
  CTX="$BATS_TEST_TMPDIR/ctx"
  mkdir -p "$CTX"
  import_busybox
}

teardown() {
  if [ -n "${bgpid:-}" ]; then
    kill -KILL "$bgpid" 2>/dev/null || true
    wait "$bgpid" 2>/dev/null || true
  fi
  common_teardown
}

# The busybox root filesystem, changed by SCRIPT (shell commands run in its
# root directory), imported as NAME; further arguments go to skiff import.
image_from_busybox() {
  local name=$1 script=$2 root="$BATS_TEST_TMPDIR/rootfs-$1"
  shift 2
  mkdir "$root"
  tar -xf "$SKIFF_TEST_FIXTURES/busybox.tar" -C "$root"
  (cd "$root" && eval "$script")
  tar --numeric-owner --owner=0 --group=0 -C "$root" -cf "$root.tar" .
  "$SKIFF" import "$@" "$root.tar" "$name" >/dev/null
  rm -rf "$root" "$root.tar"
}

# The canary holds its one file, unchanged, and nothing is mounted on it.
canary_untouched() {
  local listing
  listing=$(cd "$CANARY" && find . | sort | tr '\n' ' ')
  [ "$listing" = ". ./file " ] || { echo "made in the canary: $listing" >&2; return 1; }
  [ "$(cat "$CANARY/file")" = host-file ] || { echo "the canary's file was written" >&2; return 1; }
  ! grep -q " $CANARY[ /]" /proc/self/mountinfo || { echo "something is mounted on the canary" >&2; return 1; }
}

# No file named ESCAPED anywhere under the test's directory.
nothing_escaped() {
  local found
  found=$(find "$BATS_TEST_TMPDIR" -name ESCAPED 2>/dev/null || true)
  [ -z "$found" ] || { echo "escaped: $found" >&2; return 1; }
}

# $output has a line that starts with PREFIX.
has_line_starting() {
  local l
  for l in "${lines[@]}"; do
    [[ "$l" == "$1"* ]] && return 0
  done
  printf 'no line starting "%s" in:\n%s\n' "$1" "$output" >&2
  return 1
}

# A file of tests/fixtures (printed).
fixture() {
  local f
  for f in "$BATS_TEST_DIRNAME/../fixtures/$1" "$SKIFF_TEST_FIXTURES/fixtures/$1"; do
    [ -f "$f" ] && { echo "$f"; return 0; }
  done
  echo "tests/fixtures/$1 not found" >&2
  return 1
}

# --- CVE-2019-5736: overwriting the runtime through /proc/self/exe -------------

# After `run` of a container of the image "evil": tests/fixtures/exe-overwrite.c
# ran inside BINARY (so the way in was open) and none of its writes got
# through.
overwrite_failed() {
  local exe
  exe=$(printf '%s\n' "${lines[@]}" | sed -n 's/^exe //p')
  [[ "$exe" == */"${1##*/}" ]] || { printf 'the library did not run inside %s:\n%s\n' "$1" "$output" >&2; return 1; }
  has_line_starting "open-write: "
  has_line_starting "reopen-write: "
  no_line wrote
}

@test "CVE-2019-5736: a container running skiff's own binary through /proc/self/exe cannot write to it" {
  command -v cc >/dev/null || skip "needs a C compiler"
  # The user's own copy, which the user (root in the container) may write:
  # only skiff and the kernel stand in the way.
  local mine="$BATS_TEST_TMPDIR/bin/skiff-copy"
  mkdir -p "$BATS_TEST_TMPDIR/bin"
  cp "$SKIFF" "$mine"
  local sum_mine sum_skiff
  sum_mine=$(sha256sum < "$mine")
  sum_skiff=$(sha256sum < "$SKIFF")

  # Under --init, PID 1 is skiff's binary: it cannot be opened for writing.
  run -0 "$mine" run --rm --init bb sh -c 'readlink /proc/1/exe; for i in 1 2 3; do echo x >> /proc/1/exe && echo wrote; done; true'
  [[ "${lines[0]}" == */skiff-copy ]]
  no_line wrote
  [ "$(count_lines -p "can't create /proc/1/exe")" = 3 ]

  # An image whose /bin/sh is "#!/proc/self/exe": exec'ing it from skiff's
  # process runs skiff's binary in the container, where the image's dynamic
  # loader, libc and LD_PRELOAD load the attacker's code into it.
  local libs
  libs=$(ldd "$SKIFF" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | tr '\n' ' ')
  [ -n "$libs" ] || skip "skiff is linked statically: no code of an image can load into it"
  cc -shared -fPIC -O2 -o "$BATS_TEST_TMPDIR/exe-overwrite.so" "$(fixture exe-overwrite.c)"
  image_from_busybox evil '
    rm bin/sh && printf "#!/proc/self/exe\n" > bin/sh && chmod 755 bin/sh
    cp "$BATS_TEST_TMPDIR/exe-overwrite.so" evil.so
    for l in $libs; do mkdir -p ".${l%/*}" && cp -L "$l" ".$l"; done' -c 'ENV LD_PRELOAD=/evil.so'
  local bin
  for bin in "$mine" "$SKIFF"; do
    run -0 "$bin" run --rm evil sh
    overwrite_failed "$bin"
    run -0 "$bin" run --rm --init evil sh -c true
    overwrite_failed "$bin"
  done
  # A RUN step runs /bin/sh -c from skiff's process too.
  printf 'FROM evil\nRUN true\n' > "$CTX/Dockerfile"
  run -0 "$mine" build --no-cache -t evil2 "$CTX"
  overwrite_failed "$mine"

  [ "$(sha256sum < "$mine")" = "$sum_mine" ]
  [ "$(sha256sum < "$SKIFF")" = "$sum_skiff" ]
}

# --- CVE-2024-21626: skiff's file descriptors and working directory --------------

@test "CVE-2024-21626: PID 1 (and PID 2 under --init, and a RUN step's) holds only fds 0, 1 and 2, whatever the caller has open" {
  local d=$BATS_TEST_TMPDIR
  mkdir -p "$d/dir"
  echo caller > "$d/file"
  # ls runs as a child of the shell, so the shell's fds are the process's own.
  run -0 skiff run --rm bb sh -c 'ls /proc/1/fd; readlink /proc/1/cwd; readlink /proc/1/root; true' \
    3<"$d/dir" 4<"$d/file" 7<"$d/dir" 9>"$d/out" 12<"$d/dir"
  same "$output" $'0\n1\n2\n/\n/'
  # (The command's pid: a process of the network's set-up may have had 2.)
  run -0 skiff run --rm --init -w /tmp bb sh -c 'ls /proc/1/fd; echo --; ls /proc/$$/fd; readlink /proc/1/cwd; readlink /proc/$$/cwd; true' \
    3<"$d/dir" 4<"$d/file" 7<"$d/dir" 9>"$d/out" 12<"$d/dir"
  same "$output" $'0\n1\n2\n--\n0\n1\n2\n/tmp\n/tmp'
  printf 'FROM bb\nRUN echo fds-begin; ls /proc/1/fd; echo fds-end\n' > "$CTX/Dockerfile"
  run -0 --separate-stderr skiff build --no-cache "$CTX" 3<"$d/dir" 4<"$d/file" 7<"$d/dir" 12<"$d/dir"
  [[ "$output" == *$'\nfds-begin\n0\n1\n2\nfds-end\n'* ]] || { echo "$output" >&2; false; }
}

@test "CVE-2024-21626: -w and WORKDIR naming any magic link (stdio fds, /proc/1/fd, thread-self, cwd, root) are refused" {
  local d=$BATS_TEST_TMPDIR w
  mkdir -p "$d/dir"
  # Directories on the container's stdin and on fds the caller holds.
  for w in /proc/self/fd/0 /proc/1/fd/0 /proc/thread-self/fd/0 /proc/self/task/1/fd/0 /proc/1/fd/3 \
    /proc/self/cwd /proc/1/cwd /proc/self/root /proc/1/root/..; do
    run -126 skiff run --rm -i -w "$w" bb sh -c 'touch ESCAPED ../ESCAPED ../../ESCAPED' 0<"$d/dir" 3<"$d/dir"
    same "$output" "skiff: change to working directory $w: too many levels of symbolic links"
  done
  # Under --init, where PID 1 stays a copy of skiff.
  for w in /proc/self/fd/0 /proc/1/fd/3 /proc/1/cwd; do
    run -126 skiff run --rm --init -i -w "$w" bb sh -c 'touch ESCAPED ../ESCAPED ../../ESCAPED' 0<"$d/dir" 3<"$d/dir"
    same "$output" "skiff: change to working directory $w: too many levels of symbolic links"
  done
  # The container's stdout a directory: the message comes on stderr.
  run -126 bash -c '"$SKIFF" run --rm -w /proc/self/fd/1 bb sh -c "touch ESCAPED ../ESCAPED" 2>&1 1<"$1"' _ "$d/dir"
  same "$output" "skiff: change to working directory /proc/self/fd/1: too many levels of symbolic links"
  # A directory as stderr: skiff cannot say why, but the command does not run.
  run bash -c '"$SKIFF" run --rm -w /proc/self/fd/2 bb sh -c "touch ESCAPED ../ESCAPED" 2<"$1"' _ "$d/dir"
  [ "$status" -ne 0 ]
  nothing_escaped
  # WORKDIR in a Dockerfile, with directories open in the caller.
  for w in /proc/1/fd/3 /proc/thread-self/fd/4 /proc/self/cwd; do
    printf 'FROM bb\nWORKDIR %s\nRUN touch ESCAPED ../ESCAPED ../../ESCAPED\n' "$w" > "$CTX/Dockerfile"
    run -126 --separate-stderr skiff build -q --no-cache -t wd "$CTX" 3<"$d/dir" 4<"$d/dir" 7<"$d/dir"
    [[ "$stderr" == "skiff: Dockerfile:3: change to working directory $w: "* ]] || { echo "$stderr" >&2; false; }
    [ "${#stderr_lines[@]}" = 1 ]
  done
  run -125 skiff image inspect wd
  nothing_escaped
}

# --- symlinked mount targets: CVE-2019-16884, CVE-2021-30465, CVE-2025-31133,
# --- CVE-2025-52565, CVE-2025-52881 -------------------------------------------------

@test "symlinked mount targets: /proc, /dev or /sys a symlink out of the root fails in one line; nothing is made outside" {
  # To a directory of the host (a skiff that resolved the link on the host
  # would mount there and start) or to a path to make there (it would make
  # it), absolute or through ../.
  local up=../../../../../../../../../.. t target
  for t in "proc $CANARY" "proc $up$CANARY/made" "dev $up$CANARY" "sys $CANARY/made"; do
    target=${t#* } t=${t%% *}
    image_from_busybox "link-$t" "rm -rf $t && ln -s $target $t"
    run -125 skiff run --rm "link-$t" sh -c 'touch /proc/ESCAPED /dev/ESCAPED /sys/ESCAPED; echo started'
    same "$output" "skiff: container set-up failed: make a mount point /$t: no such file or directory"
    canary_untouched
  done
  # /proc a symlink to /etc: proc is mounted there, inside, and /etc/hosts
  # then cannot be made in it.
  image_from_busybox proc-etc 'rm -rf proc && ln -s /etc proc'
  run -125 skiff run --rm proc-etc true
  same "$output" "skiff: container set-up failed: make a mount point /etc/hosts: no such file or directory"
  nothing_escaped
  run -0 skiff ps -aq
  [ -z "$output" ]
}

@test "symlinked mount targets: /proc, /dev and /sys symlinks inside the root get the mounts there; masked paths stay masked" {
  image_from_busybox inside-links \
    'rm -rf proc dev sys && mkdir -p inside/proc inside/dev inside/sys && ln -s /inside/proc proc && ln -s inside/dev dev && ln -s ../inside/sys sys'
  local probe='stat -f -c %T /inside/proc /inside/sys /proc /sys; stat -c %F /dev/null
    for p in /proc/keys /proc/timer_list /proc/kcore /proc/sched_debug; do [ -e $p ] && echo "$p $(stat -c %F $p) $(wc -c < $p)"; done
    stat -f -c %T /sys/firmware; ls -A /sys/firmware | wc -l
    echo x > /proc/sys/kernel/domainname || echo proc-sys-read-only'
  local how
  for how in "" --init; do
    run -0 skiff run --rm $how inside-links sh -c "$probe"
    [ "${lines[0]}" = proc ]
    [ "${lines[1]}" = sysfs ]
    [ "${lines[2]}" = proc ]
    [ "${lines[3]}" = sysfs ]
    [ "${lines[4]}" = "character special file" ]
    # At least one masked file of /proc exists here; each shows as empty /dev/null.
    [[ "${lines[5]}" == /proc/*" character special file 0" ]]
    local l
    for l in "${lines[@]}"; do
      [[ "$l" != /proc/* ]] || [[ "$l" == *" character special file 0" ]] || { echo "not masked: $l" >&2; false; }
    done
    has_line tmpfs
    has_line 0
    has_line_starting "sh: can't create /proc/sys/kernel/domainname: Read-only file system"
    has_line proc-sys-read-only
  done
  canary_untouched
}

@test "symlinked mount targets: symlinks in the image's /dev (null, pts, shm, console, ptmx, mqueue) are covered; nothing outside is written" {
  image_from_busybox dev-links "rm -rf dev && mkdir dev && ln -s $CANARY/file dev/null && ln -s $CANARY dev/pts &&
    ln -s ../../../../../../../../..$CANARY dev/shm && ln -s $CANARY/console dev/console && ln -s $CANARY/ptmx dev/ptmx &&
    ln -s $CANARY/mq dev/mqueue && ln -s $CANARY/file dev/full"
  local probe='echo x > /dev/null; echo y > /dev/shm/ESCAPED; echo z > /dev/pts/ESCAPED; echo w > /dev/console
    stat -c "%n %F %t,%T" /dev/null /dev/full; stat -c "%n %F" /dev/pts /dev/shm /dev/mqueue; readlink /dev/ptmx
    stat -c "%F" /proc/timer_list /proc/keys 2>/dev/null | sort -u; true'
  local how
  for how in "" --init -t; do
    run -0 skiff run --rm $how dev-links sh -c "$probe" </dev/null
    lines=("${lines[@]%$'\r'}") # a terminal ends its lines with CR LF
    has_line_starting "/dev/null character special file 1,3"
    has_line_starting "/dev/full character special file 1,7"
    has_line "/dev/pts directory"
    has_line "/dev/shm directory"
    has_line "/dev/mqueue directory"
    has_line pts/ptmx
    has_line_starting "character special file"
    canary_untouched
  done
  nothing_escaped
}

@test "symlinked mount targets: /etc/hosts, /etc/hostname, /etc/resolv.conf symlinks out of the root fail in one line; inside, they are mounted there" {
  # With /etc a symlink (to usr/etc), skiff has no mount points of its own
  # above the image's /etc: the image's symlinks are what it finds.
  # To a file of the host (a skiff that resolved the link on the host would
  # write it) or to a path to make there (it would make it), absolute or
  # through ../.
  local f target
  for f in "hosts $CANARY/file" "hostname ../../../../../../../../../..$CANARY/made" "resolv.conf $CANARY/made"; do
    target=${f#* } f=${f%% *}
    image_from_busybox etc-link "mkdir -p usr && mv etc usr/etc && ln -s usr/etc etc && rm -f usr/etc/$f && ln -s $target usr/etc/$f"
    run -125 skiff run --rm -h boxname etc-link sh -c "echo ESCAPED >> /etc/$f; echo started"
    same "$output" "skiff: container set-up failed: make a mount point /etc/$f: no such file or directory"
    canary_untouched
  done
  # Symlinks to other files of the image: skiff's content lands there.
  run -0 skiff run --rm -h boxname bb sh -c 'cat /etc/hosts; echo --; cat /etc/hostname; echo --; cat /etc/resolv.conf'
  local want=$output
  image_from_busybox etc-link 'mkdir -p usr && mv etc usr/etc && ln -s usr/etc etc && cd usr/etc && rm -f hosts hostname resolv.conf &&
    touch o1 o2 o3 && ln -s /etc/o1 hosts && ln -s o2 hostname && ln -s ../etc/o3 resolv.conf'
  run -0 skiff run --rm -h boxname etc-link sh -c 'cat /usr/etc/o1; echo --; cat /usr/etc/o2; echo --; cat /usr/etc/o3'
  same "$output" "$want"
  # Where /etc is a directory, skiff's own files are above the image's
  # symlinks.
  image_from_busybox etc-dir "ln -s $CANARY/file etc/hostname && ln -s ../../../../../../../..$CANARY/file etc/hosts && ln -s $CANARY/made etc/resolv.conf"
  run -0 skiff run --rm -h boxname etc-dir sh -c \
    'for f in hosts hostname resolv.conf; do [ -f /etc/$f ] && ! [ -L /etc/$f ] && echo "$f file"; echo ESCAPED >> /etc/$f; done; cat /etc/hostname'
  same "$output" "hosts file
hostname file
resolv.conf file
boxname
ESCAPED"
  canary_untouched
}

@test "symlinked mount targets: -v, --mount and --tmpfs onto a symlink out of the root fail in one line; onto one inside, the mount lands there" {
  local vol="$BATS_TEST_TMPDIR/vol"
  mkdir "$vol"
  echo volume > "$vol/volfile"
  image_from_busybox vol-links "ln -s $CANARY data && ln -s ../../../../../../../../..$CANARY rel && ln -s $CANARY/made made &&
    ln -s $CANARY linkdir && mkdir inside && ln -s /inside toinside"
  local t how
  for t in /data /rel /made /linkdir/sub; do
    for how in "-v $vol:$t" "-v $vol:$t:ro" "--mount type=bind,source=$vol,target=$t"; do
      [ "$t" = /rel ] || [ "$how" = "-v $vol:$t" ] || continue # every way once, one way everywhere
      run -125 skiff run --rm $how vol-links sh -c "touch $t/ESCAPED; echo started"
      same "$output" "skiff: container set-up failed: make a mount point $t (from $vol): no such file or directory"
    done
    run -125 skiff run --rm --tmpfs "$t" vol-links sh -c "touch $t/ESCAPED; echo started"
    same "$output" "skiff: container set-up failed: make a mount point $t: no such file or directory"
    canary_untouched
  done
  run -0 skiff run --rm -v "$vol:/toinside" vol-links sh -c 'ls /toinside; touch /toinside/from-container; awk '\''$5 == "/inside" { print "mounted" }'\'' /proc/self/mountinfo'
  same "$output" $'volfile\nmounted'
  [ -e "$vol/from-container" ]
  run -0 skiff run --rm --tmpfs /toinside vol-links sh -c 'stat -f -c %T /inside'
  same "$output" tmpfs
  # The host's path made inside the image: the mount goes there, inside.
  image_from_busybox vol-host-path "mkdir -p .$CANARY && ln -s $CANARY data"
  run -0 skiff run --rm -v "$vol:/data" vol-host-path sh -c "ls /data; touch $CANARY/in-image"
  same "$output" $'from-container\nvolfile'
  [ -e "$vol/in-image" ]
  # A masked path that is a symlink: out of the root it masks nothing and
  # makes nothing; inside, what it leads to is masked.
  run -0 skiff run --rm --security-opt mask=/data:/made:/rel:/toinside vol-links sh -c \
    'readlink /data; stat -f -c %T /inside; ls -A /inside; touch /inside/x 2>/dev/null || echo read-only'
  same "$output" "$CANARY
tmpfs
read-only"
  canary_untouched
}

@test "symlinked /etc/passwd and /etc/group out of the root: -u never reads the host's files" {
  printf 'hostonly:x:4242:4242::/:/bin/sh\n' > "$CANARY/passwd"
  printf 'hostgroup:x:4343:hostonly\n' > "$CANARY/group"
  image_from_busybox pw-link "rm etc/passwd etc/group && ln -s $CANARY/passwd etc/passwd && ln -s ../../../../../../../../..$CANARY/group etc/group"
  run -125 skiff run --rm -u hostonly pw-link id
  same "$output" "skiff: unable to find user hostonly: no matching entries in passwd file"
  run -125 skiff run --rm -u 0:hostgroup pw-link id
  same "$output" "skiff: unable to find group hostgroup: no matching entries in group file"
  run -0 skiff run --rm pw-link id
  [[ "$output" == "uid=0 gid=0"* ]]
}

# --- CVE-2018-15664 and kin: COPY and ADD through symlinks ---------------------------

@test "COPY and ADD: a context symlink out of the context, on the way or at the end, is refused in one line" {
  echo host-private-key > "$BATS_TEST_TMPDIR/secret.txt"
  mkdir -p "$BATS_TEST_TMPDIR/secretdir/sub"
  echo host-private-key > "$BATS_TEST_TMPDIR/secretdir/key.txt"
  mkdir -p "$BATS_TEST_TMPDIR/arch/evil"
  echo host-private-key > "$BATS_TEST_TMPDIR/arch/evil/key.txt"
  tar -C "$BATS_TEST_TMPDIR/arch" -cf "$BATS_TEST_TMPDIR/host.tar" .
  ln -s "$BATS_TEST_TMPDIR/secret.txt" "$CTX/abs"
  ln -s ../secret.txt "$CTX/rel"
  ln -s "$BATS_TEST_TMPDIR/secretdir" "$CTX/absdir"
  ln -s ../secretdir "$CTX/reldir"
  ln -s ../host.tar "$CTX/rel.tar"
  ln -s "$BATS_TEST_TMPDIR/host.tar" "$CTX/abs.tar"
  # (build.bats tries COPY of abs and rel.)
  local ins src
  for ins in ADD COPY; do
    for src in abs rel absdir/key.txt reldir/ rel.tar abs.tar; do
      [ "$ins" = ADD ] || [ "$src" = absdir/key.txt ] || [ "$src" = reldir/ ] || continue
      printf 'FROM bb\n%s %s /x/\nRUN cat /x/* /x/*/* 2>/dev/null; true\n' "$ins" "$src" > "$CTX/Dockerfile"
      run -125 --separate-stderr skiff build -t got "$CTX"
      same "$stderr" "skiff: Dockerfile:2: $ins: $src: no such file or directory"
    done
  done
  # Through a glob.
  printf 'FROM bb\nCOPY ab* /x/\n' > "$CTX/Dockerfile"
  run -125 --separate-stderr skiff build -t got "$CTX"
  [ "${stderr,,}" = "skiff: dockerfile:2: copy: abs: no such file or directory" ] || { echo "$stderr" >&2; false; }
  printf 'FROM bb\nADD absdir/* /x/\n' > "$CTX/Dockerfile"
  run -125 --separate-stderr skiff build -t got "$CTX"
  same "$stderr" "skiff: Dockerfile:2: ADD: absdir/*: no source files were specified (nothing matches)"
  run -125 skiff image inspect got
  nothing_left_behind
}

@test "COPY, ADD and WORKDIR into a base image's symlink to /, /etc or a host directory land inside the image" {
  local hostw="$BATS_TEST_TMPDIR/hostw"
  mkdir "$hostw"
  echo a > "$CTX/a.txt"
  printf 'FROM bb\nRUN ln -s / /app && ln -s /etc /app2 && ln -s %s /app3 && ln -s ../../../../../../../../../..%s /app4\n' \
    "$hostw" "$hostw" > "$CTX/Dockerfile.base"
  run -0 skiff build -q -t linkbase -f "$CTX/Dockerfile.base" "$CTX"
  # All in one build: through each link, an archive unpacked, a file, a
  # directory and a WORKDIR made, then one RUN writing through all four.
  # (Names differ from link to link, so that no two steps make the same
  # layer.)
  local d last="RUN true"
  echo FROM linkbase > "$CTX/Dockerfile"
  for d in app app2 app3 app4; do
    mkdir -p "$CTX/sub-$d"
    echo inner > "$CTX/sub-$d/inner.txt"
    tar -C "$CTX" -cf "$CTX/$d.tar" "sub-$d"
    printf 'ADD %s.tar /%s/\nADD a.txt /%s/added-%s\nCOPY sub-%s /%s/subcopy-%s\nWORKDIR /%s/wd-%s\n' \
      "$d" "$d" "$d" "$d" "$d" "$d" "$d" "$d" "$d" >> "$CTX/Dockerfile"
    last+=" && echo ran > /$d/ran-$d"
  done
  echo "$last" >> "$CTX/Dockerfile"
  run -0 skiff build -q -t into-links "$CTX"
  [ -z "$(ls -A "$hostw")" ]
  run -0 skiff run --rm into-links sh -c 'pwd; for d in / /etc "$1"; do find $d -maxdepth 1 -name "*-app*" | sort; done
    cat /sub-app/inner.txt /etc/subcopy-app2/inner.txt "$1/added-app4" "$1/ran-app3"' _ "$hostw"
  same "$output" "$hostw/wd-app4
/added-app
/ran-app
/sub-app
/subcopy-app
/wd-app
/etc/added-app2
/etc/ran-app2
/etc/sub-app2
/etc/subcopy-app2
/etc/wd-app2
$hostw/added-app3
$hostw/added-app4
$hostw/ran-app3
$hostw/ran-app4
$hostw/sub-app3
$hostw/sub-app4
$hostw/subcopy-app3
$hostw/subcopy-app4
$hostw/wd-app3
$hostw/wd-app4
inner
inner
a
ran"
  nothing_left_behind
}

@test "COPY --from a stage or an image whose path is a symlink to a host path reads nothing of the host" {
  mkdir -p "$BATS_TEST_TMPDIR/secret"
  echo host-private-key > "$BATS_TEST_TMPDIR/secret/key.txt"
  local s="$BATS_TEST_TMPDIR/secret"
  printf 'FROM bb\nRUN ln -s %s /app && ln -s ../../../../../../../../../..%s /rel && ln -s / /root-link\n' "$s" "$s" \
    > "$CTX/Dockerfile.base"
  run -0 skiff build -q -t frombase -f "$CTX/Dockerfile.base" "$CTX"
  local src
  for src in /app/key.txt /rel/key.txt "/root-link$s/key.txt" /app /rel/; do
    printf 'FROM frombase AS s\nFROM bb\nCOPY --from=s %s /k/\nRUN cat /k/* 2>/dev/null; true\n' "$src" > "$CTX/Dockerfile"
    run -125 --separate-stderr skiff build -t got "$CTX"
    same "$stderr" "skiff: Dockerfile:3: $src: no such file or directory"
  done
  for src in /app/key.txt /rel/; do
    printf 'FROM bb\nCOPY --from=frombase %s /k/\nRUN cat /k/* 2>/dev/null; true\n' "$src" > "$CTX/Dockerfile"
    run -125 --separate-stderr skiff build -t got "$CTX"
    same "$stderr" "skiff: Dockerfile:2: $src: no such file or directory"
  done
  run -125 skiff image inspect got
  nothing_left_behind
}

# --- commit and diff of a container swapping a directory for a symlink ------------

@test "commit and diff of a container swapping directories for symlinks to the host never take a host file" {
  local h="$BATS_TEST_TMPDIR/hostonly"
  mkdir "$h"
  # Its content appears on no command line: only a read of the file finds it.
  head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$h/hostmarker"
  local marker
  marker=$(cat "$h/hostmarker")
  local up=../../../../../../../../../../..
  "$SKIFF" run --name swap bb sh -c "mkdir -p /d/sub /e; echo inside > /d/sub/file; echo inside > /e/file
    ln -s $h /abs; ln -s $up$h /rel; touch /ready
    while :; do mv /d /d.old; ln -s $h /d; mv /e /e.old; ln -s $up$h /e; rm /d /e; mv /d.old /d; mv /e.old /e; done" \
    >/dev/null 2>&1 &
  bgpid=$!
  wait_for sh -c 'test -e "$SKIFF_ROOT"/containers/*/upper/ready'
  local i made=()
  for i in 1 2 3; do
    # Paused (the default), and not: then a read may fail, saying why.
    run -0 skiff commit swap "snap$i"
    made+=("snap$i")
    run skiff commit --pause=false swap "live$i"
    if [ "$status" = 0 ]; then
      made+=("live$i")
    else
      [ "$status" = 125 ] && [ "${#lines[@]}" = 1 ] && [[ "$output" == "skiff: "* ]] || { echo "commit: $status: $output" >&2; false; }
    fi
    run skiff diff swap
    if [ "$status" = 0 ]; then
      lacks "$output" hostmarker
    else
      [ "$status" = 125 ] && [ "${#lines[@]}" = 1 ] && [[ "$output" == "skiff: "* ]] || { echo "diff: $status: $output" >&2; false; }
    fi
  done
  run -0 skiff rm -f swap
  wait "$bgpid" || true
  bgpid=
  # No layer in the store has the host's file, by name or content (commits
  # are gzipped, imports kept as they came).
  local f commits=0
  for f in "$SKIFF_ROOT"/blobs/sha256/*; do
    if gzip -t "$f" 2>/dev/null; then
      commits=$((commits + 1))
      run -0 tar -tzf "$f"
      lacks "$output" hostmarker
      ! zcat "$f" | grep -aq "$marker" || { echo "the host's file is in $f" >&2; false; }
    else
      if tar -tf "$f" >/dev/null 2>&1; then
        run -0 tar -tf "$f"
        lacks "$output" hostmarker
      fi
      ! grep -aq "$marker" "$f" || { echo "the host's file is in $f" >&2; false; }
    fi
  done
  ((commits > 0))
  # What a user of the last image sees.
  run -0 skiff run --rm "${made[-1]}" sh -c "find / -xdev -name hostmarker; readlink /abs; readlink /rel"
  same "$output" "$h
$up$h"
}
