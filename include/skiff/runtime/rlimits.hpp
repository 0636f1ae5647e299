// process.rlimits type names (the spec's "RLIMIT_NOFILE", ...) to numbers.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace skiff::runtime {

// A limit's value meaning "no limit" (RLIM_INFINITY; -1 or "unlimited" on the command line).
inline constexpr uint64_t kRlimitInfinity = ~uint64_t{0};

// "RLIMIT_NOFILE" -> RLIMIT_NOFILE; nullopt for a name the kernel has no limit for.
std::optional<int> rlimit_number(std::string_view type);

}  // namespace skiff::runtime
