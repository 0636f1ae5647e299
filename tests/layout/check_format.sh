#!/bin/sh
# Fails when a C or C++ file of the project is not as clang-format (with the
# project's .clang-format) writes it; prints the files and the first lines
# of what would change. Fix with: clang-format -i FILE...
set -u
root=${1:-$(dirname "$0")/../..}
cd "$root" || exit 1
if ! command -v clang-format >/dev/null; then
  echo "clang-format is missing (Debian: apt-get install clang-format)"
  exit 1
fi
files=$(find src include tests/unit tests/fuzz bench -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.c' -o -name '*.h' \) 2>/dev/null | sort)
# One clang-format for all the files (a process per file is seconds here);
# the files it names are then shown one by one.
if out=$(clang-format --dry-run --Werror $files 2>&1); then
  echo "$(echo "$files" | wc -w) files checked, all formatted"
  exit 0
fi
bad=$(echo "$out" | sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: error: .*/\1/p' | sort -u)
for f in $bad; do
  echo "not formatted: $f"
  clang-format "$f" | diff -u "$f" - | sed -n '3,12p'
done
[ -n "$bad" ] || echo "$out"
echo "$(echo "$files" | wc -w) files checked, $(echo "$bad" | wc -w) not formatted"
exit 1
