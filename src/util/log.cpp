#include "skiff/util/log.hpp"

#include <cstdio>

namespace skiff {

void warn(std::string_view message) {
  fmt::print(stderr, "skiff: warning: {}\n", message);
}
void note(std::string_view message) {
  fmt::print(stderr, "skiff: {}\n", message);
}

}  // namespace skiff
