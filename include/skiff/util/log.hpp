// Messages to the user on stderr.
#pragma once

#include <fmt/format.h>

#include <string_view>

namespace skiff {

// "skiff: warning: ..." on stderr.
void warn(std::string_view message);
// A plain note on stderr ("skiff: ..."), for things the user should know once.
void note(std::string_view message);

}  // namespace skiff
