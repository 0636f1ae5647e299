#!/usr/bin/env bats
# Hostile layers: every tarball of a generated corpus
# (tests/fixtures/make-hostile-corpus.py: its MANIFEST says what skiff must do
# with each) goes through `skiff import` and, when that takes it,
# `skiff run --rm NAME true`. For each layer:
#   - nothing is written outside the store: a canary directory (where the
#     corpus's absolute symlinks point, and a copy next to the store where its
#     relative ones land) keeps every entry, mode, size, link count and ctime,
#     and nothing named after it appears next to any directory above the store;
#   - each command ends within a time limit, and the store grows by less than
#     a cap (the layers that inflate past it run under a file size limit, as
#     on a full disk, and must be stopped by it);
#   - exit 0 and nothing on stderr, or exit 125 and exactly one error line
#     with the MANIFEST's text;
#   - a refused import leaves no image, no blob and nothing in tmp/; a refused
#     run leaves no container, no layer and nothing in tmp/; rmi of the layers
#     that ran leaves no layer.
#
# Speed: the corpus has 500+ layers, and each skiff command takes some tens
# of ms. Most of the time went elsewhere: the loop now runs without bats's
# DEBUG trap (see corpus_passes), the corpus is made once for the file, each
# command runs under one watchdog instead of a `timeout` each, the checks
# after a command are shell built-ins (a process costs a few ms, tens on a
# loaded machine), and the layers go in batches of kBatch: one rmi, one du
# and one look at the canary per batch. A batch's problem names the batch; a
# layer's own (its exit, its error, what it left) names the layer.

load helpers

# Seconds one skiff command may take; KiB the store may grow by for a batch.
kLayerSeconds=30
kStoreGrowthKiB=$((16 * 1024))
# The file size limit (KiB) for the layers flagged fsize: half of what they inflate to.
kFsizeKiB=$((16 * 1024))
kBatch=10

corpus_script() {
  local script
  for script in "$BATS_TEST_DIRNAME/../fixtures/make-hostile-corpus.py" \
    "$SKIFF_TEST_FIXTURES/fixtures/make-hostile-corpus.py"; do
    [ -f "$script" ] && { echo "$script"; return 0; }
  done
  return 1
}

# The corpus, once for every test of the file (making it takes seconds). Its
# absolute symlinks point at the canary made here.
setup_file() {
  local script
  script=$(corpus_script) || return 0
  export CORPUS="$BATS_FILE_TMPDIR/corpus" CANARY="$BATS_FILE_TMPDIR/canary-$$-$RANDOM"
  make_canary "$CANARY"
  python3 "$script" "$CORPUS" "$CANARY" >/dev/null
}

make_canary() {
  [ ! -d "$1" ] || return 0
  mkdir -p "$1/dir"
  echo canary >"$1/file"
  echo canary >"$1/dir/file"
  ln -s file "$1/link"
}

# Picks the layers of the corpus whose file names match $1 (all without it);
# makes the canary's copy next to the store (where the relative symlinks
# climb to: they name the canary's base name) and sets canary, corpus,
# filter, canary_before and probes.
make_corpus() {
  [ -n "${CORPUS:-}" ] || skip "tests/fixtures/make-hostile-corpus.py not found"
  corpus=$CORPUS canary=$CANARY filter=${1:-}
  local_canary="$BATS_TEST_TMPDIR/${canary##*/}"
  make_canary "$local_canary"
  canary_before=$(canary_state)
  canary_sums=$(cd "$canary" && sha256sum file dir/file)
  escape_probes
}

# Every entry of both canaries with its type, mode, size, links, owner and
# times: a write, chmod, chown, link or new entry changes it.
canary_state() {
  find "$canary" "$local_canary" -printf '%p %y %m %s %n %U %G %T@ %C@ %l\n' | sort
}

# The paths next to each directory above the deepest place skiff unpacks to
# (a container's rootfs), up to /, where an escaping entry would land: the
# canary's name (but for the canary's copy itself) and pwned-NAME.
escape_probes() {
  local dir="$SKIFF_ROOT/containers/id/rootfs" name=${canary##*/}
  # And the store's own directories, next to where layers are unpacked.
  probes=("$SKIFF_ROOT/tmp/$name" "$SKIFF_ROOT/tmp/pwned-$name" "$SKIFF_ROOT/layers/$name"
    "$SKIFF_ROOT/layers/pwned-$name")
  while [ -n "$dir" ]; do
    dir=${dir%/*}
    [ "$dir/$name" = "$local_canary" ] || probes+=("$dir/$name")
    probes+=("$dir/pwned-$name")
  done
}

problem() { problems+=("$*"); }

# Notes what is wrong outside the store: the canary (with $1 = canary), or
# the probes (cheap: after every layer).
outside_damage() {
  local p now
  if [ "${1:-}" = canary ]; then
    now=$(canary_state)
    [ "$now" = "$canary_before" ] ||
      problem "the canary changed: $(diff <(echo "$canary_before") <(echo "$now") | tr '\n' ' ')"
  fi
  for p in "${probes[@]}"; do
    if [ -e "$p" ] || [ -L "$p" ]; then problem "written outside the store: $p"; fi
  done
}

# Kills the skiff command named in $watch (its pid and start time) once it has
# run for kLayerSeconds: one process for the whole corpus instead of a
# `timeout` for each command.
watchdog() {
  local pid start
  while sleep 1; do
    kill -0 "$1" 2>/dev/null || return 0  # the test is over
    pid= start=
    read -r pid start <"$watch" 2>/dev/null || continue
    [ -n "$pid" ] && ((EPOCHSECONDS - start >= kLayerSeconds)) || continue
    kill -TERM "$pid" 2>/dev/null
    sleep 5
    kill -KILL "$pid" 2>/dev/null
  done
}

start_watchdog() {
  watch="$BATS_TEST_TMPDIR/watch"
  : >"$watch"
  watchdog $$ 3>&- >/dev/null 2>&1 &
  watchdog_pid=$!
}

stop_watchdog() {
  [ -z "${watchdog_pid:-}" ] || kill "$watchdog_pid" 2>/dev/null || true
  watchdog_pid=
}

teardown() {
  stop_watchdog
  "$SKIFF" system reset -f >/dev/null 2>&1 || true
}

# Runs skiff (with fsize=1 under the file size limit) in the background for
# the watchdog; sets rc and err (its stderr).
skiff_limited() {
  local fsize=$1
  shift
  if [ "$fsize" = 1 ]; then
    # SIGXFSZ ignored: a write past the limit fails with EFBIG, as one fails with ENOSPC.
    (ulimit -f "$kFsizeKiB" && trap '' XFSZ && exec "$SKIFF" "$@") >/dev/null 2>"$BATS_TEST_TMPDIR/err" &
  else
    "$SKIFF" "$@" >/dev/null 2>"$BATS_TEST_TMPDIR/err" &
  fi
  local pid=$!
  [ -z "${watch:-}" ] || echo "$pid $EPOCHSECONDS" >"$watch"
  rc=0
  wait "$pid" || rc=$?
  [ -z "${watch:-}" ] || : >"$watch"
  err=
  IFS= read -r -d '' err <"$BATS_TEST_TMPDIR/err" || true
  err=${err%$'\n'}
}

# Notes why rc and err do not match EXPECT (ok, or CODE:GLOB).
mismatch() {
  local expect=$1 what=$2
  if [ "$rc" = 143 ] || [ "$rc" = 137 ]; then
    problem "$what: still running after ${kLayerSeconds}s"
  elif [ "$expect" = ok ]; then
    if [ "$rc" != 0 ] || [ -n "$err" ]; then problem "$what: expected success, got exit $rc: $err"; fi
  else
    local code=${expect%%:*} glob=${expect#*:}
    if [ "$rc" != "$code" ]; then
      problem "$what: expected exit $code, got $rc: $err"
    elif [[ "$err" == *$'\n'* ]]; then
      problem "$what: expected one error line, got: ${err//$'\n'/ \\n }"
    elif [[ ! "$err" == $glob ]]; then
      problem "$what: expected \"$glob\", got \"$err\""
    fi
  fi
}

# Sets `listed` to the entries of a directory of the store (not those
# starting with a dot when $2 is "visible"), space-separated. nullglob is on.
list() {
  local -a e
  if [ "${2:-}" = visible ]; then e=("$1"/*); else e=("$1"/* "$1"/.[!.]* "$1"/..?*); fi
  listed="${e[*]##*/}"
}

# The store's images, blobs, layers and tmp/ entries, to compare after a command.
store_state() {
  local images=
  [ ! -f "$SKIFF_ROOT/images.json" ] || IFS= read -r -d '' images <"$SKIFF_ROOT/images.json" || true
  list "$SKIFF_ROOT/blobs/sha256"
  local blobs=$listed
  list "$SKIFF_ROOT/layers"
  state_images=$images state_blobs=$blobs state_layers=$listed
}

# Notes what a refused import left behind: an image, a blob, a tmp/ entry.
import_leftovers() {
  local images=$state_images blobs=$state_blobs
  store_state
  [ "$state_images" = "$images" ] || problem "an image was stored"
  [ "$state_blobs" = "$blobs" ] || problem "blobs were stored: $state_blobs (before: $blobs)"
  list "$SKIFF_ROOT/tmp"
  [ -z "$listed" ] || problem "left in tmp/: $listed"
}

# Notes what a run --rm that was meant to end as $1 left behind: never a
# container; when it refused the layer (125), no new layer and nothing in tmp/.
run_leftovers() {
  list "$SKIFF_ROOT/containers" visible
  [ -z "$listed" ] || problem "a container was left: $listed"
  [[ $1 == 125:* ]] || return 0
  local layers=$state_layers
  store_state
  [ "$state_layers" = "$layers" ] || problem "a layer was stored: $state_layers (before: $layers)"
  list "$SKIFF_ROOT/tmp"
  [ -z "$listed" ] || problem "left in tmp/: $listed"
}

# The store's size in KiB of blocks (holes are free). What a layer unpacked
# under subordinate ids may be unreadable to the user (a root entry "./" that
# is a file gives the layer's root its mode): then du runs again in skiff's
# user namespace, which costs a namespace (it is slower).
store_kib() {
  local kib
  kib=$(du -sk "$SKIFF_ROOT" 2>/dev/null) || kib=$("$SKIFF" unshare du -sk "$SKIFF_ROOT")
  echo "${kib%%[[:space:]]*}"
}

# Feeds one layer of the corpus to skiff as image $2 (import, run, run with
# the copy driver when flagged) and notes its problems.
check_layer() {
  local file=$1 name=$2 imp=$3 run=$4 flags=$5 fsize=0
  [[ $flags == *fsize* ]] && fsize=1
  store_state
  skiff_limited $fsize import "$corpus/$file" "$name"
  mismatch "$imp" import
  if [ "$imp" != ok ]; then
    import_leftovers
  elif [ "$run" != - ]; then
    skiff_limited $fsize run --rm "$name" true
    mismatch "$run" run
    run_leftovers "$run"
    if [[ $flags == *copy* ]]; then
      SKIFF_STORAGE_DRIVER=copy skiff_limited $fsize run --rm "$name" true
      mismatch "$run" "run (copy driver)"
      run_leftovers "$run"
    fi
  fi
  outside_damage
}

# The end of a batch of layers (the images named in $@): the store's growth,
# one rmi for them all, no layer left, the canary.
end_batch() {
  local grown
  if (($#)); then
    grown=$(($(store_kib) - store_base))
    ((grown <= kStoreGrowthKiB)) || problem "the store grew by $grown KiB"
    "$SKIFF" rmi -f "$@" >/dev/null 2>&1
    list "$SKIFF_ROOT/layers"
    [ -z "$listed" ] || problem "rmi left a layer: $listed"
  fi
  outside_damage canary
}

# After a problem: a fresh store and a fresh baseline for the canary.
fresh_store() {
  "$SKIFF" system reset -f >/dev/null 2>&1
  mkdir -p "$SKIFF_ROOT" && touch "$SKIFF_ROOT/.single-id-map-noted"
  canary_before=$(canary_state)
  store_base=$(store_kib)
}

# Runs the layers of $corpus/MANIFEST that match $filter; prints the
# failures, one a line, and the number of layers of each kind to fd 3; writes
# the number of layers to $BATS_TEST_TMPDIR/checked.
check_corpus() {
  local file kind imp run flags n=0 start=${EPOCHREALTIME/./} summary= t0 slowest=0 slowest_file= first=
  local -a failures=() batch=() problems=()
  local -A kinds=()
  shopt -s nullglob
  start_watchdog
  store_base=$(store_kib)
  while IFS=$'\t' read -r file kind imp run flags; do
    [[ -z $filter || $file =~ $filter ]] || continue
    problems=()
    t0=${EPOCHREALTIME/./}
    check_layer "$file" "hostile-$n" "$imp" "$run" "$flags"
    t0=$((${EPOCHREALTIME/./} - t0))
    ((t0 <= slowest)) || { slowest=$t0 slowest_file=$file; }
    [ "$imp" != ok ] || batch+=("hostile-$n")
    : "${first:=$file}"
    kinds[$kind]=$((${kinds[$kind]:-0} + 1))
    n=$((n + 1))
    if ((${#problems[@]})); then
      failures+=("$file: $(IFS=';' && echo "${problems[*]}")")
      batch=() first=
      fresh_store
    elif ((n % kBatch == 0)); then
      end_batch "${batch[@]}"
      ((${#problems[@]} == 0)) || { failures+=("the batch $first to $file: $(IFS=';' && echo "${problems[*]}")") && fresh_store; }
      batch=() first= store_base=$(store_kib)
    fi
  done <"$corpus/MANIFEST"
  problems=()
  end_batch "${batch[@]}"
  ((${#problems[@]} == 0)) || failures+=("the batch $first to the end: $(IFS=';' && echo "${problems[*]}")")
  stop_watchdog
  [ "$(cd "$canary" && sha256sum file dir/file)" = "$canary_sums" ] || failures+=("the canary's files changed")
  for kind in "${!kinds[@]}"; do summary+=" $kind ${kinds[$kind]}"; done
  echo "# $n layers in $(((${EPOCHREALTIME/./} - start) / 1000000)) s (slowest: $slowest_file," \
    "$((slowest / 1000)) ms):$summary" >&3
  echo "$n" >"$BATS_TEST_TMPDIR/checked"
  printf '%s\n' "${failures[@]}"
}

# Runs check_corpus; fails with every failure listed when there is one. It
# runs in a subshell without bats's DEBUG trap, which bats calls before every
# command for its stack traces: under it the shell's checks after each layer
# took four times as long as skiff's commands. The checks say what failed
# themselves, so errexit is off there too.
corpus_passes() {
  local failures
  (
    trap - DEBUG ERR
    set +eET
    check_corpus
  ) >"$BATS_TEST_TMPDIR/failures"
  layers_checked=$(<"$BATS_TEST_TMPDIR/checked")
  failures=$(<"$BATS_TEST_TMPDIR/failures")
  if [ -n "$failures" ]; then
    echo "$failures"
    echo "$(grep -c . <<<"$failures") of $layers_checked layers or batches failed"
    return 1
  fi
}

@test "hostile layer corpus: each of 500+ layers is refused cleanly or runs, and nothing escapes" {
  make_corpus
  corpus_passes
  [ "$layers_checked" -ge 500 ]
}

# --- single kinds, so that a failure reads plainly ---------------------------

# Checks the one layer of the corpus whose file name matches $1 as the
# corpus test does, and names it in $layer for the test to go on with.
one_layer() {
  make_corpus "$1"
  corpus_passes
  [ "$layers_checked" = 1 ]
  local file
  while IFS=$'\t' read -r file _; do
    if [[ $file =~ $1 ]]; then layer=$file; fi
  done <"$corpus/MANIFEST"
}

# No image, no blob, nothing in tmp/.
store_is_empty() {
  run -0 skiff images -q
  [ "$output" = "" ]
  [ -z "$(ls -A "$SKIFF_ROOT/blobs/sha256" 2>/dev/null)" ]
  [ -z "$(ls -A "$SKIFF_ROOT/tmp" 2>/dev/null)" ]
}

@test "hostile layer: a '..' entry is refused at import, and nothing is stored" {
  one_layer '^[0-9]+-dotdot-file-1\.tar$'
  run -125 skiff import "$corpus/$layer" evil
  [ "$output" = "skiff: path \"../pwned-${canary##*/}\" in layer leaves the layer (\"..\")" ]
  store_is_empty
}

@test "hostile layer: a file through a symlink to the canary is refused at run, by either driver" {
  one_layer '^[0-9]+-symlink-escape-abs-0-file\.tar$'
  run -0 skiff import "$corpus/$layer" evil
  local driver
  for driver in overlay copy; do
    SKIFF_STORAGE_DRIVER=$driver run -125 --separate-stderr skiff run --rm evil true
    [[ "$stderr" =~ ^skiff:\ unpacking\ layer\ [0-9a-f]{12}:\ layer\ entry\ \"evil/pwned-canary-[0-9-]+\":\ \"evil\"\ leads\ outside\ the\ layer\ through\ a\ symlink$ ]]
    [ "$(canary_state)" = "$canary_before" ]
    [ -z "$(ls -A "$SKIFF_ROOT/layers")" ]
  done
}

@test "hostile layer: a relative symlink that climbs to the canary cannot take a whiteout or an opaque marker" {
  make_corpus 'symlink-escape-rel-d0-k[0-9]+-(whiteout|opaque)\.tar$'
  corpus_passes
  [ "$layers_checked" = 24 ]
  [ "$(cat "$canary/file")" = canary ]
  [ "$(cat "$local_canary/file")" = canary ]
}

@test "hostile layer: a directory of outward symlinks replaced by a file: the links go, the canary stays" {
  make_corpus 'duplicate-dir-with-outward-links-then-file\.tar$'
  corpus_passes
  [ -f "$canary/dir/file" ]
}

@test "hostile layer: a whiteout of '..' ('.wh...') is refused at run" {
  one_layer '^[0-9]+-whiteout-dotdot\.tar$'
  run -0 skiff import "$corpus/$layer" evil
  run -125 --separate-stderr skiff run --rm evil true
  [[ "$stderr" == *': layer entry ".wh...": invalid whiteout name ".wh..." in the layer' ]]
}

@test "hostile layer: a sparse file of 1 TiB unpacks as holes, with either driver" {
  one_layer '^[0-9]+-sparse-gnu1\.0-1099511627776\.tar$'
  run -0 skiff import "$corpus/$layer" holes
  run -0 skiff run holes true
  local layer_dir
  layer_dir=$(echo "$SKIFF_ROOT"/layers/[0-9a-f]*)
  [ "$(stat -c %s "$layer_dir/holes")" = 1099511627776 ]
  (($(du -k "$layer_dir/holes" | cut -f1) < 1024))
}

@test "hostile layer: a gzip bomb under a file size limit is stopped, and leaves nothing" {
  one_layer '^[0-9]+-bomb-gzip-tar-32M\.tar$'
  skiff_limited 1 import "$corpus/$layer" bomb
  [ "$rc" = 125 ]
  [ "$err" = "skiff: write: file too large" ]
  store_is_empty
}

@test "hostile layer: layers compressed twice are refused at import; an archive in a layer is a file" {
  make_corpus '-bomb-([a-z]+-[a-z]+-tar|archive-as-entry)'
  corpus_passes
  [ "$layers_checked" = 5 ]
}

@test "hostile layer: a zstd bomb is refused past 256 MiB, with no file size limit" {
  make_corpus '-bomb-zstd-'
  corpus_passes
  [ "$layers_checked" = 2 ]
  one_layer '^[0-9]+-bomb-zstd-zeros-1G\.tar$'
  run -125 skiff import "$corpus/$layer" bomb
  [ "$output" = "skiff: read the tarball: layer inflates more than 1100:1 (257.0 MiB from 33 KiB): refused as a decompression bomb" ]
  store_is_empty
}

@test "hostile layer: a tar with a damaged header is refused at import, wherever the header is" {
  make_corpus '-checksum-h[0-9]-|-garbage-instead-of-header'
  corpus_passes
  [ "$layers_checked" = 19 ]
  one_layer '^[0-9]+-checksum-h1-off-by-one\.tar$'
  run -125 skiff import "$corpus/$layer" damaged
  [ "$output" = 'skiff: invalid tar header after entry "ok": Damaged tar archive' ]
  store_is_empty
}

@test "hostile layer: a gzip layer whose CRC-32 or length is wrong is refused at import" {
  make_corpus '-truncated-gzip-(bad|second|stored)'
  corpus_passes
  [ "$layers_checked" = 4 ]
  one_layer '^[0-9]+-truncated-gzip-stored-block-altered\.tar$'
  run -125 skiff import "$corpus/$layer" damaged
  [ "$output" = "skiff: read the tarball: gzip member 1 is damaged: its CRC-32 or length does not match its data" ]
  store_is_empty
}

@test "hostile layer: pax path= and linkpath= that leave the layer are refused at import" {
  make_corpus '-pax-(path-[0-9]+-|linkpath-hardlink)'
  corpus_passes
  [ "$layers_checked" -ge 20 ]
}
