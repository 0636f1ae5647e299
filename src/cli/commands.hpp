// Which commands a command line needs. Building CLI11's whole tree of
// commands and flags costs more than a container's start (a million
// instructions, most of them allocations), so only the family that the
// command line names is built; help and unknown words get them all.
#pragma once

#include <string>
#include <string_view>

#include "cli/cli_context.hpp"

namespace skiff::cli {

// The first word that is not an option (or an option's value) of skiff itself.
std::string first_command_word(int argc, char** argv);

// Adds the commands that define word to app; every command when word is
// empty or none of them.
void add_commands(CLI::App& app, CliContext& ctx, std::string_view word);

}  // namespace skiff::cli
