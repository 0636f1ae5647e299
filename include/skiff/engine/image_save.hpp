// skiff save: stored images as an archive or an OCI layout directory.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "skiff/image/image_archive.hpp"
#include "skiff/store/paths.hpp"

namespace skiff::engine {

struct SaveOptions {
  image::ArchiveFormat format = image::ArchiveFormat::kDockerArchive;
  bool compress = false;  // oci-dir: gzip layers stored uncompressed
};

// Saves the images refs name (by name, the name goes with them; by ID, none)
// to out (an archive) or to dir (oci-dir).
void save_images(const store::Paths& paths, const std::vector<std::string>& refs, const SaveOptions& opts, int out,
                 const std::filesystem::path& dir);

}  // namespace skiff::engine
