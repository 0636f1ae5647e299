// skiff info, version, unshare, system reset.
#include <fmt/ranges.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "cli_context.hpp"
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

void print_maps(const char* name, const std::vector<runtime::IdMapping>& maps) {
  fmt::print("    {}:\n", name);
  for (const auto& m : maps)
    fmt::print("    - container_id: {}\n      host_id: {}\n      size: {}\n", m.containerID, m.hostID, m.size);
}

void configure_info(CLI::App* cmd, CliContext& ctx) {
  cmd->callback([&ctx] {
    auto paths = ctx.paths();
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
    fmt::print("host:\n  arch: {}\n  kernel: {}\n  os: linux\n  hostname: {}\n", u.machine, u.release, u.nodename);
    fmt::print("  rootless: true\n  idMappings:\n    mode: {}\n",
               map.full ? "subordinate ranges (newuidmap/newgidmap)" : "single id (no /etc/subuid range)");
    print_maps("uidmap", map.uids);
    print_maps("gidmap", map.gids);
    fmt::print("  cgroupVersion: {}\n  resourceLimits: {}\n", cg,
               cg == "v2" && access("/sys/fs/cgroup/cgroup.subtree_control", W_OK) == 0
                   ? "unavailable (cgroup v2 is delegated here, but skiff does not set limits yet; --memory, "
                     "--cpus, --pids-limit fail)"
                   : "unavailable (needs cgroup v2 with delegation; --memory, --cpus, --pids-limit fail)");
    // What a container gets unless skiff run's flags say otherwise.
    fmt::print(
        "  security:\n    capabilities: {}\n    seccompProfile: default (docker's and podman's rules; "
        "seccomp=unconfined and --privileged load none)\n",
        fmt::join(runtime::default_capabilities(), ","));
    fmt::print("store:\n  graphRoot: {}\n  runRoot: {}\n  graphDriverName: {}\n", paths.root.string(),
               paths.runroot.string(), storage::driver_name(storage.driver));
    fmt::print("  imageStore:\n    number: {}\n  containerStore:\n    number: {}\n    running: {}\n",
               images.list().size(), all.size(), running);
    fmt::print("network:\n  default: host\n  modes: [none, host]\n");
    fmt::print("version:\n  version: {}\n", SKIFF_VERSION);
  });
}

void configure_version(CLI::App* cmd, CliContext&) {
  cmd->callback([] {
    utsname u{};
    uname(&u);
    std::string arch = std::string(u.machine) == "x86_64" ? "amd64" : u.machine;
    fmt::print("Version:      {}\nBuilt:        {} {}\nOS/Arch:      linux/{}\n", SKIFF_VERSION, __DATE__, __TIME__,
               arch);
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
