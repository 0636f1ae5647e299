#include "skiff/registry/registry_options.hpp"

#include <dirent.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>

#include "skiff/image/reference.hpp"
#include "skiff/store/paths.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"
#include "skiff/util/terminal.hpp"

namespace skiff::registry {

namespace fs = std::filesystem;

namespace {

// CAs (*.crt) and a client certificate (*.cert with its *.key) in dir.
void read_cert_dir(const fs::path& dir, TlsOptions& tls) {
  DIR* d = opendir(dir.c_str());
  if (!d) return;
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) names.emplace_back(e->d_name);
  closedir(d);
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    auto ends = [&](std::string_view suffix) {
      return n.size() > suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (ends(".crt")) tls.ca_files.push_back((dir / n).string());
    if (ends(".cert")) {
      fs::path key = dir / (n.substr(0, n.size() - 5) + ".key");
      if (access(key.c_str(), R_OK) != 0)
        throw Error(fmt::format("{}: client certificate {} has no key {}", dir.string(), n, key.filename().string()));
      tls.client_cert = (dir / n).string();
      tls.client_key = key.string();
    }
  }
}

bool is_short_name_host(std::string_view first) {
  return first.find('.') != std::string_view::npos || first.find(':') != std::string_view::npos || first == "localhost";
}

}  // namespace

RegistriesConfig load_registries_config() {
  RegistriesConfig cfg;
  const char* explicit_path = getenv("SKIFF_CONFIG");
  fs::path path =
      explicit_path && *explicit_path ? fs::path(explicit_path) : store::config_home() / "skiff" / "config.yaml";
  auto text = read_file_if_exists(path);
  if (!text) return cfg;
  try {
    YAML::Node root = YAML::Load(*text);
    YAML::Node regs = root["registries"];
    if (!regs) return cfg;
    if (regs["default"]) cfg.default_registry = regs["default"].as<std::string>();
    if (regs["insecure"])
      for (const auto& n : regs["insecure"]) cfg.insecure.push_back(n.as<std::string>());
    if (regs["mirrors"])
      for (const auto& kv : regs["mirrors"])
        for (const auto& m : kv.second) cfg.mirrors[kv.first.as<std::string>()].push_back(m.as<std::string>());
  } catch (const YAML::Exception& e) {
    throw Error(fmt::format("{}: {}", path.string(), e.what()), 0, "fix the file (see skiff(1), FILES)");
  }
  return cfg;
}

Credentials parse_creds(std::string_view text) {
  auto colon = text.find(':');
  if (text.empty() || colon == 0) throw Error("--creds: expected USER[:PASSWORD]");
  if (colon != std::string_view::npos) return {std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
  std::string pass = prompt_line("Password: ", false);
  if (pass.empty() && !isatty(STDIN_FILENO)) throw Error("--creds: no password given and no terminal to ask for it");
  return {std::string(text), pass};
}

ClientOptions client_options(std::string_view registry, const RegistryFlags& flags, const RegistriesConfig& config) {
  // The host names a directory (certs.d/<host>/): "..", say, must not get there.
  if (!image::is_valid_registry_host(registry))
    throw Error(fmt::format("{:?} is not a registry host name ({})", std::string(registry), image::kRegistryHostRule));
  ClientOptions opts;
  bool listed_insecure = std::find(config.insecure.begin(), config.insecure.end(), registry) != config.insecure.end();
  bool verify = flags.tls_verify.value_or(!listed_insecure);
  opts.tls.verify = verify;
  opts.allow_http = !verify;
  if (!flags.cert_dir.empty()) {
    if (access(flags.cert_dir.c_str(), R_OK | X_OK) != 0)
      throw Error(fmt::format("--cert-dir {}", flags.cert_dir), errno);
    read_cert_dir(flags.cert_dir, opts.tls);
  } else {
    std::string host(registry);
    for (const fs::path& base : {store::config_home() / "containers" / "certs.d", fs::path("/etc/containers/certs.d"),
                                 fs::path("/etc/docker/certs.d")})
      read_cert_dir(base / host, opts.tls);
  }
  if (!flags.creds.empty())
    opts.credentials = parse_creds(flags.creds);
  else
    opts.credentials = lookup_credentials(flags.authfile, registry);
  return opts;
}

std::string with_default_registry(std::string_view ref, const RegistriesConfig& config) {
  if (config.default_registry.empty() || config.default_registry == "docker.io") return std::string(ref);
  auto slash = ref.find('/');
  if (slash != std::string_view::npos && is_short_name_host(ref.substr(0, slash))) return std::string(ref);
  return config.default_registry + "/" + std::string(ref);
}

}  // namespace skiff::registry
