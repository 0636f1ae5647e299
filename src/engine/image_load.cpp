#include "skiff/engine/image_load.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "skiff/image/archive_read.hpp"
#include "skiff/image/digest.hpp"
#include "skiff/image/image_archive.hpp"
#include "skiff/image/image_store.hpp"
#include "skiff/storage/layer_store.hpp"
#include "skiff/storage/layer_stream.hpp"
#include "skiff/store/file_lock.hpp"
#include "skiff/userns/id_map.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

namespace skiff::engine {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Unpacks the layers of a plan as their entries arrive: a layer whose blob
// is whole is handed over at once, the others as the reader writes them.
// Layers are keyed by their entry names, which the reader knows.
class LoadUnpacker {
 public:
  LoadUnpacker(const store::Paths& paths, const userns::IdMap& map) : paths_(paths), map_(map), layers_(paths, map) {}

  bool started() const { return stream_.has_value(); }

  // Starts unpacking the plan's layers that are not unpacked yet.
  void start(const image::ArchivePlan& plan, const image::ArchiveEntries& entries) {
    jobs_.clear();
    for (const auto& img : plan.images)
      for (size_t i = 0; i < img.layers.size(); ++i) {
        jobs_.push_back({img.layers[i].diff_id, img.layers[i].entry, i == 0});
        // The stream unpacks the first job of each missing layer.
        if (!has_layer(img.layers[i].diff_id) && made_.insert(img.layers[i].diff_id).second)
          unpacked_[img.layers[i].diff_id] = img.layers[i].entry;
      }
    stream_.emplace(layers_, paths_, map_, jobs_);
    for (const auto& j : jobs_)
      if (auto e = entries.find(j.blob); e != entries.end()) stream_->stored(j.blob, e->second.file);
  }
  void writing(const std::string& name, const fs::path& file) {
    if (stream_) stream_->writing(name, file);
  }
  void progress() {
    if (stream_) stream_->progress();
  }
  void stored(const std::string& name, const fs::path& file) {
    if (stream_) stream_->stored(name, file);
  }
  void abort() {
    if (stream_) stream_->abort();
  }
  // Waits for the unpacking; notes the bytes of each layer unpacked.
  void finish() {
    if (!stream_) return;
    stream_->finish();
    for (size_t i = 0; i < jobs_.size(); ++i)
      if (uint64_t b = stream_->unpacked_bytes(i)) bytes_[jobs_[i].diff_id] = b;
    stream_.reset();
  }
  // A load that failed: the layers it unpacked go again, unless an image
  // uses them meanwhile.
  void discard(const image::ImageStore& images) {
    abort();
    stream_.reset();  // waits for the child
    std::vector<std::string> in_use = images.layers_in_use();
    for (const auto& d : made_) {
      if (!has_layer(d) || std::find(in_use.begin(), in_use.end(), d) != in_use.end()) continue;
      store::FileLock lock(paths_.layer_lock(image::digest_hex(d)));
      store::HeldEntry work = store::hold_new_entry(paths_, "gc", 0700);
      if (::rename(layers_.layer_dir(d).c_str(), (work.path / "layer").c_str()) == 0)
        layers_.remove_tree_as_owner(work.path);
      else
        remove_tree(work.path);
    }
  }
  bool has_layer(const std::string& diff_id) const { return access(layers_.layer_dir(diff_id).c_str(), F_OK) == 0; }
  // Whether the layer was unpacked here from this entry (and so checked
  // against its diff_id).
  bool unpacked_from(const std::string& diff_id, const std::string& entry) const {
    auto it = unpacked_.find(diff_id);
    return it != unpacked_.end() && it->second == entry;
  }
  // The file bytes of a layer unpacked here; 0 for one that was there.
  uint64_t bytes(const std::string& diff_id) const {
    auto it = bytes_.find(diff_id);
    return it == bytes_.end() ? 0 : it->second;
  }

 private:
  store::Paths paths_;
  userns::IdMap map_;
  storage::LayerStore layers_;
  std::vector<storage::LayerJob> jobs_;
  std::optional<storage::LayerStream> stream_;
  std::map<std::string, uint64_t> bytes_;
  std::set<std::string> made_;                   // layers missing when a stream started
  std::map<std::string, std::string> unpacked_;  // diff_id -> the entry it is unpacked from
};

// The complete plan of an archive read to its end, every layer there.
image::ArchivePlan final_plan(const image::ArchiveEntries& entries) {
  image::ArchivePlan plan = image::plan_archive(entries);
  if (!plan.missing.empty()) {
    if (!entries.count("manifest.json") && !entries.count("index.json"))
      throw Error("the archive has neither manifest.json nor index.json: it is not a docker-archive or oci-archive");
    throw Error(fmt::format("the archive lacks {}, which its metadata names", plan.missing.front()));
  }
  if (plan.images.empty()) throw Error("the archive holds no image");
  for (const auto& img : plan.images)
    for (const auto& l : img.layers) {
      auto e = entries.find(l.entry);
      if (e == entries.end()) throw Error(fmt::format("the archive lacks {}, which its metadata names", l.entry));
      if (l.size && e->second.size != l.size)
        throw Error(
            fmt::format("archive entry {} has {} bytes, but its manifest says {}", l.entry, e->second.size, l.size));
    }
  return plan;
}

// Reads an OCI layout directory: its metadata, then the layers it names.
void read_layout(const fs::path& dir, const fs::path& work, image::ArchiveEntries& entries) {
  UniqueFd layout = open_or_throw(dir, O_PATH | O_DIRECTORY);
  if (faccessat(layout.get(), "index.json", F_OK, AT_SYMLINK_NOFOLLOW) != 0)
    throw Error(fmt::format("{} is not an OCI image layout: it has no index.json", dir.string()));
  image::read_layout_entries(layout.get(), {"index.json"}, work, entries);
  for (;;) {
    image::ArchivePlan plan = image::plan_archive(entries);
    if (plan.missing.empty()) {
      std::vector<std::string> layers;
      for (const auto& img : plan.images)
        for (const auto& l : img.layers) layers.push_back(l.entry);
      image::read_layout_entries(layout.get(), layers, work, entries);
      return;
    }
    image::read_layout_entries(layout.get(), plan.missing, work, entries);
  }
}

}  // namespace

std::vector<LoadedImage> load_images(const store::Paths& paths, const LoadSource& source) {
  store::ensure_dirs(paths);
  make_dirs(paths.tmp(), 0700);
  storage::sweep_abandoned_work(paths);  // what a killed load or pull left
  image::ImageStore store(paths);
  userns::IdMap map = userns::current_id_map();
  // Every entry is copied into this directory; what passes is renamed into
  // blobs/ at the end, and the rest goes with it (or with the next sweep
  // when skiff is killed).
  store::HeldEntry work = store::hold_new_entry(paths, "load", 0700);
  struct Cleanup {
    const fs::path& path;
    ~Cleanup() { remove_tree(path); }
  } cleanup{work.path};

  image::ArchiveEntries entries;
  LoadUnpacker unpacker(paths, map);
  image::ArchivePlan plan;
  try {
    if (!source.dir.empty()) {
      read_layout(source.dir, work.path, entries);
    } else {
      image::ArchiveReadEvents events;
      events.begin = [&](const std::string& name, const fs::path& file) { unpacker.writing(name, file); };
      events.progress = [&] { unpacker.progress(); };
      // Once the metadata is all there (skiff writes it first), layers
      // are unpacked while the rest of the archive streams in.
      events.done = [&](const std::string& name) {
        if (unpacker.started()) return unpacker.stored(name, entries.at(name).file);
        image::ArchivePlan early = image::plan_archive(entries);
        if (early.missing.empty() && !early.images.empty()) unpacker.start(early, entries);
      };
      image::read_archive(source.fd, work.path, entries, events);
    }
    plan = final_plan(entries);
    if (!unpacker.started()) unpacker.start(plan, entries);
    unpacker.finish();
    // A plan that changed once the archive was whole (an index.json seen
    // before manifest.json): the layers the first one did not name.
    bool all = true;
    for (const auto& img : plan.images)
      for (const auto& l : img.layers) all = all && unpacker.has_layer(l.diff_id);
    if (!all) {
      unpacker.start(plan, entries);
      unpacker.finish();
    }
    // A layer that was there already was not unpacked from this archive:
    // its blob is checked against the diff_id it claims all the same, so
    // that the image's manifest never names a blob of other content.
    for (const auto& img : plan.images)
      for (const auto& l : img.layers) {
        const image::ArchiveEntry& e = entries.at(l.entry);
        if (e.digest == l.diff_id || unpacker.unpacked_from(l.diff_id, l.entry)) continue;
        if (image::layer_diff_id(e.file) != l.diff_id)
          throw Error(
              fmt::format("archive entry {} does not match the diff_id {} of its image's config", l.entry, l.diff_id));
      }
  } catch (const Error& e) {
    try {
      unpacker.discard(store);
    } catch (const Error&) {
      // Left for garbage collection: no image uses them.
    }
    throw e.with_context("load");
  }

  // The manifests of images a manifest.json listed name their layers' media
  // types, which their blobs' first bytes tell: read before the blobs move.
  std::vector<std::string> manifests;
  for (const auto& img : plan.images)
    manifests.push_back(img.manifest.empty() ? image::oci_manifest_for(img, entries) : img.manifest);
  // Everything is verified: the blobs go into the store, then the records.
  std::set<std::string> committed;
  for (const auto& img : plan.images)
    for (const auto& l : img.layers) {
      const image::ArchiveEntry& e = entries.at(l.entry);
      if (committed.count(e.digest) || store.has_blob(e.digest)) continue;
      UniqueFd fd = open_or_throw(e.file, O_RDONLY);
      if (fsync(fd.get()) != 0) throw_errno(fmt::format("fsync {}", l.entry));
      store.commit_blob_file(e.file, e.digest);
      committed.insert(e.digest);
    }
  std::vector<LoadedImage> out;
  for (size_t k = 0; k < plan.images.size(); ++k) {
    const image::ArchivedImage& img = plan.images[k];
    const std::string& manifest = manifests[k];
    store.put_blob(img.config);
    image::ImageRecord rec;
    if (auto existing = store.find(img.config_digest); existing && existing->id == img.config_digest) rec = *existing;
    rec.id = img.config_digest;
    rec.manifest = store.put_blob(manifest);
    for (const auto& n : img.names)
      if (std::find(rec.names.begin(), rec.names.end(), n) == rec.names.end()) rec.names.push_back(n);
    if (rec.created.empty()) {
      try {
        rec.created = json::parse(img.config).value("created", "");
      } catch (const json::exception&) {
      }
      if (rec.created.empty()) rec.created = image::rfc3339_now();
    }
    if (rec.size == 0)
      for (const auto& l : img.layers) {
        uint64_t b = unpacker.bytes(l.diff_id);
        rec.size += b ? b : entries.at(l.entry).size;
      }
    store.add(rec);
    out.push_back({rec.id, img.names});
  }
  return out;
}

}  // namespace skiff::engine
