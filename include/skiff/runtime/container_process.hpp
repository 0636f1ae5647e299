// Starting a container's process from a runtime spec, and waiting for it.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "skiff/runtime/attach.hpp"
#include "skiff/runtime/container_log.hpp"
#include "skiff/runtime/spec.hpp"
#include "skiff/userns/id_map.hpp"
#include "skiff/util/unique_fd.hpp"

namespace skiff::runtime {

// A running container's first process, a child of this skiff.
class ContainerProcess {
 public:
  ContainerProcess(pid_t pid, UniqueFd userns, UniqueFd pty_master, bool keep_stdin);
  ContainerProcess(ContainerProcess&& o) noexcept
      : pid_(std::exchange(o.pid_, -1)),
        userns_(std::move(o.userns_)),
        pty_(std::move(o.pty_)),
        keep_stdin_(o.keep_stdin_),
        reaped_(o.reaped_),
        interrupted_by_(o.interrupted_by_),
        killed_after_interrupts_(o.killed_after_interrupts_) {}
  ContainerProcess& operator=(ContainerProcess&&) = delete;
  ~ContainerProcess();

  pid_t pid() const { return pid_; }
  // /proc/PID/ns/user, kept open so skiff can clean up in the namespace after exit.
  int userns_fd() const { return userns_.get(); }

  // Waits for exit, forwarding signals and relaying the terminal. Returns
  // docker's status: the exit code, or 128+N for a death by signal N.
  // With kill_on_interrupt (a build step), SIGINT, SIGTERM, SIGHUP or
  // SIGQUIT kill the container instead, and interrupted_by() tells which.
  int wait(bool kill_on_interrupt = false);
  int interrupted_by() const { return interrupted_by_; }
  // A detached container's wait: its output (the read ends of the pipes its
  // stdout and stderr are, or its terminal, as stdout) goes to log, and the
  // signals skiff gets are passed on. With attach, clients that connect to
  // its socket get the output too, and their input, terminal size and
  // signals reach the container (log_relay.cpp). Returns as wait().
  int wait_logging(UniqueFd out, UniqueFd err, LogWriter& log, const AttachPoint* attach = nullptr);
  // Whether a third SIGINT made wait() kill the container (the runtime says
  // nothing itself; its caller tells the user).
  bool killed_after_interrupts() const { return killed_after_interrupts_; }

 private:
  pid_t pid_;
  UniqueFd userns_;
  UniqueFd pty_;
  bool keep_stdin_;
  bool reaped_ = false;
  int interrupted_by_ = 0;
  bool killed_after_interrupts_ = false;
};

struct LaunchPlan;
class PlanArena;

// What connects a container's network namespace to the outside (pasta,
// slirp4netns: the caller's choice; the runtime knows none of them) before
// its command runs.
class NetworkSetup {
 public:
  virtual ~NetworkSetup() = default;
  // Called once the namespace is final, from the host's namespaces, with the
  // container's user and network namespaces open. ready is the write end of
  // a pipe: the command starts once a byte comes through it, and fails if
  // it closes with none. Throws Error when the helper cannot start.
  virtual void connect(int userns_fd, int netns_fd, UniqueFd ready) = 0;
};

// A container's first process while it is being made, in three steps, so
// that the kernel's part and skiff's own work overlap on the machine's cores:
// - the constructor clones the process into new namespaces (a network
//   namespace alone takes 0.4 ms) and starts writing its id map (newuidmap
//   and newgidmap take 1.5 ms), while skiff reads the image;
// - launch() gives it its plan, built from the spec in memory shared with it;
//   it then builds its root filesystem (it needs the directories the spec
//   names, nothing else skiff writes), while skiff writes its records;
// - finish() waits for its word.
//
// StartMode::kOnLaunch, for a single-id map and no --init, is the other way
// round: nothing happens before launch(), which clones the process with the
// plan ready, sharing skiff's memory while skiff sleeps until the command is
// exec'd (vfork's way: no copy of skiff's memory to make, touch and tear
// down), and the process writes its own id map. The caller writes its
// records before launch().
//
// StartMode::kJoinOnLaunch, for a skiff that runs one container (skiff
// run): as kOnLaunch, but its user, network, uts and ipc namespaces are made
// ahead by a helper while skiff reads the image, and launch() moves skiff
// itself into them for good before it clones the process into its mount and
// pid namespaces (see namespaces_ahead.hpp).
enum class StartMode { kEarlyClone, kOnLaunch, kJoinOnLaunch };

class NamespacesAhead;

class ContainerStart {
 public:
  // dev_staging (kJoinOnLaunch): an empty directory nothing needs (the run
  // root's dev-ahead), where /dev may be built ahead.
  ContainerStart(const std::vector<Namespace>& namespaces, const userns::IdMap& map,
                 StartMode mode = StartMode::kEarlyClone, std::string dev_staging = {});
  // The mode for this map and spec: kOnLaunch where it can be, and
  // kJoinOnLaunch when this skiff runs this one container only.
  // A network helper needs skiff awake between the namespace and the exec:
  // never kOnLaunch then.
  static StartMode best_mode(const userns::IdMap& map, bool init, bool one_container = false,
                             bool network_helper = false);
  ContainerStart(const ContainerStart&) = delete;
  ContainerStart& operator=(const ContainerStart&) = delete;
  ~ContainerStart();  // kills and reaps the process unless finish() handed it over

  // Before launch(): the helper that connects the network namespace (the
  // spec's own, new) before the command runs. Not with kOnLaunch.
  void set_network(NetworkSetup* net) { net_ = net; }
  // The spec must ask for the namespaces given to the constructor.
  void launch(const Spec& spec, bool keep_stdin);
  // Waits until the command is about to be exec'd. Throws Error when a step
  // before exec failed (exit code 126 or 127 when the command cannot be run
  // or found).
  ContainerProcess finish();

 private:
  void say_go();
  void clone_child(bool on_launch);
  void connect_network_early_clone();
  NetworkSetup* net_ = nullptr;
  std::unique_ptr<PlanArena> arena_;
  std::unique_ptr<NamespacesAhead> ahead_;
  int ahead_flags_ = 0;         // the namespaces ahead_ makes
  LaunchPlan* plan_ = nullptr;  // in arena_, once launched
  std::optional<userns::PendingIdMap> id_map_;
  UniqueFd sync_, err_, userns_;
  UniqueFd sync_child_, err_write_;  // the child's ends, until it is cloned
  userns::IdMap map_;
  StartMode mode_;
  pid_t pid_ = -1;
  int clone_flags_ = 0;
  bool keep_stdin_ = false;
  bool go_sent_ = false;
};

// ContainerStart(spec, map, keep_stdin).finish().
ContainerProcess start_container(const Spec& spec, const userns::IdMap& map, bool keep_stdin);

}  // namespace skiff::runtime
