#include "skiff/engine/container_remove.hpp"

#include <signal.h>

#include "skiff/engine/container_store.hpp"
#include "skiff/engine/layer_store.hpp"
#include "skiff/image/image_store.hpp"
#include "skiff/util/error.hpp"

namespace skiff::engine {

std::string remove_container(const store::Paths& paths, const std::string& key, bool force) {
  ContainerStore containers(paths);
  ContainerView view = containers.resolve(key);
  const std::string& id = view.record.id;
  if (view.running) {
    if (!force)
      throw Error(fmt::format("cannot remove container {}: container is running: stop the container before "
                              "removing or force remove",
                              key));
    // Still being set up (no process yet): stop the skiff that is making it.
    // Its lock is held, so that pid is alive and is that skiff.
    if (view.state.pid > 0) kill(view.state.pid, SIGKILL);
    else if (view.record.skiff_pid > 0) kill(view.record.skiff_pid, SIGKILL);
  }
  // The skiff that ran it holds this lock until it has written its last state;
  // taking it means that skiff is done (flock is released when it exits).
  store::FileLock lock(containers.lock_path(id));
  runtime::IdMap map = runtime::current_id_map();
  LayerStore layers(paths, map);
  auto remover = [&](const std::filesystem::path& dir) { layers.remove_container_dir(dir); };
  containers.remove(view.record, remover);
  // And whatever a killed skiff left, while at it.
  containers.remove_abandoned(remover);
  // Layers only this container kept alive go with it.
  layers.collect_garbage(image::ImageStore(paths));
  return id;
}

}  // namespace skiff::engine
