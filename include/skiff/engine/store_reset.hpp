// skiff system reset: every container, image, layer and cache goes.
#pragma once

#include "skiff/store/paths.hpp"

namespace skiff::engine {

// Kills running containers (their skiffs then release their locks and exit),
// then removes what store::Paths lists as skiff's in root and runroot (files
// of subordinate ids from inside the user namespace), and the two
// directories when nothing else is left in them.
void reset_store(const store::Paths& paths);

}  // namespace skiff::engine
