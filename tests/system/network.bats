#!/usr/bin/env bats
# Networking: the default network of the container's own (pasta or
# slirp4netns started for it), published ports, DNS and hosts files.
# Traffic stays on the host's loopback.
load helpers

# A TCP port of 127.0.0.1 that nothing listens on (for the moment).
free_tcp_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The pids of the processes the container's monitor started besides the
# container (its network helper): children of skiff_pid that are not the
# container's first process.
helper_pids() {
  local monitor pid
  monitor=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["skiff_pid"])' \
    "$SKIFF_ROOT/containers/$1/container.json")
  pid=$(skiff inspect --format '{{.State.Pid}}' "$1")
  for c in $(cat /proc/"$monitor"/task/*/children 2>/dev/null); do
    [ "$c" = "$pid" ] || echo "$c"
  done
}

fetch() { curl -fsS --max-time 5 "$@"; }

skip_without_helper() {
  command -v "$1" >/dev/null || skip "$1 is not installed"
}

@test "network: the default is a namespace of the container's own, with the outside through a helper" {
  import_busybox
  run -0 skiff run --rm bb ls /sys/class/net
  [[ "$output" == *lo* ]]
  [ "$output" != "$(ls /sys/class/net)" ]
  # Its address and default route came from the helper.
  run -0 skiff run --rm bb ip route
  [[ "$output" == *default* ]]
  # No resolver on the host's loopback: the container cannot reach it.
  run -0 skiff run --rm bb cat /etc/resolv.conf
  [[ "$output" == *nameserver* ]]
  [[ "$output" != *"nameserver 127."* ]]
}

@test "network: a published port serves busybox httpd to the host, and inspect, port and ps show it" {
  import_busybox
  port=$(free_tcp_port)
  mkdir -p "$BATS_TEST_TMPDIR/www"
  echo "hello from the container" > "$BATS_TEST_TMPDIR/www/index.html"
  id=$(skiff run -d --name web -v "$BATS_TEST_TMPDIR/www:/www:ro" -p "127.0.0.1:$port:80" bb httpd -f -p 80 -h /www)
  wait_for fetch "http://127.0.0.1:$port/"
  run -0 fetch "http://127.0.0.1:$port/"
  [ "$output" = "hello from the container" ]
  run -0 skiff port web
  [ "$output" = "80/tcp -> 127.0.0.1:$port" ]
  run -0 skiff port web 80/tcp
  [ "$output" = "127.0.0.1:$port" ]
  run -1 skiff port web 81
  [ "$output" = "skiff: No public port '81/tcp' published for web" ]
  run -0 skiff ps --format '{{.Names}} {{.Ports}}'
  [ "$output" = "web 127.0.0.1:$port->80/tcp" ]
  run -0 skiff inspect --format '{{json .NetworkSettings.Ports}}' web
  [ "$output" = "{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"$port\"}]}" ]
  # The helper goes with the container.
  helpers=$(helper_pids "$id")
  [ -n "$helpers" ]
  skiff rm -f web >/dev/null
  for h in $helpers; do wait_for gone_or_dead "$h"; done
  ! fetch "http://127.0.0.1:$port/"
}

@test "network: -p without a host port takes a free one; -P publishes the image's EXPOSE ports" {
  import_busybox
  skiff import --change 'EXPOSE 80' --change 'EXPOSE 8080/tcp' "$SKIFF_TEST_FIXTURES/busybox.tar" web-img >/dev/null
  skiff run -d --name one -p 127.0.0.1::80 bb httpd -f -p 80 -h /etc >/dev/null
  run -0 skiff port one 80
  [[ "$output" =~ ^127\.0\.0\.1:[0-9]+$ ]]
  wait_for fetch "http://$output/hostname"
  skiff run -d --name two -P web-img httpd -f -p 80 -h /etc >/dev/null
  run -0 skiff port two
  [ "${#lines[@]}" = 2 ]
  [[ "${lines[0]}" =~ ^80/tcp\ -\>\ 0\.0\.0\.0:[0-9]+$ ]]
  [[ "${lines[1]}" =~ ^8080/tcp\ -\>\ 0\.0\.0\.0:[0-9]+$ ]]
  hostport=$(skiff port two 80 | cut -d: -f2)
  wait_for fetch "http://127.0.0.1:$hostport/hostname"
  skiff rm -f one two >/dev/null
}

@test "network: a published UDP port answers from the container" {
  command -v cc >/dev/null || skip "no C compiler for the UDP echo server"
  # slirp4netns sends no UDP answer to the host's loopback unless the host's
  # loopback is allowed: the client uses the host's own other address.
  local addr
  addr=$(hostname -I 2>/dev/null | awk '{print $1}')
  [ -n "$addr" ] || skip "the host has no address besides loopback"
  import_busybox
  cc -static -O1 -o "$BATS_TEST_TMPDIR/udp_echo" "$BATS_TEST_DIRNAME/../fixtures/udp_echo.c"
  port=$(free_tcp_port)
  skiff run -d --name udp -v "$BATS_TEST_TMPDIR/udp_echo:/udp_echo:ro" -p "$port:5353/udp" bb /udp_echo 5353 >/dev/null
  ask() {
    python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(0.2)
s.sendto(b"ping",(sys.argv[2],int(sys.argv[1]))); print(s.recv(100).decode())' "$port" "$addr"
  }
  wait_for ask
  run -0 ask
  [ "$output" = "echo: ping" ]
  run -0 skiff port udp
  [ "$output" = "5353/udp -> 0.0.0.0:$port" ]
  skiff rm -f udp >/dev/null
}

@test "network: a port already taken is one sentence, exit 125, and nothing is left" {
  import_busybox
  port=$(free_tcp_port)
  python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(); print("up", flush=True); time.sleep(60)' "$port" \
    >"$BATS_TEST_TMPDIR/holder.out" 3>&- &
  holder=$!
  wait_for grep -q up "$BATS_TEST_TMPDIR/holder.out"
  run -125 skiff run --rm --name clash -p "127.0.0.1:$port:80" bb true
  kill "$holder"
  [ "$output" = "skiff: cannot publish 127.0.0.1:$port/tcp on the host: the port is already in use" ]
  run -0 skiff ps -a -q
  [ -z "$output" ]
  # The name is free again.
  run -0 skiff run --rm --name clash bb true
}

@test "network: bad -p, --network, --dns and --add-host are one sentence each" {
  import_busybox
  run -125 skiff run --rm -p 99999 bb true
  [ "${lines[0]}" = 'skiff: invalid -p "99999": the container port must be a number from 1 to 65535, or a range' ]
  run -125 skiff run --rm -p 80 --network none bb true
  [ "$output" = "skiff: -p and -P need a network of the container's own, not --network none" ]
  run -125 skiff run --rm --network bogus bb true
  [ "$output" = 'skiff: network mode "bogus" is not supported yet: use pasta, slirp4netns, none or host' ]
  run -125 skiff run --rm --network slirp4netns:bogus=1 bb true
  [[ "$output" == 'skiff: unknown slirp4netns option "bogus=1"'* ]]
  run -125 skiff run --rm --dns nowhere bb true
  [ "$output" = 'skiff: invalid --dns "nowhere": not an IP address' ]
  run -125 skiff run --rm --add-host justaname bb true
  [[ "$output" == 'skiff: invalid --add-host "justaname"'* ]]
  run -0 skiff ps -a -q
  [ -z "$output" ]
}

@test "network: --dns, --dns-search, --dns-option and --add-host write resolv.conf and hosts" {
  import_busybox
  run -0 skiff run --rm --dns 192.0.2.53 --dns-search example.com --dns-option ndots:2 \
    --add-host db:192.0.2.10 --add-host v6:[2001:db8::1] bb sh -c 'cat /etc/resolv.conf; cat /etc/hosts'
  [[ "$output" == *"search example.com"* ]]
  [[ "$output" == *"nameserver 192.0.2.53"* ]]
  [[ "$output" == *"options ndots:2"* ]]
  [[ "$output" == *"192.0.2.10	db"* ]]
  [[ "$output" == *"2001:db8::1	v6"* ]]
}

@test "network: the host's loopback is out of reach by default, and reachable with allow_host_loopback" {
  skip_without_helper slirp4netns
  import_busybox
  port=$(free_tcp_port)
  mkdir -p "$BATS_TEST_TMPDIR/host"
  echo "host secret" > "$BATS_TEST_TMPDIR/host/index.html"
  python3 -m http.server --bind 0.0.0.0 --directory "$BATS_TEST_TMPDIR/host" "$port" >/dev/null 2>&1 3>&- &
  server=$!
  wait_for fetch "http://127.0.0.1:$port/"
  # (busybox wget -T crashes: nc -w gives up instead.) The server goes
  # before any check can fail.
  local own slirp allowed own_status slirp_status
  own=$(skiff run --rm bb sh -c "echo 'GET / HTTP/1.0' | nc -w 2 127.0.0.1 $port" 2>&1) && own_status=0 || own_status=$?
  slirp=$(skiff run --rm --network slirp4netns bb sh -c "echo 'GET / HTTP/1.0' | nc -w 2 10.0.2.2 $port" 2>&1) &&
    slirp_status=0 || slirp_status=$?
  allowed=$(skiff run --rm --network slirp4netns:allow_host_loopback=true bb \
    sh -c "grep -q '^10.0.2.2	host.containers.internal' /etc/hosts && wget -q -O - http://10.0.2.2:$port/" 2>&1) || true
  kill "$server"
  [ "$own_status" != 0 ]
  [[ "$own" != *"host secret"* ]]
  [ "$slirp_status" != 0 ]
  [[ "$slirp" != *"host secret"* ]]
  [ "$allowed" = "host secret" ]
}

@test "network: slirp4netns publishes ports too" {
  skip_without_helper slirp4netns
  import_busybox
  port=$(free_tcp_port)
  skiff run -d --name slirp --network slirp4netns -p "127.0.0.1:$port:80" bb httpd -f -p 80 -h /etc >/dev/null
  wait_for fetch "http://127.0.0.1:$port/hostname"
  run -0 fetch "http://127.0.0.1:$port/hostname"
  [ -n "$output" ]
  skiff rm -f slirp >/dev/null
}

# Succeeds when process $1 is gone or dead (a zombie its new parent has not
# reaped yet holds nothing).
gone_or_dead() {
  local st
  st=$(ps -o stat= -p "$1" 2>/dev/null) || return 0
  [[ "$st" == Z* ]]
}

@test "network: a helper never outlives a skiff killed with SIGKILL" {
  import_busybox
  local net runner helpers
  for net in slirp4netns pasta; do
    command -v "$net" >/dev/null || continue
    # skiff itself, not the shell function around it, is the background job.
    "$SKIFF" run --rm --network "$net" --name "killed-$net" bb sleep 1000 3>&- &
    runner=$!
    wait_for skiff top "killed-$net"
    # Every process under skiff but the container's: the helper and what
    # stands between it and skiff.
    helpers=$(for c in $(cat /proc/"$runner"/task/*/children); do
      [ "$(cat /proc/"$c"/comm)" = sleep ] && continue
      echo "$c" $(cat /proc/"$c"/task/*/children 2>/dev/null)
    done)
    [ -n "$helpers" ]
    kill -9 "$runner"
    wait "$runner" || true
    for h in $helpers; do wait_for gone_or_dead "$h"; done
  done
}

@test "network: --network none and host still work" {
  import_busybox
  run -0 skiff run --rm --network none bb ls /sys/class/net
  [ "$output" = lo ]
  run -0 skiff run --rm --network host bb ls /sys/class/net
  [ "$output" = "$(ls /sys/class/net)" ]
}
