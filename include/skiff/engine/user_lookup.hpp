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

// Reads a file of a running container, path resolved inside its root
// (root_fd: /proc/PID/root) with RESOLVE_IN_ROOT. nullopt when absent.
std::optional<std::string> read_from_root(int root_fd, std::string_view path);

// A user of the image: the process's ids, and the home directory that
// becomes HOME when the image's Env and -e set none.
struct ImageUser {
  runtime::User ids;
  std::string home = "/";  // the passwd entry's, else "/" (runc's default, as docker)
};

// "name", "uid", "name:group", "uid:gid" -> ids, supplementary groups, home.
// Throws Error "unable to find user X: no matching entries in passwd file".
ImageUser resolve_user(std::string_view spec, const std::optional<std::string>& passwd,
                       const std::optional<std::string>& group);

}  // namespace skiff::engine
