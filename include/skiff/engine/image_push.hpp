// skiff push: an image from the store to a registry.
#pragma once

#include <string>
#include <string_view>

#include "skiff/engine/transfer_events.hpp"
#include "skiff/registry/registry_options.hpp"
#include "skiff/store/paths.hpp"

namespace skiff::engine {

struct PushOptions {
  registry::RegistryFlags flags;
  int jobs = 4;  // blobs uploaded at once
  // Blobs larger than this go up in PATCH chunks of this size; smaller ones
  // in one PUT. SKIFF_PUSH_CHUNK_SIZE overrides (bytes).
  uint64_t chunk_size = 64ull << 20;
};

struct PushResult {
  std::string reference;  // where it went: host/path:tag
  std::string tag;
  std::string digest;  // of the manifest, as the registry has it
  uint64_t size = 0;   // manifest bytes
};

// Pushes image (a name or ID in the store) to dest ("[docker://]host/path[:tag]",
// default the image's own name). Blobs the registry has are skipped, blobs it
// has in another repository are mounted, the manifest goes last.
PushResult push_image(const store::Paths& paths, std::string_view image, std::string_view dest, const PushOptions& opts,
                      TransferEvents& events);

}  // namespace skiff::engine
