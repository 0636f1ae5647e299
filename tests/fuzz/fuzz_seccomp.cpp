// libFuzzer target: a seccomp profile in moby's format, resolved for a few
// containers and compiled into the program the kernel would run
// (tests/fuzz/run.sh builds and runs it).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "skiff/engine/seccomp_profile.hpp"
#include "skiff/runtime/seccomp.hpp"
#include "skiff/util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const skiff::engine::SeccompTarget targets[] = {
      {.capabilities = {"CAP_CHOWN", "CAP_SETUID", "CAP_SYS_ADMIN"}, .arch = "x86_64", .kernel = "6.1.0-13-amd64"},
      {.capabilities = {}, .arch = "aarch64", .kernel = "4.4"},
  };
  for (const auto& target : targets) {
    skiff::runtime::Seccomp resolved;
    try {
      resolved = skiff::engine::resolve_seccomp_profile(text, target);
    } catch (const skiff::Error&) {
      continue;
    }
    try {
      (void)skiff::runtime::compile_seccomp(resolved);
    } catch (const skiff::Error&) {
    }
  }
  return 0;
}
