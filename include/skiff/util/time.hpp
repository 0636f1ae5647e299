// Times as text: RFC 3339 (what records and logs keep) and docker's
// --since/--until forms.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace skiff {

// Nanoseconds since the epoch, now.
int64_t now_ns();
// "2026-12-07T19:00:00.123456789Z" for a time in nanoseconds since the epoch.
std::string rfc3339_nano(int64_t ns);
// RFC 3339 with or without a fraction, with Z or a +hh:mm offset, or a date
// alone: the time in nanoseconds since the epoch; nullopt if it is not one.
std::optional<int64_t> parse_rfc3339_ns(std::string_view text);
// docker's --since/--until: RFC 3339 as above, a Unix time (seconds, with
// an optional fraction), or a duration before now ("10m", "1h30m", "45s").
std::optional<int64_t> parse_time_point_ns(std::string_view text, int64_t now);

}  // namespace skiff
