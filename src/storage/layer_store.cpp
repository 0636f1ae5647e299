#include "skiff/storage/layer_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "skiff/image/digest.hpp"
#include "skiff/image/layer_unpack.hpp"
#include "skiff/store/file_lock.hpp"
#include "skiff/store/record.hpp"
#include "skiff/userns/userns.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"
#include "skiff/util/log.hpp"

namespace skiff::storage {

namespace fs = std::filesystem;
using nlohmann::json;

std::string driver_name(Driver d) {
  switch (d) {
    case Driver::kOverlay:
      return "overlay";
    case Driver::kFuseOverlayfs:
      return "fuse-overlayfs";
    case Driver::kCopy:
      return "copy";
  }
  return "?";
}

static std::optional<Driver> parse_driver(std::string_view s) {
  if (s == "overlay") return Driver::kOverlay;
  if (s == "fuse-overlayfs") return Driver::kFuseOverlayfs;
  if (s == "copy" || s == "vfs") return Driver::kCopy;
  return std::nullopt;
}

fs::path LayerStore::layer_dir(const std::string& diff_id) const {
  return paths_.layers() / image::digest_hex(diff_id);
}

void LayerStore::remove_tree_as_owner(const fs::path& path, int userns_fd) const {
  if (remove_tree(path)) return;
  auto fn = [&] {
    if (!remove_tree(path)) throw Error(fmt::format("cannot remove {}", path.string()), EACCES);
  };
  if (userns_fd >= 0)
    userns::run_in_existing_userns(userns_fd, fn);
  else
    userns::run_in_userns(map_, fn);
}

void LayerStore::remove_container_dir(const fs::path& dir, int userns_fd) const {
  // What a container that wrote nothing leaves is known: its empty writable
  // layer, and overlay's work directory with the marker of its volatile
  // option, in directories of mode 0. Removed name by name, deepest first,
  // no directory read; the first name that will not go leaves the rest to
  // remove_tree_as_owner (a container that wrote files, a skiff that
  // cannot get through mode 0 outside the user namespace).
  struct Known {
    const char* path;
    bool dir;
  };
  static constexpr Known kKnown[] = {{"upper", true},
                                     {"work/work/incompat/volatile/dirty", false},
                                     {"work/work/incompat/volatile", true},
                                     {"work/work/incompat", true},
                                     {"work/work", true},
                                     {"work", true}};
  if (UniqueFd d{::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)}) {
    for (const Known& k : kKnown)
      if (unlinkat(d.get(), k.path, k.dir ? AT_REMOVEDIR : 0) != 0 && errno != ENOENT) break;
  }
  remove_tree_as_owner(dir, userns_fd);
}

static bool on_nfs(const fs::path& p) {
  struct statfs sf {};
  return statfs(p.c_str(), &sf) == 0 && sf.f_type == NFS_SUPER_MAGIC;
}

// Mounts a one-layer overlay inside a throwaway user namespace.
StorageInfo LayerStore::probe() {
  StorageInfo info;
  info.idmap = map_.key();
  make_dirs(paths_.tmp(), 0700);
  store::HeldEntry work = store::hold_new_entry(paths_, "probe", 0700);
  const fs::path& dir = work.path;
  for (const char* sub : {"l", "u", "w", "m"}) make_dirs(dir / sub, 0700);
  auto try_mount = [&](Driver d) {
    bool ok = true;
    try {
      userns::run_in_userns(
          map_,
          [&] {
            int r;
            if (d == Driver::kOverlay) {
              auto data = fmt::format("lowerdir={}/l,upperdir={}/u,workdir={}/w,userxattr", dir.string(), dir.string(),
                                      dir.string());
              r = mount("overlay", (dir / "m").c_str(), "overlay", 0, data.c_str());
            } else {
              auto cmd = fmt::format("fuse-overlayfs -o lowerdir={0}/l,upperdir={0}/u,workdir={0}/w {0}/m 2>/dev/null",
                                     dir.string());
              r = system(cmd.c_str());
              if (r == 0) umount2((dir / "m").c_str(), MNT_DETACH);
            }
            if (r != 0) throw Error("probe failed");
          },
          true);
    } catch (const Error&) {
      ok = false;
    }
    return ok;
  };
  if (on_nfs(paths_.root)) {
    note(
        fmt::format("{} is on NFS, where overlay cannot keep its upper layer; containers will use a copy "
                    "of the image (slow): use --root on a local disk for speed",
                    paths_.root.string()));
    info.driver = Driver::kCopy;
  } else if (try_mount(Driver::kOverlay)) {
    info.driver = Driver::kOverlay;
  } else if (access("/dev/fuse", R_OK | W_OK) == 0 && try_mount(Driver::kFuseOverlayfs)) {
    info.driver = Driver::kFuseOverlayfs;
  } else {
    info.driver = Driver::kCopy;
    note("neither kernel overlayfs nor fuse-overlayfs works here: containers will use a copy of the image");
  }
  remove_tree_as_owner(dir);
  return info;
}

StorageInfo LayerStore::storage() {
  if (info_) return *info_;
  fs::path file = paths_.storage_file();
  StorageInfo recorded;
  bool have = false;
  try {
    if (auto j = store::read_record(file)) {
      recorded.driver = parse_driver(j->value("driver", "overlay")).value_or(Driver::kOverlay);
      recorded.idmap = j->value("idmap", "");
      have = true;
    }
  } catch (const std::exception&) {
    // A damaged record is probed again.
  }
  // SKIFF_STORAGE_DRIVER overrides the recorded driver for this command only.
  std::optional<Driver> forced;
  if (const char* env = getenv("SKIFF_STORAGE_DRIVER"); env && *env) {
    forced = parse_driver(env);
    if (!forced)
      throw Error(fmt::format("unknown storage driver {:?} in SKIFF_STORAGE_DRIVER", env), 0,
                  "use overlay, fuse-overlayfs or copy");
  }
  if (have && recorded.idmap == map_.key()) {
    info_ = recorded;
    if (forced) info_->driver = *forced;
    return *info_;
  }
  store::ensure_dirs(paths_);
  store::FileLock lock(paths_.storage_lock());
  StorageInfo fresh = probe();
  if (have && recorded.idmap != fresh.idmap) {
    // Layers unpacked under another map carry the wrong owners: start over.
    note(fmt::format("the user id mapping changed since the layers were unpacked ({} -> {}): unpacking them again",
                     recorded.idmap, fresh.idmap));
    try {
      remove_tree_as_owner(paths_.layers());
    } catch (const Error& e) {
      throw Error(fmt::format("cannot remove layers unpacked under the old id mapping: {}", e.what()), 0,
                  "remove them as the old mapping's owner, or use skiff system reset");
    }
  }
  store::write_record(file, json{{"driver", driver_name(fresh.driver)}, {"idmap", fresh.idmap}},
                      store::Durability::kSynced);
  info_ = fresh;
  if (forced) info_->driver = *forced;
  return *info_;
}

bool LayerStore::has_all(const image::ImageContent& content) const {
  return std::all_of(content.diff_ids.begin(), content.diff_ids.end(),
                     [&](const std::string& d) { return access(layer_dir(d).c_str(), F_OK) == 0; });
}

void LayerStore::ensure(const image::ImageStore& images, const image::ImageContent& content) {
  storage();
  struct Missing {
    std::string diff_id, blob;
    bool bottom;
  };
  std::vector<Missing> missing;
  const auto& layers = content.manifest.at("layers");
  if (layers.size() != content.diff_ids.size())
    throw Error(fmt::format("image {}: the manifest lists {} layers but the config {}", content.record.id.substr(7, 12),
                            layers.size(), content.diff_ids.size()));
  for (size_t i = 0; i < content.diff_ids.size(); ++i)
    if (access(layer_dir(content.diff_ids[i]).c_str(), F_OK) != 0)
      missing.push_back({content.diff_ids[i], layers[i].at("digest").get<std::string>(), i == 0});
  if (missing.empty()) return;

  make_dirs(paths_.layers(), 0700);
  make_dirs(paths_.tmp(), 0700);
  store::ensure_dirs(paths_);
  // One lock per layer: two runs of one image unpack it once, and runs of
  // other images are not held up.
  std::vector<std::string> ids;
  for (const auto& m : missing) ids.push_back(m.diff_id);
  std::vector<store::FileLock> locks = lock_layers(ids);
  std::vector<Missing> to_unpack;
  for (auto& m : missing)
    if (access(layer_dir(m.diff_id).c_str(), F_OK) != 0 &&
        std::none_of(to_unpack.begin(), to_unpack.end(), [&](auto& t) { return t.diff_id == m.diff_id; }))
      to_unpack.push_back(m);
  if (to_unpack.empty()) return;
  // What an unpack killed before (by a run or a pull) left in tmp/ goes now.
  sweep_abandoned_work();
  bool keep_owners = map_.full;
  image::UnpackStats total;
  // Owners are only real inside the namespace, so the whole unpack runs there.
  userns::run_in_userns(map_, [&] {
    for (auto& [diff_id, blob, bottom] : to_unpack) {
      store::HeldEntry work = store::hold_new_entry(paths_, "layer", 0755);
      const fs::path& tmp = work.path;
      try {
        UniqueFd fd = open_or_throw(images.blob_path(blob), O_RDONLY);
        // A whiteout in the bottom layer hides nothing, and overlay would show
        // it as a broken entry: there it just deletes.
        auto st = image::unpack_layer(fd.get(), tmp, {.keep_owners = keep_owners, .overlay_whiteouts = !bottom});
        total.skipped_devices += st.skipped_devices;
        if (::rename(tmp.c_str(), layer_dir(diff_id).c_str()) != 0) throw_errno(fmt::format("store layer {}", diff_id));
      } catch (const Error& e) {
        remove_tree(tmp);
        throw e.with_context(fmt::format("unpacking layer {}", diff_id.substr(7, 12)));
      }
    }
  });
}

std::optional<fs::path> LayerStore::mount_points_layer(const std::vector<fs::path>& top_first) const {
  static const char* const kDirs[] = {"etc", "proc", "dev", "sys"};
  for (const char* name : kDirs) {
    for (const auto& layer : top_first) {
      struct stat st {};
      if (lstat((layer / name).c_str(), &st) != 0) {
        if (errno == ENOENT) continue;
        return std::nullopt;
      }
      bool whiteout = S_ISCHR(st.st_mode) && st.st_rdev == 0;
      if (S_ISDIR(st.st_mode) || whiteout) break;
      return std::nullopt;  // a symlink or a file: the layer would hide it
    }
  }
  fs::path dir = paths_.mount_points_layer();
  if (access(dir.c_str(), F_OK) == 0) return dir;
  // Made aside and renamed into place: a run that sees it sees all of it.
  // Named and held as an unpack is, so a killed skiff's half is swept.
  store::HeldEntry work = store::hold_new_entry(paths_, "layer-mount-points", 0755);
  const fs::path& tmp = work.path;
  try {
    // 0755 whatever the umask (make_dirs): a merged /etc shows the mode of
    // its top layer's directory, and any user must get through.
    for (const char* name : kDirs) make_dirs(tmp / name, 0755);
    for (const char* name : {"etc/hosts", "etc/hostname", "etc/resolv.conf"})
      write_file_atomic(tmp / name, "", {.mode = 0644, .durable = false});
    if (::rename(tmp.c_str(), dir.c_str()) != 0 && errno != EEXIST && errno != ENOTEMPTY)
      throw_errno(fmt::format("store {}", dir.string()));
  } catch (...) {
    remove_tree(tmp);
    throw;
  }
  remove_tree(tmp);  // when another run put its own there first
  return dir;
}

std::vector<store::FileLock> LayerStore::lock_layers(std::vector<std::string> diff_ids) const {
  std::sort(diff_ids.begin(), diff_ids.end());
  diff_ids.erase(std::unique(diff_ids.begin(), diff_ids.end()), diff_ids.end());
  std::vector<store::FileLock> locks;
  for (const auto& d : diff_ids) locks.emplace_back(paths_.layer_lock(image::digest_hex(d)));
  return locks;
}

void LayerStore::sweep_abandoned_work() const {
  for (const auto& p : store::abandoned_entries(paths_)) {
    try {
      remove_tree_as_owner(p);
    } catch (const Error&) {
      // Left for the next sweep or skiff system reset.
    }
  }
}

void sweep_abandoned_work(const store::Paths& paths) {
  if (store::abandoned_entries(paths).empty()) return;  // no id map needed
  LayerStore(paths, userns::current_id_map()).sweep_abandoned_work();
}

void LayerStore::collect_garbage(const std::vector<std::string>& in_use) {
  std::set<std::string> keep;
  for (const auto& d : in_use)
    if (image::is_valid_digest(d)) keep.insert(image::digest_hex(d));
  DIR* dir = opendir(paths_.layers().c_str());
  if (!dir) return;
  std::vector<fs::path> drop;
  while (struct dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.' || keep.count(e->d_name)) continue;
    drop.push_back(paths_.layers() / e->d_name);
  }
  closedir(dir);
  // The mount points layer serves every image; it goes with the last of them.
  if (keep.empty() && access((paths_.mount_points_layer()).c_str(), F_OK) == 0)
    drop.push_back(paths_.mount_points_layer());
  for (const auto& p : drop) {
    // Under the layer's lock, so a run that is about to use it is not robbed.
    store::FileLock lock(paths_.layer_lock(p.filename().string()));
    store::HeldEntry work = store::hold_new_entry(paths_, "gc", 0700);
    const fs::path& doomed = work.path;
    if (::rename(p.c_str(), (doomed / "layer").c_str()) == 0)
      remove_tree_as_owner(doomed);
    else
      remove_tree(doomed);
  }
}

}  // namespace skiff::storage
