// Manifest kinds of the OCI image spec and Docker's schema 2, and choosing
// one platform's manifest from an index.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace skiff::image {

inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerSchema1 = "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr std::string_view kDockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws";

enum class ManifestKind { kImage, kIndex, kSchema1, kUnknown };

// What a manifest is, from its Content-Type, else its mediaType or shape.
ManifestKind manifest_kind(std::string_view content_type, const nlohmann::json& body);

// The Accept header for GET manifest: all four current kinds, and schema 1
// so that an old image gets a clear error instead of a 404.
std::string manifest_accept_header();

// A content descriptor (OCI image spec, descriptor.md): what a manifest
// says of one blob.
struct Descriptor {
  std::string media_type;
  std::string digest;  // "sha256:<64 hex>"
  uint64_t size = 0;   // bytes: a download is cut off past it
};

// The blobs an image manifest names.
struct ManifestBlobs {
  Descriptor config;
  std::vector<Descriptor> layers;
};

// The config and layer descriptors of an image manifest, each with a sha256
// digest and a size. The spec makes size required, and skiff refuses a
// descriptor without one: the size is what bounds the blob's download.
// Throws Error naming the descriptor that is wrong.
ManifestBlobs manifest_blobs(const nlohmann::json& manifest);

struct Platform {
  std::string os = "linux";
  std::string architecture;
  std::string variant;
  std::string str() const;  // "linux/arm64/v8"
};

// This machine: linux and uname's architecture in Go's names (amd64, arm64).
Platform host_platform();
std::string host_architecture();

// "linux/arm64[/v8]"; throws Error on anything else.
Platform parse_platform(std::string_view text);

// The descriptor in an index (its "manifests") that runs on want; throws
// naming the platforms the index has when none does.
nlohmann::json select_platform(const nlohmann::json& index, const Platform& want, std::string_view ref);

}  // namespace skiff::image
