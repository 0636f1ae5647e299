// Registry credentials where docker and podman keep them: auth.json
// ({"auths": {HOST: {"auth": base64(user:pass)}}}), ~/.docker/config.json as
// a fallback, and docker's credential helpers (credHelpers, credsStore).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace skiff::registry {

struct Credentials {
  std::string username;
  std::string password;
};

// Where credentials are read and written: the --authfile flag, else
// $REGISTRY_AUTH_FILE, else $XDG_RUNTIME_DIR/containers/auth.json, else
// ~/.config/containers/auth.json (podman's places).
std::filesystem::path auth_file_path(std::string_view authfile_flag);

// The key a registry is stored under: "docker.io" for Docker Hub, whatever
// form (https://index.docker.io/v1/, registry-1.docker.io) it was given in.
std::string normalize_auth_host(std::string_view host);

// Credentials for host from the auth file, then ~/.docker/config.json,
// asking a credential helper where one is configured.
std::optional<Credentials> lookup_credentials(std::string_view authfile_flag, std::string_view host);

// Saves credentials (through the configured helper, if any); the file is 0600.
void store_credentials(std::string_view authfile_flag, std::string_view host, const Credentials& creds);

// Forgets host's credentials; false if there were none.
bool erase_credentials(std::string_view authfile_flag, std::string_view host);

// Forgets every registry's credentials in the auth file.
void erase_all_credentials(std::string_view authfile_flag);

// "user:pass" <-> base64, as auth.json stores them.
std::string encode_auth(const Credentials& creds);
std::optional<Credentials> decode_auth(std::string_view b64);

}  // namespace skiff::registry
