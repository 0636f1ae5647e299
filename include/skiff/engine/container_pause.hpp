// Stopping every process of a running container for a while (commit's
// --pause), without a cgroup freezer; and docker's pause and unpause, which
// need one.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "skiff/store/paths.hpp"

namespace skiff::engine {

// Sends SIGSTOP to every process in the pid namespace of init_pid (the
// container's first process) and waits until each is stopped; the
// destructor sends SIGCONT. An unprivileged user has no freezer cgroup of
// its own on most machines, but owns the container's user namespace and so
// may signal every process in it. Processes that fork while the container
// is being stopped are found by scanning /proc again until a scan finds no
// process left running.
class ContainerPause {
 public:
  explicit ContainerPause(pid_t init_pid);
  ~ContainerPause();
  ContainerPause(const ContainerPause&) = delete;
  ContainerPause& operator=(const ContainerPause&) = delete;

  // How many processes were stopped.
  size_t stopped() const { return stopped_.size(); }

 private:
  std::vector<pid_t> stopped_;
};

// docker pause: throws "container KEY is not running" when it is not, else
// why skiff cannot pause it (no cgroup of its own, so no freezer); nothing
// is changed.
void pause_container(const store::Paths& paths, const std::string& key);
// docker unpause: throws that the container is not paused (skiff never
// pauses one), or that there is no such container.
void unpause_container(const store::Paths& paths, const std::string& key);

}  // namespace skiff::engine
