#include "skiff/image/manifest.hpp"

#include <sys/utsname.h>

#include "skiff/image/digest.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/split.hpp"

namespace skiff::image {

using nlohmann::json;

ManifestKind manifest_kind(std::string_view content_type, const json& body) {
  std::string type(content_type);
  // A field of the wrong type makes the kind unknown (nlohmann's value()
  // would throw its own exception for it).
  auto media_type = body.is_object() ? body.find("mediaType") : body.end();
  if (type.empty() || type == "application/json" || type == "text/plain")
    type = media_type != body.end() && media_type->is_string() ? media_type->get<std::string>() : "";
  if (type == kOciManifest || type == kDockerManifest) return ManifestKind::kImage;
  if (type == kOciIndex || type == kDockerManifestList) return ManifestKind::kIndex;
  if (type == kDockerSchema1 || type == kDockerSchema1Signed) return ManifestKind::kSchema1;
  if (!body.is_object()) return ManifestKind::kUnknown;
  // OCI lets mediaType be absent: tell by shape.
  if (auto v = body.find("schemaVersion"); v != body.end() && v->is_number() && *v == 1) return ManifestKind::kSchema1;
  if (body.contains("manifests")) return ManifestKind::kIndex;
  if (body.contains("layers") && body.contains("config")) return ManifestKind::kImage;
  return ManifestKind::kUnknown;
}

std::string manifest_accept_header() {
  return fmt::format("{}, {}, {}, {}, {}", kOciManifest, kOciIndex, kDockerManifest, kDockerManifestList,
                     kDockerSchema1Signed);
}

namespace {

// what: "the config", "layer 2".
Descriptor parse_descriptor(const json& d, const std::string& what) {
  if (!d.is_object()) throw Error(fmt::format("malformed manifest: {} is not a descriptor object", what));
  auto digest = d.find("digest");
  if (digest == d.end() || !digest->is_string()) throw Error(fmt::format("malformed manifest: {} has no digest", what));
  Descriptor out{.media_type = d.value("mediaType", ""), .digest = digest->get<std::string>()};
  if (!is_valid_digest(out.digest))
    throw Error(fmt::format("the manifest names {} with an unsupported digest {:?}", what, out.digest));
  auto size = d.find("size");
  // A size the descriptor lacks would leave the download without a limit.
  if (size == d.end())
    throw Error(
        fmt::format("the manifest gives no size for {} ({}); the OCI image spec requires one", what, out.digest));
  // JSON parsing gives a non-negative integer as unsigned; built in code, it may be signed.
  if (!size->is_number_integer() || (!size->is_number_unsigned() && size->get<int64_t>() < 0))
    throw Error(
        fmt::format("the manifest gives {} ({}) a size that is not a byte count: {}", what, out.digest, size->dump()));
  out.size = size->get<uint64_t>();
  return out;
}

}  // namespace

ManifestBlobs manifest_blobs(const json& manifest) {
  if (!manifest.is_object() || !manifest.contains("config") || !manifest.contains("layers") ||
      !manifest["layers"].is_array())
    throw Error("malformed manifest: it needs a config and a list of layers");
  ManifestBlobs out;
  out.config = parse_descriptor(manifest["config"], "the config");
  for (size_t i = 0; i < manifest["layers"].size(); ++i)
    out.layers.push_back(parse_descriptor(manifest["layers"][i], fmt::format("layer {}", i + 1)));
  return out;
}

std::string Platform::str() const {
  return variant.empty() ? os + "/" + architecture : os + "/" + architecture + "/" + variant;
}

std::string host_architecture() {
  utsname u{};
  uname(&u);
  std::string m = u.machine;
  if (m == "x86_64") return "amd64";
  if (m == "aarch64") return "arm64";
  if (m == "i686" || m == "i386") return "386";
  if (m.rfind("armv", 0) == 0) return "arm";
  return m;  // ppc64le, s390x, riscv64 are already their GOARCH names
}

Platform host_platform() {
  Platform p{.os = "linux", .architecture = host_architecture()};
  if (p.architecture == "arm") {
    utsname u{};
    uname(&u);
    p.variant = std::string("v") + (u.machine[4] ? u.machine[4] : '7');
  }
  return p;
}

Platform parse_platform(std::string_view text) {
  auto parts = split(text, '/');
  if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() || parts[1].empty())
    throw Error(fmt::format("invalid platform '{}': expected OS/ARCH[/VARIANT], e.g. linux/arm64", text));
  Platform p{.os = std::string(parts[0]), .architecture = std::string(parts[1])};
  if (parts.size() == 3) p.variant = std::string(parts[2]);
  return p;
}

namespace {

// arm64 images without a variant are v8, arm ones v7 (as containerd reads them).
std::string normal_variant(const std::string& arch, const std::string& variant) {
  if (!variant.empty()) return variant;
  if (arch == "arm64") return "v8";
  if (arch == "arm") return "v7";
  return variant;
}

}  // namespace

json select_platform(const json& index, const Platform& want, std::string_view ref) {
  // A registry's index, checked before it is read: json's own exceptions
  // would say "key 'manifests' not found" and not which image.
  auto malformed = [&](std::string_view why) { return Error(fmt::format("{}: malformed index: {}", ref, why)); };
  if (!index.is_object() || !index.contains("manifests") || !index.at("manifests").is_array())
    throw malformed("it has no list of manifests");
  const json& manifests = index.at("manifests");
  auto text = [&](const json& p, const char* key) {
    auto v = p.find(key);
    if (v == p.end()) return std::string();
    if (!v->is_string()) throw malformed(fmt::format("a platform's {} is not a string", key));
    return v->get<std::string>();
  };
  std::vector<std::string> offered;
  const json* best = nullptr;
  int best_rank = 0;
  for (const auto& d : manifests) {
    if (!d.is_object()) throw malformed("an entry of its manifests is not a descriptor object");
    if (!d.contains("platform")) continue;
    const json& p = d["platform"];
    if (!p.is_object()) throw malformed("an entry's platform is not an object");
    Platform have{.os = text(p, "os"), .architecture = text(p, "architecture"), .variant = text(p, "variant")};
    if (have.os == "unknown") continue;  // attestations, not images
    offered.push_back(have.str());
    if (have.os != want.os || have.architecture != want.architecture) continue;
    // Best: the variant written as asked (arm64 asked means v8); then the
    // same variant implied (arm64 without one is v8); then, if no variant
    // was asked for, any image of the architecture. First of equals wins.
    std::string have_v = normal_variant(have.architecture, have.variant);
    std::string want_v = normal_variant(want.architecture, want.variant);
    int rank = have.variant == want_v ? 3 : have_v == want_v ? 2 : want.variant.empty() ? 1 : 0;
    if (rank > best_rank) {
      best = &d;
      best_rank = rank;
    }
  }
  if (!best) {
    std::string list;
    for (const auto& o : offered) list += (list.empty() ? "" : ", ") + o;
    throw Error(fmt::format("{}: no image for {} (the index has: {})", ref, want.str(), list.empty() ? "none" : list),
                0, "choose one with --platform");
  }
  // The caller fetches the chosen manifest by its digest.
  if (!best->contains("digest") || !best->at("digest").is_string())
    throw malformed(fmt::format("the entry for {} has no digest", want.str()));
  return *best;
}

}  // namespace skiff::image
