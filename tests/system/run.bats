#!/usr/bin/env bats
# skiff run: the command, its flags, exit codes, and what is left behind.
load helpers

setup_file() { :; }

# --- basics and exit codes ---------------------------------------------------

@test "run prints the command's output and exits with its status" {
  import_busybox
  run -0 skiff run --rm bb echo hello
  [ "$output" = "hello" ]
  run -3 skiff run --rm bb sh -c 'exit 3'
}

@test "run: 127 for a command not found, 126 for one that cannot be run" {
  import_busybox
  run -127 skiff run --rm bb no-such-command
  [[ "$output" == *'exec "no-such-command": executable file not found in $PATH'* ]]
  run -126 skiff run --rm bb /etc/passwd
  [[ "$output" == *'exec "/etc/passwd": permission denied'* ]]
  run -127 skiff run --rm bb /no/such/file
}

@test "run: 128+N when the command is killed by signal N" {
  import_busybox
  # PID 1 cannot be killed from inside its namespace; under --init the
  # command is PID 2 and can.
  run -137 skiff run --rm --init bb sh -c 'kill -9 $$'
  run -143 skiff run --rm --init bb sh -c 'kill -TERM $$'
}

@test "run: an unknown image is exit 125 with one clear line" {
  run -125 skiff run --rm --pull=never nosuchimage true
  [ "$output" = "skiff: no such image: nosuchimage" ]
}

@test "run: an unknown flag is exit 125 with a hint" {
  import_busybox
  run -125 skiff run --frobnicate bb true
  [ "${lines[0]}" = "skiff: unknown flag: --frobnicate" ]
  [ "${lines[1]}" = "See 'skiff run --help'." ]
}

@test "run: flags after the image belong to the command" {
  import_busybox
  run -0 skiff run --rm bb echo -e --rm -v
  [ "$output" = "--rm -v" ]
}

@test "run: the container runs as root in its own namespaces" {
  import_busybox
  run -0 skiff run --rm bb sh -c 'id -u; echo $$; hostname'
  [ "${lines[0]}" = 0 ]
  [ "${lines[1]}" = 1 ]
  [ ${#lines[2]} = 12 ]
}

@test "run: --rm leaves no container, no record, no mount" {
  import_busybox
  run -0 skiff run --rm bb true
  run -0 skiff ps -aq
  [ -z "$output" ]
  # .mount-point is where every container mounts its root, in its own
  # mount namespace: it stays, empty.
  [ -z "$(ls -A "$SKIFF_ROOT/containers" | grep -vx -e .names -e .mount-point)" ]
  [ -z "$(ls -A "$SKIFF_ROOT/containers/.names")" ]
  [ -z "$(ls -A "$SKIFF_ROOT/containers/.mount-point")" ]
  ! grep -q "$SKIFF_ROOT" /proc/self/mountinfo
}

@test "run: /etc/hosts, /etc/hostname and /etc/resolv.conf are the container's, and nothing is written for them" {
  import_busybox
  run -0 skiff run --rm -h box bb sh -c 'cat /etc/hostname; grep -c box /etc/hosts; echo changed >> /etc/hosts && tail -1 /etc/hosts'
  [ "${lines[0]}" = box ]
  [ "${lines[1]}" = 1 ]
  [ "${lines[2]}" = changed ]
  run -0 skiff run --rm bb cat /etc/resolv.conf
  [ "$output" = "$(cat /etc/resolv.conf)" ]
  # Nothing of them in /dev, where they were made, or in the container's layer.
  run -0 skiff run --name etcfiles bb sh -c 'ls -A /dev | grep -c skiff; true'
  [ "$output" = 0 ]
  run -0 skiff diff etcfiles
  [ -z "$output" ]
  skiff rm etcfiles
}

@test "run: a failed start leaves nothing behind" {
  import_busybox
  run -127 skiff run --name failed bb no-such-command
  run -0 skiff ps -aq
  [ -z "$output" ]
  run -0 skiff run --rm --name failed bb true
}

@test "run: without --rm the container is kept with its status" {
  import_busybox
  run -0 skiff run --name kept bb sh -c 'exit 4' || true
  run -0 skiff ps -a
  [[ "${lines[1]}" == *"Exited (4)"*"kept" ]]
}

# --- single-id map / subordinate ids ----------------------------------------

@test "run: image owners are kept with subordinate ids, squashed without" {
  import_busybox
  run -0 skiff run --rm bb stat -c '%u:%g' /home/app
  if has_subuid; then [ "$output" = "1000:1000" ]; else [ "$output" = "0:0" ]; fi
}

@test "run: the single-id map is announced once per store" {
  has_subuid && skip "user has subordinate ids"
  rm -f "$SKIFF_ROOT/.single-id-map-noted"
  import_busybox
  run -0 --separate-stderr skiff run --rm bb true
  [[ "$stderr" == *"no ranges in /etc/subuid and /etc/subgid"* ]]
  run -0 --separate-stderr skiff run --rm bb true
  [ -z "$stderr" ]
}

@test "run: chown inside the container works with subordinate ids" {
  has_subuid || skip "needs subordinate ids"
  import_busybox
  run -0 skiff run --rm bb sh -c 'touch /tmp/f && chown 1000:50 /tmp/f && stat -c %u:%g /tmp/f'
  [ "$output" = "1000:50" ]
}

# --- image config and overrides ---------------------------------------------

@test "run: the image's Cmd, Entrypoint, Env and WorkingDir are honoured" {
  skiff import -c 'ENTRYPOINT ["/bin/echo","ep"]' -c 'CMD ["default"]' -c 'ENV GREETING=hi' \
    -c 'WORKDIR /tmp' "$SKIFF_TEST_FIXTURES/busybox.tar" cfg >/dev/null
  run -0 skiff run --rm cfg
  [ "$output" = "ep default" ]
  run -0 skiff run --rm cfg given
  [ "$output" = "ep given" ]
  run -0 skiff run --rm --entrypoint /bin/sh cfg -c 'echo $GREETING; pwd'
  [ "${lines[0]}" = "hi" ]
  [ "${lines[1]}" = "/tmp" ]
}

@test "run: -e, --env-file and NAME alone pass variables" {
  import_busybox
  printf '# comment\n\nFROM_FILE=yes\nOVER=file\n' > "$BATS_TEST_TMPDIR/env"
  export HOST_VAR=from-host
  run -0 skiff run --rm --env-file "$BATS_TEST_TMPDIR/env" -e OVER=flag -e HOST_VAR -e UNSET_VAR bb \
    sh -c 'echo $FROM_FILE $OVER $HOST_VAR ${UNSET_VAR-unset}; echo $PATH'
  [ "${lines[0]}" = "yes flag from-host unset" ]
  [ "${lines[1]}" = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" ]
}

@test "run: a malformed -e or a missing --env-file is exit 125" {
  import_busybox
  run -125 skiff run --rm -e =x bb true
  [[ "$output" == *'invalid environment variable "=x"'* ]]
  run -125 skiff run --rm --env-file /no/such/file bb true
  [[ "$output" == *"/no/such/file"* ]]
}

@test "run: -w sets (and creates) the working directory" {
  import_busybox
  run -0 skiff run --rm -w /new/dir bb pwd
  [ "$output" = "/new/dir" ]
  # One sentence, and nothing from the id-map helpers of the process that
  # was already being made when the spec turned out wrong.
  run -125 skiff run --rm -w relative bb pwd
  [ "$output" = 'skiff: the working directory "relative" is not an absolute path' ]
}

@test "run: -u by name, by number, and with a group" {
  import_busybox
  if has_subuid; then
    run -0 skiff run --rm -u app bb id
    [ "$output" = "uid=1000(app) gid=1000(app) groups=50(staff)" ]
    run -0 skiff run --rm -u 1000:50 bb sh -c 'id -u; id -g'
    [ "${lines[0]}" = 1000 ]
    [ "${lines[1]}" = 50 ]
  else
    run -125 skiff run --rm -u app bb id
    [[ "$output" == *"only root (0) exists"* ]]
  fi
  run -0 skiff run --rm -u root bb id -u
  [ "$output" = 0 ]
  run -125 skiff run --rm -u nosuchuser bb true
  [[ "$output" == *"unable to find user nosuchuser: no matching entries in passwd file"* ]]
}

@test "run: HOME is the user's home from the image's passwd, / for a uid not in it" {
  import_busybox
  run -0 skiff run --rm bb sh -c 'echo $HOME'
  [ "$output" = /root ]
  run -0 skiff run --rm -u root bb sh -c 'echo $HOME'
  [ "$output" = /root ]
  if has_subuid; then
    run -0 skiff run --rm -u nobody bb sh -c 'echo $HOME'
    [ "$output" = /nonexistent ]
    run -0 skiff run --rm -u 4242 bb sh -c 'echo $HOME'
    [ "$output" = / ]
    run -0 skiff run --rm -u app -e HOME=/flag bb sh -c 'echo $HOME'
    [ "$output" = /flag ]
  fi
  # An image's ENV HOME wins over the passwd file.
  skiff import --change 'ENV HOME=/image' "$SKIFF_TEST_FIXTURES/busybox.tar" homed >/dev/null
  run -0 skiff run --rm -u 0 homed sh -c 'echo $HOME'
  [ "$output" = /image ]
}

@test "run: -h sets the hostname and /etc/hosts knows it" {
  import_busybox
  run -0 skiff run --rm -h box.example bb sh -c 'hostname; cat /etc/hostname; grep -c box.example /etc/hosts'
  [ "${lines[0]}" = "box.example" ]
  [ "${lines[1]}" = "box.example" ]
  [ "${lines[2]}" = 1 ]
}

# --- mounts -----------------------------------------------------------------

@test "run: -v binds a host directory, :ro makes it read-only" {
  import_busybox
  mkdir "$BATS_TEST_TMPDIR/data"
  echo from-host > "$BATS_TEST_TMPDIR/data/in"
  run -0 skiff run --rm -v "$BATS_TEST_TMPDIR/data:/data" bb sh -c 'cat /data/in; echo from-ctr > /data/out'
  [ "$output" = "from-host" ]
  [ "$(cat "$BATS_TEST_TMPDIR/data/out")" = "from-ctr" ]
  run -1 skiff run --rm -v "$BATS_TEST_TMPDIR/data:/data:ro" bb sh -c 'echo x > /data/out2'
  [[ "$output" == *"Read-only file system"* ]]
  [ ! -e "$BATS_TEST_TMPDIR/data/out2" ]
}

@test "run: --userns=keep-id keeps host ownership on bind mounts" {
  import_busybox
  mkdir "$BATS_TEST_TMPDIR/data"
  run -0 skiff run --rm --userns=keep-id -v "$BATS_TEST_TMPDIR/data:/data" bb sh -c 'id -u; touch /data/mine'
  [ "$output" = "$(id -u)" ]
  [ "$(stat -c %u "$BATS_TEST_TMPDIR/data/mine")" = "$(id -u)" ]
}

@test "run: --mount and --tmpfs" {
  import_busybox
  mkdir "$BATS_TEST_TMPDIR/src"
  echo m > "$BATS_TEST_TMPDIR/src/f"
  run skiff run --rm --mount "type=bind,source=$BATS_TEST_TMPDIR/src,target=/m,readonly" \
    --mount type=tmpfs,target=/t,tmpfs-size=1m --tmpfs /scratch bb \
    sh -c 'cat /m/f; grep " /t " /proc/mounts | cut -d" " -f3; grep -c " /scratch tmpfs" /proc/mounts; touch /m/x'
  [ "$status" = 1 ]
  [ "${lines[0]}" = "m" ]
  [ "${lines[1]}" = "tmpfs" ]
  [ "${lines[2]}" = 1 ]
  [[ "$output" == *"Read-only file system"* ]]
}

@test "run: malformed or missing volumes are exit 125 and leave nothing" {
  import_busybox
  run -125 skiff run --rm -v /no/such/dir:/data bb true
  [ "${lines[0]}" = "skiff: volume source /no/such/dir does not exist" ]
  run -125 skiff run --rm -v justonepart bb true
  [[ "$output" == *'invalid volume "justonepart"'* ]]
  run -125 skiff run --rm -v "$BATS_TEST_TMPDIR:relative" bb true
  run -125 skiff run --rm --mount type=volume,target=/x bb true
  run -0 skiff ps -aq
  [ -z "$output" ]
}

@test "run: --read-only root, writable /dev/shm and tmpfs" {
  import_busybox
  run -1 skiff run --rm --read-only bb touch /file
  [[ "$output" == *"Read-only file system"* ]]
  run -0 skiff run --rm --read-only --tmpfs /tmp bb sh -c 'touch /tmp/ok /dev/shm/ok'
}

@test "run: /proc, /dev and masked paths" {
  import_busybox
  run -0 skiff run --rm bb sh -c 'ls /dev; test -c /dev/null; echo x > /dev/null; head -c1 /dev/urandom | wc -c; (echo x > /proc/sys/kernel/hostname) 2>&1; grep -c " /proc/sys proc ro," /proc/mounts'
  [[ "$output" == *"pts"* ]]
  [[ "$output" == *"shm"* ]]
  [ "${lines[-3]}" = 1 ]
  [[ "${lines[-2]}" == *"Read-only file system"* ]]
  [ "${lines[-1]}" = 1 ]
}

@test "run: /dev is the same whether made ahead or by the container's process" {
  import_busybox
  # Mount points, their options and file systems, and what is in /dev. With
  # --init the container's process makes /dev itself; without, a helper of
  # skiff's may have made it ahead.
  local list='awk '"'"'{ for (i = 7; $i != "-"; i++); if ($5 ~ "^/dev") print $5, $6, $(i+1), $(i+2), $(i+3) }'"'"' /proc/self/mountinfo; ls -l /dev | awk '"'"'NR > 1 { print $1, $NF }'"'"''
  run -0 skiff run --rm bb sh -c "$list"
  local ahead="$output"
  run -0 skiff run --rm --init bb sh -c "$list"
  [ "$output" = "$ahead" ]
  [[ "$ahead" == *"/dev rw,nosuid tmpfs tmpfs"* ]]
  [[ "$ahead" == *"/dev/pts rw,nosuid,noexec,relatime devpts devpts"* ]]
  [[ "$ahead" == *"/dev/shm rw,nosuid,nodev,noexec,relatime tmpfs shm"* ]]
  [[ "$ahead" == *"/dev/mqueue rw,nosuid,nodev,noexec,relatime mqueue mqueue"* ]]
  [[ "$ahead" == *"crw-rw-rw- null"* ]]
  [[ "$ahead" == *"lrwxrwxrwx pts/ptmx"* ]]
}

@test "run: masked directories are empty and read-only, masked files read nothing" {
  import_busybox
  local dirs=()
  for d in /proc/acpi /proc/scsi /sys/firmware /sys/devices/virtual/powercap; do
    [ -d "$d" ] && dirs+=("$d")
  done
  [ ${#dirs[@]} -ge 1 ] || skip "no masked directory exists on this kernel"
  run -0 skiff run --rm bb sh -c 'for d; do printf "%s:%s:" "$d" "$(ls -A "$d")"; touch "$d/x" 2>&1 || true; done; wc -c < /proc/keys' sh "${dirs[@]}"
  for d in "${dirs[@]}"; do
    [[ "$output" == *"$d::touch: $d/x: Read-only file system"* ]]
  done
  [ "${lines[-1]}" = 0 ]
}

@test "run: on a full disk it is exit 125 naming the file, and nothing is left behind" {
  if grep -qs '^\(root\|0\):' /etc/subuid /etc/subgid; then skip "root has subordinate ranges on this host"; fi
  # A small file system of the test's own: a tmpfs in a user and mount
  # namespace, where skiff runs as that namespace's root.
  local small="$BATS_TEST_TMPDIR/small"
  mkdir -p "$small"
  run -0 unshare -Urm sh -c '
    mount -t tmpfs -o size=8m tmpfs "$1" || exit 99
    export SKIFF_ROOT="$1/root" SKIFF_RUNROOT="$1/run"
    mkdir -p "$SKIFF_ROOT" && touch "$SKIFF_ROOT/.single-id-map-noted"
    "$2" import "$3" bb >/dev/null || exit 98
    "$2" run --rm bb true || exit 97  # the store is all there
    dd if=/dev/zero of="$1/fill" bs=64k 2>/dev/null
    dd if=/dev/zero of="$1/fill2" bs=1k 2>/dev/null
    "$2" run --rm bb true 2>&1; echo "status=$?"
    "$2" run --name kept bb true 2>&1; echo "status=$?"
    echo "left: $(ls -A "$SKIFF_ROOT/containers" | grep -cv "^\.mount-point$\|^\.names$") $(ls -A "$SKIFF_ROOT/containers/.names" | wc -l)"
    echo "locks: $(ls "$SKIFF_RUNROOT/locks" | grep -c "^ctr-")"
    rm "$1/fill" "$1/fill2"
    "$2" run --rm bb echo room again 2>&1
  ' sh "$small" "$SKIFF" "$SKIFF_TEST_FIXTURES/busybox.tar"
  [[ "${lines[0]}" == "skiff: write "*"/container.json: no space left on device" ]]
  [ "${lines[1]}" = "status=125" ]
  [[ "${lines[2]}" == "skiff: write "*"/container.json: no space left on device" ]]
  [ "${lines[3]}" = "status=125" ]
  [ "${lines[4]}" = "left: 0 0" ]
  [ "${lines[5]}" = "locks: 0" ]
  [ "${lines[6]}" = "room again" ]
}

@test "run: capabilities are the default set, not all" {
  import_busybox
  run -0 skiff run --rm bb sh -c 'grep CapBnd /proc/self/status'
  [ "$output" = "CapBnd:	00000000800405fb" ]
}

# --- network ----------------------------------------------------------------

@test "run: --network none has only loopback, up" {
  import_busybox
  run -0 skiff run --rm --network none bb sh -c 'ls /sys/class/net; ip link show lo'
  [ "${lines[0]}" = "lo" ]
  [[ "${lines[1]}" == *"<LOOPBACK,UP,LOWER_UP>"* ]]
}

@test "run: --network host shares the host's interfaces" {
  import_busybox
  run -0 skiff run --rm --network host bb ls /sys/class/net
  [ "$output" = "$(ls /sys/class/net)" ]
  run -125 skiff run --rm --network mynet bb true
  [[ "$output" == *'network mode "mynet" is not supported'* ]]
}

# --- terminal, stdin, signals -----------------------------------------------

@test "run: stdin is closed without -i and passed with -i" {
  import_busybox
  run -0 skiff run --rm bb cat <<< "ignored"
  [ -z "$output" ]
  run -0 skiff run --rm -i bb cat <<< "passed"
  [ "$output" = "passed" ]
}

@test "run -t gives the command a terminal of its own" {
  import_busybox
  command -v script >/dev/null || skip "script(1) not installed"
  run -0 script -qec "$SKIFF run --rm -t bb sh -c 'tty; stty size'" /dev/null </dev/null
  [[ "$output" == *"/dev/pts/0"* ]]
}

# The terminal goes away (window closed, tmux session killed): its master
# side closes and skiff gets SIGHUP; or only SIGHUP comes. Either way the
# container's terminal hangs up, its shell ends, and so does skiff, with
# the --rm container removed.
@test "run -it: a hang-up of the terminal ends the container and skiff" {
  import_busybox
  command -v python3 >/dev/null || skip "python3 not installed"
  cat > "$BATS_TEST_TMPDIR/hangup.py" <<'PY'
import os, pty, signal, sys
skiff, how = sys.argv[1], sys.argv[2]
pid, master = pty.fork()
if pid == 0:
    os.execv(skiff, [skiff, "run", "-it", "--rm", "--name", "hup", "bb", "sh"])
def give_up(*_):
    os.kill(pid, signal.SIGKILL)
    sys.exit("skiff was still running 20 seconds after the hang-up")
signal.signal(signal.SIGALRM, give_up)
signal.alarm(20)
seen = b""
while b"# " not in seen:
    seen += os.read(master, 1024)
if how == "close":
    os.close(master)
else:
    os.kill(pid, signal.SIGHUP)
os.waitpid(pid, 0)
PY
  local how
  for how in close sighup; do
    run -0 python3 "$BATS_TEST_TMPDIR/hangup.py" "$SKIFF" $how
    run -0 skiff ps -aq
    [ "$output" = "" ]
  done
}

@test "run: SIGTERM to skiff reaches the container" {
  import_busybox
  "$SKIFF" run --name sig bb sh -c 'trap "echo got-term; exit 42" TERM; echo ready; while :; do sleep 0.05; done' \
    > "$BATS_TEST_TMPDIR/out" &
  local pid=$!
  wait_for grep -q ready "$BATS_TEST_TMPDIR/out"
  kill -TERM $pid
  local rc=0
  wait $pid || rc=$?
  [ "$rc" = 42 ]
  grep -q got-term "$BATS_TEST_TMPDIR/out"
}

@test "run: the third SIGINT kills a container that ignores the first two, and skiff says so" {
  import_busybox
  local m=$BATS_TEST_TMPDIR/m
  mkdir "$m"
  # A job of a non-interactive shell starts with SIGINT ignored: python
  # starts skiff with it at its default, as a terminal's Ctrl-C finds it.
  python3 -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])' \
    "$SKIFF" run --rm -v "$m:/m" bb sh -c \
    'trap "echo int >> /m/log" INT; touch /m/started; while :; do sleep 60 & wait; done' 2> "$BATS_TEST_TMPDIR/err" &
  local pid=$!
  wait_for test -e "$m/started"
  kill -INT $pid
  wait_for grep -qx int "$m/log"
  kill -INT $pid
  wait_for test "$(grep -c int "$m/log")" = 2
  kill -INT $pid
  local rc=0
  wait $pid || rc=$?
  [ "$rc" = 137 ]
  [ "$(grep -c int "$m/log")" = 2 ]
  grep -qx "skiff: interrupted three times: the container was killed" "$BATS_TEST_TMPDIR/err"
}

@test "run --init reaps zombies and forwards signals" {
  import_busybox
  run -0 skiff run --rm --init bb sh -c 'echo $$; ps -o pid,comm | grep -c init || true'
  [ "${lines[0]}" != 1 ]
}

@test "run: resource limits fail clearly on this host" {
  import_busybox
  run -125 skiff run --rm --memory 64m bb true
  [[ "$output" == *"resource limits need cgroup v2"* ]]
}

@test "run: killing skiff with SIGKILL takes the container down" {
  import_busybox
  "$SKIFF" run --name victim bb sh -c 'echo ready; exec sleep 100' > "$BATS_TEST_TMPDIR/out" &
  local pid=$!
  wait_for grep -q ready "$BATS_TEST_TMPDIR/out"
  local sleeper
  sleeper=$(pgrep -P "$pid" || true)
  kill -KILL $pid
  wait $pid || true
  [ -n "$sleeper" ]
  # (The container's process, and its network helper.)
  for p in $sleeper; do wait_for sh -c "! kill -0 $p 2>/dev/null"; done
  run -0 skiff ps -a
  [[ "$output" == *"victim"* ]]
  run -0 skiff rm victim
}

@test "run: two containers with one --name: one wins, one gets 125" {
  import_busybox
  "$SKIFF" run --name dup bb sh -c 'echo ready; sleep 100' > "$BATS_TEST_TMPDIR/out" &
  local pid=$!
  wait_for grep -q ready "$BATS_TEST_TMPDIR/out"
  run -125 skiff run --name dup bb true
  [[ "$output" == *'the container name "/dup" is already in use'* ]]
  run -0 skiff rm -f dup
  wait $pid || true
}

@test "run: many containers at once in one store" {
  import_busybox
  local pids=() i
  for i in 1 2 3 4 5 6 7 8; do
    skiff run --rm bb sh -c "echo $i" > "$BATS_TEST_TMPDIR/out.$i" &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i"; done
  for i in 1 2 3 4 5 6 7 8; do [ "$(cat "$BATS_TEST_TMPDIR/out.$i")" = "$i" ]; done
  run -0 skiff ps -aq
  [ -z "$output" ]
}

@test "run: the copy and fuse-overlayfs storage drivers work too" {
  import_busybox
  SKIFF_STORAGE_DRIVER=copy run -0 skiff run --rm bb sh -c 'echo copy > /x; cat /x'
  [ "$output" = copy ]
  if [ -w /dev/fuse ] && command -v fuse-overlayfs >/dev/null; then
    SKIFF_STORAGE_DRIVER=fuse-overlayfs run -0 --separate-stderr skiff run --rm bb sh -c 'echo fuse > /x; cat /x'
    [ "$output" = fuse ]
  fi
}

@test "run: an image whose /etc is a symbolic link gets its /etc/hostname there" {
  local root="$BATS_TEST_TMPDIR/rootfs"
  mkdir "$root"
  tar -xf "$SKIFF_TEST_FIXTURES/busybox.tar" -C "$root"
  mkdir -p "$root/usr"
  mv "$root/etc" "$root/usr/etc"
  ln -s usr/etc "$root/etc"
  tar -C "$root" -cf "$BATS_TEST_TMPDIR/etclink.tar" .
  skiff import "$BATS_TEST_TMPDIR/etclink.tar" etclink >/dev/null
  run -0 skiff run --rm -h linked etclink sh -c 'readlink /etc; cat /usr/etc/hostname'
  [ "${lines[0]}" = usr/etc ]
  [ "${lines[1]}" = linked ]
}

@test "run: with umask 077, a user other than root in the container can still use the image" {
  has_subuid || skip "needs subordinate ids"
  import_busybox
  umask 077
  run -0 skiff run --rm -u 1000:1000 bb sh -c 'stat -c %a / /etc; cat /etc/passwd >/dev/null && echo read'
  [ "${lines[0]}" = 755 ]
  [ "${lines[1]}" = 755 ]
  [ "${lines[2]}" = read ]
}

@test "run: the command's umask is 0022 whatever skiff's is, as docker's" {
  import_busybox
  umask 077
  run -0 skiff run --rm bb sh -c 'umask; touch /tmp/f; mkdir /tmp/d; stat -c %a /tmp/f /tmp/d'
  [ "$output" = "$(printf '0022\n644\n755')" ]
}

@test "run: signals ignored where skiff was started are not ignored in the container" {
  import_busybox
  run -0 bash -c 'trap "" INT PIPE HUP; "$SKIFF" run --rm bb grep SigIgn /proc/self/status'
  [ "$output" = "SigIgn:	0000000000000000" ]
}

@test "run: an unpack that a killed skiff left half done in the store is swept by the next unpack" {
  import_busybox
  mkdir -p "$SKIFF_ROOT/tmp/layer-0123456789ab/usr"
  echo half > "$SKIFF_ROOT/tmp/layer-0123456789ab/usr/file"
  run -0 skiff run --rm bb true
  [ ! -e "$SKIFF_ROOT/tmp/layer-0123456789ab" ]
}
