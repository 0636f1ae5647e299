// A layer directory (an overlay upper directory, or a layer unpacked for
// overlay) into a layer blob: the reverse of layer_unpack.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace skiff::image {

// One entry of a layer directory, as the walk sees it.
struct LayerChange {
  enum class Kind { kEntry, kWhiteout, kOpaqueDir };
  Kind kind = Kind::kEntry;
  std::string path;  // relative: "etc/passwd"
  struct stat st {};
};

// Visits every entry below dir (not dir itself), parents before children,
// siblings in byte order of their names. Overlay whiteouts (0/0 character
// devices, or files marked by the whiteout xattr) come as kWhiteout, opaque
// directories (marked by overlay's or fuse-overlayfs's xattr) as kOpaqueDir;
// ".wh." names are passed on as they are. Never follows a symlink.
void walk_layer_dir(const std::filesystem::path& dir, const std::function<void(const LayerChange&)>& visit);

struct PackOptions {
  bool compress = true;  // gzip with isa-l when it is installed
  // Drop overlay's bookkeeping xattrs (origin, impure, ...) from the files, so
  // the directory can serve as a lower layer as it is. Opaque marks stay.
  bool strip_overlay_xattrs = true;
  // fsync the blob file once written (a layer for the store); export's
  // output is a pipe or the user's file, which is not.
  bool sync = true;
  // Entries (relative paths) to leave out, with everything below them.
  std::function<bool(const std::string&)> skip;
};

struct PackedLayer {
  bool empty = true;    // nothing below dir: no layer to make
  std::string diff_id;  // sha256 of the tar
  std::string digest;   // sha256 of the blob (the diff_id when not compressed)
  std::string media_type;
  uint64_t blob_size = 0;
  uint64_t content_size = 0;  // bytes of file content
};

// Writes dir as a layer tar (OCI whiteouts, entries sorted, owners as seen
// from the current user namespace) to blob_file, gzip-compressed when asked
// and isa-l is there. An empty dir writes no file.
PackedLayer pack_layer_dir(const std::filesystem::path& dir, const std::filesystem::path& blob_file,
                           const PackOptions& opts);

}  // namespace skiff::image
