#!/bin/bash
# Build benchmark: `skiff build` of a small Dockerfile (busybox base, a 20 MiB
# COPY, two RUN steps) against rootless `podman build` and the raw work of
# the same build done without an engine ("floors"), uncached (--no-cache)
# and cached (the same build again, nothing changed).  Every case is timed
# by bench/timeit running as ONE process of an unprivileged user.
# Run as root:   sudo bench/build.sh
#
# Environment:
#   SKIFF=PATH        skiff binary (default: <repo>/build/src/skiff).
#                     SKIFF=/bin/true makes a trivially passing stand-in, to
#                     test the harness before skiff build exists.
#   SKIFF_BASELINE=PATH  a second skiff binary (unset: none).  Every skiff
#                     case is then also run with it, as its own case
#                     (skiff-baseline, skiff-cached-baseline: each with a
#                     store of its own, set up the same way, and run right
#                     after its skiff twin in every round), and the report
#                     gives new/baseline ratios.
#   RUNS=5            measured rounds per case (interleaved round-robin)
#   WARMUP=1          unmeasured rounds first (at least 1)
#   TIMEOUT=300       per-run limit in seconds (a run over it fails the case)
#   BENCH_USER=skiff-bench            user with /etc/subuid,subgid ranges
#   PODMAN=1          0 skips the podman cases
#   PODMAN_OVERLAY=1  0 skips the extra podman cases with --storage-driver overlay
#   SEED=skiff-bench  seed of the 20 MiB data.bin in the build context
#   STORE_FS=ext4     where stores and floors go: "ext4" (a fresh ext4 file
#                     system in a loop-mounted image file, in a private mount
#                     namespace) or "dir" (straight into the bench dir)
#   KEEP=0            1 keeps the temporary bench directory (for inspection)
#   RESULTS=FILE      also append the report to FILE
#
# See bench/README.md for what each case measures.
set -eu -o pipefail

RUNS=${RUNS:-5}
WARMUP=${WARMUP:-1}
TIMEOUT=${TIMEOUT:-300}
BENCH_USER=${BENCH_USER:-skiff-bench}
PODMAN=${PODMAN:-1}
PODMAN_OVERLAY=${PODMAN_OVERLAY:-1}
SEED=${SEED:-skiff-bench}
STORE_FS=${STORE_FS:-ext4}
KEEP=${KEEP:-0}
RESULTS=${RESULTS:-}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"
REPO=$(cd "$HERE/.." && pwd)
SKIFF=${SKIFF:-$REPO/build/src/skiff}
SKIFF_BASELINE=${SKIFF_BASELINE:-}


[ "$(id -u)" = 0 ] || die "run as root (sudo $0): it creates the bench user and switches to it"
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer"
[[ "$WARMUP" =~ ^[1-9][0-9]*$ ]] || die "WARMUP must be at least 1 (the cached cases need a build to hit)"
[[ "$TIMEOUT" =~ ^[1-9][0-9]*$ ]] || die "TIMEOUT must be a positive integer"
[[ "$STORE_FS" =~ ^(ext4|dir)$ ]] || die "STORE_FS must be ext4 or dir"

LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
load1=${LOAD_AT_START%% *}
if awk -v l="$load1" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
  note "load average is $load1 on $(nproc) CPU(s): absolute times will be inflated and noisy (ratios less so)"
fi

# ---------------------------------------------------------------- tools ----
missing=()
command -v cc >/dev/null || missing+=("gcc (cc)")
command -v unshare >/dev/null || missing+=("util-linux (unshare)")
command -v runuser >/dev/null || missing+=("util-linux (runuser)")
command -v newuidmap >/dev/null || missing+=("uidmap (newuidmap)")
for t in openssl tar sha256sum; do
  command -v "$t" >/dev/null || missing+=("$t")
done
[ "$STORE_FS" = dir ] || command -v mkfs.ext4 >/dev/null || missing+=("e2fsprogs (mkfs.ext4; or STORE_FS=dir)")
[ -x /bin/busybox ] || missing+=("busybox-static (/bin/busybox)")
if [ ${#missing[@]} -gt 0 ]; then
  die "missing: ${missing[*]}; install with: apt-get update && apt-get install -y gcc util-linux uidmap busybox-static openssl e2fsprogs"
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
# Everything we start runs as the bench user (or its subordinate IDs) and
# begins after this script did; cleanup kills exactly those processes, by pid.

BENCH=
STORE_IMG=
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  kill_ours || true
  if [ -n "$STORE_IMG" ]; then
    # Normally gone already: the loop device clears itself when the store's
    # mount namespace (ended with the processes above) lets go of it.
    local dev
    for dev in $(losetup -j "$STORE_IMG" 2>/dev/null | cut -d: -f1); do
      losetup -d "$dev" 2>/dev/null || true
    done
  fi
  if [ -n "$BENCH" ] && [ -d "$BENCH" ]; then
    if [ "$KEEP" = 1 ]; then
      say "KEEP=1: leaving $BENCH"
    else
      # The stores hold files owned by subordinate IDs (image layers, what
      # the RUN steps wrote); for root they are ordinary files.
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
mkdir -p "$BENCH/bin" "$BENCH/logs" "$BENCH/out"
cp -- "$SKIFF_SRC" "$BENCH/bin/skiff"
cc -O2 -Wall -o "$BENCH/bin/timeit" "$HERE/timeit.c"
chmod 755 "$BENCH/bin" "$BENCH/bin/skiff" "$BENCH/bin/timeit"
chmod 777 "$BENCH/logs"
chown "$BENCH_USER:" "$BENCH/out"
if [ -n "$BASE_SRC" ]; then
  cp -- "$BASE_SRC" "$BENCH/bin/skiff-baseline"
  chmod 755 "$BENCH/bin/skiff-baseline"
fi
for b in "$BENCH"/bin/skiff*; do
  if ldd "$b" 2>/dev/null | grep -q 'not found'; then
    note "$(basename "$b") has unresolved shared libraries:"; ldd "$b" | grep 'not found' >&2
  fi
done
cd "$BENCH"   # a directory the bench user can enter

# ---------------------------------------------------------------- rootfs ---
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
chmod 700 "$ROOTFS/root"
chmod -R go+rX,go-w "$ROOTFS"
chmod 1777 "$ROOTFS/tmp"
{ [ -x "$ROOTFS/bin/sh" ] && [ -L "$ROOTFS/bin/seq" ]; } || die "rootfs has no /bin/sh or /bin/seq"
tar -C "$ROOTFS" --numeric-owner --owner=0 --group=0 --sort=name -cf "$BENCH/rootfs.tar" .
chmod 644 "$BENCH/rootfs.tar"

# --------------------------------------------------------------- context ---
# The Dockerfile of the issue, and 20 MiB of pseudo-random bytes: AES-CTR
# keystream from SEED, so every bench run (with the same SEED) builds the
# same context.  Owned by root, readable by all: neither tool writes to it.
CTX=$BENCH/ctx
mkdir -p "$CTX"
cat >"$CTX/Dockerfile" <<'EOF'
FROM localhost/bench-busybox:latest
ENV APP=/app MODE=bench
WORKDIR /app
COPY data.bin /app/data.bin
RUN for i in $(seq 1 200); do echo "file $i" > /app/f$i; done
RUN rm /app/f1
CMD ["sh", "-c", "ls /app | wc -l"]
EOF
DATA_BYTES=$((20 * 1024 * 1024))
openssl enc -aes-256-ctr -nosalt -pbkdf2 -pass "pass:$SEED" </dev/zero 2>/dev/null |
  head -c "$DATA_BYTES" >"$CTX/data.bin" || true   # openssl ends on SIGPIPE
[ "$(stat -c %s "$CTX/data.bin")" = "$DATA_BYTES" ] || die "could not make $CTX/data.bin with openssl"
DATA_SUM=$(sha256sum "$CTX/data.bin" | cut -c1-12)
chmod -R go+rX,go-w "$CTX"

# floor-run: the build's COPY and RUN steps done by hand (see README).
cat >"$BENCH/floor-run.sh" <<'EOF'
#!/bin/sh
# floor-run: the build's COPY and its two RUN steps with no engine: copy
# data.bin into a prepared copy of the rootfs (with /app), then run each RUN
# command with the rootfs's busybox sh, chrooted into that copy, in a new
# user namespace (unshare -Ur).  Every run takes the next copy: a counter in
# FLOORS_DIR/next.  Usage: floor-run.sh FLOORS_DIR DATA_FILE
set -e
read -r n <"$1/next"
echo $((n + 1)) >"$1/next"
w=$1/w$n
[ -d "$w/app" ] || { echo "floor-run: no prepared rootfs copy $w" >&2; exit 1; }
export APP=/app MODE=bench
cp "$2" "$w/app/data.bin"
unshare -Ur chroot "$w" /bin/sh -c 'cd /app && for i in $(seq 1 200); do echo "file $i" > /app/f$i; done'
unshare -Ur chroot "$w" /bin/sh -c 'cd /app && rm /app/f1'
EOF
chmod 644 "$BENCH/floor-run.sh"

# ------------------------------------------------------------ the store ----
# Stores, run roots, XDG_RUNTIME_DIR and the floors' rootfs copies all go
# to $T.  STORE_FS=ext4 (the default): a new ext4 file system (mkfs
# defaults, so with a journal) in a sparse image file, loop-mounted on $T in
# a private mount namespace that only the bench user's steps below see. See
# "The file system" in bench/README.md (pull benchmark): on this host's
# journal-less ext4 every create after a few deleted trees costs ~1 ms, and
# podman's build took 8 s instead of 3 s.
T=$BENCH/t
mkdir -p "$T"
# podman's vfs driver keeps a full copy of the image (~23 MB) for every
# layer of every build; the uncached cases build once per round (+ trial).
need_mb=$(( (WARMUP + RUNS + 2) * 4 * 130 + 1000 ))
# The baseline's two stores: a 20 MiB layer and a little more per build.
[ -z "$BASE_SRC" ] || need_mb=$(( need_mb + (WARMUP + RUNS + 2) * 2 * 30 ))
avail_mb=$(( $(df --output=avail -k "$BENCH" | tail -n 1) / 1000 ))
[ "$avail_mb" -gt "$need_mb" ] ||
  die "about $need_mb MB of free space needed in $BENCH, $avail_mb MB there"
case $STORE_FS in
  ext4)
    STORE_IMG=$BENCH/store.img
    truncate -s "$(( need_mb * 2 + 2000 ))M" "$STORE_IMG"
    mkfs.ext4 -q -E lazy_itable_init=0,lazy_journal_init=0 "$STORE_IMG" ||
      die "mkfs.ext4 $STORE_IMG failed"
    STORE_DESC="a new ext4 (journal) in a $(( (need_mb * 2 + 2000) / 1000 )) GB loop-mounted image"
    ;;
  dir)
    chown "$BENCH_USER:" "$T"
    STORE_DESC="$(df --output=fstype "$T" | tail -n 1) under the bench dir"
    ;;
esac

# ------------------------------------------------------------------ cases --
PODMAN_BIN=$(command -v podman || true)
ENGINE_CASES=(skiff)
[ -z "$BASE_SRC" ] || ENGINE_CASES+=(skiff-baseline)
ENGINE_CASES+=(skiff-cached)
[ -z "$BASE_SRC" ] || ENGINE_CASES+=(skiff-cached-baseline)
if [ "$PODMAN" != 1 ]; then
  note "PODMAN=$PODMAN: skipping podman"
elif [ -z "$PODMAN_BIN" ]; then
  note "podman is not installed: skipping the podman cases (apt-get install -y podman runc uidmap)"
else
  ENGINE_CASES+=(podman podman-cached)
  if [ "$PODMAN_OVERLAY" = 1 ]; then ENGINE_CASES+=(podman-overlay podman-overlay-cached); fi
fi
# Interleaved: the uncached builds, then the cached ones, then the floors,
# in every round (a -baseline case right after its skiff twin).
CASES=()
for c in "${ENGINE_CASES[@]}"; do [[ "${c%-baseline}" == *-cached ]] || CASES+=("$c"); done
for c in "${ENGINE_CASES[@]}"; do [[ "${c%-baseline}" != *-cached ]] || CASES+=("$c"); done
CASES+=(floor-run floor-layer floor-layer-openssl)

SKIFF_STANDIN=0
[ -n "$(runuser -u "$BENCH_USER" -- "$BENCH/bin/skiff" version 2>/dev/null)" ] || SKIFF_STANDIN=1
if [ "$SKIFF_STANDIN" = 1 ]; then
  note "'$SKIFF_SRC version' prints nothing: treating it as a stand-in (no result checks for skiff)"
fi
BASELINE_STANDIN=0
[ -z "$BASE_SRC" ] || [ -n "$(runuser -u "$BENCH_USER" -- "$BENCH/bin/skiff-baseline" version 2>/dev/null)" ] ||
  BASELINE_STANDIN=1
if [ "$BASELINE_STANDIN" = 1 ]; then
  note "'$BASE_SRC version' prints nothing: treating it as a stand-in (no result checks for skiff-baseline)"
fi

# ------------------------------------------------------ the user's steps ---
# One bash process of the bench user does everything below: the set-up of
# the stores (untimed), timeit (the measurement), and the checks afterwards
# (untimed).  Results go to $BENCH/out.
{
  for v in BENCH T RUNS WARMUP TIMEOUT SKIFF_STANDIN BASELINE_STANDIN PODMAN_BIN; do
    printf '%s=%q\n' "$v" "${!v}"
  done
  printf 'ENGINE_CASES=(%s)\n' "${ENGINE_CASES[*]}"
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
SKB=$BENCH/bin/skiff-baseline
TI=$BENCH/bin/timeit
CTX=$BENCH/ctx
OUT=$BENCH/out
LOGS=$BENCH/logs
FLOORS=$T/floors
TAG=localhost/bench-build:latest

# Every engine case has a store of its own, so that no case's builds feed
# another's cache: --root $T/LABEL, --runroot $T/r/N (N short: see
# XDG_RUNTIME_DIR in startup.sh).
mkdir -p "$XDG_RUNTIME_DIR" "$FLOORS" && chmod 700 "$XDG_RUNTIME_DIR" || exit 1
declare -A SHORT
n=0
for c in "${ENGINE_CASES[@]}"; do n=$((n + 1)); SHORT[$c]=$n; done
ENGINE=()
engine() { # label -> ENGINE: the tool with the global flags of the label's store
  local root=$T/$1 run=$XDG_RUNTIME_DIR/${SHORT[$1]}
  case $1 in
    skiff*-baseline) ENGINE=("$SKB" --root "$root" --runroot "$run");;
    skiff*) ENGINE=("$SK" --root "$root" --runroot "$run");;
    podman-overlay*) ENGINE=("$PODMAN_BIN" --runtime runc --root "$root" --runroot "$run" --storage-driver overlay);;
    podman*) ENGINE=("$PODMAN_BIN" --runtime runc --root "$root" --runroot "$run");;
  esac
}
CMD=()
# shellcheck disable=SC2016 # the floor-layer scripts are expanded by sh -c
case_cmd() { # label -> CMD: the command timeit measures
  case $1 in
    floor-run) CMD=(sh "$BENCH/floor-run.sh" "$FLOORS" "$CTX/data.bin"); return;;
    floor-layer) CMD=(sh -c 'tar -C "$1" -cf - app | sha256sum' floor-layer "$FLOORS/w0"); return;;
    floor-layer-openssl) CMD=(sh -c 'tar -C "$1" -cf - app | openssl dgst -sha256' floor-layer-openssl "$FLOORS/w0"); return;;
  esac
  engine "$1"
  CMD=("${ENGINE[@]}" build)
  if [[ "$1" == podman* ]]; then CMD+=(--layers); fi
  if [[ "${1%-baseline}" != *-cached ]]; then CMD+=(--no-cache); fi
  CMD+=(-t "$TAG" "$CTX")
}
standin() { # label -> 0 if it is a skiff case whose binary is a stand-in
  case $1 in
    skiff*-baseline) [ "$BASELINE_STANDIN" = 1 ];;
    skiff*) [ "$SKIFF_STANDIN" = 1 ];;
    *) return 1;;
  esac
}
image_id() { # label -> the store's image ID of TAG (or nothing)
  engine "$1"
  "${ENGINE[@]}" images -q --no-trunc "$TAG" 2>/dev/null | head -n 1 | sed 's/^sha256://'
}

# Floor copies of the rootfs: one per run of floor-run, plus w0, which the
# trial run below turns into the tree floor-layer archives, and spares for
# the re-run timeit does of a failing case.
for ((n = 0; n < WARMUP + RUNS + 3; n++)); do
  mkdir "$FLOORS/w$n" && tar -xf "$BENCH/rootfs.tar" -C "$FLOORS/w$n" && mkdir "$FLOORS/w$n/app" || exit 1
done
echo 0 >"$FLOORS/next"

# Untimed: import the rootfs into every store, build once (for the cached
# cases this is the build their measured runs hit), run the built image
# once (it must print 200: data.bin and f2..f200), read the image ID.  A tool
# that fails here is still measured, so that its failure shows in the table
# with its error output.
declare -A ID0 CHECK
for c in "${ENGINE_CASES[@]}"; do
  engine "$c"
  mkdir -p "$T/$c" "$XDG_RUNTIME_DIR/${SHORT[$c]}"
  log=$LOGS/prep-$c.log
  say "$c: import and one trial build"
  if ! "${ENGINE[@]}" import "$BENCH/rootfs.tar" localhost/bench-busybox:latest >"$log" 2>&1; then
    note "$c: import failed; its output:"; tail -n 20 "$log" | sed 's/^/    /' >&2
    CHECK[$c]="import failed"
    continue
  fi
  case_cmd "$c"
  if ! "${CMD[@]}" </dev/null >>"$log" 2>&1; then
    note "$c: the trial build failed (the case will fail too); the end of its output:"
    tail -n 20 "$log" | sed 's/^/    /' >&2
    CHECK[$c]="trial build failed"
    continue
  fi
  ID0[$c]=$(image_id "$c")
  if standin "$c"; then continue; fi
  [ -n "${ID0[$c]}" ] || note "$c: no image ID for $TAG after the trial build"
  out=$("${ENGINE[@]}" run --rm --network none "$TAG" </dev/null 2>>"$log" | tr -d '[:space:]')
  if [ "$out" != 200 ]; then
    note "$c: the built image printed '$out', not 200 (log: $log)"
    CHECK[$c]="built image printed '$out', not 200"
  fi
done

say "floor-run: one trial run (makes the tree floor-layer archives)"
sh "$BENCH/floor-run.sh" "$FLOORS" "$CTX/data.bin" >"$LOGS/prep-floor-run.log" 2>&1 ||
  { cat "$LOGS/prep-floor-run.log" >&2; note "the floor-run trial failed"; exit 1; }
files=$(find "$FLOORS/w0/app" -mindepth 1 | wc -l)
[ "$files" = 200 ] || { note "the floor-run trial left $files files in /app, not 200"; exit 1; }

if [ -n "${SHORT[podman]:-}" ]; then
  engine podman
  "${ENGINE[@]}" info --format '{{.Store.GraphDriverName}}' >"$OUT/podman-driver" 2>/dev/null
fi

# The measurement: rounds of every case in turn (interleaved), each run
# timed by its own timeit (fork to wait4, inside timeit: nothing of this
# loop is in a sample), then an untimed `sync`, so that what one run left
# dirty is written back before the next run starts, not during it (as in
# pull.sh).  A case that fails once is not run again.
# What the set-up wrote goes to disk now, not while the first cases run.
sync
cut -d' ' -f1-3 /proc/loadavg >"$OUT/load-before"
say "running ${CASES[*]}, $WARMUP + $RUNS rounds (this takes a while)"
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
    if "$TI" -n 1 -w 0 -q -t "$TIMEOUT" -o "$OUT/one.tsv" -c "$c" "${CMD[@]}" ';' >"$OUT/one.txt" 2>&1; then
      ms=$(awk -F '\t' 'NR == 2 { print $3 }' "$OUT/one.tsv")
      [ "$run" -lt 0 ] || awk -F '\t' -v r="$run" 'NR == 2 { printf "%s\t%d\t%s\t%s\n", $1, r, $3, $4 }' \
        "$OUT/one.tsv" >>"$OUT/samples.tsv"
      line+=" $c ${ms%.*}"
    else
      FAILED[$c]=1
      # timeit's report of the failure: status, command, stderr of a re-run.
      { echo "in $where"; sed -n '/^FAILED /,$p' "$OUT/one.txt"; } >"$OUT/failed-$c.txt"
      line+=" $c FAILED"
    fi
    sync
  done
  echo "    $line (ms)" >&2
done
cut -d' ' -f1-3 /proc/loadavg >"$OUT/load-after"

# Untimed: did the cached cases hit the cache (the image ID of TAG is still
# the one the trial build made, and a build with its output kept says so),
# and did the uncached ones build anew?
for c in "${ENGINE_CASES[@]}"; do
  if [ -z "${CHECK[$c]:-}" ]; then
    if standin "$c"; then
      CHECK[$c]="not checked (stand-in)"
    else
      id1=$(image_id "$c")
      if [ -z "${ID0[$c]:-}" ] || [ -z "$id1" ]; then
        CHECK[$c]="no image ID to compare"
      elif [[ "${c%-baseline}" == *-cached ]]; then
        if [ "$id1" = "${ID0[$c]}" ]; then
          CHECK[$c]="ok: same image ID ${id1:0:12} as its first build"
        else
          CHECK[$c]="image ID changed from ${ID0[$c]:0:12} to ${id1:0:12}: it did not (only) use the cache"
        fi
      elif [ "$id1" != "${ID0[$c]}" ]; then
        CHECK[$c]="ok: a new image (${id1:0:12}; the trial build's was ${ID0[$c]:0:12})"
      else
        CHECK[$c]="same image ID ${id1:0:12} as the trial build (a reproducible build, or not rebuilt)"
      fi
    fi
  fi
  # One more build with its output kept: were its RUN steps taken from the
  # cache ("--> Using cache ID" right after "STEP n/m: RUN ...", as podman
  # and skiff both print it)?
  if [ "${CHECK[$c]}" != "trial build failed" ] && [ "${CHECK[$c]}" != "import failed" ] &&
     ! standin "$c"; then
    case_cmd "$c"
    log=$LOGS/after-$c.log
    if "${CMD[@]}" </dev/null >"$log" 2>&1; then
      CHECK[$c]+="; one more build: $(awk '
        /^STEP [0-9]+\/[0-9]+: RUN / { runs++; pending = 1; next }
        pending && /^--> Using cache/ { cached++ }
        { pending = 0 }
        END { printf "%d of %d RUN steps from the cache", cached, runs }' "$log")"
    else
      CHECK[$c]+="; one more build FAILED (log: $log)"
    fi
  fi
  printf '%s\t%s\n' "$c" "${CHECK[$c]}" >>"$OUT/checks.tsv"
done
exit 0
STEPS
chmod 644 "$BENCH/steps.sh" "$BENCH/steps.env"

UHOME=$(getent passwd "$BENCH_USER" | cut -d: -f6)
mkdir -p "$BENCH/u/config" "$BENCH/u/data" "$BENCH/u/cache"
chown -R "$BENCH_USER:" "$BENCH/u"
# The user's XDG dirs are in the bench dir, so podman reads no user
# configuration; XDG_RUNTIME_DIR is on the store file system, and short.
STEPS_CMD=(runuser -u "$BENCH_USER" -- env -i
  HOME="$UHOME" USER="$BENCH_USER" LOGNAME="$BENCH_USER" LANG=C.UTF-8
  PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
  XDG_RUNTIME_DIR="$T/r" XDG_CONFIG_HOME="$BENCH/u/config"
  XDG_DATA_HOME="$BENCH/u/data" XDG_CACHE_HOME="$BENCH/u/cache"
  bash "$BENCH/steps.sh" "$BENCH/steps.env")
if [ "$STORE_FS" = ext4 ]; then
  # The mount exists only in this namespace (and in the namespaces podman
  # and skiff create from it); it goes away with the last process in them.
  # shellcheck disable=SC2016 # expanded by the inner bash
  STEPS_CMD=(unshare -m --propagation private -- bash -c \
    'mount -o loop -- "$1" "$2" && chown "$3:" "$2" && chmod 755 "$2" || exit 1; shift 3; exec "$@"' \
    mount-store "$STORE_IMG" "$T" "$BENCH_USER" "${STEPS_CMD[@]}")
fi

"${STEPS_CMD[@]}" || die "the bench user's steps failed"
[ -s "$BENCH/out/checks.tsv" ] || die "the bench user's steps did not finish"

# ----------------------------------------------------------------- report --
header() {
  echo "skiff build benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
  # shellcheck disable=SC1091
  echo "host: $(uname -sr), $(nproc) CPU(s), $(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "skiff: $(binary_desc "$SKIFF_SRC")"
  [ -z "$BASE_SRC" ] || echo "skiff-baseline: $(binary_desc "$BASE_SRC")"
  if [ -n "$HAS_PODMAN" ]; then
    echo "podman: $("$PODMAN_BIN" --version | awk '{print $NF}'), default storage driver $(cat "$BENCH/out/podman-driver" 2>/dev/null || echo unknown), --runtime runc $(runc --version 2>/dev/null | head -1 | awk '{print $3}')"
  fi
  echo "base image: busybox $(/bin/busybox | head -1 | awk '{print $2}') static rootfs, $(du -sh "$BENCH/rootfs.tar" | cut -f1) tar, imported as localhost/bench-busybox:latest"
  echo "context: Dockerfile + data.bin ($((DATA_BYTES / 1048576)) MiB, seed '$SEED', sha256 $DATA_SUM)"
  echo "stores: one per case on $STORE_DESC; sync after every run (untimed)"
  echo "load average: $LOAD_AT_START at the start of the script, $(cat "$BENCH/out/load-before") after the set-up, $(cat "$BENCH/out/load-after") after the measurement (the bench's own load included)"
  echo "runs: $RUNS measured + $WARMUP warm-up per case, interleaved; every run timed by timeit, started from one bash process of $BENCH_USER"
}
HAS_PODMAN=
if [[ " ${ENGINE_CASES[*]} " == *" podman "* ]]; then HAS_PODMAN=1; fi
REPORT=$BENCH/report.txt
{
  header
  echo
  echo "### uncached (--no-cache) and cached builds, floors (user $BENCH_USER)"
  echo
} >"$REPORT"

# The table from the samples, in timeit's format (median, p10, p90 and min
# in ms, median peak RSS), with the ratios that matter here: uncached
# against uncached skiff, cached against cached skiff, skiff/floor for the
# floors.
awk -F '\t' -v order="${CASES[*]}" -v out="$BENCH/out" -v checks="$(cat "$BENCH/out/checks.tsv")" '
  function fms(v) { return v < 10 ? sprintf("%.2f", v) : v < 100 ? sprintf("%.1f", v) : sprintf("%.0f", v) }
  function x(v) { return v < 10 ? sprintf("%.2fx", v) : sprintf("%.1fx", v) }
  function sort(a, n,   i, j, t) { # insertion sort of a[1..n]
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
  }
  function pct(a, n, p,   pos, lo, hi) { # as timeit: linear between closest ranks
    pos = p / 100 * (n - 1); lo = int(pos); hi = lo + 1 < n ? lo + 1 : lo
    return a[lo + 1] + (a[hi + 1] - a[lo + 1]) * (pos - lo)
  }
  function r(a, b, what) {
    if ((a in med) && (b in med)) printf "  %s/%s = %s  (%s)\n", a, b, x(med[a] / med[b]), what
  }
  NR > 1 { n[$1]++; ms[$1, n[$1]] = $3 + 0; kb[$1, n[$1]] = $4 + 0 }
  END {
    nc = split(order, cs, " ")
    w = 4
    for (k = 1; k <= nc; k++) if (length(cs[k]) > w) w = length(cs[k])
    for (k = 1; k <= nc; k++) {
      c = cs[k]
      ff = out "/failed-" c ".txt"
      while ((getline l < ff) > 0) {
        details[c] = details[c] "    " l "\n"
        if (l ~ /^in /) failed_in[c] = substr(l, 4)
        else if (l ~ /^FAILED /) { sub(/^FAILED [^:]*: /, "", l); failed[c] = l }
      }
      if (c in failed || !n[c]) continue
      for (i = 1; i <= n[c]; i++) { a[i] = ms[c, i]; b[i] = kb[c, i] / 1024 }
      sort(a, n[c]); sort(b, n[c])
      med[c] = pct(a, n[c], 50); p10[c] = pct(a, n[c], 10); p90[c] = pct(a, n[c], 90); mn[c] = a[1]
      rss[c] = pct(b, n[c], 50)
    }
    printf "%-*s %5s %9s %9s %9s %9s %8s  %s\n", w, "case", "runs", "median", "p10", "p90", "min", "rss(MB)", "ratio"
    printf "%-*s %5s %9s %9s %9s %9s %8s\n", w, "", "", "ms", "ms", "ms", "ms", "median"
    for (k = 1; k <= nc; k++) {
      c = cs[k]
      if (c in failed) { printf "%-*s FAILED (%s, in %s)\n", w, c, failed[c], failed_in[c]; continue }
      if (!(c in med)) { printf "%-*s no samples\n", w, c; continue }
      ratio = ""
      if (c == "skiff" || c == "skiff-cached") ratio = "(reference)"
      else if (c ~ /^skiff.*-baseline$/) { nb = substr(c, 1, length(c) - 9); if (nb in med) ratio = sprintf("%s/%s = %s (new/baseline)", nb, c, x(med[nb] / med[c])) }
      else if (c ~ /^floor/) { if ("skiff" in med) ratio = sprintf("skiff/%s = %s", c, x(med["skiff"] / med[c])) }
      else if (c ~ /-cached$/) { if ("skiff-cached" in med) ratio = sprintf("%s/skiff-cached = %s", c, x(med[c] / med["skiff-cached"])) }
      else if ("skiff" in med) ratio = sprintf("%s/skiff = %s", c, x(med[c] / med["skiff"]))
      printf "%-*s %5d %9s %9s %9s %9s %8.1f  %s\n", w, c, n[c], fms(med[c]), fms(p10[c]), fms(p90[c]), fms(mn[c]), rss[c], ratio
    }
    if (("floor-run" in med) && ("floor-layer" in med)) med["floor-total"] = med["floor-run"] + med["floor-layer"]
    print ""
    print "ratios of medians:"
    r("podman", "skiff", "uncached: how many times faster skiff is")
    r("podman-overlay", "skiff", "uncached, podman with the overlay driver")
    r("podman-cached", "skiff-cached", "cached")
    r("podman-overlay-cached", "skiff-cached", "cached, podman with the overlay driver")
    r("skiff", "floor-total", "uncached skiff over the engine-less work")
    r("podman", "floor-total", "uncached podman over the engine-less work")
    r("podman-overlay", "floor-total", "the same, overlay driver")
    r("skiff-cached", "floor-run", "cached skiff over floor (a) alone")
    if ("floor-total" in med)
      printf "  floor-total = floor-run + floor-layer medians = %s ms (computed, not measured)\n", fms(med["floor-total"])
    print ""
    print "goals (issue): uncached podman/skiff >= 3x, cached skiff < 100 ms:"
    if (("skiff" in med) && ("podman" in med))
      printf "  uncached: podman/skiff = %s: %s\n", x(med["podman"] / med["skiff"]), (med["podman"] >= 3 * med["skiff"] ? "met" : "NOT met")
    else print "  uncached: no figure (a case failed or was skipped)"
    if ("skiff-cached" in med)
      printf "  cached: skiff-cached = %s ms: %s\n", fms(med["skiff-cached"]), (med["skiff-cached"] < 100 ? "met" : "NOT met")
    else print "  cached: no figure (the case failed)"
    print ""
    print "result checks (untimed, after the runs):"
    k = split(checks, lines, "\n")
    for (i = 1; i <= k; i++) if (split(lines[i], f, "\t") == 2) printf "  %s: %s\n", f[1], f[2]
    for (k = 1; k <= nc; k++)
      if (cs[k] in failed) printf "\nFAILED %s (timeit'"'"'s report of the run):\n%s", cs[k], details[cs[k]]
  }' "$BENCH/out/samples.tsv" >>"$REPORT"
if [ -n "$BASE_SRC" ]; then
  echo
  baseline_report "$BENCH/out/samples.tsv" 1 ms "p10 p90 min" "$RUNS" \
    skiff skiff-baseline skiff-cached skiff-cached-baseline
fi >>"$REPORT"
echo >>"$REPORT"
cat "$REPORT"

if [ -n "$RESULTS" ]; then
  cat "$REPORT" >>"$RESULTS"
  say "report appended to $RESULTS"
fi
# 0: every case passed; 2: some case failed (the table above says which).
if ls "$BENCH/out"/failed-*.txt >/dev/null 2>&1; then
  note "some case FAILED (see above)"
  exit 2
fi
