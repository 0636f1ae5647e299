// Splitting text on one separator character.
#pragma once

#include <string_view>
#include <vector>

namespace skiff {

// "a:b::c" -> {"a", "b", "", "c"}; the views point into text.
inline std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    size_t p = text.find(sep);
    out.push_back(text.substr(0, p));
    if (p == std::string_view::npos) break;
    text.remove_prefix(p + 1);
  }
  return out;
}

}  // namespace skiff
