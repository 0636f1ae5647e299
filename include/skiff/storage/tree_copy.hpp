// Copying a tree from descriptor to descriptor, never by path: each entry is
// opened from its parent's fd with O_NOFOLLOW and made with *at() calls and
// O_EXCL, so a directory swapped for a symlink meanwhile (by a container
// that runs) makes the copy fail instead of leading it elsewhere. cp's both
// directions, and its tar stream out, use it.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>

namespace skiff::storage {

struct TreeCopyOptions {
  // The source's owners (as this process sees them: through its user
  // namespace's map) instead of uid:gid below. An owner that cannot be set
  // (not mapped) leaves the entry to uid:gid.
  bool keep_owners = false;
  // The owner otherwise: the container's root going in, the caller's ids
  // in the namespace coming out.
  uint32_t uid = 0, gid = 0;
};

// Copies src (a descriptor of any type, O_PATH too; st its stat) as name in
// dest_dir. A directory merges into one already there; anything else
// replaces what is there, unless one of the two is a directory and the
// other not (an Error, as docker refuses it). Returns the bytes of file
// content copied.
uint64_t copy_tree_entry(int src, const struct stat& st, int dest_dir, const std::string& name,
                         const TreeCopyOptions& opts);

// Copies what the directory src holds into dest_dir, as copy_tree_entry.
uint64_t copy_tree_contents(int src_dir, int dest_dir, const TreeCopyOptions& opts);

// Writes src (st its stat) to out as a tar, under name (a directory's
// entries below "name/"; empty name: the directory's contents alone).
// Owners are as this process sees them. Returns the bytes of file content.
uint64_t write_tree_tar(int src, const struct stat& st, const std::string& name, int out);

}  // namespace skiff::storage
