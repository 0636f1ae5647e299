#include "skiff/registry/auth_file.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "skiff/store/paths.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

extern char** environ;

namespace skiff::registry {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string env_or(const char* name, std::string fallback = {}) {
  const char* v = getenv(name);
  return v && *v ? std::string(v) : fallback;
}

fs::path docker_config_path() {
  std::string dir = env_or("DOCKER_CONFIG");
  return dir.empty() ? store::home_dir() / ".docker" / "config.json" : fs::path(dir) / "config.json";
}

json read_json_file(const fs::path& path) {
  auto text = read_file_if_exists(path);
  if (!text || text->find_first_not_of(" \t\r\n") == std::string::npos) return json::object();
  try {
    json j = json::parse(*text);
    if (!j.is_object()) throw json::type_error::create(302, "not an object", nullptr);
    return j;
  } catch (const json::exception&) {
    throw Error(fmt::format("{} is not valid JSON", path.string()), 0, "fix or remove it");
  }
}

void write_json_file(const fs::path& path, const json& j) {
  make_dirs(path.parent_path(), 0700);
  write_file_atomic(path, j.dump(1, '\t') + "\n", {.mode = 0600});
}

// Runs docker-credential-NAME ACTION with input on stdin; returns its stdout
// and exit status. The secret travels through pipes only, never argv.
std::pair<int, std::string> run_helper(const std::string& name, const char* action, const std::string& input) {
  std::string prog = "docker-credential-" + name;
  // stdin is a socket so the input can go with MSG_NOSIGNAL: a helper that
  // exits without reading must not kill skiff with SIGPIPE.
  int in[2], out[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0 || pipe2(out, O_CLOEXEC) != 0) throw_errno("pipe");
  UniqueFd in_r(in[0]), in_w(in[1]), out_r(out[0]), out_w(out[1]);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in_r.get(), 0);
  posix_spawn_file_actions_adddup2(&fa, out_w.get(), 1);
  char* argv[] = {prog.data(), const_cast<char*>(action), nullptr};
  pid_t pid;
  int rc = posix_spawnp(&pid, prog.c_str(), &fa, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw Error(fmt::format("cannot run credential helper {}", prog), rc);
  in_r.reset();
  out_w.reset();
  // Helpers read all of stdin before answering; the input is a few hundred bytes.
  for (size_t off = 0; off < input.size();) {
    ssize_t n = send(in_w.get(), input.data() + off, input.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the helper stopped reading; its answer tells
    off += static_cast<size_t>(n);
  }
  in_w.reset();
  std::string output;
  char buf[4096];
  for (;;) {
    ssize_t n = read(out_r.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128, output};
}

// The helper configured for host in a config file, if any.
std::string helper_for(const json& config, const std::string& host) {
  if (auto it = config.find("credHelpers"); it != config.end() && it->is_object())
    for (auto& [key, value] : it->items())
      if (normalize_auth_host(key) == host && value.is_string()) return value.get<std::string>();
  if (auto it = config.find("credsStore"); it != config.end() && it->is_string()) return it->get<std::string>();
  return {};
}

std::optional<Credentials> helper_get(const std::string& helper, const std::string& host) {
  auto [status, output] = run_helper(helper, "get", host);
  // "credentials not found" is exit 1 with a message: no credentials, not an error.
  if (status != 0) return std::nullopt;
  try {
    json j = json::parse(output);
    Credentials c{j.value("Username", ""), j.value("Secret", "")};
    if (c.username.empty() && c.password.empty()) return std::nullopt;
    return c;
  } catch (const json::exception&) {
    throw Error(fmt::format("credential helper docker-credential-{} gave no valid JSON for {}", helper, host));
  }
}

std::optional<Credentials> lookup_in(const json& config, const std::string& host) {
  if (std::string helper = helper_for(config, host); !helper.empty()) {
    if (auto c = helper_get(helper, host)) return c;
  }
  if (auto it = config.find("auths"); it != config.end() && it->is_object())
    for (auto& [key, entry] : it->items()) {
      if (normalize_auth_host(key) != host || !entry.is_object()) continue;
      if (auto a = entry.find("auth"); a != entry.end() && a->is_string() && !a->get<std::string>().empty())
        return decode_auth(a->get<std::string>());
      if (entry.contains("username") && entry.contains("password"))
        return Credentials{entry.value("username", ""), entry.value("password", "")};
    }
  return std::nullopt;
}

}  // namespace

fs::path auth_file_path(std::string_view authfile_flag) {
  if (!authfile_flag.empty()) return fs::path(authfile_flag);
  if (std::string f = env_or("REGISTRY_AUTH_FILE"); !f.empty()) return f;
  if (std::string run = env_or("XDG_RUNTIME_DIR"); !run.empty()) return fs::path(run) / "containers" / "auth.json";
  return store::home_dir() / ".config" / "containers" / "auth.json";
}

std::string normalize_auth_host(std::string_view host) {
  std::string_view h = host;
  for (std::string_view scheme : {"https://", "http://"})
    if (h.substr(0, scheme.size()) == scheme) h.remove_prefix(scheme.size());
  h = h.substr(0, h.find('/'));
  if (h == "index.docker.io" || h == "registry-1.docker.io" || h == "registry.hub.docker.com") return "docker.io";
  return std::string(h);
}

std::optional<Credentials> lookup_credentials(std::string_view authfile_flag, std::string_view host) {
  std::string key = normalize_auth_host(host);
  if (auto c = lookup_in(read_json_file(auth_file_path(authfile_flag)), key)) return c;
  // podman reads docker's file too, unless told which file to use.
  if (authfile_flag.empty()) return lookup_in(read_json_file(docker_config_path()), key);
  return std::nullopt;
}

void store_credentials(std::string_view authfile_flag, std::string_view host, const Credentials& creds) {
  std::string key = normalize_auth_host(host);
  fs::path path = auth_file_path(authfile_flag);
  json config = read_json_file(path);
  if (std::string helper = helper_for(config, key); !helper.empty()) {
    json input{{"ServerURL", key}, {"Username", creds.username}, {"Secret", creds.password}};
    auto [status, output] = run_helper(helper, "store", input.dump());
    if (status != 0)
      throw Error(fmt::format("credential helper docker-credential-{} could not store the login: {}", helper,
                              output.substr(0, output.find('\n'))));
    return;
  }
  config["auths"][key] = json{{"auth", encode_auth(creds)}};
  write_json_file(path, config);
}

bool erase_credentials(std::string_view authfile_flag, std::string_view host) {
  std::string key = normalize_auth_host(host);
  fs::path path = auth_file_path(authfile_flag);
  json config = read_json_file(path);
  bool found = false;
  if (std::string helper = helper_for(config, key); !helper.empty()) {
    auto [status, output] = run_helper(helper, "erase", key);
    found = status == 0;
  }
  if (auto it = config.find("auths"); it != config.end() && it->is_object()) {
    std::vector<std::string> drop;
    for (auto& [k, v] : it->items())
      if (normalize_auth_host(k) == key) drop.push_back(k);
    for (const auto& k : drop) it->erase(k);
    if (!drop.empty()) {
      write_json_file(path, config);
      found = true;
    }
  }
  return found;
}

void erase_all_credentials(std::string_view authfile_flag) {
  fs::path path = auth_file_path(authfile_flag);
  json config = read_json_file(path);
  if (!config.contains("auths")) return;
  config["auths"] = json::object();
  write_json_file(path, config);
}

std::string encode_auth(const Credentials& creds) {
  std::string plain = creds.username + ":" + creds.password;
  std::string out(4 * ((plain.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(plain.data()), static_cast<int>(plain.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<Credentials> decode_auth(std::string_view b64) {
  if (b64.empty() || b64.size() % 4 != 0) return std::nullopt;
  std::string out(b64.size() / 4 * 3 + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding as zero bytes.
  size_t len = static_cast<size_t>(n);
  for (size_t i = b64.size(); i > 0 && b64[i - 1] == '='; --i) --len;
  out.resize(len);
  auto colon = out.find(':');
  if (colon == std::string::npos) return std::nullopt;
  return Credentials{out.substr(0, colon), out.substr(colon + 1)};
}

}  // namespace skiff::registry
