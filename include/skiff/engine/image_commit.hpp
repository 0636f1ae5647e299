// Making an image from layers and a config: the last step of a build and
// all of `skiff commit`.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "skiff/image/image_store.hpp"
#include "skiff/store/paths.hpp"

namespace skiff::engine {

using image::LayerRef;

struct CommitOptions {
  std::vector<std::string> changes;  // Dockerfile instructions: CMD, ENV, ...
  std::string message;
  std::string author;
  std::string name;   // full reference; empty: an image without a name
  bool pause = true;  // stop a running container's processes while its changes are read
};

// `skiff commit`: the container's changes as a new layer on its image.
image::ImageRecord commit_container(const store::Paths& paths, const std::string& container, const CommitOptions& opts);

// `skiff diff`: "A /path", "C /path", "D /path", sorted by path.
std::vector<std::string> container_changes(const store::Paths& paths, const std::string& container);

}  // namespace skiff::engine
