// Asking the user something on the terminal.
#pragma once

#include <string>

namespace skiff {

// Prints label on stderr and reads one line from stdin; with echo false the
// typing is not shown (passwords). Empty when stdin is not a terminal.
std::string prompt_line(const char* label, bool echo);

}  // namespace skiff
