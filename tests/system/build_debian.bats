#!/usr/bin/env bats
# skiff build FROM a real Debian: a bookworm root filesystem made by
# debootstrap (fixtures/make-debian-rootfs.sh) and imported, apt-get update
# and apt-get install from a repository of real Debian packages served on
# 127.0.0.1, so that nothing leaves the machine while the tests run.
#
# With /etc/subuid ranges, apt drops to its _apt user, dpkg and the
# maintainer scripts change owners, and the image keeps them. Without, apt
# is told to stay root and those calls succeed without effect: the packages
# install all the same, every file belongs to root, and the build says so
# once.
load helpers
load registry_helpers
load build_helpers

DEBIAN_ROOTFS="$SKIFF_TEST_FIXTURES/debian-rootfs.tar"
DEBIAN_REPO="$SKIFF_TEST_FIXTURES/debian-repo"

# The note of a build without ranges.
NOTE_PART="every file the build makes belongs to root"

eval "common_$(declare -f setup)"
eval "common_$(declare -f teardown)"

setup() {
  if [ ! -f "$DEBIAN_ROOTFS" ] || [ ! -f "$DEBIAN_REPO/Release" ]; then
    local why="no Debian root filesystem (tests/fixtures/make-debian-rootfs.sh makes it, as root)"
    [ -s "$SKIFF_TEST_FIXTURES/debian-unavailable" ] && why=$(head -n 1 "$SKIFF_TEST_FIXTURES/debian-unavailable")
    if [ "${SKIFF_TEST_REQUIRE_DEBIAN:-0}" = 1 ]; then
      echo "$why" >&2
      return 1
    fi
    skip "$why"
  fi
  common_setup
  export HOME="$BATS_TEST_TMPDIR/home" XDG_RUNTIME_DIR="$BATS_TEST_TMPDIR/xdg"
  mkdir -p "$HOME"
  mkdir -m 0700 "$XDG_RUNTIME_DIR"
  CTX="$BATS_TEST_TMPDIR/ctx"
  mkdir -p "$CTX"
  "$SKIFF" import "$DEBIAN_ROOTFS" debian-base >/dev/null
  start_http_server "$DEBIAN_REPO"
  REPO="http://127.0.0.1:$HTTP_PORT/"
}

teardown() {
  stop_http_server
  common_teardown
}

# The Dockerfile's first lines: the Debian base with only the local
# repository as apt source.
from_debian_with_local_repo() {
  cat <<'EOF'
FROM debian-base
ARG REPO
RUN rm -f /etc/apt/sources.list.d/* && echo "deb [trusted=yes] $REPO ./" > /etc/apt/sources.list
EOF
}

# apt runs dpkg on a terminal of its own, whose lines end in CR LF: the CRs
# go from $output and $lines.
strip_cr() {
  output=${output//$'\r'/}
  mapfile -t lines <<< "$output"
}

# The version of package PKG in the local repository.
repo_version() {
  awk -v p="$1" '$1 == "Package:" { cur = $2 } cur == p && $1 == "Version:" { print $2; exit }' "$DEBIAN_REPO/Packages"
}

# stat -c FORMAT of PATH in IMAGE.
stat_in() {
  "$SKIFF" run --rm "$1" stat -c "$2" "$3"
}

@test "build FROM Debian: RUN apt-get update && apt-get install from a local repository; the image runs hello" {
  {
    from_debian_with_local_repo
    cat <<'EOF'
RUN apt-get update && apt-get install -y hello libutempter0 cron-daemon-common
CMD ["hello"]
EOF
  } | dockerfile
  run -0 --separate-stderr skiff build --build-arg REPO="$REPO" -t with-hello "$CTX"
  strip_cr
  built_id_is with-hello
  # apt read the local repository, fetched the packages from it, and dpkg
  # set each one up (its maintainer scripts ran to the end).
  has_line "Get:2 http://127.0.0.1:$HTTP_PORT ./ Release [$(stat -c %s "$DEBIAN_REPO/Release") B]"
  lacks "$output" "deb.debian.org"
  has_line "Setting up hello ($(repo_version hello)) ..."
  has_line "Setting up libutempter0:$(dpkg --print-architecture) ($(repo_version libutempter0)) ..."
  has_line "Setting up cron-daemon-common ($(repo_version cron-daemon-common)) ..."
  local build_stderr=$stderr
  contains "$(cat "$BATS_TEST_TMPDIR/http.log")" "\"GET /./hello_$(repo_version hello)_"
  lacks "$build_stderr" "E: "

  run -0 --separate-stderr skiff run --rm with-hello
  same "$output" "Hello, world!"
  run -0 --separate-stderr skiff run --rm with-hello dpkg-query -W -f '${Package} ${Status}\n' hello libutempter0 cron-daemon-common
  same "$output" "cron-daemon-common install ok installed
hello install ok installed
libutempter0 install ok installed"
  # addgroup (from cron-daemon-common's postinst) wrote the group either way.
  run -0 --separate-stderr skiff run --rm with-hello getent group crontab

  # utempter is shipped as root:utmp 2755 in its package; crontab's spool
  # is chowned to root:crontab by the postinst.
  local utempter
  utempter=$("$SKIFF" run --rm with-hello sh -c 'dpkg -L libutempter0 | grep "/utempter/utempter$"')
  [ -n "$utempter" ]
  # With ranges the owners are kept; without, squashed to the one id (0).
  # apt's own download directory belongs to its sandbox user.
  local ids=%u:%g user=%u utmp=0:0 crontab=0:0 apt=0
  if has_subuid; then ids=%U:%G user=%U utmp=root:utmp crontab=root:crontab apt=_apt; fi
  run -0 --separate-stderr stat_in with-hello "$ids %a" "$utempter"
  same "$output" "$utmp 2755"
  run -0 --separate-stderr stat_in with-hello "$ids %a" /var/spool/cron/crontabs
  same "$output" "$crontab 1730"
  run -0 --separate-stderr stat_in with-hello "$user" /var/cache/apt/archives/partial
  same "$output" "$apt"
  if has_subuid; then
    lacks "$build_stderr" "$NOTE_PART"
  else
    # Said once, for the two RUN steps.
    same "$(grep -c "$NOTE_PART" <<< "$build_stderr")" 1
    contains "$build_stderr" "skiff: user $(id -un) has no ranges in /etc/subuid and /etc/subgid: RUN steps see chown and setuid calls succeed without effect, and $NOTE_PART"
  fi
  nothing_left_behind
}

@test "build FROM Debian: useradd and files made as that user (owners kept with ranges); a later step purges a package" {
  {
    from_debian_with_local_repo
    cat <<'EOF'
RUN apt-get update && apt-get install -y hello
RUN useradd --create-home --uid 1234 builder && install -d -o builder -g builder -m 0750 /srv/data \
 && runuser -u builder -- touch /srv/data/by-builder
RUN apt-get purge -y hello && rm -rf /var/lib/apt/lists/*
EOF
  } | dockerfile
  run -0 --separate-stderr skiff build --build-arg REPO="$REPO" -t with-user "$CTX"
  strip_cr
  has_line "Setting up hello ($(repo_version hello)) ..."
  has_line "Removing hello ($(repo_version hello)) ..."
  local build_stderr=$stderr
  run -0 --separate-stderr skiff run --rm with-user sh -c 'command -v hello || echo no-hello; dpkg -s hello >/dev/null 2>&1 || echo purged; ls /var/lib/apt/lists | wc -l'
  same "$output" "no-hello
purged
0"
  run -0 --separate-stderr skiff run --rm with-user getent passwd builder
  same "$output" "builder:x:1234:1234::/home/builder:/bin/sh"
  if has_subuid; then
    run -0 --separate-stderr skiff run --rm with-user stat -c '%n %U:%G %a' /home/builder /srv/data /srv/data/by-builder
    same "$output" "/home/builder builder:builder 755
/srv/data builder:builder 750
/srv/data/by-builder builder:builder 644"
    run -0 --separate-stderr skiff run --rm -u builder with-user sh -c 'id -un; touch /srv/data/mine && echo wrote'
    same "$output" "builder
wrote"
    lacks "$build_stderr" "$NOTE_PART"
  else
    run -0 --separate-stderr skiff run --rm with-user stat -c '%n %u:%g %a' /home/builder /srv/data /srv/data/by-builder
    same "$output" "/home/builder 0:0 755
/srv/data 0:0 750
/srv/data/by-builder 0:0 644"
    same "$(grep -c "$NOTE_PART" <<< "$build_stderr")" 1
  fi
  nothing_left_behind
}

@test "build FROM Debian: APT_CONFIG from the Dockerfile: apt reads that file, installs, and the image keeps it" {
  printf 'Acquire::Retries "7";\n' > "$CTX/custom.conf"
  {
    from_debian_with_local_repo
    cat <<'EOF'
COPY custom.conf /etc/apt/custom.conf
ENV APT_CONFIG=/etc/apt/custom.conf
RUN apt-config dump | grep -E '^(Acquire::Retries|APT::Sandbox::User) ' && apt-get update && apt-get install -y hello
EOF
  } | dockerfile
  run -0 --separate-stderr skiff build --build-arg REPO="$REPO" -t apt-config "$CTX"
  strip_cr
  has_line 'Acquire::Retries "7";'
  if has_subuid; then
    has_line 'APT::Sandbox::User "_apt";'
  else
    has_line 'APT::Sandbox::User "root";'
  fi
  has_line "Setting up hello ($(repo_version hello)) ..."
  lacks "$stderr" "E: "
  lacks "$stderr" "skiff-link"
  built_id_is apt-config

  # The image has the Dockerfile's APT_CONFIG, and nothing of skiff's.
  run -0 inspect_field apt-config '[e for e in d["Config"]["Env"] if e.startswith("APT_CONFIG=")]'
  same "$output" '["APT_CONFIG=/etc/apt/custom.conf"]'
  run -0 --separate-stderr skiff run --rm apt-config sh -c 'echo "$APT_CONFIG"; hello'
  same "$output" "/etc/apt/custom.conf
Hello, world!"
  run -0 sh -c 'find "$SKIFF_ROOT" -name "*skiff-apt*" 2>/dev/null; true'
  same "$output" ""
  nothing_left_behind
}

@test "build FROM Debian: apt stays root over a sandbox user set in apt.conf.d and in an apt.conf made by the step; apt.conf is read once" {
  {
    from_debian_with_local_repo
    cat <<'EOF'
RUN echo 'APT::Sandbox::User "_apt";' > /etc/apt/apt.conf.d/99sandbox \
 && printf 'APT::Sandbox::User "_apt";\nDPkg::Post-Invoke:: "echo post-invoke-hook";\n' > /etc/apt/apt.conf \
 && apt-config dump | grep -E '^(APT::Sandbox::User|DPkg::Post-Invoke::) ' \
 && apt-get update && apt-get install -y hello
EOF
  } | dockerfile
  run -0 --separate-stderr skiff build --build-arg REPO="$REPO" -t apt-sandbox "$CTX"
  strip_cr
  if has_subuid; then
    has_line 'APT::Sandbox::User "_apt";'
  else
    has_line 'APT::Sandbox::User "root";'
  fi
  same "$(count_lines 'DPkg::Post-Invoke:: "echo post-invoke-hook";')" 1
  has_line "Setting up hello ($(repo_version hello)) ..."
  same "$(count_lines post-invoke-hook)" 1
  lacks "$stderr" "E: "
  nothing_left_behind
}

@test "build FROM Debian: APT_CONFIG from an ARG, relative to WORKDIR, its file missing and then made by the step" {
  cat <<'EOF' | dockerfile
FROM debian-base
WORKDIR /etc/apt
ARG APT_CONFIG=from-arg.conf
RUN apt-config dump >/dev/null && echo apt-ran
RUN echo 'Acquire::Retries "7";' > from-arg.conf && apt-config dump | grep -E '^(Acquire::Retries|APT::Sandbox::User) '
EOF
  run -0 --separate-stderr skiff build -t apt-arg "$CTX"
  has_line apt-ran
  has_line 'Acquire::Retries "7";'
  if has_subuid; then
    has_line 'APT::Sandbox::User "_apt";'
  else
    has_line 'APT::Sandbox::User "root";'
    lacks "$stderr" "skiff-link"
  fi
  run -0 inspect_field apt-arg '[e for e in d["Config"].get("Env", []) if e.startswith("APT_CONFIG=")]'
  same "$output" "[]"
  nothing_left_behind
}
