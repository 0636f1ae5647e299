// The container's first process, from clone() to execve(). It runs in a copy
// of skiff's memory with no other thread: it must not allocate or throw. Every
// failure is reported as {step, errno} on the error pipe.
#include "container_child.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/futex.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "child_steps.hpp"
#include "launch_plan.hpp"
#include "raw_syscall.hpp"

namespace skiff::runtime {

const char* child_step_text(ChildStep step) {
  switch (step) {
    case ChildStep::kSync:
      return "wait for the id map";
    case ChildStep::kIdMap:
      return "write its id map";
    case ChildStep::kNamespaces:
      return "create the network, ipc and uts namespaces";
    case ChildStep::kMountRootfs:
      return "mount the root filesystem (overlay)";
    case ChildStep::kFuseOverlayfs:
      return "mount the root filesystem (fuse-overlayfs)";
    case ChildStep::kMountTarget:
      return "make a mount point";
    case ChildStep::kMount:
      return "mount";
    case ChildStep::kBind:
      return "bind mount";
    case ChildStep::kData:
      return "write a file in /dev";
    case ChildStep::kSymlink:
      return "make a symlink";
    case ChildStep::kMask:
      return "mask a path";
    case ChildStep::kReadonlyPath:
      return "make a path read-only";
    case ChildStep::kReadonlyRoot:
      return "make the root filesystem read-only";
    case ChildStep::kLoopback:
      return "bring up the loopback interface";
    case ChildStep::kNetwork:
      return "connect its network (the network helper ended before it was ready)";
    case ChildStep::kHostname:
      return "set the hostname";
    case ChildStep::kSysctl:
      return "write sysctl";
    case ChildStep::kRlimit:
      return "set the limit";
    case ChildStep::kPivotRoot:
      return "pivot_root";
    case ChildStep::kTerminal:
      return "set up the terminal";
    case ChildStep::kStdin:
      return "set up standard input and output";
    case ChildStep::kWorkdir:
      return "change to the working directory";
    case ChildStep::kWorkdirOutside:
      return "change to the working directory";
    case ChildStep::kPreserveFds:
      return "keep the file descriptors to preserve";
    case ChildStep::kSetgroups:
      return "set supplementary groups";
    case ChildStep::kSetgid:
      return "set the group id";
    case ChildStep::kSetuid:
      return "set the user id";
    case ChildStep::kCapabilities:
      return "set capabilities";
    case ChildStep::kNoNewPrivs:
      return "set no_new_privs";
    case ChildStep::kSeccomp:
      return "install the seccomp filter";
    case ChildStep::kInit:
      return "start the init process";
    case ChildStep::kExec:
      return "exec";
  }
  return "set up the container";
}

namespace {

int g_err_fd = -1;

[[noreturn]] void fail(ChildStep step, int err, int index = -1) {
  ChildReport r{step, err, index};
  (void)!write(g_err_fd, &r, sizeof r);
  _exit(125);
}

// ---- the network namespace, made by a thread of the child ----------------
//
// Of the namespaces, the network's is by far the dearest to make (0.3-0.5 ms:
// every protocol sets itself up in it). A thread of the child makes it, and
// brings lo up in it, while the child itself goes on; the child joins it when
// it first needs it (sysfs shows the devices of the mounter's namespace) and
// at the latest before pivot_root.
//
// The thread shares the child's memory and thread-local storage (errno among
// them): it makes raw system calls only, which return -errno and touch
// nothing else. Where skiff knows no raw call, the child does it all itself.

#ifdef SKIFF_RAW_SYSCALLS
alignas(64) char g_net_stack[16384];  // the thread's
#endif

struct NetMaker {
  volatile pid_t tid = 0;  // the kernel zeroes it and wakes the futex when the thread is gone
  int sock = -1;           // a socket in the new namespace, which it keeps alive
  int err = 0;
  ChildStep step = ChildStep::kNamespaces;
  bool running = false;
  cpu_set_t cpus{};  // where the thread moves first
  bool move = false;
};
NetMaker g_net;

#ifdef SKIFF_RAW_SYSCALLS
int net_maker_main(void*) {
  if (g_net.move) move_to(0, &g_net.cpus);
  long r = raw_syscall(SYS_unshare, CLONE_NEWNET);
  if (r < 0) {
    g_net.err = static_cast<int>(-r);
    return 0;
  }
  long s = raw_syscall(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  r = s < 0 ? s : loopback_up(static_cast<int>(s), [](int fd, unsigned long req, ifreq* ifr) {
    return raw_syscall(SYS_ioctl, fd, static_cast<long>(req), reinterpret_cast<long>(ifr));
  });
  if (r < 0) {
    g_net.step = ChildStep::kLoopback;
    g_net.err = static_cast<int>(-r);
  }
  g_net.sock = static_cast<int>(s);
  return 0;
}
#endif

// Starts the thread; false if it cannot be (the caller then makes the
// namespace itself).
bool start_net_maker() {
#ifdef SKIFF_RAW_SYSCALLS
  // Not CLONE_FS: the child may unshare its mount namespace again (for
  // fuse-overlayfs), which a shared fs_struct would forbid.
  int flags = CLONE_VM | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | CLONE_PARENT_SETTID |
              CLONE_CHILD_CLEARTID;
  g_net.move = other_cpus(&g_net.cpus);
  pid_t* tid = const_cast<pid_t*>(&g_net.tid);
  if (clone(net_maker_main, g_net_stack + sizeof g_net_stack, flags, nullptr, tid, nullptr, tid) < 0) return false;
  g_net.running = true;
  if (g_net.move) move_to(g_net.tid, &g_net.cpus);
  return true;
#else
  return false;
#endif
}

void make_net_here() {
  if (unshare(CLONE_NEWNET) != 0) fail(ChildStep::kNamespaces, errno);
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) fail(ChildStep::kLoopback, errno);
  long r = loopback_up(
      s, [](int fd, unsigned long req, ifreq* ifr) -> long { return ioctl(fd, req, ifr) == 0 ? 0 : -errno; });
  if (r < 0) fail(ChildStep::kLoopback, static_cast<int>(-r));
  close(s);
}

const PendingNet* g_pending_net = nullptr;

// Waits for NamespacesAhead's helper and moves the child into the network
// namespace it made.
void join_pending_net(const PendingNet& p) {
  wait_until_gone(*p.helper_tid);
  if (*p.err != 0) fail(*p.step, *p.err);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/fd/%d", p.owner, *p.fd);
  int ns = open(path, O_RDONLY | O_CLOEXEC);
  if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) fail(ChildStep::kNamespaces, errno);
  close(ns);
}

// Waits for the thread (or the helper) and moves the child into its
// namespace. Idempotent.
void join_net() {
  if (g_pending_net) {
    join_pending_net(*std::exchange(g_pending_net, nullptr));
    return;
  }
  if (!g_net.running) return;
  g_net.running = false;
  wait_until_gone(g_net.tid);
  if (g_net.err != 0) fail(g_net.step, g_net.err);
  int ns = ioctl(g_net.sock, SIOCGSKNS);
  if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) fail(ChildStep::kNamespaces, errno);
  close(ns);
  close(g_net.sock);
}

int openat2_in_root(int root, const char* path, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(syscall(SYS_openat2, root, path, &how, sizeof how));
}

// The directory the last target was made in, kept open: after the /dev
// tmpfs most targets are made in /dev. A mount on it or above it drops it.
struct DirCache {
  char path[4096];
  int fd = -1;
};
DirCache g_dir;

// The root of the tmpfs shown on masked directories, once there is one.
int g_mask_root = -1;

// A directory inside the container (resolved in the root), opened to make
// things in; borrowed from the cache, not to be closed. -1 with errno set.
int dir_in_root(int root, const char* path) {
  if (g_dir.fd >= 0 && strcmp(g_dir.path, path) == 0) return g_dir.fd;
  size_t len = strlen(path);
  if (len >= sizeof g_dir.path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  int fd = openat2_in_root(root, path, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return -1;
  if (g_dir.fd >= 0) close(g_dir.fd);
  memcpy(g_dir.path, path, len + 1);
  g_dir.fd = fd;
  return fd;
}

// Something is about to be mounted on target: the cached directory goes if
// it is target or below it.
void mounting_on(const char* target) {
  if (g_dir.fd < 0) return;
  size_t n = strlen(target);
  while (n > 1 && target[n - 1] == '/') --n;
  bool covers = (n == 1 && target[0] == '/') ||
                (strncmp(g_dir.path, target, n) == 0 && (g_dir.path[n] == '\0' || g_dir.path[n] == '/'));
  if (!covers) return;
  close(g_dir.fd);
  g_dir.fd = -1;
}

// Makes the last component of path (absolute inside the container) in its
// parent, itself resolved in the root: an empty file when file, else a
// directory. Returns an fd on it (the new file's own, or an O_PATH one on
// the directory), -2 when it existed already, or -1 with errno set (ENOENT
// when the parent is missing too). Nothing runs in the container yet, so the
// name just made is still what was made.
int make_in_parent(int root, char* path, bool file) {
  char* slash = strrchr(path, '/');
  *slash = '\0';
  int parent = dir_in_root(root, slash == path ? "/" : path);
  *slash = '/';
  if (parent < 0) return -1;
  int r;
  if (file) {
    r = openat(parent, slash + 1, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
  } else {
    r = mkdirat(parent, slash + 1, 0755);
    if (r == 0) r = openat(parent, slash + 1, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }
  if (r < 0) return errno == EEXIST ? -2 : -1;
  return r;
}

// Opens target (absolute inside the container), resolving every symlink
// inside the rootfs, so an image cannot redirect a mount onto the host
// (CVE-2019-16884 and kin). Creates missing directories and, when file, the
// last component as an empty file. The fd is an O_PATH one, or the new
// file's own. Returns -1 with errno set.
int open_target(int root, const char* target, bool file, bool create) {
  char path[4096];
  size_t len = strlen(target);
  if (len >= sizeof path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(path, target, len + 1);
  int fd = openat2_in_root(root, path, O_PATH);
  if (fd >= 0 || errno != ENOENT || !create) return fd;
  // Mostly only the last component is missing (a device node in the fresh
  // /dev): make it in its parent straight away.
  if (len > 1 && path[len - 1] != '/') {
    fd = make_in_parent(root, path, file);
    if (fd >= 0) return fd;
    if (fd == -2) return openat2_in_root(root, path, O_PATH);
    if (errno != ENOENT) return -1;
  }
  // Else walk down, creating what is missing.
  for (size_t i = 1; i <= len; ++i) {
    if (path[i] != '/' && path[i] != '\0') continue;
    char saved = path[i];
    path[i] = '\0';
    int probe = openat2_in_root(root, path, O_PATH);
    if (probe < 0 && errno == ENOENT) probe = make_in_parent(root, path, saved == '\0' && file);
    if (probe == -1) return -1;
    if (probe >= 0) close(probe);
    path[i] = saved;
  }
  return openat2_in_root(root, path, O_PATH);
}

// dir_in_root(), the directory made first when missing.
int make_dir_in_root(int root, const char* path) {
  int fd = dir_in_root(root, path);
  if (fd >= 0 || errno != ENOENT) return fd;
  int made = open_target(root, path, false, true);
  if (made < 0) return -1;
  close(made);
  return dir_in_root(root, path);
}

// Per-mount flags a remount must repeat: the kernel refuses to drop flags that
// are locked on mounts inherited from a more privileged namespace.
unsigned long locked_flags(const char* path) {
  struct statvfs sv {};
  if (statvfs(path, &sv) != 0) return 0;
  unsigned long f = 0;
  if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

int remount_readonly(const char* path) {
  return mount(nullptr, path, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(path), nullptr);
}

// Binds a copy of source (a host path, or with source_fd the object of an
// fd) over the target fd, read-only. With the mount API (Linux 5.12) the
// copy is made read-only, through all its submounts when recursive (docker's
// ro), before it is attached: three calls, no remount. Else a bind and a
// remount of its top.
int bind_readonly(int root, const MountOp& op, const char* source, int source_fd, int target) {
  unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (op.recursive ? AT_RECURSIVE : 0);
  int tree = source_fd >= 0 ? static_cast<int>(syscall(SYS_open_tree, source_fd, "", flags | AT_EMPTY_PATH))
                            : static_cast<int>(syscall(SYS_open_tree, AT_FDCWD, source, flags));
  if (tree >= 0) {
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    int r = static_cast<int>(
        syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | (op.recursive ? AT_RECURSIVE : 0), &attr, sizeof attr));
    if (r == 0)
      r = static_cast<int>(
          syscall(SYS_move_mount, tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH));
    int err = errno;
    close(tree);
    if (r == 0 || err != ENOSYS) {
      errno = err;
      return r;
    }
  } else if (errno != ENOSYS) {
    return -1;
  }
  char tpath[64], spath[64];
  fd_path(tpath, sizeof tpath, target);
  if (source_fd >= 0) fd_path(spath, sizeof spath, source_fd);
  if (mount(source_fd >= 0 ? spath : source, tpath, nullptr, MS_BIND | (op.recursive ? MS_REC : 0), nullptr) != 0)
    return -1;
  int top = open_target(root, op.target, op.file, false);  // the new mount, on top of target
  if (top < 0) return -1;
  fd_path(tpath, sizeof tpath, top);
  int r = remount_readonly(tpath);
  int err = errno;
  close(top);
  errno = err;
  return r;
}

// linux.sysctl: each value written through a file opened below the
// container's own /proc (just mounted, not yet covered by the read-only
// /proc/sys), never through a host path: the files show the namespaces of
// the writer, so the network namespace is joined first for net.* keys.
// RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS keeps the open inside that /proc.
void write_sysctls(int root, const LaunchPlan& plan) {
  if (plan.sysctls.empty()) return;
  for (const SysctlOp& s : plan.sysctls)
    if (s.net) join_net();
  int proc = openat2_in_root(root, "/proc", O_PATH | O_DIRECTORY);
  if (proc < 0) fail(ChildStep::kSysctl, errno, 0);
  for (size_t i = 0; i < plan.sysctls.size(); ++i) {
    const SysctlOp& s = plan.sysctls[i];
    open_how how{};
    how.flags = O_WRONLY | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
    int fd = static_cast<int>(syscall(SYS_openat2, proc, s.path, &how, sizeof how));
    if (fd < 0) fail(ChildStep::kSysctl, errno, static_cast<int>(i));
    size_t len = strlen(s.value);
    ssize_t n = write(fd, s.value, len);
    if (n < 0) fail(ChildStep::kSysctl, errno, static_cast<int>(i));
    if (static_cast<size_t>(n) != len) fail(ChildStep::kSysctl, EINVAL, static_cast<int>(i));
    close(fd);
  }
  close(proc);
}

// process.rlimits, set on the process itself (exec keeps them). Raising a
// hard limit needs CAP_SYS_RESOURCE in the host's user namespace, which the
// container never has: skiff checks that before it makes the container.
void set_rlimits(const LaunchPlan& plan) {
  for (size_t i = 0; i < plan.rlimits.size(); ++i) {
    const RlimitOp& r = plan.rlimits[i];
    rlimit lim{static_cast<rlim_t>(r.soft), static_cast<rlim_t>(r.hard)};
    if (setrlimit(static_cast<__rlimit_resource_t>(r.resource), &lim) != 0)
      fail(ChildStep::kRlimit, errno, static_cast<int>(i));
  }
}

void do_mount(int root, const MountOp& op, int index) {
  char tpath[64];
  if (op.kind != MountOp::Kind::kSymlink) mounting_on(op.target);
  switch (op.kind) {
    case MountOp::Kind::kSymlink: {
      const char* slash = strrchr(op.target, '/');
      char parent[4096];
      size_t n = static_cast<size_t>(slash - op.target);
      if (n >= sizeof parent) fail(ChildStep::kSymlink, ENAMETOOLONG, index);
      memcpy(parent, op.target, n);
      parent[n] = '\0';
      int dir = make_dir_in_root(root, n == 0 ? "/" : parent);
      if (dir < 0) fail(ChildStep::kMountTarget, errno, index);
      if (symlinkat(op.source, dir, slash + 1) != 0 && errno != EEXIST) fail(ChildStep::kSymlink, errno, index);
      return;
    }
    case MountOp::Kind::kMask:
    case MountOp::Kind::kReadonly: {
      int fd = open_target(root, op.target, false, false);
      if (fd < 0) {
        if (errno == ENOENT) return;
        fail(ChildStep::kMountTarget, errno, index);
      }
      if (op.kind == MountOp::Kind::kMask) {
        fd_path(tpath, sizeof tpath, fd);
        struct stat st {};
        fstat(fd, &st);
        int r;
        if (!S_ISDIR(st.st_mode)) {
          r = mount("/dev/null", tpath, nullptr, MS_BIND, nullptr);
        } else if (g_mask_root >= 0) {
          // Every masked directory shows the same empty read-only tmpfs: a
          // file system made, and torn down at exit, per directory costs more
          // than a bind.
          char spath[64];
          fd_path(spath, sizeof spath, g_mask_root);
          r = mount(spath, tpath, nullptr, MS_BIND, nullptr);
        } else {
          r = mount("tmpfs", tpath, "tmpfs", MS_RDONLY, "size=0k");
          if (r == 0) g_mask_root = openat2_in_root(root, op.target, O_PATH | O_DIRECTORY);  // its root
        }
        if (r != 0) fail(ChildStep::kMask, errno, index);
      } else if (bind_readonly(root, op, nullptr, fd, fd) != 0) {
        fail(ChildStep::kReadonlyPath, errno, index);
      }
      close(fd);
      return;
    }
    case MountOp::Kind::kBind: {
      int fd = open_target(root, op.target, op.file, true);
      if (fd < 0) fail(ChildStep::kMountTarget, errno, index);
      if (op.readonly) {
        if (bind_readonly(root, op, op.source, -1, fd) != 0) fail(ChildStep::kBind, errno, index);
      } else {
        fd_path(tpath, sizeof tpath, fd);
        if (mount(op.source, tpath, nullptr, MS_BIND | (op.recursive ? MS_REC : 0), nullptr) != 0)
          fail(ChildStep::kBind, errno, index);
      }
      close(fd);
      return;
    }
    case MountOp::Kind::kData: {
      // Written to the container's /dev tmpfs under a scratch name, bound onto
      // the target, then unlinked there: the bind mount keeps the file, and
      // nothing touches the disk.
      int dev = dir_in_root(root, "/dev");
      if (dev < 0) fail(ChildStep::kMountTarget, errno, index);
      char name[32];
      snprintf(name, sizeof name, ".skiff-data-%d", index);
      int f = openat(dev, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (f < 0) fail(ChildStep::kData, errno, index);
      for (size_t done = 0; done < op.data_size;) {
        ssize_t n = write(f, op.source + done, op.data_size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) fail(ChildStep::kData, n < 0 ? errno : ENOSPC, index);
        done += static_cast<size_t>(n);
      }
      int fd = open_target(root, op.target, true, true);
      if (fd < 0) fail(ChildStep::kMountTarget, errno, index);
      if (op.readonly) {
        if (bind_readonly(root, op, nullptr, f, fd) != 0) fail(ChildStep::kBind, errno, index);
      } else {
        char spath[64];
        fd_path(spath, sizeof spath, f);
        fd_path(tpath, sizeof tpath, fd);
        if (mount(spath, tpath, nullptr, MS_BIND, nullptr) != 0) fail(ChildStep::kBind, errno, index);
      }
      close(fd);
      unlinkat(dev, name, 0);
      close(f);
      return;
    }
    case MountOp::Kind::kMount: {
      if (strcmp(op.fstype, "sysfs") == 0) join_net();  // sysfs shows the mounter's network devices
      int fd = open_target(root, op.target, false, true);
      if (fd < 0) fail(ChildStep::kMountTarget, errno, index);
      fd_path(tpath, sizeof tpath, fd);
      if (mount(op.source, tpath, op.fstype, op.flags, op.data) != 0) {
        int err = errno;
        // sysfs needs a network namespace of our own; with the host's network,
        // show the host's /sys read-only as podman does.
        if (!op.bind_fallback || bind_readonly(root, op, op.target, -1, fd) != 0) fail(ChildStep::kMount, err, index);
      }
      close(fd);
      return;
    }
  }
}

// Whether the helper built the default /dev: waits while it is at it.
bool dev_built_ahead(const LaunchPlan::DevAhead& d) {
  for (;;) {
    int state = __atomic_load_n(d.state, __ATOMIC_ACQUIRE);
    if (state != 0) return state == 1;
    if (*d.helper_tid == 0) return __atomic_load_n(d.state, __ATOMIC_ACQUIRE) == 1;  // gone (killed)
    timespec tick{0, 1'000'000};
    syscall(SYS_futex, d.state, FUTEX_WAIT, 0, &tick, nullptr, 0);
  }
}

// Moves the /dev built at staging onto op's target (the /dev tmpfs's).
void move_dev(int root, const MountOp& op, const char* staging, int index) {
  mounting_on(op.target);
  int fd = open_target(root, op.target, false, true);
  if (fd < 0) fail(ChildStep::kMountTarget, errno, index);
  char tpath[64];
  fd_path(tpath, sizeof tpath, fd);
  if (mount(staging, tpath, nullptr, MS_MOVE, nullptr) != 0) fail(ChildStep::kMount, errno, index);
  close(fd);
}

void send_fd(int sock, int fd) {
  char byte = 'T';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  memset(control, 0, sizeof control);
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  if (sendmsg(sock, &msg, MSG_NOSIGNAL) != 1) fail(ChildStep::kTerminal, errno);
}

// The terminal is made inside the container's own devpts, so ttyname() works
// there; the master goes to skiff over the sync socket.
void setup_terminal(int sync_fd) {
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) fail(ChildStep::kTerminal, errno);
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) != 0) fail(ChildStep::kTerminal, errno);
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
  if (slave < 0) fail(ChildStep::kTerminal, errno);
  send_fd(sync_fd, master);
  close(master);
  if (setsid() < 0) fail(ChildStep::kTerminal, errno);
  if (ioctl(slave, TIOCSCTTY, 0) != 0) fail(ChildStep::kTerminal, errno);
  for (int i = 0; i < 3; ++i)
    if (dup2(slave, i) < 0) fail(ChildStep::kTerminal, errno);
  if (slave > 2) close(slave);
}

void set_capabilities(const LaunchPlan& plan) {
  for (int cap = 0; cap <= plan.last_cap; ++cap) {
    if (plan.capabilities & (uint64_t{1} << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) fail(ChildStep::kCapabilities, errno);
  }
}

void apply_capability_sets(const LaunchPlan& plan) {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  for (int i = 0; i < 2; ++i) {
    uint32_t bits = static_cast<uint32_t>(plan.capabilities >> (32 * i));
    // The inheritable set stays empty (CVE-2022-27650: with it full, a
    // program with file capabilities gained them across exec even for a
    // user the container's command was not meant to give them to).
    data[i].effective = data[i].permitted = bits;
    data[i].inheritable = 0;
  }
  if (syscall(SYS_capset, &hdr, data) != 0) fail(ChildStep::kCapabilities, errno);
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    fail(ChildStep::kCapabilities, errno);
}

[[noreturn]] void exec_command(const LaunchPlan& plan) {
  const char* cmd = plan.argv[0];
  if (strchr(cmd, '/')) {
    execve(cmd, plan.argv, plan.envp);
    fail(ChildStep::kExec, errno);
  }
  // PATH comes from the container's environment, not skiff's.
  int seen = ENOENT;
  char buf[4096];
  const char* p = plan.path_env;
  while (true) {
    const char* colon = strchr(p, ':');
    size_t dlen = colon ? static_cast<size_t>(colon - p) : strlen(p);
    size_t clen = strlen(cmd);
    if (dlen + clen + 2 < sizeof buf) {
      if (dlen == 0) {
        memcpy(buf, cmd, clen + 1);
      } else {
        memcpy(buf, p, dlen);
        buf[dlen] = '/';
        memcpy(buf + dlen + 1, cmd, clen + 1);
      }
      execve(buf, plan.argv, plan.envp);
      if (errno == EACCES || errno == ENOEXEC || errno == EPERM)
        seen = errno;
      else if (errno != ENOENT && errno != ENOTDIR && seen == ENOENT)
        seen = errno;
    }
    if (!colon) break;
    p = colon + 1;
  }
  fail(ChildStep::kExec, seen == ENOENT ? ESRCH : seen);  // ESRCH: "not found in $PATH"
}

volatile pid_t g_init_child = 0;

void init_forward(int sig) {
  if (g_init_child > 0) kill(g_init_child, sig);
}

// --init: PID 1 stays as this copy of skiff, forwards signals to the command
// and reaps every orphan, then exits with the command's status.
void run_as_init(int err_fd) {
  pid_t child = fork();
  if (child < 0) fail(ChildStep::kInit, errno);
  if (child == 0) return;  // the command
  close(err_fd);
  g_init_child = child;
  struct sigaction sa {};
  sa.sa_handler = init_forward;
  sigemptyset(&sa.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP || sig == SIGCHLD) continue;
    sigaction(sig, &sa, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (;;) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      _exit(125);
    }
    if (pid == child) {
      if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
      _exit(128 + WTERMSIG(status));
    }
  }
}

void write_self(const char* file, const char* text) {
  int fd = open(file, O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail(ChildStep::kIdMap, errno);
  size_t len = strlen(text);
  if (write(fd, text, len) != static_cast<ssize_t>(len)) fail(ChildStep::kIdMap, errno);
  close(fd);
}

// Closes every fd from first on, except keep_a and keep_b (not below first).
void close_fds_from(int first, int keep_a, int keep_b) {
  int lo = std::min(keep_a, keep_b), hi = std::max(keep_a, keep_b);
  auto close_from_to = [](int from, int last) {
    if (from > last) return;
    if (syscall(SYS_close_range, from, last, 0) == 0) return;
    for (int fd = from; fd <= last && fd < 65536; ++fd) close(fd);  // a kernel before 5.9
  };
  close_from_to(first, lo - 1);
  close_from_to(lo + 1, hi - 1);
  close_from_to(hi + 1, ~0U >> 1);
}

// --preserve-fds N: fds 3 .. 3+N-1 are the caller's and reach the command as
// they are. The sync socket and the error pipe may have numbers in that range
// (when the caller left a gap): they move above it first. An fd in the range
// that is close-on-exec is one of skiff's (skiff opens all of its own so, and
// an fd inherited across exec cannot be), and is closed now, so that nothing
// of skiff's is open when the working directory is entered. Returns the first
// fd above the range.
int keep_preserved_fds(int n, int& sync_fd, int& err_fd) {
  int end = 3 + n;
  for (int* fd : {&sync_fd, &err_fd}) {
    if (*fd >= end) continue;
    int moved = fcntl(*fd, F_DUPFD_CLOEXEC, end);
    if (moved < 0) fail(ChildStep::kPreserveFds, errno);
    *fd = moved;  // the old number is close-on-exec: it goes below
    g_err_fd = err_fd;
  }
  for (int fd = 3; fd < end; ++fd) {
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0 && (flags & FD_CLOEXEC) != 0) close(fd);
  }
  return end;
}

// Opens path in the root at root_fd, symlinks resolved inside the root and
// magic links (/proc/self/fd/N, /proc/PID/cwd) refused.
int open_in_root(int root_fd, const char* path, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags) | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  for (;;) {
    long fd = syscall(SYS_openat2, root_fd, path, &how, sizeof how);
    if (fd >= 0 || errno != EAGAIN) return static_cast<int>(fd);
  }
}

// chdir to the process's working directory, made if missing (as docker
// does), every component resolved inside the root; then a check that the
// kernel sees it inside the root (getcwd says "(unreachable)" otherwise).
void enter_workdir(const char* cwd) {
  int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) fail(ChildStep::kWorkdir, errno);
  int dir = open_in_root(root, cwd, O_PATH | O_DIRECTORY);
  if (dir < 0 && errno == ENOENT) {
    char path[4096];
    size_t len = strlen(cwd);
    if (len >= sizeof path) fail(ChildStep::kWorkdir, ENAMETOOLONG);
    memcpy(path, cwd, len + 1);
    int parent = dup(root);
    for (size_t start = 0; start < len;) {
      while (start < len && path[start] == '/') ++start;
      size_t end = start;
      while (end < len && path[end] != '/') ++end;
      if (end == start) break;
      char c = path[end];
      path[end] = '\0';
      int next = open_in_root(root, path, O_PATH | O_DIRECTORY);
      if (next < 0 && errno == ENOENT) {
        if (mkdirat(parent, path + start, 0755) != 0 && errno != EEXIST) fail(ChildStep::kWorkdir, errno);
        next = open_in_root(root, path, O_PATH | O_DIRECTORY);
      }
      if (next < 0) fail(ChildStep::kWorkdir, errno);
      close(parent);
      parent = next;
      path[end] = c;
      start = end;
    }
    dir = parent;
  }
  if (dir < 0) fail(ChildStep::kWorkdir, errno);
  if (fchdir(dir) != 0) fail(ChildStep::kWorkdir, errno);
  close(dir);
  close(root);
  char buf[4096];
  long n = syscall(SYS_getcwd, buf, sizeof buf);
  if (n < 0 && errno != ENAMETOOLONG) fail(ChildStep::kWorkdir, errno);
  if (n > 0 && buf[0] != '/') fail(ChildStep::kWorkdirOutside, EXDEV);
}

// With a network helper (pasta, slirp4netns), the command waits until the
// helper has connected its namespace: one byte on plan.net_ready_fd. With
// net_handshake (the process was cloned before skiff knew the helper), it
// first says 'N' on the sync socket, so that skiff starts the helper on the
// namespace now final, and the byte comes back there.
void wait_for_network(const LaunchPlan& plan, int sync_fd) {
  int fd = plan.net_ready_fd;
  if (plan.net_handshake) {
    char n = 'N';
    if (send(sync_fd, &n, 1, MSG_NOSIGNAL) != 1) _exit(125);
    fd = sync_fd;
  }
  if (fd < 0) return;
  char ready = 0;
  ssize_t got;
  do got = read(fd, &ready, 1);
  while (got < 0 && errno == EINTR);
  if (got != 1) fail(ChildStep::kNetwork, got < 0 ? errno : EPIPE);
  if (fd != sync_fd) close(fd);
}

}  // namespace

[[noreturn]] void container_child_main(const LaunchPlan* shared_plan, int unshare_flags, int sync_fd, int err_fd,
                                       bool plan_ready) {
  // Set afresh: a child that shared skiff's memory may have left them.
  g_err_fd = err_fd;
  g_dir.fd = -1;
  g_mask_root = -1;
  g_net = NetMaker{};
  g_pending_net = plan_ready && shared_plan->pending_net.helper_tid ? &shared_plan->pending_net : nullptr;
  if (plan_ready && shared_plan->uid_map) {
    write_self("/proc/self/setgroups", "deny");
    write_self("/proc/self/uid_map", shared_plan->uid_map);
    write_self("/proc/self/gid_map", shared_plan->gid_map);
  }
  if (plan_ready && shared_plan->mount_ns >= 0 && setns(shared_plan->mount_ns, CLONE_NEWNS) != 0)
    fail(ChildStep::kNamespaces, errno);
  // It holds every capability in its new user namespace already, map or not.
  bool make_net = (unshare_flags & CLONE_NEWNET) != 0;
  unshare_flags &= ~CLONE_NEWNET;
  if (make_net && !start_net_maker()) make_net_here();
  if (unshare_flags != 0 && unshare(unshare_flags) != 0) fail(ChildStep::kNamespaces, errno);
  if (!plan_ready) {
    char go = 0;
    if (read(sync_fd, &go, 1) != 1 || go != 'G') _exit(125);  // skiff went away
  }
  const LaunchPlan& plan = *shared_plan;  // written by skiff before its go

  // No MS_SLAVE remount of /: a mount namespace made with a new user
  // namespace turns every shared mount it copies into a slave already, so
  // nothing mounted here reaches the host.

  if (plan.has_layers) {
    switch (plan.driver) {
      case RootfsLayers::Driver::kOverlay:
        if (chdir(plan.layers_dir) != 0) fail(ChildStep::kMountRootfs, errno);
        if (mount("overlay", plan.rootfs, "overlay", 0, plan.overlay_data) != 0) fail(ChildStep::kMountRootfs, errno);
        break;
      case RootfsLayers::Driver::kFuseOverlayfs: {
        pid_t pid = fork();
        if (pid < 0) fail(ChildStep::kFuseOverlayfs, errno);
        if (pid == 0) {
          execvp(plan.fuse_argv[0], plan.fuse_argv);
          _exit(127);
        }
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail(ChildStep::kFuseOverlayfs, EIO);
        // pivot_root moves the root of every process in the mount namespace,
        // the fuse daemon's too; it would then look its layers up through its
        // own mount and deadlock. Leave it behind in this namespace.
        if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0)
          fail(ChildStep::kFuseOverlayfs, errno);
        break;
      }
      case RootfsLayers::Driver::kCopy:
        if (mount(plan.rootfs, plan.rootfs, nullptr, MS_BIND | MS_REC, nullptr) != 0)
          fail(ChildStep::kMountRootfs, errno);
        break;
    }
  } else if (mount(plan.rootfs, plan.rootfs, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    fail(ChildStep::kMountRootfs, errno);  // pivot_root needs a mount point
  }

  int root = open(plan.rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) fail(ChildStep::kMountRootfs, errno);
  for (size_t i = 0; i < plan.mounts.size(); ++i) {
    if (static_cast<int>(i) == plan.dev_ahead.first && dev_built_ahead(plan.dev_ahead)) {
      move_dev(root, plan.mounts[i], plan.dev_ahead.staging, static_cast<int>(i));
      i = static_cast<size_t>(plan.dev_ahead.last);
      continue;
    }
    do_mount(root, plan.mounts[i], static_cast<int>(i));
    if (static_cast<int>(i) == plan.sysctl_after) write_sysctls(root, plan);
  }

  if (plan.readonly_root && remount_readonly(plan.rootfs) != 0) fail(ChildStep::kReadonlyRoot, errno);
  join_net();
  wait_for_network(plan, sync_fd);
  if (plan.hostname && sethostname(plan.hostname, strlen(plan.hostname)) != 0) fail(ChildStep::kHostname, errno);

  if (chdir(plan.rootfs) != 0) fail(ChildStep::kPivotRoot, errno);
  if (syscall(SYS_pivot_root, ".", ".") != 0) fail(ChildStep::kPivotRoot, errno);
  if (umount2(".", MNT_DETACH) != 0) fail(ChildStep::kPivotRoot, errno);
  if (chdir("/") != 0) fail(ChildStep::kPivotRoot, errno);
  close(root);
  become_command(plan, sync_fd, err_fd);
}

[[noreturn]] void become_command(const LaunchPlan& plan, int sync_fd, int err_fd) {
  g_err_fd = err_fd;
  if (plan.terminal) {
    setup_terminal(sync_fd);
  } else {
    if (plan.stdin_fd >= 0) {
      if (dup2(plan.stdin_fd, 0) < 0) fail(ChildStep::kStdin, errno);
    } else if (!plan.keep_stdin) {
      int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (null < 0 || dup2(null, 0) < 0) fail(ChildStep::kStdin, errno);
      close(null);
    }
    if (plan.stdout_fd >= 0 && dup2(plan.stdout_fd, 1) < 0) fail(ChildStep::kStdin, errno);
    if (plan.stderr_fd >= 0 && dup2(plan.stderr_fd, 2) < 0) fail(ChildStep::kStdin, errno);
    setsid();
  }

  // The command starts with the spec's umask (0022, runc's and docker's
  // default), not the one of whoever ran skiff.
  umask(plan.umask);

  // Every fd but the three standard ones (and those --preserve-fds keeps),
  // the sync socket and the error pipe goes before the working directory is
  // entered: a directory fd of skiff's would otherwise be reachable as
  // /proc/self/fd/N, the way out that CVE-2024-21626 took in runc (WORKDIR
  // /proc/self/fd/N). close-on-exec does not help, the chdir comes first.
  // Then the directory is resolved inside the root and checked to lie there.
  int first_closed = 3;
  if (plan.preserve_fds > 0) first_closed = keep_preserved_fds(plan.preserve_fds, sync_fd, err_fd);
  close_fds_from(first_closed, sync_fd, err_fd);
  enter_workdir(plan.cwd);
  set_rlimits(plan);

  // Installed while the child still holds CAP_SYS_ADMIN in its namespace
  // (no no_new_privs needed); the id calls below are then no-ops for root.
  for (const auto* filter : {&plan.seccomp_fake_ids, &plan.seccomp}) {
    if (filter->empty()) continue;
    sock_fprog prog{static_cast<unsigned short>(filter->size()), const_cast<sock_filter*>(filter->data())};
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) fail(ChildStep::kSeccomp, errno);
  }
  set_capabilities(plan);
  if (plan.setgroups_allowed && setgroups(plan.groups.size(), plan.groups.data()) != 0)
    fail(ChildStep::kSetgroups, errno);
  if (setresgid(plan.gid, plan.gid, plan.gid) != 0) fail(ChildStep::kSetgid, errno);
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) fail(ChildStep::kCapabilities, errno);
  if (setresuid(plan.uid, plan.uid, plan.uid) != 0) fail(ChildStep::kSetuid, errno);
  apply_capability_sets(plan);
  if (plan.no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail(ChildStep::kNoNewPrivs, errno);

  // Changing credentials cleared the death signal: set it again, now that
  // skiff still holds the other end of the sync socket.
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  char ready = 'R';
  if (send(sync_fd, &ready, 1, MSG_NOSIGNAL) != 1) _exit(125);
  close(sync_fd);

  // The command starts with every signal at its default (exec resets the
  // handled ones) and none blocked (skiff blocked some while it cloned).
  for (int sig = 1; sig < NSIG; ++sig)
    if (sigismember(&plan.ignored_signals, sig) == 1) signal(sig, SIG_DFL);
  if (plan.init) run_as_init(err_fd);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  exec_command(plan);
}

}  // namespace skiff::runtime
