#!/usr/bin/env bats
# skiff run's security flags, as docker and podman users write them:
# --cap-add, --cap-drop, --privileged, --security-opt, --preserve-fds,
# --sysctl, --ulimit.
load helpers

setup_file() { :; }

# The value of FIELD (CapEff, NoNewPrivs, ...) in /proc/self/status as the
# container's command sees it, with skiff run's FLAGS.
status_field() {
  local field=$1
  shift
  skiff run --rm "$@" bb awk -v f="$field:" '$1 == f { print $2 }' /proc/self/status
}

# podman's default set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID
# SETPCAP NET_BIND_SERVICE SYS_CHROOT SETFCAP.
kDefaultCaps=00000000800405fb

# --- capabilities ----------------------------------------------------------------

@test "--cap-drop ALL leaves no capability; --cap-add adds to what is left" {
  import_busybox
  run -0 status_field CapEff --cap-drop ALL
  [ "$output" = 0000000000000000 ]
  run -0 status_field CapBnd --cap-drop all
  [ "$output" = 0000000000000000 ]
  # Dropping ALL then adding one, in either order on the command line (docker's rule).
  run -0 status_field CapEff --cap-drop ALL --cap-add net_raw
  [ "$output" = 0000000000002000 ]
  run -0 status_field CapBnd --cap-add CAP_NET_RAW --cap-drop ALL
  [ "$output" = 0000000000002000 ]
  # Added to podman's default set, or dropped from it.
  run -0 status_field CapEff --cap-add sys_admin
  [ "$output" = 00000000802405fb ]
  run -0 status_field CapEff --cap-drop CAP_CHOWN --cap-drop Kill
  [ "$output" = 00000000800405da ]
  run -0 status_field CapEff
  [ "$output" = "$kDefaultCaps" ]
}

@test "--privileged: every capability of the user namespace, nothing masked or read-only, no more than the user may do" {
  import_busybox
  local last want
  # Every capability of the kernel (of the 41 skiff names): a new user
  # namespace starts with a full bounding set, whatever the caller's.
  last=$(cat /proc/sys/kernel/cap_last_cap)
  ((last <= 40)) || last=40
  want=$(printf '%016x' $(((1 << (last + 1)) - 1)))
  run -0 status_field CapEff --privileged
  [ "$output" = "$want" ]
  run -0 status_field CapBnd --privileged
  [ "$output" = "$want" ]
  # They are the namespace's: a host file the user cannot read stays unreadable.
  if [ -e /etc/shadow ] && ! [ -r /etc/shadow ]; then
    run -1 skiff run --rm --privileged -v /etc/shadow:/shadow:ro bb cat /shadow
    [[ "$output" == *"Permission denied"* ]]
  fi
  run -0 skiff run --rm --privileged bb sh -c \
    'stat -c %F /proc/keys; stat -f -c %T /sys/firmware; awk '\''$5 == "/proc/sys"'\'' /proc/self/mountinfo; echo end'
  [ "${lines[0]}" != "character special file" ]
  [ "${lines[1]}" != tmpfs ]
  [ "${lines[2]}" = end ]
  # --cap-drop still applies.
  run -0 status_field CapEff --privileged --cap-drop ALL --cap-add chown
  [ "$output" = 0000000000000001 ]
}

# --- --security-opt ------------------------------------------------------------------

@test "--security-opt no-new-privileges sets NoNewPrivs" {
  import_busybox
  run -0 status_field NoNewPrivs
  [ "$output" = 0 ]
  run -0 status_field NoNewPrivs --security-opt no-new-privileges
  [ "$output" = 1 ]
  run -0 status_field NoNewPrivs --security-opt no-new-privileges=true
  [ "$output" = 1 ]
  run -0 status_field NoNewPrivs --security-opt no-new-privileges --security-opt no-new-privileges=false
  [ "$output" = 0 ]
}

@test "--security-opt unmask= shows masked paths and lifts read-only ones; mask= masks a path" {
  import_busybox
  local probe='stat -c %F /proc/keys; stat -f -c %T /sys/firmware; awk '\''$5 == "/proc/sys" { print "ro-sys" }'\'' /proc/self/mountinfo; echo end'
  run -0 skiff run --rm bb sh -c "$probe"
  [ "${lines[0]}" = "character special file" ]
  [ "${lines[1]}" = tmpfs ]
  [ "${lines[2]}" = ro-sys ]
  run -0 skiff run --rm --security-opt unmask=ALL bb sh -c "$probe"
  [ "${lines[0]}" != "character special file" ]
  [ "${lines[1]}" != tmpfs ]
  [ "${lines[2]}" = end ]
  # One path (or a glob) at a time; the others stay masked.
  run -0 skiff run --rm --security-opt unmask=/proc/keys bb sh -c "$probe"
  [ "${lines[0]}" != "character special file" ]
  [ "${lines[1]}" = tmpfs ]
  run -0 skiff run --rm --security-opt 'unmask=/sys/*' bb sh -c "$probe"
  [ "${lines[0]}" = "character special file" ]
  [ "${lines[1]}" != tmpfs ]
  # docker's spelling.
  run -0 skiff run --rm --security-opt systempaths=unconfined bb sh -c "$probe"
  [ "${lines[1]}" != tmpfs ]
  [ "${lines[2]}" = end ]
  # A file shows as empty, a directory as an empty read-only directory.
  run -0 skiff run --rm --security-opt mask=/etc/group:/home bb sh -c \
    'wc -c < /etc/group; ls -A /home; touch /home/x 2>/dev/null || echo read-only; grep -c root /etc/passwd'
  [ "$output" = $'0\nread-only\n1' ]
}

@test "--security-opt label= and apparmor= are accepted and change nothing" {
  import_busybox
  run -0 status_field CapEff --security-opt label=disable --security-opt label=type:container_t \
    --security-opt apparmor=unconfined
  [ "$output" = "$kDefaultCaps" ]
}

# --- seccomp ----------------------------------------------------------------------------

@test "seccomp: the default profile is loaded; unshare needs CAP_SYS_ADMIN; everyday calls work" {
  import_busybox
  run -0 status_field Seccomp
  [ "$output" = 2 ]
  # unshare(2) needs CAP_SYS_ADMIN in docker's and podman's profile too.
  run -0 skiff run --rm bb sh -c 'unshare -U true 2>&1; echo rc=$?'
  [ "$output" = $'unshare: unshare(0x10000000): Operation not permitted\nrc=1' ]
  # Everyday work is untouched: files, processes, sockets, signals, chown.
  run -0 skiff run --rm bb sh -c \
    'mkdir /tmp/d && echo x > /tmp/d/f && chown 0:0 /tmp/d/f && ln -s f /tmp/d/l && cat /tmp/d/l &&
     (sleep 0.01 &) && wait && nc -l -p 4444 -s 127.0.0.1 </dev/null & sleep 0.05; kill %1 2>/dev/null; echo ok'
  [ "${lines[0]}" = x ]
  [ "${lines[-1]}" = ok ]
  # With CAP_SYS_ADMIN the profile lets unshare through (the capability decides, as in docker).
  run -0 skiff run --rm --cap-add SYS_ADMIN bb sh -c 'unshare -U true; echo rc=$?'
  [ "$output" = rc=0 ]
}

# tests/fixtures/syscall-probe.c, built static into $BATS_TEST_TMPDIR/bin.
build_probe() {
  local src
  for src in "$BATS_TEST_DIRNAME/../fixtures/syscall-probe.c" "$SKIFF_TEST_FIXTURES/fixtures/syscall-probe.c"; do
    [ -f "$src" ] && break
  done
  mkdir -p "$BATS_TEST_TMPDIR/bin"
  cc -static -O2 -o "$BATS_TEST_TMPDIR/bin/probe" "$src"
}

@test "seccomp: keyrings, io_uring, userfaultfd, bpf and perf are EPERM; clone3 is ENOSYS so libc falls back" {
  import_busybox
  build_probe
  run -0 skiff run --rm -v "$BATS_TEST_TMPDIR/bin:/probe:ro" bb /probe/probe
  [ "$output" = "keyctl EPERM
add_key EPERM
io_uring_setup EPERM
userfaultfd EPERM
clone3 ENOSYS
bpf EPERM
perf_event_open EPERM
getpid ok" ]
  # Unconfined, the same calls reach the kernel (clone3 then sees its NULL argument).
  run -0 skiff run --rm --security-opt seccomp=unconfined -v "$BATS_TEST_TMPDIR/bin:/probe:ro" bb /probe/probe
  [[ "$output" == *"clone3 EINVAL"* ]]
}

@test "seccomp: seccomp=unconfined and --privileged load no filter" {
  import_busybox
  run -0 status_field Seccomp --security-opt seccomp=unconfined
  [ "$output" = 0 ]
  run -0 status_field Seccomp --privileged
  [ "$output" = 0 ]
  run -0 skiff run --rm --security-opt seccomp=unconfined bb sh -c 'unshare -U true; echo rc=$?'
  [ "$output" = rc=0 ]
}

@test "seccomp: seccomp=PROFILE.json loads that profile (docker's format)" {
  import_busybox
  local p=$BATS_TEST_TMPDIR/profile.json
  # Everything allowed but mkdir and mkdirat, which fail with EACCES (13),
  # and chmod with a mode argument of 0700 exactly.
  cat > "$p" <<'JSON'
{
  "defaultAction": "SCMP_ACT_ALLOW",
  "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
              {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
  "syscalls": [
    {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
    {"names": ["fchmodat", "chmod"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 448, "op": "SCMP_CMP_EQ"}],
     "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
    {"names": ["no_such_call_anywhere"], "action": "SCMP_ACT_ERRNO"}
  ]
}
JSON
  run -0 skiff run --rm --security-opt "seccomp=$p" bb sh -c \
    'mkdir /tmp/x 2>&1; touch /tmp/f; chmod 700 /tmp/f 2>&1; chmod 755 /tmp/f && echo 755-ok; grep Seccomp: /proc/self/status'
  [ "${lines[0]}" = "mkdir: can't create directory '/tmp/x': Permission denied" ]
  [ "${lines[1]}" = "chmod: /tmp/f: Operation not permitted" ]
  [ "${lines[2]}" = 755-ok ]
  [[ "${lines[3]}" =~ ^Seccomp:.2$ ]]
  # The excluded capability lifts the chmod rule; the mkdir rule stays.
  run -0 skiff run --rm --cap-add SYS_ADMIN --security-opt "seccomp=$p" bb sh -c \
    'mkdir /tmp/x 2>/dev/null || echo no-mkdir; touch /tmp/f; chmod 700 /tmp/f && echo 700-ok'
  [ "$output" = $'no-mkdir\n700-ok' ]
  # A build's RUN steps have the default profile too.
  mkdir -p "$BATS_TEST_TMPDIR/ctx"
  printf 'FROM bb\nRUN grep Seccomp: /proc/self/status > /seccomp\n' > "$BATS_TEST_TMPDIR/ctx/Dockerfile"
  run -0 skiff build -q -t sc "$BATS_TEST_TMPDIR/ctx"
  run -0 skiff run --rm sc cat /seccomp
  [[ "$output" =~ ^Seccomp:.2$ ]]
}

@test "seccomp: a profile that cannot be read or used is exit 125 naming the file; nothing is left" {
  import_busybox
  run -125 skiff run --rm --security-opt seccomp=/no/such/profile.json bb true
  [ "$output" = "skiff: seccomp profile /no/such/profile.json: no such file or directory" ]
  local p=$BATS_TEST_TMPDIR/bad.json
  echo '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_MAYBE"}]}' > "$p"
  run -125 skiff run --rm --name sc1 --security-opt "seccomp=$p" bb true
  [ "$output" = "skiff: seccomp profile $p: unknown seccomp action \"SCMP_ACT_MAYBE\"" ]
  echo 'not json' > "$p"
  run -125 skiff run --rm --security-opt "seccomp=$p" bb true
  [[ "$output" == "skiff: seccomp profile $p: not JSON: "* ]]
  echo '{"syscalls": []}' > "$p"
  run -125 skiff run --rm --security-opt "seccomp=$p" bb true
  [ "$output" = "skiff: seccomp profile $p: no defaultAction: not a seccomp profile" ]
  run -0 skiff ps -aq
  [ -z "$output" ]
}

# --- --preserve-fds ------------------------------------------------------------------

@test "--preserve-fds 2: the caller's fds 3 and 4 reach the command, 5 does not" {
  import_busybox
  local d=$BATS_TEST_TMPDIR
  echo three > "$d/three"
  echo four > "$d/four"
  echo five > "$d/five"
  local probe='cat <&3; cat <&4; for f in 5 6 7 8 9; do test -e /proc/self/fd/$f && echo open-$f; done; echo done'
  run -0 skiff run --rm --preserve-fds 2 bb sh -c "$probe" 3<"$d/three" 4<"$d/four" 5<"$d/five"
  [ "$output" = $'three\nfour\ndone' ]
  # The same with --init (the command is PID 2) and a working directory to enter.
  run -0 skiff run --rm --init -w /tmp --preserve-fds 2 bb sh -c "$probe" 3<"$d/three" 4<"$d/four" 5<"$d/five"
  [ "$output" = $'three\nfour\ndone' ]
  # A writable fd stays writable.
  run -0 skiff run --rm --preserve-fds 1 bb sh -c 'echo from-inside >&3' 3>"$d/out"
  [ "$(cat "$d/out")" = from-inside ]
  # A directory passed on is still no way out as the working directory (CVE-2024-21626).
  run skiff run --rm --preserve-fds 1 -w /proc/self/fd/3 bb pwd 3<"$d"
  [ "$status" -ne 0 ]
  [[ "$output" == *"working directory /proc/self/fd/3"* ]]
  # Without the flag nothing passes.
  run -0 skiff run --rm bb sh -c 'test -e /proc/self/fd/3 && echo open-3; echo done' 3<"$d/three"
  [ "$output" = done ]
}

# --- --sysctl ------------------------------------------------------------------------

@test "--sysctl: a namespaced kernel parameter is set in the container's namespace only" {
  import_busybox
  local host
  host=$(cat /proc/sys/kernel/shm_rmid_forced)
  run -0 skiff run --rm --sysctl kernel.shm_rmid_forced=1 bb cat /proc/sys/kernel/shm_rmid_forced
  [ "$output" = 1 ]
  [ "$(cat /proc/sys/kernel/shm_rmid_forced)" = "$host" ]
  # Several, "/" as the separator, the later value winning; /proc/sys stays read-only.
  run -0 skiff run --rm --sysctl kernel/msgmax=12345 --sysctl fs.mqueue.msg_max=20 --sysctl fs.mqueue.msg_max=30 \
    bb sh -c 'cat /proc/sys/kernel/msgmax /proc/sys/fs/mqueue/msg_max; echo 1 > /proc/sys/kernel/msgmni || echo ro'
  [ "${lines[0]}" = 12345 ]
  [ "${lines[1]}" = 30 ]
  [ "${lines[-1]}" = ro ]
}

@test "--sysctl net.*: in the container's own network namespace (--network none), refused with the host's" {
  import_busybox
  local host
  host=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)
  run -0 skiff run --rm --network none --sysctl net.ipv4.ip_unprivileged_port_start=0 \
    bb cat /proc/sys/net/ipv4/ip_unprivileged_port_start
  [ "$output" = 0 ]
  [ "$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)" = "$host" ]
  run -125 skiff run --rm --network host --sysctl net.ipv4.ip_unprivileged_port_start=0 bb true
  [ "$output" = "skiff: --sysctl net.ipv4.ip_unprivileged_port_start: net.* settings are not allowed with --network host, which shares the host's network namespace" ]
  run -125 skiff run --rm --network host --sysctl net.ipv4.ip_forward=1 bb true
  [ "$output" = "skiff: --sysctl net.ipv4.ip_forward: net.* settings are not allowed with --network host, which shares the host's network namespace" ]
}

@test "--sysctl: the host's parameters, kernel.hostname and CVE-2022-0811's injected key are refused; a failed write names the key" {
  import_busybox
  local rest=": not allowed in a container, whose own kernel parameters are kernel.msgmax, kernel.msgmnb, kernel.msgmni, kernel.sem, kernel.shmall, kernel.shmmax, kernel.shmmni, kernel.shm_rmid_forced, fs.mqueue.*, kernel.domainname and net.*"
  run -125 skiff run --rm --sysctl 'kernel.core_pattern=|/tmp/x' bb true
  [ "$output" = "skiff: --sysctl kernel.core_pattern$rest" ]
  run -125 skiff run --rm --network none --sysctl vm.swappiness=10 bb true
  [ "$output" = "skiff: --sysctl vm.swappiness$rest" ]
  run -125 skiff run --rm --sysctl kernel.hostname=x bb true
  [ "$output" = "skiff: --sysctl kernel.hostname is not allowed: set the container's host name with --hostname" ]
  run -125 skiff run --rm --sysctl 'kernel.shm_rmid_forced=1+kernel.core_pattern=|/x' bb true
  [ "$output" = "skiff: invalid --sysctl \"kernel.shm_rmid_forced=1+kernel.core_pattern=|/x\": the value may not hold '+', '=', a newline or another control character" ]
  run -125 skiff run --rm --sysctl $'kernel.shm_rmid_forced=1\nkernel.core_pattern=|/x' bb true
  [ "${#lines[@]}" = 1 ]
  [[ "$output" == "skiff: invalid --sysctl "*"the value may not hold '+', '=', a newline or another control character" ]]
  run -125 skiff run --rm --sysctl kernel/../../x=1 bb true
  [ "$output" = "skiff: invalid --sysctl \"kernel/../../x=1\": a key is made of a-z, 0-9, '_', '-' and '.' (or '/') between non-empty names" ]
  # A key the kernel does not have, a value it refuses: the run fails naming it, and leaves nothing.
  run -125 skiff run --rm --name sy --sysctl fs.mqueue.nope=1 bb true
  [ "$output" = "skiff: container set-up failed: write sysctl fs.mqueue.nope=1: no such file or directory" ]
  run -125 skiff run --name sy --sysctl kernel.shm_rmid_forced=7 bb true
  [ "$output" = "skiff: container set-up failed: write sysctl kernel.shm_rmid_forced=7: invalid argument" ]
  run -0 skiff ps -aq
  [ -z "$output" ]
}

# --- --ulimit -------------------------------------------------------------------------

@test "--ulimit: soft and hard limits reach the command" {
  import_busybox
  run -0 skiff run --rm --ulimit nofile=100:200 bb sh -c 'ulimit -n; ulimit -Hn; grep "open files" /proc/self/limits'
  [ "${lines[0]}" = 100 ]
  [ "${lines[1]}" = 200 ]
  [[ "${lines[2]}" =~ ^Max\ open\ files\ +100\ +200\ +files ]]
  # HARD is SOFT when not given; a later --ulimit of a name replaces an earlier one.
  run -0 skiff run --rm --ulimit fsize=2048 --ulimit core=0 --ulimit fsize=1048576 bb sh -c \
    'grep -E "file size|core file" /proc/self/limits'
  [[ "${lines[0]}" =~ ^Max\ file\ size\ +1048576\ +1048576\ +bytes ]]
  [[ "${lines[1]}" =~ ^Max\ core\ file\ size\ +0\ +0\ +bytes ]]
}

@test "--ulimit: a hard limit above the user's own, soft above hard and unknown names are refused in one line" {
  import_busybox
  local hard
  hard=$(ulimit -Hn)
  if [ "$hard" != unlimited ]; then
    run -125 skiff run --rm --name ul --ulimit "nofile=100:$((hard + 1))" bb true
    [ "$output" = "skiff: --ulimit nofile=100:$((hard + 1)): the hard limit $((hard + 1)) is above your own hard limit of $hard, which only root can raise" ]
    run -0 skiff ps -aq
    [ -z "$output" ]
  fi
  run -125 skiff run --rm --ulimit nofile=200:100 bb true
  [ "$output" = 'skiff: invalid --ulimit "nofile=200:100": the soft limit must not be above the hard limit' ]
  run -125 skiff run --rm --ulimit nofile=lots bb true
  [ "$output" = 'skiff: invalid --ulimit "nofile=lots": "lots" is not a number, -1 or unlimited' ]
  run -125 skiff run --rm --ulimit fly=1 bb true
  [ "${lines[0]}" = 'skiff: invalid --ulimit "fly=1": unknown limit "fly"' ]
  [[ "${lines[1]}" == "hint: the limits are core, cpu, data,"* ]]
}

# --- what is refused ------------------------------------------------------------------

@test "bad values are exit 125 with one line that says why" {
  import_busybox
  run -125 skiff run --rm --cap-add foo bb true
  [ "$output" = 'skiff: unknown capability: "CAP_FOO"' ]
  run -125 skiff run --rm --cap-drop CAP_NOPE bb true
  [ "$output" = 'skiff: unknown capability: "CAP_NOPE"' ]
  run -125 skiff run --rm --security-opt bogus bb true
  [ "${lines[0]}" = 'skiff: invalid --security-opt: "bogus"' ]
  [[ "${lines[1]}" == "hint: the options are no-new-privileges"* ]]
  run -125 skiff run --rm --security-opt no-new-privileges=maybe bb true
  [ "${lines[0]}" = 'skiff: invalid --security-opt: "no-new-privileges=maybe"' ]
  run -125 skiff run --rm --security-opt seccomp= bb true
  [ "${lines[0]}" = 'skiff: invalid --security-opt: "seccomp="' ]
  run -125 skiff run --rm --security-opt mask=etc bb true
  [ "$output" = 'skiff: invalid --security-opt "mask=etc": the paths to mask must be absolute' ]
  run -125 skiff run --rm --preserve-fds two bb true
  [ "$output" = 'skiff: invalid --preserve-fds "two": expected a number of file descriptors' ]
  # Every fd of the range must come from the caller (podman's words).
  run -125 skiff run --rm --preserve-fds 2 bb true 3</dev/null 4<&-
  [ "$output" = 'skiff: file descriptor 4 is not available - the preserve-fds option requires that file descriptors must be passed' ]
}

# --- skiff info -----------------------------------------------------------------------

@test "info shows the default capabilities and seccomp profile" {
  run -0 skiff info
  [[ "$output" == *$'\n'"  security:"$'\n'"    capabilities: CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FOWNER,CAP_FSETID,CAP_KILL,CAP_NET_BIND_SERVICE,CAP_SETFCAP,CAP_SETGID,CAP_SETPCAP,CAP_SETUID,CAP_SYS_CHROOT"$'\n'* ]]
  [[ "$output" == *$'\n'"    seccompProfile: default (docker's and podman's rules; seccomp=unconfined and --privileged load none)"$'\n'* ]]
}
