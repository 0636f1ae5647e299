// docker cp's rules for paths, as plain logic: what a trailing "/" or "/."
// asks for, and where a source lands given what stands at the destination.
#pragma once

#include <string>
#include <string_view>

namespace skiff::storage {

// One side of a copy as written: "dir/", "dir/.", "file".
struct CpPath {
  std::string path;             // cleaned ("a/b/" -> "a/b"); "." or "/" stay
  std::string name;             // its last component; empty for "/" and "."
  bool trailing_slash = false;  // ends with "/" or "/.": must be a directory (symlinks followed)
  bool contents_only = false;   // ends with "/." (or is "."): a directory's contents, not itself
};

// Reads a path as docker cp does. Relative paths stay relative.
CpPath parse_cp_path(std::string_view path);

// What stands at the source and the destination, once looked at.
struct CpSourceInfo {
  bool is_dir = false;
};
struct CpDestInfo {
  bool exists = false;
  bool is_dir = false;  // what it resolves to (a symlink to a directory is one)
};

// Why a copy cannot be done, as docker words it.
enum class CpRefusal {
  kNone,
  kSourceNotDir,     // "file/": not a directory
  kDestNotDir,       // "file/" as destination: not a directory
  kNoSuchDirectory,  // "missing/" as destination of a file
  kDirOntoFile,      // a directory onto an existing file
};

// Where the source goes: into the destination itself (an existing
// directory) or into its parent (under the destination's name).
struct CpTarget {
  CpRefusal refusal = CpRefusal::kNone;
  bool in_dest = false;  // the directory is the destination; else its parent
  std::string name;      // the source's name there; empty: its contents merge into the directory
};

// docker's rules: a file onto a missing name is made under that name (its
// parent must exist), onto a file replaces it, into a directory keeps its
// name; a directory onto a missing name is made as that directory, into an
// existing directory is copied under its own name, or its contents are
// with "/.".
CpTarget cp_target(const CpPath& src, const CpSourceInfo& src_info, const CpPath& dest, const CpDestInfo& dest_info);

// One argument of cp: "CONTAINER:PATH", or a host path ("-": a tar stream).
struct CpArg {
  std::string container;  // empty: the host
  std::string path;
};

// docker's split: an absolute path, a path without ":" and one whose part
// before ":" starts with "." ("./a:b") are host paths.
CpArg split_cp_arg(std::string_view arg);

}  // namespace skiff::storage
