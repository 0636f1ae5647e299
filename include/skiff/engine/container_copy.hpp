// skiff cp: files between a container (running or not) and the host, or a
// tar stream, as docker cp copies them.
#pragma once

#include <cstdint>
#include <string>

#include "skiff/store/paths.hpp"

namespace skiff::engine {

struct CopyOptions {
  std::string src;           // CONTAINER:PATH, a host path, or "-" (a tar on stdin)
  std::string dest;          // CONTAINER:PATH, a host path, or "-" (a tar to stdout)
  bool archive = false;      // -a: owners as in the source (into a container)
  bool follow_link = false;  // -L: a symlink as source is followed
};

// What was copied, for docker's "Successfully copied" line.
struct CopyResult {
  uint64_t bytes = 0;
  std::string dest;  // as given; empty for a tar to stdout
};

// Runs the copy. A running container is reached through its first
// process's root and user namespace (what it sees, and writes it sees at
// once); a stopped one through its layers, mounted in a mount namespace of
// skiff's own, with its lock held so that it does not start meanwhile.
// Throws Error in docker's words.
CopyResult copy_files(const store::Paths& paths, const CopyOptions& opts);

}  // namespace skiff::engine
