#include "skiff/store/file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>

#include "skiff/util/error.hpp"

namespace skiff::store {

FileLock::FileLock(const std::filesystem::path& path, Mode mode) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw_errno(fmt::format("open lock {}", path.string()));
  fd_.reset(fd);
  while (flock(fd, mode == Mode::kShared ? LOCK_SH : LOCK_EX) != 0) {
    if (errno != EINTR) throw_errno(fmt::format("lock {}", path.string()));
  }
}

FileLock FileLock::try_lock(const std::filesystem::path& path) {
  FileLock lock;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw_errno(fmt::format("open lock {}", path.string()));
  UniqueFd owned(fd);
  if (flock(fd, LOCK_EX | LOCK_NB) == 0) lock.fd_ = std::move(owned);
  return lock;
}

}  // namespace skiff::store
