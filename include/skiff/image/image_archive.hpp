// Image archives, as `save` writes them and `load` reads them: docker save's
// docker-archive (manifest.json and repositories, with an OCI image layout
// beside them as docker 25 writes it), oci-archive (an OCI image layout in a
// tar) and oci-dir (the layout as a directory).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/image/image_store.hpp"

namespace skiff::image {

enum class ArchiveFormat { kDockerArchive, kOciArchive, kOciDir };

// "docker-archive", "oci-archive" or "oci-dir"; throws naming the three otherwise.
ArchiveFormat parse_archive_format(std::string_view name);

// "blobs/sha256/<hex>": where an OCI image layout keeps a blob.
std::string blob_entry_name(std::string_view digest);

// The digest an entry name "blobs/sha256/<hex>" promises; "" for other names.
std::string digest_of_blob_entry(std::string_view name);

// A file of an archive, copied out and hashed.
struct ArchiveEntry {
  std::filesystem::path file;
  std::string digest;  // sha256 of its content
  uint64_t size = 0;
};

// Entry name (relative, "blobs/sha256/<hex>", "manifest.json") -> its copy.
using ArchiveEntries = std::map<std::string, ArchiveEntry>;

// A layer an archive carries for an image.
struct ArchivedLayer {
  std::string entry;    // where its blob is in the archive
  std::string diff_id;  // from the image's config
  uint64_t size = 0;    // what an OCI manifest says it is; 0 from a docker manifest.json
};

// One image an archive's metadata lists, its config and manifest read.
struct ArchivedImage {
  std::string config;                 // the config's bytes (its digest is the image ID)
  std::string config_digest;          //
  std::string manifest;               // an OCI layout's manifest; "" from a docker manifest.json
  std::string manifest_digest;        // of manifest when there is one
  std::vector<ArchivedLayer> layers;  // bottom first
  std::vector<std::string> names;     // full references
};

// What the entries read so far tell: the images, once every piece of
// metadata they need is there (manifest.json, or index.json and the
// manifests and configs it leads to); else the entry names still needed.
// Throws an Error for metadata that is malformed or lies about a digest.
struct ArchivePlan {
  std::vector<ArchivedImage> images;
  std::vector<std::string> missing;  // empty: images is complete
};
ArchivePlan plan_archive(const ArchiveEntries& entries);

// A layer blob's media type (OCI's), from its first bytes: tar, tar+gzip or
// tar+zstd. Throws for compression no manifest can name.
std::string layer_media_type(const std::filesystem::path& file);

// The digest of a layer blob's uncompressed content: what its diff_id must be.
std::string layer_diff_id(const std::filesystem::path& file);

// The OCI manifest skiff stores for an image a docker manifest.json listed.
std::string oci_manifest_for(const ArchivedImage& image, const ArchiveEntries& entries);

}  // namespace skiff::image
