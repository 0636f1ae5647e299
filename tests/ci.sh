#!/bin/bash
# The whole test suite on a fresh Debian 12 machine: installs what skiff
# needs, builds it, and runs the unit and system tests. Run it as root so the
# system tests can run as real unprivileged users (one with /etc/subuid
# ranges, one without); as another user only that user's tests run.
set -euo pipefail
cd "$(dirname "$0")/.."

# What skiff needs to build and run: packages/debian.txt, the list README's
# quick start installs (a package the build needs goes there, not here, or
# a fresh machine's quick start misses it). Then what only the tests need.
# shellcheck disable=SC2207 # one package name a line
packages=($(cat packages/debian.txt))
packages+=(bats slirp4netns tar gzip zstd xz-utils docker-registry skopeo python3-jwt python3-cryptography
  openssl curl umoci debootstrap apt-utils git clang-format clang gcc libc6-dev)
if [ "$(id -u)" = 0 ]; then
  missing=()
  for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

builddir=${BUILDDIR:-build-ci}
[ -f "$builddir/build.ninja" ] || meson setup "$builddir" -Dbuildtype=debugoptimized -Dwerror=true >/dev/null
ninja -C "$builddir"
# build_debian.bats builds FROM a Debian root filesystem that debootstrap
# makes as root, once per build directory, before the system tests run as
# unprivileged users; here it must be made, and those tests must not skip.
if [ "$(id -u)" = 0 ]; then
  SKIFF_TEST_CACHE="$(cd "$builddir" && pwd)/test-cache"
  export SKIFF_TEST_CACHE SKIFF_TEST_REQUIRE_DEBIAN=1
  tests/fixtures/make-debian-rootfs.sh "$SKIFF_TEST_CACHE" >/dev/null
fi
status=0
meson test -C "$builddir" --print-errorlogs --num-processes 2 || status=$?

# One closing line over every TAP result (unit and system), for CI logs.
log="$builddir/meson-logs/testlog.txt"
passed=$(grep -cE '^ok [0-9]+' "$log" || true)
failed=$(grep -cE '^not ok [0-9]+' "$log" || true)
skipped=$(grep -cE '^ok [0-9]+.*# ?skip' "$log" || true)
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
exit $status
