// Removing containers: the record, the writable layer, the name.
#pragma once

#include <string>

#include "skiff/store/paths.hpp"

namespace skiff::engine {

// Removes one container by name or id. A running one is refused unless force,
// which kills it first and waits for its skiff to let go. Returns its id.
std::string remove_container(const store::Paths& paths, const std::string& name_or_id, bool force);

}  // namespace skiff::engine
