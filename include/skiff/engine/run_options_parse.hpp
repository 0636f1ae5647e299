// Turning the text of run's flags into RunOptions fields (docker's syntax).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "skiff/engine/run_options.hpp"

namespace skiff::engine {

// --network MODE: host or none.
NetworkMode parse_network_mode(std::string_view text);
// --userns MODE: "" or keep-id (host is refused: it needs root).
UsernsOption parse_userns(std::string_view text);
// --pull POLICY: missing, always, never or newer ("true" is always, "false" missing).
PullPolicy parse_pull_policy(std::string_view text);

// -v SRC:DST[:ro|rw[,z|Z]]; SRC must be an absolute path (that it exists is
// checked by run_container, before anything is made).
VolumeOption parse_volume(std::string_view text);
// --mount type=bind,source=..,target=..[,readonly] | type=tmpfs,target=..[,tmpfs-size=..][,tmpfs-mode=..]
// Adds to volumes or tmpfs.
void parse_mount(std::string_view text, RunOptions& out);
// --tmpfs DST[:OPTIONS]
TmpfsOption parse_tmpfs(std::string_view text);
// --cap-add/--cap-drop NAME: "CAP_NAME" (any case, prefix optional), or "ALL".
std::string parse_capability(std::string_view name);
// --security-opt OPT: no-new-privileges[=BOOL], mask=, unmask=,
// systempaths=unconfined, seccomp=unconfined; label= and apparmor= are
// accepted and do nothing. Sets out's fields.
void parse_security_opt(std::string_view text, RunOptions& out);
// --preserve-fds N: a count of file descriptors.
int parse_preserve_fds(std::string_view text);
// -e NAME=VALUE or NAME (the host's value, skipped when unset). Empty when skipped.
std::optional<std::string> parse_env(std::string_view text);
// --env-file: NAME=VALUE and NAME lines, # comments; appends to out.
void read_env_file(const std::string& path, std::vector<std::string>& out);

}  // namespace skiff::engine
