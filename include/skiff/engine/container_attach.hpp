// docker attach: this terminal (or stdin and stdout) joined to a detached
// container through its monitor (runtime/attach.hpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "skiff/store/paths.hpp"

namespace skiff::engine {

struct AttachOptions {
  std::string detach_keys = "ctrl-p,ctrl-q";
  bool no_stdin = false;
  bool sig_proxy = true;  // signals this skiff gets go to the container (not with a terminal)
};

// What --detach-keys names as bytes: "ctrl-p,ctrl-q" -> "\x10\x11"; each
// item a single character or ctrl-X (X in a-z @ [ \ ] ^ _). nullopt when
// it is not such a list.
std::optional<std::string> parse_detach_keys(std::string_view text);

// docker's exit code of attach after the detach keys.
inline constexpr int kExitDetached = 1;

// Attaches until the container exits (its exit status) or the detach keys
// are typed (kExitDetached, "read escape sequence" said on stderr). Throws
// Error when the container does not run, or runs with no monitor.
int attach_container(const store::Paths& paths, const std::string& key, const AttachOptions& opts);

}  // namespace skiff::engine
