#include "skiff/image/layer_pack.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <vector>

#include "skiff/image/byte_source.hpp"
#include "skiff/image/digest.hpp"
#include "skiff/image/tar_writer.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

namespace skiff::image {

namespace fs = std::filesystem;

namespace {

constexpr std::array<std::string_view, 3> kOpaqueXattrs = {"user.overlay.opaque", "trusted.overlay.opaque",
                                                           "user.fuseoverlayfs.opaque"};

bool is_overlay_xattr(std::string_view name) {
  return name.starts_with("user.overlay.") || name.starts_with("trusted.overlay.") ||
         name.starts_with("user.fuseoverlayfs.");
}

std::vector<std::string> xattr_names(const std::string& path) {
  std::vector<char> buf(1024);
  for (;;) {
    ssize_t n = llistxattr(path.c_str(), buf.data(), buf.size());
    if (n >= 0) {
      std::vector<std::string> names;
      for (size_t i = 0; i < static_cast<size_t>(n);) {
        std::string name(buf.data() + i);
        i += name.size() + 1;
        if (!name.empty()) names.push_back(std::move(name));
      }
      return names;
    }
    if (errno == ENOTSUP || errno == ENOENT) return {};
    if (errno != ERANGE) throw_errno(fmt::format("list the extended attributes of {}", path));
    buf.resize(buf.size() * 4);
  }
}

std::optional<std::string> xattr_value(const std::string& path, const std::string& name) {
  std::vector<char> buf(256);
  for (;;) {
    ssize_t n = lgetxattr(path.c_str(), name.c_str(), buf.data(), buf.size());
    if (n >= 0) return std::string(buf.data(), static_cast<size_t>(n));
    if (errno == ENODATA || errno == ENOTSUP || errno == ENOENT) return std::nullopt;
    if (errno != ERANGE) throw_errno(fmt::format("read extended attribute {} of {}", name, path));
    buf.resize(buf.size() * 16);
  }
}

// A name in the directory open at dirfd, as a path the l*xattr calls take:
// the directory is reached through its fd, so no symlink put in its place
// since it was opened can lead elsewhere.
std::string at_path(int dirfd, std::string_view name) {
  return fmt::format("/proc/self/fd/{}/{}", dirfd, name);
}

// Opens directory rel below root with no symlink followed on the way: a
// container still running can swap a directory for a symlink to a host path
// while its upper layer is packed (skiff commit).
UniqueFd open_dir_beneath(int root, const std::string& rel) {
  int fd = openat2_fd(root, rel, O_PATH | O_DIRECTORY, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
  if (fd >= 0) return UniqueFd(fd);
  if (errno == ENOENT) return UniqueFd();  // removed since the walk
  throw_errno(fmt::format("open directory {}", rel.empty() ? "." : rel));
}

bool marked(const std::string& path, const std::vector<std::string>& names, std::string_view attr) {
  if (std::find(names.begin(), names.end(), attr) == names.end()) return false;
  auto v = xattr_value(path, std::string(attr));
  return v && *v == "y";
}

struct Walker {
  const std::function<void(const LayerChange&)>& visit;
  std::string root;

  void dir(int dirfd, const std::string& rel) {
    std::vector<std::string> names;
    try {
      names = sorted_entries(dirfd);
    } catch (const Error& e) {
      throw e.with_context(rel.empty() ? root : rel);
    }
    for (const auto& name : names) {
      LayerChange c;
      c.path = rel.empty() ? name : rel + "/" + name;
      // A name gone since it was listed (commit --pause=false of a container
      // that runs on) is left out, as the packer leaves out a file gone.
      if (fstatat(dirfd, name.c_str(), &c.st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) continue;
        throw_errno(fmt::format("stat {}", c.path));
      }
      std::string full = at_path(dirfd, name);
      if (S_ISCHR(c.st.st_mode) && c.st.st_rdev == makedev(0, 0)) {
        c.kind = LayerChange::Kind::kWhiteout;
      } else if (S_ISREG(c.st.st_mode) && c.st.st_size == 0 && xattr_value(full, "user.overlay.whiteout").has_value()) {
        c.kind = LayerChange::Kind::kWhiteout;
      } else if (S_ISDIR(c.st.st_mode)) {
        auto names_here = xattr_names(full);
        for (auto attr : kOpaqueXattrs)
          if (marked(full, names_here, attr)) c.kind = LayerChange::Kind::kOpaqueDir;
      }
      visit(c);
      if (S_ISDIR(c.st.st_mode)) {
        UniqueFd sub(openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!sub && errno == ENOENT) continue;
        if (!sub) throw_errno(fmt::format("open directory {}", c.path));
        dir(sub.get(), c.path);
      }
    }
  }
};

// Writes to an fd.
class FdSink : public ByteSink {
 public:
  explicit FdSink(int fd) : fd_(fd) {}
  void write(std::string_view data) override { write_all(fd_, data); }

 private:
  int fd_;
};

// Hashes what passes through on its way to next.
class HashingSink : public ByteSink {
 public:
  explicit HashingSink(ByteSink& next) : next_(next) {}
  void write(std::string_view data) override {
    hash_.update(data);
    size_ += data.size();
    next_.write(data);
  }
  void finish() override { next_.finish(); }
  std::string digest() { return hash_.finish(); }
  uint64_t size() const { return size_; }

 private:
  ByteSink& next_;
  Sha256 hash_;
  uint64_t size_ = 0;
};

}  // namespace

void walk_layer_dir(const fs::path& dir, const std::function<void(const LayerChange&)>& visit) {
  UniqueFd fd = open_or_throw(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  Walker w{visit, dir.string()};
  w.dir(fd.get(), "");
}

PackedLayer pack_layer_dir(const fs::path& dir, const fs::path& blob_file, const PackOptions& opts) {
  PackedLayer out;
  std::vector<LayerChange> changes;
  std::string skipped;  // a skipped directory: its children go too
  walk_layer_dir(dir, [&](const LayerChange& c) {
    if (!skipped.empty() && c.path.starts_with(skipped)) return;
    if (opts.skip && opts.skip(c.path)) {
      skipped = c.path + "/";
      return;
    }
    changes.push_back(c);
  });
  if (changes.empty()) return out;
  out.empty = false;

  UniqueFd file = open_or_throw(blob_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  FdSink file_sink(file.get());
  HashingSink blob(file_sink);
  std::unique_ptr<ByteSink> gzip = opts.compress ? isal_gzip(blob) : nullptr;
  ByteSink& tar_out = gzip ? *gzip : static_cast<ByteSink&>(blob);
  HashingSink tar_bytes(tar_out);
  TarWriter tar([&](std::string_view d) { tar_bytes.write(d); });

  std::map<std::pair<dev_t, ino_t>, std::string> links;
  std::vector<char> buf(1 << 20);
  // Every entry is reached from its parent's fd, and every parent from the
  // layer's root with no symlink on the way.
  UniqueFd root = open_or_throw(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW);
  std::string open_parent = "\n";  // no name: nothing open yet
  UniqueFd parent_fd;
  for (const auto& c : changes) {
    std::string parent = c.path.substr(0, c.path.rfind('/') == std::string::npos ? 0 : c.path.rfind('/') + 1);
    std::string base = c.path.substr(parent.size());
    if (parent != open_parent) {
      parent_fd = open_dir_beneath(root.get(), parent.empty() ? "" : parent.substr(0, parent.size() - 1));
      open_parent = parent;
    }
    // A running container (commit --pause=false) may remove what the walk
    // saw: what is gone is left out.
    if (!parent_fd) continue;
    std::string full = at_path(parent_fd.get(), base);
    if (c.kind == LayerChange::Kind::kWhiteout) {
      TarEntry e;
      e.name = parent + ".wh." + base;
      e.mode = 0;
      e.mtime = c.st.st_mtim.tv_sec;
      tar.add(e);
      continue;
    }
    const struct stat& st = c.st;
    TarEntry e;
    e.name = c.path;
    e.mode = st.st_mode & 07777;
    e.uid = st.st_uid;
    e.gid = st.st_gid;
    e.mtime = st.st_mtim.tv_sec;
    switch (st.st_mode & S_IFMT) {
      case S_IFREG:
        e.type = TarEntry::Type::kFile;
        break;
      case S_IFDIR:
        e.type = TarEntry::Type::kDir, e.name += "/";
        break;
      case S_IFLNK: {
        e.type = TarEntry::Type::kSymlink;
        std::vector<char> target(static_cast<size_t>(st.st_size) + 2);
        ssize_t n = readlinkat(parent_fd.get(), base.c_str(), target.data(), target.size());
        if (n < 0 && errno == ENOENT) continue;
        if (n < 0) throw_errno(fmt::format("read symlink {}", c.path));
        e.linkname.assign(target.data(), static_cast<size_t>(n));
        break;
      }
      case S_IFCHR:
        e.type = TarEntry::Type::kChar;
        break;
      case S_IFBLK:
        e.type = TarEntry::Type::kBlock;
        break;
      case S_IFIFO:
        e.type = TarEntry::Type::kFifo;
        break;
      default:
        continue;  // sockets have no place in a layer
    }
    if (e.type == TarEntry::Type::kChar || e.type == TarEntry::Type::kBlock) {
      e.devmajor = major(st.st_rdev);
      e.devminor = minor(st.st_rdev);
    }
    // A file is opened before anything of it is read: one that is gone by
    // now is left out whole.
    UniqueFd f;
    if (e.type == TarEntry::Type::kFile) {
      // O_NONBLOCK: a fifo put in the file's place must not hang the packer.
      f = UniqueFd(openat(parent_fd.get(), base.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
      if (!f && errno == ENOENT) continue;
      if (!f) throw_errno(fmt::format("open {}", c.path));
    }
    for (const auto& name : xattr_names(full)) {
      if (is_overlay_xattr(name)) {
        bool opaque = std::find(kOpaqueXattrs.begin(), kOpaqueXattrs.end(), name) != kOpaqueXattrs.end();
        if (opts.strip_overlay_xattrs && !opaque) lremovexattr(full.c_str(), name.c_str());
        continue;
      }
      if (name == "security.selinux") continue;
      if (auto v = xattr_value(full, name)) e.xattrs.emplace_back(name, *v);
    }
    if (e.type == TarEntry::Type::kFile && st.st_nlink > 1) {
      auto [it, fresh] = links.try_emplace({st.st_dev, st.st_ino}, c.path);
      if (!fresh) {
        e.type = TarEntry::Type::kHardlink;
        e.linkname = it->second;
        e.xattrs.clear();
      }
    }
    if (e.type != TarEntry::Type::kFile) {
      tar.add(e);
      if (c.kind == LayerChange::Kind::kOpaqueDir) {
        TarEntry opq;
        opq.name = c.path + "/.wh..wh..opq";
        opq.mode = 0;
        opq.mtime = e.mtime;
        tar.add(opq);
      }
      continue;
    }
    struct stat now {};
    if (fstat(f.get(), &now) != 0) throw_errno(fmt::format("stat {}", c.path));
    if (!S_ISREG(now.st_mode)) throw Error(fmt::format("{} changed while it was being packed", c.path));
    e.size = static_cast<uint64_t>(std::min(now.st_size, st.st_size));
    tar.add(e);
    uint64_t left = e.size;
    while (left > 0) {
      ssize_t n = ::read(f.get(), buf.data(), std::min<uint64_t>(buf.size(), left));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw_errno(fmt::format("read {}", c.path));
      if (n == 0) {
        // It shrank since its size was taken (a running container is
        // writing it): the header said more, so zeros make up the rest.
        std::fill(buf.begin(), buf.end(), '\0');
        while (left > 0) {
          size_t k = static_cast<size_t>(std::min<uint64_t>(buf.size(), left));
          tar.data(std::string_view(buf.data(), k));
          left -= k;
        }
        break;
      }
      tar.data(std::string_view(buf.data(), static_cast<size_t>(n)));
      left -= static_cast<uint64_t>(n);
    }
    out.content_size += e.size;
  }
  tar.finish();
  tar_bytes.finish();
  if (opts.sync && fsync(file.get()) != 0) throw_errno(fmt::format("sync {}", blob_file.string()));
  out.diff_id = tar_bytes.digest();
  out.digest = blob.digest();
  out.blob_size = blob.size();
  out.media_type = gzip ? "application/vnd.oci.image.layer.v1.tar+gzip" : "application/vnd.oci.image.layer.v1.tar";
  return out;
}

}  // namespace skiff::image
