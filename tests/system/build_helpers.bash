# Helpers of build.bats: build contexts, assertions that show what they got
# when they fail, image fields, and a small HTTP server for ADD URL.

# The context directory of the test ($CTX, made by build.bats's setup) gets
# standard input as its Dockerfile.
dockerfile() { cat > "$CTX/Dockerfile"; }

# $output has a line that is exactly LINE.
has_line() {
  local l
  for l in "${lines[@]}"; do
    [ "$l" = "$1" ] && return 0
  done
  printf 'no line "%s" in:\n%s\n' "$1" "$output" >&2
  return 1
}

# $output has no line that is exactly LINE.
no_line() {
  local l
  for l in "${lines[@]}"; do
    if [ "$l" = "$1" ]; then
      printf 'line "%s" should not be in:\n%s\n' "$1" "$output" >&2
      return 1
    fi
  done
}

# TEXT contains PART.
contains() {
  [[ "$1" == *"$2"* ]] && return 0
  printf 'no "%s" in:\n%s\n' "$2" "$1" >&2
  return 1
}

# TEXT does not contain PART.
lacks() {
  [[ "$1" != *"$2"* ]] && return 0
  printf '"%s" should not be in:\n%s\n' "$2" "$1" >&2
  return 1
}

# A equals B (shows both when not).
same() {
  [ "$1" = "$2" ] && return 0
  printf 'expected:\n%s\ngot:\n%s\n' "$2" "$1" >&2
  return 1
}

# The last line of $output.
last_line() { echo "${lines[${#lines[@]}-1]}"; }

# How many lines of $output are exactly LINE, or (with -p) contain PART.
count_lines() {
  local l n=0
  if [ "$1" = -p ]; then
    for l in "${lines[@]}"; do [[ "$l" == *"$2"* ]] && n=$((n + 1)); done
  else
    for l in "${lines[@]}"; do [ "$l" = "$1" ] && n=$((n + 1)); done
  fi
  echo $n
}

# Field EXPR (Python over d = the first inspected image) of IMAGE, printed as
# text for a string and as JSON otherwise.
inspect_field() {
  "$SKIFF" image inspect "$1" |
    python3 -c 'import json, sys; d = json.load(sys.stdin)[0]; v = eval(sys.argv[1]); print(v if isinstance(v, str) else json.dumps(v, sort_keys=True))' "$2"
}

# The 64-hex ID (no "sha256:") of local image IMAGE.
image_hex() {
  local id
  id=$(inspect_field "$1" 'd["Id"]') || return 1
  echo "${id#sha256:}"
}

# After `run skiff build ...`: the last line of stdout is the full 64-hex ID
# of IMAGE.
built_id_is() {
  local want
  want=$(image_hex "$1") || return 1
  [ "$(last_line)" = "$want" ] && return 0
  printf 'the last line should be the ID of %s (%s); output:\n%s\n' "$1" "$want" "$output" >&2
  return 1
}

# Nothing of a build or of its RUN steps is left: no container, nothing in
# the store's tmp/.
nothing_left_behind() {
  local ps
  ps=$("$SKIFF" ps -aq) || return 1
  [ -z "$ps" ] || { printf 'containers left:\n%s\n' "$ps" >&2; return 1; }
  local left
  left=$(find "$SKIFF_ROOT/tmp" -mindepth 1 2>/dev/null)
  [ -z "$left" ] || { printf 'left in %s/tmp:\n%s\n' "$SKIFF_ROOT" "$left" >&2; return 1; }
}

# Process PID has ended (a zombie its parent has not reaped yet counts).
process_gone() {
  ! kill -0 "$1" 2>/dev/null || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# No process has PATTERN in its command line (pgrep -f; pgrep leaves itself
# out, a shell around it would not be).
no_process_matching() { ! pgrep -f "$1" >/dev/null; }

# The IDs `skiff images -q --no-trunc` lists, sorted.
image_ids() { "$SKIFF" images -q --no-trunc | sort; }

# This machine's architecture as Go (and OCI) spell it.
go_arch() {
  case "$(uname -m)" in
    x86_64) echo amd64 ;;
    aarch64) echo arm64 ;;
    armv7l) echo arm ;;
    i?86) echo 386 ;;
    *) uname -m ;;
  esac
}

# start_http_server DIR: python's http.server for DIR on a free port of
# 127.0.0.1; sets HTTP_PORT. Its pid goes to $BATS_TEST_TMPDIR/http.pid, which
# stop_http_server (teardown) reads. Waits until it answers.
start_http_server() {
  local dir=$1 attempt i pid
  _reg_find_python
  for attempt in 1 2 3 4 5; do
    HTTP_PORT=$(free_port)
    # The python itself (not a function around it) is the background job, so
    # that $! is its pid.
    "$REG_PYTHON" -m http.server --bind 127.0.0.1 --directory "$dir" "$HTTP_PORT" \
      >"$BATS_TEST_TMPDIR/http.log" 2>&1 3>&- &
    pid=$!
    echo "$pid" > "$BATS_TEST_TMPDIR/http.pid"
    for i in $(seq 1 1000); do
      kill -0 "$pid" 2>/dev/null || break
      curl -fs -o /dev/null "http://127.0.0.1:$HTTP_PORT/" && return 0
      sleep 0.01
    done
    stop_http_server
  done
  echo "http.server did not start; its log:" >&2
  cat "$BATS_TEST_TMPDIR/http.log" >&2
  return 1
}

stop_http_server() {
  [ -f "$BATS_TEST_TMPDIR/http.pid" ] || return 0
  local pid i
  pid=$(cat "$BATS_TEST_TMPDIR/http.pid")
  rm -f "$BATS_TEST_TMPDIR/http.pid"
  kill "$pid" 2>/dev/null || return 0
  for i in $(seq 1 500); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.01
  done
  kill -9 "$pid" 2>/dev/null || true
}

# start_short_http_server ANNOUNCED SENT: a server on a free port of
# 127.0.0.1 that answers every request with 200, "Content-Length: ANNOUNCED"
# and SENT bytes, then closes the connection (a download cut off). Sets
# HTTP_PORT; stop_http_server stops it.
start_short_http_server() {
  local announced=$1 sent=$2 pid i
  _reg_find_python
  rm -f "$BATS_TEST_TMPDIR/http.port"
  "$REG_PYTHON" - "$announced" "$sent" "$BATS_TEST_TMPDIR/http.port" \
    >"$BATS_TEST_TMPDIR/http.log" 2>&1 3>&- <<'PY' &
import os, socket, sys
announced, sent, port_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(8)
with open(port_file + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(port_file + ".tmp", port_file)
while True:
    c, _ = s.accept()
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = c.recv(4096)
        if not chunk:
            break
        data += chunk
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
              b"Content-Length: %d\r\n\r\n" % announced + b"x" * sent)
    c.close()
PY
  pid=$!
  echo "$pid" > "$BATS_TEST_TMPDIR/http.pid"
  for i in $(seq 1 1000); do
    if [ -s "$BATS_TEST_TMPDIR/http.port" ]; then
      HTTP_PORT=$(cat "$BATS_TEST_TMPDIR/http.port")
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
  done
  echo "the short HTTP server did not start; its log:" >&2
  cat "$BATS_TEST_TMPDIR/http.log" >&2
  return 1
}
