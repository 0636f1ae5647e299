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
#include "skiff/storage/rootfs_copy.hpp"

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

// Expands wildcards ("*", "?", "[...]") in a source pattern against the
// tree under root_fd, leaving out what ignore excludes. A name without
// wildcards comes back as it is (checked to exist). Throws Error with
// docker's message when nothing matches.
std::vector<std::string> expand_source(int root_fd, const std::string& pattern, const build::DockerIgnore* ignore);

// Copies source (a path in the context at context_fd) to dir/src, leaving
// out what ignore excludes, as a RUN --mount=type=bind sees it; returns
// dir/src. A source the .dockerignore excludes is not found.
std::filesystem::path copy_context_source(int context_fd, const std::string& source, const build::DockerIgnore* ignore,
                                          const std::filesystem::path& dir);

// A digest of what copying these sources would write: names, types, modes,
// sizes, symlink targets and content (not owners or times). The cache key
// of a COPY from the context.
std::string hash_sources(int root_fd, const std::vector<std::string>& sources, const build::DockerIgnore* ignore);

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
