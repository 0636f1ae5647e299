// A container's user namespace and its network, uts and ipc namespaces,
// made ahead of the container while skiff prepares it, for a skiff that runs
// one container and may move into them (skiff run with a single-id map).
//
// A helper process makes them: it shares skiff's memory and file table (raw
// system calls only, on a stack of its own) and works on another CPU. First
// the user, uts and ipc namespaces (tens of microseconds), with its own
// single-id map, then a mount namespace (a copy of skiff's, for the
// container's process to join rather than copy at clone), then the network
// namespace with lo up (0.3 ms of the kernel's work), each opened into the
// shared file table; then it exits.
// join() moves skiff into the first ones, for good (skiff, root of the user
// namespace with one id mapped, can also remove what the container leaves),
// and into the network namespace if it is ready; else the container's
// process joins that one itself when it needs it (see PendingNet).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <utility>

#include "launch_plan.hpp"
#include "skiff/util/unique_fd.hpp"

namespace skiff::runtime {

class NamespacesAhead {
 public:
  // The namespaces of ns_flags (CLONE_NEWUSER, and any of CLONE_NEWNET,
  // CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWNS), with the user namespace's map
  // lines.
  // With dev_staging (an empty directory that nothing needs, such as the
  // run root's dev-ahead), the helper also builds the default /dev there in
  // the mount namespace it makes.
  NamespacesAhead(int ns_flags, std::string uid_map, std::string gid_map, std::string dev_staging = {});
  NamespacesAhead(const NamespacesAhead&) = delete;
  NamespacesAhead& operator=(const NamespacesAhead&) = delete;
  ~NamespacesAhead();  // waits for the helper (it never waits for anything itself)

  // The namespaces of clone_flags a helper makes (none where skiff has no
  // raw system calls).
  static int flags_made(int clone_flags);

  // Waits for the user, uts and ipc namespaces and moves this process into
  // them, and into the network namespace if it is there already. Returns the
  // user namespace's file. Throws Error when the helper failed or the kernel
  // refuses.
  UniqueFd join();
  // Before join(): waits until the network namespace is made too. Returns
  // the user and network namespaces (open until join() or destruction).
  // Throws Error as join() does.
  std::pair<int, int> wait_for_net();
  // After join(): the network namespace the container's process is to join,
  // or an empty PendingNet.
  PendingNet pending_net() const;
  // After join(): the mount namespace (a copy of skiff's) the container's
  // process is to join, if it is made already (else -1: the process makes
  // its own at clone). skiff never joins it. Open until destruction.
  int mount_namespace() const;
  // After join(): the default /dev built ahead, for a plan that asks for
  // exactly that one (else empty).
  LaunchPlan::DevAhead dev_ahead(const LaunchPlan& plan) const;

  struct Shared;  // what the helper reads and writes

 private:
  void reap();
  std::unique_ptr<Shared> shared_;
  pid_t pid_ = -1;
  bool net_pending_ = false;
};

}  // namespace skiff::runtime
