// FileLock: a short advisory lock (flock) on one object.
#pragma once

#include <filesystem>

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

 private:
  FileLock() = default;
  UniqueFd fd_;
};

}  // namespace skiff::store
