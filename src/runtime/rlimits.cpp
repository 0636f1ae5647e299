#include "skiff/runtime/rlimits.hpp"

#include <sys/resource.h>

#include <array>
#include <utility>

namespace skiff::runtime {

// RLIM_INFINITY is what the spec's largest value means too.
static_assert(RLIM_INFINITY == kRlimitInfinity);

std::optional<int> rlimit_number(std::string_view type) {
  static constexpr std::array<std::pair<std::string_view, int>, 16> kLimits = {{
      {"RLIMIT_AS", RLIMIT_AS},
      {"RLIMIT_CORE", RLIMIT_CORE},
      {"RLIMIT_CPU", RLIMIT_CPU},
      {"RLIMIT_DATA", RLIMIT_DATA},
      {"RLIMIT_FSIZE", RLIMIT_FSIZE},
      {"RLIMIT_LOCKS", RLIMIT_LOCKS},
      {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
      {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
      {"RLIMIT_NICE", RLIMIT_NICE},
      {"RLIMIT_NOFILE", RLIMIT_NOFILE},
      {"RLIMIT_NPROC", RLIMIT_NPROC},
      {"RLIMIT_RSS", RLIMIT_RSS},
      {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
      {"RLIMIT_RTTIME", RLIMIT_RTTIME},
      {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
      {"RLIMIT_STACK", RLIMIT_STACK},
  }};
  for (const auto& [name, number] : kLimits)
    if (name == type) return number;
  return std::nullopt;
}

}  // namespace skiff::runtime
