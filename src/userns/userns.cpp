#include "skiff/userns/userns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"
#include "skiff/util/unique_fd.hpp"

extern char** environ;

namespace skiff::userns {

namespace {

// A new mount namespace starts with the host's propagation; make it private so
// nothing mounted in it shows up on the host.
void mount_private_quietly() {
  mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr);
}

// Child side: report an error text through fd and leave.
[[noreturn]] void child_fail(int fd, std::string_view text) {
  (void)!::write(fd, text.data(), text.size());
  _exit(1);
}

void run_child_fn(int err_fd, const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    child_fail(err_fd, e.what());
  } catch (...) {
    child_fail(err_fd, "unknown error in the user namespace");
  }
  _exit(0);
}

// Parent side: collect the child's error text and status.
int finish(pid_t pid, UniqueFd& err_read, bool throw_on_failure) {
  std::string message;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(err_read.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    message.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw_errno("wait for user-namespace child");
  if (!message.empty()) throw Error(message);
  if (throw_on_failure && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
    throw Error("a process in the user namespace failed");
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

struct Pipes {
  UniqueFd sync_parent, sync_child, err_read, err_write;
  Pipes() {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) throw_errno("socketpair");
    sync_parent.reset(sv[0]);
    sync_child.reset(sv[1]);
    std::tie(err_read, err_write) = make_pipe();
  }
};

// Forks a child in a new user namespace with map applied; returns its pid in
// the parent, and 0 in the child (which then runs as root of the namespace).
pid_t fork_into_userns(const IdMap& map, Pipes& p, int extra_flags) {
  pid_t pid = fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) {
    p.sync_parent.reset();
    p.err_read.reset();
    if (unshare(CLONE_NEWUSER | extra_flags) != 0)
      child_fail(p.err_write.get(), fmt::format("create a user namespace: {}", Error::errno_text(errno)));
    char c = 1;
    if (::write(p.sync_child.get(), &c, 1) != 1 || ::read(p.sync_child.get(), &c, 1) != 1 || c != 1) _exit(1);
    if (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0)
      child_fail(p.err_write.get(), fmt::format("become root in the user namespace: {}", Error::errno_text(errno)));
    if (extra_flags & CLONE_NEWNS) mount_private_quietly();
    return 0;
  }
  p.sync_child.reset();
  p.err_write.reset();
  char c = 0;
  if (::read(p.sync_parent.get(), &c, 1) != 1) {
    finish(pid, p.err_read, true);
    throw Error("the user-namespace child died before its id map was set");
  }
  try {
    apply_id_map(pid, map);
  } catch (...) {
    p.sync_parent.reset();
    int st;
    waitpid(pid, &st, 0);
    throw;
  }
  c = 1;
  if (::write(p.sync_parent.get(), &c, 1) != 1) throw_errno("signal user-namespace child");
  return pid;
}

}  // namespace

void run_in_userns(const IdMap& map, const std::function<void()>& fn, bool with_mount_ns) {
  Pipes p;
  pid_t pid = fork_into_userns(map, p, with_mount_ns ? CLONE_NEWNS : 0);
  if (pid == 0) run_child_fn(p.err_write.get(), fn);
  finish(pid, p.err_read, true);
}

UsernsTask start_in_userns(const IdMap& map, const std::function<void()>& fn) {
  Pipes p;
  pid_t pid = fork_into_userns(map, p, 0);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    run_child_fn(p.err_write.get(), fn);
  }
  return UsernsTask(pid, p.err_read.release());
}

UsernsTask::~UsernsTask() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    int st;
    while (waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
    }
  }
  if (err_fd_ >= 0) ::close(err_fd_);
}

void UsernsTask::wait() {
  UniqueFd err(err_fd_);
  err_fd_ = -1;
  pid_t pid = pid_;
  pid_ = -1;
  finish(pid, err, true);
}

void run_in_existing_userns(int userns_fd, const std::function<void()>& fn) {
  Pipes p;
  pid_t pid = fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) {
    p.err_read.reset();
    // (A skiff that joined the namespace already, as skiff run does, is in
    // it: setns refuses to enter the namespace one is in.)
    struct stat target {
    }, own{};
    bool inside = fstat(userns_fd, &target) == 0 && stat("/proc/self/ns/user", &own) == 0 &&
                  target.st_ino == own.st_ino && target.st_dev == own.st_dev;
    if (!inside && setns(userns_fd, CLONE_NEWUSER) != 0)
      child_fail(p.err_write.get(), fmt::format("join the user namespace: {}", Error::errno_text(errno)));
    if (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0)
      child_fail(p.err_write.get(), fmt::format("become root in the user namespace: {}", Error::errno_text(errno)));
    run_child_fn(p.err_write.get(), fn);
  }
  p.err_write.reset();
  finish(pid, p.err_read, true);
}

int exec_in_userns(const IdMap& map, const std::vector<std::string>& args, const std::vector<std::string>& extra_env) {
  Pipes p;
  pid_t pid = fork_into_userns(map, p, CLONE_NEWNS);
  if (pid == 0) {
    for (const auto& e : extra_env) putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    // As a shell would: 127 for a command not found, 126 for one that cannot run.
    int err = errno;
    fmt::print(stderr, "skiff: exec {}: {}\n", args[0], Error::errno_text(err));
    _exit(err == ENOENT || err == ENOTDIR ? kExitNotFound : kExitCannotInvoke);
  }
  // The shell owns the terminal now; skiff only waits.
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  return finish(pid, p.err_read, false);
}

}  // namespace skiff::userns
