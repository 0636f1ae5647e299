#!/usr/bin/env bats
# Ways out that a probe of skiff tried, each as it was tried: a Dockerfile, a
# base image, a layer or a running container reaching for the host, hanging
# skiff or leaving work behind. Each must fail cleanly, say why, and leave
# the host as it was.
load helpers
load build_helpers

eval "common_$(declare -f setup)"
eval "common_$(declare -f teardown)"

setup() {
  common_setup
  private_home
  # The context, and beside it a private file of the host that no build may read.
  CTX="$BATS_TEST_TMPDIR/ctx"
  mkdir -p "$CTX" "$BATS_TEST_TMPDIR/secret"
  echo host-private-key > "$BATS_TEST_TMPDIR/secret/key.txt"
  import_busybox
}

teardown() {
  if [ -n "${bgpid:-}" ]; then
    kill -KILL "$bgpid" 2>/dev/null || true
    wait "$bgpid" 2>/dev/null || true
  fi
  common_teardown
}

# Nothing named ESCAPED was written anywhere under the test's directory
# (the context's parent, the store, the run root).
nothing_escaped() {
  local found
  found=$(find "$BATS_TEST_TMPDIR" -name ESCAPED 2>/dev/null || true)
  [ -z "$found" ] || { echo "escaped: $found" >&2; return 1; }
}

# --- the working directory: WORKDIR /proc/self/fd/N (CVE-2024-21626) ---------

@test "RUN with WORKDIR /proc/self/fd/N cannot reach skiff's open directories" {
  local n
  for n in 3 4 5 6 7 8 9 10; do
    dockerfile <<EOF
FROM bb
WORKDIR /proc/self/fd/$n
RUN for up in .. ../.. ../../..; do echo x > \$up/ESCAPED; cat \$up/secret/key.txt; done; ls -la .. ../..
EOF
    run --separate-stderr skiff build --no-cache "$CTX"
    [ "$status" -ne 0 ]
    lacks "$output$stderr" host-private-key
    contains "$stderr" "working directory /proc/self/fd/$n"
    nothing_escaped
  done
}

@test "a base image with WORKDIR /proc/self/fd/N and ONBUILD RUN cannot reach the host" {
  local n
  for n in 3 4 5 6 7 8; do
    dockerfile <<EOF
FROM bb
WORKDIR /proc/self/fd/$n
ONBUILD RUN for up in .. ../.. ../../..; do echo x > \$up/ESCAPED; cat \$up/secret/key.txt; done; true
EOF
    run -0 --separate-stderr skiff build -t evilbase "$CTX"
    dockerfile <<'EOF'
FROM evilbase
RUN echo benign
EOF
    run --separate-stderr skiff build --no-cache "$CTX"
    [ "$status" -ne 0 ]
    lacks "$output$stderr" host-private-key
    nothing_escaped
  done
}

@test "run -w /proc/self/fd/N is refused; the caller's open files do not enter the container" {
  local n
  for n in 3 4 5 6 7 8; do
    run --separate-stderr skiff run --rm -w /proc/self/fd/$n bb sh -c 'echo x > ../ESCAPED; ls ..'
    [ "$status" -ne 0 ]
    contains "$stderr" "working directory /proc/self/fd/$n"
    nothing_escaped
  done
  # A file the calling shell has open is not the container's.
  run -0 --separate-stderr skiff run --rm bb sh -c 'for f in 7 9; do test -e /proc/self/fd/$f && echo open-$f; done; echo done' \
    7<"$BATS_TEST_TMPDIR/secret/key.txt" 9<"$BATS_TEST_TMPDIR/secret"
  [ "$output" = done ]
  # A working directory that is missing is still made, as docker does.
  run -0 --separate-stderr skiff run --rm -w /new/work/dir bb pwd
  [ "$output" = /new/work/dir ]
}

# --- RUN --mount=type=bind -----------------------------------------------------

@test "RUN --mount=type=bind,rw: a source named like an overlay option adds no host directory" {
  mkdir -p "$CTX/a" "$CTX/a:/etc"
  echo in-context > "$CTX/a:/etc/marker"
  dockerfile <<'EOF'
FROM bb
RUN --mount=type=bind,source=a:/etc,target=/m,rw ls -A /m; head -2 /m/passwd || true
RUN --mount=type=bind,source=a:/etc,target=/m ls -A /m
EOF
  run -0 --separate-stderr skiff build --no-cache "$CTX"
  [ "$(count_lines marker)" -eq 2 ]
  no_line "root:x:0:0:root:/root:/bin/bash"
  lacks "$output" "$(head -1 /etc/passwd)"
}

@test "RUN --mount=type=bind,rw: the step's writes never reach the context" {
  mkdir -p "$CTX/src"
  echo original > "$CTX/src/file"
  dockerfile <<'EOF'
FROM bb
RUN --mount=type=bind,source=src,target=/s,rw sh -c 'echo changed > /s/file; echo new > /s/new; rm -f /s/gone; cat /s/file'
EOF
  echo stays > "$CTX/src/gone"
  run -0 --separate-stderr skiff build --no-cache "$CTX"
  has_line changed
  [ "$(cat "$CTX/src/file")" = original ]
  [ ! -e "$CTX/src/new" ]
  [ -e "$CTX/src/gone" ]
}

@test "RUN --mount=type=bind: what .dockerignore leaves out is not in the mount" {
  echo SECRET=1 > "$CTX/.env"
  mkdir -p "$CTX/private" "$CTX/pub"
  echo hidden > "$CTX/private/x"
  echo shown > "$CTX/pub/x"
  printf '.env\nprivate\n' > "$CTX/.dockerignore"
  # A symlink in the context leads nowhere outside it.
  ln -s "$BATS_TEST_TMPDIR/secret" "$CTX/pub/link"
  dockerfile <<'EOF'
FROM bb
RUN --mount=type=bind,target=/ctx sh -c 'ls -A /ctx; cat /ctx/.env /ctx/private/x /ctx/pub/link/key.txt 2>&1; cat /ctx/pub/x'
EOF
  run -0 --separate-stderr skiff build --no-cache "$CTX"
  has_line shown
  lacks "$output" SECRET=1
  lacks "$output" hidden
  lacks "$output" host-private-key
  no_line .env
  no_line private
  # Named as the source, an ignored file is not there at all.
  dockerfile <<'EOF'
FROM bb
RUN --mount=type=bind,source=.env,target=/e cat /e
EOF
  run --separate-stderr skiff build --no-cache "$CTX"
  [ "$status" -ne 0 ]
  lacks "$output" SECRET=1
  contains "$stderr" ".env: no such file or directory in the build context"
}

# --- commit of a running container ---------------------------------------------

@test "commit pauses a running container by default, and it runs on after; --pause=false does not stop it" {
  # It counts, replacing /count whole each time (rename), so that any
  # moment it is stopped at has a whole number there.
  "$SKIFF" run --name busy bb sh -c 'i=0; while :; do i=$((i+1)); echo $i > /c; mv /c /count; done' >/dev/null 2>&1 &
  bgpid=$!
  wait_for sh -c 'test -s "$SKIFF_ROOT"/containers/*/upper/count'
  run -0 --separate-stderr skiff commit busy snap
  run -0 --separate-stderr skiff run --rm snap cat /count
  [[ "$output" =~ ^[0-9]+$ ]]
  # It was continued: it is still running, and not stopped.
  run -0 skiff ps
  [[ "${lines[1]}" =~ \ Up\ .*\ busy$ ]]
  local pid
  pid=$(head -1 "$SKIFF_RUNROOT"/locks/ctr-*.lock | cut -d" " -f1)
  [ -n "$pid" ]
  [ "$(sed 's/.*) //' "/proc/$pid/stat" | cut -c1)" != T ]
  run --separate-stderr skiff commit --pause=false busy snap2
  [ "$status" = 0 ] || { echo "commit --pause=false: $status: $stderr"; false; }
  run -0 --separate-stderr skiff rm -f busy
  wait "$bgpid" || true
  bgpid=
}

# --- layers ----------------------------------------------------------------------

@test "a whiteout of '..' is refused and removes nothing" {
  make_hostile
  run -0 skiff import "$BATS_TEST_TMPDIR/hostile/whiteout-dotdot.tar" wo
  mkdir -p "$SKIFF_ROOT/tmp"
  run -125 --separate-stderr skiff run --rm wo true
  contains "$stderr" 'invalid whiteout name ".wh..." in the layer'
  [ -d "$SKIFF_ROOT/tmp" ]
  run -0 skiff run --rm bb echo still-fine
  [ "$output" = still-fine ]
  # ADD of a local archive with such an entry, at the top of the destination.
  python3 - "$CTX/wh.tar" <<'PY'
import sys, tarfile, io
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as tf:
    ti = tarfile.TarInfo(".wh...")
    tf.addfile(ti, io.BytesIO(b""))
PY
  dockerfile <<'EOF'
FROM bb
ADD wh.tar /o/
RUN ls /bin/sh
EOF
  run --separate-stderr skiff build --no-cache -t whadd "$CTX"
  [ "$status" -ne 0 ]
  contains "$stderr" 'invalid whiteout name ".wh..."'
  [ -e "$CTX/wh.tar" ]
}

@test "an image whose /etc/passwd is a fifo: run -u fails at once, with a reason" {
  make_hostile
  run -0 skiff import "$BATS_TEST_TMPDIR/hostile/passwd-fifo.tar" pf
  local u
  for u in 0 nobody; do
    run -125 --separate-stderr timeout -s KILL 30 "$SKIFF" run --rm -u "$u" pf true
    [ "$stderr" = "skiff: the image's /etc/passwd is not a regular file: it cannot be read" ]
  done
  run -0 skiff ps -aq
  [ "$output" = "" ]
}

# --- work left in tmp/ -------------------------------------------------------------

@test "an import killed half way leaves nothing that the next command does not remove" {
  mkfifo "$BATS_TEST_TMPDIR/in"
  "$SKIFF" import - half < "$BATS_TEST_TMPDIR/in" >/dev/null 2>&1 &
  bgpid=$!
  exec {w}>"$BATS_TEST_TMPDIR/in"
  head -c 100000 "$SKIFF_TEST_FIXTURES/busybox.tar" >&$w
  wait_for sh -c 'ls "$SKIFF_ROOT"/tmp | grep -q import-'
  kill -KILL "$bgpid"
  wait "$bgpid" || true
  bgpid=
  exec {w}>&-
  run -0 sh -c 'ls "$SKIFF_ROOT/tmp"'
  [[ "$output" == import-* ]]
  run -0 skiff images -q
  [ "${#lines[@]}" -eq 1 ]
  import_busybox other
  run -0 sh -c 'ls -A "$SKIFF_ROOT/tmp"'
  [ "$output" = "" ]
}

# --- capabilities ------------------------------------------------------------------

@test "the inheritable and ambient capability sets are empty (CVE-2022-27650)" {
  run -0 --separate-stderr skiff run --rm bb grep -E '^Cap(Inh|Amb|Bnd|Eff)' /proc/self/status
  has_line $'CapInh:\t0000000000000000'
  has_line $'CapAmb:\t0000000000000000'
  has_line $'CapEff:\t00000000800405fb'
  has_line $'CapBnd:\t00000000800405fb'
  # A user other than root starts with none in effect, as in docker.
  if has_subuid; then
    run -0 --separate-stderr skiff run --rm -u 1000 bb grep -E '^CapEff' /proc/self/status
    has_line $'CapEff:\t0000000000000000'
  fi
}
