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
bad=0
for f in $files; do
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "not formatted: $f"
    clang-format "$f" | diff -u "$f" - | sed -n '3,12p'
    bad=$((bad + 1))
  fi
done
echo "$(echo "$files" | wc -w) files checked, $bad not formatted"
[ "$bad" -eq 0 ]
