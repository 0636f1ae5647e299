#include "skiff/engine/image_commit.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>

#include "skiff/engine/container_pause.hpp"
#include "skiff/engine/container_store.hpp"
#include "skiff/image/config_change.hpp"
#include "skiff/image/digest.hpp"
#include "skiff/image/layer_pack.hpp"
#include "skiff/image/manifest.hpp"
#include "skiff/storage/layer_store.hpp"
#include "skiff/store/file_lock.hpp"
#include "skiff/userns/userns.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

namespace skiff::engine {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

bool in_lowers(const std::string& rel, const std::vector<fs::path>& lowers) {
  struct stat st {};
  for (const auto& l : lowers)
    if (lstat((l / rel).c_str(), &st) == 0) return true;
  return false;
}

// Mount targets a container's start made in its upper layer (when the image
// lacks them): empty, and not the container's own changes.
bool is_stub(const std::string& rel, const struct stat& st, const std::vector<fs::path>& lowers) {
  static const char* const kStubs[] = {"proc", "sys", "dev", "etc/hosts", "etc/hostname", "etc/resolv.conf"};
  if (std::none_of(std::begin(kStubs), std::end(kStubs), [&](const char* s) { return rel == s; })) return false;
  if (S_ISREG(st.st_mode) && st.st_size != 0) return false;
  return !in_lowers(rel, lowers);
}

// What of a container's upper dir is not its changes: the stubs, and
// directories of the image that were copied up only to hold them.
std::set<std::string> not_changes(const fs::path& upper, const std::vector<fs::path>& lowers) {
  std::vector<image::LayerChange> all;
  image::walk_layer_dir(upper, [&](const image::LayerChange& c) { all.push_back(c); });
  std::set<std::string> out;
  std::map<std::string, std::pair<int, int>> children;  // dir -> (entries, entries kept)
  // Children come before their parents in reverse walk order.
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    const auto& c = *it;
    bool drop = is_stub(c.path, c.st, lowers);
    if (!drop && S_ISDIR(c.st.st_mode) && c.kind != image::LayerChange::Kind::kOpaqueDir) {
      auto [n, kept] = children[c.path];
      drop = n > 0 && kept == 0 && in_lowers(c.path, lowers);
    }
    if (drop) out.insert(c.path);
    size_t slash = c.path.rfind('/');
    auto& parent = children[slash == std::string::npos ? std::string() : c.path.substr(0, slash)];
    ++parent.first;
    if (!drop) ++parent.second;
  }
  return out;
}

struct ContainerLayers {
  ContainerView view;
  fs::path upper;
  std::vector<fs::path> lowers_top_first;
};

ContainerLayers container_layers(const store::Paths& paths, const std::string& name,
                                 const storage::LayerStore& layers) {
  ContainerStore containers(paths);
  ContainerLayers out{containers.resolve(name), {}, {}};
  if (out.view.record.driver == "copy")
    throw Error(
        fmt::format("container {} uses the copy driver: it has no layer of changes to read", out.view.record.name));
  out.upper = containers.dir(out.view.record.id) / "upper";
  if (access(out.upper.c_str(), F_OK) != 0)
    throw Error(fmt::format("container {} is still being created: it has no changes yet", out.view.record.name));
  for (auto it = out.view.record.layers.rbegin(); it != out.view.record.layers.rend(); ++it)
    out.lowers_top_first.push_back(layers.layer_dir(*it));
  return out;
}

}  // namespace

image::ImageRecord commit_container(const store::Paths& paths, const std::string& container,
                                    const CommitOptions& opts) {
  image::ImageStore images(paths);
  userns::IdMap map = userns::current_id_map();
  storage::LayerStore layers(paths, map);
  ContainerLayers c = container_layers(paths, container, layers);
  auto base_rec = images.find(c.view.record.image_id);
  if (!base_rec)
    throw Error(fmt::format("the image of container {} was removed: nothing to commit onto", c.view.record.name));
  image::ImageContent base = images.load(*base_rec);
  // As docker does, a running container is stopped while its changes are
  // read, so that what it writes meanwhile cannot tear the layer.
  std::optional<ContainerPause> paused;
  if (opts.pause && c.view.running && c.view.state.pid > 0) paused.emplace(c.view.state.pid);

  json config = base.config;
  json& inner = config["config"];
  if (!inner.is_object()) inner = json::object();
  for (const auto& change : opts.changes) image::apply_change(change, inner);
  if (!opts.author.empty()) config["author"] = opts.author;
  std::string created = image::rfc3339_now();
  config["created"] = created;

  make_dirs(paths.tmp(), 0700);
  layers.sweep_abandoned_work();  // what killed skiffs left
  store::HeldEntry work = store::hold_new_entry(paths, "commit", 0700);
  const fs::path& tmp = work.path;
  fs::path blob = tmp / "blob";
  fs::path result = tmp / "result.json";
  image::ImageRecord rec;
  try {
    userns::run_in_userns(map, [&] {
      image::PackOptions po;
      po.strip_overlay_xattrs = false;  // the container may still use its upper layer
      std::set<std::string> skip = not_changes(c.upper, c.lowers_top_first);
      po.skip = [&](const std::string& rel) { return skip.count(rel) > 0; };
      image::PackedLayer p = image::pack_layer_dir(c.upper, blob, po);
      json r{{"empty", p.empty}};
      if (!p.empty)
        r.update({{"diff_id", p.diff_id},
                  {"digest", p.digest},
                  {"media_type", p.media_type},
                  {"size", p.blob_size},
                  {"content_size", p.content_size}});
      write_file_atomic(result, r.dump(), {.mode = 0600, .durable = false});
    });
    json r = json::parse(read_file(result));
    std::vector<LayerRef> refs = image::image_layers(base);
    uint64_t size = base_rec->size;
    std::string command;
    for (const auto& a : c.view.record.command) command += (command.empty() ? "" : " ") + a;
    json h{{"created", created}, {"created_by", command}};
    if (!opts.message.empty()) h["comment"] = opts.message;
    if (!opts.author.empty()) h["author"] = opts.author;
    if (r.at("empty").get<bool>()) {
      h["empty_layer"] = true;
    } else {
      LayerRef l{r.at("diff_id").get<std::string>(), r.at("digest").get<std::string>(),
                 r.at("media_type").get<std::string>(), r.at("size").get<uint64_t>()};
      if (!images.has_blob(l.digest)) images.commit_blob_file(blob, l.digest);
      refs.push_back(l);
      size += r.value("content_size", uint64_t{0});
    }
    if (!config.contains("history") || !config["history"].is_array()) config["history"] = json::array();
    config["history"].push_back(h);
    std::vector<std::string> names;
    if (!opts.name.empty()) names.push_back(opts.name);
    rec = image::store_image(images, refs, config, names, size);
  } catch (...) {
    work.fd.reset();
    remove_tree(tmp);
    throw;
  }
  work.fd.reset();
  remove_tree(tmp);
  return rec;
}

std::vector<std::string> container_changes(const store::Paths& paths, const std::string& container) {
  userns::IdMap map = userns::current_id_map();
  storage::LayerStore layers(paths, map);
  ContainerLayers c = container_layers(paths, container, layers);
  store::HeldEntry work = store::hold_new_entry(paths, "diff", 0600, true);
  const fs::path& out = work.path;
  try {
    userns::run_in_userns(map, [&] {
      std::string lines;
      std::string skipped;
      std::set<std::string> skip = not_changes(c.upper, c.lowers_top_first);
      image::walk_layer_dir(c.upper, [&](const image::LayerChange& ch) {
        if (!skipped.empty() && ch.path.starts_with(skipped)) return;
        if (skip.count(ch.path)) {
          skipped = ch.path + "/";
          return;
        }
        char kind = ch.kind == image::LayerChange::Kind::kWhiteout ? 'D'
                    : in_lowers(ch.path, c.lowers_top_first)       ? 'C'
                                                                   : 'A';
        lines += fmt::format("{} /{}\n", kind, ch.path);
      });
      write_all(work.fd.get(), lines);
    });
  } catch (...) {
    ::unlink(out.c_str());
    throw;
  }
  std::string text = read_file(out);
  ::unlink(out.c_str());
  std::vector<std::string> result;
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    result.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  std::sort(result.begin(), result.end(),
            [](const std::string& a, const std::string& b) { return a.substr(2) < b.substr(2); });
  return result;
}

}  // namespace skiff::engine
