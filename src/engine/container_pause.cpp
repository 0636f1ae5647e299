#include "skiff/engine/container_pause.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <string>

#include "skiff/engine/container_store.hpp"
#include "skiff/engine/container_top.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

namespace skiff::engine {

namespace {

// The state letter of /proc/PID/stat ('T' stopped, 'Z' zombie, ...); 0 when
// the process is gone.
char process_state(pid_t pid) {
  std::optional<std::string> stat;
  try {
    stat = read_file_if_exists(fmt::format("/proc/{}/stat", pid));
  } catch (const Error&) {
    return 0;  // gone between open and read
  }
  if (!stat) return 0;
  size_t paren = stat->rfind(')');  // the command name may hold anything
  return paren != std::string::npos && paren + 2 < stat->size() ? (*stat)[paren + 2] : 0;
}

}  // namespace

ContainerPause::ContainerPause(pid_t init_pid) {
  std::optional<PidNamespace> ns = pid_namespace_of(init_pid);
  if (!ns) return;  // it has exited meanwhile
  if (ns == pid_namespace_of(getpid())) throw Error("the container shares skiff's pid namespace: it cannot be paused");
  try {
    for (int round = 0; round < 1000; ++round) {
      bool settled = true;
      for (pid_t pid : pids_in_namespace(*ns)) {
        if (std::find(stopped_.begin(), stopped_.end(), pid) != stopped_.end()) continue;
        if (kill(pid, SIGSTOP) != 0) {
          if (errno == ESRCH) continue;
          throw_errno(fmt::format("stop process {} of the container", pid));
        }
        stopped_.push_back(pid);
        settled = false;
      }
      for (pid_t pid : stopped_) {
        char s = process_state(pid);
        if (s != 0 && s != 'T' && s != 't' && s != 'Z' && s != 'X') settled = false;
      }
      if (settled) return;
      struct timespec ts {
        0, 1000000
      };
      nanosleep(&ts, nullptr);
    }
    throw Error("the container's processes did not stop");
  } catch (...) {
    for (pid_t pid : stopped_) kill(pid, SIGCONT);
    throw;
  }
}

ContainerPause::~ContainerPause() {
  for (auto it = stopped_.rbegin(); it != stopped_.rend(); ++it) kill(*it, SIGCONT);
}

// docker pause freezes the container's cgroup, which skiff cannot do: it
// puts a container in no cgroup of its own (nothing is delegated to an
// unprivileged user on cgroup v1 or hybrid hosts, and often not on v2),
// and stopping each process with SIGSTOP instead, as commit does for a
// moment, is not a pause: the processes and their parents see it (waitpid
// reports them stopped, and a SIGCONT from inside resumes them). So pause
// says why it cannot, after docker's checks, and changes nothing.
void pause_container(const store::Paths& paths, const std::string& key) {
  container_pids(paths, key);  // "container KEY is not running" when it is not
  throw Error(fmt::format(
      "cannot pause container {}: it is in no cgroup of its own, so there is no cgroup freezer to stop it with; "
      "nothing was changed",
      key));
}

void unpause_container(const store::Paths& paths, const std::string& key) {
  ContainerStore(paths).resolve(key);  // "no such container: KEY"
  throw Error(
      fmt::format("container {} is not paused: skiff cannot pause a container, which is in no cgroup of its own", key));
}

}  // namespace skiff::engine
