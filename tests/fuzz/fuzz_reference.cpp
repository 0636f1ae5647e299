// libFuzzer target: image references, parsed and normalised; what parses
// must parse again from its normal and its familiar form to the same name
// (tests/fuzz/run.sh builds and runs it).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "skiff/image/reference.hpp"
#include "skiff/util/error.hpp"

namespace {

[[noreturn]] void fail(std::string_view what, std::string_view input, std::string_view got) {
  fprintf(stderr, "%.*s: input %.*s gave %.*s\n", static_cast<int>(what.size()), what.data(),
          static_cast<int>(input.size()), input.data(), static_cast<int>(got.size()), got.data());
  abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)skiff::image::is_valid_registry_host(text);
  (void)skiff::image::familiar_name(text);
  try {
    (void)skiff::image::parse_reference_no_default_tag(text);
  } catch (const skiff::Error&) {
  }
  skiff::image::Reference ref;
  try {
    ref = skiff::image::parse_reference(text);
  } catch (const skiff::Error&) {
    return 0;
  }
  if (!skiff::image::is_valid_registry_host(ref.domain)) fail("domain is not a registry host", text, ref.domain);
  // The normal form is a fixed point.
  std::string normal = ref.str();
  skiff::image::Reference again;
  try {
    again = skiff::image::parse_reference(normal);
  } catch (const skiff::Error& e) {
    fail("the normal form does not parse", text, e.what());
  }
  if (again.str() != normal) fail("the normal form is not stable", text, again.str());
  // The familiar form names the same repository, unless its first component
  // reads as a host (docker.io/a.b/c is "a.b/c" to docker too).
  std::string familiar = ref.familiar_name();
  std::string_view first = std::string_view(familiar).substr(0, familiar.find('/'));
  if (familiar.find('/') != std::string::npos && first.find_first_of(".:") != std::string_view::npos) return 0;
  if (familiar.find('/') != std::string::npos && first == "localhost") return 0;
  try {
    if (skiff::image::parse_reference(familiar).name() != ref.name())
      fail("the familiar form names another repository", text, familiar);
  } catch (const skiff::Error& e) {
    fail("the familiar form does not parse", text, familiar);
  }
  return 0;
}
