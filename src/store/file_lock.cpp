#include "skiff/store/file_lock.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

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

void FileLock::write_note(std::string_view text) const {
  // No ftruncate first: the lock files that carry notes are new, and ext4
  // flushes a file truncated to zero when it is closed (auto_da_alloc), which
  // the removal of the file would then wait for.
  if (pwrite(fd_.get(), text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()))
    throw_errno("write lock note");
}

void FileLock::replace_note(std::string_view text) const {
  write_note(text);
  if (ftruncate(fd_.get(), static_cast<off_t>(text.size())) != 0) throw_errno("write lock note");
}

static std::string read_note_fd(int fd) {
  char buf[64];
  ssize_t n = pread(fd, buf, sizeof buf, 0);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

std::string FileLock::note() const {
  return read_note_fd(fd_.get());
}

std::string FileLock::read_note(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return {};
  return read_note_fd(fd.get());
}

namespace {

// Paths::tmp_lock(), locked: shared while an entry is made and locked,
// exclusive while entries are judged abandoned.
UniqueFd lock_creation(const Paths& paths, int how) {
  std::filesystem::path path = paths.tmp_lock();
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd && errno == ENOENT) {
    make_dirs(paths.locks(), 0700);
    fd = UniqueFd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  }
  if (!fd) throw_errno(fmt::format("open {}", path.string()));
  while (flock(fd.get(), how) != 0)
    if (errno != EINTR) throw_errno(fmt::format("lock {}", path.string()));
  return fd;
}

}  // namespace

HeldEntry hold_new_entry(const Paths& paths, std::string_view kind, mode_t mode, bool file) {
  make_dirs(paths.tmp(), 0700);
  UniqueFd creating = lock_creation(paths, LOCK_SH);
  HeldEntry e{paths.tmp() / fmt::format("{}-{}", kind, random_hex(12)), {}};
  if (file) {
    e.fd = UniqueFd(::open(e.path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
  } else {
    if (::mkdir(e.path.c_str(), mode) != 0) throw_errno(fmt::format("mkdir {}", e.path.string()));
    if (::chmod(e.path.c_str(), mode) != 0) throw_errno(fmt::format("chmod {}", e.path.string()));  // not the umask's
    e.fd = UniqueFd(::open(e.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
  }
  if (!e.fd) throw_errno(fmt::format("create {}", e.path.string()));
  if (flock(e.fd.get(), LOCK_EX) != 0) throw_errno(fmt::format("lock {}", e.path.string()));
  return e;
}

std::vector<std::filesystem::path> abandoned_entries(const Paths& paths) {
  std::vector<std::filesystem::path> out;
  DIR* d = opendir(paths.tmp().c_str());
  if (!d) return out;
  UniqueFd creating = lock_creation(paths, LOCK_EX);
  while (dirent* e = readdir(d)) {
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    UniqueFd fd(openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (fd && flock(fd.get(), LOCK_EX | LOCK_NB) == 0) out.push_back(paths.tmp() / e->d_name);
  }
  closedir(d);
  return out;
}

}  // namespace skiff::store
