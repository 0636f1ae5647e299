#include "skiff/engine/container_detach.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "skiff/engine/container_run.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

namespace skiff::engine {

namespace {

int exit_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 125;
}

// The command's pid, for its signal handler: a Ctrl-C before the container
// runs stops the monitor too (it has left the terminal's session).
pid_t monitor_pid = 0;

void stop_monitor(int sig) {
  if (monitor_pid > 0) kill(monitor_pid, SIGTERM);
  signal(sig, SIG_DFL);
  raise(sig);
}

}  // namespace

Detached run_detached(const store::Paths& paths, RunOptions opts) {
  auto [started_read, started_write] = make_pipe();
  pid_t pid = fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) {
    // The monitor: out of the terminal's session (a closed terminal or a
    // Ctrl-C in it is not for a detached container), and until the
    // container runs, still writing progress and errors to the user.
    started_read.reset();
    setsid();
    // The caller's open files are not the monitor's to keep (a CI runner
    // would wait on its pipes for as long as the container runs): only
    // those --preserve-fds gives the container stay, until it has started.
    opts.started_fd = started_write.release();
    unsigned first = 3 + static_cast<unsigned>(opts.preserve_fds);
    unsigned started = static_cast<unsigned>(opts.started_fd);
    if (started > first) close_range(first, started - 1, 0);
    close_range(std::max(first, started + 1), ~0U, 0);
    Detached d;
    d.in_monitor = true;
    d.status = run_container(paths, opts);
    return d;
  }
  started_write.reset();
  monitor_pid = pid;
  struct sigaction sa {};
  sa.sa_handler = stop_monitor;
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaction(s, &sa, nullptr);
  std::string said;
  char buf[128];
  for (ssize_t n; (n = read(started_read.get(), buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    said.append(buf, static_cast<size_t>(n));
  }
  for (int s : {SIGINT, SIGTERM, SIGHUP}) signal(s, SIG_DFL);
  Detached d;
  if (!said.empty() && said.back() == '\n') {
    said.pop_back();
    d.id = said;
    return d;  // the monitor lives on; init reaps it when it ends
  }
  // It ended before the container ran: it said why.
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  d.status = exit_status(status);
  return d;
}

}  // namespace skiff::engine
