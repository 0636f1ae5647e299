#include "namespaces_ahead.hpp"

#include <fcntl.h>
#include <linux/futex.h>
#include <linux/sockios.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "child_steps.hpp"
#include "dev_defaults.hpp"
#include "raw_syscall.hpp"
#include "skiff/util/error.hpp"

namespace skiff::runtime {

namespace {

// The namespaces the helper makes, in the order they are joined (the user
// namespace first: it grants the right to join the others).
struct Kind {
  int flag;
  const char* file;
  const char* name;
};
constexpr Kind kKinds[] = {
    {CLONE_NEWUSER, "/proc/self/ns/user", "user"},
    {CLONE_NEWUTS, "/proc/self/ns/uts", "uts"},
    {CLONE_NEWIPC, "/proc/self/ns/ipc", "ipc"},
    {CLONE_NEWNS, "/proc/self/ns/mnt", "mount"},  // not joined by skiff: the container's process joins it
    {CLONE_NEWNET, nullptr, "network"},           // opened through a socket (see make_net)
};
constexpr int kKindCount = sizeof kKinds / sizeof kKinds[0];
constexpr int kMount = kKindCount - 2;
constexpr int kNet = kKindCount - 1;

}  // namespace

// Everything the helper reads and writes, apart from skiff's own data.
struct NamespacesAhead::Shared {
  alignas(64) char stack[16384];
  volatile pid_t tid = -1;      // the kernel zeroes it and wakes the futex when the helper is gone
  volatile int first_done = 0;  // 1 once the user, uts and ipc namespaces are there (or failed)
  int mount_done = 0;           // 1 once the mount namespace is there (atomic: it publishes fds[kMount])
  int dev_state = 0;            // the default /dev at dev_staging: 1 built, 2 not (atomic, futex)
  std::string dev_staging;      // empty: not asked for
  int flags = 0;
  std::string uid_map, gid_map;
  cpu_set_t cpus{};  // where it moves first
  bool move = false;
  int fds[kKindCount] = {-1, -1, -1, -1, -1};  // in skiff's file table
  int err = 0;                                 // of the first namespaces
  ChildStep step = ChildStep::kNamespaces;
  int net_err = 0;  // of the network namespace
  ChildStep net_step = ChildStep::kNamespaces;
};

namespace {

#ifdef SKIFF_RAW_SYSCALLS
long write_proc_self(const char* file, const std::string& text) {
  long fd = raw_syscall(SYS_openat, AT_FDCWD, reinterpret_cast<long>(file), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return fd;
  long n = raw_syscall(SYS_write, fd, reinterpret_cast<long>(text.data()), static_cast<long>(text.size()));
  raw_syscall(SYS_close, fd);
  return n < 0 ? n : n == static_cast<long>(text.size()) ? 0 : -EIO;
}

// Opens the namespace files of the kinds in flags; 0 or -errno.
long open_namespaces(NamespacesAhead::Shared& s, int flags) {
  for (int i = 0; i < kKindCount; ++i) {
    if (!(flags & kKinds[i].flag)) continue;
    long r = raw_syscall(SYS_openat, AT_FDCWD, reinterpret_cast<long>(kKinds[i].file), O_RDONLY | O_CLOEXEC);
    if (r < 0) return r;
    s.fds[i] = static_cast<int>(r);
  }
  return 0;
}

long make_first(NamespacesAhead::Shared& s) {
  int flags = s.flags & ~(CLONE_NEWNET | CLONE_NEWNS);
  long r = raw_syscall(SYS_unshare, flags);
  if (r < 0) return r;
  s.step = ChildStep::kIdMap;
  r = write_proc_self("/proc/self/setgroups", "deny");
  if (r == 0) r = write_proc_self("/proc/self/uid_map", s.uid_map);
  if (r == 0) r = write_proc_self("/proc/self/gid_map", s.gid_map);
  if (r < 0) return r;
  s.step = ChildStep::kNamespaces;
  return open_namespaces(s, flags);
}

long make_net(NamespacesAhead::Shared& s) {
  long r = raw_syscall(SYS_unshare, CLONE_NEWNET);
  if (r < 0) return r;
  s.net_step = ChildStep::kLoopback;
  long sock = raw_syscall(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return sock;
  r = loopback_up(static_cast<int>(sock), [](int fd, unsigned long req, ifreq* ifr) {
    return raw_syscall(SYS_ioctl, fd, static_cast<long>(req), reinterpret_cast<long>(ifr));
  });
  if (r >= 0) {
    // Not /proc/self/ns/net: the container's process may have moved this
    // helper's root by then (pivot_root in the mount namespace made here).
    r = raw_syscall(SYS_ioctl, sock, SIOCGSKNS);
    if (r >= 0) s.fds[kNet] = static_cast<int>(r);
  }
  raw_syscall(SYS_close, sock);
  if (r < 0) return r;
  s.net_step = ChildStep::kNamespaces;
  return 0;
}

// A copy of skiff's mount namespace, owned by the new user namespace, for
// the container's process to join instead of copying one at clone: the
// copy is made here, on the other CPU. Nothing is said when it fails: the
// container's process then makes its own.
void make_mount(NamespacesAhead::Shared& s) {
  if (raw_syscall(SYS_unshare, CLONE_NEWNS) < 0) return;
  if (open_namespaces(s, CLONE_NEWNS) < 0) return;
  __atomic_store_n(&s.mount_done, 1, __ATOMIC_RELEASE);
}

long mount_fs_at(const char* target, const dev_defaults::FileSystem& fs) {
  return raw_syscall5(SYS_mount, reinterpret_cast<long>(fs.source), reinterpret_cast<long>(target),
                      reinterpret_cast<long>(fs.fstype), static_cast<long>(fs.flags), reinterpret_cast<long>(fs.data));
}

// Makes name in dir (a directory, or an empty file) and returns an O_PATH
// fd on it, or -errno.
long make_in(long dir, const char* name, bool file) {
  long r = file ? raw_syscall5(SYS_openat, dir, reinterpret_cast<long>(name), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC,
                               0644, 0)
                : raw_syscall(SYS_mkdirat, dir, reinterpret_cast<long>(name), 0755);
  if (r < 0) return r;
  if (file) raw_syscall(SYS_close, r);
  return raw_syscall5(SYS_openat, dir, reinterpret_cast<long>(name), O_PATH | O_NOFOLLOW | O_CLOEXEC, 0, 0);
}

// The default /dev (dev_defaults.hpp), built on a tmpfs mounted at
// dev_staging in the mount namespace made here: what the container's
// process would otherwise mount one by one, made on this CPU meanwhile.
// The same calls the process makes, in its order; 0 or -errno.
long build_dev(const char* staging) {
  using namespace dev_defaults;
  long r = mount_fs_at(staging, kDev);
  if (r < 0) return r;
  long dir = raw_syscall(SYS_openat, AT_FDCWD, reinterpret_cast<long>(staging), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return dir;
  char path[40];
  char source[32];
  for (const char* node : kNodes) {
    long f = make_in(dir, node, true);
    if (f < 0) return f;
    memcpy(source, "/dev/", 5);
    size_t n = strlen(node);
    memcpy(source + 5, node, n + 1);
    r = raw_syscall5(SYS_mount, reinterpret_cast<long>(source), reinterpret_cast<long>(fd_path(path, sizeof path, f)),
                     0, MS_BIND, 0);
    raw_syscall(SYS_close, f);
    if (r < 0) return r;
  }
  for (const auto& link : kLinks)
    if ((r = raw_syscall(SYS_symlinkat, reinterpret_cast<long>(link.to), dir, reinterpret_cast<long>(link.name))) < 0)
      return r;
  for (const auto& fs : kInside) {
    long d = make_in(dir, fs.name, false);
    if (d < 0) return d;
    r = mount_fs_at(fd_path(path, sizeof path, d), fs);
    raw_syscall(SYS_close, d);
    if (r < 0) return r;
  }
  raw_syscall(SYS_close, dir);
  return 0;
}

int helper_main(void* arg) {
  auto& s = *static_cast<NamespacesAhead::Shared*>(arg);
  if (s.move) move_to(0, &s.cpus);
  long r = make_first(s);
  if (r < 0) s.err = static_cast<int>(-r);
  s.first_done = 1;
  raw_syscall(SYS_futex, reinterpret_cast<long>(&s.first_done), FUTEX_WAKE, 1);
  if (r < 0) return 0;
  if (s.flags & CLONE_NEWNS) make_mount(s);
  if (!s.dev_staging.empty()) {
    int state = s.mount_done && build_dev(s.dev_staging.c_str()) == 0 ? 1 : 2;
    // What a failure left mounted there goes (nothing else is: the
    // container's process builds /dev itself then).
    if (state == 2 && s.mount_done) raw_syscall(SYS_umount2, reinterpret_cast<long>(s.dev_staging.c_str()), MNT_DETACH);
    __atomic_store_n(&s.dev_state, state, __ATOMIC_RELEASE);
    raw_syscall(SYS_futex, reinterpret_cast<long>(&s.dev_state), FUTEX_WAKE, 0x7fffffff);
  }
  if (!(s.flags & CLONE_NEWNET)) return 0;
  r = make_net(s);
  if (r < 0) s.net_err = static_cast<int>(-r);
  return 0;  // the kernel zeroes tid and wakes whoever waits for it
}
#endif

[[noreturn]] void throw_failure(int err, ChildStep step) {
  if (step == ChildStep::kNamespaces && (err == EPERM || err == ENOSPC)) throw namespaces_error(err);
  throw Error(fmt::format("container set-up failed: {}", child_step_text(step)), err);
}

}  // namespace

int NamespacesAhead::flags_made(int clone_flags) {
#ifdef SKIFF_RAW_SYSCALLS
  return clone_flags & (CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNS);
#else
  (void)clone_flags;
  return 0;  // no helper without raw system calls
#endif
}

NamespacesAhead::NamespacesAhead(int ns_flags, std::string uid_map, std::string gid_map, std::string dev_staging)
    : shared_(std::make_unique<Shared>()) {
  Shared& s = *shared_;
  s.flags = ns_flags;
  if (ns_flags & CLONE_NEWNS) s.dev_staging = std::move(dev_staging);
  s.uid_map = std::move(uid_map);
  s.gid_map = std::move(gid_map);
  s.move = other_cpus(&s.cpus);
#ifdef SKIFF_RAW_SYSCALLS
  // The helper makes the namespaces with unshare(), not with clone(): the
  // kernel makes them in the caller. No exit signal: skiff reaps it with
  // __WCLONE (a SIGCHLD would wake the wait for the container).
  int flags = CLONE_VM | CLONE_FILES | CLONE_CHILD_CLEARTID;
  pid_ = clone(helper_main, s.stack + sizeof s.stack, flags, &s, nullptr, nullptr, const_cast<pid_t*>(&s.tid));
  if (pid_ < 0) throw_errno("start a process to make the container's namespaces");
  if (s.move) move_to(pid_, &s.cpus);
#else
  throw Error("skiff cannot make namespaces ahead on this architecture");
#endif
}

void NamespacesAhead::reap() {
  if (pid_ < 0) return;
  wait_until_gone(shared_->tid);
  int st;
  while (waitpid(pid_, &st, __WCLONE) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

NamespacesAhead::~NamespacesAhead() {
  reap();
  for (int fd : shared_->fds)
    if (fd >= 0) close(fd);
}

UniqueFd NamespacesAhead::join() {
  Shared& s = *shared_;
  // (Rechecked now and then: a helper killed from outside never says.)
  timespec tick{0, 10'000'000};
  while (s.first_done == 0 && s.tid != 0) syscall(SYS_futex, &s.first_done, FUTEX_WAIT, 0, &tick, nullptr, 0);
  if (s.first_done == 0) throw Error("the process making the container's namespaces died");
  if (s.err != 0) throw_failure(s.err, s.step);
  bool net_ready = s.tid == 0;
  if (net_ready) reap();
  if (net_ready && s.net_err != 0) throw_failure(s.net_err, s.net_step);
  UniqueFd user;
  for (int i = 0; i < kKindCount; ++i) {
    if (s.fds[i] < 0 || i == kMount || (i == kNet && !net_ready)) continue;
    UniqueFd fd(std::exchange(s.fds[i], -1));
    if (setns(fd.get(), kKinds[i].flag) != 0)
      throw_errno(fmt::format("join the container's {} namespace", kKinds[i].name));
    if (kKinds[i].flag == CLONE_NEWUSER) user = std::move(fd);
  }
  net_pending_ = !net_ready && (s.flags & CLONE_NEWNET);
  return user;
}

std::pair<int, int> NamespacesAhead::wait_for_net() {
  Shared& s = *shared_;
  reap();
  if (s.first_done == 0) throw Error("the process making the container's namespaces died");
  if (s.err != 0) throw_failure(s.err, s.step);
  if (s.net_err != 0) throw_failure(s.net_err, s.net_step);
  int user = -1;
  for (int i = 0; i < kKindCount; ++i)
    if (kKinds[i].flag == CLONE_NEWUSER) user = s.fds[i];
  if (user < 0 || s.fds[kNet] < 0) throw Error("the container's network namespace was not made");
  return {user, s.fds[kNet]};
}

int NamespacesAhead::mount_namespace() const {
  return __atomic_load_n(&shared_->mount_done, __ATOMIC_ACQUIRE) ? shared_->fds[kMount] : -1;
}

LaunchPlan::DevAhead NamespacesAhead::dev_ahead(const LaunchPlan& plan) const {
  const Shared& s = *shared_;
  if (s.dev_staging.empty() || mount_namespace() < 0) return {};
  auto range = default_dev_range(plan);
  if (!range) return {};
  return {s.dev_staging.c_str(), range->first, range->second, &s.dev_state, &s.tid};
}

PendingNet NamespacesAhead::pending_net() const {
  if (!net_pending_) return {};
  const Shared& s = *shared_;
  return {&s.tid, &s.fds[kNet], &s.net_err, &s.net_step, getpid()};
}

}  // namespace skiff::runtime
