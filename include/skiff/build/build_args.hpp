// The build args docker defines without an ARG in the Dockerfile.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "skiff/image/manifest.hpp"

namespace skiff::build {

// TARGETPLATFORM, TARGETOS, TARGETARCH, TARGETVARIANT, BUILDPLATFORM,
// BUILDOS, BUILDARCH and BUILDVARIANT for a build on `build` for `target`.
// They live in the global scope (the meta args): a stage sees one only
// after an `ARG TARGETARCH` without a value.
std::vector<std::pair<std::string, std::string>> platform_args(const image::Platform& target,
                                                               const image::Platform& build);

// The proxy args: --build-arg may set them without a matching ARG; RUN sees
// them, and they stay out of the image's history.
inline constexpr std::array<std::string_view, 10> kProxyArgs = {
    "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
    "ftp_proxy",  "NO_PROXY",   "no_proxy",    "ALL_PROXY",   "all_proxy",
};

// Whether name is one of kProxyArgs.
bool is_proxy_arg(std::string_view name);

}  // namespace skiff::build
