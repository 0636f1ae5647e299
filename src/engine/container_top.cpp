#include "skiff/engine/container_top.hpp"

#include <dirent.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <memory>

#include "skiff/engine/container_store.hpp"
#include "skiff/runtime/process_ref.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/unique_fd.hpp"

namespace skiff::engine {

std::optional<PidNamespace> pid_namespace_of(pid_t pid, const std::filesystem::path& proc) {
  struct stat st {};
  std::string link = (proc / std::to_string(pid) / "ns" / "pid").string();
  if (stat(link.c_str(), &st) != 0) return std::nullopt;
  return PidNamespace{.dev = st.st_dev, .ino = st.st_ino};
}

std::vector<pid_t> pids_in_namespace(const PidNamespace& ns, const std::filesystem::path& proc) {
  std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir(proc.c_str()), closedir);
  if (!dir) throw_errno(fmt::format("read {}", proc.string()));
  std::vector<pid_t> out;
  while (dirent* e = readdir(dir.get())) {
    std::string_view name = e->d_name;
    pid_t pid = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (ec != std::errc() || end != name.data() + name.size() || pid <= 0) continue;
    // A process the caller may not inspect (another user's) cannot be
    // stat'ed here; the container's are the caller's, or in a user
    // namespace the caller owns.
    if (pid_namespace_of(pid, proc) == ns) out.push_back(pid);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<pid_t> container_pids(const store::Paths& paths, const std::string& key) {
  ContainerStore containers(paths);
  ContainerView view = containers.resolve(key);
  auto not_running = [&] { return Error(fmt::format("container {} is not running", key)); };
  if (!view.running || view.state.pid <= 0) throw not_running();
  // The pidfd holds the process checked by its start time: its pid cannot
  // go to another process before the pidfd says it has ended, so a
  // namespace read while it still lives afterwards is the container's.
  UniqueFd first = runtime::open_process({view.state.pid, view.state.pid_start_time});
  if (!first) throw not_running();
  std::optional<PidNamespace> ns = pid_namespace_of(view.state.pid);
  if (!ns || runtime::wait_process_exit(first.get(), 0)) throw not_running();
  if (ns == pid_namespace_of(getpid()))
    throw Error(
        fmt::format("container {} shares skiff's pid namespace: its processes cannot be told from the host's", key));
  std::vector<pid_t> pids = pids_in_namespace(*ns);
  if (pids.empty()) throw not_running();
  return pids;
}

}  // namespace skiff::engine
