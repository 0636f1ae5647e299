// What every command gets: the global options and where its exit code goes.
#pragma once

#include <string>

#include "skiff/store/paths.hpp"

namespace CLI {
class App;
}

namespace skiff::cli {

struct CliContext {
  std::string root;     // --root
  std::string runroot;  // --runroot
  int exit_code = 0;

  store::Paths paths() const { return store::resolve_paths({root, runroot}); }
};

void add_run_command(CLI::App& parent, CliContext& ctx);
void add_exec_command(CLI::App& app, CliContext& ctx);
void add_image_commands(CLI::App& app, CliContext& ctx);
void add_container_commands(CLI::App& app, CliContext& ctx);
// start, restart, stop, kill, wait, logs; and the same under `container`.
void add_lifecycle_commands(CLI::App& app, CliContext& ctx);
void add_container_lifecycle(CLI::App& container, CliContext& ctx);
void add_system_commands(CLI::App& app, CliContext& ctx);
void add_registry_commands(CLI::App& app, CliContext& ctx);
void add_image_registry_commands(CLI::App& image, CliContext& ctx);
// After the image and container commands: adds to them.
void add_build_commands(CLI::App& app, CliContext& ctx);
// top, pause, unpause; after the container commands: adds to them.
void add_top_commands(CLI::App& app, CliContext& ctx);
void add_port_commands(CLI::App& app, CliContext& ctx);
// cp; after the container commands: adds container cp.
void add_cp_commands(CLI::App& app, CliContext& ctx);
// inspect; after the image and container commands: adds their inspect.
void add_inspect_commands(CLI::App& app, CliContext& ctx);
// save, load, export; after the image and container commands: adds to them.
void add_archive_commands(CLI::App& app, CliContext& ctx);

}  // namespace skiff::cli
