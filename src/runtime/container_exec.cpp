// skiff exec's process: the namespaces of a running container's first
// process joined (user first, so that the others may be), then a fork into
// its pid namespace, and the same last steps as that first process took
// (become_command).
#include "skiff/runtime/container_exec.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory_resource>

#include "container_child.hpp"
#include "launch_plan.hpp"
#include "process_start.hpp"
#include "skiff/runtime/container_process.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"
#include "skiff/util/split.hpp"

namespace skiff::runtime {

namespace {

// In the order they are joined: the user namespace first (it gives the
// capabilities the others need), the pid namespace last (it only applies to
// children).
struct NamespaceFile {
  const char* name;
  int flag;
};
constexpr NamespaceFile kJoinOrder[] = {{"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS},  {"net", CLONE_NEWNET},
                                        {"ipc", CLONE_NEWIPC},   {"uts", CLONE_NEWUTS}, {"cgroup", CLONE_NEWCGROUP},
                                        {"pid", CLONE_NEWPID}};

// A file under /proc/PID (the fd), whole; nullopt when it cannot be read.
std::optional<std::string> read_proc_file(int proc_dir, const char* name) {
  UniqueFd fd(::openat(proc_dir, name, O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

// "0 1000 1\n1 100000 65536\n" -> {first inside, count} ranges.
std::vector<std::pair<uint32_t, uint32_t>> parse_id_map(const std::string& text) {
  std::vector<std::pair<uint32_t, uint32_t>> out;
  unsigned long inside = 0, outside = 0, count = 0;
  int used = 0;
  const char* p = text.c_str();
  while (sscanf(p, " %lu %lu %lu%n", &inside, &outside, &count, &used) == 3) {
    out.emplace_back(static_cast<uint32_t>(inside), static_cast<uint32_t>(count));
    p += used;
  }
  return out;
}

// Whether the process of pidfd has exited (a zombie too: its namespaces are gone).
bool has_exited(int pidfd) {
  pollfd p{pidfd, POLLIN, 0};
  return poll(&p, 1, 0) > 0;
}

}  // namespace

bool ContainerJoin::maps(const Ranges& r, uint32_t id) {
  for (const auto& [first, count] : r)
    if (id >= first && id - first < count) return true;
  return false;
}

std::optional<ContainerJoin> ContainerJoin::open(pid_t pid, uint64_t start_time, pid_t parent) {
  if (pid <= 0) return std::nullopt;
  ContainerJoin j;
  j.pid_ = pid;
  // The pidfd first: whatever is read under /proc/PID below is the pidfd's
  // process as long as it has not exited when has_exited() is asked at the
  // end (a pid is given again only after its process was reaped).
  j.pidfd_.reset(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  if (!j.pidfd_) {
    if (errno == ESRCH) return std::nullopt;
    throw_errno(fmt::format("pidfd_open {}", pid));
  }
  UniqueFd proc(::open(fmt::format("/proc/{}", pid).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!proc) return std::nullopt;
  // "PID (COMM) STATE PPID ... STARTTIME(22) ...": COMM may hold spaces and
  // parentheses.
  auto stat = read_proc_file(proc.get(), "stat");
  if (!stat) return std::nullopt;
  size_t close_paren = stat->rfind(')');
  if (close_paren == std::string::npos) return std::nullopt;
  std::vector<std::string_view> fields = split(std::string_view(*stat).substr(close_paren + 2), ' ');
  if (fields.size() < 20) return std::nullopt;
  char state = fields[0].empty() ? 0 : fields[0][0];
  std::string ppid(fields[1]), started(fields[19]);
  // The container's first process is a child of the skiff that runs it (or
  // of its monitor), and started when the lock's note says: a process that
  // took its pid after it died is not.
  if (state == 'Z' || state == 'X' || std::to_string(parent) != ppid) return std::nullopt;
  if (start_time != 0 && std::to_string(start_time) != started) return std::nullopt;

  for (const auto& ns : kJoinOrder) {
    UniqueFd fd(::openat(proc.get(), (std::string("ns/") + ns.name).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
      if (errno == ENOENT && ns.flag == CLONE_NEWCGROUP) continue;  // a kernel without cgroup namespaces
      if (errno == ENOENT || errno == ESRCH) return std::nullopt;   // it exited meanwhile
      throw_errno(fmt::format("open /proc/{}/ns/{}", pid, ns.name));
    }
    struct stat theirs {
    }, ours{};
    if (fstat(fd.get(), &theirs) != 0) throw_errno("fstat");
    if (::stat((std::string("/proc/self/ns/") + ns.name).c_str(), &ours) == 0 && ours.st_ino == theirs.st_ino &&
        ours.st_dev == theirs.st_dev)
      continue;  // shared with this process: nothing to join
    j.namespaces_.emplace_back(ns.flag, std::move(fd));
  }
  j.root_.reset(::openat(proc.get(), "root", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!j.root_) return std::nullopt;
  j.userns_.reset(::openat(proc.get(), "ns/user", O_RDONLY | O_CLOEXEC));
  if (!j.userns_) return std::nullopt;
  auto setgroups = read_proc_file(proc.get(), "setgroups");
  j.setgroups_allowed_ = setgroups && setgroups->rfind("allow", 0) == 0;
  auto uid_map = read_proc_file(proc.get(), "uid_map");
  auto gid_map = read_proc_file(proc.get(), "gid_map");
  if (!uid_map || !gid_map) return std::nullopt;
  j.uid_map_ = parse_id_map(*uid_map);
  j.gid_map_ = parse_id_map(*gid_map);
  if (has_exited(j.pidfd_.get())) return std::nullopt;
  return j;
}

namespace {

// Reaps pid unless released: a child that failed is not left behind.
struct ChildGuard {
  pid_t pid;
  ~ChildGuard() {
    if (pid <= 0) return;
    kill(pid, SIGKILL);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
  }
};

// The process that stays as the detached command's parent: it is outside
// the container's pid namespace (only its child enters it), so when skiff
// exec exits it goes to the host's reaper, not to the container's PID 1
// (which may reap nothing); it reaps the command and exits with it.
[[noreturn]] void detached_parent(const LaunchPlan& plan, int pid_ns, int null_fd, int sync_fd, int err_fd) {
  auto report = [&](int err) {
    ChildReport r{ChildStep::kNamespaces, err, -1};
    (void)!write(err_fd, &r, sizeof r);
    _exit(125);
  };
  setsid();
  for (int i = 0; i < 3; ++i)
    if (dup2(null_fd, i) < 0) report(errno);
  if (pid_ns >= 0 && setns(pid_ns, CLONE_NEWPID) != 0) report(errno);
  pid_t child = fork();
  if (child < 0) report(errno);
  if (child == 0) become_command(plan, sync_fd, err_fd);
  // Nothing of skiff's to keep: skiff exec sees EOF on the error pipe once
  // the command has exec'd.
  syscall(SYS_close_range, 3, ~0U >> 1, 0);
  int status;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  _exit(0);
}

}  // namespace

int exec_process(ContainerJoin& join, const Spec& spec, bool keep_stdin, bool detach) {
  std::pmr::monotonic_buffer_resource memory;
  LaunchPlan plan(&memory);
  fill_process_plan(plan, spec, join.setgroups_allowed_, keep_stdin || detach);
  if (detach) plan.terminal = false;  // nobody would read it

  UniqueFd null_fd;
  if (detach) null_fd = open_or_throw("/dev/null", O_RDWR);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) throw_errno("socketpair");
  UniqueFd sync(sv[0]), sync_child(sv[1]);
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) throw_errno("pipe");
  UniqueFd err(p[0]), err_write(p[1]);

  // Signals wait in skiff's queue from here on: wait() forwards them.
  sigset_t forwarded = forwarded_set();
  sigprocmask(SIG_BLOCK, &forwarded, nullptr);

  int pid_ns = -1;
  for (auto& [flag, fd] : join.namespaces_) {
    if (flag == CLONE_NEWPID) {
      pid_ns = fd.get();
      if (detach) continue;  // entered by the detached command's parent's child only
    }
    if (setns(fd.get(), flag) != 0) {
      int e = errno;
      if (has_exited(join.pidfd_.get())) throw Error("the container exited");
      throw Error("join the container's namespaces", e);
    }
  }
  // setns into the mount namespace put this process at its root (the
  // container's, after its pivot_root); become_command enters the working
  // directory from there.

  pid_t pid = fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) {
    if (detach) detached_parent(plan, pid_ns, null_fd.get(), sync_child.get(), err_write.get());
    become_command(plan, sync_child.get(), err_write.get());
  }
  ChildGuard guard{pid};
  sync_child.reset();
  err_write.reset();
  UniqueFd master;
  if (plan.terminal) master = receive_fd(sync.get());
  char ready = 0;
  ssize_t n;
  do n = ::read(sync.get(), &ready, 1);
  while (n < 0 && errno == EINTR);
  if (auto report = read_report(err.get())) throw_child_failure(*report, plan);
  if (n != 1) throw Error("the process died while it was being set up");
  if (plan.terminal && !master) throw Error("the process did not hand over its terminal");
  if (detach) {
    guard.pid = -1;  // it stays, and goes to the host's reaper when skiff exits
    return 0;
  }
  ContainerProcess proc(std::exchange(guard.pid, -1), UniqueFd(), std::move(master), keep_stdin);
  return proc.wait();
}

}  // namespace skiff::runtime
