// Turning the text of run's flags into RunOptions fields (docker's syntax).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "skiff/engine/run_options.hpp"

namespace skiff::engine {

// -v SRC:DST[:ro|rw[,z|Z]]; SRC must be an absolute path that exists.
VolumeOption parse_volume(std::string_view text);
// --mount type=bind,source=..,target=..[,readonly] | type=tmpfs,target=..[,tmpfs-size=..][,tmpfs-mode=..]
// Adds to volumes or tmpfs.
void parse_mount(std::string_view text, RunOptions& out);
// --tmpfs DST[:OPTIONS]
TmpfsOption parse_tmpfs(std::string_view text);
// -e NAME=VALUE or NAME (the host's value, skipped when unset). Empty when skipped.
std::optional<std::string> parse_env(std::string_view text);
// --env-file: NAME=VALUE and NAME lines, # comments; appends to out.
void read_env_file(const std::string& path, std::vector<std::string>& out);

}  // namespace skiff::engine
