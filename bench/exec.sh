#!/bin/bash
# exec benchmark: `skiff exec CTR true` against `podman --runtime runc exec
# CTR true`, each into a container of its own that runs `sleep`, timed by
# bench/timeit as ONE process of an unprivileged user.  Run as root:
#   sudo bench/exec.sh
#
# Environment (as bench/startup.sh):
#   SKIFF=PATH        skiff binary (default: <repo>/build/src/skiff)
#   SKIFF_BASELINE=PATH  a second skiff binary, run as its own case (it
#                     execs into the same container)
#   RUNS=30 WARMUP=3 TIMEOUT=120
#   BENCH_USER=skiff-bench           user with /etc/subuid,subgid ranges
#   NOSUB_USER=skiff-bench-nosub     user without ranges (NOSUB=0 to skip)
#   PODMAN=1          0 skips podman
#   KEEP=0            1 keeps the temporary bench directory
#   RESULTS=FILE      also append the report to FILE
set -eu -o pipefail

RUNS=${RUNS:-30}
WARMUP=${WARMUP:-3}
TIMEOUT=${TIMEOUT:-120}
BENCH_USER=${BENCH_USER:-skiff-bench}
NOSUB_USER=${NOSUB_USER:-skiff-bench-nosub}
NOSUB=${NOSUB:-1}
PODMAN=${PODMAN:-1}
KEEP=${KEEP:-0}
RESULTS=${RESULTS:-}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"
REPO=$(cd "$HERE/.." && pwd)
SKIFF=${SKIFF:-$REPO/build/src/skiff}
SKIFF_BASELINE=${SKIFF_BASELINE:-}

[ "$(id -u)" = 0 ] || die "run as root (sudo $0): it switches to the bench users"
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer"
for tool in cc runuser; do command -v $tool >/dev/null || die "missing: $tool"; done
[ -x /bin/busybox ] || die "missing: /bin/busybox (apt-get install -y busybox-static)"
SKIFF_SRC=$(readlink -f -- "$SKIFF" 2>/dev/null || true)
{ [ -n "$SKIFF_SRC" ] && [ -x "$SKIFF_SRC" ]; } || die "no skiff binary at $SKIFF"
BASE_SRC=
[ -z "$SKIFF_BASELINE" ] || BASE_SRC=$(baseline_src "$SKIFF_BASELINE")
id "$BENCH_USER" >/dev/null 2>&1 || die "no user $BENCH_USER: bench/startup.sh makes it"
if [ "$NOSUB" = 1 ] && ! id "$NOSUB_USER" >/dev/null 2>&1; then NOSUB=0; note "no user $NOSUB_USER: skipped"; fi

# The bench users may be running other benchmarks meanwhile: only what this
# script started is ended, by pid or by its container's name.
BENCH=
declare -A UDIR
STARTED=()   # user:pid of each `skiff run` started in the background
PODMAN_USERS=()
stop_ours() {
  local entry u pid
  for entry in "${STARTED[@]}"; do
    u=${entry%%:*} pid=${entry#*:}
    as_user "$u" "$BENCH/bin/skiff" rm -f bench >/dev/null 2>&1 || true
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  for u in "${PODMAN_USERS[@]}"; do
    as_user "$u" podman --runtime runc rm -f -t 0 bench >/dev/null 2>&1 || true
    # The pause process podman started for this XDG_RUNTIME_DIR of ours.
    if pid=$(cat "${UDIR[$u]}/r/libpod/tmp/pause.pid" 2>/dev/null); then kill -KILL "$pid" 2>/dev/null || true; fi
  done
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_ours || true
  if [ -n "$BENCH" ] && [ -d "$BENCH" ]; then
    if [ "$KEEP" = 1 ]; then say "KEEP=1: leaving $BENCH"; else rm -rf -- "$BENCH" || note "could not remove all of $BENCH"; fi
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

BENCH=$(mktemp -d /var/tmp/skiff-bench.XXXXXX)
chmod 755 "$BENCH"
mkdir -p "$BENCH/bin" "$BENCH/logs"
cp -- "$SKIFF_SRC" "$BENCH/bin/skiff"
[ -z "$BASE_SRC" ] || cp -- "$BASE_SRC" "$BENCH/bin/skiff-baseline"
cc -O2 -Wall -o "$BENCH/bin/timeit" "$HERE/timeit.c"
chmod 755 "$BENCH/bin" "$BENCH"/bin/*
chmod 777 "$BENCH/logs"
cd "$BENCH"
say "building the busybox rootfs"
make_busybox_rootfs "$BENCH/rootfs" "$BENCH/rootfs.tar"

N=0
as_user() { # user cmd...
  local u=$1; shift
  local d=${UDIR[$u]}
  runuser -u "$u" -- env -i HOME="$d/home" USER="$u" LOGNAME="$u" LANG=C.UTF-8 \
    PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin XDG_RUNTIME_DIR="$d/r" \
    XDG_CONFIG_HOME="$d/config" XDG_DATA_HOME="$d/data" SKIFF_ROOT="$d/skiff" SKIFF_RUNROOT="$d/r/skiff" "$@"
}
setup_user() { # user
  N=$((N + 1))
  # Short: conmon's socket paths under XDG_RUNTIME_DIR must fit in 108 bytes.
  local d=$BENCH/u$N
  UDIR[$1]=$d
  mkdir -p "$d/home" "$d/config" "$d/data" "$d/skiff" "$d/r"
  chown -R "$1:" "$d"
  chmod 700 "$d/r"
}

REPORT=$BENCH/report.txt
{
  echo "skiff exec benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
  # shellcheck disable=SC1091
  echo "host: $(uname -sr), $(nproc) CPU(s), $(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "skiff: $(binary_desc "$SKIFF_SRC")"
  [ -z "$BASE_SRC" ] || echo "skiff-baseline: $(binary_desc "$BASE_SRC")"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "runs: $RUNS measured + $WARMUP warm-up per case, interleaved"
  echo
} | tee "$REPORT"

ANY_FAILED=0
bench_user() { # user with-podman title
  local u=$1 with_podman=$2 title=$3
  setup_user "$u"
  local SK=$BENCH/bin/skiff cases=()
  say "starting a skiff container as $u"
  as_user "$u" "$SK" import "$BENCH/rootfs.tar" bench-busybox >/dev/null
  as_user "$u" "$SK" run --rm --network none --name bench bench-busybox sleep 100000 \
    >"$BENCH/logs/skiff-run-$u.log" 2>&1 &
  STARTED+=("$u:$!")
  local _
  for _ in $(seq 200); do as_user "$u" "$SK" exec bench true 2>/dev/null && break; sleep 0.05; done
  as_user "$u" "$SK" exec bench true || die "skiff exec does not work as $u"
  cases+=(skiff "$SK exec bench true")
  [ -z "$BASE_SRC" ] || cases+=(skiff-baseline "$BENCH/bin/skiff-baseline exec bench true")
  if [ "$with_podman" = 1 ]; then
    local P="podman --runtime runc"
    say "starting a podman container as $u"
    PODMAN_USERS+=("$u")
    # shellcheck disable=SC2086 # $P is the command and its flag, split on purpose
    if as_user "$u" $P import "$BENCH/rootfs.tar" localhost/bench-busybox:latest >"$BENCH/logs/podman.log" 2>&1 &&
       as_user "$u" $P run -d --network none --name bench localhost/bench-busybox sleep 100000 >>"$BENCH/logs/podman.log" 2>&1 &&
       as_user "$u" $P exec bench true >>"$BENCH/logs/podman.log" 2>&1; then
      cases+=(podman "$(command -v podman) --runtime runc exec bench true")
    else
      note "podman failed, skipping it; its output:"; tail -n 20 "$BENCH/logs/podman.log" | sed 's/^/    /' >&2
    fi
  fi
  say "running $title as $u"
  echo "### $title (user $u)" | tee -a "$REPORT"
  local rc=0
  as_user "$u" "$BENCH/bin/timeit" -n "$RUNS" -w "$WARMUP" -t "$TIMEOUT" --ref skiff -- "${cases[@]}" \
    2>"$BENCH/logs/timeit-$u.err" | tee -a "$REPORT" || rc=$?
  echo | tee -a "$REPORT"
  [ "$rc" = 0 ] || { note "timeit exited with status $rc in '$title'"; ANY_FAILED=1; }
}

bench_user "$BENCH_USER" "$PODMAN" "exec with subordinate IDs"
[ "$NOSUB" = 1 ] && bench_user "$NOSUB_USER" 0 "exec without subordinate IDs"
if [ -n "$RESULTS" ]; then cat "$REPORT" >>"$RESULTS"; say "report appended to $RESULTS"; fi
[ "$ANY_FAILED" = 0 ] || exit 2
