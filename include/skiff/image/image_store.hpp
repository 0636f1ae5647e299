// The image store: content-addressed blobs and the image records (tags).
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/store/paths.hpp"

namespace skiff::image {

// One image: its config digest (the image ID), its manifest and its names.
struct ImageRecord {
  std::string id;                         // "sha256:<config digest hex>"
  std::string manifest;                   // manifest digest
  std::vector<std::string> names;         // "docker.io/library/busybox:latest"
  std::vector<std::string> repo_digests;  // "docker.io/library/busybox@sha256:..."
  std::string created;                    // RFC 3339
  uint64_t size = 0;                      // bytes of the unpacked layers
};

// The parts of an image that running it needs, read from its blobs.
struct ImageContent {
  ImageRecord record;
  nlohmann::json manifest;
  nlohmann::json config;
  std::vector<std::string> diff_ids;  // bottom layer first
};

// A layer as a manifest lists it, with the diff_id the config gives it.
struct LayerRef {
  std::string diff_id;
  std::string digest;
  std::string media_type;
  uint64_t size = 0;  // of the blob
};

// Blobs under root/blobs/sha256, image records in root/images.json.
class ImageStore {
 public:
  explicit ImageStore(const store::Paths& paths) : paths_(paths) {}

  // Stores data as a blob; returns its digest. Idempotent.
  std::string put_blob(std::string_view data);
  // Moves a finished temp file into place under its digest (verified by the caller).
  void commit_blob_file(const std::filesystem::path& tmp, std::string_view digest);
  std::filesystem::path blob_path(std::string_view digest) const;
  bool has_blob(std::string_view digest) const;
  std::string read_blob(std::string_view digest) const;

  std::vector<ImageRecord> list() const;
  // By name (normalised, default tag latest), name@digest, full ID or ID prefix.
  std::optional<ImageRecord> find(std::string_view ref) const;
  // As find, but throws "no such image: REF".
  ImageRecord resolve(std::string_view ref) const;
  ImageContent load(const ImageRecord& record) const;

  // Adds or updates an image; names it takes are removed from other images.
  void add(const ImageRecord& record);
  // Adds name (a full reference) to image id.
  void tag(std::string_view id, const std::string& name);
  // Removes one name; returns the image if it has no names left.
  std::optional<ImageRecord> untag(const std::string& name);
  // Drops the record and the blobs no other image uses.
  void remove(std::string_view id);

  // Every layer diff_id some image needs.
  std::vector<std::string> layers_in_use() const;

 private:
  template <typename Fn>
  void modify(Fn&& fn);
  std::vector<ImageRecord> read_records() const;
  void write_records(const std::vector<ImageRecord>& records);

  store::Paths paths_;
};

// The layers of a stored image, bottom first.
std::vector<LayerRef> image_layers(const ImageContent& content);

// Writes config (the whole image config; its rootfs is filled in from
// layers) and an OCI manifest, and records the image under names (full
// references), keeping the names it already had. size is the unpacked size.
ImageRecord store_image(ImageStore& images, const std::vector<LayerRef>& layers, nlohmann::json config,
                        const std::vector<std::string>& names, uint64_t size);

// "2026-11-22T21:05:00.123456789Z" for now.
std::string rfc3339_now();

}  // namespace skiff::image
