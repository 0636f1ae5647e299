#include "skiff/build/build_args.hpp"

#include <algorithm>

namespace skiff::build {

std::vector<std::pair<std::string, std::string>> platform_args(const image::Platform& target,
                                                               const image::Platform& build) {
  return {
      {"TARGETPLATFORM", target.str()},  {"TARGETOS", target.os},         {"TARGETARCH", target.architecture},
      {"TARGETVARIANT", target.variant}, {"BUILDPLATFORM", build.str()},  {"BUILDOS", build.os},
      {"BUILDARCH", build.architecture}, {"BUILDVARIANT", build.variant},
  };
}

bool is_proxy_arg(std::string_view name) {
  return std::find(kProxyArgs.begin(), kProxyArgs.end(), name) != kProxyArgs.end();
}

}  // namespace skiff::build
