#include "skiff/engine/container_config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "skiff/store/record.hpp"
#include "skiff/util/error.hpp"

namespace skiff::engine {

namespace {

using nlohmann::json;

constexpr const char* kSeccompAnnotation = "io.skiff.seccomp";  // "default", "unconfined" or the profile's file
constexpr const char* kHomeAnnotation = "io.skiff.home";        // "user": HOME is the user's passwd entry's
// run's flags as given, for inspect; each only when the flag was.
constexpr const char* kUserAnnotation = "io.skiff.user";                // -u
constexpr const char* kEntrypointAnnotation = "io.skiff.entrypoint";    // --entrypoint
constexpr const char* kStdinAnnotation = "io.skiff.stdin";              // -i: "true"
constexpr const char* kPrivilegedAnnotation = "io.skiff.privileged";    // "true"
constexpr const char* kCapAddAnnotation = "io.skiff.cap-add";           // CAP_A,CAP_B
constexpr const char* kCapDropAnnotation = "io.skiff.cap-drop";         // CAP_A,CAP_B
constexpr const char* kNetworkAnnotation = "io.skiff.network";          // host | none
constexpr const char* kLogMaxSizeAnnotation = "io.skiff.log-max-size";  // bytes

std::string comma_list(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

std::vector<std::string> comma_items(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

}  // namespace

json container_config_json(const runtime::Spec& spec, const RunOptions& opts, bool home_from_user) {
  const runtime::Process& p = spec.process;
  json rlimits = json::array();
  for (const auto& r : p.rlimits) rlimits.push_back({{"type", r.type}, {"hard", r.hard}, {"soft", r.soft}});
  json process = {
      {"terminal", p.terminal},
      {"user",
       {{"uid", p.user.uid}, {"gid", p.user.gid}, {"umask", p.user.umask}, {"additionalGids", p.user.additionalGids}}},
      {"args", p.args},
      {"env", p.env},
      {"cwd", p.cwd},
      {"capabilities", {{"bounding", p.capabilities}, {"effective", p.capabilities}, {"permitted", p.capabilities}}},
      {"noNewPrivileges", p.noNewPrivileges},
      {"rlimits", std::move(rlimits)},
  };
  std::string seccomp = "default";
  if (opts.privileged || opts.seccomp == SeccompMode::kUnconfined)
    seccomp = "unconfined";
  else if (opts.seccomp == SeccompMode::kProfile)
    seccomp = opts.seccomp_profile;
  json annotations = {{kSeccompAnnotation, seccomp}};
  if (home_from_user) annotations[kHomeAnnotation] = "user";
  if (opts.user) annotations[kUserAnnotation] = *opts.user;
  if (opts.entrypoint) annotations[kEntrypointAnnotation] = *opts.entrypoint;
  if (opts.interactive) annotations[kStdinAnnotation] = "true";
  if (opts.privileged) annotations[kPrivilegedAnnotation] = "true";
  if (!opts.cap_add.empty()) annotations[kCapAddAnnotation] = comma_list(opts.cap_add);
  if (!opts.cap_drop.empty()) annotations[kCapDropAnnotation] = comma_list(opts.cap_drop);
  annotations[kNetworkAnnotation] = network_mode_name(opts.network);
  if (opts.log_max_size) annotations[kLogMaxSizeAnnotation] = std::to_string(opts.log_max_size);
  // The user's bind mounts, in OCI's shape (the others are skiff's own).
  json mounts = json::array();
  for (const auto& v : opts.volumes)
    mounts.push_back({{"destination", v.target},
                      {"type", "bind"},
                      {"source", v.source},
                      {"options", v.readonly ? json{"rbind", "ro"} : json{"rbind"}}});
  return {{"ociVersion", spec.ociVersion}, {"process", std::move(process)},
          {"hostname", spec.hostname},     {"root", {{"readonly", spec.root.readonly}}},
          {"mounts", std::move(mounts)},   {"annotations", std::move(annotations)}};
}

ContainerConfig parse_container_config(const json& j) {
  try {
    ContainerConfig c;
    const json& p = j.at("process");
    c.process.terminal = p.value("terminal", false);
    const json& u = p.at("user");
    c.process.user.uid = u.at("uid").get<uint32_t>();
    c.process.user.gid = u.at("gid").get<uint32_t>();
    c.process.user.umask = u.value("umask", uint32_t{022});
    c.process.user.additionalGids = u.value("additionalGids", std::vector<uint32_t>{});
    c.process.args = p.value("args", std::vector<std::string>{});
    c.process.env = p.value("env", std::vector<std::string>{});
    c.process.cwd = p.value("cwd", std::string("/"));
    c.process.capabilities = p.at("capabilities").at("bounding").get<std::vector<std::string>>();
    c.process.noNewPrivileges = p.value("noNewPrivileges", false);
    for (const auto& r : p.value("rlimits", json::array()))
      c.process.rlimits.push_back({.type = r.at("type").get<std::string>(),
                                   .hard = r.at("hard").get<uint64_t>(),
                                   .soft = r.at("soft").get<uint64_t>()});
    const json annotations = j.value("annotations", json::object());
    std::string seccomp = annotations.value(kSeccompAnnotation, "default");
    if (seccomp == "unconfined") {
      c.seccomp = SeccompMode::kUnconfined;
    } else if (seccomp != "default") {
      c.seccomp = SeccompMode::kProfile;
      c.seccomp_profile = seccomp;
    }
    c.home_from_user = annotations.value(kHomeAnnotation, "") == "user";
    c.hostname = j.value("hostname", "");
    c.readonly_rootfs = j.value("root", json::object()).value("readonly", false);
    for (const auto& m : j.value("mounts", json::array())) {
      if (m.value("type", "") != "bind") continue;
      auto options = m.value("options", std::vector<std::string>{});
      c.binds.push_back({.source = m.value("source", ""),
                         .target = m.value("destination", ""),
                         .readonly = std::find(options.begin(), options.end(), "ro") != options.end()});
    }
    if (annotations.contains(kUserAnnotation)) c.user = annotations[kUserAnnotation].get<std::string>();
    if (annotations.contains(kEntrypointAnnotation))
      c.entrypoint = annotations[kEntrypointAnnotation].get<std::string>();
    c.open_stdin = annotations.value(kStdinAnnotation, "") == "true";
    c.privileged = annotations.value(kPrivilegedAnnotation, "") == "true";
    c.cap_add = comma_items(annotations.value(kCapAddAnnotation, ""));
    c.cap_drop = comma_items(annotations.value(kCapDropAnnotation, ""));
    c.network = annotations.value(kNetworkAnnotation, "");
    std::string max_size = annotations.value(kLogMaxSizeAnnotation, "0");
    if (std::from_chars(max_size.data(), max_size.data() + max_size.size(), c.log_max_size).ec != std::errc())
      c.log_max_size = 0;
    return c;
  } catch (const json::exception& e) {
    throw Error(fmt::format("not a container's config.json: {}", e.what()));
  }
}

void write_container_config(const std::filesystem::path& container_dir, const json& j) {
  store::write_record(container_dir / "config.json", j, store::Durability::kRenamed);
}

ContainerConfig read_container_config(const std::filesystem::path& container_dir) {
  auto j = store::read_record(container_dir / "config.json");
  if (!j)
    throw Error("the container's settings (config.json) are missing", 0,
                "it was started by an older skiff: start it again to exec into it");
  try {
    return parse_container_config(*j);
  } catch (const Error& e) {
    throw e.with_context((container_dir / "config.json").string());
  }
}

}  // namespace skiff::engine
