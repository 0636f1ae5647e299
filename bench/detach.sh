#!/bin/bash
# Detached-container benchmark: skiff against rootless podman in three
# cases, as an unprivileged user, with every time taken by bench/timeit
# running as ONE process of that user:
#   1. cycle: `run -d IMG sleep 1000` then `rm -f ID` (one sample is both)
#   2. parallel: PAR `run --rm IMG true` started at once, until all exited,
#      against one run alone (perfect scaling: PAR x one run / CPUs)
#   3. memory: the summed PSS of the monitors of MEM_N detached containers
#      (skiff's forked monitors, podman's conmon processes)
# Run as root:   sudo bench/detach.sh
#
# Environment:
#   SKIFF=PATH        skiff binary (default: <repo>/build/src/skiff)
#   SKIFF_BASELINE=PATH  a second skiff binary (unset: none).  Every skiff
#                     case is then also run with it, as its own case
#                     (LABEL-baseline, with a store of its own), in the same
#                     rounds, and the report gives new/baseline ratios.
#   RUNS=10           measured rounds of cases 1 and 2 (interleaved, shuffled)
#   WARMUP=2          unmeasured rounds first
#   TIMEOUT=300       per-run limit in seconds (a run over it fails the case)
#   PAR=32            containers started at once in case 2
#   MEM_N=50          detached containers per engine in case 3
#   MEM_ROUNDS=1      rounds of case 3 (0 skips it)
#   BENCH_USER=skiff-bench            user with /etc/subuid,subgid ranges
#   NOSUB_USER=skiff-bench-nosub      user without ranges (NOSUB=0 to skip)
#   PODMAN=1          0 skips the podman cases
#   STORE_FS=ext4     where the stores and run roots go: "ext4" (a fresh ext4
#                     in a loop-mounted image file, in a private mount
#                     namespace) or "dir" (the bench dir's own file system)
#   KEEP=0            1 keeps the temporary bench directory (for inspection)
#   RESULTS=FILE      also append the report to FILE
#
# See "Detached-container benchmark" in bench/README.md.
set -eu -o pipefail

RUNS=${RUNS:-10}
WARMUP=${WARMUP:-2}
TIMEOUT=${TIMEOUT:-300}
PAR=${PAR:-32}
MEM_N=${MEM_N:-50}
MEM_ROUNDS=${MEM_ROUNDS:-1}
BENCH_USER=${BENCH_USER:-skiff-bench}
NOSUB_USER=${NOSUB_USER:-skiff-bench-nosub}
NOSUB=${NOSUB:-1}
PODMAN=${PODMAN:-1}
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
[[ "$TIMEOUT" =~ ^[1-9][0-9]*$ ]] || die "TIMEOUT must be a positive integer"
[[ "$PAR" =~ ^[1-9][0-9]*$ ]] || die "PAR must be a positive integer"
[[ "$MEM_N" =~ ^[1-9][0-9]*$ ]] || die "MEM_N must be a positive integer"
[[ "$MEM_ROUNDS" =~ ^[0-9]+$ ]] || die "MEM_ROUNDS must be a non-negative integer"

# ---------------------------------------------------------------- tools ----
missing=()
command -v cc >/dev/null || missing+=("gcc (cc)")
command -v unshare >/dev/null || missing+=("util-linux (unshare)")
command -v runuser >/dev/null || missing+=("util-linux (runuser)")
command -v newuidmap >/dev/null || missing+=("uidmap (newuidmap)")
command -v timeout >/dev/null || missing+=("coreutils (timeout)")
[ -x /bin/busybox ] || missing+=("busybox-static (/bin/busybox)")
if [ ${#missing[@]} -gt 0 ]; then
  die "missing: ${missing[*]}; install with: apt-get update && apt-get install -y gcc util-linux uidmap busybox-static"
fi

SKIFF_SRC=$(readlink -f -- "$SKIFF" 2>/dev/null || true)
{ [ -n "$SKIFF_SRC" ] && [ -f "$SKIFF_SRC" ] && [ -x "$SKIFF_SRC" ]; } ||
  die "no skiff binary at $SKIFF (build it, or set SKIFF=/path/to/skiff)"
BASE_SRC=
[ -z "$SKIFF_BASELINE" ] || BASE_SRC=$(baseline_src "$SKIFF_BASELINE")

# ------------------------------------------------------------ processes ----
# Everything we start runs as the bench users (or their subordinate IDs) and
# begins after this script did.  Cleanup first removes, as their user and by
# id, every container the script made and did not remove yet (the ids of
# case 3 are in ids files as they are made; a cycle of case 1 that was cut
# short is found by `ps -aq`), then kills what is left of ours by pid.

BENCH=
declare -A UHOME UDIR URUN
USERS_SET=()
# engine commands per user, for cleanup: "user|label|IMAGE|engine words"
ENGINES=()
cleanup_containers() {
  local e u label eng f ids
  for e in "${ENGINES[@]}"; do
    IFS='|' read -r u label _ eng <<<"$e"
    # shellcheck disable=SC2086 # the engine's words
    mapfile -t ids < <(as_user "$u" timeout 60 $eng ps -aq 2>/dev/null || true)
    if [ ${#ids[@]} -eq 0 ]; then
      for f in "${UDIR[$u]}"/ids-*-"$label"; do
        [ -f "$f" ] && mapfile -t -O "${#ids[@]}" ids <"$f"
      done
    fi
    [ ${#ids[@]} -gt 0 ] || continue
    say "removing ${#ids[@]} container(s) of $label left by $u"
    # shellcheck disable=SC2086,SC2046
    as_user "$u" timeout 120 $eng rm -f $([ "$label" != podman ] || echo -t 0) "${ids[@]}" >/dev/null 2>&1 ||
      note "$label rm -f of what $u left failed"
  done
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ -z "$BENCH" ] || cleanup_containers || true
  kill_ours || true
  if [ -n "$BENCH" ] && [ -d "$BENCH" ]; then
    mountpoint -q "$BENCH/s" 2>/dev/null && { umount "$BENCH/s" || note "could not unmount $BENCH/s"; }
    if [ "$KEEP" = 1 ]; then
      say "KEEP=1: leaving $BENCH"
    else
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
cd "$BENCH"   # a directory every user here can enter

# ------------------------------------------------------------ the store ----
# As in startup.sh: the stores and run roots on a fresh ext4 (with a
# journal) in a loop-mounted image, so that the host's disk says nothing.
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
# The same image as startup.sh's: Debian's static busybox and its applets.
say "building the busybox rootfs"
ROOTFS=$BENCH/rootfs
mkdir -p "$ROOTFS"/{bin,etc,dev,proc,sys,tmp,root,run,var}
cp /bin/busybox "$ROOTFS/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -s busybox "$ROOTFS/bin/$applet"
done
mkdir -p "$ROOTFS/usr"
ln -s ../bin "$ROOTFS/usr/bin"
ln -s bin "$ROOTFS/sbin"
printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' \
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$ROOTFS/etc/passwd"
printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$ROOTFS/etc/group"
chmod -R go+rX,go-w "$ROOTFS"
chmod 1777 "$ROOTFS/tmp"
chmod 700 "$ROOTFS/root"
{ [ -x "$ROOTFS/bin/true" ] && [ -L "$ROOTFS/bin/sleep" ]; } || die "rootfs has no /bin/true or /bin/sleep"
tar -C "$ROOTFS" --numeric-owner --owner=0 --group=0 --sort=name -cf "$BENCH/rootfs.tar" .
chmod 644 "$BENCH/rootfs.tar"

# ------------------------------------------------------- per-user setup ----
NUSERS=0
setup_user() { # user
  local u=$1 d=$BENCH/s/u-$1
  NUSERS=$((NUSERS + 1))
  # Short, as in startup.sh: conmon's socket paths under it must fit in
  # sun_path, or every podman run waits out a 20 s timeout.
  local r=$BENCH/s/r$NUSERS
  UHOME[$u]=$(getent passwd "$u" | cut -d: -f6)
  UDIR[$u]=$d
  URUN[$u]=$r
  mkdir -p "$d/config" "$d/data" "$d/cache" "$d/skiff" "$r"
  [ -z "$BASE_SRC" ] || mkdir -p "$d/skiff-baseline" "$r/sb"
  chown -R "$u:" "$d" "$r"
  chmod 755 "$d"
  chmod 700 "$r"
  USERS_SET+=("$u")
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
SKIFF_IMG=bench-busybox
PODMAN_IMG=localhost/bench-busybox
PODMAN_BIN=$(command -v podman || true)
PODMAN_ENGINE="$PODMAN_BIN --runtime runc"
# The engines a user runs: label -> "IMAGE|engine words" (no blanks in
# paths here).  The baseline binary gets a store of its own by flags:
# SKIFF_ROOT, in every case's environment, is the new binary's.
declare -A ENG
engines_of() { # user -> ENG_LABELS, ENG[label]
  local u=$1
  ENG_LABELS=(skiff)
  ENG[skiff]="$SKIFF_IMG|$SK"
  if [ -n "$BASE_SRC" ]; then
    ENG_LABELS+=(skiff-baseline)
    ENG[skiff-baseline]="$SKIFF_IMG|$BENCH/bin/skiff-baseline --root ${UDIR[$u]}/skiff-baseline --runroot ${URUN[$u]}/sb"
  fi
  if [ "$u" = "$BENCH_USER" ] && [ -n "$PODMAN_OK" ]; then
    ENG_LABELS+=(podman)
    ENG[podman]="$PODMAN_IMG|$PODMAN_ENGINE"
  fi
}

import_into() { # user label -> 0/1; podman gets a trial run too
  local u=$1 label=$2 img eng log=$BENCH/logs/$2-import-$1.log
  IFS='|' read -r img eng <<<"${ENG[$label]}"
  say "importing the rootfs into $label as $u"
  # shellcheck disable=SC2086 # the engine's words
  if as_user "$u" $eng import "$BENCH/rootfs.tar" "$img:latest" >"$log" 2>&1 &&
     as_user "$u" $eng run --rm --network none "$img" true >>"$log" 2>&1; then
    ENGINES+=("$u|$label|$img|$eng")
    return 0
  fi
  note "$label import or trial run failed for $u (its cases will fail); its output:"
  tail -n 20 "$log" | sed 's/^/    /' >&2
  return 1
}

PODMAN_OK=
PODMAN_INFO=
if [ "$PODMAN" != 1 ]; then
  note "PODMAN=$PODMAN: skipping podman"
elif [ -z "$PODMAN_BIN" ]; then
  note "podman is not installed: skipping the podman cases"
else
  PODMAN_OK=1
fi

for u in "${USERS_SET[@]}"; do
  engines_of "$u"
  for label in "${ENG_LABELS[@]}"; do
    import_into "$u" "$label" || [ "$label" != podman ] || PODMAN_OK=
  done
done
if [ -n "$PODMAN_OK" ]; then
  # shellcheck disable=SC2086
  PODMAN_INFO=$(as_user "$BENCH_USER" $PODMAN_ENGINE info \
    --format 'podman {{.Version.Version}}, storage driver {{.Store.GraphDriverName}}, cgroup {{.Host.CgroupsVersion}} via {{.Host.CgroupManager}}' 2>/dev/null || true)
fi

# ----------------------------------------------------------------- header --
header() {
  echo "skiff detached-container benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
  # shellcheck disable=SC1091
  echo "host: $(uname -sr), $(nproc) CPU(s), $(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "skiff: $(binary_desc "$SKIFF_SRC")"
  [ -z "$BASE_SRC" ] || echo "skiff-baseline: $(binary_desc "$BASE_SRC")"
  [ -z "$PODMAN_INFO" ] || echo "podman: $PODMAN_INFO; runc $(runc --version 2>/dev/null | head -1 | awk '{print $3}'); conmon $(conmon --version 2>/dev/null | head -1 | awk '{print $3}')"
  echo "rootfs: busybox $(/bin/busybox | head -1 | awk '{print $2}') static, $(du -sh "$BENCH/rootfs.tar" | cut -f1) tar"
  echo "stores: $STORE_DESC"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "cases 1 and 2: $RUNS measured + $WARMUP warm-up rounds, interleaved and shuffled; timing by timeit inside one process of the user"
  echo "case 3: $MEM_N detached containers per engine, $MEM_ROUNDS round(s)"
}

load1=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load1" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
  note "load average is $load1 on $(nproc) CPU(s): absolute times will be inflated and noisy (ratios less so)"
fi
REPORT=$BENCH/report.txt
ANY_FAILED=0
{ header; echo; } | tee "$REPORT"

# ---------------------------------------------------------------- helpers --
# Medians from a samples file of timeit's (label run ms maxrss_kb); empty
# when the case has fewer than RUNS samples (it failed).
median_of() { # tsv label
  awk -F '\t' -v c="$2" -v runs="$RUNS" '
    NR > 1 && $1 == c { n++; v[n] = $3 }
    END {
      if (n < runs) exit
      for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
      pos = 0.5 * (n - 1); lo = int(pos); hi = lo + 1 < n ? lo + 1 : lo
      printf "%.4f\n", v[lo + 1] + (v[hi + 1] - v[lo + 1]) * (pos - lo)
    }' "$1"
}
calc() { awk "BEGIN { printf \"%s\", $1 }"; }   # calc 'sprintf(...)'
ms() { awk -v t="$1" 'BEGIN { printf(t < 10 ? "%.2f ms" : t < 100 ? "%.1f ms" : t < 1000 ? "%.0f ms" : "%.2f s", t < 1000 ? t : t / 1000) }'; }
GOALS=$BENCH/goals.txt   # written from the subshells of the reports' pipes
: >"$GOALS"
goal() { # text met(0/1) -> a line here and one for the report's end
  echo "$([ "$2" = 1 ] && echo "met    " || echo "NOT met") $1" >>"$GOALS"
  echo "goal: $1: $([ "$2" = 1 ] && echo met || echo NOT met)"
}

run_timeit() { # user title tsv ref args...
  local u=$1 title=$2 tsv=$3 ref=$4; shift 4
  say "running $title as $u (this takes a while)"
  echo "### $title (user $u)" | tee -a "$REPORT"
  local rc=0
  as_user "$u" "$TI" -n "$RUNS" -w "$WARMUP" -t "$TIMEOUT" --ref "$ref" \
    -o "$tsv" "$@" 2>"$BENCH/logs/timeit-$u.err" | tee -a "$REPORT" || rc=$?
  grep -v '^[.|]*$' "$BENCH/logs/timeit-$u.err" | grep -v '^timeit: [0-9]* case' >&2 || true
  case $rc in
    0) ;;
    2) note "some case FAILED in '$title' (see above)"; ANY_FAILED=1;;
    *) note "timeit exited with status $rc in '$title'"; ANY_FAILED=1;;
  esac
}

# The scripts a sample runs, in /bin/sh (dash here: a small shell whose own
# start is measured as the case "shell").  $1 and $2 are the image and rm's
# extra flags (podman's "-t 0", or nothing), the rest the engine's words.
# shellcheck disable=SC2016 # expanded by that shell, not this one
CYCLE_SH='img=$1 rmflags=$2; shift 2; id=$("$@" run -d --network none "$img" sleep 1000) && exec "$@" rm -f $rmflags "$id"'
# PAR copies of the command started at once (the shell forks them one after
# the other, without waiting), then each waited for; any failure fails it.
# shellcheck disable=SC2016
PAR_SH='n=$1; shift; i=0; pids=; while [ "$i" -lt "$n" ]; do "$@" & pids="$pids $!"; i=$((i + 1)); done; rc=0; for p in $pids; do wait "$p" || rc=$?; done; exit "$rc"'

# --------------------------------------------------------- case 1: cycle ---
case_cycle() { # user
  local u=$1 label img eng rmflags args=() tsv=${UDIR[$1]}/cycle.tsv
  engines_of "$u"
  for label in "${ENG_LABELS[@]}"; do
    IFS='|' read -r img eng <<<"${ENG[$label]}"
    rmflags=; [ "$label" != podman ] || rmflags="-t 0"
    # shellcheck disable=SC2206 # the engine's words
    args+=(-c "$label" /bin/sh -c "$CYCLE_SH" sh "$img" "$rmflags" $eng ';')
  done
  args+=(-c shell /bin/sh -c "$CYCLE_SH" sh "$SKIFF_IMG" "" /bin/true ';')
  run_timeit "$u" "case 1: run -d IMG sleep 1000, then rm -f ID" "$tsv" skiff "${args[@]}"
  local s p sh
  s=$(median_of "$tsv" skiff); p=$(median_of "$tsv" podman); sh=$(median_of "$tsv" shell)
  {
    [ -z "$s" ] || [ -z "$sh" ] ||
      echo "skiff's cycle $(ms "$s"), of which the shell that runs both commands $(ms "$sh") (the case \"shell\": the same script with /bin/true as the engine)"
    if [ -n "$s" ] && [ -n "$p" ]; then
      echo "podman/skiff = $(calc "sprintf(\"%.1fx\", $p / $s)") (podman $(ms "$p"), skiff $(ms "$s"))"
      [ -z "$sh" ] ||
        echo "without the shell's share (taken off both): podman/skiff = $(calc "sprintf(\"%.1fx\", ($p - $sh) / ($s - $sh))")"
      goal "case 1 ($u): skiff's run -d + rm -f at least 30x faster than podman's: $(calc "sprintf(\"%.1fx\", $p / $s)")" \
        "$(calc "($p / $s >= 30)")"
    fi
    [ -z "$BASE_SRC" ] || { echo; baseline_report "$tsv" 1 ms "p10 p90 min" "$RUNS" skiff skiff-baseline; }
    echo
  } | tee -a "$REPORT"
}

# ------------------------------------------------------ case 2: parallel ---
case_parallel() { # user
  local u=$1 label img eng args=() tsv=${UDIR[$1]}/parallel.tsv
  engines_of "$u"
  local base suf
  for label in "${ENG_LABELS[@]}"; do
    IFS='|' read -r img eng <<<"${ENG[$label]}"
    # skiff -> skiff-32 and skiff-1; skiff-baseline -> skiff-32-baseline ...
    base=${label%-baseline}; suf=${label#"$base"}
    # shellcheck disable=SC2206 # the engine's words
    args+=(-c "$base-$PAR$suf" /bin/sh -c "$PAR_SH" sh "$PAR" $eng run --rm --network none "$img" true ';')
    # shellcheck disable=SC2206
    args+=(-c "$base-1$suf" $eng run --rm --network none "$img" true ';')
  done
  args+=(-c "shell-$PAR" /bin/sh -c "$PAR_SH" sh "$PAR" /bin/true ';')
  run_timeit "$u" "case 2: $PAR x run --rm IMG true at once" "$tsv" "skiff-$PAR" "${args[@]}"
  local s1 sp p1 pp sh cpus perfect
  cpus=$(nproc)
  s1=$(median_of "$tsv" skiff-1); sp=$(median_of "$tsv" "skiff-$PAR")
  p1=$(median_of "$tsv" podman-1); pp=$(median_of "$tsv" "podman-$PAR")
  sh=$(median_of "$tsv" "shell-$PAR")
  {
    [ -z "$sh" ] || echo "the shell that starts and waits for the $PAR commands: $(ms "$sh") (the case \"shell-$PAR\", with /bin/true)"
    if [ -n "$s1" ] && [ -n "$sp" ]; then
      perfect=$(calc "$PAR * $s1 / $cpus")
      echo "perfect scaling for skiff: $PAR x $(ms "$s1") / $cpus CPUs = $(ms "$perfect"); skiff-$PAR/perfect = $(calc "sprintf(\"%.2fx\", $sp / $perfect)")"
      [ -z "$sh" ] ||
        echo "without the shell's share (its forks of $PAR commands): $(ms "$(calc "$sp - $sh")"), $(calc "sprintf(\"%.2fx\", ($sp - $sh) / $perfect)") perfect scaling"
      goal "case 2 ($u): skiff's $PAR at once within 1.5x of perfect scaling: $(calc "sprintf(\"%.2fx\", $sp / $perfect)")" \
        "$(calc "($sp / $perfect <= 1.5)")"
    fi
    if [ -n "$p1" ] && [ -n "$pp" ]; then
      echo "podman: $PAR x $(ms "$p1") / $cpus CPUs = $(ms "$(calc "$PAR * $p1 / $cpus")"); podman-$PAR/that = $(calc "sprintf(\"%.2fx\", $pp / ($PAR * $p1 / $cpus))")"
    fi
    if [ -n "$sp" ] && [ -n "$pp" ]; then
      echo "podman-$PAR/skiff-$PAR = $(calc "sprintf(\"%.1fx\", $pp / $sp)") (podman $(ms "$pp"), skiff $(ms "$sp"))"
      [ -z "$sh" ] ||
        echo "without the shell's share (taken off both): podman-$PAR/skiff-$PAR = $(calc "sprintf(\"%.1fx\", ($pp - $sh) / ($sp - $sh))")"
      goal "case 2 ($u): skiff's $PAR at once at least 20x faster than podman's: $(calc "sprintf(\"%.1fx\", $pp / $sp)")" \
        "$(calc "($pp / $sp >= 20)")"
    fi
    [ -z "$BASE_SRC" ] || { echo; baseline_report "$tsv" 1 ms "p10 p90 min" "$RUNS" \
      "skiff-$PAR" "skiff-$PAR-baseline" skiff-1 skiff-1-baseline; }
    echo
  } | tee -a "$REPORT"
}

# -------------------------------------------------------- case 3: memory ---
# The monitor of each container: skiff's is the forked skiff named by
# skiff_pid in the container's record; podman's is conmon, as podman
# inspect names it.  Their PSS (proportional set size: each shared page
# split between the processes that map it) is read from smaps_rollup as
# root, once all MEM_N are running, and summed: the monitors of one engine
# share their binary's pages, which PSS counts once in the sum.
monitor_pids() { # user label ids-file -> pids on stdout
  local u=$1 label=$2 f=$3 id img eng root
  IFS='|' read -r img eng <<<"${ENG[$label]}"
  if [ "$label" = podman ]; then
    # shellcheck disable=SC2086,SC2046 # the engine's words, the ids
    as_user "$u" $eng inspect --format '{{.State.ConmonPid}}' $(cat "$f")
    return
  fi
  root=${UDIR[$u]}/skiff
  [ "$label" = skiff ] || root=${UDIR[$u]}/skiff-baseline
  while read -r id; do
    grep -o '"skiff_pid": *[0-9]*' "$root/containers/$id/container.json" | grep -o '[0-9]*$' || echo 0
  done <"$f"
}
# Per process: Rss Pss Pss_Anon Pss_File Private (KiB) from smaps_rollup;
# summed, then divided by the number of processes.
pss_report() { # label exe-name pids...
  local label=$1 want=$2 pid k v n=0 bad=0
  shift 2
  declare -A sum=()
  for pid in "$@"; do
    if [ "$pid" -le 0 ] 2>/dev/null || [ ! -r "/proc/$pid/smaps_rollup" ] ||
       [ "$(basename "$(readlink "/proc/$pid/exe" 2>/dev/null)")" != "$want" ]; then
      bad=$((bad + 1)); continue
    fi
    n=$((n + 1))
    while read -r k v _; do
      case $k in
        Rss: | Pss: | Pss_Anon: | Pss_File: | Private_Clean: | Private_Dirty:) sum[${k%:}]=$((${sum[${k%:}]:-0} + v)) ;;
      esac
    done <"/proc/$pid/smaps_rollup"
  done
  [ "$bad" = 0 ] || note "$label: $bad of $# monitor pid(s) were not a live $want"
  [ "$n" -gt 0 ] || { echo "$label: no monitor found"; return 1; }
  printf '%-16s %4d %10.0f %10.0f %10.0f %10.0f %10.0f %10.0f\n' "$label" "$n" \
    "$(calc "${sum[Pss]:-0} / $n")" "$(calc "${sum[Pss_Anon]:-0} / $n")" "$(calc "${sum[Pss_File]:-0} / $n")" \
    "$(calc "(${sum[Private_Clean]:-0} + ${sum[Private_Dirty]:-0}) / $n")" "$(calc "${sum[Rss]:-0} / $n")" \
    "${sum[Pss]:-0}"
}
# What the PSS is made of, from smaps: per mapping (the file, [heap],
# [stack], or "anon"), the sums over the monitors of PSS and of private
# dirty memory (what each monitor wrote: its data, its heap), divided by
# their number.
pss_breakdown() { # label pids...
  local label=$1; shift
  local files=() pid
  for pid in "$@"; do [ -r "/proc/$pid/smaps" ] && files+=("/proc/$pid/smaps"); done
  [ ${#files[@]} -gt 0 ] || return 0
  echo "  $label, per monitor by mapping (KiB; the largest PSS): PSS, private dirty"
  awk -v n="${#files[@]}" '
    /^[0-9a-f]+-[0-9a-f]+ / { name = NF >= 6 ? $6 : "anon"; sub(".*/", "", name); next }
    /^Pss:/ { pss[name] += $2 }
    /^Private_Dirty:/ { dirty[name] += $2 }
    END { for (m in pss) printf "%10.1f %10.1f  %s\n", pss[m] / n, dirty[m] / n, m }' "${files[@]}" |
    sort -rn | head -n 8 | sed 's/^/  /'
}
declare -A MEM_PSS
case_memory() { # user
  local u=$1 round label img eng f pids order rmflags exe pss
  engines_of "$u"
  echo "### case 3: memory of $MEM_N detached sleep 1000 containers (user $u)" | tee -a "$REPORT"
  for ((round = 1; round <= MEM_ROUNDS; round++)); do
    # One engine's containers at a time, so that no page is shared across
    # engines (libc's); the order turns each round.
    order=("${ENG_LABELS[@]:$(((round - 1) % ${#ENG_LABELS[@]}))}" "${ENG_LABELS[@]:0:$(((round - 1) % ${#ENG_LABELS[@]}))}")
    {
      echo "round $round:"
      printf '%-16s %4s %10s %10s %10s %10s %10s %10s\n' monitors n "PSS" "PSS anon" "PSS file" private RSS "PSS sum"
      printf '%-16s %4s %10s %10s %10s %10s %10s %10s\n' "" "" "KiB each" "KiB each" "KiB each" "KiB each" "KiB each" "KiB"
    } | tee -a "$REPORT"
    local breakdown=
    for label in "${order[@]}"; do
      IFS='|' read -r img eng <<<"${ENG[$label]}"
      f=${UDIR[$u]}/ids-$round-$label
      say "starting $MEM_N detached containers with $label as $u"
      : >"$f"; chown "$u:" "$f"
      # shellcheck disable=SC2086,SC2016 # the engine's words; $vars for sh
      if ! as_user "$u" /bin/sh -c 'f=$1 n=$2 img=$3; shift 3; i=0
          while [ "$i" -lt "$n" ]; do
            id=$("$@" run -d --network none "$img" sleep 1000) || exit 1
            echo "$id" >>"$f"; i=$((i + 1))
          done' sh "$f" "$MEM_N" "$img" $eng >"$BENCH/logs/mem-$label-$u.log" 2>&1; then
        note "$label: starting the containers failed after $(wc -l <"$f"):"
        tail -n 5 "$BENCH/logs/mem-$label-$u.log" | sed 's/^/    /' >&2
        ANY_FAILED=1
      fi
      sleep 1   # the last monitor past its start-up
      mapfile -t pids < <(monitor_pids "$u" "$label" "$f" 2>>"$BENCH/logs/mem-$label-$u.log")
      exe=conmon
      [ "$label" = podman ] || exe=$(basename "${eng%% *}")
      pss_report "$label" "$exe" "${pids[@]}" >"$BENCH/pss.out" || ANY_FAILED=1
      tee -a "$REPORT" <"$BENCH/pss.out"
      pss=$(awk '$3 ~ /^[0-9.]+$/ { print $3 }' "$BENCH/pss.out")
      [ -z "$pss" ] || MEM_PSS[$label]=$pss
      breakdown+=$(pss_breakdown "$label" "${pids[@]}")$'\n'
      say "removing them"
      rmflags=; [ "$label" != podman ] || rmflags="-t 0"
      # shellcheck disable=SC2086,SC2046
      if as_user "$u" timeout 300 $eng rm -f $rmflags $(cat "$f") >>"$BENCH/logs/mem-$label-$u.log" 2>&1; then
        rm -f -- "$f"
      else
        note "$label: rm -f of the containers failed (cleanup tries again)"
      fi
    done
    printf '%s' "$breakdown" | tee -a "$REPORT"
  done
  {
    if [ -n "${MEM_PSS[skiff]:-}" ]; then
      [ -z "${MEM_PSS[podman]:-}" ] ||
        echo "conmon/skiff monitor PSS = $(calc "sprintf(\"%.2fx\", ${MEM_PSS[podman]} / ${MEM_PSS[skiff]})") (podman's conmon $(calc "sprintf(\"%.0f\", ${MEM_PSS[podman]})") KiB, skiff's monitor $(calc "sprintf(\"%.0f\", ${MEM_PSS[skiff]})") KiB; last round)"
      goal "case 3 ($u): at most 1 MiB PSS per skiff monitor: $(calc "sprintf(\"%.0f\", ${MEM_PSS[skiff]})") KiB" \
        "$(calc "(${MEM_PSS[skiff]} <= 1024)")"
    fi
    echo
  } | tee -a "$REPORT"
  MEM_PSS=()
}

for u in "${USERS_SET[@]}"; do
  case_cycle "$u"
  case_parallel "$u"
  [ "$MEM_ROUNDS" = 0 ] || case_memory "$u"
done

{
  echo "### goals"
  [ -s "$GOALS" ] || echo "(none measured)"
  cat "$GOALS"
  echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee -a "$REPORT"

if [ -n "$RESULTS" ]; then
  cat "$REPORT" >>"$RESULTS"
  say "report appended to $RESULTS"
fi
# 0: every case passed; 2: some case failed (the tables above say which).
[ "$ANY_FAILED" = 0 ] || exit 2
