// Making an image from layers and a config: the last step of a build and
// all of `skiff commit`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "skiff/image/image_store.hpp"
#include "skiff/store/paths.hpp"

namespace skiff::engine {

// A layer of an image being made, as its manifest describes it.
struct LayerRef {
  std::string diff_id;
  std::string digest;
  std::string media_type;
  uint64_t size = 0;  // of the blob
};

// The layers of a stored image, bottom first.
std::vector<LayerRef> image_layers(const image::ImageContent& content);

// Writes config (the whole image config; its rootfs is filled in from
// layers) and an OCI manifest, and records the image under names (full
// references), keeping the names it already had. size is the unpacked size.
image::ImageRecord store_image(image::ImageStore& images, const std::vector<LayerRef>& layers, nlohmann::json config,
                               const std::vector<std::string>& names, uint64_t size);

struct CommitOptions {
  std::vector<std::string> changes;  // Dockerfile instructions: CMD, ENV, ...
  std::string message;
  std::string author;
  std::string name;  // full reference; empty: an image without a name
};

// `skiff commit`: the container's changes as a new layer on its image.
image::ImageRecord commit_container(const store::Paths& paths, const std::string& container, const CommitOptions& opts);

// `skiff diff`: "A /path", "C /path", "D /path", sorted by path.
std::vector<std::string> container_changes(const store::Paths& paths, const std::string& container);

}  // namespace skiff::engine
