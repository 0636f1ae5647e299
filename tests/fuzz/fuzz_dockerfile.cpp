// libFuzzer target: a Dockerfile parsed, then every instruction expanded as a
// build step would (tests/fuzz/run.sh builds and runs it).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "skiff/build/dockerfile.hpp"
#include "skiff/build/shell_words.hpp"
#include "skiff/util/error.hpp"

namespace {

using skiff::build::Instruction;

// Expansion may fail on what the parser accepted ("${v?unset}"): an Error
// for that instruction, not for the others.
void expand(const Instruction& instruction, const skiff::build::EnvLookup& env, char escape) {
  try {
    Instruction out = skiff::build::expand_instruction(instruction, env, escape);
    (void)out;
  } catch (const skiff::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  skiff::build::Dockerfile file;
  try {
    file = skiff::build::parse_dockerfile(text, "Dockerfile");
  } catch (const skiff::Error&) {
    return 0;
  }
  // A scope with a few values, one holding white space and quotes.
  skiff::build::EnvLookup env = skiff::build::lookup_in({{"HOME", "/root"},
                                                         {"PATH", "/usr/bin:/bin"},
                                                         {"PORTS", "80 443/tcp"},
                                                         {"Q", "a \"b\" 'c' \\d $e"},
                                                         {"EMPTY", ""}});
  for (const auto& arg : file.meta_args) expand(arg, env, file.escape);
  for (const auto& stage : file.stages)
    for (const auto& instruction : stage.instructions) expand(instruction, env, file.escape);
  return 0;
}
