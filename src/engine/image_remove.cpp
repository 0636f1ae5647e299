#include "skiff/engine/image_remove.hpp"

#include "skiff/engine/container_store.hpp"
#include "skiff/image/image_store.hpp"
#include "skiff/image/reference.hpp"
#include "skiff/userns/id_map.hpp"
#include "skiff/util/error.hpp"

namespace skiff::engine {

namespace {

// docker takes a reference for an image ID when it is a prefix of the ID,
// with or without "sha256:".
bool is_id_prefix(const std::string& ref, const image::ImageRecord& rec) {
  std::string hex = ref.rfind("sha256:", 0) == 0 ? ref.substr(7) : ref;
  return hex.size() >= 3 && rec.id.compare(7, hex.size(), hex) == 0;
}

// "busybox:latest" for docker.io/library/busybox:latest, as docker says it.
std::string familiar(const std::string& full) {
  size_t colon = full.rfind(':');
  return image::familiar_name(full.substr(0, colon)) + full.substr(colon);
}

// The words of docker's daemon (daemon/containerd/image_delete.go): a hard
// conflict cannot be forced, a soft one must be.
Error conflict(const std::string& what, bool hard, std::string_view why) {
  return Error(
      fmt::format("conflict: unable to delete {} ({}) - {}", what, hard ? "cannot be forced" : "must be forced", why));
}

}  // namespace

ImageRemoval remove_image(const store::Paths& paths, const std::string& ref, bool force) {
  image::ImageStore images(paths);
  const image::ImageRecord rec = images.resolve(ref);
  const std::string short_id = rec.id.substr(7, 12);
  std::vector<ContainerView> users;
  for (auto& c : ContainerStore(paths).list())
    if (c.record.image_id == rec.id) users.push_back(std::move(c));

  ImageRemoval out;
  bool nameless = rec.names.empty();
  if (!is_id_prefix(ref, rec)) {
    std::string name = image::parse_reference(ref).str();
    if (!users.empty() && rec.names.size() <= 1 && !force)
      throw conflict(familiar(name), false,
                     fmt::format("container {} is using its referenced image {}", users.front().record.id.substr(0, 12),
                                 short_id));
    if (images.untag(name)) nameless = true;
    out.untagged.push_back(name);
  } else {
    for (const auto& c : users)
      if (c.running)
        throw conflict(short_id, true,
                       fmt::format("image is being used by running container {}", c.record.id.substr(0, 12)));
    // Forced, the names go and the image stays while a container needs it:
    // one with no name left to remove is kept, which no force changes.
    if (!users.empty() && (!force || rec.names.empty()))
      throw conflict(short_id, force,
                     fmt::format("image is being used by stopped container {}", users.front().record.id.substr(0, 12)));
    if (!force && rec.names.size() > 1) throw conflict(short_id, false, "image is referenced in multiple repositories");
    for (const auto& n : rec.names) {
      images.untag(n);
      out.untagged.push_back(n);
    }
    nameless = true;
  }
  // docker keeps an untagged image its containers use; skiff commit reads
  // it for a container's base, so it stays here too until they are gone.
  if (nameless && users.empty()) {
    images.remove(rec.id);
    out.deleted = rec.id;
  }
  return out;
}

std::vector<ImageRemovalOutcome> remove_images(const store::Paths& paths, const std::vector<std::string>& refs,
                                               bool force) {
  std::vector<ImageRemovalOutcome> out;
  for (const auto& ref : refs) {
    ImageRemovalOutcome o{.ref = ref};
    try {
      o.done = remove_image(paths, ref, force);
    } catch (const Error& e) {
      o.error = e.what();
    }
    out.push_back(std::move(o));
  }
  storage::LayerStore layers(paths, userns::current_id_map());
  collect_unused_layers(paths, layers);
  return out;
}

void collect_unused_layers(const store::Paths& paths, storage::LayerStore& layers) {
  std::vector<std::string> in_use = image::ImageStore(paths).layers_in_use();
  for (const auto& c : ContainerStore(paths).list())
    in_use.insert(in_use.end(), c.record.layers.begin(), c.record.layers.end());
  layers.collect_garbage(in_use);
}

}  // namespace skiff::engine
