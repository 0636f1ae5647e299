// The build cache: a layer step's key, its record in build-cache/, and the
// step that uses the record or makes the layer and records it.
#include <unistd.h>

#include "builder.hpp"
#include "skiff/image/digest.hpp"
#include "skiff/image/image_store.hpp"
#include "skiff/store/record.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

namespace skiff::build {

using nlohmann::json;

std::string hash_key(const std::vector<std::string>& parts) {
  std::string all;
  for (const auto& p : parts) all += p + '\0';
  return image::digest_hex(image::sha256_digest(all));
}

StepDirs Builder::new_step_dirs() {
  StepDirs d{work_ / fmt::format("step-{}", ++next_step_dir_)};
  d.create();
  return d;
}

std::optional<StepLayer> Builder::cached(const std::string& key, std::string& created) {
  if (opts_.no_cache) return std::nullopt;
  try {
    auto record = store::read_record(cache_file(key));
    if (!record) return std::nullopt;
    json& j = *record;
    StepLayer out;
    created = j.value("created", "");
    if (j.contains("layer") && !j["layer"].is_null()) {
      LayerRef l;
      l.diff_id = j["layer"].at("diff_id").get<std::string>();
      l.digest = j["layer"].at("digest").get<std::string>();
      l.media_type = j["layer"].at("media_type").get<std::string>();
      l.size = j["layer"].at("size").get<uint64_t>();
      // Layers and blobs go when no image uses them: then the step runs again.
      if (access(layers_.layer_dir(l.diff_id).c_str(), F_OK) != 0 || !images_.has_blob(l.digest)) return std::nullopt;
      out.layer = l;
      out.content_size = j.value("content_size", uint64_t{0});
    }
    return out;
  } catch (const std::exception&) {
    return std::nullopt;  // a damaged record is a miss
  }
}

void Builder::remember(const std::string& key, const StepLayer& layer, const std::string& created) {
  json j{{"created", created}, {"layer", nullptr}, {"content_size", layer.content_size}};
  if (layer.layer)
    j["layer"] = {{"diff_id", layer.layer->diff_id},
                  {"digest", layer.layer->digest},
                  {"media_type", layer.layer->media_type},
                  {"size", layer.layer->size}};
  make_dirs(cache_file(key).parent_path(), 0700);
  store::write_record(cache_file(key), j, store::Durability::kRenamed);
}

// A step that may make a layer: from the cache, or by running make.
void Builder::add_layer_step(StageState& s, const build::Instruction& in, const std::string& key,
                             const std::string& created_by, const std::function<StepLayer(const StepDirs&)>& make) {
  std::string created;
  std::optional<StepLayer> result = cached(key, created);
  if (result) {
    events_.cached(result->layer ? image::digest_hex(result->layer->diff_id).substr(0, 12) : key.substr(0, 12));
  } else {
    StepDirs dirs = new_step_dirs();
    try {
      result = make(dirs);
    } catch (const Error& e) {
      throw e.with_context(where(in));
    }
    created = image::rfc3339_now();
    remember(key, *result, created);
    layers_.remove_tree_as_owner(dirs.dir);
    if (result->layer) events_.layer_made(image::digest_hex(result->layer->diff_id).substr(0, 12));
  }
  if (result->layer) {
    s.layers.push_back(*result->layer);
    s.size += result->content_size;
    s.created = created;
  }
  s.key = hash_key({key, result->layer ? result->layer->diff_id : "-"});
  history(s, created_by, !result->layer);
}

}  // namespace skiff::build
