// `skiff run`'s flags: one table for CLI11 and for a fast parser of the
// usual command lines. CLI11 builds an object per option, with its names
// checked against every other option's: for run's two dozen flags that is a
// third of a million instructions, a tenth of a container's start. The fast
// parser takes the plain forms; anything else (help, mistakes, rarer
// spellings) it leaves to CLI11, which reports as it always did.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/cli_context.hpp"
#include "skiff/engine/run_options.hpp"

namespace CLI {
class App;
}

namespace skiff::cli {

struct RunFlags {
  engine::RunOptions opts;
  std::vector<std::string> positional;  // IMAGE COMMAND...
  std::vector<std::string> env, env_files, volumes, mounts, tmpfs, cap_add, cap_drop, security_opts, sysctls, ulimits;
  std::string entrypoint;
  bool entrypoint_set = false;
  std::string memory, cpus, pids_limit, preserve_fds, stop_signal, stop_timeout, restart;
  bool create = false;  // skiff create: made, not started
  std::vector<std::string> log_opts, labels, label_files;
  std::vector<std::string> publish, add_hosts;
  std::string network, userns, pull = "missing";  // parsed by run_from_flags
};

// Defines run's flags and IMAGE [COMMAND...] on cmd, parsed into flags.
void add_run_flags(CLI::App* cmd, RunFlags& flags);

// skiff's own options (--root, --runroot, with SKIFF_ROOT and SKIFF_RUNROOT).
void add_global_options(CLI::App& app, CliContext& ctx);

// `skiff [--root DIR] [--runroot DIR] [container] run FLAGS IMAGE [COMMAND...]`
// in the plain forms (--flag VALUE, --flag=VALUE, -f VALUE, -fVALUE, -it),
// each single-valued flag once: the flags, with ctx's options set. nullopt
// for anything else, argv untouched: CLI11 then parses it.
std::optional<RunFlags> parse_run_fast(int argc, char** argv, CliContext& ctx);

// Runs the container the flags ask for; its exit status.
int run_from_flags(RunFlags& flags, CliContext& ctx);

}  // namespace skiff::cli
