// A Spec turned into plain C data that the forked child can act on without
// allocating: the child runs between clone() and execve(). All of it lives in
// one memory resource, so that it can be built in memory shared with a child
// that was cloned before the plan was known.
#pragma once

#include <linux/filter.h>
#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <memory_resource>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "child_steps.hpp"
#include "skiff/runtime/spec.hpp"

namespace skiff::runtime {

struct MountOp {
  enum class Kind : uint8_t {
    kMount,     // mount(source, target, fstype, flags, data)
    kBind,      // bind source (a host path) onto target
    kSymlink,   // symlink target -> source
    kMask,      // hide target (tmpfs over a directory, /dev/null over a file)
    kReadonly,  // bind target onto itself read-only
    kData,      // a file holding source (data_size bytes), made on the /dev tmpfs, bound onto target
  };
  Kind kind = Kind::kMount;
  const char* source = nullptr;
  const char* target = nullptr;  // inside the container, absolute
  const char* fstype = nullptr;
  unsigned long flags = 0;
  const char* data = nullptr;
  size_t data_size = 0;        // kData: the length of source
  bool file = false;           // target is a file (binding a file)
  bool readonly = false;       // remount read-only after binding
  bool recursive = true;       // rbind
  bool bind_fallback = false;  // if the mount fails, rbind the host's target path instead (sysfs)
};

// One linux.sysctl entry: the file under the container's /proc and what goes in it.
struct SysctlOp {
  const char* key = nullptr;    // "kernel.shm_rmid_forced", for messages
  const char* path = nullptr;   // "sys/kernel/shm_rmid_forced", relative to /proc
  const char* value = nullptr;  // written whole, in one write()
  bool net = false;             // a net.* key: the container's network namespace must be joined first
};

// One process.rlimits entry, as setrlimit() takes it.
struct RlimitOp {
  const char* type = nullptr;  // "RLIMIT_NOFILE", for messages
  int resource = 0;
  uint64_t soft = 0;
  uint64_t hard = 0;
};

struct LaunchPlan;
// Where the plan's mounts are the default /dev of dev_defaults.hpp (the
// tmpfs, its nodes and links, devpts, shm, mqueue), in that order: the
// indexes of the first and the last.
std::optional<std::pair<int, int>> default_dev_range(const LaunchPlan& plan);

// A network namespace still being made by a helper (NamespacesAhead) when
// the child is cloned: the child joins it when it needs it, once the helper
// is gone (the kernel zeroes *helper_tid), through /proc/OWNER/fd/FD (the
// helper opened it into skiff's file table).
struct PendingNet {
  const volatile pid_t* helper_tid = nullptr;  // null: nothing pending
  const int* fd = nullptr;
  const int* err = nullptr;  // the helper's failure, if any
  const ChildStep* step = nullptr;
  pid_t owner = 0;
};

struct LaunchPlan {
  explicit LaunchPlan(std::pmr::memory_resource* mr)
      : strings(mr), vectors(mr), mounts(mr), sysctls(mr), groups(mr), rlimits(mr), seccomp(mr), seccomp_fake_ids(mr) {}

  std::pmr::deque<std::pmr::string> strings;  // owns every const char* below (stable addresses)
  std::pmr::vector<std::pmr::vector<char*>> vectors;

  int clone_flags = 0;
  // The single-id map the child writes itself (StartMode::kOnLaunch), else null.
  const char* uid_map = nullptr;
  const char* gid_map = nullptr;
  PendingNet pending_net;  // the network namespace to join, when made apart
  // A network helper connects the namespace before the command runs: the
  // process waits for a byte on net_ready_fd, or (net_handshake) says 'N'
  // on the sync socket and waits for the byte there.
  int net_ready_fd = -1;
  bool net_handshake = false;
  int mount_ns = -1;  // the mount namespace to join (made ahead), else one comes with the clone
  // The default /dev (mounts[dev_first..dev_last]), built ahead in that
  // namespace by the helper at dev_staging: moved into place when
  // *dev_state says 1 (2: failed, the process builds it itself; 0: not yet,
  // while *helper_tid is not 0).
  struct DevAhead {
    const char* staging = nullptr;  // null: none
    int first = -1, last = -1;
    const int* state = nullptr;
    const volatile pid_t* helper_tid = nullptr;
  } dev_ahead;
  const char* rootfs = nullptr;  // host path where the rootfs is mounted
  RootfsLayers::Driver driver = RootfsLayers::Driver::kOverlay;
  bool has_layers = false;
  const char* layers_dir = nullptr;
  const char* overlay_data = nullptr;
  char* const* fuse_argv = nullptr;
  bool readonly_root = false;
  std::pmr::vector<MountOp> mounts;
  const char* hostname = nullptr;
  // linux.sysctl, written right after mounts[sysctl_after] (the container's
  // /proc) is mounted: before the read-only /proc/sys goes over it.
  std::pmr::vector<SysctlOp> sysctls;
  int sysctl_after = -1;

  char* const* argv = nullptr;
  char* const* envp = nullptr;
  const char* path_env = nullptr;  // the container's PATH, for the command lookup
  const char* cwd = "/";
  uid_t uid = 0;
  gid_t gid = 0;
  mode_t umask = 022;
  std::pmr::vector<gid_t> groups;
  bool setgroups_allowed = true;
  std::pmr::vector<RlimitOp> rlimits;  // process.rlimits, set before exec
  uint64_t capabilities = 0;           // bit per capability kept
  int last_cap = 40;
  bool no_new_privs = false;
  bool terminal = false;
  bool keep_stdin = false;
  bool init = false;
  int preserve_fds = 0;  // the caller's fds 3 .. 3+N-1 stay open, as they are
  int stdin_fd = -1;     // dup'ed onto 0 when set (Spec::stdin_fd)
  int stdout_fd = -1;    // dup'ed onto 1 and 2 when set (Spec::stdout_fd)
  int stderr_fd = -1;
  // Filters installed before capabilities are dropped: linux.seccomp's
  // program, and Spec::fake_id_calls's.
  std::pmr::vector<sock_filter> seccomp;
  std::pmr::vector<sock_filter> seccomp_fake_ids;
  // Signals skiff ignores (so the child would too, exec or not): the command
  // gets them back at their default. Handled ones are reset by exec itself.
  sigset_t ignored_signals{};

  const char* keep(std::string_view s) { return strings.emplace_back(s).c_str(); }
  char* const* keep_argv(const std::vector<std::string>& v);
};

// The clone() flags for these namespaces (user and mount always).
int namespace_clone_flags(const std::vector<Namespace>& namespaces);

// Fills plan (freshly made) from spec; throws Error for specs skiff cannot honour.
void fill_launch_plan(LaunchPlan& plan, const Spec& spec, bool full_id_map, bool keep_stdin);
// The process part of fill_launch_plan: command, environment, working
// directory, user, limits, capabilities, seccomp, terminal. What exec needs.
// setgroups_allowed: the user namespace allows setgroups (a full id map).
void fill_process_plan(LaunchPlan& plan, const Spec& spec, bool setgroups_allowed, bool keep_stdin);

}  // namespace skiff::runtime
