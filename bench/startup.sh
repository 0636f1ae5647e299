#!/bin/bash
# Start-up benchmark: `skiff run --rm` vs rootless podman vs bare-namespace
# floors, all timed by bench/timeit running as ONE process of an unprivileged
# user.  Run as root:   sudo bench/startup.sh
#
# Environment:
#   SKIFF=PATH        skiff binary (default: <repo>/build/src/skiff).
#                     SKIFF=/bin/true makes a trivially passing stand-in, to
#                     test the harness before skiff exists.
#   SKIFF_BASELINE=PATH  a second skiff binary (unset: none).  Every skiff
#                     case is then also run with it, as its own case
#                     (LABEL-baseline, with a store of its own), in the same
#                     rounds, and the report gives new/baseline ratios.
#   RUNS=30           measured rounds per case (interleaved, shuffled each round)
#   WARMUP=3          unmeasured rounds first
#   TIMEOUT=120       per-run limit in seconds (a run over it fails the case)
#   BENCH_USER=skiff-bench            user with /etc/subuid,subgid ranges
#   NOSUB_USER=skiff-bench-nosub      user without ranges (NOSUB=0 to skip)
#   PODMAN=1          0 skips the podman cases
#   NET=1             0 skips the default-network cases (skiff-pasta,
#                     skiff-slirp4netns, podman-net)
#   PODMAN_OVERLAY=1  0 skips the extra podman case with --storage-driver overlay
#   STORE_FS=ext4     where the stores and run roots go: "ext4" (a fresh ext4
#                     with a journal in a loop-mounted image file, mounted in a
#                     private mount namespace this script runs in) or "dir"
#                     (the bench dir's own file system, as it is)
#   KEEP=0            1 keeps the temporary bench directory (for inspection)
#   RESULTS=FILE      also append the report to FILE
#
# See bench/README.md for what each case measures.
set -eu -o pipefail

RUNS=${RUNS:-30}
WARMUP=${WARMUP:-3}
TIMEOUT=${TIMEOUT:-120}
BENCH_USER=${BENCH_USER:-skiff-bench}
NOSUB_USER=${NOSUB_USER:-skiff-bench-nosub}
NOSUB=${NOSUB:-1}
PODMAN=${PODMAN:-1}
PODMAN_OVERLAY=${PODMAN_OVERLAY:-1}
KEEP=${KEEP:-0}
RESULTS=${RESULTS:-}
STORE_FS=${STORE_FS:-ext4}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"
REPO=$(cd "$HERE/.." && pwd)
SKIFF=${SKIFF:-$REPO/build/src/skiff}
SKIFF_BASELINE=${SKIFF_BASELINE:-}


[ "$(id -u)" = 0 ] || die "run as root (sudo $0): it creates the bench users and switches to them"
[[ "$STORE_FS" =~ ^(ext4|dir)$ ]] || die "STORE_FS must be ext4 or dir"
# The store's mount lives in a mount namespace of this script's own: it goes
# with the script, whatever ends it.
if [ "$STORE_FS" = ext4 ] && [ -z "${SKIFF_BENCH_NS:-}" ]; then
  command -v mkfs.ext4 >/dev/null || die "STORE_FS=ext4 needs mkfs.ext4: apt-get install -y e2fsprogs (or STORE_FS=dir)"
  exec unshare -m --propagation private env SKIFF_BENCH_NS=1 "$0" "$@"
fi
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer"
[[ "$WARMUP" =~ ^[0-9]+$ ]] || die "WARMUP must be a non-negative integer"

# ---------------------------------------------------------------- tools ----
missing=()
command -v cc >/dev/null || missing+=("gcc (cc)")
command -v unshare >/dev/null || missing+=("util-linux (unshare)")
command -v runuser >/dev/null || missing+=("util-linux (runuser)")
command -v newuidmap >/dev/null || missing+=("uidmap (newuidmap)")
[ -x /bin/busybox ] || missing+=("busybox-static (/bin/busybox)")
if [ ${#missing[@]} -gt 0 ]; then
  die "missing: ${missing[*]}; install with: apt-get update && apt-get install -y gcc util-linux uidmap busybox-static"
fi
if ! /bin/busybox --list >/dev/null 2>&1 || ldd /bin/busybox >/dev/null 2>&1; then
  note "/bin/busybox is not a static busybox; the rootfs needs busybox-static"
fi

SKIFF_SRC=$(readlink -f -- "$SKIFF" 2>/dev/null || true)
{ [ -n "$SKIFF_SRC" ] && [ -f "$SKIFF_SRC" ] && [ -x "$SKIFF_SRC" ]; } ||
  die "no skiff binary at $SKIFF (build it, or set SKIFF=/path/to/skiff; SKIFF=/bin/true tests the harness)"
BASE_SRC=
[ -z "$SKIFF_BASELINE" ] || BASE_SRC=$(baseline_src "$SKIFF_BASELINE")

# ------------------------------------------------------------ processes ----
# Everything we start runs as the bench users (or their subordinate IDs) and
# begins after this script did; cleanup kills exactly those processes, by pid.

BENCH=
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  kill_ours || true
  if [ -n "$BENCH" ] && [ -d "$BENCH" ]; then
    mountpoint -q "$BENCH/s" 2>/dev/null && { umount "$BENCH/s" || note "could not unmount $BENCH/s"; }
    if [ "$KEEP" = 1 ]; then
      say "KEEP=1: leaving $BENCH"
    else
      # Files owned by subordinate IDs (podman's vfs layers) are no problem for root.
      rm -rf -- "$BENCH" || note "could not remove all of $BENCH"
    fi
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- users ----
has_subids() { # user file
  local uid; uid=$(id -u "$1")
  grep -qE "^($1|$uid):" "$2" 2>/dev/null
}
next_free_subid() {
  awk -F: 'BEGIN { m = 100000 } NF >= 3 { e = $2 + $3; if (e > m) m = e } END { print m }' \
    /etc/subuid /etc/subgid 2>/dev/null
}

if ! id "$BENCH_USER" >/dev/null 2>&1; then
  say "creating user $BENCH_USER"
  useradd -m -s /bin/bash "$BENCH_USER"
fi
for f in /etc/subuid /etc/subgid; do
  if ! has_subids "$BENCH_USER" "$f"; then
    s=$(next_free_subid)
    say "adding a subordinate range $s-$((s + 65535)) for $BENCH_USER to $f"
    if [ "$f" = /etc/subuid ]; then
      usermod --add-subuids "$s-$((s + 65535))" "$BENCH_USER"
    else
      usermod --add-subgids "$s-$((s + 65535))" "$BENCH_USER"
    fi
  fi
  has_subids "$BENCH_USER" "$f" || die "$BENCH_USER still has no range in $f"
done
add_owned_user "$BENCH_USER"

if [ "$NOSUB" = 1 ]; then
  if ! id "$NOSUB_USER" >/dev/null 2>&1; then
    say "creating user $NOSUB_USER (no subordinate IDs)"
    useradd -m -s /bin/bash -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$NOSUB_USER"
  fi
  if has_subids "$NOSUB_USER" /etc/subuid || has_subids "$NOSUB_USER" /etc/subgid; then
    note "$NOSUB_USER has subordinate ranges in /etc/subuid or /etc/subgid: skipping the no-subuid variant"
    NOSUB=0
  else
    add_owned_user "$NOSUB_USER"
  fi
fi

# ------------------------------------------------------------ bench dir ----
BENCH=$(mktemp -d /var/tmp/skiff-bench.XXXXXX)
chmod 755 "$BENCH"
mkdir -p "$BENCH/bin" "$BENCH/logs"
cp -- "$SKIFF_SRC" "$BENCH/bin/skiff"
cc -O2 -Wall -o "$BENCH/bin/timeit" "$HERE/timeit.c"
chmod 755 "$BENCH/bin" "$BENCH/bin/skiff" "$BENCH/bin/timeit"
chmod 777 "$BENCH/logs"
if [ -n "$BASE_SRC" ]; then
  cp -- "$BASE_SRC" "$BENCH/bin/skiff-baseline"
  chmod 755 "$BENCH/bin/skiff-baseline"
fi
for b in "$BENCH"/bin/skiff*; do
  if ldd "$b" 2>/dev/null | grep -q 'not found'; then
    note "$(basename "$b") has unresolved shared libraries:"; ldd "$b" | grep 'not found' >&2
  fi
done
cd "$BENCH"   # a directory every user here can enter

# ------------------------------------------------------------ the store ----
# Stores and run roots go to $BENCH/s.  STORE_FS=ext4: a new ext4 (mkfs
# defaults, so with a journal, no discard) in a sparse image file. On this
# host's journal-less root file system, mounted with discard, every file
# made after a few deleted trees costs up to a millisecond and every file
# removed a discard: the figures then say more about that disk than about
# skiff (see "The file system" in bench/README.md). The floors touch no disk.
mkdir -p "$BENCH/s"
if [ "$STORE_FS" = ext4 ]; then
  truncate -s 4G "$BENCH/store.img"
  mkfs.ext4 -q -E lazy_itable_init=0,lazy_journal_init=0 "$BENCH/store.img" || die "mkfs.ext4 failed"
  mount -o loop -- "$BENCH/store.img" "$BENCH/s" || die "cannot mount the store file system"
  STORE_DESC="a new ext4 (journal) in a loop-mounted image"
else
  STORE_DESC="$(df --output=fstype "$BENCH" | tail -n 1) under the bench dir ($(findmnt -no OPTIONS -T "$BENCH"))"
fi
chmod 755 "$BENCH/s"

# ---------------------------------------------------------------- rootfs ---
say "building the busybox rootfs"
ROOTFS=$BENCH/rootfs
make_busybox_rootfs "$ROOTFS" "$BENCH/rootfs.tar"

# ------------------------------------------------------- per-user setup ----
# Every user gets a private XDG_RUNTIME_DIR (rootless podman wants one), and
# its podman/skiff state (XDG_DATA_HOME, XDG_CONFIG_HOME, SKIFF_ROOT) in the
# bench dir, so each run starts from nothing and cleanup is one rm -rf.
declare -A UHOME UDIR URUN
NUSERS=0
setup_user() { # user
  local u=$1 d=$BENCH/s/u-$1
  NUSERS=$((NUSERS + 1))
  # Keep XDG_RUNTIME_DIR short: with one longer than ~40 characters conmon's
  # sockets under it overflow the 108-byte sun_path limit and every
  # `podman run` then waits out a 20 s timeout before returning.
  local r=$BENCH/s/r$NUSERS
  UHOME[$u]=$(getent passwd "$u" | cut -d: -f6)
  UDIR[$u]=$d
  URUN[$u]=$r
  mkdir -p "$d/config" "$d/data" "$d/cache" "$d/skiff" "$r"
  [ -z "$BASE_SRC" ] || mkdir -p "$d/skiff-baseline" "$r/sb"
  chown -R "$u:" "$d" "$r"
  chmod 755 "$d"
  chmod 700 "$r"
  [ ${#r} -le 36 ] || note "XDG_RUNTIME_DIR $r is long; podman may stall on socket paths"
}
as_user() { # user cmd...
  local u=$1; shift
  local d=${UDIR[$u]}
  runuser -u "$u" -- env -i \
    HOME="${UHOME[$u]}" USER="$u" LOGNAME="$u" LANG=C.UTF-8 \
    PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
    XDG_RUNTIME_DIR="${URUN[$u]}" XDG_CONFIG_HOME="$d/config" \
    XDG_DATA_HOME="$d/data" XDG_CACHE_HOME="$d/cache" \
    SKIFF_ROOT="$d/skiff" \
    "$@"
}
setup_user "$BENCH_USER"
[ "$NOSUB" = 1 ] && setup_user "$NOSUB_USER"

SK=$BENCH/bin/skiff
TI=$BENCH/bin/timeit
# The baseline binary has a store of its own, made by itself: SKIFF_ROOT
# (the environment timeit runs in) is the new binary's, so the baseline
# gets --root and --runroot (taken by run's fast parser as by CLI11).
declare -A SKB
skb() { # user -> SKB[user]: the baseline binary and its store flags
  SKB[$1]="$BENCH/bin/skiff-baseline --root ${UDIR[$1]}/skiff-baseline --runroot ${URUN[$1]}/sb"
}
skiff_import() { # user [label] -> 0/1
  local label=${2:-skiff} bin=("$SK")
  local log=$BENCH/logs/$label-import-$1.log
  # shellcheck disable=SC2206 # the flags are words without blanks
  [ "$label" = skiff ] || bin=(${SKB[$1]})
  if as_user "$1" "${bin[@]}" import "$BENCH/rootfs.tar" bench-busybox:latest >"$log" 2>&1; then
    return 0
  fi
  note "$label import failed for $1 (the $label case will fail too); its output:"
  sed 's/^/    /' "$log" >&2
  return 1
}
skiff_imports() { # user
  say "importing the rootfs into skiff as $1"
  skiff_import "$1" || true
  if [ -n "$BASE_SRC" ]; then
    skb "$1"
    say "importing the rootfs into skiff-baseline as $1"
    skiff_import "$1" skiff-baseline || true
  fi
}
skiff_imports "$BENCH_USER"

# podman: host defaults (its storage driver, here usually vfs) plus, if it
# works, an overlay-driver variant in a separate store so both stay valid.
PODMAN_BIN=$(command -v podman || true)
PODMAN_CASES=()
PODMAN_INFO=
PODMAN_DEF="--runtime runc"
PODMAN_OVL="--root ${UDIR[$BENCH_USER]}/podman-overlay/root --runroot ${URUN[$BENCH_USER]}/ovl --storage-driver overlay --runtime runc"
podman_try() { # label "global flags"
  local label=$1 flags=$2 log=$BENCH/logs/$1.log
  # shellcheck disable=SC2086
  if as_user "$BENCH_USER" "$PODMAN_BIN" $flags import "$BENCH/rootfs.tar" localhost/bench-busybox:latest >"$log" 2>&1 &&
     as_user "$BENCH_USER" "$PODMAN_BIN" $flags run --rm --network none localhost/bench-busybox true >>"$log" 2>&1; then
    PODMAN_CASES+=("$label" "$PODMAN_BIN $flags run --rm --network none localhost/bench-busybox true")
    # Its default network (slirp4netns for podman 4 rootless), against skiff's.
    [ "$label" != podman ] || [ "${NET:-1}" != 1 ] || PODMAN_CASES+=("podman-net" "$PODMAN_BIN $flags run --rm localhost/bench-busybox true")
    return 0
  fi
  note "$label failed once, skipping it; its output:"
  tail -n 20 "$log" | sed 's/^/    /' >&2
  return 1
}
if [ "$PODMAN" != 1 ]; then
  note "PODMAN=$PODMAN: skipping podman"
elif [ -z "$PODMAN_BIN" ]; then
  note "podman is not installed: skipping the podman case"
else
  say "importing the rootfs into podman as $BENCH_USER"
  if podman_try podman "$PODMAN_DEF"; then
    # shellcheck disable=SC2086
    PODMAN_INFO=$(as_user "$BENCH_USER" "$PODMAN_BIN" $PODMAN_DEF info \
      --format 'podman {{.Version.Version}}, storage driver {{.Store.GraphDriverName}}, cgroup {{.Host.CgroupsVersion}} via {{.Host.CgroupManager}}' 2>/dev/null || true)
    if [ "$PODMAN_OVERLAY" = 1 ]; then
      # shellcheck disable=SC2086
      drv=$(as_user "$BENCH_USER" "$PODMAN_BIN" $PODMAN_DEF info --format '{{.Store.GraphDriverName}}' 2>/dev/null || true)
      if [ "$drv" != overlay ]; then
        mkdir -p "${UDIR[$BENCH_USER]}/podman-overlay"
        chown "$BENCH_USER:" "${UDIR[$BENCH_USER]}/podman-overlay"
        podman_try podman-overlay "$PODMAN_OVL" || true
      fi
    fi
  fi
fi

# ----------------------------------------------------------------- header --
header() {
  echo "skiff start-up benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
  # shellcheck disable=SC1091
  echo "host: $(uname -sr), $(nproc) CPU(s), $(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "skiff: $(binary_desc "$SKIFF_SRC")"
  [ -z "$BASE_SRC" ] || echo "skiff-baseline: $(binary_desc "$BASE_SRC")"
  [ -n "$PODMAN_INFO" ] && echo "podman: $PODMAN_INFO; runc $(runc --version 2>/dev/null | head -1 | awk '{print $3}')"
  echo "rootfs: busybox $(/bin/busybox | head -1 | awk '{print $2}') static, $(du -sh "$BENCH/rootfs.tar" | cut -f1) tar"
  echo "stores: $STORE_DESC"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "runs: $RUNS measured + $WARMUP warm-up per case, interleaved; timing by timeit inside one process of the user"
}

load1=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load1" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
  note "load average is $load1 on $(nproc) CPU(s): absolute times will be inflated and noisy (ratios less so)"
fi
REPORT=$BENCH/report.txt
ANY_FAILED=0
{ header; echo; } | tee "$REPORT"

# ------------------------------------------------------------------ cases --
run_timeit() { # user title args...
  local u=$1 title=$2; shift 2
  say "running $title as $u (this takes a while)"
  {
    echo "### $title (user $u)"
  } | tee -a "$REPORT"
  local rc=0
  as_user "$u" "$TI" -n "$RUNS" -w "$WARMUP" -t "$TIMEOUT" --ref skiff \
    -o "${UDIR[$u]}/samples.tsv" "$@" 2>"$BENCH/logs/timeit-$u.err" | tee -a "$REPORT" || rc=$?
  grep -v '^[.|]*$' "$BENCH/logs/timeit-$u.err" | grep -v '^timeit: [0-9]* case' >&2 || true
  if [ -n "$BASE_SRC" ]; then
    echo
    baseline_report "${UDIR[$u]}/samples.tsv" 1 ms "p10 p90 min" "$RUNS" \
      skiff skiff-baseline skiff-host skiff-host-baseline
  fi | tee -a "$REPORT"
  echo | tee -a "$REPORT"
  case $rc in
    0) ;;
    2) note "some case FAILED in '$title' (see above)"; ANY_FAILED=1;;
    *) note "timeit exited with status $rc in '$title'"; ANY_FAILED=1;;
  esac
}

# skiff-host keeps the host's network: the same namespaces as the floors.
# --network none also makes a network namespace, which the -net floors add.
# With SKIFF_BASELINE, each skiff case has its baseline twin beside it.
skiff_cases() { # user -> CASES+=: skiff and skiff-host (and their baselines)
  CASES+=(skiff "$SK run --rm --network none bench-busybox true")
  [ -z "$BASE_SRC" ] || CASES+=(skiff-baseline "${SKB[$1]} run --rm --network none bench-busybox true")
  CASES+=(skiff-host "$SK run --rm --network host bench-busybox true")
  # The default network's helpers, started for the container and ended with it.
  if [ "${NET:-1}" = 1 ]; then
    ! command -v pasta >/dev/null || CASES+=(skiff-pasta "$SK run --rm --network pasta bench-busybox true")
    ! command -v slirp4netns >/dev/null || CASES+=(skiff-slirp4netns "$SK run --rm --network slirp4netns bench-busybox true")
  fi
  [ -z "$BASE_SRC" ] || CASES+=(skiff-host-baseline "${SKB[$1]} run --rm --network host bench-busybox true")
}
CASES=()
skiff_cases "$BENCH_USER"
CASES+=("${PODMAN_CASES[@]}")
CASES+=(floor-1id "$(command -v unshare) -Urmpf --mount-proc true")
# unshare's own --root, not chroot(1): a third program's start would cost
# 0.9 ms here and flatter skiff.
CASES+=(floor-1id-chroot "$(command -v unshare) -Urmpf --mount-proc --root=$ROOTFS /bin/true")
CASES+=(floor-1id-chroot-net "$(command -v unshare) -Urmpfn --mount-proc --root=$ROOTFS /bin/true")
CASES+=(floor-fullmap "$(command -v unshare) --map-auto --map-root-user -mpf --mount-proc true")
CASES+=(floor-fullmap-net "$(command -v unshare) --map-auto --map-root-user -mpfn --mount-proc true")
run_timeit "$BENCH_USER" "with subordinate IDs" -- "${CASES[@]}"

if [ "$NOSUB" = 1 ]; then
  skiff_imports "$NOSUB_USER"
  CASES=()
  skiff_cases "$NOSUB_USER"
  run_timeit "$NOSUB_USER" "without subordinate IDs" -- "${CASES[@]}" \
    floor-1id "$(command -v unshare) -Urmpf --mount-proc true" \
    floor-1id-net "$(command -v unshare) -Urmpfn --mount-proc true" \
    floor-1id-chroot "$(command -v unshare) -Urmpf --mount-proc --root=$ROOTFS /bin/true" \
    floor-1id-chroot-net "$(command -v unshare) -Urmpfn --mount-proc --root=$ROOTFS /bin/true"
fi

if [ -n "$RESULTS" ]; then
  cat "$REPORT" >>"$RESULTS"
  say "report appended to $RESULTS"
fi
# 0: every case passed; 2: some case failed (the tables above say which).
[ "$ANY_FAILED" = 0 ] || exit 2
