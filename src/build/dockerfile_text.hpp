// Character classes and small string operations with the exact meaning
// BuildKit's Go code gives them (unicode.IsSpace, its [\t\v\f\r ]+ splits),
// shared by the Dockerfile parser's files.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace skiff::build::detail {

// unicode.IsSpace on ASCII.
inline bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// What separates a keyword from its arguments: [\t\v\f\r ].
inline bool is_blank(char c) {
  return c != '\n' && is_space(c);
}

inline std::string_view trim_left(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  return s;
}

inline std::string_view trim(std::string_view s) {
  s = trim_left(s);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Splits at runs of blanks into at most max parts (0: no limit); the last
// part keeps its inner blanks. Empty text has no parts.
inline std::vector<std::string> split_blanks(std::string_view s, size_t max = 0) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size() && is_blank(s[i])) ++i;
  while (i < s.size()) {
    if (max && out.size() + 1 == max) {
      out.emplace_back(s.substr(i));
      break;
    }
    size_t j = i;
    while (j < s.size() && !is_blank(s[j])) ++j;
    out.emplace_back(s.substr(i, j - i));
    while (j < s.size() && is_blank(s[j])) ++j;
    i = j;
  }
  return out;
}

inline std::string to_upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

inline std::string to_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace skiff::build::detail
