// Unpacking layers while they download. A child in the user namespace
// (forked before any download thread starts) unpacks the layers in order,
// each read from its blob file as the download writes it, and moves a layer
// into place only once its blob has been verified against its digest.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "skiff/storage/layer_store.hpp"
#include "skiff/store/file_lock.hpp"
#include "skiff/userns/userns.hpp"

namespace skiff::storage {

struct LayerJob {
  std::string diff_id;
  std::string blob;     // digest of the (compressed) blob, or any key the writer uses for it
  bool bottom = false;  // the bottom layer of an image (the first job always is)
};

class LayerStream {
 public:
  // Starts the unpacking child for the layers of jobs (bottom first) that are
  // not unpacked yet. Call before starting download threads.
  LayerStream(LayerStore& layers, const store::Paths& paths, const userns::IdMap& map,
              const std::vector<LayerJob>& jobs);
  ~LayerStream();
  LayerStream(const LayerStream&) = delete;
  LayerStream& operator=(const LayerStream&) = delete;

  // The download of blob is writing to file (called from download threads).
  void writing(const std::string& blob, const std::filesystem::path& file);
  // A download wrote more to its file: the child reads on.
  void progress();
  // blob is verified and stored at file.
  void stored(const std::string& blob, const std::filesystem::path& file);
  // Downloads stopped: the child gives up.
  void abort();
  // Waits until every layer is unpacked; throws the child's error.
  void finish();
  // After finish: the file bytes of job index's layer, 0 if it was not
  // unpacked here (it was already there).
  uint64_t unpacked_bytes(size_t index) const;

 private:
  struct Shared;
  Shared* shared_ = nullptr;
  size_t shared_size_ = 0;
  std::vector<std::string> blobs_;  // slot -> blob digest
  std::vector<store::FileLock> locks_;
  std::optional<userns::UsernsTask> task_;
};

}  // namespace skiff::storage
