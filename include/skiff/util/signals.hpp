// Signal names as docker takes them: "KILL", "SIGKILL", "sigkill", "9",
// "SIGRTMIN+3".
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace skiff {

// The signal's number, or nullopt for a name or number that is none.
std::optional<int> parse_signal(std::string_view text);
// "SIGTERM" for 15; "SIGRTMIN+N" for the real-time ones.
std::string signal_name(int sig);

}  // namespace skiff
