// Unpacking a layer tarball into a directory, confined to that directory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "skiff/image/byte_source.hpp"

namespace skiff::image {

struct UnpackOptions {
  // Give files the owners recorded in the tar. Needs a user namespace with the
  // full subordinate map; without one every owner is squashed to the caller.
  bool keep_owners = true;
  // OCI whiteouts become overlay whiteouts (0/0 char devices, opaque xattrs)
  // when true; when false they delete from the target (applying a layer onto
  // a flattened copy).
  bool overlay_whiteouts = true;
  // The tar's entry for "." gives target its mode and time (a layer's
  // root); false leaves target as it is (cp into an existing directory,
  // as docker's extraction skips ".").
  bool apply_root_entry = true;
  // ".wh." names are whiteouts (a layer); false: files like any other (a
  // tar that is not a layer, as cp extracts it).
  bool whiteouts = true;
};

struct UnpackStats {
  uint64_t bytes = 0;  // regular file content written
  uint64_t entries = 0;
  uint64_t skipped_devices = 0;  // device nodes cannot be made without root
  uint64_t squashed_owners = 0;  // owners outside the mapped range
  uint64_t xattr_failures = 0;
};

// Reads a tar (plain, gzip, zstd or xz) from fd and writes it below target, an
// existing directory. Every path is resolved with openat2(RESOLVE_BENEATH), so
// no entry can write outside target: entries with "..", absolute paths, or a
// route through a symlink that leads out are refused with an Error.
UnpackStats unpack_layer(int fd, const std::filesystem::path& target, const UnpackOptions& opts);

// As unpack_layer, reading from src (gzip inflated with isa-l where it is
// installed). With diff_id, the uncompressed stream must have that digest.
UnpackStats unpack_layer_from(std::unique_ptr<ByteSource> src, const std::filesystem::path& target,
                              const UnpackOptions& opts, std::string_view diff_id = {});

// Checks an entry name and returns it relative ("a/b"), "" for the root itself.
// Throws Error for absolute names and ".." components.
std::string sanitize_entry_path(std::string_view name);

}  // namespace skiff::image
