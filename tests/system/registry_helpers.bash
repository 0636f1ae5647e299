# Registries for the pull and push tests: the Distribution registry (Debian's
# docker-registry) on 127.0.0.1, in four set-ups, each started once per file
# (from setup_file) in a directory of its own under $BATS_FILE_TMPDIR:
#
#   start_registry_plain   REG_PLAIN=127.0.0.1:PORT  plain HTTP, no auth
#   start_registry_tls     REG_TLS                   HTTPS, a CA made here:
#                          REG_TLS_CA (its ca.crt), REG_TLS_CERTDIR (a
#                          directory holding only ca.crt, for --cert-dir)
#   start_registry_basic   REG_BASIC                 plain HTTP, htpasswd
#   start_registry_token   REG_TOKEN                 plain HTTP, bearer tokens
#                          from a token issuer at REG_TOKEN_REALM; it logs
#                          one line per token issued to REG_TOKEN_LOG
#
# Each also exports REG_<KIND>_DIR, the registry's directory (its storage is
# DIR/storage, its log DIR/registry.log). stop_registries (teardown_file)
# stops every process these started, by pid.
#
# The authenticated registries know one user: REG_USER / REG_PASS. The token
# issuer gives anyone pull, and REG_USER pull and push.
#
# Needs: docker-registry, skopeo, openssl, curl, python3 with jwt and
# cryptography (python3-jwt, python3-cryptography).

REG_USER=tester
REG_PASS=s3cret-pass
REG_FIXTURES="$BATS_TEST_DIRNAME/../fixtures/registry"

# Sets REG_PYTHON: a python3 that has the jwt module (a python3 of one's own
# earlier on PATH may not have it; the system's does).
_reg_find_python() {
  [ -n "${REG_PYTHON:-}" ] && return 0
  REG_PYTHON=$(command -v python3)
  if ! "$REG_PYTHON" -c 'import jwt, cryptography' 2>/dev/null && [ -x /usr/bin/python3 ]; then
    REG_PYTHON=/usr/bin/python3
  fi
}

reg_python() {
  _reg_find_python
  "$REG_PYTHON" "$@"
}

# A TCP port of 127.0.0.1 that nothing listens on (for the moment).
free_port() {
  reg_python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# skopeo with a policy of its own (accept anything), whatever the host has.
reg_skopeo() {
  local policy="$BATS_FILE_TMPDIR/skopeo-policy.json"
  [ -f "$policy" ] || echo '{"default":[{"type":"insecureAcceptAnything"}]}' > "$policy"
  skopeo --policy "$policy" "$@"
}

# Starts a background process of the registry fixtures: its pid goes to
# $BATS_FILE_TMPDIR/registry-pids for stop_registries, and to $REG_LAST_PID.
# Closes fd 3, which bats waits on.
_reg_spawn() {
  local log=$1
  shift
  "$@" >"$log" 2>&1 3>&- &
  REG_LAST_PID=$!
  echo "$REG_LAST_PID" >> "$BATS_FILE_TMPDIR/registry-pids"
}

# Stops PID (one of ours) and waits until it is gone.
_reg_stop() {
  local pid=$1 i
  kill "$pid" 2>/dev/null || return 0
  for i in $(seq 1 500); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.01
  done
  kill -9 "$pid" 2>/dev/null || true
}

stop_registries() {
  local pid
  [ -f "$BATS_FILE_TMPDIR/registry-pids" ] || return 0
  while read -r pid; do
    _reg_stop "$pid"
  done < "$BATS_FILE_TMPDIR/registry-pids"
  rm -f "$BATS_FILE_TMPDIR/registry-pids"
}

# Writes DIR/config.yml for PORT: the common part, then AUTH-AND-TLS (yaml
# under "http:" and top-level sections, from _reg_config_<kind>).
_reg_config() {
  local dir=$1 port=$2 extra_http=$3 extra_top=$4
  cat > "$dir/config.yml" <<EOF
version: 0.1
log:
  level: info
  formatter: text
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  secret: skiff-test-$(basename "$dir")-$port
$extra_http
$extra_top
EOF
}

# Starts the registry of DIR (config from CONFIG-FN DIR PORT) on a free port,
# trying another port if the registry cannot listen on the one picked. Waits
# until /v2/ answers (any HTTP status) over SCHEME. Sets REG_PORT.
_reg_start() {
  local dir=$1 scheme=$2 config_fn=$3 attempt i code
  mkdir -p "$dir/storage"
  local curl_tls=()
  [ "$scheme" = https ] && curl_tls=(--cacert "$dir/ca.crt")
  for attempt in 1 2 3 4 5; do
    REG_PORT=$(free_port)
    "$config_fn" "$dir" "$REG_PORT"
    _reg_spawn "$dir/registry.log" docker-registry serve "$dir/config.yml"
    for i in $(seq 1 1000); do
      if ! kill -0 "$REG_LAST_PID" 2>/dev/null; then
        break
      fi
      code=$(curl -s -o /dev/null -w '%{http_code}' "${curl_tls[@]}" "$scheme://127.0.0.1:$REG_PORT/v2/" 2>/dev/null) || true
      if [ -n "$code" ] && [ "$code" != 000 ]; then
        return 0
      fi
      sleep 0.01
    done
    _reg_stop "$REG_LAST_PID"
  done
  echo "registry in $dir did not start; its log:" >&2
  cat "$dir/registry.log" >&2
  return 1
}

_reg_config_plain() { _reg_config "$1" "$2" "" ""; }

start_registry_plain() {
  REG_PLAIN_DIR="$BATS_FILE_TMPDIR/registry-plain"
  _reg_start "$REG_PLAIN_DIR" http _reg_config_plain
  export REG_PLAIN_DIR REG_PLAIN="127.0.0.1:$REG_PORT"
}

# A CA (ca.crt, ca.key) and a server certificate for IP 127.0.0.1 signed by
# it (server.crt, server.key), in DIR.
make_test_ca() {
  local dir=$1
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" -days 2 -subj "/CN=skiff test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$dir/server.key" -out "$dir/server.csr" -subj "/CN=127.0.0.1" 2>/dev/null
  printf '%s\n' "subjectAltName=IP:127.0.0.1" "basicConstraints=CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" > "$dir/server.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
    -set_serial "0x$(openssl rand -hex 8)" -days 2 -extfile "$dir/server.ext" \
    -out "$dir/server.crt" 2>/dev/null
}

_reg_config_tls() {
  _reg_config "$1" "$2" "  tls:
    certificate: $1/server.crt
    key: $1/server.key" ""
}

start_registry_tls() {
  REG_TLS_DIR="$BATS_FILE_TMPDIR/registry-tls"
  mkdir -p "$REG_TLS_DIR/certs.d"
  make_test_ca "$REG_TLS_DIR"
  cp "$REG_TLS_DIR/ca.crt" "$REG_TLS_DIR/certs.d/ca.crt"
  _reg_start "$REG_TLS_DIR" https _reg_config_tls
  export REG_TLS_DIR REG_TLS="127.0.0.1:$REG_PORT" REG_TLS_CA="$REG_TLS_DIR/ca.crt" \
    REG_TLS_CERTDIR="$REG_TLS_DIR/certs.d"
}

_reg_config_basic() {
  _reg_config "$1" "$2" "" "auth:
  htpasswd:
    realm: skiff-test-registry
    path: $1/htpasswd"
}

start_registry_basic() {
  REG_BASIC_DIR="$BATS_FILE_TMPDIR/registry-basic"
  mkdir -p "$REG_BASIC_DIR"
  # tester / s3cret-pass, bcrypt (the only kind the registry takes).
  cp "$REG_FIXTURES/htpasswd" "$REG_BASIC_DIR/htpasswd"
  _reg_start "$REG_BASIC_DIR" http _reg_config_basic
  export REG_BASIC_DIR REG_BASIC="127.0.0.1:$REG_PORT"
}

_reg_config_token() {
  _reg_config "$1" "$2" "" "auth:
  token:
    realm: $REG_TOKEN_REALM
    service: skiff-test-registry
    issuer: skiff-test-issuer
    rootcertbundle: $1/issuer/signing.crt"
}

start_registry_token() {
  REG_TOKEN_DIR="$BATS_FILE_TMPDIR/registry-token"
  local issuer="$REG_TOKEN_DIR/issuer"
  mkdir -p "$issuer"
  # The issuer picks its own port and writes it to issuer/port when it listens.
  _reg_find_python
  _reg_spawn "$issuer/issuer.log" "$REG_PYTHON" "$REG_FIXTURES/token-issuer.py" "$issuer"
  local pid=$REG_LAST_PID i
  for i in $(seq 1 1000); do
    [ -s "$issuer/port" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
  done
  if [ ! -s "$issuer/port" ]; then
    echo "token issuer did not start; its log:" >&2
    cat "$issuer/issuer.log" >&2
    return 1
  fi
  REG_TOKEN_REALM="http://127.0.0.1:$(cat "$issuer/port")/token"
  REG_TOKEN_LOG="$issuer/tokens.log"
  _reg_start "$REG_TOKEN_DIR" http _reg_config_token
  export REG_TOKEN_DIR REG_TOKEN_REALM REG_TOKEN_LOG REG_TOKEN="127.0.0.1:$REG_PORT"
}

# start_redirect_front -> REG_REDIRECT=127.0.0.1:PORT, a front for REG_PLAIN
# that answers blob downloads with a 307 to REG_PLAIN (as registries on
# object storage do) and logs each to REG_REDIRECT_LOG.
start_redirect_front() {
  local dir="$BATS_FILE_TMPDIR/redirect-front" i
  mkdir -p "$dir"
  _reg_find_python
  _reg_spawn "$dir/front.log" "$REG_PYTHON" "$REG_FIXTURES/redirect-front.py" "$dir" "$REG_PLAIN"
  local pid=$REG_LAST_PID
  for i in $(seq 1 1000); do
    [ -s "$dir/port" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
  done
  [ -s "$dir/port" ] || { echo "redirect front did not start; its log:" >&2; cat "$dir/front.log" >&2; return 1; }
  export REG_REDIRECT="127.0.0.1:$(cat "$dir/port")" REG_REDIRECT_LOG="$dir/redirects.log"
}

# The number of tokens the token issuer has issued so far.
tokens_issued() { wc -l < "$REG_TOKEN_LOG" | tr -d ' '; }

# make_pushed_busybox REG NAME [single|index|docker]
# Pushes an image of the busybox fixture to REG/NAME:latest with skopeo (not
# skiff), with the registries' user and without TLS verification, so it works
# with every registry above. Its two layers: the busybox rootfs, and one with
# /etc/image-name holding NAME (single, docker) or "NAME linux/ARCH[/VARIANT]"
# (index). single: an OCI manifest for this host's architecture; docker: the
# same as a Docker schema 2 manifest; index: an OCI image index for
# linux/amd64 and linux/arm64/v8. Sets PUSHED_DIGEST (the manifest's, or the
# index's, digest as pushed) and PUSHED_ID (the 64-hex config digest of this
# host's image).
make_pushed_busybox() {
  local reg=$1 name=$2 kind=${3:-single}
  local layout
  layout=$(mktemp -d "$BATS_FILE_TMPDIR/oci.XXXXXX")
  local config
  config=$(reg_python "$REG_FIXTURES/make-oci-layout.py" "$SKIFF_TEST_FIXTURES/busybox.tar" \
    "$layout" "$name" "${kind/docker/single}") || return 1
  local args=()
  [ "$kind" = index ] && args+=(--all)
  [ "$kind" = docker ] && args+=(--format v2s2)
  reg_skopeo copy -q "${args[@]}" --dest-tls-verify=false --dest-creds "$REG_USER:$REG_PASS" \
    --digestfile "$layout.digest" "oci:$layout:latest" "docker://$reg/$name:latest" >&2 || return 1
  PUSHED_DIGEST=$(cat "$layout.digest")
  PUSHED_ID=${config#sha256:}
  rm -rf "$layout" "$layout.digest"
}

# The path of blob DIGEST in the storage of the registry in REG_DIR.
blob_path() {
  local hex=${2#sha256:}
  echo "$1/storage/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data"
}

# corrupt_blob REG_DIR DIGEST
# Overwrites blob DIGEST in the registry's storage with other bytes of the
# same length, so that the registry serves content that does not match the
# digest, while it stays well-formed where it can: gzip data gets another
# header MTIME (it still decompresses to the same tar), JSON a space turned
# into a tab; anything else has its bytes inverted.
corrupt_blob() {
  local data
  data=$(blob_path "$1" "$2")
  [ -f "$data" ] || { echo "corrupt_blob: no blob $2 in $1" >&2; return 1; }
  reg_python - "$data" <<'PY'
import sys
path = sys.argv[1]
data = bytearray(open(path, "rb").read())
if data[:2] == b"\x1f\x8b" and len(data) > 8:
    data[4:8] = bytes((b ^ 0x5a) for b in data[4:8])
elif data[:1] == b"{" and b" " in data:
    data[data.index(b" ")] = ord("\t")
else:
    data = bytearray(b ^ 0xff for b in data)
open(path, "wb").write(data)
PY
}

# The manifest digest REG/NAME:TAG resolves to, asked with curl (no skiff).
# Extra arguments go to curl (e.g. -u USER:PASS, --cacert FILE).
registry_digest() {
  local ref=$1
  shift
  local reg=${ref%%/*} rest=${ref#*/}
  local name=${rest%:*} tag=${rest##*:}
  local scheme=http
  [ "$reg" = "${REG_TLS:-}" ] && scheme=https
  curl -fsS -I "$@" \
    -H 'Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json' \
    "$scheme://$reg/v2/$name/manifests/$tag" |
    tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p'
}
