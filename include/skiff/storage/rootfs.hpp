// A root file system made of unpacked layers: how the runtime is told to
// mount it, and mounting it from skiff itself (a build step's COPY).
#pragma once

#include <filesystem>
#include <vector>

#include "skiff/runtime/spec.hpp"
#include "skiff/storage/layer_store.hpp"

namespace skiff::storage {

// lowers (top first) with upper and work (none: read-only). For kernel
// overlay a lower in layers_dir is named relative to it (the mount data
// then stays under a page for deep images); others keep their full path.
runtime::RootfsLayers rootfs_layers(Driver driver, const std::filesystem::path& layers_dir,
                                    const std::vector<std::filesystem::path>& lowers_top_first,
                                    const std::filesystem::path& upper = {}, const std::filesystem::path& work = {},
                                    bool volatile_upper = false);

// Mounts l at target, from skiff's own process: root of a user namespace
// with a mount namespace of its own. Needs an overlay driver.
void mount_rootfs(const runtime::RootfsLayers& l, const std::filesystem::path& target);
void unmount_rootfs(const std::filesystem::path& target);

}  // namespace skiff::storage
