// What an image archive's metadata says: docker save's manifest.json, or an
// OCI image layout's index.json and the manifests and configs it leads to.
#include "skiff/image/image_archive.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "skiff/image/byte_source.hpp"
#include "skiff/image/digest.hpp"
#include "skiff/image/layer_unpack.hpp"
#include "skiff/image/manifest.hpp"
#include "skiff/image/reference.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

namespace skiff::image {

using nlohmann::json;

ArchiveFormat parse_archive_format(std::string_view name) {
  if (name == "docker-archive") return ArchiveFormat::kDockerArchive;
  if (name == "oci-archive") return ArchiveFormat::kOciArchive;
  if (name == "oci-dir") return ArchiveFormat::kOciDir;
  throw Error(fmt::format("unknown archive format {:?}: use docker-archive, oci-archive or oci-dir", name));
}

std::string blob_entry_name(std::string_view digest) {
  return "blobs/sha256/" + digest_hex(digest);
}

std::string digest_of_blob_entry(std::string_view name) {
  constexpr std::string_view kPrefix = "blobs/sha256/";
  if (name.substr(0, kPrefix.size()) != kPrefix) return {};
  std::string digest = "sha256:" + std::string(name.substr(kPrefix.size()));
  return is_valid_digest(digest) ? digest : std::string();
}

namespace {

// Metadata is held in memory: a file past this is not metadata.
constexpr uint64_t kMaxMetadataSize = 16u << 20;

[[noreturn]] void malformed(std::string_view what, std::string_view why) {
  throw Error(fmt::format("the archive's {} is malformed: {}", what, why));
}

json parse_entry_json(const ArchiveEntry& e, std::string_view name) {
  if (e.size > kMaxMetadataSize)
    throw Error(fmt::format("the archive's {} has {} bytes, more than the {} skiff reads as metadata", name, e.size,
                            kMaxMetadataSize));
  try {
    return json::parse(read_file(e.file));
  } catch (const json::exception& ex) {
    malformed(name, ex.what());
  }
}

// The name a RepoTags entry or an index annotation gives, as a full reference.
std::string full_name(std::string_view text, std::string_view where) {
  Reference ref;
  try {
    ref = parse_reference(text);
  } catch (const Error& e) {
    malformed(where, e.what());
  }
  if (!ref.digest.empty()) malformed(where, fmt::format("the name {:?} has a digest, not a tag", text));
  return ref.str();
}

// The config's diff_ids, checked to be as many as the layers.
std::vector<std::string> diff_ids_of(const json& config, size_t layers, std::string_view where) {
  std::vector<std::string> out;
  try {
    for (const auto& d : config.at("rootfs").at("diff_ids")) out.push_back(d.get<std::string>());
  } catch (const json::exception& e) {
    malformed(where, e.what());
  }
  for (const auto& d : out)
    if (!is_valid_digest(d)) malformed(where, fmt::format("{:?} is not a sha256 diff_id", d));
  if (out.size() != layers) malformed(where, fmt::format("it has {} diff_ids for {} layers", out.size(), layers));
  return out;
}

// Adds img, or its names to the image with the same config already there.
void add_image(std::vector<ArchivedImage>& images, ArchivedImage img) {
  for (auto& have : images)
    if (have.config_digest == img.config_digest) {
      for (auto& n : img.names)
        if (std::find(have.names.begin(), have.names.end(), n) == have.names.end()) have.names.push_back(n);
      return;
    }
  images.push_back(std::move(img));
}

void plan_docker(const ArchiveEntries& entries, ArchivePlan& plan) {
  json doc = parse_entry_json(entries.at("manifest.json"), "manifest.json");
  if (!doc.is_array()) malformed("manifest.json", "it is not a list");
  for (const auto& item : doc) {
    if (!item.is_object() || !item.contains("Config") || !item["Config"].is_string() || !item.contains("Layers") ||
        !item["Layers"].is_array())
      malformed("manifest.json", "an entry lacks Config or Layers");
    auto name_of = [](const json& v) {
      if (!v.is_string()) malformed("manifest.json", "a path is not a string");
      try {
        return sanitize_entry_path(v.get<std::string>());
      } catch (const Error& e) {
        malformed("manifest.json", e.what());
      }
    };
    std::string config_name = name_of(item["Config"]);
    auto found = entries.find(config_name);
    if (found == entries.end()) {
      plan.missing.push_back(config_name);
      continue;
    }
    ArchivedImage img;
    img.config = read_file(found->second.file);
    img.config_digest = found->second.digest;
    // docker's older archives name the config <hex>.json after its digest.
    if (config_name.size() == 69 && config_name.ends_with(".json") &&
        is_valid_digest("sha256:" + config_name.substr(0, 64)) &&
        "sha256:" + config_name.substr(0, 64) != img.config_digest)
      throw Error(
          fmt::format("archive entry {} does not match its digest: its content is {}", config_name, img.config_digest));
    json config;
    try {
      config = json::parse(img.config);
    } catch (const json::exception& e) {
      malformed(config_name, e.what());
    }
    auto diff_ids = diff_ids_of(config, item["Layers"].size(), config_name);
    for (size_t i = 0; i < diff_ids.size(); ++i) img.layers.push_back({name_of(item["Layers"][i]), diff_ids[i], 0});
    if (item.contains("RepoTags") && !item["RepoTags"].is_null()) {
      if (!item["RepoTags"].is_array()) malformed("manifest.json", "RepoTags is not a list");
      for (const auto& t : item["RepoTags"]) {
        if (!t.is_string()) malformed("manifest.json", "a RepoTags entry is not a string");
        img.names.push_back(full_name(t.get<std::string>(), "manifest.json"));
      }
    }
    add_image(plan.images, std::move(img));
  }
}

// The entry of a descriptor's blob, checked against what the descriptor says.
const ArchiveEntry* descriptor_entry(const ArchiveEntries& entries, const json& desc, std::string_view where,
                                     ArchivePlan& plan) {
  if (!desc.is_object() || !desc.contains("digest") || !desc["digest"].is_string())
    malformed(where, "a descriptor has no digest");
  std::string digest = desc["digest"].get<std::string>();
  if (!is_valid_digest(digest)) malformed(where, fmt::format("{:?} is not a sha256 digest", digest));
  auto found = entries.find(blob_entry_name(digest));
  if (found == entries.end()) {
    plan.missing.push_back(blob_entry_name(digest));
    return nullptr;
  }
  if (found->second.digest != digest)
    throw Error(fmt::format("archive entry {} does not match its digest: its content is {}", found->first,
                            found->second.digest));
  if (desc.contains("size") && desc["size"].is_number_unsigned() && desc["size"].get<uint64_t>() != found->second.size)
    throw Error(fmt::format("archive entry {} has {} bytes, but {} says {}", found->first, found->second.size, where,
                            desc["size"].get<uint64_t>()));
  return &found->second;
}

// An image manifest of the layout (desc names it), with its config.
void plan_oci_manifest(const ArchiveEntries& entries, const json& desc, std::vector<std::string> names,
                       ArchivePlan& plan, int depth) {
  const ArchiveEntry* m = descriptor_entry(entries, desc, "index.json", plan);
  if (!m) return;
  std::string where = blob_entry_name(desc["digest"].get<std::string>());
  json manifest = parse_entry_json(*m, where);
  ManifestKind kind = manifest_kind(desc.value("mediaType", ""), manifest);
  if (kind == ManifestKind::kIndex) {
    if (depth > 0) malformed(where, "an index inside an index inside index.json");
    json chosen = select_platform(manifest, host_platform(), where);
    plan_oci_manifest(entries, chosen, std::move(names), plan, depth + 1);
    return;
  }
  if (kind != ManifestKind::kImage) malformed(where, "it is not an image manifest");
  ManifestBlobs blobs;
  try {
    blobs = manifest_blobs(manifest);
  } catch (const Error& e) {
    throw e.with_context(where);
  }
  json config_desc{{"digest", blobs.config.digest}, {"size", blobs.config.size}};
  const ArchiveEntry* c = descriptor_entry(entries, config_desc, where, plan);
  if (!c) return;
  ArchivedImage img;
  img.manifest = read_file(m->file);
  img.manifest_digest = m->digest;
  img.config = read_file(c->file);
  img.config_digest = c->digest;
  json config;
  try {
    config = json::parse(img.config);
  } catch (const json::exception& e) {
    malformed(blob_entry_name(c->digest), e.what());
  }
  auto diff_ids = diff_ids_of(config, blobs.layers.size(), blob_entry_name(c->digest));
  for (size_t i = 0; i < diff_ids.size(); ++i)
    img.layers.push_back({blob_entry_name(blobs.layers[i].digest), diff_ids[i], blobs.layers[i].size});
  img.names = std::move(names);
  add_image(plan.images, std::move(img));
}

void plan_oci(const ArchiveEntries& entries, ArchivePlan& plan) {
  json index = parse_entry_json(entries.at("index.json"), "index.json");
  if (!index.is_object() || !index.contains("manifests") || !index["manifests"].is_array())
    malformed("index.json", "it has no list of manifests");
  for (const auto& desc : index["manifests"]) {
    std::vector<std::string> names;
    if (desc.is_object() && desc.contains("annotations") && desc["annotations"].is_object()) {
      const json& a = desc["annotations"];
      // containerd's full name first; the OCI name only when it is more
      // than a tag (podman and skiff write a full reference there).
      if (a.contains("io.containerd.image.name") && a["io.containerd.image.name"].is_string()) {
        names.push_back(full_name(a["io.containerd.image.name"].get<std::string>(), "index.json"));
      } else if (a.contains("org.opencontainers.image.ref.name") &&
                 a["org.opencontainers.image.ref.name"].is_string()) {
        std::string ref = a["org.opencontainers.image.ref.name"].get<std::string>();
        if (ref.find_first_of("/:") != std::string::npos) names.push_back(full_name(ref, "index.json"));
      }
    }
    plan_oci_manifest(entries, desc, std::move(names), plan, 0);
  }
}

}  // namespace

ArchivePlan plan_archive(const ArchiveEntries& entries) {
  ArchivePlan plan;
  if (entries.count("manifest.json"))
    plan_docker(entries, plan);
  else if (entries.count("index.json"))
    plan_oci(entries, plan);
  else
    plan.missing.push_back("manifest.json");
  if (!plan.missing.empty()) plan.images.clear();
  return plan;
}

std::string layer_media_type(const std::filesystem::path& file) {
  UniqueFd fd = open_or_throw(file, O_RDONLY);
  char head[6] = {};
  ssize_t n = pread(fd.get(), head, sizeof head, 0);
  if (n < 0) throw_errno(fmt::format("read {}", file.string()));
  std::string_view h(head, static_cast<size_t>(n));
  if (h.starts_with(std::string_view("\x1f\x8b", 2))) return "application/vnd.oci.image.layer.v1.tar+gzip";
  if (h.starts_with(std::string_view("\x28\xb5\x2f\xfd", 4))) return "application/vnd.oci.image.layer.v1.tar+zstd";
  if (h.starts_with(std::string_view("\xfd"
                                     "7zXZ",
                                     5)))
    throw Error("a layer of the archive is xz-compressed, which no image manifest can say");
  return "application/vnd.oci.image.layer.v1.tar";
}

std::string layer_diff_id(const std::filesystem::path& file) {
  UniqueFd fd = open_or_throw(file, O_RDONLY);
  std::unique_ptr<ByteSource> src = decompress(fd_source(fd.get()));
  Sha256 hash;
  std::string buf(1 << 20, '\0');
  while (size_t n = src->read(buf.data(), buf.size())) hash.update(std::string_view(buf.data(), n));
  return hash.finish();
}

std::string oci_manifest_for(const ArchivedImage& image, const ArchiveEntries& entries) {
  json layers = json::array();
  for (const auto& l : image.layers) {
    const ArchiveEntry& e = entries.at(l.entry);
    layers.push_back({{"mediaType", layer_media_type(e.file)}, {"digest", e.digest}, {"size", e.size}});
  }
  json manifest{{"schemaVersion", 2},
                {"mediaType", kOciManifest},
                {"config",
                 {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                  {"digest", image.config_digest},
                  {"size", image.config.size()}}},
                {"layers", layers}};
  return manifest.dump();
}

}  // namespace skiff::image
