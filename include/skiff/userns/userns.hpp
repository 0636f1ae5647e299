// Running skiff's own code inside a user namespace with the caller's map.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "skiff/userns/id_map.hpp"

namespace skiff::userns {

// Forks a child that joins a new user namespace (and a mount namespace when
// with_mount_ns) with map, runs fn there as root of the namespace and exits.
// An Error thrown by fn is rethrown in the caller with the same message. The
// child is a fork, not an exec: fn may use everything skiff has.
void run_in_userns(const IdMap& map, const std::function<void()>& fn, bool with_mount_ns = false);

// A child started by start_in_userns, running while the caller goes on.
class UsernsTask {
 public:
  UsernsTask(int pid, int err_fd) : pid_(pid), err_fd_(err_fd) {}
  UsernsTask(UsernsTask&& o) noexcept : pid_(o.pid_), err_fd_(o.err_fd_) { o.pid_ = -1, o.err_fd_ = -1; }
  UsernsTask& operator=(UsernsTask&&) = delete;
  // A task nobody waited for is killed and reaped.
  ~UsernsTask();
  // Waits for fn to end; rethrows its error (as an Error with its message).
  void wait();

 private:
  int pid_;
  int err_fd_;
};

// As run_in_userns, but returns at once. The child dies with its parent.
UsernsTask start_in_userns(const IdMap& map, const std::function<void()>& fn);

// As run_in_userns, but joins the existing user namespace of an open
// /proc/PID/ns/user file instead of making one (no id-map helpers to run).
void run_in_existing_userns(int userns_fd, const std::function<void()>& fn);

// Replaces the process with args run in a new user+mount namespace with the
// caller's map (skiff unshare). Returns the command's exit status.
int exec_in_userns(const IdMap& map, const std::vector<std::string>& args, const std::vector<std::string>& extra_env);

}  // namespace skiff::userns
