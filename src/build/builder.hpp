// The Builder behind build_image: the state of one `skiff build` and of its
// stages. Its member functions live by concern: image_build.cpp (the build
// as a whole, and stopping it), build_stage.cpp (stages: FROM, the order of
// their instructions, metadata instructions, ONBUILD), build_cache.cpp
// (cache keys and records, and the layer step that consults them),
// build_run_step.cpp (RUN) and build_file_steps.cpp (COPY, ADD, WORKDIR).
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/build/build_events.hpp"
#include "skiff/build/dockerfile.hpp"
#include "skiff/build/dockerignore.hpp"
#include "skiff/build/image_build.hpp"
#include "skiff/image/image_store.hpp"
#include "skiff/runtime/spec.hpp"
#include "skiff/storage/layer_store.hpp"
#include "skiff/store/file_lock.hpp"
#include "skiff/store/paths.hpp"
#include "skiff/userns/id_map.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/unique_fd.hpp"
#include "step_fs.hpp"

namespace skiff::build {

using Vars = std::map<std::string, std::string, std::less<>>;

// The state of a stage after each instruction.
struct StageState {
  std::vector<LayerRef> layers;
  nlohmann::json config;  // the whole image config
  std::string key;        // cache key: everything that made this state
  Vars args;              // ARGs in scope with a value
  uint64_t size = 0;
  std::string created;   // of the newest layer (or the base image)
  bool cmd_set = false;  // CMD given in this stage
};

// The stage's "config" object (Env, Cmd, ...), made if it is missing.
nlohmann::json& cfg(StageState& s);
// The value of ENV name in the stage, if it is set.
std::optional<std::string> env_value(const StageState& s, std::string_view name);
// The stage's SHELL, else /bin/sh -c.
std::vector<std::string> stage_shell(const StageState& s);
// sha256 of the parts: a cache key.
std::string hash_key(const std::vector<std::string>& parts);
// Throws if a signal that stops the build is pending.
void check_stop();
// The error a build stopped by signal sig ends with.
Error interrupted(int sig);

// One build: the Dockerfile's stages that the target needs, built in order.
class Builder {
 public:
  Builder(const store::Paths& paths, const BuildOptions& opts, BuildEvents& events)
      : paths_(paths),
        opts_(opts),
        events_(events),
        images_(paths),
        map_(userns::current_id_map()),
        layers_(paths, map_) {}

  // Builds the target and the stages it needs, and stores the image.
  BuildResult run();
  // Removes the build's work dir in tmp/.
  void cleanup() {
    if (work_.empty()) return;
    work_hold_.reset();
    layers_.remove_tree_as_owner(work_);
    work_.clear();
  }

 private:
  // Stages (build_stage.cpp).
  const StageState& stage(size_t index);
  void from(StageState& s, const build::Stage& st, size_t index);
  void trigger_onbuild(StageState& s, size_t stage_index);
  void dispatch(StageState& s, const build::Instruction& raw, size_t stage_index);
  void history(StageState& s, const std::string& created_by, bool empty);
  std::set<size_t> needed_stages(size_t target) const;
  std::optional<size_t> find_stage(std::string_view name, size_t before) const;
  image::ImageContent image_for(const std::string& ref);
  StepRoot step_root(const StageState& s) const;
  build::EnvLookup lookup(const StageState& s) const;
  build::EnvLookup meta_lookup() const;

  // Layer steps and the cache (build_cache.cpp).
  void add_layer_step(StageState& s, const build::Instruction& in, const std::string& key,
                      const std::string& created_by, const std::function<StepLayer(const StepDirs&)>& make);
  StepDirs new_step_dirs();
  std::filesystem::path cache_file(const std::string& key) const { return paths_.build_cache_record(key); }
  std::optional<StepLayer> cached(const std::string& key, std::string& created);
  void remember(const std::string& key, const StepLayer& layer, const std::string& created);

  // RUN (build_run_step.cpp).
  void run_step(StageState& s, const build::Instruction& in, const build::RunInstruction& run);
  void add_run_mounts(runtime::Spec& spec, const std::vector<build::RunMount>& mounts, const StageState& s,
                      const StepDirs& dirs, std::vector<store::FileLock>& locks);

  // COPY, ADD and WORKDIR (build_file_steps.cpp).
  void copy_step(StageState& s, const build::Instruction& in, const build::CopyInstruction& copy, size_t stage_index);
  void workdir_step(StageState& s, const build::Instruction& in, const std::string& path);

  // Messages and build args.
  std::string where(const build::Instruction& in) const { return fmt::format("{}:{}", df_.file_name, in.line); }
  // raw with its variables substituted from env; errors name Dockerfile:LINE.
  build::Instruction expand(const build::Instruction& raw, const build::EnvLookup& env) const {
    try {
      return build::expand_instruction(raw, env, df_.escape);
    } catch (const Error& e) {
      throw e.with_context(where(raw));
    }
  }
  void step_header(const std::string& text) {
    ++step_;
    events_.step(stage_no_, stages_total_, step_, steps_in_stage_, text);
  }
  std::optional<std::string> build_arg(std::string_view name) {
    for (const auto& [k, v] : opts_.build_args)
      if (k == name) {
        used_args_.insert(k);
        return v;
      }
    return std::nullopt;
  }

  store::Paths paths_;
  const BuildOptions& opts_;
  BuildEvents& events_;
  build::Dockerfile df_;
  image::ImageStore images_;
  userns::IdMap map_;
  storage::LayerStore layers_;
  storage::StorageInfo storage_;
  build::DockerIgnore ignore_;
  UniqueFd context_fd_;
  std::filesystem::path work_;
  UniqueFd work_hold_;
  std::filesystem::path empty_dir_;
  int next_step_dir_ = 0;
  Vars meta_args_;
  std::set<std::string, std::less<>> used_args_;
  std::map<size_t, StageState> built_;
  size_t stage_no_ = 0, stages_total_ = 1;
  int step_ = 0, steps_in_stage_ = 0;
  bool noted_single_map_ = false;
};

}  // namespace skiff::build
