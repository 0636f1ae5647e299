#include "skiff/engine/container_config.hpp"

#include <fmt/format.h>

#include "skiff/store/record.hpp"
#include "skiff/util/error.hpp"

namespace skiff::engine {

namespace {

using nlohmann::json;

constexpr const char* kSeccompAnnotation = "io.skiff.seccomp";  // "default", "unconfined" or the profile's file
constexpr const char* kHomeAnnotation = "io.skiff.home";        // "user": HOME is the user's passwd entry's

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
  return {{"ociVersion", spec.ociVersion}, {"process", std::move(process)}, {"annotations", std::move(annotations)}};
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
