// containers/<id>/config.json: what a container's first process was started
// with, in the OCI runtime spec's names (process.user, env, cwd,
// capabilities, noNewPrivileges, rlimits; the seccomp profile as an
// annotation). exec gives its processes the same. It also keeps, for
// inspect, the hostname, root.readonly and the bind mounts (OCI's names)
// and, as io.skiff.* annotations, run's flags that docker's inspect shows.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

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

  // What inspect shows. A config.json written before these were kept has
  // none of them: then they are empty.
  std::string hostname;
  bool readonly_rootfs = false;
  std::vector<VolumeOption> binds;             // -v and --mount type=bind, as given
  std::optional<std::string> user;             // -u as given
  std::optional<std::string> entrypoint;       // --entrypoint as given ("" clears the image's)
  bool open_stdin = false;                     // -i
  bool privileged = false;                     // --privileged
  std::vector<std::string> cap_add, cap_drop;  // as checked (CAP_ names or ALL)
  std::string network;                         // --network: "host" or "none"
  uint64_t log_max_size = 0;                   // --log-opt max-size in bytes; 0: not given
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
