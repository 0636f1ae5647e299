// How to reach a registry: the flags pull, push and login share, the
// certs.d directories, and ~/.config/skiff/config.yaml.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/registry/registry_client.hpp"

namespace skiff::registry {

// --tls-verify, --cert-dir, --authfile, --creds.
struct RegistryFlags {
  std::optional<bool> tls_verify;
  std::string cert_dir;
  std::string authfile;
  std::string creds;  // "user[:pass]"
};

// The registries part of ~/.config/skiff/config.yaml.
struct RegistriesConfig {
  std::string default_registry = "docker.io";               // for short names
  std::vector<std::string> insecure;                        // plain HTTP or unverified TLS
  std::map<std::string, std::vector<std::string>> mirrors;  // registry -> mirrors, tried first
};

// Reads $XDG_CONFIG_HOME/skiff/config.yaml (or SKIFF_CONFIG); defaults if absent.
RegistriesConfig load_registries_config();

// The client options for registry: TLS (certs.d or --cert-dir, verify unless
// told or listed insecure), credentials (--creds, else the auth files).
ClientOptions client_options(std::string_view registry, const RegistryFlags& flags, const RegistriesConfig& config);

// "user:pass" -> Credentials; "user" alone asks for the password on the terminal.
Credentials parse_creds(std::string_view text);

// A short name ("app", "team/app") gets the configured default registry; a
// name that starts with a host is left alone.
std::string with_default_registry(std::string_view ref, const RegistriesConfig& config);

}  // namespace skiff::registry
