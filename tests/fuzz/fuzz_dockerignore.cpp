// libFuzzer target: a .dockerignore file, then paths matched against it.
// The input is the file; after a NUL byte come the paths to match, a line
// each (tests/fuzz/run.sh builds and runs it).
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/build/dockerignore.hpp"
#include "skiff/util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t nul = input.find('\0');
  std::string_view file = input.substr(0, nul);
  std::vector<std::string_view> paths = {"",          "a", "a/b", "src/main.c", ".git/HEAD", "node_modules/x/y.js",
                                         "Dockerfile"};
  if (nul != std::string_view::npos) {
    std::string_view rest = input.substr(nul + 1);
    while (!rest.empty()) {
      size_t nl = rest.find('\n');
      paths.push_back(rest.substr(0, nl));
      rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    }
  }
  skiff::build::DockerIgnore ignore;
  try {
    ignore = skiff::build::DockerIgnore::parse(file);
  } catch (const skiff::Error&) {
    return 0;
  }
  // Each pattern as written is a path too: it should match itself, mostly.
  std::vector<std::string> own = ignore.patterns();
  for (const auto& p : own) paths.push_back(p);
  for (std::string_view p : paths) {
    (void)ignore.excluded(p);
    (void)ignore.may_contain_exceptions(p);
  }
  // The patterns as cleaned make the same matcher again, unless cleaning
  // left white space at an end ("a\t/" is "a\t"), which docker's
  // patternmatcher trims, before cleaning, only once, as skiff does.
  for (const auto& p : own) {
    std::string_view t = p;
    if (!t.empty() && t[0] == '!') t.remove_prefix(1);
    if (t.empty() || isspace(static_cast<unsigned char>(t.front())) || isspace(static_cast<unsigned char>(t.back())))
      return 0;
  }
  try {
    skiff::build::DockerIgnore again(own);
    for (std::string_view p : paths)
      if (again.excluded(p) != ignore.excluded(p)) __builtin_trap();
  } catch (const skiff::Error&) {
    __builtin_trap();  // cleaned patterns that no longer compile
  }
  return 0;
}
