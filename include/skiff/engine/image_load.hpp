// skiff load: images from a docker-archive, oci-archive or OCI layout
// directory into the store, their layers unpacked as they stream in.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "skiff/store/paths.hpp"

namespace skiff::engine {

// Where the archive comes from: a file or pipe, or a layout directory.
struct LoadSource {
  int fd = -1;                // a tar, plain or compressed
  std::filesystem::path dir;  // an OCI image layout, when not empty
};

struct LoadedImage {
  std::string id;                  // the config digest
  std::vector<std::string> names;  // full references
};

// Loads every image of the archive. Every blob is verified while it is read
// and every layer against its diff_id while it is unpacked; nothing enters
// images.json or blobs/ unless the whole archive passed.
std::vector<LoadedImage> load_images(const store::Paths& paths, const LoadSource& source);

}  // namespace skiff::engine
