#!/usr/bin/env bats
# skiff pull, push, login and logout against a real registry (Distribution,
# see registry_helpers.bash), with skopeo as the other client: plain HTTP,
# HTTPS with a CA of the test's own, basic auth and token auth.
load helpers
load registry_helpers

setup_file() {
  start_registry_plain
  start_registry_tls
  start_registry_basic
  start_registry_token
  start_redirect_front
  # Images every test may pull; tests that change a registry's content use
  # names of their own.
  make_pushed_busybox "$REG_PLAIN" busybox
  export BB_DIGEST=$PUSHED_DIGEST BB_ID=$PUSHED_ID
  make_pushed_busybox "$REG_TLS" busybox
  export TLS_DIGEST=$PUSHED_DIGEST
  make_pushed_busybox "$REG_BASIC" private/busybox
  export BASIC_DIGEST=$PUSHED_DIGEST
  make_pushed_busybox "$REG_TOKEN" tok/busybox
  export TOKEN_DIGEST=$PUSHED_DIGEST
}

teardown_file() { stop_registries; }

# helpers.bash's setup, as common_setup.
eval "common_$(declare -f setup)"

setup() {
  common_setup
  # No credentials from the user's own files: a home, a runtime directory and
  # an auth file of the test's own.
  export HOME="$BATS_TEST_TMPDIR/home" XDG_RUNTIME_DIR="$BATS_TEST_TMPDIR/xdg"
  mkdir -p "$HOME"
  mkdir -m 0700 "$XDG_RUNTIME_DIR"
  export REGISTRY_AUTH_FILE="$BATS_TEST_TMPDIR/auth.json"
  unset DOCKER_CONFIG
}

# --- assertions (they show what they got when they fail) ----------------------

# $output has a line that is exactly LINE.
has_line() {
  local l
  for l in "${lines[@]}"; do
    [ "$l" = "$1" ] && return 0
  done
  printf 'no line "%s" in:\n%s\n' "$1" "$output" >&2
  return 1
}

# TEXT contains PART.
contains() {
  [[ "$1" == *"$2"* ]] && return 0
  printf 'no "%s" in:\n%s\n' "$2" "$1" >&2
  return 1
}

# After `run --separate-stderr`: the command said one error line on stderr,
# "skiff: ...TEXT...", and at most a "hint: ..." line after it.
one_error_line() {
  local n=${#stderr_lines[@]}
  if [ "$n" -lt 1 ] || [ "$n" -gt 2 ] || [[ "${stderr_lines[0]}" != "skiff: "*"$1"* ]] ||
    { [ "$n" -eq 2 ] && [[ "${stderr_lines[1]}" != "hint: "* ]]; }; then
    printf 'expected "skiff: ...%s..." (and maybe a hint) on stderr; stderr:\n%s\nstdout:\n%s\n' "$1" "$stderr" "$output" >&2
    return 1
  fi
}

# The store holds no image.
no_images() {
  run -0 skiff images -q
  [ "$output" = "" ] || { printf 'images left:\n%s\n' "$output" >&2; return 1; }
  [ -z "$(find "$SKIFF_ROOT/tmp" -mindepth 1 2>/dev/null)" ]
}

# Field EXPR (Python over d) of `skiff image inspect IMAGE`.
image_field() {
  "$SKIFF" image inspect "$1" | python3 -c 'import json, sys; d = json.load(sys.stdin)[0]; print(eval(sys.argv[1]))' "$2"
}

# The full ID ("sha256:" and 64 hex) of local image IMAGE.
image_id() { image_field "$1" 'd["Id"]'; }

# Field EXPR (Python over d, skopeo inspect's JSON) of `skopeo inspect ARGS...`.
skopeo_field() {
  local expr=$1
  shift
  reg_skopeo inspect "$@" | python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$expr"
}

# Field EXPR (Python over d) of the manifest of `skopeo inspect --raw ARGS...`.
manifest_field() {
  local expr=$1
  shift
  reg_skopeo inspect --raw "$@" | python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$expr"
}

# The password never shows in what skiff printed.
no_password_in_output() {
  [[ "$output" != *"$REG_PASS"* ]] && [[ "${stderr:-}" != *"$REG_PASS"* ]] || {
    echo "the password was printed: $output ${stderr:-}" >&2
    return 1
  }
}

# The last line of $output.
last_line() { echo "${lines[${#lines[@]}-1]}"; }

# --- pull ---------------------------------------------------------------------

@test "pull: an image pushed by skopeo; docker-like progress, then it runs" {
  local ref="$REG_PLAIN/busybox:latest"
  run -0 skiff pull --tls-verify=false "$REG_PLAIN/busybox"
  [ "$(grep -cE '^[0-9a-f]{12}: Pulling fs layer$' <<<"$output")" -eq 2 ]
  [ "$(grep -cE '^[0-9a-f]{12}: Pull complete$' <<<"$output")" -eq 2 ]
  has_line "Digest: $BB_DIGEST"
  has_line "Status: Downloaded newer image for $ref"
  [ "$(last_line)" = "$ref" ]
  run -0 --separate-stderr skiff run --rm "$ref" echo hi
  [ "$output" = hi ]
  run -0 --separate-stderr skiff run --rm "$REG_PLAIN/busybox" cat /etc/image-name
  [ "$output" = busybox ]
  run -0 skiff images -q --no-trunc
  [ "$output" = "sha256:$BB_ID" ]
}

@test "pull: images --digests shows the digest pulled" {
  run -0 skiff pull -q --tls-verify=false "$REG_PLAIN/busybox"
  run -0 skiff images --digests
  [ "${#lines[@]}" -eq 2 ]
  [[ "${lines[0]}" == *DIGEST* ]]
  [[ "${lines[1]}" == "$REG_PLAIN/busybox "* ]]
  contains "${lines[1]}" "$BB_DIGEST"
}

@test "pull -q prints only the image ID" {
  run -0 --separate-stderr skiff pull -q --tls-verify=false "$REG_PLAIN/busybox:latest"
  [ "$output" = "$BB_ID" ]
  [[ "$output" =~ ^[0-9a-f]{64}$ ]]
  [ "$(image_id "$REG_PLAIN/busybox:latest")" = "sha256:$BB_ID" ]
}

@test "pull by digest: REF@sha256:..." {
  run -0 skiff pull --tls-verify=false "$REG_PLAIN/busybox@$BB_DIGEST"
  has_line "Digest: $BB_DIGEST"
  [ "$(last_line)" = "$REG_PLAIN/busybox@$BB_DIGEST" ]
  run -0 skiff images -q --no-trunc
  [ "$output" = "sha256:$BB_ID" ]
  # Like docker: the repository, no tag, the digest.
  run -0 skiff images --digests
  [[ "${lines[1]}" =~ ^$REG_PLAIN/busybox\ +\<none\>\ +$BB_DIGEST\  ]] || { echo "$output" >&2; false; }
  run -0 --separate-stderr skiff run --rm "${BB_ID:0:12}" echo hi
  [ "$output" = hi ]
}

@test "pull of a Docker schema 2 manifest" {
  make_pushed_busybox "$REG_PLAIN" docker-format docker
  [ "$(manifest_field 'd["mediaType"]' --tls-verify=false "docker://$REG_PLAIN/docker-format:latest")" = \
    application/vnd.docker.distribution.manifest.v2+json ]
  run -0 skiff pull --tls-verify=false "$REG_PLAIN/docker-format:latest"
  has_line "Digest: $PUSHED_DIGEST"
  run -0 --separate-stderr skiff run --rm "$REG_PLAIN/docker-format" cat /etc/image-name
  [ "$output" = docker-format ]
}

@test "pull of an image index picks this host's platform, --platform another" {
  make_pushed_busybox "$REG_PLAIN" multi index
  run -0 skiff pull --tls-verify=false "$REG_PLAIN/multi"
  has_line "Digest: $PUSHED_DIGEST"
  run -0 --separate-stderr skiff run --rm "$REG_PLAIN/multi" cat /etc/image-name
  [[ "$output" == "multi linux/"* ]]
  local host_arch=${output#multi linux/}
  host_arch=${host_arch%%/*}
  [ "$(image_id "$REG_PLAIN/multi")" = "sha256:$PUSHED_ID" ]
  local other=arm64
  [ "$host_arch" = arm64 ] && other=amd64
  run -0 skiff pull --platform "linux/$other" --tls-verify=false "$REG_PLAIN/multi"
  [ "$(image_field "$REG_PLAIN/multi" 'd["Architecture"]')" = "$other" ]
}

@test "pull of an unknown tag or digest: manifest unknown, exit 125, nothing stored" {
  run -125 --separate-stderr skiff pull --tls-verify=false "$REG_PLAIN/busybox:no-such-tag"
  one_error_line "manifest unknown"
  run -125 --separate-stderr skiff pull --tls-verify=false \
    "$REG_PLAIN/busybox@sha256:0000000000000000000000000000000000000000000000000000000000000000"
  one_error_line "manifest unknown"
  no_images
}

@test "pull twice: the second time the image is up to date" {
  run -0 skiff pull --tls-verify=false "$REG_PLAIN/busybox"
  has_line "Status: Downloaded newer image for $REG_PLAIN/busybox:latest"
  run -0 skiff pull --tls-verify=false "$REG_PLAIN/busybox"
  has_line "Status: Image is up to date for $REG_PLAIN/busybox:latest"
  has_line "Digest: $BB_DIGEST"
  [[ "$output" != *"Pull complete"* ]]
  [ "$(last_line)" = "$REG_PLAIN/busybox:latest" ]
  run -0 skiff images -q
  [ "${#lines[@]}" -eq 1 ]
}

@test "two pulls of one image at once into one store both succeed" {
  local out=$BATS_TEST_TMPDIR
  "$SKIFF" pull -q --tls-verify=false "$REG_PLAIN/busybox" >"$out/1.out" 2>"$out/1.err" &
  local p1=$!
  "$SKIFF" pull -q --tls-verify=false "$REG_PLAIN/busybox" >"$out/2.out" 2>"$out/2.err" &
  local p2=$!
  local s1=0 s2=0
  wait "$p1" || s1=$?
  wait "$p2" || s2=$?
  cat "$out/1.err" "$out/2.err" >&2
  [ "$s1" -eq 0 ]
  [ "$s2" -eq 0 ]
  [ "$(cat "$out/1.out")" = "$BB_ID" ]
  [ "$(cat "$out/2.out")" = "$BB_ID" ]
  run -0 skiff images -q --no-trunc
  [ "$output" = "sha256:$BB_ID" ]
  run -0 --separate-stderr skiff run --rm "$REG_PLAIN/busybox" echo hi
  [ "$output" = hi ]
}

@test "pull refuses a layer that does not match its digest and stores nothing" {
  make_pushed_busybox "$REG_PLAIN" corrupt-layer
  # The second layer is this image's own; the registry now serves it with a
  # different gzip header (the same files, other bytes).
  local layer
  layer=$(manifest_field 'd["layers"][1]["digest"]' --tls-verify=false "docker://$REG_PLAIN/corrupt-layer:latest")
  corrupt_blob "$REG_PLAIN_DIR" "$layer"
  run -125 --separate-stderr skiff pull --tls-verify=false "$REG_PLAIN/corrupt-layer"
  one_error_line "digest mismatch"
  no_images
}

@test "pull refuses a config that does not match its digest and stores nothing" {
  make_pushed_busybox "$REG_PLAIN" corrupt-config
  local config
  config=$(manifest_field 'd["config"]["digest"]' --tls-verify=false "docker://$REG_PLAIN/corrupt-config:latest")
  corrupt_blob "$REG_PLAIN_DIR" "$config"
  run -125 --separate-stderr skiff pull --tls-verify=false "$REG_PLAIN/corrupt-config"
  one_error_line "digest mismatch"
  no_images
}

# put_edited_manifest REPO TAG NEWTAG EXPR: the manifest of REG_PLAIN's
# REPO:TAG, changed by python statement EXPR (over d), put back as NEWTAG.
put_edited_manifest() {
  local repo=$1 tag=$2 newtag=$3 expr=$4 accept=application/vnd.oci.image.manifest.v1+json
  curl -fsS -H "Accept: $accept" "http://$REG_PLAIN/v2/$repo/manifests/$tag" |
    python3 -c 'import json, sys; d = json.load(sys.stdin); exec(sys.argv[1]); print(json.dumps(d))' "$expr" \
      > "$BATS_TEST_TMPDIR/manifest.json"
  curl -fsS -X PUT -H "Content-Type: $accept" --data-binary "@$BATS_TEST_TMPDIR/manifest.json" \
    "http://$REG_PLAIN/v2/$repo/manifests/$newtag" >/dev/null
}

@test "pull refuses a blob whose descriptor has no size, and one larger than its size" {
  make_pushed_busybox "$REG_PLAIN" sizes
  # The OCI image spec requires size; without it a download has no bound.
  put_edited_manifest sizes latest no-layer-size 'del d["layers"][1]["size"]'
  run -125 --separate-stderr skiff pull --tls-verify=false "$REG_PLAIN/sizes:no-layer-size"
  local layer
  layer=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["layers"][1]["digest"])' \
    "$BATS_TEST_TMPDIR/manifest.json")
  one_error_line "$REG_PLAIN/sizes:no-layer-size: the manifest gives no size for layer 2 ($layer); the OCI image spec requires one"
  put_edited_manifest sizes latest no-config-size 'del d["config"]["size"]'
  run -125 --separate-stderr skiff pull --tls-verify=false "$REG_PLAIN/sizes:no-config-size"
  one_error_line "no size for the config"
  no_images
  # A registry that sends more than the descriptor says is cut off there.
  put_edited_manifest sizes latest layer-too-small 'd["layers"][1]["size"] -= 1'
  run -125 --separate-stderr skiff pull --tls-verify=false "$REG_PLAIN/sizes:layer-too-small"
  local size
  size=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["layers"][1]["size"])' \
    "$BATS_TEST_TMPDIR/manifest.json")
  one_error_line "$REG_PLAIN/sizes: blob $layer is larger than the $size bytes its manifest gives"
  put_edited_manifest sizes latest config-too-small 'd["config"]["size"] -= 1'
  run -125 --separate-stderr skiff pull --tls-verify=false "$REG_PLAIN/sizes:config-too-small"
  one_error_line "is larger than the"
  no_images
}

@test "pull killed with SIGKILL mid-download leaves no image; the next pull completes and cleans up" {
  # A 30 MB layer of its own, so the download takes long enough to be killed.
  mkdir -p "$BATS_TEST_TMPDIR/ctx"
  head -c 30000000 /dev/urandom > "$BATS_TEST_TMPDIR/ctx/big"
  cp "$SKIFF_TEST_FIXTURES/busybox.tar" "$BATS_TEST_TMPDIR/layer.tar"
  tar -C "$BATS_TEST_TMPDIR/ctx" -rf "$BATS_TEST_TMPDIR/layer.tar" big
  rm "$BATS_TEST_TMPDIR/ctx/big"
  skiff import "$BATS_TEST_TMPDIR/layer.tar" big >/dev/null
  skiff push -q --tls-verify=false big "$REG_PLAIN/big:1"
  export SKIFF_ROOT="$BATS_TEST_TMPDIR/root2"
  "$SKIFF" pull -q --tls-verify=false "$REG_PLAIN/big:1" >/dev/null 2>&1 &
  local pid=$!
  wait_for compgen -G "$SKIFF_ROOT/tmp/blob-*"
  kill -KILL "$pid"
  wait "$pid" || true
  run -0 skiff images -q
  [ "$output" = "" ]
  run -0 skiff pull -q --tls-verify=false "$REG_PLAIN/big:1"
  [ -z "$(find "$SKIFF_ROOT/tmp" -mindepth 1 2>/dev/null)" ] || { ls -la "$SKIFF_ROOT/tmp" >&2; false; }
  run -0 --separate-stderr skiff run --rm "$REG_PLAIN/big:1" wc -c /big
  [ "$output" = "30000000 /big" ]
}

@test "pull follows a registry's redirect of blob downloads to its storage" {
  run -0 skiff pull --tls-verify=false "$REG_REDIRECT/busybox"
  has_line "Digest: $BB_DIGEST"
  [ "$(grep -c /blobs/ "$REG_REDIRECT_LOG")" -ge 2 ]
  run -0 --separate-stderr skiff run --rm "$REG_REDIRECT/busybox" cat /etc/image-name
  [ "$output" = busybox ]
}

@test "pull from a port nothing listens on: connection refused" {
  local port
  port=$(free_port)
  run -125 --separate-stderr skiff pull --tls-verify=false "127.0.0.1:$port/busybox"
  one_error_line "connection refused"
  no_images
}

# --- push ---------------------------------------------------------------------

@test "push: skopeo sees the digest skiff printed, and the image's layers" {
  import_busybox bb
  run -0 skiff push --tls-verify=false bb "$REG_PLAIN/pushed:v1"
  [[ "$(last_line)" =~ ^v1:\ digest:\ (sha256:[0-9a-f]{64})\ size:\ ([0-9]+)$ ]] || { echo "$output" >&2; false; }
  local digest=${BASH_REMATCH[1]} size=${BASH_REMATCH[2]}
  [ "$(skopeo_field 'd["Digest"]' --tls-verify=false "docker://$REG_PLAIN/pushed:v1")" = "$digest" ]
  [ "$(skopeo_field 'len(d["Layers"])' --tls-verify=false "docker://$REG_PLAIN/pushed:v1")" = 1 ]
  [ "$(reg_skopeo inspect --raw --tls-verify=false "docker://$REG_PLAIN/pushed:v1" | wc -c)" -eq "$size" ]
  # The registry's config is the local image's.
  [ "$(manifest_field 'd["config"]["digest"]' --tls-verify=false "docker://$REG_PLAIN/pushed:v1")" = "$(image_id bb)" ]
}

@test "push --digestfile; pushing again says the layers already exist" {
  import_busybox bb
  run -0 skiff push --tls-verify=false --digestfile "$BATS_TEST_TMPDIR/digest" bb "docker://$REG_PLAIN/pushed-twice:v2"
  [[ "$(last_line)" =~ ^v2:\ digest:\ (sha256:[0-9a-f]{64})\ size:\ [0-9]+$ ]] || { echo "$output" >&2; false; }
  local digest=${BASH_REMATCH[1]}
  [ "$(cat "$BATS_TEST_TMPDIR/digest")" = "$digest" ]
  run -0 skiff push --tls-verify=false bb "$REG_PLAIN/pushed-twice:v2"
  contains "$output" "Layer already exists"
  [[ "$(last_line)" == "v2: digest: $digest size: "* ]]
}

@test "push in chunks: a layer larger than SKIFF_PUSH_CHUNK_SIZE goes up in PATCH requests" {
  # A layer of its own (random content), so no registry has it yet.
  mkdir -p "$BATS_TEST_TMPDIR/ctx"
  head -c 300000 /dev/urandom > "$BATS_TEST_TMPDIR/ctx/noise"
  cp "$SKIFF_TEST_FIXTURES/busybox.tar" "$BATS_TEST_TMPDIR/layer.tar"
  tar -C "$BATS_TEST_TMPDIR/ctx" -rf "$BATS_TEST_TMPDIR/layer.tar" noise
  skiff import "$BATS_TEST_TMPDIR/layer.tar" noisy >/dev/null
  SKIFF_PUSH_CHUNK_SIZE=65536 run -0 skiff push --tls-verify=false noisy "$REG_PLAIN/chunked:1"
  contains "$output" ": Pushed"
  [[ "$(last_line)" =~ ^1:\ digest:\ (sha256:[0-9a-f]{64}) ]] || { echo "$output" >&2; false; }
  local digest=${BASH_REMATCH[1]}
  # skopeo reads it back whole, and skiff pulls and runs it in a fresh store.
  reg_skopeo copy --src-tls-verify=false "docker://$REG_PLAIN/chunked:1" "oci:$BATS_TEST_TMPDIR/oci:1" >/dev/null
  export SKIFF_ROOT="$BATS_TEST_TMPDIR/root2"
  run -0 skiff pull -q "$REG_PLAIN/chunked@$digest"
  run -0 --separate-stderr skiff run --rm "$REG_PLAIN/chunked@$digest" wc -c /noise
  [[ "$output" == "300000 /noise" ]]
}

@test "push to another repository of the same registry mounts the layers" {
  run -0 skiff pull --tls-verify=false "$REG_PLAIN/busybox"
  run -0 skiff push --tls-verify=false "$REG_PLAIN/busybox" "$REG_PLAIN/copy-by-mount:1"
  contains "$output" ": Mounted from busybox"
  [ "$(skopeo_field 'd["Digest"]' --tls-verify=false "docker://$REG_PLAIN/copy-by-mount:1")" = "$BB_DIGEST" ]
}

@test "push IMAGE without DEST pushes to the image's own name; images --digests shows it" {
  import_busybox "$REG_PLAIN/self-named:1.0"
  run -0 skiff push --tls-verify=false "$REG_PLAIN/self-named:1.0"
  [[ "$(last_line)" =~ ^1\.0:\ digest:\ (sha256:[0-9a-f]{64})\ size: ]] || { echo "$output" >&2; false; }
  local digest=${BASH_REMATCH[1]}
  [ "$(registry_digest "$REG_PLAIN/self-named:1.0")" = "$digest" ]
  run -0 skiff images --digests
  [[ "${lines[1]}" == "$REG_PLAIN/self-named "* ]]
  contains "${lines[1]}" "$digest"
}

@test "round trip: skiff push, skopeo to an OCI layout and back, skiff pull and run" {
  import_busybox bb
  local id
  id=$(image_id bb)
  run -0 skiff push --tls-verify=false bb "$REG_PLAIN/roundtrip/src:1"
  reg_skopeo copy -q --src-tls-verify=false "docker://$REG_PLAIN/roundtrip/src:1" "oci:$BATS_TEST_TMPDIR/layout:rt"
  reg_skopeo copy -q --dest-tls-verify=false --digestfile "$BATS_TEST_TMPDIR/copied" \
    "oci:$BATS_TEST_TMPDIR/layout:rt" "docker://$REG_PLAIN/roundtrip/copy:2"
  run -0 skiff rmi bb
  no_images
  run -0 skiff pull --tls-verify=false "$REG_PLAIN/roundtrip/copy:2"
  has_line "Digest: $(cat "$BATS_TEST_TMPDIR/copied")"
  [ "$(image_id "$REG_PLAIN/roundtrip/copy:2")" = "$id" ]
  run -0 --separate-stderr skiff run --rm "$REG_PLAIN/roundtrip/copy:2" grep app /etc/passwd
  [ "$output" = "app:x:1000:1000:app:/home/app:/bin/sh" ]
}

# --- TLS ----------------------------------------------------------------------

@test "TLS: a registry whose CA is unknown is refused" {
  run -125 --separate-stderr skiff pull "$REG_TLS/busybox"
  one_error_line "certificate"
  no_images
}

@test "TLS: --cert-dir with the registry's CA" {
  run -0 skiff pull --cert-dir "$REG_TLS_CERTDIR" "$REG_TLS/busybox"
  has_line "Digest: $TLS_DIGEST"
  run -0 --separate-stderr skiff run --rm "$REG_TLS/busybox" echo hi
  [ "$output" = hi ]
  run -0 skiff push --cert-dir "$REG_TLS_CERTDIR" "$REG_TLS/busybox" "$REG_TLS/pushed-tls:1"
  [[ "$(last_line)" =~ ^1:\ digest:\ (sha256:[0-9a-f]{64})\ size: ]] || { echo "$output" >&2; false; }
  [ "$(skopeo_field 'd["Digest"]' --cert-dir "$REG_TLS_CERTDIR" "docker://$REG_TLS/pushed-tls:1")" = "${BASH_REMATCH[1]}" ]
}

@test "TLS: --tls-verify=false" {
  run -0 skiff pull --tls-verify=false "$REG_TLS/busybox"
  has_line "Digest: $TLS_DIGEST"
}

@test "TLS: the registry's CA in ~/.config/containers/certs.d/HOST/ is trusted" {
  mkdir -p "$HOME/.config/containers/certs.d/$REG_TLS"
  cp "$REG_TLS_CA" "$HOME/.config/containers/certs.d/$REG_TLS/ca.crt"
  run -0 skiff pull "$REG_TLS/busybox"
  has_line "Digest: $TLS_DIGEST"
}

# --- ~/.config/skiff/config.yaml ------------------------------------------------

@test "config.yaml: an insecure registry needs no --tls-verify=false" {
  mkdir -p "$HOME/.config/skiff"
  printf 'registries:\n  insecure: ["%s"]\n' "$REG_TLS" > "$HOME/.config/skiff/config.yaml"
  run -0 skiff pull "$REG_TLS/busybox"
  has_line "Digest: $TLS_DIGEST"
}

@test "config.yaml: short names go to the default registry" {
  mkdir -p "$HOME/.config/skiff"
  printf 'registries:\n  default: "%s"\n' "$REG_PLAIN" > "$HOME/.config/skiff/config.yaml"
  run -0 skiff pull busybox
  has_line "Digest: $BB_DIGEST"
  [ "$(last_line)" = "$REG_PLAIN/busybox:latest" ]
}

@test "config.yaml: a mirror serves a registry that cannot be reached" {
  mkdir -p "$HOME/.config/skiff"
  # Nothing listens on the mirrored registry's port: the image can only come
  # from the mirror.
  local gone="127.0.0.1:$(free_port)"
  printf 'registries:\n  mirrors:\n    "%s": ["%s"]\n' "$gone" "$REG_PLAIN" > "$HOME/.config/skiff/config.yaml"
  run -0 skiff pull "$gone/busybox"
  has_line "Digest: $BB_DIGEST"
  run -0 skiff images
  contains "$output" "$gone/busybox"
}

@test "config.yaml: a malformed file is one clear error" {
  mkdir -p "$HOME/.config/skiff"
  printf 'registries: [\n' > "$HOME/.config/skiff/config.yaml"
  run -125 --separate-stderr skiff pull "$REG_PLAIN/busybox"
  one_error_line "config.yaml"
}

# --- basic auth -----------------------------------------------------------------

@test "basic auth: without credentials, authentication required" {
  run -125 --separate-stderr skiff pull --tls-verify=false "$REG_BASIC/private/busybox"
  one_error_line "authentication required"
  no_images
  import_busybox bb
  run -125 --separate-stderr skiff push --tls-verify=false bb "$REG_BASIC/private/nope:1"
  one_error_line "authentication required"
}

@test "basic auth: --creds" {
  run -0 skiff pull --tls-verify=false --creds "$REG_USER:$REG_PASS" "$REG_BASIC/private/busybox"
  has_line "Digest: $BASIC_DIGEST"
  no_password_in_output
  run -125 --separate-stderr skiff pull --tls-verify=false --creds "$REG_USER:wrong" "$REG_BASIC/private/busybox"
  [[ "$stderr" == "skiff: "* ]]
  no_password_in_output
}

@test "basic auth: login, pull and push, logout, then refused again" {
  local auth=$REGISTRY_AUTH_FILE
  run -0 --separate-stderr skiff login --tls-verify=false -u "$REG_USER" -p "$REG_PASS" "$REG_BASIC"
  [ "$output" = "Login Succeeded!" ]
  no_password_in_output
  [ "$(stat -c %a "$auth")" = 600 ]
  run -1 grep -c "$REG_PASS" "$auth"
  [ "$output" = 0 ]
  run -0 python3 -c 'import base64, json, sys; print(base64.b64decode(json.load(open(sys.argv[1]))["auths"][sys.argv[2]]["auth"]).decode())' "$auth" "$REG_BASIC"
  [ "$output" = "$REG_USER:$REG_PASS" ]

  run -0 skiff pull --tls-verify=false "$REG_BASIC/private/busybox"
  has_line "Digest: $BASIC_DIGEST"
  run -0 skiff push --tls-verify=false "$REG_BASIC/private/busybox" "$REG_BASIC/private/again:1"
  [[ "$(last_line)" =~ ^1:\ digest:\ (sha256:[0-9a-f]{64})\ size: ]] || { echo "$output" >&2; false; }
  [ "$(skopeo_field 'd["Digest"]' --tls-verify=false --creds "$REG_USER:$REG_PASS" "docker://$REG_BASIC/private/again:1")" = "${BASH_REMATCH[1]}" ]

  run -0 --separate-stderr skiff logout "$REG_BASIC"
  [ "$output" = "Removed login credentials for $REG_BASIC" ]
  run -0 skiff rmi "$REG_BASIC/private/busybox"
  run -125 --separate-stderr skiff pull --tls-verify=false "$REG_BASIC/private/busybox"
  one_error_line "authentication required"
  run -125 --separate-stderr skiff logout "$REG_BASIC"
  one_error_line "not logged in"
}

@test "basic auth: login with a wrong password fails and stores nothing" {
  run -125 --separate-stderr skiff login --tls-verify=false -u "$REG_USER" --password-stdin "$REG_BASIC" <<<wrong-pass
  one_error_line "invalid username or password"
  [[ "$stderr" != *wrong-pass* ]]
  if [ -e "$REGISTRY_AUTH_FILE" ]; then
    run -1 grep -c "$REG_BASIC" "$REGISTRY_AUTH_FILE"
  fi
}

@test "basic auth: login --password-stdin and --authfile" {
  local auth="$BATS_TEST_TMPDIR/elsewhere/auth.json"
  mkdir -p "${auth%/*}"
  run -0 --separate-stderr skiff login --tls-verify=false --authfile "$auth" -u "$REG_USER" --password-stdin "$REG_BASIC" <<<"$REG_PASS"
  [ "$output" = "Login Succeeded!" ]
  no_password_in_output
  [ ! -e "$REGISTRY_AUTH_FILE" ]
  [ "$(stat -c %a "$auth")" = 600 ]
  run -125 --separate-stderr skiff pull --tls-verify=false "$REG_BASIC/private/busybox"
  one_error_line "authentication required"
  run -0 skiff pull --tls-verify=false --authfile "$auth" "$REG_BASIC/private/busybox"
  run -0 skiff logout --authfile "$auth" "$REG_BASIC"
  run -0 skiff rmi "$REG_BASIC/private/busybox"
  run -125 --separate-stderr skiff pull --tls-verify=false --authfile "$auth" "$REG_BASIC/private/busybox"
  one_error_line "authentication required"
}

@test "login without --authfile or REGISTRY_AUTH_FILE writes \$XDG_RUNTIME_DIR/containers/auth.json" {
  unset REGISTRY_AUTH_FILE
  run -0 --separate-stderr skiff login --tls-verify=false -u "$REG_USER" -p "$REG_PASS" "$REG_BASIC"
  local auth="$XDG_RUNTIME_DIR/containers/auth.json"
  [ -f "$auth" ]
  [ "$(stat -c %a "$auth")" = 600 ]
  run -0 skiff pull --tls-verify=false "$REG_BASIC/private/busybox"
  run -0 skiff logout --all
  run -0 skiff rmi "$REG_BASIC/private/busybox"
  run -125 --separate-stderr skiff pull --tls-verify=false "$REG_BASIC/private/busybox"
  one_error_line "authentication required"
}

@test "credentials from ~/.docker/config.json" {
  mkdir -p "$HOME/.docker"
  printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$REG_BASIC" "$(printf '%s:%s' "$REG_USER" "$REG_PASS" | base64)" \
    > "$HOME/.docker/config.json"
  run -0 skiff pull --tls-verify=false "$REG_BASIC/private/busybox"
  has_line "Digest: $BASIC_DIGEST"
}

@test "credentials from a credential helper named in auth.json" {
  mkdir -p "$BATS_TEST_TMPDIR/bin"
  cat > "$BATS_TEST_TMPDIR/bin/docker-credential-fake" <<EOF
#!/bin/sh
# A credential helper that knows one registry.
echo "args: \$*" >> "$BATS_TEST_TMPDIR/helper.log"
host=\$(cat)
echo "stdin: \$host" >> "$BATS_TEST_TMPDIR/helper.log"
[ "\$1" = get ] || exit 1
case "\$host" in
  *$REG_BASIC*) printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}\n' "\$host" "$REG_USER" "$REG_PASS" ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
EOF
  chmod +x "$BATS_TEST_TMPDIR/bin/docker-credential-fake"
  printf '{"credHelpers":{"%s":"fake"}}\n' "$REG_BASIC" > "$REGISTRY_AUTH_FILE"
  PATH="$BATS_TEST_TMPDIR/bin:$PATH" run -0 skiff pull --tls-verify=false "$REG_BASIC/private/busybox"
  has_line "Digest: $BASIC_DIGEST"
  no_password_in_output
  run -0 cat "$BATS_TEST_TMPDIR/helper.log"
  has_line "args: get"
  contains "$output" "stdin: "
  contains "$output" "$REG_BASIC"
}

# --- token auth -------------------------------------------------------------------

@test "token auth: anonymous pull, with one token for all the blobs" {
  local before after
  before=$(tokens_issued)
  run -0 skiff pull --tls-verify=false "$REG_TOKEN/tok/busybox"
  has_line "Digest: $TOKEN_DIGEST"
  after=$(tokens_issued)
  echo "tokens issued for the pull: $((after - before))" >&2
  [ $((after - before)) -ge 1 ]
  [ $((after - before)) -le 2 ]
  run -0 tail -n $((after - before)) "$REG_TOKEN_LOG"
  contains "$output" "- repository:tok/busybox:pull"
  run -0 --separate-stderr skiff run --rm "$REG_TOKEN/tok/busybox" cat /etc/image-name
  [ "$output" = tok/busybox ]
}

@test "token auth: push needs credentials; --creds and login work" {
  import_busybox bb
  run -125 --separate-stderr skiff push --tls-verify=false bb "$REG_TOKEN/tok/pushed:1"
  [[ "$stderr" =~ ^skiff:\ .*(authentication\ required|denied|unauthorized|insufficient) ]] || { echo "$stderr" >&2; false; }

  run -0 skiff push --tls-verify=false --creds "$REG_USER:$REG_PASS" bb "$REG_TOKEN/tok/pushed:1"
  no_password_in_output
  [[ "$(last_line)" =~ ^1:\ digest:\ (sha256:[0-9a-f]{64})\ size: ]] || { echo "$output" >&2; false; }
  [ "$(skopeo_field 'd["Digest"]' --tls-verify=false "docker://$REG_TOKEN/tok/pushed:1")" = "${BASH_REMATCH[1]}" ]
  run -0 grep -cE "^$REG_USER .*repository:tok/pushed:[a-z,]*push" "$REG_TOKEN_LOG"

  run -125 --separate-stderr skiff login --tls-verify=false -u "$REG_USER" --password-stdin "$REG_TOKEN" <<<wrong-pass
  one_error_line "invalid username or password"
  run -0 --separate-stderr skiff login --tls-verify=false -u "$REG_USER" -p "$REG_PASS" "$REG_TOKEN"
  [ "$output" = "Login Succeeded!" ]
  run -0 skiff push --tls-verify=false bb "$REG_TOKEN/tok/pushed:2"
  [[ "$(last_line)" == "2: digest: sha256:"* ]]
}

# --- run --pull ---------------------------------------------------------------------
# run has no --tls-verify: these pull from the plain-HTTP registry on
# 127.0.0.1, which skiff, like docker, may reach over HTTP as a loopback one.

@test "run --pull=never with the image missing is exit 125; missing (the default) pulls" {
  run -125 --separate-stderr skiff run --rm --pull=never "$REG_PLAIN/busybox" echo hi
  [[ "$stderr" == "skiff: "* ]]
  no_images
  run -0 --separate-stderr skiff run --rm "$REG_PLAIN/busybox" echo hi
  [ "$output" = hi ]
  run -0 skiff images -q --no-trunc
  [ "$output" = "sha256:$BB_ID" ]
  run -0 --separate-stderr skiff run --rm --pull=never "$REG_PLAIN/busybox" echo again
  [ "$output" = again ]
}

@test "run --pull=always gets the tag's new image; --pull=missing keeps the local one" {
  local tag="$REG_PLAIN/moving:latest"
  reg_skopeo copy -q --src-tls-verify=false --dest-tls-verify=false \
    "docker://$REG_PLAIN/busybox:latest" "docker://$tag"
  run -0 --separate-stderr skiff run --rm --pull=missing "$tag" cat /etc/image-name
  [ "$output" = busybox ]
  # The tag moves to another image.
  make_pushed_busybox "$REG_PLAIN" moving
  run -0 --separate-stderr skiff run --rm --pull=missing "$tag" cat /etc/image-name
  [ "$output" = busybox ]
  run -0 --separate-stderr skiff run --rm --pull=always "$tag" cat /etc/image-name
  [ "$output" = moving ]
  [ "$(image_id "$tag")" = "sha256:$PUSHED_ID" ]
}
