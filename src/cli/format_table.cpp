#include "format_table.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

#include "skiff/util/time.hpp"

namespace skiff::cli {

// Display width: UTF-8 continuation bytes take no column ("…" is one).
static size_t columns(const std::string& s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

void Table::print() const {
  std::vector<size_t> width;
  for (const auto& row : rows_)
    for (size_t i = 0; i < row.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], columns(row[i]));
    }
  std::string out;
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(std::max(width[i] + 3, min_width_) - columns(row[i]), ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  fputs(out.c_str(), stdout);
}

std::string human_duration(int64_t s) {
  if (s < 1) return "Less than a second";
  if (s == 1) return "1 second";
  if (s < 60) return fmt::format("{} seconds", s);
  int64_t m = s / 60;
  if (m == 1) return "About a minute";
  if (m < 60) return fmt::format("{} minutes", m);
  int64_t h = m / 60;
  if (h == 1) return "About an hour";
  if (h < 48) return fmt::format("{} hours", h);
  if (h < 24 * 7 * 2) return fmt::format("{} days", h / 24);
  if (h < 24 * 30 * 2) return fmt::format("{} weeks", h / 24 / 7);
  if (h < 24 * 365 * 2) return fmt::format("{} months", h / 24 / 30);
  return fmt::format("{} years", h / 24 / 365);
}

std::string human_size(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1000 && unit < 5) v /= 1000, ++unit;
  return fmt::format("{:.3g}{}", v, kUnits[unit]);
}

time_t parse_rfc3339(const std::string& text) {
  return static_cast<time_t>(parse_rfc3339_ns(text).value_or(0) / 1'000'000'000);
}

std::string ago(const std::string& rfc3339) {
  time_t then = parse_rfc3339(rfc3339);
  if (then == 0) return "N/A";
  return human_duration(static_cast<int64_t>(time(nullptr) - then)) + " ago";
}

}  // namespace skiff::cli
