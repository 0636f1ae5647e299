#include "skiff/engine/container_pause.hpp"

#include <dirent.h>
#include <fmt/format.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <string>

#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

namespace skiff::engine {

namespace {

// "pid:[4026532301]": which pid namespace pid is in; empty when it is gone.
std::string pid_namespace(pid_t pid) {
  char buf[64];
  std::string link = fmt::format("/proc/{}/ns/pid", pid);
  ssize_t n = readlink(link.c_str(), buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

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

std::vector<pid_t> all_pids() {
  std::vector<pid_t> out;
  DIR* d = opendir("/proc");
  if (!d) throw_errno("read /proc");
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    long v = strtol(e->d_name, &end, 10);
    if (end && *end == '\0' && v > 0) out.push_back(static_cast<pid_t>(v));
  }
  closedir(d);
  return out;
}

}  // namespace

ContainerPause::ContainerPause(pid_t init_pid) {
  std::string ns = pid_namespace(init_pid);
  if (ns.empty()) return;  // it has exited meanwhile
  if (ns == pid_namespace(getpid())) throw Error("the container shares skiff's pid namespace: it cannot be paused");
  try {
    for (int round = 0; round < 1000; ++round) {
      bool settled = true;
      for (pid_t pid : all_pids()) {
        if (std::find(stopped_.begin(), stopped_.end(), pid) != stopped_.end()) continue;
        if (pid_namespace(pid) != ns) continue;
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

}  // namespace skiff::engine
