#!/bin/bash
# Builds skiff's libFuzzer targets with clang (address and undefined
# behaviour sanitizers) and runs each from its seed corpus:
#   tests/fuzz/run.sh [--time SECONDS] [--fresh] [--build-only] [BUILDDIR] [TARGET...]
# BUILDDIR (default build-fuzz) gets the objects, the targets, and per
# target a working corpus (corpus/<target>, what the runs found: kept
# between runs unless --fresh) and crash inputs (crashes/<target>/). Each
# target links only the library sources it needs, compiled once for all of
# them (ninja, through ccache when it is installed). Seeds: tests/fuzz/corpus/<target>/,
# and for layer_unpack the tars make-tar-seeds.sh makes.
# Exits 77 (meson's skip) when clang or its libFuzzer is missing, 1 when a
# target crashed (the input is in crashes/<target>/).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

seconds=60 build_only=0 fresh=0 builddir=build-fuzz
targets=()
while [ $# -gt 0 ]; do
  case $1 in
    --time) seconds=$2; shift 2 ;;
    --build-only) build_only=1; shift ;;
    --fresh) fresh=1; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) if [ -z "${builddir_set:-}" ]; then builddir=$1 builddir_set=1; else targets+=("$1"); fi; shift ;;
  esac
done

# Each target and the library sources it links (from src/), then the
# libraries.
declare -A sources libs
sources[dockerfile]="build/dockerfile_parser build/instruction_parse build/run_mount build/shell_words
  build/instruction_expand util/error"
sources[reference]="image/reference image/digest util/error"
libs[reference]="-lcrypto"
sources[manifest]="image/manifest image/digest util/error"
libs[manifest]="-lcrypto"
sources[seccomp]="engine/seccomp_profile runtime/seccomp_filter util/error util/file_io"
libs[seccomp]="-lseccomp"
sources[layer_unpack]="image/layer_unpack image/layer_decompress image/layer_limits image/gunzip image/digest util/error
  util/file_io"
libs[layer_unpack]="-larchive -lz -lcrypto -ldl -lpthread"
sources[dockerignore]="build/dockerignore util/error util/file_io"
all_targets=(dockerfile reference manifest seccomp layer_unpack dockerignore)
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  [ -n "${sources[$t]:-}" ] || { echo "run.sh: no target $t (have: ${all_targets[*]})" >&2; exit 2; }
done

skip() { echo "run.sh: skipped: $*"; exit 77; }
command -v clang++ >/dev/null || skip "clang++ is missing (Debian: apt-get install clang)"
command -v ninja >/dev/null || skip "ninja is missing"
cxx=clang++
# Shared between build directories (build-fuzz, meson's): the sources are
# named by absolute path, so the compile directory need not be hashed.
export CCACHE_NOHASHDIR=1
command -v ccache >/dev/null && cxx="ccache clang++"
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' >"$probe/p.cpp"
clang++ -fsanitize=fuzzer,address,undefined "$probe/p.cpp" -o "$probe/p" 2>"$probe/err" ||
  skip "clang++ cannot link a libFuzzer target: $(head -c 300 "$probe/err")"

mkdir -p "$builddir"
builddir=$(cd "$builddir" && pwd)
# -O1 -g: libFuzzer's usual; ASan and UBSan stop at the first error.
flags=(-std=c++20 -O1 -g -fno-omit-frame-pointer -D_GNU_SOURCE -DFMT_HEADER_ONLY
  "-fsanitize=address,undefined" -fno-sanitize-recover=all "-I$root/include" "-I$root/src")
{
  echo "# made by tests/fuzz/run.sh"
  echo "cxx = $cxx"
  echo "flags = ${flags[*]}"
  echo "rule cc"
  echo "  command = \$cxx \$flags \$extra -MD -MF \$out.d -c \$in -o \$out"
  echo "  depfile = \$out.d"
  echo "  deps = gcc"
  echo "  description = CXX \$out"
  echo "rule link"
  echo "  command = \$cxx -fsanitize=fuzzer,address,undefined \$in -o \$out \$libs"
  echo "  description = LINK \$out"
  declare -A done_obj
  for t in "${all_targets[@]}"; do
    objs=""
    for s in ${sources[$t]}; do
      o="obj/${s//\//_}.o"
      objs+=" $o"
      if [ -z "${done_obj[$o]:-}" ]; then
        # Coverage for the fuzzer in the library's code too.
        echo "build $o: cc $root/src/$s.cpp"
        echo "  extra = -fsanitize=fuzzer-no-link"
        done_obj[$o]=1
      fi
    done
    echo "build obj/fuzz_$t.o: cc $here/fuzz_$t.cpp"
    echo "  extra = -fsanitize=fuzzer-no-link"
    echo "build fuzz_$t: link obj/fuzz_$t.o$objs"
    echo "  libs = ${libs[$t]:-}"
  done
} >"$builddir/build.ninja.new"
mv "$builddir/build.ninja.new" "$builddir/build.ninja"
goals=()
for t in "${targets[@]}"; do goals+=("fuzz_$t"); done
ninja -C "$builddir" "${goals[@]}"
[ "$build_only" = 0 ] || exit 0

status=0
for t in "${targets[@]}"; do
  work="$builddir/corpus/$t" crashes="$builddir/crashes/$t"
  # --fresh (the meson test): from the seeds alone, so a run takes as long
  # as the last.
  [ "$fresh" = 0 ] || rm -rf "$work"
  mkdir -p "$work" "$crashes"
  # fuzz_layer_unpack run as root works as root of a user namespace of
  # unprivileged ids, to whom root's directories are another user's.
  [ "$t" != layer_unpack ] || [ "$(id -u)" != 0 ] || chmod 0777 "$work" "$crashes"
  seeds=()
  [ -d "$here/corpus/$t" ] && seeds+=("$here/corpus/$t")
  if [ "$t" = layer_unpack ]; then
    rm -rf "$builddir/seeds/layer_unpack"
    "$here/make-tar-seeds.sh" "$builddir/seeds/layer_unpack" >/dev/null
    seeds+=("$builddir/seeds/layer_unpack")
  fi
  echo "== fuzz_$t: ${seconds}s"
  log="$builddir/fuzz_$t.log"
  # One process: the machine may be shared. -max_len: the largest seed
  # (a few kilobytes) leaves too little room to grow a Dockerfile or tar.
  if "$builddir/fuzz_$t" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$crashes/" "$work" "${seeds[@]}" >"$log" 2>&1; then
    grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::new_units_added)' "$log" | tr '\n' ' '
    echo
  else
    status=1
    echo "fuzz_$t FAILED: crash inputs in $crashes/; the end of $log:"
    tail -n 40 "$log"
  fi
done
exit $status
