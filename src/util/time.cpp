#include "skiff/util/time.hpp"

#include <fmt/format.h>
#include <time.h>

#include <charconv>
#include <cstdio>

namespace skiff {

namespace {

constexpr int64_t kNsPerSecond = 1'000'000'000;

bool digits(std::string_view s, size_t at, size_t n, int& out) {
  if (at + n > s.size()) return false;
  out = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// "1h30m", "10s", "1.5h", "500ms": Go's time.ParseDuration, positive only.
std::optional<int64_t> parse_duration_ns(std::string_view s) {
  if (s.empty()) return std::nullopt;
  static constexpr std::pair<std::string_view, int64_t> kUnits[] = {{"ns", 1},
                                                                    {"us", 1000},
                                                                    {"ms", 1'000'000},
                                                                    {"s", kNsPerSecond},
                                                                    {"m", 60 * kNsPerSecond},
                                                                    {"h", 3600 * kNsPerSecond}};
  int64_t total = 0;
  while (!s.empty()) {
    size_t i = 0;
    while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
    if (i == 0) return std::nullopt;
    double value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + i, value);
    if (ec != std::errc() || end != s.data() + i) return std::nullopt;
    s.remove_prefix(i);
    size_t u = 0;
    while (u < s.size() && !((s[u] >= '0' && s[u] <= '9') || s[u] == '.')) ++u;
    std::string_view unit = s.substr(0, u);
    s.remove_prefix(u);
    bool known = false;
    for (auto [name, ns] : kUnits)
      if (unit == name) {
        total += static_cast<int64_t>(value * static_cast<double>(ns));
        known = true;
      }
    if (!known) return std::nullopt;
  }
  return total;
}

}  // namespace

int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * kNsPerSecond + ts.tv_nsec;
}

std::string rfc3339_nano(int64_t ns) {
  time_t secs = static_cast<time_t>(ns / kNsPerSecond);
  tm t{};
  gmtime_r(&secs, &t);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour,
                     t.tm_min, t.tm_sec, ns % kNsPerSecond);
}

std::optional<int64_t> parse_rfc3339_ns(std::string_view s) {
  tm t{};
  if (!digits(s, 0, 4, t.tm_year) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, t.tm_mon) || s[7] != '-' ||
      !digits(s, 8, 2, t.tm_mday))
    return std::nullopt;
  t.tm_year -= 1900;
  t.tm_mon -= 1;
  size_t at = 10;
  int64_t frac = 0;
  int64_t offset_s = 0;
  if (at < s.size()) {
    if ((s[at] != 'T' && s[at] != 't' && s[at] != ' ') || !digits(s, at + 1, 2, t.tm_hour) || s.size() < at + 9 ||
        s[at + 3] != ':' || !digits(s, at + 4, 2, t.tm_min) || s[at + 6] != ':' || !digits(s, at + 7, 2, t.tm_sec))
      return std::nullopt;
    at += 9;
    if (at < s.size() && s[at] == '.') {
      int64_t scale = kNsPerSecond;
      ++at;
      size_t first = at;
      for (; at < s.size() && s[at] >= '0' && s[at] <= '9'; ++at)
        if (scale > 1) frac += (s[at] - '0') * (scale /= 10);
      if (at == first) return std::nullopt;
    }
    if (at < s.size()) {
      if (s[at] == 'Z' || s[at] == 'z') {
        ++at;
      } else if (s[at] == '+' || s[at] == '-') {
        int h = 0, m = 0;
        if (!digits(s, at + 1, 2, h) || s.size() < at + 6 || s[at + 3] != ':' || !digits(s, at + 4, 2, m))
          return std::nullopt;
        offset_s = (s[at] == '-' ? -1 : 1) * (h * 3600 + m * 60);
        at += 6;
      }
    }
    if (at != s.size()) return std::nullopt;
  }
  if (t.tm_mon < 0 || t.tm_mon > 11 || t.tm_mday < 1 || t.tm_mday > 31 || t.tm_hour > 23 || t.tm_min > 59 ||
      t.tm_sec > 60)
    return std::nullopt;
  return (static_cast<int64_t>(timegm(&t)) - offset_s) * kNsPerSecond + frac;
}

std::optional<int64_t> parse_time_point_ns(std::string_view text, int64_t now) {
  if (auto t = parse_rfc3339_ns(text)) return t;
  // A Unix time: seconds, with an optional fraction (read as digits: a
  // double has too few of them for nanoseconds).
  int64_t secs = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), secs);
  if (!text.empty() && ec == std::errc() && secs >= 0) {
    std::string_view rest(end, static_cast<size_t>(text.data() + text.size() - end));
    int64_t frac = 0;
    bool ok = rest.empty();
    if (rest.size() > 1 && rest[0] == '.') {
      ok = true;
      int64_t scale = kNsPerSecond;
      for (char c : rest.substr(1)) {
        if (c < '0' || c > '9') ok = false;
        if (scale > 1) frac += (c - '0') * (scale /= 10);
      }
    }
    if (ok) return secs * kNsPerSecond + frac;
  }
  if (auto d = parse_duration_ns(text)) return now - *d;
  return std::nullopt;
}

}  // namespace skiff
