// Resolving USER / --user against the image's /etc/passwd and /etc/group.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/runtime/spec.hpp"

namespace skiff::engine {

// Reads a file of the container's rootfs from its layers (top first) without
// following any symlink out of a layer. nullopt when absent or deleted.
std::optional<std::string> read_from_layers(const std::vector<std::filesystem::path>& layers_top_first,
                                            std::string_view path_in_image);

// "name", "uid", "name:group", "uid:gid" -> ids and supplementary groups.
// Throws Error "unable to find user X: no matching entries in passwd file".
runtime::User resolve_user(std::string_view spec, const std::optional<std::string>& passwd,
                           const std::optional<std::string>& group);

}  // namespace skiff::engine
