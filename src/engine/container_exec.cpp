#include "skiff/engine/container_exec.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "skiff/engine/container_config.hpp"
#include "skiff/engine/container_run.hpp"
#include "skiff/engine/container_store.hpp"
#include "skiff/engine/user_lookup.hpp"
#include "skiff/runtime/container_exec.hpp"
#include "skiff/util/error.hpp"

namespace skiff::engine {

namespace {

// Sets NAME=VALUE in env, replacing an entry of that name.
void set_env(std::vector<std::string>& env, const std::string& kv) {
  std::string name = kv.substr(0, kv.find('='));
  auto it =
      std::find_if(env.begin(), env.end(), [&](const std::string& e) { return e.substr(0, e.find('=')) == name; });
  if (it != env.end())
    *it = kv;
  else
    env.push_back(kv);
}

}  // namespace

int exec_in_container(const store::Paths& paths, const ExecOptions& opts) {
  if (opts.args.empty()) throw Error("no command given", 0, "give a command after the container's name");
  if (opts.workdir && (opts.workdir->empty() || (*opts.workdir)[0] != '/'))
    throw Error(fmt::format("the working directory {:?} is not an absolute path", *opts.workdir));
  ContainerStore containers(paths);
  ContainerView view = containers.resolve(opts.container);
  auto not_running = [&] { return Error(fmt::format("container {} is not running", opts.container)); };
  if (!view.running || view.state.pid <= 0) throw not_running();
  ContainerConfig config = read_container_config(containers.dir(view.record.id));
  // Pinned by a pidfd and checked to be the child of the skiff that runs
  // the container: a pid the kernel gave to another process since is not
  // joined.
  std::optional<runtime::ContainerJoin> join =
      runtime::ContainerJoin::open(view.state.pid, view.state.pid_start_time, view.record.skiff_pid);
  if (!join) throw not_running();

  runtime::Spec spec;
  spec.process = config.process;
  spec.process.args = opts.args;
  spec.process.terminal = opts.tty;
  if (opts.workdir) spec.process.cwd = *opts.workdir;
  if (opts.user) {
    // The container's own /etc/passwd and /etc/group, as they are now.
    ImageUser u = resolve_user(*opts.user, read_from_root(join->root_fd(), "/etc/passwd"),
                               read_from_root(join->root_fd(), "/etc/group"));
    if (!join->maps_uid(u.ids.uid) || !join->maps_gid(u.ids.gid))
      throw Error(fmt::format("user {}:{} does not exist in the container's user namespace", u.ids.uid, u.ids.gid), 0,
                  "without /etc/subuid and /etc/subgid ranges only root (0) exists in a container");
    std::erase_if(u.ids.additionalGids, [&](uint32_t g) { return !join->maps_gid(g); });
    u.ids.umask = spec.process.user.umask;
    spec.process.user = u.ids;
    if (config.home_from_user) set_env(spec.process.env, "HOME=" + u.home);
  }
  if (opts.tty && std::none_of(spec.process.env.begin(), spec.process.env.end(),
                               [](const std::string& e) { return e.rfind("TERM=", 0) == 0; }))
    set_env(spec.process.env, "TERM=xterm");
  for (const auto& e : opts.env) set_env(spec.process.env, e);

  RunOptions security;
  security.privileged = opts.privileged;
  security.seccomp = config.seccomp;
  security.seccomp_profile = config.seccomp_profile;
  if (opts.privileged) spec.process.capabilities = container_capabilities(security);
  // The program the container's process got (the store keeps it, by the
  // profile and the capabilities); none for --privileged.
  apply_seccomp(paths, security, spec);
  return runtime::exec_process(*join, spec, opts.interactive, opts.detach);
}

}  // namespace skiff::engine
