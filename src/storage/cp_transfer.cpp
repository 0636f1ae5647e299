#include "skiff/storage/cp_transfer.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>

#include "skiff/image/layer_unpack.hpp"
#include "skiff/storage/cp_rules.hpp"
#include "skiff/storage/rootfs_copy.hpp"
#include "skiff/storage/tree_copy.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"
#include "skiff/util/unique_fd.hpp"

namespace skiff::storage {

namespace {

// Opens path on side: inside the container's root (its symlinks resolved
// there, magic links refused), or on the host as any program would.
UniqueFd open_on_side(const CpSide& side, const std::string& path, int flags) {
  if (side.root >= 0) return open_in_root(side.root, relative_in_root(path), static_cast<uint64_t>(flags));
  return UniqueFd(::openat(AT_FDCWD, path.c_str(), flags | O_CLOEXEC));
}

// What could not be opened, as docker says it (errno holds why).
Error not_found(const CpSide& side, std::string_view path, int err) {
  if (side.root >= 0) {
    if (err == ENOENT || err == ENOTDIR) return Error(fmt::format("No such container:path: {}{}", side.label, path));
    return Error(fmt::format("{}{}", side.label, path), err);
  }
  return Error(fmt::format("lstat {}", path), err);
}

// "a/b" -> "a", "/a" -> "/", "a" -> ".".
std::string parent_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

struct OpenedSource {
  CpPath path;
  UniqueFd fd;
  struct stat st {};
};

OpenedSource open_source_on(const CpSide& side, std::string_view src, const CpOptions& opts) {
  OpenedSource s;
  s.path = parse_cp_path(src);
  // A trailing "/" or "/." asks for the directory a symlink names, as -L does.
  bool follow = opts.follow_link || s.path.trailing_slash;
  s.fd = open_on_side(side, s.path.path, O_PATH | (follow ? 0 : O_NOFOLLOW));
  if (!s.fd) throw not_found(side, src, errno);
  if (fstatat(s.fd.get(), "", &s.st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0)
    throw_errno(fmt::format("stat {}{}", side.label, src));
  if (s.path.trailing_slash && !S_ISDIR(s.st.st_mode))
    throw Error(fmt::format("{}{}: not a directory", side.label, src));
  return s;
}

}  // namespace

uint64_t cp_copy(const CpSide& from, std::string_view src, const CpSide& to, std::string_view dest,
                 const CpOptions& opts) {
  OpenedSource s = open_source_on(from, src, opts);
  CpPath d = parse_cp_path(dest);
  // The destination is followed to what it names (inside the container's root).
  UniqueFd dest_fd = open_on_side(to, d.path, O_PATH);
  CpDestInfo info;
  if (dest_fd) {
    struct stat st {};
    if (fstat(dest_fd.get(), &st) != 0) throw_errno(fmt::format("stat {}{}", to.label, dest));
    info.exists = true;
    info.is_dir = S_ISDIR(st.st_mode);
  } else if (errno != ENOENT) {
    throw not_found(to, dest, errno);
  }
  CpTarget t = cp_target(s.path, {.is_dir = S_ISDIR(s.st.st_mode)}, d, info);
  switch (t.refusal) {
    case CpRefusal::kNone:
      break;
    case CpRefusal::kSourceNotDir:
      throw Error(fmt::format("{}{}: not a directory", from.label, src));
    case CpRefusal::kDestNotDir:
      throw Error(fmt::format("{}{}: not a directory", to.label, dest));
    case CpRefusal::kNoSuchDirectory:
      throw Error(fmt::format("no such directory: {}{}", to.label, dest));
    case CpRefusal::kDirOntoFile:
      throw Error(fmt::format("cannot copy a directory to the file {}{}", to.label, dest));
  }
  UniqueFd dir;
  if (t.in_dest) {
    dir = std::move(dest_fd);
  } else {
    std::string parent = parent_of(d.path);
    dir = open_on_side(to, parent, O_PATH | O_DIRECTORY);
    if (!dir) throw not_found(to, parent, errno);
  }
  TreeCopyOptions copy{.keep_owners = opts.keep_owners, .uid = opts.uid, .gid = opts.gid};
  if (t.name.empty()) return copy_tree_contents(s.fd.get(), dir.get(), copy);
  return copy_tree_entry(s.fd.get(), s.st, dir.get(), t.name, copy);
}

uint64_t cp_tar_in(int in, const CpSide& to, std::string_view dest, const CpOptions& opts) {
  CpPath d = parse_cp_path(dest);
  UniqueFd dir = open_on_side(to, d.path, O_PATH);
  if (!dir) throw not_found(to, dest, errno);
  struct stat st {};
  if (fstat(dir.get(), &st) != 0) throw_errno(fmt::format("stat {}{}", to.label, dest));
  if (!S_ISDIR(st.st_mode)) throw Error(fmt::format("destination \"{}{}\" must be a directory", to.label, dest));
  // The tar is confined to the directory (RESOLVE_BENEATH from its fd).
  image::UnpackStats stats = image::unpack_layer(
      in, fmt::format("/proc/self/fd/{}", dir.get()),
      {.keep_owners = opts.keep_owners, .overlay_whiteouts = false, .apply_root_entry = false, .whiteouts = false});
  return stats.bytes;
}

uint64_t cp_tar_out(const CpSide& from, std::string_view src, int out, const CpOptions& opts) {
  OpenedSource s = open_source_on(from, src, opts);
  std::string name = s.path.contents_only ? std::string() : s.path.name;
  return write_tree_tar(s.fd.get(), s.st, name, out);
}

}  // namespace skiff::storage
