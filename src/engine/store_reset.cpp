#include "skiff/engine/store_reset.hpp"

#include <signal.h>
#include <unistd.h>

#include "skiff/engine/container_signal.hpp"
#include "skiff/engine/container_store.hpp"
#include "skiff/storage/layer_store.hpp"
#include "skiff/store/file_lock.hpp"
#include "skiff/userns/id_map.hpp"
#include "skiff/util/file_io.hpp"

namespace skiff::engine {

void reset_store(const store::Paths& paths) {
  ContainerStore containers(paths);
  for (const auto& c : containers.list())
    if (c.running) {
      kill_now(containers, c);
      wait_until_recorded(containers, c.record.id);
    }
  storage::LayerStore layers(paths, userns::current_id_map());
  for (const auto& entry : paths.root_entries()) layers.remove_tree_as_owner(entry);
  // The runroot holds locks and dev-ahead/, which only containers' mount
  // namespaces cover (so it is empty here).
  for (const auto& entry : paths.runroot_entries()) remove_tree(entry);
  ::rmdir(paths.root.c_str());
  ::rmdir(paths.runroot.c_str());
}

}  // namespace skiff::engine
