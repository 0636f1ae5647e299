// Image references, normalised as docker does.
#pragma once

#include <string>
#include <string_view>

namespace skiff::image {

inline constexpr std::string_view kDefaultDomain = "docker.io";

// domain/path[:tag][@digest], e.g. docker.io/library/busybox:latest.
struct Reference {
  std::string domain;  // "docker.io", "localhost:5000"
  std::string path;    // "library/busybox"
  std::string tag;     // "latest"; empty when only a digest was given
  std::string digest;  // "sha256:..." or empty

  // "docker.io/library/busybox"
  std::string name() const { return domain + "/" + path; }
  // "docker.io/library/busybox:latest" (or name@digest)
  std::string str() const;
  // docker's short form for display: "busybox", "user/app", "localhost:5000/app"
  std::string familiar_name() const;
};

// Parses and normalises: busybox -> docker.io/library/busybox:latest.
// Throws Error("invalid reference format: ...") on bad input.
Reference parse_reference(std::string_view text);

// Like parse_reference, but leaves tag empty when none was given (for filters).
Reference parse_reference_no_default_tag(std::string_view text);

// True for a registry host as distribution/reference defines it: DNS-style
// names (letters, digits, inner hyphens) joined by dots, or [IPv6], then an
// optional :port. "..", "-x" or "a..b" are not hosts.
bool is_valid_registry_host(std::string_view host);
// What a registry host may be, for messages.
inline constexpr std::string_view kRegistryHostRule =
    "names of letters, digits and inner hyphens joined by dots, or an IP address, and an optional :port";

// familiar form of a full "domain/path" name
std::string familiar_name(std::string_view full_name);

}  // namespace skiff::image
