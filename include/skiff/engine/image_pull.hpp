// skiff pull: an image from a registry into the store, layers unpacked.
#pragma once

#include <optional>
#include <string>

#include "skiff/engine/transfer_events.hpp"
#include "skiff/image/image_store.hpp"
#include "skiff/image/manifest.hpp"
#include "skiff/registry/registry_options.hpp"
#include "skiff/store/paths.hpp"

namespace skiff::engine {

struct PullOptions {
  registry::RegistryFlags flags;
  std::optional<image::Platform> platform;  // default: this machine's
  int jobs = 4;                             // layers downloaded at once
};

struct PullResult {
  image::ImageRecord record;
  std::string reference;  // the full reference pulled
  bool up_to_date = false;
};

// Pulls ref (as the user typed it). Every blob is verified while it streams;
// the image becomes visible only when all of it is stored and unpacked.
PullResult pull_image(const store::Paths& paths, std::string_view ref, const PullOptions& opts, TransferEvents& events);

// Parallel downloads wanted: SKIFF_MAX_PARALLEL, else 4.
int default_transfer_jobs();

}  // namespace skiff::engine
