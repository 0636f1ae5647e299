// seccomp profiles in the format docker and podman read (moby's
// seccomp.json: defaultAction, archMap, syscalls with includes and excludes
// by capability, architecture and kernel), resolved for one container into
// the runtime spec's linux.seccomp, and their compiled programs kept in the
// store so that a start does not compile one.
#pragma once

#include <linux/filter.h>

#include <string>
#include <string_view>
#include <vector>

#include "skiff/runtime/spec.hpp"
#include "skiff/store/paths.hpp"

namespace skiff::engine {

// skiff's default profile (docker's and podman's rules), as JSON text.
std::string_view default_seccomp_profile();

// What a profile is resolved for.
struct SeccompTarget {
  std::vector<std::string> capabilities;  // the container's bounding set, "CAP_..."
  std::string arch;                       // uname's machine: "x86_64", "aarch64", ...
  std::string kernel;                     // uname's release: "6.1.0-13-amd64"
};
SeccompTarget host_seccomp_target(std::vector<std::string> capabilities);

// The profile's rules that apply to target. Throws Error for a profile that
// is not JSON or not of this format, naming where.
runtime::Seccomp resolve_seccomp_profile(std::string_view profile_json, const SeccompTarget& target);

// The compiled program of profile_json for target: read from the store
// (root/seccomp/<key>.bpf, keyed by the profile's text and the target), else
// resolved, compiled, and kept there for the next start.
std::vector<sock_filter> seccomp_program(const store::Paths& paths, std::string_view profile_json,
                                         const SeccompTarget& target);

}  // namespace skiff::engine
