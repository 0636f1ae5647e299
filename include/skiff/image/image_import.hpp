// `skiff import`: a root filesystem tarball becomes a one-layer image.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "skiff/image/image_store.hpp"

namespace skiff::image {

struct ImportOptions {
  nlohmann::json config = nlohmann::json::object();  // the config's "config" (after --change)
  std::string message;                               // history comment
  std::vector<std::string> names;                    // full references to tag
};

// Reads a tar (plain, gzip, zstd, xz) from fd, stores it uncompressed as a
// layer blob with its manifest and config, and records the image. Checks every
// entry name first: an archive that would write outside its root is refused.
ImageRecord import_tarball(ImageStore& store, const store::Paths& paths, int fd, const ImportOptions& opts);

}  // namespace skiff::image
