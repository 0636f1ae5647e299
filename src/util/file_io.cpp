#include "skiff/util/file_io.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "skiff/util/error.hpp"

namespace skiff {

namespace fs = std::filesystem;

UniqueFd open_or_throw(const fs::path& path, int flags, mode_t mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) throw_errno(fmt::format("open {}", path.string()));
  return UniqueFd(fd);
}

std::pair<UniqueFd, UniqueFd> make_pipe() {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) throw_errno("pipe");
  return {UniqueFd(p[0]), UniqueFd(p[1])};
}

static std::string read_fd(int fd, const fs::path& path) {
  std::string out;
  struct stat st {};
  if (fstat(fd, &st) == 0 && st.st_size > 0) out.reserve(static_cast<size_t>(st.st_size));
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno(fmt::format("read {}", path.string()));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string read_file(const fs::path& path) {
  UniqueFd fd = open_or_throw(path, O_RDONLY);
  return read_fd(fd.get(), path);
}

std::optional<std::string> read_file_if_exists(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw_errno(fmt::format("open {}", path.string()));
  }
  UniqueFd owned(fd);
  return read_fd(fd, path);
}

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("write");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

std::string random_hex(size_t n) {
  std::string bytes((n + 1) / 2, '\0');
  size_t got = 0;
  while (got < bytes.size()) {
    ssize_t r = getrandom(bytes.data() + got, bytes.size() - got, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw_errno("getrandom");
    }
    got += static_cast<size_t>(r);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(n);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  out.resize(n);
  return out;
}

void write_file_atomic(const fs::path& path, std::string_view content, AtomicWriteOptions opts) {
  fs::path tmp = path;
  tmp += ".tmp-" + random_hex(8);
  {
    UniqueFd fd = open_or_throw(tmp, O_WRONLY | O_CREAT | O_EXCL, opts.mode);
    try {
      try {
        write_all(fd.get(), content);
      } catch (const Error& e) {
        throw Error(fmt::format("write {}", path.string()), e.err());  // (a full disk, mostly): say which file
      }
      if (opts.durable && fsync(fd.get()) != 0) throw_errno(fmt::format("fsync {}", tmp.string()));
    } catch (...) {
      ::unlink(tmp.c_str());
      throw;
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw Error(fmt::format("rename {}", path.string()), err);
  }
  if (opts.durable) {
    int dfd = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      fsync(dfd);
      ::close(dfd);
    }
  }
}

// The mode is set whatever the umask: directories made 0755 become roots and
// layers that users in a container must get through (a user's umask 077
// would otherwise make a container's / unreadable to all but root).
static void make_dir_exact(const fs::path& path, mode_t mode) {
  if ((mode & 077) != 0 && ::chmod(path.c_str(), mode) != 0) throw_errno(fmt::format("chmod {}", path.string()));
}

void make_dirs(const fs::path& path, mode_t mode) {
  if (path.empty()) return;
  if (::mkdir(path.c_str(), mode) == 0) return make_dir_exact(path, mode);
  if (errno == EEXIST) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return;
    throw Error(fmt::format("mkdir {}", path.string()), EEXIST);
  }
  if (errno != ENOENT) throw_errno(fmt::format("mkdir {}", path.string()));
  make_dirs(path.parent_path(), mode);
  if (::mkdir(path.c_str(), mode) == 0) return make_dir_exact(path, mode);
  if (errno != EEXIST) throw_errno(fmt::format("mkdir {}", path.string()));
}

// Opens the directory name in dirfd to read it; one we own but cannot read
// (overlay's work dirs are 0000) is given 0700 first.
static int open_dir_to_empty(int dirfd, const char* name) {
  int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == EACCES && fchmodat(dirfd, name, 0700, 0) == 0)
    fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  return fd;
}

// Removes everything below dirfd. Returns false on a permission error.
// Directories are tried with rmdir first (most are empty: a container's
// upper dir, overlay's work dirs), and only read when that fails.
static bool remove_contents(int dirfd, const fs::path& where) {
  {
    // Write and search on dirfd itself, or nothing in it can go.
    struct stat st {};
    if (fstat(dirfd, &st) == 0 && (st.st_mode & 0300) != 0300 && st.st_uid == geteuid())
      fchmod(dirfd, st.st_mode | 0700);
  }
  bool ok = true;
  alignas(8) char buf[8192];
  for (;;) {
    long n = syscall(SYS_getdents64, dirfd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno(fmt::format("read directory {}", where.string()));
    }
    if (n == 0) break;
    for (long off = 0; off < n;) {
      // struct linux_dirent64: u64 ino, s64 off, u16 reclen, u8 type, name.
      const char* entry = buf + off;
      uint16_t reclen;
      memcpy(&reclen, entry + 16, sizeof reclen);
      off += reclen;
      const char* name = entry + 19;
      if (!strcmp(name, ".") || !strcmp(name, "..")) continue;
      bool dir = static_cast<unsigned char>(entry[18]) == DT_DIR;
      if (!dir) {
        if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT) continue;
        if (errno != EISDIR) {
          if (errno == EACCES || errno == EPERM) {
            ok = false;
            continue;
          }
          throw_errno(fmt::format("remove {}", (where / name).string()));
        }
      } else if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT) {
        continue;
      } else if (errno != ENOTEMPTY && errno != EEXIST && errno != EACCES && errno != EPERM) {
        throw_errno(fmt::format("remove {}", (where / name).string()));
      }
      // A directory with something in it.
      int sub = open_dir_to_empty(dirfd, name);
      if (sub < 0) {
        if (errno == EACCES || errno == EPERM) {
          ok = false;
          continue;
        }
        throw_errno(fmt::format("open {}", (where / name).string()));
      }
      UniqueFd owned(sub);
      if (!remove_contents(sub, where / name)) ok = false;
      if (unlinkat(dirfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT) {
        if (errno == EACCES || errno == EPERM || errno == ENOTEMPTY) {
          ok = false;
          continue;
        }
        throw_errno(fmt::format("remove {}", (where / name).string()));
      }
    }
  }
  return ok;
}

bool remove_tree(const fs::path& path) {
  if (::unlink(path.c_str()) == 0 || errno == ENOENT) return true;
  if (errno != EISDIR) {
    if (errno == EACCES || errno == EPERM) return false;
    throw_errno(fmt::format("remove {}", path.string()));
  }
  if (::rmdir(path.c_str()) == 0 || errno == ENOENT) return true;
  int fd = open_dir_to_empty(AT_FDCWD, path.c_str());
  if (fd < 0) {
    if (errno == ENOENT) return true;
    if (errno == EACCES || errno == EPERM) return false;
    throw_errno(fmt::format("open {}", path.string()));
  }
  UniqueFd owned(fd);
  bool ok = remove_contents(fd, path);
  if (!ok) return false;
  if (::rmdir(path.c_str()) != 0 && errno != ENOENT) {
    if (errno == EACCES || errno == EPERM) return false;
    throw_errno(fmt::format("remove {}", path.string()));
  }
  return true;
}

std::vector<std::string> sorted_entries(int dirfd) {
  // O_PATH descriptors cannot be read: open the directory again.
  UniqueFd readable(openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!readable) throw_errno("open directory");
  DIR* d = fdopendir(readable.get());
  if (!d) throw_errno("read directory");
  readable.release();
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

int openat2_fd(int dirfd, const std::string& path, uint64_t flags, uint64_t resolve) {
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  how.resolve = resolve;
  for (;;) {
    long fd = syscall(SYS_openat2, dirfd, path.empty() ? "." : path.c_str(), &how, sizeof how);
    if (fd >= 0 || errno != EAGAIN) return static_cast<int>(fd);
  }
}

std::string clean_path(std::string_view path) {
  if (path.empty()) return ".";
  bool rooted = path[0] == '/';
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    path.remove_prefix(slash == std::string_view::npos ? path.size() : slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..")
        parts.pop_back();
      else if (!rooted)
        parts.push_back(part);
      continue;
    }
    parts.push_back(part);
  }
  std::string out = rooted ? "/" : "";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += '/';
    out += parts[i];
  }
  return out.empty() ? "." : out;
}

}  // namespace skiff
