// FileLock: a short advisory lock (flock) on one object.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/store/paths.hpp"
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
  // As write_note, for a note that may be shorter than the one there.
  void replace_note(std::string_view text) const;
  // What this lock's file says, read through the held fd (so also once
  // the file has been removed).
  std::string note() const;
  // What the lock file at path says; empty when there is none.
  static std::string read_note(const std::filesystem::path& path);

 private:
  FileLock() = default;
  UniqueFd fd_;
};

// Work in progress in the store's tmp/ (a download, an unpack, a build)
// holds an flock on its file or directory for as long as it lives.
struct HeldEntry {
  std::filesystem::path path;
  UniqueFd fd;  // holds it; for a file, open for reading and writing
};

// A new entry of the store's tmp/ named KIND-<random>: a directory of mode,
// or an empty file of mode with file. It is held from before anyone can
// take it for abandoned: its maker holds Paths::tmp_lock() shared from
// before it exists until it is locked, and abandoned_entries scans under
// that lock held exclusive.
HeldEntry hold_new_entry(const Paths& paths, std::string_view kind, mode_t mode, bool file = false);

// The entries of the store's tmp/ that nobody holds: left by a skiff that
// was killed. Unreadable or vanished entries are skipped.
std::vector<std::filesystem::path> abandoned_entries(const Paths& paths);

}  // namespace skiff::store
