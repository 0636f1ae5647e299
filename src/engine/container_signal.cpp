#include "skiff/engine/container_signal.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>

#include "skiff/runtime/process_ref.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

namespace skiff::engine {

namespace {

// The first process of a running container, as a pidfd; empty when it has
// ended (its skiff may still be recording it).
UniqueFd open_first_process(const ContainerView& view) {
  if (!view.running || view.state.pid <= 0) return UniqueFd();
  return runtime::open_process({view.state.pid, view.state.pid_start_time});
}

// stop, and kill with a signal that ends it, disable the container's
// restart policy until it is started again (docker's rule): its monitor
// finds this file when the container exits.
void mark_stopped_by_user(const ContainerStore& containers, const ContainerView& view) {
  if (view.record.restart_policy.empty() || view.record.restart_policy == "no") return;
  write_file_atomic(containers.dir(view.record.id) / "stopped", "");
}

bool ends_container(const ContainerView& view, int sig) {
  return sig == SIGKILL || sig == SIGTERM || sig == SIGINT || sig == SIGQUIT ||
         sig == (view.record.stop_signal != 0 ? view.record.stop_signal : SIGTERM);
}

// A monitor between two runs of its container (--restart: waiting, or
// starting it again) ends on SIGTERM, or passes it on to the container it
// has just started.
bool end_restart_wait(const ContainerStore& containers, const ContainerView& view) {
  if (!view.running || view.record.restart_policy == "no") return false;
  if (view.state.status != ContainerStatus::kRestarting && open_first_process(view)) return false;
  if (view.state.status != ContainerStatus::kRestarting && view.state.restart_count == 0) return false;
  UniqueFd runner = open_runner(containers, view);
  return runner && runtime::signal_process(runner.get(), SIGTERM);
}

}  // namespace

void kill_now(const ContainerStore& containers, const ContainerView& view) {
  if (!view.running) return;
  mark_stopped_by_user(containers, view);
  if (UniqueFd process = open_first_process(view)) {
    runtime::signal_process(process.get(), SIGKILL);
    return;
  }
  // Ended, and its skiff records it; unless that skiff may start it again
  // (--restart) or is still making it: then that skiff goes.
  bool restarting = view.state.status == ContainerStatus::kRestarting || view.state.restart_count > 0;
  if (view.state.pid > 0 && !restarting) return;
  if (UniqueFd runner = open_runner(containers, view)) runtime::signal_process(runner.get(), SIGKILL);
}

UniqueFd open_runner(const ContainerStore& containers, const ContainerView& view) {
  if (!view.running || view.record.skiff_pid <= 0) return UniqueFd();
  UniqueFd fd(static_cast<int>(syscall(SYS_pidfd_open, view.record.skiff_pid, 0)));
  if (!fd) return fd;
  // The pid was the runner's while it held the lock; if the lock is still
  // held now, the process the pidfd names is that runner.
  if (!containers.lock_held(view.record.id)) return UniqueFd();
  return fd;
}

std::optional<int> wait_until_recorded(const ContainerStore& containers, const std::string& id) {
  // Its skiff holds the lock until it has written the last state; flock
  // waits for that without polling. The note is "PID START CODE" then.
  // The file is opened, not made: a container removed meanwhile took its
  // lock file with it, and nobody waits on a new one.
  UniqueFd lock(::open(containers.lock_path(id).c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
  if (!lock) return std::nullopt;
  while (flock(lock.get(), LOCK_SH) != 0)
    if (errno != EINTR) throw_errno("lock container");
  char buf[64];
  ssize_t n = pread(lock.get(), buf, sizeof buf, 0);
  std::string note = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  int code = 0;
  size_t last = note.find_last_of(' ');
  if (last == std::string::npos || std::count(note.begin(), note.end(), ' ') != 2) return std::nullopt;
  auto [end, ec] = std::from_chars(note.data() + last + 1, note.data() + note.size(), code);
  if (ec != std::errc()) return std::nullopt;
  return code;
}

void kill_container(const store::Paths& paths, const std::string& key, int sig) {
  ContainerStore containers(paths);
  ContainerView view = containers.resolve(key);
  if (view.running && ends_container(view, sig)) {
    mark_stopped_by_user(containers, view);
    if (end_restart_wait(containers, view)) return;
  }
  UniqueFd process = open_first_process(view);
  if (!process || !runtime::signal_process(process.get(), sig))
    throw Error(fmt::format("can only kill running containers: {} is not running", key));
}

void stop_container(const store::Paths& paths, const std::string& key, int sig, int timeout) {
  ContainerStore containers(paths);
  ContainerView view = containers.resolve(key);
  if (!view.running) return;
  if (sig == 0) sig = view.record.stop_signal != 0 ? view.record.stop_signal : SIGTERM;
  if (timeout < 0) timeout = view.record.stop_timeout;
  mark_stopped_by_user(containers, view);
  if (end_restart_wait(containers, view)) {
    wait_until_recorded(containers, view.record.id);
    return;
  }
  UniqueFd process = open_first_process(view);
  if (process && runtime::signal_process(process.get(), sig) &&
      !runtime::wait_process_exit(process.get(), timeout * 1000))
    runtime::signal_process(process.get(), SIGKILL);
  // A container still being made has no process yet. Its skiff keeps
  // SIGTERM until the container runs, then passes it on; after the
  // timeout, the container (or, still not there, that skiff) is killed.
  if (!process && view.state.pid == 0) {
    if (UniqueFd runner = open_runner(containers, view)) {
      runtime::signal_process(runner.get(), SIGTERM);
      if (!runtime::wait_process_exit(runner.get(), timeout * 1000))
        kill_now(containers, containers.resolve(view.record.id));
    }
  }
  wait_until_recorded(containers, view.record.id);
}

int wait_container(const store::Paths& paths, const std::string& key) {
  ContainerStore containers(paths);
  ContainerView view = containers.resolve(key);
  if (!view.running) return view.state.exit_code;
  // With --rm the record may be gone once the lock is free: the code is
  // in the lock's note.
  std::optional<int> code = wait_until_recorded(containers, view.record.id);
  if (code) return *code;
  return containers.resolve(view.record.id).state.exit_code;
}

}  // namespace skiff::engine
