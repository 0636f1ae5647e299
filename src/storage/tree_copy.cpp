#include "skiff/storage/tree_copy.hpp"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "skiff/image/tar_writer.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"
#include "skiff/util/unique_fd.hpp"

namespace skiff::storage {

namespace {

std::string rel_join(const std::string& a, const std::string& b) {
  return a.empty() ? b : a + "/" + b;
}

// An O_PATH descriptor of a regular file, opened again for reading: the
// same inode, whatever its name stands for now.
UniqueFd reopen_for_reading(int path_fd, const std::string& what) {
  UniqueFd fd(::open(fmt::format("/proc/self/fd/{}", path_fd).c_str(), O_RDONLY | O_NOCTTY | O_CLOEXEC));
  if (!fd) throw_errno(fmt::format("open {}", what));
  return fd;
}

// Copies in to out until the end of in; returns the bytes copied.
uint64_t pump_file(int in, int out, const std::string& what) {
  uint64_t total = 0;
  bool plain = false;  // sendfile refused these files: read and write
  std::vector<char> buf;
  for (;;) {
    ssize_t n;
    if (!plain) {
      n = sendfile(out, in, nullptr, 1 << 30);
      if (n < 0 && (errno == EINVAL || errno == ENOSYS)) {
        plain = true;
        continue;
      }
    } else {
      if (buf.empty()) buf.resize(1 << 17);
      n = ::read(in, buf.data(), buf.size());
      if (n > 0) write_all(out, std::string_view(buf.data(), static_cast<size_t>(n)));
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno(fmt::format("copy {}", what));
    if (n == 0) return total;
    total += static_cast<uint64_t>(n);
  }
}

struct TreeCopier {
  const TreeCopyOptions& opts;
  uint64_t bytes = 0;

  // The owner the entry gets; an id the namespace does not map leaves it
  // to opts' owner.
  void own(int dirfd, const char* name, int flags, const struct stat& st, const std::string& rel) const {
    uid_t uid = opts.keep_owners ? st.st_uid : opts.uid;
    gid_t gid = opts.keep_owners ? st.st_gid : opts.gid;
    if (fchownat(dirfd, name, uid, gid, flags) == 0) return;
    if (errno != EINVAL && errno != EPERM) throw_errno(fmt::format("chown {}", rel));
    if (opts.keep_owners) (void)fchownat(dirfd, name, opts.uid, opts.gid, flags);
  }

  // Makes room for a non-directory at name: what is there goes, unless it
  // is a directory.
  static void clear(int dirfd, const std::string& name, const std::string& rel) {
    struct stat st {};
    if (fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return;
    if (S_ISDIR(st.st_mode)) throw Error(fmt::format("cannot overwrite directory {} with non-directory", rel));
    if (unlinkat(dirfd, name.c_str(), 0) != 0 && errno != ENOENT) throw_errno(fmt::format("replace {}", rel));
  }

  void entry(int src, const struct stat& st, int dest_dir, const std::string& name, const std::string& rel) {
    if (S_ISDIR(st.st_mode)) {
      struct stat there {};
      if (fstatat(dest_dir, name.c_str(), &there, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(there.st_mode))
        throw Error(fmt::format("cannot overwrite non-directory {} with directory", rel));
      if (mkdirat(dest_dir, name.c_str(), 0700) != 0 && errno != EEXIST) throw_errno(fmt::format("mkdir {}", rel));
      // O_NOFOLLOW: a symlink put there since is not followed.
      UniqueFd dir(openat(dest_dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!dir && (errno == ELOOP || errno == ENOTDIR))
        throw Error(fmt::format("cannot overwrite non-directory {} with directory", rel));
      if (!dir) throw_errno(fmt::format("open {}", rel));
      contents(src, dir.get(), rel);
      own(dir.get(), "", AT_EMPTY_PATH, st, rel);
      if (fchmod(dir.get(), st.st_mode & 07777) != 0) throw_errno(fmt::format("chmod {}", rel));
      struct timespec times[2] = {st.st_atim, st.st_mtim};
      futimens(dir.get(), times);
    } else if (S_ISREG(st.st_mode)) {
      UniqueFd in = reopen_for_reading(src, rel);
      clear(dest_dir, name, rel);
      // O_EXCL with O_NOFOLLOW: a name made again meanwhile, symlink or
      // not, is never written through.
      UniqueFd out(openat(dest_dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (!out) throw_errno(fmt::format("create {}", rel));
      bytes += pump_file(in.get(), out.get(), rel);
      own(out.get(), "", AT_EMPTY_PATH, st, rel);
      if (fchmod(out.get(), st.st_mode & 07777) != 0) throw_errno(fmt::format("chmod {}", rel));
      struct timespec times[2] = {st.st_atim, st.st_mtim};
      futimens(out.get(), times);
    } else if (S_ISLNK(st.st_mode)) {
      std::vector<char> target(static_cast<size_t>(std::max<off_t>(st.st_size, 0)) + 4096);
      ssize_t n = readlinkat(src, "", target.data(), target.size());
      if (n < 0) throw_errno(fmt::format("read symlink {}", rel));
      clear(dest_dir, name, rel);
      std::string t(target.data(), static_cast<size_t>(n));
      if (symlinkat(t.c_str(), dest_dir, name.c_str()) != 0) throw_errno(fmt::format("symlink {}", rel));
      own(dest_dir, name.c_str(), AT_SYMLINK_NOFOLLOW, st, rel);
      struct timespec times[2] = {st.st_atim, st.st_mtim};
      utimensat(dest_dir, name.c_str(), times, AT_SYMLINK_NOFOLLOW);
    } else if (S_ISFIFO(st.st_mode)) {
      clear(dest_dir, name, rel);
      if (mkfifoat(dest_dir, name.c_str(), st.st_mode & 07777) != 0) throw_errno(fmt::format("mkfifo {}", rel));
      own(dest_dir, name.c_str(), AT_SYMLINK_NOFOLLOW, st, rel);
    }
    // Device nodes and sockets are left out: only real root makes the one,
    // and the other means nothing without its process.
  }

  void contents(int src_dir, int dest_dir, const std::string& rel) {
    for (const auto& name : sorted_entries(src_dir)) {
      std::string child = rel_join(rel, name);
      UniqueFd fd(openat(src_dir, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
      if (!fd && errno == ENOENT) continue;  // removed since it was listed
      if (!fd) throw_errno(fmt::format("open {}", child));
      struct stat st {};
      if (fstatat(fd.get(), "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0)
        throw_errno(fmt::format("stat {}", child));
      entry(fd.get(), st, dest_dir, name, child);
    }
  }
};

struct TarWalker {
  image::TarWriter& tar;
  uint64_t bytes = 0;

  void entry(int src, const struct stat& st, const std::string& name) {
    image::TarEntry e;
    e.mode = st.st_mode & 07777;
    e.uid = st.st_uid;
    e.gid = st.st_gid;
    e.mtime = st.st_mtim.tv_sec;
    if (S_ISDIR(st.st_mode)) {
      if (!name.empty()) {
        e.name = name + "/";
        e.type = image::TarEntry::Type::kDir;
        tar.add(e);
      }
      for (const auto& child : sorted_entries(src)) {
        std::string path = rel_join(name, child);
        UniqueFd fd(openat(src, child.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
        if (!fd && errno == ENOENT) continue;
        if (!fd) throw_errno(fmt::format("open {}", path));
        struct stat cst {};
        if (fstatat(fd.get(), "", &cst, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0)
          throw_errno(fmt::format("stat {}", path));
        entry(fd.get(), cst, path);
      }
      return;
    }
    e.name = name;
    if (S_ISREG(st.st_mode)) {
      UniqueFd in = reopen_for_reading(src, name);
      e.size = static_cast<uint64_t>(st.st_size);
      tar.add(e);
      // Exactly the size the header says: a file that grows is cut, one
      // that shrinks is padded with zeros.
      std::vector<char> buf(1 << 17);
      uint64_t left = e.size;
      while (left > 0) {
        ssize_t n = ::read(in.get(), buf.data(), std::min<uint64_t>(left, buf.size()));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno(fmt::format("read {}", name));
        if (n == 0) {
          std::fill(buf.begin(), buf.end(), 0);
          n = static_cast<ssize_t>(std::min<uint64_t>(left, buf.size()));
        }
        tar.data(std::string_view(buf.data(), static_cast<size_t>(n)));
        left -= static_cast<uint64_t>(n);
      }
      bytes += e.size;
    } else if (S_ISLNK(st.st_mode)) {
      std::vector<char> target(static_cast<size_t>(std::max<off_t>(st.st_size, 0)) + 4096);
      ssize_t n = readlinkat(src, "", target.data(), target.size());
      if (n < 0) throw_errno(fmt::format("read symlink {}", name));
      e.type = image::TarEntry::Type::kSymlink;
      e.linkname.assign(target.data(), static_cast<size_t>(n));
      tar.add(e);
    } else if (S_ISFIFO(st.st_mode)) {
      e.type = image::TarEntry::Type::kFifo;
      tar.add(e);
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      e.type = S_ISCHR(st.st_mode) ? image::TarEntry::Type::kChar : image::TarEntry::Type::kBlock;
      e.devmajor = major(st.st_rdev);
      e.devminor = minor(st.st_rdev);
      tar.add(e);
    }
  }
};

}  // namespace

uint64_t copy_tree_entry(int src, const struct stat& st, int dest_dir, const std::string& name,
                         const TreeCopyOptions& opts) {
  TreeCopier c{opts};
  c.entry(src, st, dest_dir, name, name);
  return c.bytes;
}

uint64_t copy_tree_contents(int src_dir, int dest_dir, const TreeCopyOptions& opts) {
  TreeCopier c{opts};
  c.contents(src_dir, dest_dir, "");
  return c.bytes;
}

uint64_t write_tree_tar(int src, const struct stat& st, const std::string& name, int out) {
  image::TarWriter tar([out](std::string_view bytes) { write_all(out, bytes); });
  TarWalker w{tar};
  w.entry(src, st, name);
  tar.finish();
  return w.bytes;
}

}  // namespace skiff::storage
