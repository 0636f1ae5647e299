#include "skiff/image/layer_unpack.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <memory>
#include <unordered_set>
#include <vector>

#include "archive_reader.hpp"
#include "skiff/image/byte_source.hpp"
#include "skiff/image/digest.hpp"
#include "skiff/image/layer_limits.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"
#include "skiff/util/unique_fd.hpp"

namespace skiff::image {

namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";

int openat2_beneath(int dirfd, const char* path, int flags) {
  return openat2_fd(dirfd, path, static_cast<uint64_t>(flags), RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
}

// Feeds libarchive from a ByteSource (already decompressed) and, with a
// diff_id to check, hashes the stream on another thread. libarchive may use
// the buffer it was given until it asks for the next one, and the hasher
// until it is done with it: three buffers in turn.
class HashingReader {
 public:
  HashingReader(ByteSource& src, bool hash) : src_(src) {
    for (auto& b : bufs_) b.resize(1 << 20);
    if (hash) hasher_ = std::make_unique<BackgroundSha256>();
  }

  static la_ssize_t callback(archive* a, void* self, const void** out) {
    auto* r = static_cast<HashingReader*>(self);
    try {
      size_t n = r->next();
      *out = r->bufs_[r->current_].data();
      return static_cast<la_ssize_t>(n);
    } catch (const Error& e) {
      archive_set_error(a, EIO, "%s", e.what());
      return -1;
    }
  }

  // Reads what libarchive left (tar padding) so the digest covers it all;
  // empty when not hashing.
  std::string finish() {
    if (!hasher_) return {};
    while (next() > 0) {
    }
    return hasher_->finish();
  }

 private:
  size_t next() {
    current_ = (current_ + 1) % bufs_.size();
    // The hasher must be done with what this buffer held three reads ago.
    if (hasher_ && seq_[current_]) hasher_->wait_for(seq_[current_]);
    std::vector<char>& buf = bufs_[current_];
    size_t n = src_.read(buf.data(), buf.size());
    seq_[current_] = hasher_ && n ? hasher_->update(std::string_view(buf.data(), n)) : 0;
    return n;
  }

  ByteSource& src_;
  std::array<std::vector<char>, 3> bufs_;
  std::array<uint64_t, 3> seq_{};
  size_t current_ = 2;
  std::unique_ptr<BackgroundSha256> hasher_;
};

struct DeferredDir {
  std::string path;
  mode_t mode;
  timespec mtime;
};

class Unpacker {
 public:
  Unpacker(const std::filesystem::path& target, const UnpackOptions& opts)
      : opts_(opts), root_(open_or_throw(target, O_RDONLY | O_DIRECTORY)), space_(root_.get()) {}

  // src is a tar, its compression already taken off (decompress()): no
  // libarchive filter is enabled here, so nothing is inflated twice.
  UnpackStats run(ByteSource& src, std::string_view diff_id) {
    ArchiveReader a(archive_read_new());
    archive_read_support_format_tar(a.get());
    archive_read_support_format_empty(a.get());
    HashingReader reader(src, !diff_id.empty());
    if (archive_read_open(a.get(), &reader, nullptr, &HashingReader::callback, nullptr) != ARCHIVE_OK)
      throw Error(fmt::format("reading layer: {}", archive_error_string(a.get())));
    std::string last;  // the last entry read, to say where a damaged header is
    for (;;) {
      archive_entry* entry = nullptr;
      int r = archive_read_next_header(a.get(), &entry);
      if (r == ARCHIVE_EOF) break;
      if (r < ARCHIVE_WARN) throw Error(fmt::format("reading layer: {}", archive_error_string(a.get())));
      const char* name = archive_entry_pathname(entry);
      if (!header_is_whole(r) || !name) throw damaged_header(a.get(), last);
      try {
        extract(a.get(), entry, sanitize_entry_path(name));
      } catch (const Error& e) {
        throw e.with_context(fmt::format("layer entry {:?}", name));
      }
      last = name;
      ++stats_.entries;
    }
    // Directory modes and times last: writing files into them changed their mtime,
    // and a read-only directory mode would have stopped the writes.
    for (auto it = deferred_.rbegin(); it != deferred_.rend(); ++it) {
      UniqueFd d(it->path.empty()
                     ? fcntl(root_.get(), F_DUPFD_CLOEXEC, 0)
                     : openat2_beneath(root_.get(), it->path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
      if (!d) continue;
      fchmod(d.get(), it->mode);
      timespec times[2] = {it->mtime, it->mtime};
      futimens(d.get(), times);
    }
    std::string actual = reader.finish();
    if (!actual.empty() && actual != diff_id)
      throw Error(fmt::format("layer content does not match its diff_id {} (it is {})", diff_id, actual));
    return stats_;
  }

 private:
  // The directory that holds rel's last component, created if missing.
  int parent_dir(const std::string& rel, std::string& leaf) {
    size_t slash = rel.rfind('/');
    std::string parent = slash == std::string::npos ? "" : rel.substr(0, slash);
    leaf = slash == std::string::npos ? rel : rel.substr(slash + 1);
    if (parent.empty()) return root_.get();
    if (cached_parent_ && parent == cached_parent_path_) return cached_parent_.get();
    cached_parent_ = open_dir(parent);
    cached_parent_path_ = parent;
    return cached_parent_.get();
  }

  UniqueFd open_dir(const std::string& rel) {
    int fd = openat2_beneath(root_.get(), rel.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) return UniqueFd(fd);
    if (errno == EXDEV || errno == ELOOP)
      throw Error(fmt::format("{:?} leads outside the layer through a symlink", rel));
    if (errno != ENOENT) throw_errno(fmt::format("open {}", rel));
    // Create the missing directory (tar may list files before their parents).
    std::string leaf;
    size_t slash = rel.rfind('/');
    UniqueFd up =
        slash == std::string::npos ? UniqueFd(fcntl(root_.get(), F_DUPFD_CLOEXEC, 0)) : open_dir(rel.substr(0, slash));
    leaf = slash == std::string::npos ? rel : rel.substr(slash + 1);
    if (mkdirat(up.get(), leaf.c_str(), 0755) != 0 && errno != EEXIST) throw_errno(fmt::format("mkdir {}", rel));
    fd = openat2_beneath(up.get(), leaf.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (fd < 0) throw_errno(fmt::format("open {}", rel));
    return UniqueFd(fd);
  }

  // Makes room for a new entry called leaf in dir (tar semantics: later wins).
  void clear(int dir, const char* leaf, bool keep_dir) {
    struct stat st {};
    if (fstatat(dir, leaf, &st, AT_SYMLINK_NOFOLLOW) != 0) return;
    if (S_ISDIR(st.st_mode)) {
      if (keep_dir) return;
      int sub = openat(dir, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub >= 0) {
        // Removing a whole directory through /proc/self/fd keeps it confined.
        std::string p = fmt::format("/proc/self/fd/{}", sub);
        remove_tree(std::filesystem::read_symlink(p));
        ::close(sub);
      }
      unlinkat(dir, leaf, AT_REMOVEDIR);
      // The cached parent may lie inside what was just removed; it never
      // does when it is dir itself (which the caller still uses).
      if (cached_parent_.get() != dir) cached_parent_.reset();
    } else {
      unlinkat(dir, leaf, 0);
    }
  }

  void clear_except_written(int dir, const std::string& parent_prefix) {
    int dup = fcntl(dir, F_DUPFD_CLOEXEC, 0);
    if (dup < 0) throw_errno("dup");
    DIR* d = fdopendir(dup);
    if (!d) {
      ::close(dup);
      throw_errno("opendir");
    }
    std::vector<std::string> doomed;
    while (struct dirent* e = readdir(d)) {
      std::string_view n = e->d_name;
      if (n == "." || n == "..") continue;
      if (!written_.count(parent_prefix + std::string(n))) doomed.emplace_back(n);
    }
    closedir(d);
    for (const auto& n : doomed) clear(dir, n.c_str(), false);
  }

  void set_owner(int dir, const char* leaf, archive_entry* e) {
    if (!opts_.keep_owners) return;
    uid_t uid = static_cast<uid_t>(archive_entry_uid(e));
    gid_t gid = static_cast<gid_t>(archive_entry_gid(e));
    if (uid == 0 && gid == 0) return;  // already ours (root in the namespace)
    if (fchownat(dir, leaf, uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != EINVAL && errno != EPERM) throw_errno(fmt::format("chown {}", leaf));
      ++stats_.squashed_owners;
    }
  }

  void set_xattrs(int fd, archive_entry* e) {
    const char* name;
    const void* value;
    size_t size;
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
      if (fsetxattr(fd, name, value, size, 0) != 0) ++stats_.xattr_failures;
    }
  }

  void extract(archive* a, archive_entry* e, const std::string& rel) {
    if (rel.empty()) {  // the root directory itself
      if (!opts_.apply_root_entry) return;
      deferred_.push_back({"", static_cast<mode_t>(archive_entry_perm(e)), mtime_of(e)});
      return;
    }
    std::string leaf;
    int dir = parent_dir(rel, leaf);
    std::string_view lv = leaf;

    if (opts_.whiteouts && lv == kOpaqueMarker) {
      if (!opts_.overlay_whiteouts) {
        // Applying onto a flattened tree: the directory keeps only what this
        // layer put in it, whichever order the tar lists the marker in.
        std::string parent = rel.substr(0, rel.size() - leaf.size());
        clear_except_written(dir, parent);
        return;
      }
      {
        // Kernel overlay in a user namespace reads user.overlay.*; fuse-overlayfs
        // reads its own name. Both are set so either driver honours it.
        if (fsetxattr(dir, "user.overlay.opaque", "y", 1, 0) != 0 ||
            fsetxattr(dir, "user.fuseoverlayfs.opaque", "y", 1, 0) != 0)
          throw_errno("mark directory opaque");
      }
      return;
    }
    if (opts_.whiteouts && lv.substr(0, kWhiteoutPrefix.size()) == kWhiteoutPrefix) {
      std::string victim(lv.substr(kWhiteoutPrefix.size()));
      if (victim.empty() || victim.rfind(".wh.", 0) == 0) return;  // aufs metadata
      // ".wh..." would remove the directory above (containerd refuses it too).
      if (victim == "." || victim == ".." || victim.find('/') != std::string::npos)
        throw Error(fmt::format("invalid whiteout name {:?} in the layer", std::string(lv)));
      clear(dir, victim.c_str(), false);
      if (opts_.overlay_whiteouts && mknodat(dir, victim.c_str(), S_IFCHR | 0, makedev(0, 0)) != 0)
        throw_errno("make whiteout");
      return;
    }

    written_.insert(rel);
    mode_t type = archive_entry_filetype(e);
    mode_t perm = static_cast<mode_t>(archive_entry_perm(e));
    const char* hardlink = archive_entry_hardlink(e);
    if (hardlink) {
      std::string target = sanitize_entry_path(hardlink);
      std::string tleaf;
      size_t slash = target.rfind('/');
      UniqueFd tdir = slash == std::string::npos ? UniqueFd(fcntl(root_.get(), F_DUPFD_CLOEXEC, 0))
                                                 : open_dir(target.substr(0, slash));
      tleaf = slash == std::string::npos ? target : target.substr(slash + 1);
      dir = parent_dir(rel, leaf);  // open_dir may not reuse the cache; refresh
      clear(dir, leaf.c_str(), false);
      if (linkat(tdir.get(), tleaf.c_str(), dir, leaf.c_str(), 0) != 0)
        throw_errno(fmt::format("hard link to {}", hardlink));
      return;
    }
    switch (type) {
      case AE_IFDIR: {
        clear(dir, leaf.c_str(), true);
        if (mkdirat(dir, leaf.c_str(), 0755) != 0 && errno != EEXIST) throw_errno("mkdir");
        UniqueFd d(openat(dir, leaf.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!d) throw_errno("open directory");
        set_owner(dir, leaf.c_str(), e);
        set_xattrs(d.get(), e);
        deferred_.push_back({rel, perm, mtime_of(e)});
        return;
      }
      case AE_IFREG: {
        clear(dir, leaf.c_str(), false);
        // A sparse file's size is mostly holes: its data is counted as it is written.
        if (archive_entry_sparse_count(e) == 0) space_.reserve(static_cast<uint64_t>(archive_entry_size(e)));
        UniqueFd f(openat(dir, leaf.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!f) throw_errno("create");
        write_data(a, f.get(), archive_entry_size(e));
        set_owner(dir, leaf.c_str(), e);
        set_xattrs(f.get(), e);
        if (fchmod(f.get(), perm) != 0) throw_errno("chmod");
        timespec times[2] = {mtime_of(e), mtime_of(e)};
        futimens(f.get(), times);
        return;
      }
      case AE_IFLNK: {
        clear(dir, leaf.c_str(), false);
        const char* target = archive_entry_symlink(e);
        if (!target || symlinkat(target, dir, leaf.c_str()) != 0) throw_errno("symlink");
        set_owner(dir, leaf.c_str(), e);
        timespec times[2] = {mtime_of(e), mtime_of(e)};
        utimensat(dir, leaf.c_str(), times, AT_SYMLINK_NOFOLLOW);
        return;
      }
      case AE_IFIFO: {
        clear(dir, leaf.c_str(), false);
        if (mkfifoat(dir, leaf.c_str(), perm) != 0) throw_errno("mkfifo");
        set_owner(dir, leaf.c_str(), e);
        return;
      }
      case AE_IFCHR:
      case AE_IFBLK:
        // Only real root may make device nodes; containers get /dev from skiff.
        ++stats_.skipped_devices;
        return;
      default:
        return;  // sockets and unknown types are not part of images
    }
  }

  void write_data(archive* a, int fd, int64_t size) {
    const void* buf;
    size_t len;
    la_int64_t offset;
    int64_t end = 0;
    for (;;) {
      int r = archive_read_data_block(a, &buf, &len, &offset);
      if (r == ARCHIVE_EOF) break;
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN) throw Error(fmt::format("read: {}", archive_error_string(a)));
      if (offset != end && lseek(fd, offset, SEEK_SET) < 0) throw_errno("seek");
      write_all(fd, std::string_view(static_cast<const char*>(buf), len));
      end = offset + static_cast<int64_t>(len);
      stats_.bytes += len;
      space_.wrote(len);
    }
    if (end < size && ftruncate(fd, size) != 0) throw_errno("truncate");  // sparse tail
  }

  static timespec mtime_of(archive_entry* e) {
    return {archive_entry_mtime(e), archive_entry_mtime_is_set(e) ? archive_entry_mtime_nsec(e) : 0};
  }

  UnpackOptions opts_;
  UniqueFd root_;
  SpaceBudget space_;  // of root_'s file system
  UniqueFd cached_parent_;
  std::string cached_parent_path_;
  std::vector<DeferredDir> deferred_;
  std::unordered_set<std::string> written_;  // entries of this layer (for opaque dirs)
  UnpackStats stats_;
};

}  // namespace

std::string sanitize_entry_path(std::string_view name) {
  std::string_view rest = name;
  while (rest.substr(0, 2) == "./") rest.remove_prefix(2);
  if (!rest.empty() && rest[0] == '/') throw Error(fmt::format("absolute path {:?} in layer", std::string(name)));
  std::string out;
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    std::string_view comp = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    if (comp.empty() || comp == ".") continue;
    if (comp == "..") throw Error(fmt::format("path {:?} in layer leaves the layer (\"..\")", std::string(name)));
    if (!out.empty()) out.push_back('/');
    out.append(comp);
  }
  return out;
}

UnpackStats unpack_layer(int fd, const std::filesystem::path& target, const UnpackOptions& opts) {
  auto src = read_ahead(decompress(fd_source(fd)));
  return Unpacker(target, opts).run(*src, {});
}

UnpackStats unpack_layer_from(std::unique_ptr<ByteSource> src, const std::filesystem::path& target,
                              const UnpackOptions& opts, std::string_view diff_id) {
  // Inflating (and reading a blob still being downloaded) on one thread,
  // writing files on another.
  auto inflated = read_ahead(decompress(std::move(src)));
  return Unpacker(target, opts).run(*inflated, diff_id);
}

}  // namespace skiff::image
