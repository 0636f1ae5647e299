#include "skiff/engine/container_start.hpp"

#include "skiff/engine/container_options.hpp"
#include "skiff/engine/container_run.hpp"
#include "skiff/engine/container_signal.hpp"
#include "skiff/engine/container_store.hpp"
#include "skiff/util/error.hpp"

namespace skiff::engine {

std::string create_container(const store::Paths& paths, RunOptions opts) {
  opts.create_only = true;
  std::string id;
  run_container(paths, opts, &id);
  return id;
}

Detached start_container(const store::Paths& paths, const std::string& key, bool attach, bool interactive) {
  ContainerStore containers(paths);
  ContainerView view = containers.resolve(key);
  Detached d;
  if (view.running) {
    d.id = view.record.id;
    return d;
  }
  RunOptions opts = read_container_options(containers.dir(view.record.id));
  opts.existing_id = view.record.id;
  opts.pull = PullPolicy::kNever;
  opts.detach = !attach;
  opts.interactive = opts.interactive && (interactive || !attach);
  if (!attach) return run_detached(paths, opts);
  d.status = run_container(paths, opts);
  d.id = view.record.id;
  return d;
}

Detached restart_container(const store::Paths& paths, const std::string& key, int timeout) {
  stop_container(paths, key, 0, timeout);
  return start_container(paths, key, /*attach=*/false, /*interactive=*/false);
}

}  // namespace skiff::engine
