// Capability names to numbers.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace skiff::runtime {

// CAP_CHOWN -> 0; also accepts names without the CAP_ prefix, any case.
std::optional<int> capability_number(std::string_view name);

// 0 -> "CHOWN" (without the CAP_ prefix); "" past the last name skiff knows.
std::string_view capability_name(int number);

// The highest capability the running kernel knows (what
// /proc/sys/kernel/cap_last_cap says).
int last_capability();

}  // namespace skiff::runtime
