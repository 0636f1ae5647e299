// containers/<id>/config.json: what a container's first process was started
// with, in the OCI runtime spec's names (process.user, env, cwd,
// capabilities, noNewPrivileges, rlimits; the seccomp profile as an
// annotation). exec gives its processes the same.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "skiff/engine/run_options.hpp"
#include "skiff/runtime/spec.hpp"

namespace skiff::engine {

struct ContainerConfig {
  runtime::Process process;
  SeccompMode seccomp = SeccompMode::kDefault;
  std::string seccomp_profile;  // kProfile: the profile's file
  // HOME came from the user's passwd entry (neither the image's Env nor -e
  // set it): exec --user gives that user's home instead.
  bool home_from_user = false;
};

// The config.json of a container started with spec and opts.
nlohmann::json container_config_json(const runtime::Spec& spec, const RunOptions& opts, bool home_from_user);
// Parses config.json; throws Error for one that is not such a file.
ContainerConfig parse_container_config(const nlohmann::json& j);

// Writes container_dir/config.json.
void write_container_config(const std::filesystem::path& container_dir, const nlohmann::json& j);
// Reads it; throws Error when there is none (a container started by an
// older skiff).
ContainerConfig read_container_config(const std::filesystem::path& container_dir);

}  // namespace skiff::engine
