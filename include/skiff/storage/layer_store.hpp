// Unpacked layers (overlay lowerdirs) and the storage driver, kept true to
// the id map they were unpacked under.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "skiff/image/image_store.hpp"
#include "skiff/runtime/spec.hpp"
#include "skiff/store/file_lock.hpp"
#include "skiff/store/paths.hpp"
#include "skiff/userns/id_map.hpp"
#include "skiff/util/unique_fd.hpp"

namespace skiff::storage {

using Driver = runtime::RootfsLayers::Driver;

std::string driver_name(Driver d);

// What the store was set up with: root/storage.json.
struct StorageInfo {
  Driver driver = Driver::kOverlay;
  std::string idmap;  // IdMap::key() the layers were unpacked under
};

class LayerStore {
 public:
  LayerStore(const store::Paths& paths, const userns::IdMap& map) : paths_(paths), map_(map) {}

  // The storage driver in use, probed (and recorded) on first use:
  // kernel overlay in a user namespace, else fuse-overlayfs, else copy.
  // SKIFF_STORAGE_DRIVER=overlay|fuse-overlayfs|copy forces one.
  StorageInfo storage();

  std::filesystem::path layer_dir(const std::string& diff_id) const;
  // Whether every layer of the image is unpacked already.
  bool has_all(const image::ImageContent& content) const;
  // Unpacks every layer not yet there, from its blob, inside the user
  // namespace (so files keep the image's owners as subordinate ids).
  void ensure(const image::ImageStore& images, const image::ImageContent& content);

  // A layer to put on top of an image's (layers top first): empty /proc,
  // /dev, /sys and /etc/hosts, /etc/hostname, /etc/resolv.conf, the mount
  // points every container needs, so that a start does not create them in
  // its upper layer (file creation is the dearest part of a start and of the
  // cleanup after it). Made once per store. None when the image has
  // something other than a directory at /etc, /proc, /dev or /sys.
  std::optional<std::filesystem::path> mount_points_layer(const std::vector<std::filesystem::path>& top_first) const;

  // Takes the unpack locks of these layers, in one global order (sorted by
  // digest) so that two pulls or runs sharing layers never wait on each other
  // in a circle.
  std::vector<store::FileLock> lock_layers(std::vector<std::string> diff_ids) const;

  // Removes what killed skiffs left in tmp/: unpacks, downloads, imports,
  // builds, commits (live work holds its entry: store::hold_new_entry).
  // The one sweep every command that works in tmp/ runs first.
  void sweep_abandoned_work() const;

  // Removes unpacked layers whose diff ids in_use does not list (with
  // the images' and the containers' layers: engine::collect_unused_layers).
  void collect_garbage(const std::vector<std::string>& in_use);

  // Deletes a tree; files owned by subordinate ids are removed from inside
  // the user namespace (joining userns_fd when given, else a new one).
  void remove_tree_as_owner(const std::filesystem::path& path, int userns_fd = -1) const;
  // A container's directory (its writable layer and overlay's work
  // directory), as remove_tree_as_owner.
  void remove_container_dir(const std::filesystem::path& dir, int userns_fd = -1) const;

 private:
  StorageInfo probe();
  store::Paths paths_;
  userns::IdMap map_;
  std::optional<StorageInfo> info_;
};

// LayerStore::sweep_abandoned_work with the caller's id map, for commands
// that have no LayerStore of their own (import, pull).
void sweep_abandoned_work(const store::Paths& paths);

}  // namespace skiff::storage
