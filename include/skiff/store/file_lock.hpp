// FileLock: a short advisory lock (flock) on one object.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/util/unique_fd.hpp"

namespace skiff::store {

// Held while the object exists. flock locks die with the process, so a killed
// skiff never leaves a stuck lock.
class FileLock {
 public:
  enum class Mode { kShared, kExclusive };
  FileLock(const std::filesystem::path& path, Mode mode = Mode::kExclusive);
  // Tries without waiting; the lock is not held when !held().
  static FileLock try_lock(const std::filesystem::path& path);
  bool held() const { return static_cast<bool>(fd_); }
  // Writes what the lock file says (a pid, for whoever finds it held) at its
  // start, over what is there: meant for new lock files.
  void write_note(std::string_view text) const;
  // What the lock file at path says; empty when there is none.
  static std::string read_note(const std::filesystem::path& path);

 private:
  FileLock() = default;
  UniqueFd fd_;
};

// Work in progress in a temp directory (a download, an unpack) holds an
// flock on its file or directory for as long as it lives; this marks one.
UniqueFd hold_in_progress(const std::filesystem::path& path);

// The entries of dir named prefix* that nobody holds: left by a skiff that
// was killed. Unreadable or vanished entries are skipped. Every entry of a
// store's tmp/ is held by its maker while it lives, so prefix "" there lists
// all the work that killed skiffs left.
std::vector<std::filesystem::path> abandoned_entries(const std::filesystem::path& dir, std::string_view prefix);

}  // namespace skiff::store
