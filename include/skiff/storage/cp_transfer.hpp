// skiff cp's copies between a container's root file system and the host
// (or a tar stream), by docker's rules (cp_rules.hpp). On the container's
// side every path is opened with openat2(RESOLVE_IN_ROOT |
// RESOLVE_NO_MAGICLINKS) from its root's fd, and everything below with
// tree_copy's *at() calls: no symlink in the container, or one swapped in
// while the copy runs, leads outside its root.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace skiff::storage {

// One side of a copy: a container's root, or the host.
struct CpSide {
  int root = -1;      // the container's root directory (any fd of it); -1: the host
  std::string label;  // how the user named the container ("web:"), for messages
};

struct CpOptions {
  bool follow_link = false;   // -L: a symlink as source is followed (inside its root)
  bool keep_owners = false;   // -a: owners as in the source, else uid:gid
  uint32_t uid = 0, gid = 0;  // the owner of what is made without -a
};

// Copies src on one side to dest on the other. Returns the bytes of file
// content copied. Throws Error in docker's words for what the rules refuse.
uint64_t cp_copy(const CpSide& from, std::string_view src, const CpSide& to, std::string_view dest,
                 const CpOptions& opts);

// Extracts the tar read from in into the directory dest (cp - CONTAINER:DIR).
uint64_t cp_tar_in(int in, const CpSide& to, std::string_view dest, const CpOptions& opts);

// Writes src as a tar to out (cp CONTAINER:PATH -).
uint64_t cp_tar_out(const CpSide& from, std::string_view src, int out, const CpOptions& opts);

}  // namespace skiff::storage
