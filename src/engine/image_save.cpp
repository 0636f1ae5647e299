#include "skiff/engine/image_save.hpp"

#include <algorithm>

#include "skiff/image/archive_write.hpp"
#include "skiff/image/image_store.hpp"
#include "skiff/image/reference.hpp"
#include "skiff/util/error.hpp"

namespace skiff::engine {

void save_images(const store::Paths& paths, const std::vector<std::string>& refs, const SaveOptions& opts, int out,
                 const std::filesystem::path& dir) {
  image::ImageStore store(paths);
  std::vector<image::SavedImage> images;
  for (const auto& ref : refs) {
    image::ImageRecord rec = store.resolve(ref);
    // Saved by a name, the image keeps that name in the archive; by ID (or
    // digest), it goes without one, as docker save does.
    std::string name;
    try {
      image::Reference parsed = image::parse_reference(ref);
      if (parsed.digest.empty() && std::find(rec.names.begin(), rec.names.end(), parsed.str()) != rec.names.end())
        name = parsed.str();
    } catch (const Error&) {
    }
    auto it = std::find_if(images.begin(), images.end(), [&](auto& s) { return s.record.id == rec.id; });
    if (it == images.end()) {
      images.push_back({rec, {}});
      it = images.end() - 1;
    }
    if (!name.empty() && std::find(it->names.begin(), it->names.end(), name) == it->names.end())
      it->names.push_back(name);
  }
  if (opts.format == image::ArchiveFormat::kOciDir)
    image::write_image_dir(store, images, dir, opts.compress);
  else
    image::write_image_archive(store, images, opts.format, out);
}

}  // namespace skiff::engine
