#!/usr/bin/env bats
# Hostile layers: every tarball of a generated corpus
# (tests/fixtures/make-hostile-corpus.py: its MANIFEST says what skiff must do
# with each) goes through `skiff import` and, when that takes it,
# `skiff run --rm NAME true`. For each layer:
#   - nothing is written outside the store: a canary directory next to the
#     store (where the corpus's absolute symlinks point, and where some of its
#     relative ones land) keeps every entry, mode, size, link count and ctime,
#     and nothing named after it appears next to any directory above the store;
#   - each command ends within a time limit, and the store grows by less than
#     a cap (the layers that inflate past it run under a file size limit, as
#     on a full disk, and must be stopped by it);
#   - exit 0 and nothing on stderr, or exit 125 and exactly one error line
#     with the MANIFEST's text;
#   - a refused import leaves no image, no blob and nothing in tmp/; a refused
#     run leaves no container, no layer and nothing in tmp/; rmi of a layer
#     that ran leaves no layer.

load helpers

# Seconds one skiff command may take; KiB the store may grow by for one layer.
kLayerSeconds=30
kStoreGrowthKiB=$((16 * 1024))
# The file size limit (KiB) for the layers flagged fsize: half of what they inflate to.
kFsizeKiB=$((16 * 1024))

corpus_script() {
  local script
  for script in "$BATS_TEST_DIRNAME/../fixtures/make-hostile-corpus.py" \
    "$SKIFF_TEST_FIXTURES/fixtures/make-hostile-corpus.py"; do
    [ -f "$script" ] && { echo "$script"; return 0; }
  done
  return 1
}

# Makes the canary directory and the corpus (all of it, or the layers whose
# file names match $1); sets canary, corpus, canary_before and probes.
make_corpus() {
  local script
  script=$(corpus_script) || skip "tests/fixtures/make-hostile-corpus.py not found"
  canary="$BATS_TEST_TMPDIR/canary-$$-$RANDOM"
  mkdir -p "$canary/dir"
  echo canary >"$canary/file"
  echo canary >"$canary/dir/file"
  ln -s file "$canary/link"
  corpus="$BATS_TEST_TMPDIR/corpus"
  python3 "$script" ${1:+"--only=$1"} "$corpus" "$canary" >/dev/null
  canary_before=$(canary_state)
  canary_sums=$(cd "$canary" && sha256sum file dir/file)
  escape_probes
}

# Every entry of the canary with its type, mode, size, links, owner and times:
# a write, chmod, chown, link or new entry changes it.
canary_state() {
  find "$canary" -printf '%p %y %m %s %n %U %G %T@ %C@ %l\n' | sort
}

# The paths next to each directory above the deepest place skiff unpacks to
# (a container's rootfs), up to /, where an escaping entry would land: the
# canary's name (but for the canary itself) and pwned-NAME.
escape_probes() {
  local dir="$SKIFF_ROOT/containers/id/rootfs" name=${canary##*/}
  # And the store's own directories, next to where layers are unpacked.
  probes=("$SKIFF_ROOT/tmp/$name" "$SKIFF_ROOT/tmp/pwned-$name" "$SKIFF_ROOT/layers/$name"
    "$SKIFF_ROOT/layers/pwned-$name")
  while [ -n "$dir" ]; do
    dir=${dir%/*}
    [ "$dir/$name" = "$canary" ] || probes+=("$dir/$name")
    probes+=("$dir/pwned-$name")
  done
}

# Prints what is wrong outside the store (nothing when all is well).
outside_damage() {
  local p now
  now=$(canary_state)
  [ "$now" = "$canary_before" ] || echo "the canary changed: $(diff <(echo "$canary_before") <(echo "$now") | tr '\n' ' ')"
  for p in "${probes[@]}"; do
    if [ -e "$p" ] || [ -L "$p" ]; then echo "written outside the store: $p"; fi
  done
}

# Runs skiff with the time limit (and, with fsize=1, the file size limit);
# sets rc and err (its stderr).
skiff_limited() {
  local fsize=$1
  shift
  rc=0
  if [ "$fsize" = 1 ]; then
    # SIGXFSZ ignored: a write past the limit fails with EFBIG, as one fails with ENOSPC.
    (ulimit -f "$kFsizeKiB" && trap '' XFSZ && exec timeout -k 5 "$kLayerSeconds" "$SKIFF" "$@") \
      >/dev/null 2>"$BATS_TEST_TMPDIR/err" || rc=$?
  else
    timeout -k 5 "$kLayerSeconds" "$SKIFF" "$@" >/dev/null 2>"$BATS_TEST_TMPDIR/err" || rc=$?
  fi
  err=$(<"$BATS_TEST_TMPDIR/err")
}

# Prints why rc and err do not match EXPECT (ok, or CODE:GLOB).
mismatch() {
  local expect=$1 what=$2
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    echo "$what: still running after ${kLayerSeconds}s"
  elif [ "$expect" = ok ]; then
    if [ "$rc" != 0 ] || [ -n "$err" ]; then echo "$what: expected success, got exit $rc: $err"; fi
  else
    local code=${expect%%:*} glob=${expect#*:}
    if [ "$rc" != "$code" ]; then
      echo "$what: expected exit $code, got $rc: $err"
    elif [[ "$err" == *$'\n'* ]]; then
      echo "$what: expected one error line, got: ${err//$'\n'/ \\n }"
    elif [[ ! "$err" == $glob ]]; then
      echo "$what: expected \"$glob\", got \"$err\""
    fi
  fi
}

# Prints the entries of a directory of the store (not those starting with a
# dot when $2 is "visible"), space-separated.
entries() {
  local -a e
  if [ "${2:-}" = visible ]; then e=("$1"/*); else e=("$1"/* "$1"/.[!.]* "$1"/..?*); fi
  ((${#e[@]})) && echo "${e[@]##*/}"
}

# Prints what a refused import left behind.
import_leftovers() {
  local images=
  [ -f "$SKIFF_ROOT/images.json" ] && images=$(<"$SKIFF_ROOT/images.json")
  [[ $images != *sha256:* ]] || echo "an image was stored: ${images//$'\n'/}"
  [ -z "$(entries "$SKIFF_ROOT/blobs/sha256")" ] || echo "blobs were stored: $(entries "$SKIFF_ROOT/blobs/sha256")"
  [ -z "$(entries "$SKIFF_ROOT/tmp")" ] || echo "left in tmp/: $(entries "$SKIFF_ROOT/tmp")"
}

# Prints what a run --rm that was meant to end as $1 left behind: never a
# container; when it refused the layer (125), no layer and nothing in tmp/.
run_leftovers() {
  [ -z "$(entries "$SKIFF_ROOT/containers" visible)" ] || echo "a container was left: $(entries "$SKIFF_ROOT/containers" visible)"
  [[ $1 == 125:* ]] || return 0
  [ -z "$(entries "$SKIFF_ROOT/layers")" ] || echo "a layer was stored: $(entries "$SKIFF_ROOT/layers")"
  [ -z "$(entries "$SKIFF_ROOT/tmp")" ] || echo "left in tmp/: $(entries "$SKIFF_ROOT/tmp")"
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

# Feeds one layer of the corpus to skiff (import, run, run with the copy
# driver when flagged, rmi) and prints every problem, one a line.
check_layer() {
  local file=$1 imp=$2 run=$3 flags=$4 fsize=0 grown
  shopt -s nullglob
  [[ $flags == *fsize* ]] && fsize=1
  skiff_limited $fsize import "$corpus/$file" hostile
  mismatch "$imp" import
  if [ "$imp" != ok ]; then
    import_leftovers
  elif [ "$run" != - ]; then
    skiff_limited $fsize run --rm hostile true
    mismatch "$run" run
    run_leftovers "$run"
    if [[ $flags == *copy* ]]; then
      SKIFF_STORAGE_DRIVER=copy skiff_limited $fsize run --rm hostile true
      mismatch "$run" "run (copy driver)"
      run_leftovers "$run"
    fi
  fi
  if [ "$imp" = ok ]; then
    grown=$(($(store_kib) - store_base))
    ((grown <= kStoreGrowthKiB)) || echo "the store grew by $grown KiB"
    "$SKIFF" rmi -f hostile >/dev/null 2>&1
    [ -z "$(entries "$SKIFF_ROOT/layers")" ] || echo "rmi left a layer: $(entries "$SKIFF_ROOT/layers")"
  fi
  outside_damage
}

# Runs the layers of $corpus/MANIFEST; prints the failures, one a line, and
# the number of layers of each kind to fd 3; sets layers_checked.
check_corpus() {
  local file kind imp run flags problems n=0 start=${EPOCHREALTIME/./} summary= t0 slowest=0 slowest_file=
  local -a failures=()
  local -A kinds=()
  store_base=$(store_kib)
  while IFS=$'\t' read -r file kind imp run flags; do
    t0=${EPOCHREALTIME/./}
    problems=$(check_layer "$file" "$imp" "$run" "$flags")
    t0=$((${EPOCHREALTIME/./} - t0))
    ((t0 <= slowest)) || { slowest=$t0 slowest_file=$file; }
    if [ -n "$problems" ]; then
      failures+=("$file: ${problems//$'\n'/; }")
      # A fresh store for the next layer, and a fresh baseline for the canary.
      "$SKIFF" system reset -f >/dev/null 2>&1
      mkdir -p "$SKIFF_ROOT" && touch "$SKIFF_ROOT/.single-id-map-noted"
      canary_before=$(canary_state)
    fi
    kinds[$kind]=$((${kinds[$kind]:-0} + 1))
    n=$((n + 1))
  done <"$corpus/MANIFEST"
  [ "$(cd "$canary" && sha256sum file dir/file)" = "$canary_sums" ] || failures+=("the canary's files changed")
  for kind in "${!kinds[@]}"; do summary+=" $kind ${kinds[$kind]}"; done
  echo "# $n layers in $(((${EPOCHREALTIME/./} - start) / 1000000)) s (slowest: $slowest_file," \
    "$((slowest / 1000)) ms):$summary" >&3
  layers_checked=$n
  printf '%s\n' "${failures[@]}"
}

# Runs check_corpus; fails with every failure listed when there is one.
corpus_passes() {
  local failures
  check_corpus >"$BATS_TEST_TMPDIR/failures"
  failures=$(<"$BATS_TEST_TMPDIR/failures")
  if [ -n "$failures" ]; then
    echo "$failures"
    echo "$(grep -c . <<<"$failures") of $layers_checked layers failed"
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
  IFS=$'\t' read -r layer _ _ _ _ <"$corpus/MANIFEST"
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

@test "hostile layer: pax path= and linkpath= that leave the layer are refused at import" {
  make_corpus '-pax-(path-[0-9]+-|linkpath-hardlink)'
  corpus_passes
  [ "$layers_checked" -ge 20 ]
}
