// What pull and push report as they go; the command line draws it as
// progress bars on a terminal or as one plain line per event in a log.
#pragma once

#include <cstdint>
#include <string_view>

namespace skiff::engine {

class TransferEvents {
 public:
  virtual ~TransferEvents() = default;
  // A whole line: "latest: Pulling from library/busybox", "Digest: sha256:...".
  virtual void message(std::string_view line) = 0;
  // A layer changed state: "Pulling fs layer", "Download complete", "Pull complete", "Pushed".
  virtual void layer_state(std::string_view short_id, std::string_view state) = 0;
  // Bytes moved so far for a layer (called from transfer threads).
  virtual void layer_bytes(std::string_view short_id, uint64_t done, uint64_t total) = 0;
};

// Reports nothing (-q).
class QuietEvents : public TransferEvents {
 public:
  void message(std::string_view) override {}
  void layer_state(std::string_view, std::string_view) override {}
  void layer_bytes(std::string_view, uint64_t, uint64_t) override {}
};

}  // namespace skiff::engine
