// Removing containers: the record, the writable layer, the name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "skiff/engine/container_store.hpp"
#include "skiff/store/paths.hpp"

namespace skiff::engine {

// Removes one container by name or id. A running one is refused unless force,
// which kills it first and waits for its skiff to let go. Returns its id.
std::string remove_container(const store::Paths& paths, const std::string& name_or_id, bool force);

// Removes the containers of views that a `run --rm` whose skiff was killed
// left (ContainerStore::remove_if_left_by_killed_run) and drops them from
// views: with no daemon, the command that meets one does what that skiff
// would have done. Costs nothing more when there is none (the id map and
// the user namespace are only used for one). Returns how many went.
int remove_left_by_killed_runs(const store::Paths& paths, std::vector<ContainerView>& views);
// The same for the container that has name, if any: true when it went.
bool remove_left_by_killed_run(const store::Paths& paths, const std::string& name);

// skiff container prune: removes every container that does not run.
struct PruneResult {
  std::vector<std::string> removed;  // ids
  uint64_t reclaimed = 0;            // bytes of their writable layers (those skiff could read)
};
PruneResult prune_containers(const store::Paths& paths);

}  // namespace skiff::engine
