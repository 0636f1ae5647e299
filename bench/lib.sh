# shellcheck shell=bash
# Shared by the bench scripts (sourced, not run): messages, and killing
# exactly the processes a bench run started, by pid. Everything a bench
# starts runs as its bench users (or their subordinate IDs) and begins after
# the script did; MY_START is taken when this file is sourced.
say() { printf '==> %s\n' "$*" >&2; }
note() { printf 'NOTE: %s\n' "$*" >&2; }
die() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

proc_start() { # start time of a pid, in clock ticks since boot
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }
  # shellcheck disable=SC2086 # split the stat fields on purpose
  set -- $s
  echo "${20}"
}
MY_START=$(proc_start $$)
OWNED_UIDS=()   # "lo hi" uid ranges of processes that are ours
add_owned_user() { # user
  local uid; uid=$(id -u "$1")
  OWNED_UIDS+=("$uid $uid")
  while IFS=: read -r who start count; do
    if [ "$who" = "$1" ] || [ "$who" = "$uid" ]; then
      OWNED_UIDS+=("$start $((start + count - 1))")
    fi
  done < <(cat /etc/subuid 2>/dev/null)
}
kill_ours() {
  [ ${#OWNED_UIDS[@]} -gt 0 ] || return 0
  local d pid uid st r lo hi state cmd killed=()
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    [ "$pid" != $$ ] || continue
    uid=$(awk '/^Uid:/ { print $2; exit }' "$d/status" 2>/dev/null) || continue
    [ -n "$uid" ] || continue
    for r in "${OWNED_UIDS[@]}"; do
      read -r lo hi <<<"$r"
      if [ "$uid" -ge "$lo" ] && [ "$uid" -le "$hi" ]; then
        st=$(proc_start "$pid") || break
        state=$(awk '/^State:/ { print $2; exit }' "$d/status" 2>/dev/null) || break
        if [ "$st" -ge "$MY_START" ] && [ "$state" != Z ]; then
          cmd=$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null | cut -c1-40) || cmd=
          kill -KILL "$pid" 2>/dev/null && killed+=("$pid(${cmd% })")
        fi
        break
      fi
    done
  done
  [ ${#killed[@]} -eq 0 ] || say "killed leftover processes we started: ${killed[*]}"
}

# SKIFF_BASELINE: the checks of the binary and, after the measurement, the
# comparison of every skiff case with its baseline twin.
baseline_src() { # path -> its resolved path on stdout, or die
  local src
  src=$(readlink -f -- "$1" 2>/dev/null || true)
  { [ -n "$src" ] && [ -f "$src" ] && [ -x "$src" ]; } ||
    die "no baseline skiff binary at $1 (SKIFF_BASELINE=/path/to/the/old/skiff)"
  echo "$src"
}
binary_desc() { # path -> "PATH (N bytes, sha256 X)"
  echo "$1 ($(stat -c %s "$1") bytes, sha256 $(sha256sum "$1" | cut -c1-12))"
}
# From a samples file (a header line, then label TAB run TAB value ...), for
# each pair NEW BASE: both medians, the ratio NEW/BASE of the median and of
# each figure of STATS, and a verdict from the spread STATS names first
# (p10 p90, or min max): "slower" when NEW's low figure is above BASE's high
# one, "faster" when NEW's high figure is below BASE's low one, otherwise no
# clear difference (and no verdict from fewer than 5 runs: with 3, two
# identical binaries land apart often enough).  Percentiles are timeit's
# (linear between closest ranks).  A pair with fewer than RUNS samples on
# either side (a case that failed) is not compared.
baseline_report() { # samples.tsv divisor unit "LOW HIGH [STAT...]" runs NEW BASE [NEW BASE...]
  local tsv=$1 div=$2 unit=$3 stats=$4 runs=$5
  shift 5
  awk -F '\t' -v div="$div" -v unit="$unit" -v stats="$stats" -v runs="$runs" -v pairs="$*" '
    function fv(t) { return t < 1 ? sprintf("%.3f", t) : t < 10 ? sprintf("%.2f", t) : t < 100 ? sprintf("%.1f", t) : sprintf("%.0f", t) }
    function x(t) { return t < 10 ? sprintf("%.2fx", t) : sprintf("%.1fx", t) }
    function sort(a, n,   i, j, t) { # insertion sort of a[1..n]
      for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    }
    function pct(a, n, p,   pos, lo, hi) {
      pos = p / 100 * (n - 1); lo = int(pos); hi = lo + 1 < n ? lo + 1 : lo
      return a[lo + 1] + (a[hi + 1] - a[lo + 1]) * (pos - lo)
    }
    function stat(c, s,   i, a) {
      for (i = 1; i <= n[c]; i++) a[i] = v[c, i]
      sort(a, n[c])
      if (s == "min") return a[1]
      if (s == "max") return a[n[c]]
      if (s == "median") return pct(a, n[c], 50)
      return pct(a, n[c], substr(s, 2) + 0)   # p10, p90
    }
    NR > 1 { n[$1]++; v[$1, n[$1]] = $3 / div }
    END {
      ns = split(stats, st, " ")
      np = split(pairs, p, " ")
      w = 4
      for (i = 1; i < np; i += 2) if (length(p[i] "/" p[i + 1]) > w) w = length(p[i] "/" p[i + 1])
      printf "new/baseline: SKIFF against SKIFF_BASELINE, in the same rounds (below 1x: the new binary is faster)\n"
      printf "%-*s %9s %9s %8s", w, "pair", "new", "baseline", "median"
      for (k = 1; k <= ns; k++) printf " %7s", st[k]
      printf "  verdict (from %s to %s)\n", st[1], st[2]
      printf "%-*s %9s %9s %8s", w, "", "median " unit, "median " unit, "ratio"
      for (k = 1; k <= ns; k++) printf " %7s", "ratio"
      printf "\n"
      for (i = 1; i < np; i += 2) {
        nw = p[i]; bs = p[i + 1]
        if (n[nw] + 0 < runs || n[bs] + 0 < runs) {
          printf "%-*s not compared: %s has %d of %d samples, %s %d (a case failed or was skipped)\n", w, nw "/" bs, nw, n[nw], runs, bs, n[bs]
          continue
        }
        ma = stat(nw, "median"); mb = stat(bs, "median")
        printf "%-*s %9s %9s %8s", w, nw "/" bs, fv(ma), fv(mb), x(ma / mb)
        for (k = 1; k <= ns; k++) printf " %7s", x(stat(nw, st[k]) / stat(bs, st[k]))
        if (runs < 5) verdict = "too few runs for a verdict"
        else if (stat(nw, st[1]) > stat(bs, st[2])) verdict = sprintf("slower: new %s above baseline %s", st[1], st[2])
        else if (stat(nw, st[2]) < stat(bs, st[1])) verdict = sprintf("faster: new %s below baseline %s", st[2], st[1])
        else verdict = "no clear difference: the ranges overlap"
        printf "  %s\n", verdict
      }
    }' "$tsv"
}

# The bench image: a static busybox with its applets as symlinks, root and
# nobody in /etc/passwd, packed as a tar (owners 0).
make_busybox_rootfs() { # rootfs-dir tar-file
  local rootfs=$1 tar=$2 applet
  mkdir -p "$rootfs"/{bin,etc,dev,proc,sys,tmp,root,run,var}
  cp /bin/busybox "$rootfs/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"
  done
  mkdir -p "$rootfs/usr"
  ln -s ../bin "$rootfs/usr/bin"
  ln -s bin "$rootfs/sbin"
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' \
    'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$rootfs/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$rootfs/etc/group"
  chmod 700 "$rootfs/root"
  chmod -R go+rX,go-w "$rootfs"
  chmod 1777 "$rootfs/tmp"
  { [ -x "$rootfs/bin/true" ] && [ -L "$rootfs/bin/sh" ]; } || die "rootfs has no /bin/true or /bin/sh"
  tar -C "$rootfs" --numeric-owner --owner=0 --group=0 --sort=name -cf "$tar" .
  chmod 644 "$tar"
}
