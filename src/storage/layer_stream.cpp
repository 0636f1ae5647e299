#include "skiff/storage/layer_stream.hpp"

#include <fcntl.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "skiff/image/digest.hpp"
#include "skiff/image/layer_unpack.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

namespace skiff::storage {

namespace fs = std::filesystem;

// One layer's place in the shared page (named, not in an anonymous
// namespace: LayerStream::Shared, which has linkage, holds them).
namespace stream {

enum SlotState : uint32_t { kWaiting = 0, kWriting = 1, kStored = 2 };

struct Slot {
  std::atomic<uint32_t> state{kWaiting};
  std::atomic<uint64_t> unpacked{0};  // file bytes the layer holds, once unpacked
  char tmp_path[512] = {0};
  char final_path[512] = {0};
};

}  // namespace stream

using stream::kStored;
using stream::kWaiting;
using stream::kWriting;
using stream::Slot;

namespace {

// Waits (up to 100 ms) until *word is no longer seen. The word lives in a
// MAP_SHARED mapping, so this is a process-shared futex.
void futex_wait(std::atomic<uint32_t>* word, uint32_t seen) {
  timespec ts{0, 100 * 1000 * 1000};
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT, seen, &ts, nullptr, 0);
}

// Waits until ready() holds; false if the pull was abandoned first. Reading
// seq before looking means a change in between makes futex_wait return at
// once: no wake-up is lost.
template <typename Ready>
bool wait_until(std::atomic<uint32_t>* seq, std::atomic<uint32_t>* aborted, Ready ready) {
  for (;;) {
    uint32_t seen = seq->load();
    if (ready()) return true;
    if (aborted->load()) return false;
    futex_wait(seq, seen);
  }
}

void futex_wake(std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE, INT32_MAX, nullptr, nullptr, 0);
}

void copy_path(char (&dst)[512], const fs::path& p) {
  std::string s = p.string();
  if (s.size() >= sizeof dst) throw Error(fmt::format("path too long for the layer stream: {}", s));
  memcpy(dst, s.c_str(), s.size() + 1);
}

}  // namespace

struct LayerStream::Shared {
  std::atomic<uint32_t> seq{0};  // bumped on every change: the futex word
  std::atomic<uint32_t> aborted{0};
  size_t count = 0;
  Slot slots[1];  // count of them
};

namespace {

// A blob file that is still being written: reads wait for more until the
// download says the blob is stored.
class GrowingFile : public image::ByteSource {
 public:
  GrowingFile(std::atomic<uint32_t>* seq, std::atomic<uint32_t>* aborted, Slot* slot)
      : seq_(seq), aborted_(aborted), slot_(slot) {}

  void open() {
    bool opened = wait_until(seq_, aborted_, [&] {
      uint32_t st = slot_->state.load();
      if (st == kStored) {
        fd_.reset(::open(slot_->final_path, O_RDONLY | O_CLOEXEC));
        if (!fd_) throw_errno(fmt::format("open {}", slot_->final_path));
        return true;
      }
      // A blob renamed into the store between the two looks: go round again.
      if (st == kWriting) fd_.reset(::open(slot_->tmp_path, O_RDONLY | O_CLOEXEC));
      return static_cast<bool>(fd_);
    });
    if (!opened) throw Error("the download stopped");
  }

  size_t read(char* buf, size_t n) override {
    size_t got = 0;
    // "stored" is looked at before reading: everything was written by then.
    bool more = wait_until(seq_, aborted_, [&] {
      bool stored = slot_->state.load() == kStored;
      ssize_t r;
      do r = ::read(fd_.get(), buf, n);
      while (r < 0 && errno == EINTR);
      if (r < 0) throw_errno("read blob");
      got = static_cast<size_t>(r);
      return got > 0 || stored;
    });
    if (!more) throw Error("the download stopped");
    return got;
  }

 private:
  std::atomic<uint32_t>* seq_;
  std::atomic<uint32_t>* aborted_;
  Slot* slot_;
  UniqueFd fd_;
};

}  // namespace

LayerStream::LayerStream(LayerStore& layers, const store::Paths& paths, const userns::IdMap& map,
                         const std::vector<LayerJob>& jobs) {
  layers.storage();
  layers.sweep_abandoned_work();
  make_dirs(paths.layers(), 0700);
  make_dirs(paths.tmp(), 0700);
  store::ensure_dirs(paths);
  // The layers this stream unpacks: job index, diff_id, bottom or not.
  struct Pending {
    size_t slot;
    std::string diff_id;
    bool bottom;
  };
  std::vector<Pending> pending;
  for (size_t i = 0; i < jobs.size(); ++i) blobs_.push_back(jobs[i].blob);
  std::vector<std::string> missing;
  for (const auto& j : jobs) {
    if (!image::is_valid_digest(j.diff_id))
      throw Error(fmt::format("a layer has an unsupported diff_id {:?}", j.diff_id));
    if (access(layers.layer_dir(j.diff_id).c_str(), F_OK) != 0) missing.push_back(j.diff_id);
  }
  // Whoever holds a layer's lock unpacks it; the rest find it there after.
  locks_ = layers.lock_layers(missing);
  for (size_t i = 0; i < jobs.size(); ++i) {
    const std::string& d = jobs[i].diff_id;
    if (access(layers.layer_dir(d).c_str(), F_OK) == 0) continue;
    if (std::any_of(pending.begin(), pending.end(), [&](auto& p) { return p.diff_id == d; })) continue;
    pending.push_back({i, d, i == 0 || jobs[i].bottom});
  }
  shared_size_ = sizeof(Shared) + jobs.size() * sizeof(Slot);
  void* mem = mmap(nullptr, shared_size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) throw_errno("mmap");
  shared_ = new (mem) Shared();
  shared_->count = jobs.size();
  for (size_t i = 1; i < jobs.size(); ++i) new (&shared_->slots[i]) Slot();
  if (pending.empty()) return;

  Shared* sh = shared_;
  bool keep_owners = map.full;
  store::Paths store_paths = paths;
  std::vector<fs::path> targets;
  for (const auto& p : pending) targets.push_back(layers.layer_dir(p.diff_id));
  task_.emplace(userns::start_in_userns(map, [sh, pending, targets, keep_owners, store_paths] {
    for (size_t k = 0; k < pending.size(); ++k) {
      const Pending& t = pending[k];
      GrowingFile src(&sh->seq, &sh->aborted, &sh->slots[t.slot]);
      src.open();
      store::HeldEntry work = store::hold_new_entry(store_paths, "layer", 0755);
      const fs::path& tmp = work.path;
      try {
        // A whiteout in the bottom layer hides nothing: there it just deletes.
        auto stats = image::unpack_layer_from(std::make_unique<GrowingFile>(std::move(src)), tmp,
                                              {.keep_owners = keep_owners, .overlay_whiteouts = !t.bottom}, t.diff_id);
        sh->slots[t.slot].unpacked.store(stats.bytes);
        if (!wait_until(&sh->seq, &sh->aborted, [&] { return sh->slots[t.slot].state.load() == kStored; }))
          throw Error("the download stopped");
        if (::rename(tmp.c_str(), targets[k].c_str()) != 0) throw_errno(fmt::format("store layer {}", t.diff_id));
      } catch (const Error& e) {
        remove_tree(tmp);
        throw e.with_context(fmt::format("unpacking layer {}", t.diff_id.substr(7, 12)));
      }
    }
  }));
}

LayerStream::~LayerStream() {
  if (task_) {
    abort();
    try {
      task_->wait();
    } catch (const Error&) {
    }
  }
  if (shared_) munmap(shared_, shared_size_);
}

void LayerStream::writing(const std::string& blob, const fs::path& file) {
  for (size_t i = 0; i < blobs_.size(); ++i)
    if (blobs_[i] == blob) {
      copy_path(shared_->slots[i].tmp_path, file);
      shared_->slots[i].state.store(kWriting);
    }
  shared_->seq.fetch_add(1);
  futex_wake(&shared_->seq);
}

void LayerStream::progress() {
  shared_->seq.fetch_add(1);
  futex_wake(&shared_->seq);
}

void LayerStream::stored(const std::string& blob, const fs::path& file) {
  for (size_t i = 0; i < blobs_.size(); ++i)
    if (blobs_[i] == blob) {
      copy_path(shared_->slots[i].final_path, file);
      shared_->slots[i].state.store(kStored);
    }
  shared_->seq.fetch_add(1);
  futex_wake(&shared_->seq);
}

uint64_t LayerStream::unpacked_bytes(size_t index) const {
  return shared_->slots[index].unpacked.load();
}

void LayerStream::abort() {
  shared_->aborted.store(1);
  shared_->seq.fetch_add(1);
  futex_wake(&shared_->seq);
}

void LayerStream::finish() {
  if (!task_) return;
  auto task = std::move(*task_);
  task_.reset();
  task.wait();
}

}  // namespace skiff::storage
