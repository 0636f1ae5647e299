// skiff export: a container's root file system, flattened, as a tar.
#pragma once

#include <string>

#include "skiff/store/paths.hpp"

namespace skiff::engine {

// Writes the container's merged root file system (its image's layers and
// its own changes) to out as a tar, read inside the user namespace so that
// files keep the owners the container sees.
void export_container(const store::Paths& paths, const std::string& container, int out);

}  // namespace skiff::engine
