#include "skiff/runtime/container_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "child_steps.hpp"
#include "container_child.hpp"
#include "launch_plan.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"
#include "skiff/util/log.hpp"

namespace skiff::runtime {

namespace {

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD, SIGCONT};

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

[[noreturn]] void throw_child_failure(const ChildReport& r, const Spec& spec, const LaunchPlan& plan) {
  if (r.step == ChildStep::kExec) {
    const std::string& cmd = spec.process.args.front();
    if (r.err == ESRCH)
      throw Error(fmt::format("exec {:?}: executable file not found in $PATH", cmd), 0, {}, kExitNotFound);
    if (r.err == ENOENT) throw Error(fmt::format("exec {:?}: no such file or directory", cmd), 0, {}, kExitNotFound);
    throw Error(fmt::format("exec {:?}", cmd), r.err, {}, kExitCannotInvoke);
  }
  if (r.step == ChildStep::kWorkdir)
    throw Error(fmt::format("change to working directory {}", spec.process.cwd), r.err, {}, kExitCannotInvoke);
  std::string what = child_step_text(r.step);
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

// Reads what is available on from and writes it to to; false at EOF/error.
bool pump(int from, int to) {
  char buf[16384];
  ssize_t n = read(from, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) return false;
  try {
    write_all(to, std::string_view(buf, static_cast<size_t>(n)));
  } catch (const Error&) {
    return false;
  }
  return true;
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
  int interrupts = 0;
  int status = 0;
  for (;;) {
    int r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) break;
    pollfd fds[3] = {{sfd.get(), POLLIN, 0}, {pty_open ? pty_.get() : -1, POLLIN, 0},
                     {stdin_open ? STDIN_FILENO : -1, POLLIN, 0}};
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
          note("interrupted three times: killing the container");
          kill(pid_, SIGKILL);
          continue;
        }
        kill(pid_, sig);
      }
    }
    if (pty_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)))
      if (!pump(pty_.get(), STDOUT_FILENO)) pty_open = false;
    if (stdin_open && (fds[2].revents & (POLLIN | POLLHUP | POLLERR)))
      if (!pump(STDIN_FILENO, pty_.get())) stdin_open = false;
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

ContainerStart::ContainerStart(const Spec& spec, const IdMap& map, bool keep_stdin)
    : spec_(spec), plan_(std::make_unique<LaunchPlan>(make_launch_plan(spec, map.full, keep_stdin))),
      keep_stdin_(keep_stdin) {
  const LaunchPlan& plan = *plan_;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) throw_errno("socketpair");
  UniqueFd sync_parent(sv[0]), sync_child(sv[1]);
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) throw_errno("pipe");
  UniqueFd err_read(p[0]), err_write(p[1]);

  // Signals wait in skiff's queue from here on; wait() forwards them.
  sigset_t set = forwarded_set();
  sigprocmask(SIG_BLOCK, &set, nullptr);

  pid_t pid = static_cast<pid_t>(syscall(SYS_clone, plan.clone_flags | SIGCHLD, nullptr, nullptr, nullptr, 0));
  if (pid < 0) {
    int err = errno;
    throw Error("create the container's namespaces", err,
                err == EPERM || err == ENOSPC
                    ? "unprivileged user namespaces may be disabled (sysctl kernel.unprivileged_userns_clone, "
                      "user.max_user_namespaces)"
                    : "");
  }
  if (pid == 0) {
    sync_parent.reset();
    err_read.reset();
    container_child_main(plan, sync_child.get(), err_write.get());
  }
  sync_ = std::move(sync_parent);
  err_ = std::move(err_read);
  try {
    userns_.reset(::open(fmt::format("/proc/{}/ns/user", pid).c_str(), O_RDONLY | O_CLOEXEC));
    id_map_.emplace(pid, map);
    if (!map.full) {
      // The map is in place already: let the child set itself up now.
      char go = 'G';
      if (::write(sync_.get(), &go, 1) != 1) throw_errno("start the container");
      go_sent_ = true;
    }
  } catch (...) {
    // No destructor runs for a constructor that throws.
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    throw;
  }
  pid_ = pid;
}

ContainerStart::~ContainerStart() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int st;
  waitpid(pid_, &st, 0);
}

ContainerProcess ContainerStart::finish() {
  const LaunchPlan& plan = *plan_;
  id_map_->finish();
  if (!go_sent_) {
    char go = 'G';
    if (::write(sync_.get(), &go, 1) != 1) throw_errno("start the container");
    go_sent_ = true;
  }
  UniqueFd master;
  if (plan.terminal) master = receive_fd(sync_.get());
  // The child says 'R' when it is about to exec, or reports a failure.
  char ready = 0;
  ssize_t n;
  do n = ::read(sync_.get(), &ready, 1);
  while (n < 0 && errno == EINTR);
  ChildReport report{};
  ssize_t got;
  do got = ::read(err_.get(), &report, sizeof report);
  while (got < 0 && errno == EINTR);
  if (got == sizeof report) throw_child_failure(report, spec_, plan);
  if (got != 0 || n != 1) throw Error("the container's process died while it was being set up");
  if (plan.terminal && !master) throw Error("the container did not hand over its terminal");
  return ContainerProcess(std::exchange(pid_, -1), std::move(userns_), std::move(master), keep_stdin_);
}

ContainerProcess start_container(const Spec& spec, const IdMap& map, bool keep_stdin) {
  return ContainerStart(spec, map, keep_stdin).finish();
}

}  // namespace skiff::runtime
