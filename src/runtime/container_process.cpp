#include "skiff/runtime/container_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <mutex>
#include <utility>
#include <vector>

#include "child_steps.hpp"
#include "container_child.hpp"
#include "launch_plan.hpp"
#include "namespaces_ahead.hpp"
#include "process_start.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

namespace skiff::runtime {

namespace {

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD, SIGCONT};

}  // namespace

sigset_t forwarded_set() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : kForwarded) sigaddset(&set, s);
  return set;
}

UniqueFd receive_fd(int sock) {
  char byte;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n != 1) return UniqueFd();
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS) return UniqueFd();
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return UniqueFd(fd);
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return kExitSkiffError;
}

std::optional<ChildReport> read_report(int err_fd) {
  ChildReport report{};
  ssize_t got;
  do got = ::read(err_fd, &report, sizeof report);
  while (got < 0 && errno == EINTR);
  if (got == sizeof report) return report;
  if (got != 0) throw Error("the container's process died while it was being set up");
  return std::nullopt;
}

[[noreturn]] void throw_child_failure(const ChildReport& r, const LaunchPlan& plan) {
  if (r.step == ChildStep::kExec) {
    std::string_view cmd = plan.argv[0];
    if (r.err == ESRCH)
      throw Error(fmt::format("exec {:?}: executable file not found in $PATH", cmd), 0, {}, kExitNotFound);
    if (r.err == ENOENT) throw Error(fmt::format("exec {:?}: no such file or directory", cmd), 0, {}, kExitNotFound);
    throw Error(fmt::format("exec {:?}", cmd), r.err, {}, kExitCannotInvoke);
  }
  if (r.step == ChildStep::kWorkdir)
    throw Error(fmt::format("change to working directory {}", plan.cwd), r.err, {}, kExitCannotInvoke);
  if (r.step == ChildStep::kWorkdirOutside)
    throw Error(fmt::format("working directory {} lies outside the container's root: refused", plan.cwd), 0, {},
                kExitCannotInvoke);
  std::string what = child_step_text(r.step);
  if (r.step == ChildStep::kSysctl && r.index >= 0 && static_cast<size_t>(r.index) < plan.sysctls.size()) {
    const auto& s = plan.sysctls[static_cast<size_t>(r.index)];
    throw Error(fmt::format("container set-up failed: write sysctl {}={}", s.key, s.value), r.err);
  }
  if (r.step == ChildStep::kRlimit && r.index >= 0 && static_cast<size_t>(r.index) < plan.rlimits.size())
    throw Error(
        fmt::format("container set-up failed: set the limit {}", plan.rlimits[static_cast<size_t>(r.index)].type),
        r.err);
  if (r.index >= 0 && static_cast<size_t>(r.index) < plan.mounts.size()) {
    const auto& op = plan.mounts[static_cast<size_t>(r.index)];
    what += fmt::format(" {}", op.target);
    if (op.kind == MountOp::Kind::kBind) what += fmt::format(" (from {})", op.source);
  }
  std::string hint;
  if (r.step == ChildStep::kMountRootfs)
    hint = "the storage may be on a file system overlay cannot use (NFS?): try --root on a local disk";
  if (r.step == ChildStep::kSetuid || r.step == ChildStep::kSetgid)
    hint = "with a single-id map only root (0) exists in the container; ask for /etc/subuid and /etc/subgid ranges";
  throw Error(fmt::format("container set-up failed: {}", what), r.err, hint);
}

namespace {

// Puts the host terminal in raw mode while the container owns it.
class RawTerminal {
 public:
  explicit RawTerminal(int fd) : fd_(fd) {
    if (!isatty(fd) || tcgetattr(fd, &saved_) != 0) return;
    termios raw = saved_;
    cfmakeraw(&raw);
    raw.c_oflag |= OPOST;  // keep \n -> \r\n for skiff's own messages
    active_ = tcsetattr(fd, TCSANOW, &raw) == 0;
  }
  ~RawTerminal() {
    if (active_) tcsetattr(fd_, TCSANOW, &saved_);
  }

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

void copy_winsize(int from, int to) {
  winsize ws{};
  if (ioctl(from, TIOCGWINSZ, &ws) == 0) ioctl(to, TIOCSWINSZ, &ws);
}

enum class Pumped { kMore, kReadEnded, kWriteFailed };

// Reads what is available on from and writes it to to.
Pumped pump_once(int from, int to) {
  char buf[16384];
  ssize_t n = read(from, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return Pumped::kMore;
  if (n <= 0) return Pumped::kReadEnded;
  try {
    write_all(to, std::string_view(buf, static_cast<size_t>(n)));
  } catch (const Error&) {
    return Pumped::kWriteFailed;
  }
  return Pumped::kMore;
}

// As pump_once; false at EOF or an error on either side.
bool pump(int from, int to) {
  return pump_once(from, to) == Pumped::kMore;
}

}  // namespace

ContainerProcess::ContainerProcess(pid_t pid, UniqueFd userns, UniqueFd pty_master, bool keep_stdin)
    : pid_(pid), userns_(std::move(userns)), pty_(std::move(pty_master)), keep_stdin_(keep_stdin) {}

ContainerProcess::~ContainerProcess() {
  if (pid_ > 0 && !reaped_) {
    kill(pid_, SIGKILL);
    int st;
    waitpid(pid_, &st, 0);
  }
}

int ContainerProcess::wait(bool kill_on_interrupt) {
  sigset_t set = forwarded_set();
  UniqueFd sfd(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sfd) throw_errno("signalfd");
  std::optional<RawTerminal> raw;
  if (pty_) {
    raw.emplace(STDIN_FILENO);
    copy_winsize(STDIN_FILENO, pty_.get());
  }
  bool stdin_open = pty_ && keep_stdin_;
  bool pty_open = static_cast<bool>(pty_);
  // A terminal in raw mode gives no EOF for ^D (it is a byte like any
  // other): EOF or EIO there means it went away.
  const bool stdin_terminal = pty_ && isatty(STDIN_FILENO);
  // The user's terminal hung up (its window closed, its tmux session was
  // killed): as docker's, the container's terminal hangs up too. Closing
  // the master makes the kernel send SIGHUP to the terminal's session and
  // foreground group and end their reads of it (a shell reading it exits
  // at that EOF); the container's process also gets SIGHUP from skiff,
  // which PID 1 of a namespace takes only when it handles it.
  auto hang_up = [&] {
    kill(pid_, SIGHUP);
    pty_.reset();
    pty_open = false;
    stdin_open = false;
  };
  int interrupts = 0;
  int status = 0;
  for (;;) {
    int r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) break;
    pollfd fds[3] = {
        {sfd.get(), POLLIN, 0}, {pty_open ? pty_.get() : -1, POLLIN, 0}, {stdin_open ? STDIN_FILENO : -1, POLLIN, 0}};
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      throw_errno("poll");
    }
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo si{};
      while (read(sfd.get(), &si, sizeof si) == sizeof si) {
        int sig = static_cast<int>(si.ssi_signo);
        if (sig == SIGCHLD) continue;
        if (sig == SIGWINCH) {
          if (pty_) copy_winsize(STDIN_FILENO, pty_.get());
          continue;
        }
        if (kill_on_interrupt && (sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT)) {
          interrupted_by_ = sig;
          kill(pid_, SIGKILL);
          continue;
        }
        if (sig == SIGINT && ++interrupts >= 3) {
          killed_after_interrupts_ = true;
          kill(pid_, SIGKILL);
          continue;
        }
        if (sig == SIGHUP && pty_) {
          hang_up();
          continue;
        }
        kill(pid_, sig);
      }
    }
    if (pty_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)))
      if (!pump(pty_.get(), STDOUT_FILENO)) pty_open = false;
    if (stdin_open && (fds[2].revents & (POLLIN | POLLHUP | POLLERR))) {
      Pumped p = pump_once(STDIN_FILENO, pty_.get());
      if (p == Pumped::kReadEnded && stdin_terminal)
        hang_up();
      else if (p != Pumped::kMore)
        stdin_open = false;
    }
  }
  reaped_ = true;
  if (pty_open) {
    // Output the command wrote just before it exited.
    fcntl(pty_.get(), F_SETFL, O_NONBLOCK);
    while (pump(pty_.get(), STDOUT_FILENO)) {
      pollfd p{pty_.get(), POLLIN, 0};
      if (poll(&p, 1, 0) <= 0) break;
    }
  }
  return decode_status(status);
}

// Memory shared with the cloned child, at the same address in both: skiff
// builds the LaunchPlan here after clone(), the child reads it after the go.
// Untouched pages cost nothing (MAP_NORESERVE). Cloned vfork's way, the
// child also runs on a stack kept here.
class PlanArena {
 public:
  static constexpr size_t kSize = 16 << 20;
  static constexpr size_t kChildStack = 256 << 10;
  PlanArena() {
    base_ = mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base_ == MAP_FAILED) throw_errno("map memory for the container's plan");
    reset();
  }
  // The plan is not destroyed: everything in it lives in the arena, and the
  // child may still be reading its argv and environment (its own mapping
  // outlives this one).
  ~PlanArena() {
    resource_.reset();
    munmap(base_, kSize);
    if (stack_) munmap(stack_, kChildStack);
  }
  // Empty again, for another plan.
  void reset() {
    char* rest = static_cast<char*>(base_) + kPlanSpace;
    // Nothing is ever taken from the heap: memory the child cannot see.
    resource_.emplace(rest, kSize - kPlanSpace, std::pmr::null_memory_resource());
  }
  const LaunchPlan* plan_address() const { return static_cast<const LaunchPlan*>(base_); }
  LaunchPlan& make_plan() { return *new (base_) LaunchPlan(&*resource_); }
  // The top of the stack of a child sharing skiff's memory.
  void* child_stack_top() {
    if (!stack_) {
      void* m = mmap(nullptr, kChildStack, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
      if (m == MAP_FAILED) throw_errno("map the container process's stack");
      stack_ = m;
    }
    return static_cast<char*>(stack_) + kChildStack;
  }

 private:
  static constexpr size_t kPlanSpace = (sizeof(LaunchPlan) + 63) / 64 * 64;
  void* base_ = nullptr;
  void* stack_ = nullptr;
  std::optional<std::pmr::monotonic_buffer_resource> resource_;
};

namespace {

// Arenas given back by starts whose child shared skiff's memory: that child
// has exec'd (or died) when clone() returns, so nothing refers to them any
// more, and the next start in this skiff takes one again. They are never
// unmapped: unmapping memory that another CPU has used interrupts that CPU
// to flush its TLB, 50 us on a virtual machine at every start. (A child
// cloned early keeps its own mapping of the arena: that one goes.)
std::mutex g_arenas_mutex;
std::vector<std::unique_ptr<PlanArena>>* g_arenas = new std::vector<std::unique_ptr<PlanArena>>;  // never freed

std::unique_ptr<PlanArena> take_arena() {
  {
    std::lock_guard lock(g_arenas_mutex);
    if (!g_arenas->empty()) {
      auto a = std::move(g_arenas->back());
      g_arenas->pop_back();
      a->reset();
      return a;
    }
  }
  return std::make_unique<PlanArena>();
}

void keep_arena(std::unique_ptr<PlanArena> a) {
  std::lock_guard lock(g_arenas_mutex);
  g_arenas->push_back(std::move(a));
}

}  // namespace

Error namespaces_error(int err) {
  return Error("create the container's namespaces", err,
               err == EPERM || err == ENOSPC
                   ? "unprivileged user namespaces may be disabled (sysctl kernel.unprivileged_userns_clone, "
                     "user.max_user_namespaces)"
                   : "");
}

StartMode ContainerStart::best_mode(const userns::IdMap& map, bool init, bool one_container, bool network_helper) {
  // A full map needs newuidmap and newgidmap run by skiff after the clone,
  // and --init stays in the process that would have to exec: neither can
  // wait for skiff to sleep through the set-up. Nor can a network helper
  // started on a namespace the process makes itself.
  if (map.full || init) return StartMode::kEarlyClone;
  if (one_container && NamespacesAhead::flags_made(CLONE_NEWUSER | CLONE_NEWNET) == (CLONE_NEWUSER | CLONE_NEWNET))
    return StartMode::kJoinOnLaunch;
  return network_helper ? StartMode::kEarlyClone : StartMode::kOnLaunch;
}

ContainerStart::ContainerStart(const std::vector<Namespace>& namespaces, const userns::IdMap& map, StartMode mode,
                               std::string dev_staging)
    : map_(map), mode_(mode), clone_flags_(namespace_clone_flags(namespaces)) {
  if (mode != StartMode::kEarlyClone && map.full) throw Error("a container with subordinate ids cannot map itself");
  // Signals wait in skiff's queue from here on (and in the helper's: Ctrl-C
  // is not its to take); wait() forwards them.
  sigset_t set = forwarded_set();
  sigprocmask(SIG_BLOCK, &set, nullptr);
  // The helper first: the sooner it starts, the more of its work is hidden.
  if (mode == StartMode::kJoinOnLaunch) {
    ahead_flags_ = NamespacesAhead::flags_made(clone_flags_);
    ahead_ = std::make_unique<NamespacesAhead>(ahead_flags_, userns::map_line(map_.uids.front()),
                                               userns::map_line(map_.gids.front()), std::move(dev_staging));
  }
  arena_ = take_arena();
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) throw_errno("socketpair");
  sync_.reset(sv[0]);
  sync_child_.reset(sv[1]);
  std::tie(err_, err_write_) = make_pipe();
  if (mode == StartMode::kEarlyClone) clone_child(false);
}

namespace {

struct ChildArgs {
  const LaunchPlan* plan;
  int unshare_flags;
  int sync_fd;
  int err_fd;
  bool plan_ready;
};

int child_entry(void* arg) {
  const auto& a = *static_cast<const ChildArgs*>(arg);
  container_child_main(a.plan, a.unshare_flags, a.sync_fd, a.err_fd, a.plan_ready);
}

// The process's user namespace, kept for removing what it leaves (invalid
// when the process is gone already).
UniqueFd open_userns(pid_t pid) {
  return UniqueFd(::open(fmt::format("/proc/{}/ns/user", pid).c_str(), O_RDONLY | O_CLOEXEC));
}

}  // namespace

void ContainerStart::clone_child(bool on_launch) {
  // The user, mount and pid namespaces come with clone() (a pid namespace
  // only holds children); the child makes the others itself, in parallel.
  // (Those made ahead are skiff's own by now.)
  int flags = clone_flags_ & ~ahead_flags_;
  int at_clone = flags & (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID);
  ChildArgs args{arena_->plan_address(), flags & ~at_clone, sync_child_.get(), err_write_.get(), on_launch};
  pid_t pid;
  if (on_launch) {
    // vfork's way: the child runs in skiff's memory, on a stack of its own,
    // while skiff sleeps until it has exec'd (or died).
    pid = clone(child_entry, arena_->child_stack_top(), at_clone | CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
  } else {
    pid = static_cast<pid_t>(syscall(SYS_clone, at_clone | SIGCHLD, nullptr, nullptr, nullptr, 0));
    if (pid == 0) {
      sync_.reset();
      err_.reset();
      child_entry(&args);
    }
  }
  if (pid < 0) throw namespaces_error(errno);
  sync_child_.reset();
  err_write_.reset();
  pid_ = pid;
  if (on_launch) return;  // it mapped itself, and may be gone already
  try {
    userns_ = open_userns(pid);
    id_map_.emplace(pid, map_);
  } catch (...) {
    // No destructor runs for a constructor that throws.
    pid_ = -1;
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    throw;
  }
}

ContainerStart::~ContainerStart() {
  // Shared with no child (one that shared skiff's memory is gone from it).
  if (arena_ && mode_ != StartMode::kEarlyClone) keep_arena(std::move(arena_));
  if (pid_ <= 0) return;
  // The id-map helpers first: killed under them, the child would make them
  // complain that its /proc directory is gone.
  id_map_.reset();
  kill(pid_, SIGKILL);
  int st;
  waitpid(pid_, &st, 0);
}

// A child that died before its go (it reported why on the error pipe) is
// found out by finish(): no SIGPIPE, no error here.
void ContainerStart::say_go() {
  char go = 'G';
  (void)!send(sync_.get(), &go, 1, MSG_NOSIGNAL);
  go_sent_ = true;
}

void ContainerStart::launch(const Spec& spec, bool keep_stdin) {
  if (plan_) throw Error("the container was launched already");
  keep_stdin_ = keep_stdin;
  LaunchPlan& plan = arena_->make_plan();
  plan_ = &plan;
  try {
    fill_launch_plan(plan, spec, map_.full, keep_stdin);
  } catch (const std::bad_alloc&) {
    throw Error("the container's settings (environment, mounts) are too large");
  }
  if (plan.clone_flags != clone_flags_) throw Error("the container's namespaces changed after it was created");
  if (mode_ == StartMode::kOnLaunch) {
    plan.uid_map = plan.keep(userns::map_line(map_.uids.front()));
    plan.gid_map = plan.keep(userns::map_line(map_.gids.front()));
    clone_child(true);
    return;
  }
  if (mode_ == StartMode::kJoinOnLaunch) {
    // The helper starts from the host's namespaces, before skiff leaves
    // them; it connects the namespace while the process sets itself up.
    UniqueFd net_ready;
    if (net_ && (ahead_flags_ & CLONE_NEWNET)) {
      auto [user, netns] = ahead_->wait_for_net();
      auto [r, w] = make_pipe();
      net_->connect(user, netns, std::move(w));
      net_ready = std::move(r);
      plan.net_ready_fd = net_ready.get();
    }
    userns_ = ahead_->join();
    plan.pending_net = ahead_->pending_net();
    plan.mount_ns = ahead_->mount_namespace();
    if (plan.mount_ns < 0) ahead_flags_ &= ~CLONE_NEWNS;  // not made yet: the clone makes it
    plan.dev_ahead = ahead_->dev_ahead(plan);
    clone_child(true);
    ahead_.reset();  // the child is done with it: it exec'd or died
    return;
  }
  if (net_) {
    if (mode_ == StartMode::kOnLaunch) throw Error("a network helper cannot start a container cloned at launch");
    plan.net_handshake = true;
  }
  // With a single-id map, the map is in place already: the child goes now.
  if (!map_.full) say_go();
}

// The process said 'N': its network namespace is final. The helper connects
// it, and the process hears the byte back on the sync socket when it is
// ready (or the socket's end, if the helper failed).
void ContainerStart::connect_network_early_clone() {
  char n = 0;
  ssize_t got;
  do got = ::read(sync_.get(), &n, 1);
  while (got < 0 && errno == EINTR);
  if (got != 1 || n != 'N') {
    if (auto report = read_report(err_.get())) throw_child_failure(*report, *plan_);
    throw Error("the container's process died while it was being set up");
  }
  UniqueFd user(::open(fmt::format("/proc/{}/ns/user", pid_).c_str(), O_RDONLY | O_CLOEXEC));
  UniqueFd netns(::open(fmt::format("/proc/{}/ns/net", pid_).c_str(), O_RDONLY | O_CLOEXEC));
  if (!user || !netns) throw_errno("open the container's namespaces");
  auto [r, w] = make_pipe();
  net_->connect(user.get(), netns.get(), std::move(w));
  char ready = 0;
  do got = ::read(r.get(), &ready, 1);
  while (got < 0 && errno == EINTR);
  if (got != 1) throw Error("the network helper ended before the container's network was ready");
  (void)!send(sync_.get(), &ready, 1, MSG_NOSIGNAL);
}

ContainerProcess ContainerStart::finish() {
  if (!plan_) throw Error("the container was not launched");
  const LaunchPlan& plan = *plan_;
  try {
    if (id_map_) id_map_->finish();
  } catch (const Error&) {
    // The helpers fail when the child died before they mapped it (say, it
    // could not make its namespaces): its own report says why.
    kill(pid_, SIGKILL);
    if (auto report = read_report(err_.get())) throw_child_failure(*report, plan);
    throw;
  }
  if (!go_sent_ && mode_ == StartMode::kEarlyClone) say_go();
  if (plan.net_handshake) connect_network_early_clone();
  if (mode_ == StartMode::kOnLaunch)  // (for removing what the container leaves; it may be gone already)
    userns_ = open_userns(pid_);
  UniqueFd master;
  if (plan.terminal) master = receive_fd(sync_.get());
  // The child says 'R' when it is about to exec, or reports a failure.
  char ready = 0;
  ssize_t n;
  do n = ::read(sync_.get(), &ready, 1);
  while (n < 0 && errno == EINTR);
  if (auto report = read_report(err_.get())) throw_child_failure(*report, plan);
  if (n != 1) throw Error("the container's process died while it was being set up");
  if (plan.terminal && !master) throw Error("the container did not hand over its terminal");
  return ContainerProcess(std::exchange(pid_, -1), std::move(userns_), std::move(master), keep_stdin_);
}

ContainerProcess start_container(const Spec& spec, const userns::IdMap& map, bool keep_stdin) {
  ContainerStart start(spec.linux.namespaces, map, ContainerStart::best_mode(map, spec.init));
  start.launch(spec, keep_stdin);
  return start.finish();
}

}  // namespace skiff::runtime
