// `skiff exec`: another process in a running container.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "skiff/store/paths.hpp"

namespace skiff::engine {

struct ExecOptions {
  std::string container;  // name, id or id prefix
  std::vector<std::string> args;
  std::vector<std::string> env;        // -e and --env-file, NAME=VALUE, after the container's
  std::optional<std::string> user;     // -u: name, uid, name:group, uid:gid
  std::optional<std::string> workdir;  // -w, absolute
  bool interactive = false;            // -i
  bool tty = false;                    // -t
  bool detach = false;                 // -d
  bool privileged = false;             // every capability of the namespace, no seccomp filter
};

// Runs opts.args in the container as docker exec does: the container's
// user, environment, working directory and confinement unless opts say
// otherwise. Returns the command's status (126: it cannot be run, 127: not
// found); with detach, 0 once it runs. Throws Error "container X is not
// running" when it is not.
int exec_in_container(const store::Paths& paths, const ExecOptions& opts);

}  // namespace skiff::engine
