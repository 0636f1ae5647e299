// Column output as docker prints it, and its human units.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

namespace skiff::cli {

// Left-aligned columns separated by three spaces (docker's tabwriter).
class Table {
 public:
  explicit Table(std::vector<std::string> headers) : rows_{std::move(headers)} {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  // Every column but the last takes at least width columns, spaces
  // included (the tabwriter's minwidth: 20 for top).
  void set_min_width(size_t width) { min_width_ = width; }
  void print() const;

 private:
  std::vector<std::vector<std::string>> rows_;
  size_t min_width_ = 0;
};

// "3 seconds", "About a minute", "2 hours", "5 weeks" (docker's HumanDuration).
std::string human_duration(int64_t seconds);
// "4.26MB", "12.3kB", "512B" (docker's HumanSize: decimal, 3 significant digits).
std::string human_size(uint64_t bytes);
// Seconds since the epoch of an RFC 3339 time; 0 when it does not parse.
time_t parse_rfc3339(const std::string& text);
// "2 minutes ago" for an RFC 3339 time.
std::string ago(const std::string& rfc3339);

}  // namespace skiff::cli
