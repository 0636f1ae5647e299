// Turning the text of run's flags into RunOptions fields (docker's syntax).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/engine/run_options.hpp"

namespace skiff::engine {

// --network MODE: pasta[:OPTIONS], slirp4netns[:OPTIONS], none, host, or
// the default ("", private, bridge, default: slirp4netns when installed,
// else pasta). The options (checked) go to *options.
NetworkMode parse_network_mode(std::string_view text, std::string* options = nullptr);
// -p/-P against the network mode, --dns's addresses, and --add-host's
// entries (checked into opts.add_hosts as NAME:IP).
void check_network_flags(RunOptions& opts, const std::vector<std::string>& add_hosts);
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
// --sysctl KEY=VALUE, for a container whose network mode is network:
// docker's and podman's rules (only namespaced keys; net.* only with a
// network namespace of the container's own; kernel.hostname refused in
// favour of --hostname), "/" in the key read as ".", the value one line that
// cannot smuggle in another key (CVE-2022-0811). Sets out.sysctl[key].
void parse_sysctl(std::string_view text, NetworkMode network, RunOptions& out);
// --ulimit NAME=SOFT[:HARD] (docker's names; -1 or "unlimited"; HARD is SOFT
// when not given). Soft above hard is refused.
UlimitOption parse_ulimit(std::string_view text);
// Refuses a --ulimit whose hard limit is above the caller's own (current_hard,
// its getrlimit()): an unprivileged user cannot raise it.
void check_ulimit_allowed(std::string_view text, const UlimitOption& u, uint64_t current_hard);
// --preserve-fds N: a count of file descriptors.
int parse_preserve_fds(std::string_view text);
// --stop-timeout / stop -t: whole seconds, 0 or more.
int parse_stop_timeout(std::string_view text);
// A size as docker writes one: bytes, or a number with b, k, m or g
// (binary: 1k is 1024), case ignored. nullopt for anything else.
std::optional<uint64_t> parse_size(std::string_view text);
// --log-opt max-size=SIZE: the size in bytes (docker's other json-file
// and k8s-file options are refused in one sentence).
uint64_t parse_log_opt(std::string_view text);
// --restart no|on-failure[:N]|always|unless-stopped (docker's words and
// messages; a count only with on-failure).
RestartPolicy parse_restart_policy(std::string_view text);
// -e NAME=VALUE or NAME (the host's value, skipped when unset). Empty when skipped.
std::optional<std::string> parse_env(std::string_view text);
// --label KEY[=VALUE] (no value: empty), into out.
void parse_label(std::string_view text, std::map<std::string, std::string>& out);
// --label-file: KEY[=VALUE] lines, # comments; into out.
void read_label_file(const std::string& path, std::map<std::string, std::string>& out);
// --env-file: NAME=VALUE and NAME lines, # comments; appends to out.
void read_env_file(const std::string& path, std::vector<std::string>& out);

}  // namespace skiff::engine
