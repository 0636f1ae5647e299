// Running another process in a running container (exec): the namespaces of
// the container's first process joined, the same confinement as it had.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "skiff/runtime/spec.hpp"
#include "skiff/util/unique_fd.hpp"

namespace skiff::runtime {

// A running container's first process, pinned by a pidfd: its /proc
// directory, root and namespaces are opened while the pidfd shows that the
// process that had the pid then lives still, so a pid the kernel gave to
// another process since is never joined.
class ContainerJoin {
 public:
  // nullopt when pid is gone (or a zombie), did not start at start_time
  // (clock ticks since boot, as ProcessRef keeps it; 0: unknown) or is not
  // a child of parent (the skiff that started the container, or its
  // monitor): the container is not running. Throws Error when /proc cannot
  // be read.
  static std::optional<ContainerJoin> open(pid_t pid, uint64_t start_time, pid_t parent);

  pid_t pid() const { return pid_; }
  // The container's root directory (/proc/PID/root, O_PATH): open files in
  // it with RESOLVE_IN_ROOT.
  int root_fd() const { return root_.get(); }
  // Its user namespace (/proc/PID/ns/user), for skiff's own code to join
  // (userns::run_in_existing_userns): cp works in it.
  int userns_fd() const { return userns_.get(); }
  // Whether the user namespace allows setgroups (a full id map does; the
  // single-id map written by an unprivileged process denies it).
  bool setgroups_allowed() const { return setgroups_allowed_; }
  // Whether an id is mapped in the container's user namespace.
  bool maps_uid(uint32_t id) const { return maps(uid_map_, id); }
  bool maps_gid(uint32_t id) const { return maps(gid_map_, id); }

 private:
  friend int exec_process(ContainerJoin& join, const Spec& spec, bool keep_stdin, bool detach);
  using Ranges = std::vector<std::pair<uint32_t, uint32_t>>;  // first id inside, count
  static bool maps(const Ranges& r, uint32_t id);
  pid_t pid_ = -1;
  UniqueFd pidfd_, root_, userns_;
  // The namespaces it does not share with this process, user first and pid
  // last: (CLONE_NEW* flag, nsfs fd).
  std::vector<std::pair<int, UniqueFd>> namespaces_;
  bool setgroups_allowed_ = false;
  Ranges uid_map_, gid_map_;
};

// Runs spec.process (args, env, cwd resolved inside the container's root,
// user, rlimits, capabilities, noNewPrivileges) in join's namespaces, with
// spec.seccomp_program installed. This process joins the namespaces for
// good (all but the pid one, which its children enter): call it last.
// Signals are forwarded and a terminal (process.terminal) relayed as for
// run. Returns docker's status (the exit code, 128+N for signal N). With
// detach, returns 0 once the command is exec'd: a process of skiff's stays
// outside the container as its parent to reap it, and exits with it.
// Throws Error as ContainerStart::finish does (126, 127 for the command).
int exec_process(ContainerJoin& join, const Spec& spec, bool keep_stdin, bool detach);

}  // namespace skiff::runtime
