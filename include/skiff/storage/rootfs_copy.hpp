// Copying into a root file system confined to it: every path is opened
// with openat2(RESOLVE_IN_ROOT), so no symlink in the root, or one swapped
// in meanwhile, leads outside it. COPY and ADD use it; so will cp.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/util/unique_fd.hpp"

namespace skiff::storage {

// What a copy leaves out (a .dockerignore).
class CopyFilter {
 public:
  virtual ~CopyFilter() = default;
  // Whether rel (relative to the source root) is left out.
  virtual bool excluded(std::string_view rel) const = 0;
  // For an excluded directory: whether something inside may still be copied.
  virtual bool may_contain_exceptions(std::string_view rel) const = 0;
};

// A file written from what skiff holds: a heredoc's text, or an ADD URL's
// download (in a file: it may be of any size).
struct InlineFile {
  std::string name;
  std::string content;         // used when file is empty
  std::filesystem::path file;  // else the content is this file's
  mode_t mode = 0644;          // unless --chmod
};

// A copy (COPY and ADD, resolved): where from, where to, and what becomes of owners
// and modes.
struct CopyPlan {
  std::filesystem::path src_root;        // the context, or a mounted stage/image root file system
  const CopyFilter* filter = nullptr;    // what is left out (the context's .dockerignore)
  std::vector<std::string> sources;      // relative to src_root, wildcards already expanded
  std::vector<InlineFile> inline_files;  // heredocs, downloads
  std::string dest;                      // absolute; a trailing "/" means a directory
  bool dest_is_dir = false;              // several sources, or a trailing "/"
  uint32_t uid = 0, gid = 0;             // --chown, else 0:0
  bool keep_owners = false;              // --from without --chown: owners as in the source
  std::optional<mode_t> chmod;           // --chmod
  bool unpack_archives = false;          // ADD of a local tar
  bool full_id_map = true;               // false: owners other than root cannot be set
};

// "/a/b/" -> "a/b": a path taken relative to a root, ".." not climbing above it.
std::string relative_in_root(std::string_view path);

// Where rel (relative) is on the host, inside the tree at root_fd with every
// symlink resolved inside that tree. Throws Error when it does not exist.
std::filesystem::path real_path_in_root(int root_fd, const std::string& rel);

// Opens path (relative) inside root, symlinks resolved as if root were "/".
UniqueFd open_in_root(int root, const std::string& path, uint64_t flags);
// The source rel opened in its root (the top symlink followed, inside the
// root), with its stat. Throws Error when it does not exist.
UniqueFd open_source(int root, const std::string& rel, struct stat& st);

// "a" + "b" -> "a/b"; "" + "b" -> "b".
std::string join_relative(const std::string& a, const std::string& b);
// "a/b/c" -> "a/b"; "c" -> "".
std::string dirname_of(const std::string& rel);
// "a/b/c" -> "c".
std::string basename_of(const std::string& rel);

// Copies into the root file system at dest_root (an fd of the mounted
// merged dir), as docker's COPY does.
void copy_into_root(int dest_root, int src_root, const CopyPlan& plan);

// mkdir -p of path (absolute) in the root at dest_root; directories it
// creates get mode 0755, owner uid:gid and mtime 0.
void make_dirs_in_root(int dest_root, const std::string& path, uint32_t uid, uint32_t gid);

}  // namespace skiff::storage
