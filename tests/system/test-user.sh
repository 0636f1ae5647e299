#!/bin/bash
# Makes a test user, as root, and prints its name:
#   test-user.sh subuid|nosub
# subuid: skiff-test, with /etc/subuid and /etc/subgid ranges; nosub:
# skiff-nosub, made without any (and checked). Also opens /dev/fuse and
# /dev/net/tun to every user, as normal distributions do.
# The test scripts that meson runs side by side call this at the same time;
# a lock makes them take turns, so that two useradd never race.
set -euo pipefail
kind=$1

exec 9>/run/skiff-test-users.lock
flock 9

if [ "$kind" = subuid ]; then
  user=skiff-test
  id "$user" >/dev/null 2>&1 || useradd -m -s /bin/sh "$user"
  # Debian's useradd gives a range (login.defs); other set-ups may not.
  grep -q "^$user:" /etc/subuid || usermod --add-subuids 300000-365535 "$user"
  grep -q "^$user:" /etc/subgid || usermod --add-subgids 300000-365535 "$user"
else
  user=skiff-nosub
  id "$user" >/dev/null 2>&1 || useradd -m -s /bin/sh -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$user"
  if grep -qE "^($user|$(id -u "$user")):" /etc/subuid /etc/subgid; then
    echo "Bail out! $user has subordinate id ranges; the test needs a user without" >&2
    exit 1
  fi
fi

# Some hosts ship /dev/fuse and /dev/net/tun 0600; normal distributions make
# them 0666 so that rootless fuse-overlayfs and slirp4netns can use them.
for dev in /dev/fuse /dev/net/tun; do [ -e "$dev" ] && chmod 0666 "$dev"; done
echo "$user"
