// skiff info, version, unshare, system reset.
#include <fmt/ranges.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli_context.hpp"
#include "go_template.hpp"
#include "skiff/engine/container_store.hpp"
#include "skiff/engine/store_reset.hpp"
#include "skiff/image/image_store.hpp"
#include "skiff/runtime/spec.hpp"
#include "skiff/storage/layer_store.hpp"
#include "skiff/userns/id_map.hpp"
#include "skiff/userns/userns.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"
#include "skiff_version.h"

namespace skiff::cli {

namespace {

std::string cgroup_version() {
  struct statfs sf {};
  if (statfs("/sys/fs/cgroup", &sf) != 0) return "none";
  if (sf.f_type == 0x63677270) return "v2";  // CGROUP2_SUPER_MAGIC
  if (access("/sys/fs/cgroup/unified", F_OK) == 0) return "v1 (hybrid)";
  return "v1";
}

nlohmann::json maps_json(const std::vector<runtime::IdMapping>& maps) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& m : maps) out.push_back({{"container_id", m.containerID}, {"host_id", m.hostID}, {"size", m.size}});
  return out;
}

void print_maps(const char* name, const nlohmann::json& maps) {
  fmt::print("    {}:\n", name);
  for (const auto& m : maps)
    fmt::print("    - container_id: {}\n      host_id: {}\n      size: {}\n", m["container_id"].get<uint32_t>(),
               m["host_id"].get<uint32_t>(), m["size"].get<uint32_t>());
}

// --format for info and version: a template over the object, or "json".
void print_with_format(const std::optional<GoTemplate>& tmpl, const nlohmann::json& object) {
  fmt::print("{}\n", tmpl ? tmpl->render(object) : object.dump());
}

std::optional<GoTemplate> format_template(const std::string& format) {
  if (format.empty() || format == "json") return std::nullopt;
  return GoTemplate(format);
}

// What info shows, as one object: the lines of its default output are its
// fields, under the same names.
nlohmann::json info_json(const store::Paths& paths) {
  utsname u{};
  uname(&u);
  auto map = userns::current_id_map();
  store::ensure_dirs(paths);
  storage::LayerStore layers(paths, map);
  auto storage = layers.storage();
  image::ImageStore images(paths);
  engine::ContainerStore containers(paths);
  auto all = containers.list();
  size_t running = std::count_if(all.begin(), all.end(), [](auto& c) { return c.running; });
  std::string cg = cgroup_version();
  std::string limits = cg == "v2" && access("/sys/fs/cgroup/cgroup.subtree_control", W_OK) == 0
                           ? "unavailable (cgroup v2 is delegated here, but skiff does not set limits yet; --memory, "
                             "--cpus, --pids-limit fail)"
                           : "unavailable (needs cgroup v2 with delegation; --memory, --cpus, --pids-limit fail)";
  // What a container gets unless skiff run's flags say otherwise.
  nlohmann::json security = {
      {"capabilities", fmt::format("{}", fmt::join(runtime::default_capabilities(), ","))},
      {"seccompProfile", "default (docker's and podman's rules; seccomp=unconfined and --privileged load none)"}};
  nlohmann::json host = {
      {"arch", u.machine},
      {"kernel", u.release},
      {"os", "linux"},
      {"hostname", u.nodename},
      {"rootless", true},
      {"idMappings",
       {{"mode", map.full ? "subordinate ranges (newuidmap/newgidmap)" : "single id (no /etc/subuid range)"},
        {"uidmap", maps_json(map.uids)},
        {"gidmap", maps_json(map.gids)}}},
      {"cgroupVersion", cg},
      {"resourceLimits", limits},
      {"security", std::move(security)}};
  nlohmann::json store = {{"graphRoot", paths.root.string()},
                          {"runRoot", paths.runroot.string()},
                          {"graphDriverName", storage::driver_name(storage.driver)},
                          {"imageStore", {{"number", images.list().size()}}},
                          {"containerStore", {{"number", all.size()}, {"running", running}}}};
  return {{"host", std::move(host)},
          {"store", std::move(store)},
          {"network", {{"default", "host"}, {"modes", {"none", "host"}}}},
          {"version", {{"version", SKIFF_VERSION}}}};
}

void configure_info(CLI::App* cmd, CliContext& ctx) {
  auto format = std::make_shared<std::string>();
  cmd->add_option("-f,--format", *format, "Go template over info's fields, or json")
      ->type_name("TEMPLATE")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  cmd->callback([format, &ctx] {
    auto tmpl = format_template(*format);  // a mistake is said before anything
    nlohmann::json info = info_json(ctx.paths());
    if (!format->empty()) {
      print_with_format(tmpl, info);
      return;
    }
    auto text = [](const nlohmann::json& v) { return v.get<std::string>(); };
    const nlohmann::json& h = info["host"];
    fmt::print("host:\n  arch: {}\n  kernel: {}\n  os: linux\n  hostname: {}\n", text(h["arch"]), text(h["kernel"]),
               text(h["hostname"]));
    fmt::print("  rootless: true\n  idMappings:\n    mode: {}\n", text(h["idMappings"]["mode"]));
    print_maps("uidmap", h["idMappings"]["uidmap"]);
    print_maps("gidmap", h["idMappings"]["gidmap"]);
    fmt::print("  cgroupVersion: {}\n  resourceLimits: {}\n", text(h["cgroupVersion"]), text(h["resourceLimits"]));
    fmt::print("  security:\n    capabilities: {}\n    seccompProfile: {}\n", text(h["security"]["capabilities"]),
               text(h["security"]["seccompProfile"]));
    const nlohmann::json& s = info["store"];
    fmt::print("store:\n  graphRoot: {}\n  runRoot: {}\n  graphDriverName: {}\n", text(s["graphRoot"]),
               text(s["runRoot"]), text(s["graphDriverName"]));
    fmt::print("  imageStore:\n    number: {}\n  containerStore:\n    number: {}\n    running: {}\n",
               s["imageStore"]["number"].get<size_t>(), s["containerStore"]["number"].get<size_t>(),
               s["containerStore"]["running"].get<size_t>());
    fmt::print("network:\n  default: host\n  modes: [none, host]\n");
    fmt::print("version:\n  version: {}\n", SKIFF_VERSION);
  });
}

void configure_version(CLI::App* cmd, CliContext&) {
  auto format = std::make_shared<std::string>();
  cmd->add_option("-f,--format", *format, "Go template ({{.Client.Version}}), or json")
      ->type_name("TEMPLATE")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  cmd->callback([format] {
    auto tmpl = format_template(*format);
    utsname u{};
    uname(&u);
    std::string arch = std::string(u.machine) == "x86_64" ? "amd64" : u.machine;
    std::string built = fmt::format("{} {}", __DATE__, __TIME__);
    if (!format->empty()) {
      // docker's Client object; skiff has no server.
      print_with_format(tmpl, {{"Client",
                                {{"Version", SKIFF_VERSION},
                                 {"Built", built},
                                 {"Os", "linux"},
                                 {"Arch", arch},
                                 {"OsArch", "linux/" + arch}}}});
      return;
    }
    fmt::print("Version:      {}\nBuilt:        {}\nOS/Arch:      linux/{}\n", SKIFF_VERSION, built, arch);
  });
}

void configure_unshare(CLI::App* cmd, CliContext& ctx) {
  auto args = std::make_shared<std::vector<std::string>>();
  cmd->positionals_at_end();
  cmd->add_option("command", *args, "COMMAND [ARG...] (default: $SHELL)");
  cmd->callback([args, &ctx] {
    auto paths = ctx.paths();
    std::vector<std::string> argv = *args;
    if (argv.empty()) {
      const char* shell = getenv("SHELL");
      argv.push_back(shell && *shell ? shell : "/bin/sh");
    }
    ctx.exit_code = userns::exec_in_userns(userns::current_id_map(), argv,
                                           {"_CONTAINERS_USERNS_CONFIGURED=done", "SKIFF_ROOT=" + paths.root.string(),
                                            "SKIFF_RUNROOT=" + paths.runroot.string()});
  });
}

void configure_reset(CLI::App* cmd, CliContext& ctx) {
  auto force = std::make_shared<bool>(false);
  cmd->add_flag("-f,--force", *force, "do not ask for confirmation");
  cmd->callback([force, &ctx] {
    auto paths = ctx.paths();
    if (!*force) {
      fmt::print(
          "WARNING! This will remove all containers and images, and the store in\n  {}\n  {}\n"
          "Are you sure you want to continue? [y/N] ",
          paths.root.string(), paths.runroot.string());
      fflush(stdout);
      std::string answer;
      if (!std::getline(std::cin, answer) || (answer != "y" && answer != "Y" && answer != "yes")) return;
    }
    engine::reset_store(paths);
  });
}

}  // namespace

void add_system_commands(CLI::App& app, CliContext& ctx) {
  configure_info(app.add_subcommand("info", "show how skiff runs on this host"), ctx);
  configure_version(app.add_subcommand("version", "show skiff's version"), ctx);
  configure_unshare(app.add_subcommand("unshare", "run a command in skiff's user namespace"), ctx);
  auto* system = app.add_subcommand("system", "manage skiff's storage");
  system->require_subcommand(1);
  configure_reset(system->add_subcommand("reset", "remove all containers, images and storage"), ctx);
}

}  // namespace skiff::cli
