#!/bin/bash
# Save and load benchmark: `skiff save` of the pull benchmark's Debian image
# (one gzip layer of ~90 MB) to a docker-archive, and `skiff load` of that
# archive into an empty store, against rootless podman doing the same and
# against the machine's raw cost of handling the archive ("floors": cp of
# it, `openssl dgst -sha256` of it, `tar -x` of it, and the layer inflated
# and unpacked by a shell pipeline).  Every run is timed by
# bench/timeit, started from ONE bash process of an unprivileged user; what
# lies between runs (removing the stores a load made, sync) is untimed.
# Run as root:   sudo bench/saveload.sh
#
# Environment:
#   SKIFF=PATH        skiff binary (default: <repo>/build/src/skiff)
#   RUNS=5            measured rounds per case (interleaved round-robin)
#   WARMUP=1          unmeasured rounds first
#   TIMEOUT=600       per-run limit in seconds (a run over it fails the case)
#   BENCH_USER=skiff-bench            user with /etc/subuid,subgid ranges
#   BENCH_IMAGE_DIR=/var/tmp/skiff-bench-image
#                     where bench/pull.sh keeps the image (its OCI layout
#                     oci/ and image.env); run bench/pull.sh once to make it
#   PODMAN=1          0 skips the podman cases
#   KEEP=0            1 keeps the temporary bench directory (for inspection)
#   RESULTS=FILE      also append the report to FILE
#
# See bench/README.md for what each case measures.
set -eu -o pipefail

RUNS=${RUNS:-5}
WARMUP=${WARMUP:-1}
TIMEOUT=${TIMEOUT:-600}
BENCH_USER=${BENCH_USER:-skiff-bench}
BENCH_IMAGE_DIR=${BENCH_IMAGE_DIR:-/var/tmp/skiff-bench-image}
PODMAN=${PODMAN:-1}
KEEP=${KEEP:-0}
RESULTS=${RESULTS:-}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"
REPO=$(cd "$HERE/.." && pwd)
SKIFF=${SKIFF:-$REPO/build/src/skiff}

[ "$(id -u)" = 0 ] || die "run as root (sudo $0): it creates the bench user and switches to it"
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer"
[[ "$WARMUP" =~ ^[0-9]+$ ]] || die "WARMUP must be a non-negative integer"
[[ "$TIMEOUT" =~ ^[1-9][0-9]*$ ]] || die "TIMEOUT must be a positive integer"

LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
load1=${LOAD_AT_START%% *}
if awk -v l="$load1" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
  note "load average is $load1 on $(nproc) CPU(s): absolute times will be inflated and noisy (ratios less so)"
fi

# ---------------------------------------------------------------- tools ----
missing=()
command -v cc >/dev/null || missing+=("gcc (cc)")
command -v runuser >/dev/null || missing+=("util-linux (runuser)")
command -v newuidmap >/dev/null || missing+=("uidmap (newuidmap)")
for t in openssl tar python3; do
  command -v "$t" >/dev/null || missing+=("$t")
done
if [ ${#missing[@]} -gt 0 ]; then
  die "missing: ${missing[*]}; install with: apt-get update && apt-get install -y gcc util-linux uidmap openssl tar python3"
fi
SKIFF_SRC=$(readlink -f -- "$SKIFF" 2>/dev/null || true)
{ [ -n "$SKIFF_SRC" ] && [ -f "$SKIFF_SRC" ] && [ -x "$SKIFF_SRC" ]; } ||
  die "no skiff binary at $SKIFF (build it, or set SKIFF=/path/to/skiff)"
IMG=$BENCH_IMAGE_DIR
{ [ -s "$IMG/oci/index.json" ] && [ -s "$IMG/image.env" ]; } ||
  die "no bench image in $IMG: run sudo bench/pull.sh once (it debootstraps the image and keeps it there)"
# shellcheck disable=SC1091
. "$IMG/image.env"
PODMAN_BIN=
if [ "$PODMAN" != 1 ]; then
  note "PODMAN=$PODMAN: skipping podman"
elif ! PODMAN_BIN=$(command -v podman); then
  note "podman is not installed: skipping the podman cases"
  PODMAN_BIN=
fi

# ------------------------------------------------------------ processes ----
# Everything we start runs as the bench user (or its subordinate IDs) and
# begins after this script did; cleanup kills exactly those processes, by pid.
BENCH=
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  kill_ours || true
  if [ -n "$BENCH" ] && [ -d "$BENCH" ]; then
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

# ------------------------------------------------------------ bench dir ----
BENCH=$(mktemp -d /var/tmp/skiff-bench.XXXXXX)
chmod 755 "$BENCH"
mkdir -p "$BENCH/bin" "$BENCH/logs" "$BENCH/out" "$BENCH/t" "$BENCH/u/config" "$BENCH/u/data" "$BENCH/u/cache"
cp -- "$SKIFF_SRC" "$BENCH/bin/skiff"
cc -O2 -Wall -o "$BENCH/bin/timeit" "$HERE/timeit.c"
cp -r -- "$IMG/oci" "$BENCH/oci"
chmod -R a+rX "$BENCH/oci"
chmod 755 "$BENCH/bin" "$BENCH/bin/skiff" "$BENCH/bin/timeit"
chmod 777 "$BENCH/logs"
chown -R "$BENCH_USER:" "$BENCH/out" "$BENCH/t" "$BENCH/u"

CASES=(skiff-save)
[ -z "$PODMAN_BIN" ] || CASES+=(podman-save)
CASES+=(floor-cp floor-sha256 skiff-load)
[ -z "$PODMAN_BIN" ] || CASES+=(podman-load)
CASES+=(floor-untar floor-unpack)
# igzip (ISA-L) inflates as skiff does; gzip (zlib) when it is not there.
INFLATE=$(command -v igzip || command -v gzip)

# ------------------------------------------------------ the user's steps ---
# One bash process of the bench user: the set-up (untimed), the rounds
# (each run timed by a timeit of its own, the work between runs untimed),
# and the checks.  Results go to $BENCH/out.
{
  for v in BENCH RUNS WARMUP TIMEOUT PODMAN_BIN CONFIG_DIGEST LAYER_DIGEST INFLATE; do
    printf '%s=%q\n' "$v" "${!v}"
  done
  printf 'CASES=(%s)\n' "${CASES[*]}"
} >"$BENCH/steps.env"
cat >"$BENCH/steps.sh" <<'STEPS'
#!/bin/bash
set -u
# shellcheck disable=SC1090
. "$1"
say() { printf '==> %s\n' "$*" >&2; }
note() { printf 'NOTE: %s\n' "$*" >&2; }
SK=$BENCH/bin/skiff
TI=$BENCH/bin/timeit
T=$BENCH/t
OUT=$BENCH/out
LOGS=$BENCH/logs
TAG=localhost/bench:latest
ARCHIVE=$T/archive.tar
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR" || exit 1

# The stores: src-skiff and src-podman hold the image the save cases save;
# load-skiff and load-podman are made anew by every load run.
SKIFF_AT=() PODMAN_AT=()
skiff_at() { SKIFF_AT=("$SK" --root "$T/$1" --runroot "$XDG_RUNTIME_DIR/$1"); }
podman_at() { PODMAN_AT=("$PODMAN_BIN" --root "$T/$1" --runroot "$XDG_RUNTIME_DIR/$1" --storage-driver overlay); }

say "set-up: the image into skiff's store (from its OCI layout), the archive every load reads"
skiff_at src-skiff
"${SKIFF_AT[@]}" load -i "$BENCH/oci" >"$LOGS/prep-skiff.log" 2>&1 &&
  "${SKIFF_AT[@]}" tag "$CONFIG_DIGEST" "$TAG" >>"$LOGS/prep-skiff.log" 2>&1 &&
  "${SKIFF_AT[@]}" save -o "$ARCHIVE" "$TAG" >>"$LOGS/prep-skiff.log" 2>&1 ||
  { cat "$LOGS/prep-skiff.log" >&2; note "skiff could not set up the image"; exit 1; }
stat -c %s "$ARCHIVE" >"$OUT/archive-size"
if [ -n "$PODMAN_BIN" ]; then
  podman_at src-podman
  say "set-up: the same archive into podman's store"
  "${PODMAN_AT[@]}" load -i "$ARCHIVE" >"$LOGS/prep-podman.log" 2>&1 ||
    { cat "$LOGS/prep-podman.log" >&2; note "podman could not load the archive"; exit 1; }
  "$PODMAN_BIN" --version | awk '{print $NF}' >"$OUT/podman-version"
fi

CMD=()
case_cmd() { # label -> CMD: the command timeit measures
  case $1 in
    skiff-save) skiff_at src-skiff; CMD=("${SKIFF_AT[@]}" save -o "$T/out.tar" "$TAG");;
    podman-save) podman_at src-podman; CMD=("${PODMAN_AT[@]}" save -o "$T/out.tar" "$TAG");;
    floor-cp) CMD=(cp "$ARCHIVE" "$T/out.tar");;
    floor-sha256) CMD=(openssl dgst -sha256 "$ARCHIVE");;
    skiff-load) skiff_at load-skiff; CMD=("${SKIFF_AT[@]}" load -i "$ARCHIVE");;
    podman-load) podman_at load-podman; CMD=("${PODMAN_AT[@]}" load -i "$ARCHIVE");;
    floor-untar) CMD=(tar -xf "$ARCHIVE" -C "$T/untar");;
    # shellcheck disable=SC2016 # expanded by sh -c
    floor-unpack) CMD=(sh -c 'tar -xOf "$1" "$2" | "$3" -dc | tar -x -C "$4"' floor-unpack "$ARCHIVE" \
      "blobs/sha256/${LAYER_DIGEST#sha256:}" "$INFLATE" "$T/unpack");;
  esac
}
clean() { # label: untimed; what the last run of the case wrote goes
  rm -f "$T/out.tar"
  case $1 in
    skiff-load)
      skiff_at load-skiff
      "${SKIFF_AT[@]}" system reset -f >/dev/null 2>&1
      rm -rf "$T/load-skiff" "$XDG_RUNTIME_DIR/load-skiff";;
    podman-load)
      podman_at load-podman
      "${PODMAN_AT[@]}" system reset -f >/dev/null 2>&1
      rm -rf "$T/load-podman" "$XDG_RUNTIME_DIR/load-podman" 2>/dev/null ||
        "$PODMAN_BIN" unshare rm -rf "$T/load-podman" 2>/dev/null
      rm -rf "$T/load-podman" "$XDG_RUNTIME_DIR/load-podman";;
    floor-untar) rm -rf "$T/untar"; mkdir "$T/untar";;
    floor-unpack) rm -rf "$T/unpack"; mkdir "$T/unpack";;
  esac
}
check() { # label: untimed; did the run do the work?
  case $1 in
    skiff-save|podman-save|floor-cp) [ -s "$T/out.tar" ] && tar -tf "$T/out.tar" | grep -qx manifest.json;;
    skiff-load) skiff_at load-skiff; "${SKIFF_AT[@]}" images -q --no-trunc "$TAG" | grep -qx "$CONFIG_DIGEST";;
    podman-load) podman_at load-podman; "${PODMAN_AT[@]}" images -q --no-trunc "$TAG" | grep -qx "$CONFIG_DIGEST";;
    floor-untar) [ -s "$T/untar/manifest.json" ];;
    floor-unpack) [ -x "$T/unpack/bin/sh" ] || [ -L "$T/unpack/bin" ];;
    *) true;;
  esac
}

for c in "${CASES[@]}"; do clean "$c"; done
sync
cut -d' ' -f1-3 /proc/loadavg >"$OUT/load-before"
say "running ${CASES[*]}, $WARMUP + $RUNS rounds"
printf 'label\trun\tms\tmaxrss_kb\n' >"$OUT/samples.tsv"
declare -A FAILED=()
total=$((WARMUP + RUNS))
for ((i = 0; i < total; i++)); do
  run=$((i - WARMUP))
  if [ "$run" -lt 0 ]; then where="warm-up $((i + 1))/$WARMUP"; else where="round $((run + 1))/$RUNS"; fi
  line="$where:"
  for c in "${CASES[@]}"; do
    [ -z "${FAILED[$c]:-}" ] || continue
    case_cmd "$c"
    rm -f "$OUT/one.tsv"
    if "$TI" -n 1 -w 0 -q -t "$TIMEOUT" -o "$OUT/one.tsv" -c "$c" "${CMD[@]}" ';' >"$OUT/one.txt" 2>&1 &&
       check "$c" 2>>"$LOGS/check-$c.log"; then
      ms=$(awk -F '\t' 'NR == 2 { print $3 }' "$OUT/one.tsv")
      [ "$run" -lt 0 ] || awk -F '\t' -v r="$run" 'NR == 2 { printf "%s\t%d\t%s\t%s\n", $1, r, $3, $4 }' \
        "$OUT/one.tsv" >>"$OUT/samples.tsv"
      line+=" $c ${ms%.*}"
    else
      FAILED[$c]=1
      { echo "in $where"; sed -n '/^FAILED /,$p' "$OUT/one.txt"; [ -s "$OUT/one.txt" ] || echo "FAILED $c: wrong result"; } \
        >"$OUT/failed-$c.txt"
      line+=" $c FAILED"
    fi
    clean "$c"
    sync
  done
  echo "    $line (ms)" >&2
done
cut -d' ' -f1-3 /proc/loadavg >"$OUT/load-after"
exit 0
STEPS
chmod 644 "$BENCH/steps.sh" "$BENCH/steps.env"

UHOME=$(getent passwd "$BENCH_USER" | cut -d: -f6)
runuser -u "$BENCH_USER" -- env -i \
  HOME="$UHOME" USER="$BENCH_USER" LOGNAME="$BENCH_USER" LANG=C.UTF-8 \
  PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
  XDG_RUNTIME_DIR="$BENCH/t/r" XDG_CONFIG_HOME="$BENCH/u/config" \
  XDG_DATA_HOME="$BENCH/u/data" XDG_CACHE_HOME="$BENCH/u/cache" \
  bash "$BENCH/steps.sh" "$BENCH/steps.env" || die "the bench user's steps failed"

# ----------------------------------------------------------------- report --
REPORT=$BENCH/report.txt
{
  echo "skiff save/load benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
  # shellcheck disable=SC1091
  echo "host: $(uname -sr), $(nproc) CPU(s), $(. /etc/os-release && echo "$PRETTY_NAME"), $(df -T "$BENCH" | awk 'NR == 2 { print $2 }') under the bench dir"
  echo "skiff: $(binary_desc "$SKIFF_SRC")"
  [ -z "$PODMAN_BIN" ] || echo "podman: $(cat "$BENCH/out/podman-version" 2>/dev/null), --storage-driver overlay"
  echo "image: Debian bookworm minbase, one gzip layer of $((LAYER_SIZE / 1000000)) MB ($((TAR_SIZE / 1000000)) MB as a tar); the archive: skiff's docker-archive, $(($(cat "$BENCH/out/archive-size") / 1000000)) MB"
  echo "load average: $LOAD_AT_START at the start, $(cat "$BENCH/out/load-before") after the set-up, $(cat "$BENCH/out/load-after") at the end"
  echo "runs: $RUNS measured + $WARMUP warm-up per case, interleaved; every run timed by timeit, started from one bash process of $BENCH_USER; stores removed and sync after each run (untimed)"
  echo
} >"$REPORT"
INFLATE=$INFLATE python3 - "$BENCH/out" "${CASES[@]}" <<'PY' >>"$REPORT"
import os, statistics, sys

out, cases = sys.argv[1], sys.argv[2:]
ms = {c: [] for c in cases}
rss = {c: [] for c in cases}
with open(os.path.join(out, "samples.tsv")) as f:
    next(f)
    for line in f:
        label, run, v, kb = line.rstrip("\n").split("\t")
        ms[label].append(float(v))
        rss[label].append(int(kb) / 1024)
failed = {}
for c in cases:
    p = os.path.join(out, "failed-" + c + ".txt")
    if os.path.exists(p):
        failed[c] = open(p).read()
med = {c: statistics.median(v) for c, v in ms.items() if v and c not in failed}

def x(v):
    return "%.2fx" % v if v < 10 else "%.1fx" % v

w = max(len(c) for c in cases)
print("%-*s %4s %9s %9s %9s %8s" % (w, "case", "runs", "median", "min", "max", "rss(MB)"))
print("%-*s %4s %9s %9s %9s %8s" % (w, "", "", "ms", "ms", "ms", "median"))
for c in cases:
    if c in failed:
        print("%-*s FAILED (%s)" % (w, c, " ".join(failed[c].split())[:160]))
        continue
    if c not in med:
        print("%-*s no samples" % (w, c))
        continue
    print("%-*s %4d %9.0f %9.0f %9.0f %8.1f" % (w, c, len(ms[c]), med[c], min(ms[c]), max(ms[c]),
                                              statistics.median(rss[c])))
print()
print("ratios of medians:")
def r(a, b, what):
    if a in med and b in med:
        print("  %s/%s = %s  (%s)" % (a, b, x(med[a] / med[b]), what))
r("podman-save", "skiff-save", "how many times faster skiff's save is; goal 5x")
r("skiff-save", "floor-cp", "save against copying the archive; goal 1.5x or less")
r("skiff-save", "floor-sha256", "save against hashing the archive")
r("podman-load", "skiff-load", "how many times faster skiff's load is; goal 8x")
r("skiff-load", "floor-untar", "load (hash, inflate, unpack, store) against tar -x of the archive; goal 1.5x or less")
r("skiff-load", "floor-unpack", "load against inflating and unpacking the layer alone, " + os.path.basename(os.environ.get("INFLATE", "igzip")) + " | tar -x")
if all(c in med for c in ("floor-untar", "floor-sha256")) and "skiff-load" in med:
    both = med["floor-untar"] + med["floor-sha256"]
    print("  skiff-load/(floor-untar + floor-sha256) = %s  (the two steps one after the other: %.0f ms)"
          % (x(med["skiff-load"] / both), both))
PY
cat "$REPORT"
if [ -n "$RESULTS" ]; then
  cat "$REPORT" >>"$RESULTS"
  say "report appended to $RESULTS"
fi
ls "$BENCH/out"/failed-*.txt >/dev/null 2>&1 && exit 2
exit 0
