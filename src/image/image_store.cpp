#include "skiff/image/image_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <set>

#include "skiff/image/digest.hpp"
#include "skiff/image/reference.hpp"
#include "skiff/store/file_lock.hpp"
#include "skiff/store/record.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

namespace skiff::image {

namespace fs = std::filesystem;
using nlohmann::json;

std::string rfc3339_now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  // The calendar's arithmetic, not strftime or gmtime_r: glibc reads
  // /etc/localtime at their first call, for a time in UTC.
  namespace chr = std::chrono;
  chr::sys_seconds secs{chr::seconds{ts.tv_sec}};
  chr::sys_days day = chr::floor<chr::days>(secs);
  chr::year_month_day ymd{day};
  chr::hh_mm_ss hms{secs - day};
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:09d}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), hms.hours().count(),
                     hms.minutes().count(), hms.seconds().count(), ts.tv_nsec);
}

fs::path ImageStore::blob_path(std::string_view digest) const {
  return paths_.blobs() / digest_hex(digest);
}

bool ImageStore::has_blob(std::string_view digest) const {
  return access(blob_path(digest).c_str(), F_OK) == 0;
}

std::string ImageStore::read_blob(std::string_view digest) const {
  auto data = read_file_if_exists(blob_path(digest));
  if (!data)
    throw Error(fmt::format("blob {} is missing from the store", digest), 0,
                "the image is damaged: remove it with skiff rmi -f and import or pull it again");
  return *data;
}

std::string ImageStore::put_blob(std::string_view data) {
  std::string digest = sha256_digest(data);
  if (has_blob(digest)) return digest;
  make_dirs(paths_.blobs(), 0700);
  write_file_atomic(blob_path(digest), data, {.mode = 0644});
  return digest;
}

void ImageStore::commit_blob_file(const fs::path& tmp, std::string_view digest) {
  make_dirs(paths_.blobs(), 0700);
  if (::rename(tmp.c_str(), blob_path(digest).c_str()) != 0) throw_errno(fmt::format("store blob {}", digest));
}

static json to_json(const ImageRecord& r) {
  return json{{"id", r.id},           {"manifest", r.manifest}, {"names", r.names}, {"digests", r.repo_digests},
              {"created", r.created}, {"size", r.size}};
}

static ImageRecord from_json(const json& j) {
  ImageRecord r;
  r.id = j.at("id").get<std::string>();
  r.manifest = j.at("manifest").get<std::string>();
  r.names = j.value("names", std::vector<std::string>{});
  r.repo_digests = j.value("digests", std::vector<std::string>{});
  r.created = j.value("created", "");
  r.size = j.value("size", uint64_t{0});
  return r;
}

std::vector<ImageRecord> ImageStore::read_records() const {
  std::vector<ImageRecord> out;
  auto doc = store::read_record(paths_.images_file());  // named: a range-for over a temporary's member dangles
  if (!doc) return out;
  try {
    for (const auto& j : doc->at("images")) out.push_back(from_json(j));
  } catch (const json::exception& e) {
    throw Error(fmt::format("{} is damaged: {}", paths_.images_file().string(), e.what()));
  }
  return out;
}

void ImageStore::write_records(const std::vector<ImageRecord>& records) {
  json arr = json::array();
  for (const auto& r : records) arr.push_back(to_json(r));
  store::write_record(paths_.images_file(), json{{"images", arr}}, store::Durability::kSynced, 1);
}

// Read-modify-write under the images lock, so concurrent skiffs never lose
// each other's tags. The lock is held only for this short step.
template <typename Fn>
void ImageStore::modify(Fn&& fn) {
  store::ensure_dirs(paths_);
  store::FileLock lock(paths_.images_lock());
  auto records = read_records();
  fn(records);
  write_records(records);
}

std::vector<ImageRecord> ImageStore::list() const {
  return read_records();
}

std::optional<ImageRecord> ImageStore::find(std::string_view ref) const {
  auto records = read_records();
  std::string_view hex = ref;
  if (hex.substr(0, 7) == "sha256:") hex.remove_prefix(7);
  bool looks_like_id =
      hex.size() >= 3 && hex.size() <= 64 && hex.find_first_not_of("0123456789abcdef") == std::string_view::npos;
  if (looks_like_id) {
    const ImageRecord* match = nullptr;
    int count = 0;
    for (const auto& r : records)
      if (r.id.compare(7, hex.size(), hex) == 0) {
        match = &r;
        ++count;
      }
    if (count == 1 && (hex.size() == 64 || !std::any_of(records.begin(), records.end(), [&](auto& r) {
                         return std::find(r.names.begin(), r.names.end(),
                                          "docker.io/library/" + std::string(ref) + ":latest") != r.names.end();
                       })))
      return *match;
    if (count > 1 && ref.size() != 71) throw Error(fmt::format("short image ID {:?} is ambiguous", std::string(ref)));
  }
  Reference parsed;
  try {
    parsed = parse_reference(ref);
  } catch (const Error&) {
    if (looks_like_id) return std::nullopt;
    throw;
  }
  for (const auto& r : records) {
    if (!parsed.digest.empty()) {
      std::string want = parsed.name() + "@" + parsed.digest;
      if (std::find(r.repo_digests.begin(), r.repo_digests.end(), want) != r.repo_digests.end()) return r;
      if (r.manifest == parsed.digest && parsed.tag.empty()) {
        for (const auto& n : r.names)
          if (n.rfind(parsed.name() + ":", 0) == 0) return r;
      }
      continue;
    }
    if (std::find(r.names.begin(), r.names.end(), parsed.str()) != r.names.end()) return r;
  }
  return std::nullopt;
}

ImageRecord ImageStore::resolve(std::string_view ref) const {
  if (auto r = find(ref)) return *r;
  throw Error(fmt::format("no such image: {}", ref));
}

ImageContent ImageStore::load(const ImageRecord& record) const {
  ImageContent c;
  c.record = record;
  try {
    c.manifest = json::parse(read_blob(record.manifest));
    c.config = json::parse(read_blob(record.id));
    for (const auto& d : c.config.at("rootfs").at("diff_ids")) c.diff_ids.push_back(d.get<std::string>());
  } catch (const json::exception& e) {
    throw Error(fmt::format("image {} has a malformed manifest or config: {}", record.id.substr(7, 12), e.what()));
  }
  return c;
}

void ImageStore::add(const ImageRecord& record) {
  modify([&](std::vector<ImageRecord>& records) {
    bool whole = has_blob(record.id) && has_blob(record.manifest);
    if (whole) {
      try {
        // Named: a range-for over a temporary's member dangles (before C++23).
        json manifest = json::parse(read_blob(record.manifest));
        for (const auto& l : manifest.at("layers")) whole = whole && has_blob(l.at("digest").get<std::string>());
      } catch (const json::exception&) {
        whole = false;
      }
    }
    if (!whole)
      throw Error(fmt::format("image {} lost a blob while it was being added (removed at the same time?)",
                              record.id.substr(7, 12)),
                  0, "run the command again");
    for (auto& r : records) {
      if (r.id == record.id) continue;
      std::erase_if(r.names, [&](const std::string& n) {
        return std::find(record.names.begin(), record.names.end(), n) != record.names.end();
      });
    }
    auto it = std::find_if(records.begin(), records.end(), [&](auto& r) { return r.id == record.id; });
    if (it == records.end()) {
      records.push_back(record);
      return;
    }
    for (const auto& n : record.names)
      if (std::find(it->names.begin(), it->names.end(), n) == it->names.end()) it->names.push_back(n);
    for (const auto& d : record.repo_digests)
      if (std::find(it->repo_digests.begin(), it->repo_digests.end(), d) == it->repo_digests.end())
        it->repo_digests.push_back(d);
  });
}

void ImageStore::tag(std::string_view id, const std::string& name) {
  bool found = false;
  modify([&](std::vector<ImageRecord>& records) {
    for (auto& r : records) {
      if (r.id == id) {
        found = true;
        if (std::find(r.names.begin(), r.names.end(), name) == r.names.end()) r.names.push_back(name);
      } else {
        std::erase(r.names, name);
      }
    }
  });
  if (!found) throw Error(fmt::format("no such image: {}", id));
}

std::optional<ImageRecord> ImageStore::untag(const std::string& name) {
  std::optional<ImageRecord> orphan;
  bool found = false;
  modify([&](std::vector<ImageRecord>& records) {
    for (auto& r : records) {
      if (std::erase(r.names, name) > 0) {
        found = true;
        if (r.names.empty()) orphan = r;
      }
    }
  });
  if (!found) throw Error(fmt::format("no such image: {}", name));
  return orphan;
}

void ImageStore::remove(std::string_view id) {
  // Blobs are dropped under the images lock: an import or pull adds its record
  // under the same lock after checking its blobs are there (add), so a blob it
  // shares with the image removed here is never lost between the two.
  modify([&](std::vector<ImageRecord>& records) {
    auto gone = std::find_if(records.begin(), records.end(), [&](auto& r) { return r.id == id; });
    if (gone == records.end()) return;
    auto blobs_of = [&](const ImageRecord& r) {
      std::vector<std::string> out{r.id, r.manifest};
      try {
        json manifest = json::parse(read_blob(r.manifest));
        for (const auto& l : manifest.at("layers")) out.push_back(l.at("digest").get<std::string>());
      } catch (const std::exception&) {
      }
      return out;
    };
    std::vector<std::string> drop = blobs_of(*gone);
    records.erase(gone);
    std::set<std::string> keep;
    for (const auto& r : records)
      for (auto& d : blobs_of(r)) keep.insert(std::move(d));
    for (const auto& d : drop)
      if (!keep.count(d)) ::unlink(blob_path(d).c_str());
  });
}

std::vector<std::string> ImageStore::layers_in_use() const {
  std::vector<std::string> out;
  for (const auto& r : read_records()) {
    try {
      json config = json::parse(read_blob(r.id));
      for (const auto& d : config.at("rootfs").at("diff_ids")) out.push_back(d.get<std::string>());
    } catch (const std::exception&) {
    }
  }
  return out;
}

std::vector<LayerRef> image_layers(const ImageContent& content) {
  std::vector<LayerRef> out;
  const json& descs = content.manifest.at("layers");
  if (descs.size() != content.diff_ids.size())
    throw Error(fmt::format("image {}: the manifest lists {} layers but the config {}", content.record.id.substr(7, 12),
                            descs.size(), content.diff_ids.size()));
  for (size_t i = 0; i < descs.size(); ++i)
    out.push_back({content.diff_ids[i], descs[i].at("digest").get<std::string>(),
                   descs[i].value("mediaType", "application/vnd.oci.image.layer.v1.tar"),
                   descs[i].value("size", uint64_t{0})});
  return out;
}

ImageRecord store_image(ImageStore& images, const std::vector<LayerRef>& layers, json config,
                        const std::vector<std::string>& names, uint64_t size) {
  json diff_ids = json::array();
  json descs = json::array();
  for (const auto& l : layers) {
    diff_ids.push_back(l.diff_id);
    // Docker's media types become their OCI equals in an OCI manifest.
    std::string type = l.media_type;
    if (type == "application/vnd.docker.image.rootfs.diff.tar.gzip")
      type = "application/vnd.oci.image.layer.v1.tar+gzip";
    if (type == "application/vnd.docker.image.rootfs.diff.tar") type = "application/vnd.oci.image.layer.v1.tar";
    descs.push_back({{"mediaType", type}, {"digest", l.digest}, {"size", l.size}});
  }
  config["rootfs"] = {{"type", "layers"}, {"diff_ids", diff_ids}};
  if (!config.contains("created")) config["created"] = rfc3339_now();
  std::string config_text = config.dump();
  std::string config_digest = images.put_blob(config_text);
  json manifest{{"schemaVersion", 2},
                {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                {"config",
                 {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                  {"digest", config_digest},
                  {"size", config_text.size()}}},
                {"layers", descs}};
  ImageRecord rec;
  if (auto existing = images.find(config_digest); existing && existing->id == config_digest) rec = *existing;
  rec.id = config_digest;
  rec.manifest = images.put_blob(manifest.dump());
  for (const auto& n : names)
    if (std::find(rec.names.begin(), rec.names.end(), n) == rec.names.end()) rec.names.push_back(n);
  if (rec.created.empty()) rec.created = config.value("created", rfc3339_now());
  rec.size = size;
  images.add(rec);
  return rec;
}

}  // namespace skiff::image
