#include "skiff/engine/container_remove.hpp"

#include <signal.h>
#include <unistd.h>

#include <optional>

#include "skiff/engine/container_signal.hpp"
#include "skiff/engine/container_store.hpp"
#include "skiff/engine/image_remove.hpp"
#include "skiff/image/image_store.hpp"
#include "skiff/storage/layer_store.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/log.hpp"

namespace skiff::engine {

std::string remove_container(const store::Paths& paths, const std::string& key, bool force) {
  ContainerStore containers(paths);
  ContainerView view = containers.resolve(key);
  const std::string& id = view.record.id;
  if (view.running) {
    if (!force)
      throw Error(
          fmt::format("cannot remove container {}: container is running: stop the container before "
                      "removing or force remove",
                      key));
    kill_now(containers, view);
  }
  // The skiff that ran it holds this lock until it has written its last state;
  // taking it means that skiff is done (flock is released when it exits).
  store::FileLock lock = containers.lock(id);
  // Removed by another skiff rm while this one waited for the lock: only
  // one of them says it removed it, as with docker. (The skiff of a run --rm
  // removes its container when it ends: rm -f of it did what was asked.)
  if (access((containers.dir(id) / "container.json").c_str(), F_OK) != 0 && errno == ENOENT &&
      !view.record.auto_remove) {
    // Taking the lock made its file anew once the other rm had removed it.
    ::unlink(containers.lock_path(id).c_str());
    throw Error(fmt::format("no such container: {}", key));
  }
  userns::IdMap map = userns::current_id_map();
  storage::LayerStore layers(paths, map);
  auto remover = [&](const std::filesystem::path& dir) { layers.remove_container_dir(dir); };
  containers.remove(view.record, remover);
  // And whatever a killed skiff left, while at it.
  containers.remove_abandoned(remover);
  // Layers only this container kept alive go with it.
  collect_unused_layers(paths, layers);
  return id;
}

namespace {

namespace fs = std::filesystem;

// Removes container directories as their owner (in the user namespace when
// files belong to subordinate ids); the id map is read at the first one.
class LazyRemover {
 public:
  explicit LazyRemover(const store::Paths& paths) : paths_(paths) {}
  void operator()(const fs::path& dir) { layers().remove_container_dir(dir); }
  bool used() const { return layers_.has_value(); }
  storage::LayerStore& layers() {
    if (!layers_) layers_.emplace(paths_, userns::current_id_map());
    return *layers_;
  }

 private:
  const store::Paths& paths_;
  std::optional<storage::LayerStore> layers_;
};

// What the files under dir take, as far as skiff can read them.
uint64_t tree_size(const fs::path& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end; it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec) && !it->is_symlink(size_ec)) {
      auto n = it->file_size(size_ec);
      if (!size_ec) total += n;
    }
  }
  return total;
}

}  // namespace

int remove_left_by_killed_runs(const store::Paths& paths, std::vector<ContainerView>& views) {
  ContainerStore containers(paths);
  LazyRemover remover(paths);
  std::function<void(const fs::path&)> remove_dir = [&](const fs::path& d) { remover(d); };
  int removed = 0;
  std::erase_if(views, [&](const ContainerView& v) {
    if (v.running || !v.record.auto_remove) return false;
    try {
      if (!containers.remove_if_left_by_killed_run(v.record.id, remove_dir)) return false;
    } catch (const Error& e) {
      warn(fmt::format("could not remove container {} (run with --rm): {}", v.record.id.substr(0, 12), e.what()));
      return false;
    }
    ++removed;
    return true;
  });
  // Layers only these containers kept alive go with them.
  if (removed) collect_unused_layers(paths, remover.layers());
  return removed;
}

bool remove_left_by_killed_run(const store::Paths& paths, const std::string& name) {
  ContainerStore containers(paths);
  std::optional<std::string> id = containers.id_of_name(name);
  if (!id) return false;
  LazyRemover remover(paths);
  if (!containers.remove_if_left_by_killed_run(*id, [&](const fs::path& d) { remover(d); })) return false;
  collect_unused_layers(paths, remover.layers());
  return true;
}

PruneResult prune_containers(const store::Paths& paths) {
  ContainerStore containers(paths);
  LazyRemover remover(paths);
  PruneResult out;
  for (const auto& v : containers.list()) {
    if (v.running) continue;
    // Held while it goes, as skiff rm does; free since it does not run.
    auto lock = containers.try_lock(v.record.id);
    if (!lock.held()) continue;  // started meanwhile: it runs
    uint64_t size = tree_size(containers.dir(v.record.id));
    containers.remove(v.record, [&](const fs::path& d) { remover(d); });
    out.removed.push_back(v.record.id);
    out.reclaimed += size;
  }
  containers.remove_abandoned([&](const fs::path& d) { remover(d); });
  if (!out.removed.empty()) collect_unused_layers(paths, remover.layers());
  return out;
}

}  // namespace skiff::engine
