// `skiff build`: a Dockerfile and its context into an image.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "skiff/engine/run_options.hpp"
#include "skiff/store/paths.hpp"

namespace skiff::build {

class BuildEvents;

struct BuildOptions {
  std::string context;                         // the context directory; empty: none (Dockerfile from stdin)
  std::string dockerfile_text;                 // the Dockerfile itself
  std::string dockerfile_name = "Dockerfile";  // for messages: "Dockerfile:7: ..."
  std::string ignore_text;                     // the .dockerignore that applies; empty: none
  std::string ignore_name = ".dockerignore";
  std::vector<std::string> tags;  // full references
  std::string commit_name;        // the first -t as given, for the COMMIT line
  std::vector<std::pair<std::string, std::string>> build_args;
  std::string target;  // stage name; empty: the last stage
  bool no_cache = false;
  engine::PullPolicy pull = engine::PullPolicy::kMissing;  // for FROM and COPY --from images
  std::vector<std::pair<std::string, std::string>> labels;
  engine::NetworkMode network = engine::NetworkMode::kHost;  // for RUN
  std::string platform;                                      // empty: this machine's
  bool quiet = false;  // keep RUN output, reported only when a RUN fails; no notes
  // --secret id=ID,src=PATH or id=ID,env=VAR: what RUN --mount=type=secret
  // may mount, by id -> the file or variable it comes from.
  struct Secret {
    std::string file;
    std::string env;
  };
  std::vector<std::pair<std::string, Secret>> secrets;
};

struct BuildResult {
  std::string image_id;  // "sha256:..."
  std::vector<std::string> names;
};

// Builds the image and records it. Throws Error pointing at the Dockerfile
// line; a failed build leaves no image, no layer half made and no container.
BuildResult build_image(const store::Paths& paths, const BuildOptions& opts, BuildEvents& events);

}  // namespace skiff::build
