// The file system work of a build step, done by skiff itself inside the
// user namespace: mounting a step's overlay, COPY and WORKDIR into it, and
// turning its upper directory into a layer.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "skiff/build/dockerignore.hpp"
#include "skiff/image/image_store.hpp"
#include "skiff/storage/layer_store.hpp"
#include "skiff/storage/rootfs.hpp"

namespace skiff::build {

using image::LayerRef;

// The layers a step's root file system is made of.
struct StepRoot {
  storage::Driver driver = storage::Driver::kOverlay;
  std::filesystem::path layers_dir;                     // the store's layers/
  std::vector<std::filesystem::path> lowers_top_first;  // layer dirs, an empty dir last

  // As the runtime and storage::mount_rootfs take it: with upper and work,
  // else read-only.
  runtime::RootfsLayers layers(const std::filesystem::path& upper = {}, const std::filesystem::path& work = {},
                               bool volatile_upper = false) const {
    return storage::rootfs_layers(driver, layers_dir, lowers_top_first, upper, work, volatile_upper);
  }
};

// Where a step's writable layer lives while it runs.
struct StepDirs {
  std::filesystem::path dir;  // holds the rest
  std::filesystem::path upper() const { return dir / "upper"; }
  std::filesystem::path work() const { return dir / "work"; }
  std::filesystem::path merged() const { return dir / "merged"; }
  std::filesystem::path blob() const { return dir / "blob"; }
  std::filesystem::path result() const { return dir / "result.json"; }
  // Creates upper, work and merged.
  void create() const;
};

// A file COPY or ADD writes from what skiff holds: a heredoc's text, or an
// ADD URL's download (in a file: it may be of any size).
struct InlineFile {
  std::string name;
  std::string content;         // used when file is empty
  std::filesystem::path file;  // else the content is this file's
  mode_t mode = 0644;          // unless --chmod
};

// COPY and ADD, resolved: where from, where to, and what becomes of owners
// and modes.
struct CopyPlan {
  std::filesystem::path src_root;    // the context, or a mounted stage/image root file system
  const build::DockerIgnore* ignore = nullptr;  // the context's .dockerignore
  std::vector<std::string> sources;  // relative to src_root, wildcards already expanded
  std::vector<InlineFile> inline_files;  // heredocs, downloads
  std::string dest;                  // absolute; a trailing "/" means a directory
  bool dest_is_dir = false;          // several sources, or a trailing "/"
  uint32_t uid = 0, gid = 0;         // --chown, else 0:0
  bool keep_owners = false;          // --from without --chown: owners as in the source
  std::optional<mode_t> chmod;       // --chmod
  bool unpack_archives = false;      // ADD of a local tar
  bool full_id_map = true;           // false: owners other than root cannot be set
};

// "/a/b/" -> "a/b": a path taken relative to a root, ".." not climbing above it.
std::string relative_in_root(std::string_view path);

// Where rel (relative) is on the host, inside the tree at root_fd with every
// symlink resolved inside that tree. Throws Error when it does not exist.
std::filesystem::path real_path_in_root(int root_fd, const std::string& rel);

// Expands wildcards ("*", "?", "[...]") in a source pattern against the
// tree under root_fd, leaving out what ignore excludes. A name without
// wildcards comes back as it is (checked to exist). Throws Error with
// docker's message when nothing matches.
std::vector<std::string> expand_source(int root_fd, const std::string& pattern, const build::DockerIgnore* ignore);

// Copies source (a path in the context at context_fd) to dir/src, leaving
// out what ignore excludes, as a RUN --mount=type=bind sees it; returns
// dir/src. A source the .dockerignore excludes is not found.
std::filesystem::path copy_context_source(int context_fd, const std::string& source,
                                          const build::DockerIgnore* ignore, const std::filesystem::path& dir);

// A digest of what copying these sources would write: names, types, modes,
// sizes, symlink targets and content (not owners or times). The cache key
// of a COPY from the context.
std::string hash_sources(int root_fd, const std::vector<std::string>& sources, const build::DockerIgnore* ignore);

// Copies into the root file system at dest_root (an fd of the mounted
// merged dir), as docker's COPY does.
void copy_into_root(int dest_root, int src_root, const CopyPlan& plan);

// mkdir -p of path (absolute) in the root at dest_root; directories it
// creates get mode 0755, owner uid:gid and mtime 0.
void make_dirs_in_root(int dest_root, const std::string& path, uint32_t uid, uint32_t gid);

// What a finished step leaves: a layer, or nothing when the upper dir is empty.
struct StepLayer {
  std::optional<LayerRef> layer;
  uint64_t content_size = 0;
};

// Inside the user namespace: drops work, removes stubs (mount targets
// created for the step that lowers do not have), packs upper into
// dirs.blob(), and renames upper to its layer dir in the store. The result
// is written to dirs.result() for the caller outside.
void commit_step_upper(const StepDirs& dirs, const StepRoot& root, const storage::LayerStore& layers,
                       const std::vector<std::string>& stubs);

// Reads what commit_step_upper wrote; moves the blob into the image store.
StepLayer read_step_result(const StepDirs& dirs, image::ImageStore& images);

}  // namespace skiff::build
