// The processes of a running container, as the host sees them (top): every
// process in the pid namespace of the container's first process.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "skiff/store/paths.hpp"

namespace skiff::engine {

// A pid namespace, as stat() of /proc/PID/ns/pid names it (nsfs: the inode
// is the namespace's, and stays its own while the namespace lives).
struct PidNamespace {
  dev_t dev = 0;
  ino_t ino = 0;
  bool operator==(const PidNamespace&) const = default;
};

// The pid namespace of pid, seen through proc; nullopt when the process is
// gone (or a zombie, which has left its namespaces).
std::optional<PidNamespace> pid_namespace_of(pid_t pid, const std::filesystem::path& proc = "/proc");

// The pids (as proc names them) of every process in ns, ascending. A
// process that ends while proc is read is left out.
std::vector<pid_t> pids_in_namespace(const PidNamespace& ns, const std::filesystem::path& proc = "/proc");

// The host pids of every process of the running container key (name, id or
// id prefix), ascending. Its first process is named by its pid and start
// time: if it has ended and its pid was given to another process since,
// that process's namespace is never taken for the container's. Throws
// "container KEY is not running" when it is not.
std::vector<pid_t> container_pids(const store::Paths& paths, const std::string& key);

}  // namespace skiff::engine
