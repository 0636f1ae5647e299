#include "skiff/engine/image_pull.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>

#include "skiff/image/digest.hpp"
#include "skiff/image/manifest.hpp"
#include "skiff/image/reference.hpp"
#include "skiff/storage/layer_store.hpp"
#include "skiff/storage/layer_stream.hpp"
#include "skiff/store/file_lock.hpp"
#include "skiff/userns/id_map.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

namespace skiff::engine {

namespace fs = std::filesystem;
using nlohmann::json;
using registry::RegistryClient;

namespace {

using Blob = image::Descriptor;

// Fetches one blob into the store, verified. Two pulls that need the same
// blob take its lock in turn: the second finds it there.
void fetch_blob(RegistryClient& client, registry::HttpTransport& t, const std::string& repo, const Blob& blob,
                const store::Paths& paths, image::ImageStore& store, TransferEvents& events,
                storage::LayerStream& stream, const std::atomic<bool>& cancel) {
  std::string short_id = blob.digest.substr(7, 12);
  store::FileLock lock(paths.blob_lock(image::digest_hex(blob.digest)));
  if (store.has_blob(blob.digest)) {
    stream.stored(blob.digest, store.blob_path(blob.digest));
    events.layer_state(short_id, "Already exists");
    return;
  }
  store::HeldEntry work = store::hold_new_entry(paths, "blob", 0644, true);
  const fs::path& tmp = work.path;
  UniqueFd& fd = work.fd;
  stream.writing(blob.digest, tmp);
  struct Unlink {
    fs::path path;
    ~Unlink() {
      if (!path.empty()) ::unlink(path.c_str());
    }
  } unlink_tmp{tmp};

  image::Sha256 hasher;
  uint64_t got = 0;
  // get_blob passes on no more than blob.size bytes.
  auto sink = [&](std::string_view data) {
    if (cancel.load(std::memory_order_relaxed)) return false;
    write_all(fd.get(), data);
    hasher.update(data);
    got += data.size();
    stream.progress();
    return true;
  };
  auto progress = [&](uint64_t) { events.layer_bytes(short_id, got, blob.size); };
  std::string where = fmt::format("{}/{}: blob {}", client.registry(), repo, blob.digest);
  for (int attempt = 0;; ++attempt) {
    uint64_t before = got;
    try {
      if (!client.get_blob(t, repo, blob.digest, blob.size, got, sink, progress)) {
        // The registry would not resume: start the blob over.
        if (ftruncate(fd.get(), 0) != 0 || lseek(fd.get(), 0, SEEK_SET) != 0) throw_errno("restart download");
        hasher = image::Sha256();
        got = 0;
        continue;
      }
      break;
    } catch (const registry::BlobSizeError&) {
      throw;  // more than the manifest says: a retry would get the same
    } catch (const Error& e) {
      if (cancel.load()) throw;
      // An interrupted stream resumes where it stopped (Range), twice at most.
      if (attempt >= 2 || got == before) throw;
    }
  }
  if (got != blob.size)
    throw Error(
        fmt::format("{}: digest mismatch: got {} bytes, the manifest gives {}; nothing stored", where, got, blob.size));
  std::string actual = hasher.finish();
  if (actual != blob.digest)
    throw Error(fmt::format("{}: digest mismatch: the content has digest {}; nothing stored", where, actual));
  if (fsync(fd.get()) != 0) throw_errno("fsync " + tmp.string());
  store.commit_blob_file(tmp, blob.digest);
  unlink_tmp.path.clear();
  stream.stored(blob.digest, store.blob_path(blob.digest));
  events.layer_state(short_id, "Download complete");
}

std::string fetch_small_blob(RegistryClient& client, registry::HttpTransport& t, const std::string& repo,
                             const image::Descriptor& blob) {
  const std::string& digest = blob.digest;
  // It is held in memory: a config past this is not one.
  constexpr uint64_t kMaxConfigSize = 16u << 20;
  if (blob.size > kMaxConfigSize)
    throw Error(fmt::format("{}/{}: blob {}: the manifest gives the config {} bytes, more than the {} skiff reads",
                            client.registry(), repo, digest, blob.size, kMaxConfigSize));
  std::string data;
  client.get_blob(
      t, repo, digest, blob.size, 0,
      [&](std::string_view d) {
        data.append(d);
        return true;
      },
      nullptr);
  if (data.size() != blob.size)
    throw Error(fmt::format("{}/{}: blob {}: digest mismatch: got {} bytes, the manifest gives {}; nothing stored",
                            client.registry(), repo, digest, data.size(), blob.size));
  if (image::sha256_digest(data) != digest)
    throw Error(fmt::format("{}/{}: blob {}: digest mismatch; nothing stored", client.registry(), repo, digest));
  return data;
}

json parse_json(const std::string& text, const std::string& what) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw Error(fmt::format("{} is not valid JSON: {}", what, e.what()));
  }
}

}  // namespace

int default_transfer_jobs() {
  const char* v = getenv("SKIFF_MAX_PARALLEL");
  if (v && *v) {
    int n = atoi(v);
    if (n < 1 || n > 64) throw Error(fmt::format("SKIFF_MAX_PARALLEL={}: expected a number from 1 to 64", v));
    return n;
  }
  return 4;
}

PullResult pull_image(const store::Paths& paths, std::string_view ref_text, const PullOptions& opts,
                      TransferEvents& events) {
  registry::RegistriesConfig cfg = registry::load_registries_config();
  image::Reference ref = image::parse_reference(registry::with_default_registry(ref_text, cfg));
  store::ensure_dirs(paths);
  make_dirs(paths.tmp(), 0700);
  storage::sweep_abandoned_work(paths);  // downloads and unpacks left by killed skiffs
  image::ImageStore store(paths);
  std::string wanted = ref.digest.empty() ? ref.tag : ref.digest;
  events.message(fmt::format("{}: Pulling from {}", wanted, ref.path));

  // Mirrors first, then the registry itself.
  std::vector<std::string> endpoints = cfg.mirrors[ref.domain];
  endpoints.push_back(ref.domain);
  std::unique_ptr<RegistryClient> client;
  std::unique_ptr<registry::HttpTransport> t;
  registry::ManifestResponse top;
  for (size_t i = 0; i < endpoints.size(); ++i) {
    client = std::make_unique<RegistryClient>(endpoints[i], registry::client_options(endpoints[i], opts.flags, cfg));
    t = client->new_transport();
    try {
      top = client->get_manifest(*t, ref.path, wanted);
      break;
    } catch (const Error& e) {
      if (i + 1 == endpoints.size()) throw;
      events.message(fmt::format("mirror {} failed ({}); trying the next", endpoints[i], e.what()));
    }
  }

  json manifest = parse_json(top.body, "the manifest of " + ref.str());
  registry::ManifestResponse chosen = top;
  switch (image::manifest_kind(top.media_type, manifest)) {
    case image::ManifestKind::kSchema1:
      throw Error(fmt::format("{}: schema 1 manifests are not supported", ref.str()), 0,
                  "it is an image from before 2017: push it again with a current docker, podman or skiff");
    case image::ManifestKind::kUnknown:
      throw Error(fmt::format("{}: unknown manifest type {:?}", ref.str(), top.media_type));
    case image::ManifestKind::kIndex: {
      json desc = image::select_platform(manifest, opts.platform.value_or(image::host_platform()), ref.str());
      chosen = client->get_manifest(*t, ref.path, desc.at("digest").get<std::string>());
      manifest = parse_json(chosen.body, "the manifest of " + ref.str());
      if (image::manifest_kind(chosen.media_type, manifest) != image::ManifestKind::kImage)
        throw Error(fmt::format("{}: the index entry for this platform is not an image manifest", ref.str()));
      break;
    }
    case image::ManifestKind::kImage:
      break;
  }

  image::ManifestBlobs blobs;
  try {
    blobs = image::manifest_blobs(manifest);
  } catch (const Error& e) {
    throw e.with_context(ref.str());
  }
  const std::string& config_digest = blobs.config.digest;
  const std::vector<Blob>& layers = blobs.layers;

  PullResult result;
  result.reference = ref.str();
  image::ImageRecord record;
  record.id = config_digest;
  record.manifest = chosen.digest;
  if (ref.digest.empty()) record.names.push_back(ref.str());
  record.repo_digests.push_back(ref.name() + "@" + top.digest);

  userns::IdMap map = userns::current_id_map();
  storage::LayerStore layer_store(paths, map);
  std::string config_text;
  if (store.has_blob(config_digest)) config_text = store.read_blob(config_digest);
  if (config_text.empty()) config_text = fetch_small_blob(*client, *t, ref.path, blobs.config);
  json config = parse_json(config_text, "the image config of " + ref.str());
  image::ImageContent content{.record = record, .manifest = manifest, .config = config};
  try {
    for (const auto& d : config.at("rootfs").at("diff_ids")) content.diff_ids.push_back(d.get<std::string>());
  } catch (const json::exception& e) {
    throw Error(fmt::format("{}: malformed image config: {}", ref.str(), e.what()));
  }
  if (content.diff_ids.size() != layers.size())
    throw Error(fmt::format("{}: the manifest lists {} layers but the config {}", ref.str(), layers.size(),
                            content.diff_ids.size()));
  bool have_all = store.has_blob(chosen.digest);
  for (const auto& b : layers) have_all = have_all && store.has_blob(b.digest);
  bool unpacked = true;
  for (const auto& d : content.diff_ids) unpacked = unpacked && fs::exists(layer_store.layer_dir(d));
  result.up_to_date = have_all && unpacked && store.find(config_digest).has_value();

  if (!result.up_to_date) {
    // The unpacking child is forked now, before any download thread exists.
    std::vector<storage::LayerJob> jobs;
    for (size_t i = 0; i < layers.size(); ++i) jobs.push_back({content.diff_ids[i], layers[i].digest});
    storage::LayerStream stream(layer_store, paths, map, jobs);
    for (const auto& b : layers)
      if (!store.has_blob(b.digest)) events.layer_state(b.digest.substr(7, 12), "Pulling fs layer");
    try {
      registry::parallel_transfers(*client, layers.size(), opts.jobs, [&](auto& tr, size_t i, const auto& cancel) {
        fetch_blob(*client, tr, ref.path, layers[i], paths, store, events, stream, cancel);
      });
    } catch (...) {
      stream.abort();
      throw;
    }
    stream.finish();
    for (size_t i = 0; i < layers.size(); ++i) {
      uint64_t bytes = stream.unpacked_bytes(i);
      record.size += bytes ? bytes : layers[i].size;
    }
    store.put_blob(config_text);
    store.put_blob(chosen.body);
    for (const auto& b : layers) events.layer_state(b.digest.substr(7, 12), "Pull complete");
  }
  if (result.up_to_date)
    for (const auto& b : layers) record.size += b.size;
  record.created = config.value("created", image::rfc3339_now());
  store.add(record);
  events.message("Digest: " + top.digest);
  events.message(fmt::format("Status: {} for {}", result.up_to_date ? "Image is up to date" : "Downloaded newer image",
                             ref.familiar_name() + (ref.digest.empty() ? ":" + ref.tag : "@" + ref.digest)));
  result.record = *store.find(config_digest);
  return result;
}

}  // namespace skiff::engine
