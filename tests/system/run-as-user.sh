#!/bin/bash
# Runs the bats system tests as a real unprivileged user.
#   run-as-user.sh subuid|nosub SKIFF-BINARY SOURCE-DIR
# As root: makes the test user (skiff-test with /etc/subuid and /etc/subgid
# ranges, or skiff-nosub with none), copies the binary and the tests to a
# directory that user can read (the checkout may sit in a home root keeps
# closed), and runs bats there as that user. As any other user: runs the
# tests as that user, with the binary where it is.
set -euo pipefail
kind=$1 skiff=$2 src=$3

make_rootfs() { "$src/tests/fixtures/make-busybox-rootfs.sh" "$1/busybox.tar"; }

# build_debian.bats needs a Debian root filesystem and a few packages, which
# debootstrap makes (as root, from the Debian mirror) once per cache
# directory: $SKIFF_TEST_CACHE, default /var/tmp/skiff-test-cache. They go
# to DIR/debian-rootfs.tar and DIR/debian-repo/; when they cannot be made,
# DIR/debian-unavailable says why and those tests skip (or fail, with
# SKIFF_TEST_REQUIRE_DEBIAN=1).
debian_fixtures() {
  local dir log="$1/debian-fixture.log"
  if [ -n "${SKIFF_TEST_FILES:-}" ]; then
    case " $SKIFF_TEST_FILES " in *" build_debian.bats "*) ;; *) return 0 ;; esac
  fi
  if dir=$("$src/tests/fixtures/make-debian-rootfs.sh" "${SKIFF_TEST_CACHE:-/var/tmp/skiff-test-cache}" 2>"$log"); then
    cat "$log" >&2
    ln -f "$dir/rootfs.tar" "$1/debian-rootfs.tar" 2>/dev/null || cp "$dir/rootfs.tar" "$1/debian-rootfs.tar"
    cp -r "$dir/repo" "$1/debian-repo"
  else
    cat "$log" >&2
    grep '^make-debian-rootfs: ' "$log" | tail -n 1 | sed 's/^make-debian-rootfs: /the Debian fixture could not be made: /' \
      > "$1/debian-unavailable"
    [ -s "$1/debian-unavailable" ] || echo "the Debian fixture could not be made" > "$1/debian-unavailable"
  fi
  rm -f "$log"
}

if [ "$(id -u)" != 0 ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  make_rootfs "$work"
  debian_fixtures "$work"
  has_subuid=0
  grep -qE "^($(id -un)|$(id -u)):" /etc/subuid 2>/dev/null && has_subuid=1
  [ "$kind" = subuid ] && [ $has_subuid = 0 ] && { echo "1..0 # skip: $(id -un) has no /etc/subuid range"; exit 0; }
  [ "$kind" = nosub ] && [ $has_subuid = 1 ] && { echo "1..0 # skip: $(id -un) has /etc/subuid ranges"; exit 0; }
  exec env SKIFF="$skiff" SKIFF_TEST_FIXTURES="$work" SKIFF_TEST_SUBUID=$has_subuid \
    SKIFF_TEST_REQUIRE_DEBIAN="${SKIFF_TEST_REQUIRE_DEBIAN:-0}" bats --tap "$src/tests/system"
fi

user=$("$src/tests/system/test-user.sh" "$kind")
has_subuid=0
[ "$kind" = subuid ] && has_subuid=1

work=$(mktemp -d /var/tmp/skiff-tests.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work"
install -m 0755 "$skiff" "$work/skiff"
cp -r "$src/tests/system" "$work/system"
cp -r "$src/tests/fixtures" "$work/fixtures"
make_rootfs "$work"
debian_fixtures "$work"
chmod -R a+rX "$work"
home=$(getent passwd "$user" | cut -d: -f6)
# SKIFF_TEST_FILES="registry.bats run.bats" runs only those files.
targets=("$work/system")
if [ -n "${SKIFF_TEST_FILES:-}" ]; then
  targets=()
  for f in $SKIFF_TEST_FILES; do targets+=("$work/system/$f"); done
fi
# SKIFF_TEST_FILTER=REGEX runs only the tests whose names match (bats --filter).
filter=()
[ -n "${SKIFF_TEST_FILTER:-}" ] && filter=(--filter "$SKIFF_TEST_FILTER")
cd "$work"
runuser -u "$user" -- env -i HOME="$home" USER="$user" LOGNAME="$user" SHELL=/bin/sh \
  PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin LANG=C.UTF-8 \
  SKIFF="$work/skiff" SKIFF_TEST_FIXTURES="$work" SKIFF_TEST_SUBUID=$has_subuid \
  SKIFF_TEST_REQUIRE_DEBIAN="${SKIFF_TEST_REQUIRE_DEBIAN:-0}" bats --tap "${filter[@]}" "${targets[@]}"
