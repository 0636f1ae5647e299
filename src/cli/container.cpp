// skiff ps | container ls, rm | container rm, container prune, and the container group.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli_context.hpp"
#include "format_table.hpp"
#include "skiff/engine/container_remove.hpp"
#include "skiff/engine/container_store.hpp"
#include "skiff/util/error.hpp"

namespace skiff::cli {

void add_container_run(CLI::App& container, CliContext& ctx);

namespace {

std::string quote_command(const std::vector<std::string>& args, bool no_trunc) {
  std::string cmd;
  for (const auto& a : args) cmd += (cmd.empty() ? "" : " ") + a;
  if (!no_trunc && cmd.size() > 20) cmd = cmd.substr(0, 19) + "…";
  return "\"" + cmd + "\"";
}

std::string status_text(const engine::ContainerView& v) {
  if (v.running && v.state.started.empty()) return "Created";
  if (v.running) return "Up " + human_duration(time(nullptr) - parse_rfc3339(v.state.started));
  if (v.state.status == engine::ContainerStatus::kExited)
    return fmt::format("Exited ({}) {}", v.state.exit_code, ago(v.state.finished));
  if (v.state.status == engine::ContainerStatus::kRunning) return "Exited (unknown)";  // its skiff was killed
  return "Created";
}

void configure_ps(CLI::App* cmd, CliContext& ctx) {
  struct Flags {
    bool all = false, quiet = false, no_trunc = false;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_flag("-a,--all", f->all, "show all containers (default: running only)");
  cmd->add_flag("-q,--quiet", f->quiet, "only show container IDs");
  cmd->add_flag("--no-trunc", f->no_trunc, "do not truncate output");
  cmd->callback([f, &ctx] {
    auto paths = ctx.paths();
    std::vector<engine::ContainerView> views = engine::ContainerStore(paths).list();
    engine::remove_left_by_killed_runs(paths, views);  // --rm was asked of them
    Table table({"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"});
    for (const auto& v : views) {
      if (!f->all && !v.running) continue;
      std::string id = f->no_trunc ? v.record.id : v.record.id.substr(0, 12);
      if (f->quiet) {
        fmt::print("{}\n", id);
        continue;
      }
      table.add({id, v.record.image, quote_command(v.record.command, f->no_trunc), ago(v.record.created),
                 status_text(v), "", v.record.name});
    }
    if (!f->quiet) table.print();
  });
}

void configure_rm(CLI::App* cmd, CliContext& ctx) {
  struct Flags {
    bool force = false;
    std::vector<std::string> names;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_flag("-f,--force", f->force, "kill and remove a running container");
  cmd->add_option("containers", f->names, "CONTAINER...")->required();
  cmd->callback([f, &ctx] {
    auto paths = ctx.paths();
    int failures = 0;
    for (const auto& n : f->names) {
      try {
        engine::remove_container(paths, n, f->force);
        fmt::print("{}\n", n);
      } catch (const Error& e) {
        fmt::print(stderr, "skiff: {}\n", e.what());
        ++failures;
      }
    }
    if (failures) ctx.exit_code = kExitSkiffError;
  });
}

void configure_prune(CLI::App* cmd, CliContext& ctx) {
  auto force = std::make_shared<bool>(false);
  cmd->add_flag("-f,--force", *force, "do not prompt for confirmation");
  cmd->callback([force, &ctx] {
    if (!*force) {
      fmt::print("WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ");
      std::fflush(stdout);
      char answer[16] = {};
      if (!std::fgets(answer, sizeof answer, stdin) || (answer[0] != 'y' && answer[0] != 'Y')) return;
    }
    engine::PruneResult result = engine::prune_containers(ctx.paths());
    if (!result.removed.empty()) {
      fmt::print("Deleted Containers:\n");
      for (const auto& id : result.removed) fmt::print("{}\n", id);
      fmt::print("\n");
    }
    fmt::print("Total reclaimed space: {}\n", human_size(result.reclaimed));
  });
}

}  // namespace

void add_container_commands(CLI::App& app, CliContext& ctx) {
  configure_ps(app.add_subcommand("ps", "list containers"), ctx);
  configure_rm(app.add_subcommand("rm", "remove containers"), ctx);
  auto* container = app.add_subcommand("container", "manage containers");
  container->require_subcommand(1);
  configure_ps(container->add_subcommand("ls", "list containers")->alias("list")->alias("ps"), ctx);
  configure_rm(container->add_subcommand("rm", "remove containers"), ctx);
  configure_prune(container->add_subcommand("prune", "remove all stopped containers"), ctx);
  add_container_run(*container, ctx);
  add_container_lifecycle(*container, ctx);
}

}  // namespace skiff::cli
