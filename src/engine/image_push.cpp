#include "skiff/engine/image_push.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include "skiff/image/digest.hpp"
#include "skiff/image/image_store.hpp"
#include "skiff/image/manifest.hpp"
#include "skiff/image/reference.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

namespace skiff::engine {

using nlohmann::json;
using registry::RegistryClient;

namespace {

struct PushBlob {
  std::string digest;
  bool is_config = false;
};

// Repositories of the same registry the image came from or went to: a
// blob there can be mounted instead of uploaded.
std::vector<std::string> mount_sources(const image::ImageRecord& rec, const image::Reference& dest) {
  std::vector<std::string> out;
  for (const auto& d : rec.repo_digests) {
    std::string name = d.substr(0, d.find('@'));
    auto slash = name.find('/');
    if (slash == std::string::npos || name.substr(0, slash) != dest.domain) continue;
    std::string path = name.substr(slash + 1);
    if (path != dest.path && std::find(out.begin(), out.end(), path) == out.end()) out.push_back(path);
  }
  return out;
}

void push_blob(RegistryClient& client, registry::HttpTransport& t, const image::Reference& dest, const PushBlob& blob,
               const std::vector<std::string>& sources, const image::ImageStore& store, const PushOptions& opts,
               TransferEvents& events) {
  std::string short_id = blob.digest.substr(7, 12);
  auto state = [&](std::string_view s) {
    if (!blob.is_config) events.layer_state(short_id, s);
  };
  if (client.has_blob(t, dest.path, blob.digest)) {
    state("Layer already exists");
    return;
  }
  for (const auto& from : sources)
    if (client.mount_blob(t, dest.path, blob.digest, from)) {
      state("Mounted from " + from);
      return;
    }
  UniqueFd fd = open_or_throw(store.blob_path(blob.digest), O_RDONLY);
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) throw_errno("stat blob " + blob.digest);
  uint64_t size = static_cast<uint64_t>(st.st_size);
  state("Preparing");
  client.upload_blob(t, dest.path, blob.digest, fd.get(), size, opts.chunk_size, [&](uint64_t done) {
    if (!blob.is_config) events.layer_bytes(short_id, done, size);
  });
  state("Pushed");
}

}  // namespace

PushResult push_image(const store::Paths& paths, std::string_view image_ref, std::string_view dest_text,
                      const PushOptions& opts, TransferEvents& events) {
  image::ImageStore store(paths);
  image::ImageRecord rec = store.resolve(image_ref);
  image::ImageContent content = store.load(rec);
  std::string_view target = dest_text.empty() ? image_ref : dest_text;
  if (target.substr(0, 9) == "docker://") target.remove_prefix(9);
  if (dest_text.empty() && image_ref.find_first_not_of("0123456789abcdef") == std::string_view::npos)
    throw Error(
        fmt::format("{}: an image ID needs a destination: skiff push {} HOST/NAME[:TAG]", image_ref, image_ref));
  registry::RegistriesConfig cfg = registry::load_registries_config();
  image::Reference dest = image::parse_reference(registry::with_default_registry(target, cfg));
  if (!dest.digest.empty())
    throw Error(fmt::format("cannot push to {}: a destination takes a tag, not a digest", std::string(target)));

  RegistryClient client(dest.domain, registry::client_options(dest.domain, opts.flags, cfg));
  client.set_push(true);
  events.message(fmt::format("The push refers to repository [{}]", dest.name()));

  std::vector<PushBlob> blobs;
  for (const auto& l : content.manifest.at("layers")) blobs.push_back({l.at("digest").get<std::string>()});
  blobs.push_back({rec.id, true});
  for (const auto& b : blobs)
    if (!store.has_blob(b.digest))
      throw Error(fmt::format("image {}: blob {} is missing from the store", rec.id.substr(7, 12), b.digest));
  std::vector<std::string> sources = mount_sources(rec, dest);

  registry::parallel_transfers(client, blobs.size(), opts.jobs, [&](auto& t, size_t i, const auto&) {
    push_blob(client, t, dest, blobs[i], sources, store, opts, events);
  });

  // The manifest goes last: a registry shows the image only once all of it is there.
  std::string body = store.read_blob(rec.manifest);
  std::string media_type = content.manifest.value("mediaType", std::string(image::kOciManifest));
  auto t = client.new_transport();
  PushResult result;
  result.digest = client.put_manifest(*t, dest.path, dest.tag, body, media_type);
  result.tag = dest.tag;
  result.size = body.size();
  result.reference = dest.str();
  image::ImageRecord update = rec;
  update.names.clear();
  update.repo_digests = {dest.name() + "@" + result.digest};
  store.add(update);
  events.message(fmt::format("{}: digest: {} size: {}", result.tag, result.digest, result.size));
  return result;
}

}  // namespace skiff::engine
