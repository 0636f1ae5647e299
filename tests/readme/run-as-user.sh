#!/bin/bash
# Runs readme.bats: README.md's quick start and examples, as they stand in
# README.md, as skiff-test (a user with /etc/subuid ranges), in a fresh clone.
#   run-as-user.sh SOURCE-DIR
# As root: makes the user (tests/system/test-user.sh), clones SOURCE-DIR into
# a directory that user owns (the checkout may sit where it cannot enter),
# and runs readme.bats there as that user. The clone is of the committed
# HEAD, as a user's clone would be: uncommitted changes, the README's
# included, are not seen by this test. readme.bats itself and its shim are
# taken from SOURCE-DIR as they are. As any other user it skips: it needs
# root to make the user and give the run a /tmp of its own.
set -euo pipefail
src=$(cd "$1" && pwd)

if [ "$(id -u)" != 0 ]; then
  echo "1..0 # skip: run as root (tests/ci.sh): it runs the quick start as a user it makes"
  exit 0
fi
# The checkout may belong to another user than root; git refuses to read
# such a repository unless told it is safe, here for these commands only.
git_src() { git -c safe.directory='*' -C "$src" "$@"; }
if ! git_src rev-parse -q --verify HEAD >/dev/null 2>&1; then
  echo "1..0 # skip: $src is not a git checkout with a commit"
  exit 0
fi
if [ -n "$(git_src status --porcelain --untracked-files=no)" ]; then
  echo "readme.bats: $src has uncommitted changes; this test runs its HEAD, without them" >&2
fi

user=$("$src/tests/system/test-user.sh" subuid)
work=$(mktemp -d /var/tmp/skiff-readme.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work"
git -c safe.directory='*' clone -q --no-hardlinks "$src" "$work/skiff"
cp -r "$src/tests/readme" "$work/readme"
# readme.bats starts its registry with tests/system's helpers and fixtures.
cp -r "$src/tests/system" "$work/system"
cp -r "$src/tests/fixtures" "$work/fixtures"
chmod -R a+rX "$work/readme" "$work/system" "$work/fixtures"
mkdir "$work/home" "$work/tmp"
chown -R "$user:" "$work/skiff" "$work/home"
chmod 1777 "$work/tmp"

# The quick start writes /tmp/busybox.tar. Another user's file of that name
# (someone ran the quick start on this machine) would stop it, and the test
# should leave nothing there: the run gets a /tmp of its own, a directory of
# $work mounted on /tmp in a mount namespace made for it. HOME is a new,
# empty directory, as a new user's is, and with it the store
# (~/.local/share/skiff) and the run root (/tmp/skiff-run-UID: no
# XDG_RUNTIME_DIR). ccache, if installed here, is turned off: with a new
# HOME its cache is always cold, and CI has none.
status=0
# shellcheck disable=SC2016 # the inner shell expands its own arguments
unshare --mount --propagation private -- /bin/sh -c '
  mount --bind "$1/tmp" /tmp && cd "$1/skiff" &&
  exec runuser -u "$2" -- env -i HOME="$1/home" USER="$2" LOGNAME="$2" SHELL=/bin/bash \
    PATH="$1/readme/shim:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" LANG=C.UTF-8 CCACHE_DISABLE=1 \
    README_CLONE="$1/skiff" bats --tap "$1/readme/readme.bats"' sh "$work" "$user" || status=$?
exit $status
