// Writing images as archives: `skiff save`.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "skiff/image/image_archive.hpp"
#include "skiff/image/image_store.hpp"

namespace skiff::image {

// An image to save, with the names (full references) the archive gives it.
struct SavedImage {
  ImageRecord record;
  std::vector<std::string> names;
};

// Writes the images as a docker-archive or oci-archive tar to out: the
// metadata first (so that a reader may start unpacking layers as they
// come), then every blob once, layers as they are stored (gzip stays gzip).
void write_image_archive(const ImageStore& store, const std::vector<SavedImage>& images, ArchiveFormat format, int out);

// Writes the images as an OCI image layout into dir, which must not exist or
// be empty. With compress, layers stored uncompressed are written
// gzip-compressed (and their manifests changed to say so).
void write_image_dir(const ImageStore& store, const std::vector<SavedImage>& images, const std::filesystem::path& dir,
                     bool compress);

}  // namespace skiff::image
