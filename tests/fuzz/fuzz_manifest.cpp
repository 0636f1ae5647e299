// libFuzzer target: a manifest, index or image config as a registry sends
// it: its kind, its blobs, and the platform chosen from an index
// (tests/fuzz/run.sh builds and runs it).
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "skiff/image/manifest.hpp"
#include "skiff/util/error.hpp"

namespace {

using nlohmann::json;
namespace image = skiff::image;

void each_kind(const json& body) {
  for (std::string_view type : {std::string_view{}, std::string_view{"application/json"}, image::kOciManifest,
                                image::kOciIndex, image::kDockerManifestList})
    (void)image::manifest_kind(type, body);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // Image pull parses the body with nlohmann::json first; what does not
  // parse never reaches the code below.
  json body = json::parse(text, nullptr, false);
  if (body.is_discarded()) return 0;
  each_kind(body);
  try {
    image::ManifestBlobs blobs = image::manifest_blobs(body);
    (void)blobs;
  } catch (const skiff::Error&) {
  }
  if (image::manifest_kind("", body) == image::ManifestKind::kIndex) {
    for (const char* want : {"linux/amd64", "linux/arm64", "linux/arm/v6", "linux/arm64/v8", "windows/amd64"}) {
      try {
        json chosen = image::select_platform(body, image::parse_platform(want), "fuzz");
        (void)chosen;
      } catch (const skiff::Error&) {
      }
    }
  }
  // The same text as a platform, as --platform gives it.
  try {
    (void)image::parse_platform(text).str();
  } catch (const skiff::Error&) {
  }
  return 0;
}
