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
