// What a build reports as it goes; the command line draws it (build.cpp),
// as it draws pull and push from engine::TransferEvents.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/engine/transfer_events.hpp"

namespace skiff::build {

class BuildEvents {
 public:
  virtual ~BuildEvents() = default;
  // An instruction begins: step of steps in its stage, the stage stage_no of
  // stages (stages > 1 only when several stages are built).
  virtual void step(size_t stage_no, size_t stages, int step, int steps, std::string_view instruction) = 0;
  // A layer step found in the cache (short_id: the layer's, else the key's).
  virtual void cached(std::string_view short_id) = 0;
  // A layer step made a layer.
  virtual void layer_made(std::string_view short_id) = 0;
  // The image is stored: name is the first -t as given (may be empty).
  virtual void committed(std::string_view name, std::string_view short_id, const std::vector<std::string>& tags) = 0;
  // A RUN step whose output was kept (BuildOptions::quiet) failed: its output.
  virtual void failed_step_output(std::string_view output) = 0;
  // Where pulls of FROM and COPY --from images report.
  virtual engine::TransferEvents& pulls() = 0;
};

}  // namespace skiff::build
