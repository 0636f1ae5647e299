#include "skiff/engine/container_copy.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <optional>

#include "skiff/engine/container_store.hpp"
#include "skiff/runtime/container_exec.hpp"
#include "skiff/storage/cp_rules.hpp"
#include "skiff/storage/cp_transfer.hpp"
#include "skiff/storage/layer_store.hpp"
#include "skiff/storage/rootfs.hpp"
#include "skiff/userns/userns.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"
#include "skiff/util/unique_fd.hpp"

namespace skiff::engine {

namespace fs = std::filesystem;

namespace {

// A counter the forked child writes and the caller reads: a shared page.
class SharedCount {
 public:
  SharedCount() {
    void* p = mmap(nullptr, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw_errno("mmap");
    value_ = static_cast<uint64_t*>(p);
    *value_ = 0;
  }
  SharedCount(const SharedCount&) = delete;
  SharedCount& operator=(const SharedCount&) = delete;
  ~SharedCount() { munmap(value_, sizeof(uint64_t)); }
  uint64_t& value() { return *value_; }

 private:
  uint64_t* value_ = nullptr;
};

// The container's root, mounted from its layers in this process's own
// mount namespace while it lives.
class StoppedRoot {
 public:
  StoppedRoot(const runtime::RootfsLayers& layers, const fs::path& target) : target_(target) {
    storage::mount_rootfs(layers, target);
  }
  StoppedRoot(const StoppedRoot&) = delete;
  StoppedRoot& operator=(const StoppedRoot&) = delete;
  ~StoppedRoot() {
    try {
      storage::unmount_rootfs(target_);
    } catch (const Error&) {
      // The mount namespace goes with the process anyway.
    }
  }

 private:
  fs::path target_;
};

// The id inside this process's user namespace that host id outside has,
// from /proc/self/uid_map or gid_map ("inside outside count" lines); 0
// when it is not mapped.
uint32_t id_inside(const char* map_file, uint32_t outside) {
  std::string text;
  try {
    text = read_file(map_file);
  } catch (const Error&) {
    return 0;
  }
  unsigned long in = 0, out = 0, count = 0;
  int used = 0;
  for (const char* p = text.c_str(); sscanf(p, " %lu %lu %lu%n", &in, &out, &count, &used) == 3; p += used)
    if (outside >= out && outside - out < count) return static_cast<uint32_t>(in + (outside - out));
  return 0;
}

storage::Driver driver_of(const std::string& name) {
  if (name == "copy") return storage::Driver::kCopy;
  if (name == "fuse-overlayfs") return storage::Driver::kFuseOverlayfs;
  return storage::Driver::kOverlay;
}

// Runs work(root fd) in the user namespace the container's files belong
// to, against its root: the running container's own, else its layers
// mounted (with its lock held).
void with_container_root(const store::Paths& paths, const std::string& name, const std::function<void(int)>& work) {
  ContainerStore containers(paths);
  // A container that starts or stops between the look and the lock is
  // looked at again.
  for (int attempt = 0; attempt < 5; ++attempt) {
    ContainerView view = containers.resolve(name);
    if (view.running) {
      if (view.state.pid <= 0) continue;  // being made, or removed
      std::optional<runtime::ContainerJoin> join =
          runtime::ContainerJoin::open(view.state.pid, view.state.pid_start_time, view.record.skiff_pid);
      if (!join) continue;
      int root = join->root_fd();
      userns::run_in_existing_userns(join->userns_fd(), [&] { work(root); });
      return;
    }
    store::FileLock lock = containers.try_lock(view.record.id);
    if (!lock.held()) continue;
    // Removed meanwhile: the lock file just made goes too.
    std::optional<ContainerView> again;
    try {
      again = containers.resolve(view.record.id);
    } catch (const Error&) {
    }
    if (!again) {
      ::unlink(containers.lock_path(view.record.id).c_str());
      throw Error(fmt::format("no such container: {}", name));
    }
    const ContainerRecord& rec = again->record;
    fs::path cdir = containers.dir(rec.id);
    userns::IdMap map = userns::current_id_map();
    if (rec.driver == "copy") {
      fs::path rootfs = cdir / "rootfs";
      userns::run_in_userns(map, [&] {
        UniqueFd root = open_or_throw(rootfs, O_PATH | O_DIRECTORY | O_NOFOLLOW);
        work(root.get());
      });
      return;
    }
    fs::path upper = cdir / "upper", workdir = cdir / "work";
    if (access(upper.c_str(), F_OK) != 0)
      throw Error(fmt::format("container {} is still being created: try again", rec.name));
    storage::LayerStore layers(paths, map);
    std::vector<fs::path> top_first;
    for (auto it = rec.layers.rbegin(); it != rec.layers.rend(); ++it) top_first.push_back(layers.layer_dir(*it));
    // The lower layers its start gave it: the mount points, then the image's.
    std::vector<fs::path> lowers;
    if (auto mp = layers.mount_points_layer(top_first)) lowers.push_back(*mp);
    lowers.insert(lowers.end(), top_first.begin(), top_first.end());
    runtime::RootfsLayers rl =
        storage::rootfs_layers(driver_of(rec.driver), paths.layers(), lowers, upper, workdir, false);
    fs::path mount_point = paths.container_mount_point();
    make_dirs(mount_point, 0700);
    userns::run_in_userns(
        map,
        [&] {
          StoppedRoot mounted(rl, mount_point);
          UniqueFd root = open_or_throw(mount_point, O_PATH | O_DIRECTORY | O_NOFOLLOW);
          work(root.get());
        },
        true);
    return;
  }
  throw Error(fmt::format("container {} is starting or stopping: try again", name));
}

}  // namespace

CopyResult copy_files(const store::Paths& paths, const CopyOptions& opts) {
  storage::CpArg src = opts.src == "-" ? storage::CpArg{} : storage::split_cp_arg(opts.src);
  storage::CpArg dest = opts.dest == "-" ? storage::CpArg{} : storage::split_cp_arg(opts.dest);
  if (src.container.empty() && dest.container.empty())
    throw Error("must specify at least one container source", 0,
                "name the container's side as CONTAINER:PATH, as in: skiff cp web:/etc/hosts .");
  if (!src.container.empty() && !dest.container.empty()) throw Error("copying between containers is not supported");
  storage::CpOptions copy{.follow_link = opts.follow_link, .keep_owners = opts.archive};
  SharedCount bytes;
  CopyResult result;
  result.dest = opts.dest == "-" ? std::string() : opts.dest;
  if (!src.container.empty()) {
    uid_t caller_uid = getuid();
    gid_t caller_gid = getgid();
    storage::CpSide from{.root = -1, .label = src.container + ":"};
    with_container_root(paths, src.container, [&](int root) {
      from.root = root;
      if (opts.dest == "-") {
        bytes.value() = storage::cp_tar_out(from, src.path, STDOUT_FILENO, copy);
        return;
      }
      // Out of the container, files belong to the caller, whatever -a
      // says: the ids the namespace gives the caller (root in it, unless
      // the container maps the caller to itself, as --userns=keep-id does).
      storage::CpOptions out = copy;
      out.keep_owners = false;
      out.uid = id_inside("/proc/self/uid_map", caller_uid);
      out.gid = id_inside("/proc/self/gid_map", caller_gid);
      bytes.value() = storage::cp_copy(from, src.path, storage::CpSide{}, dest.path, out);
    });
  } else {
    storage::CpSide to{.root = -1, .label = dest.container + ":"};
    with_container_root(paths, dest.container, [&](int root) {
      to.root = root;
      if (opts.src == "-") {
        bytes.value() = storage::cp_tar_in(STDIN_FILENO, to, dest.path, copy);
        return;
      }
      bytes.value() = storage::cp_copy(storage::CpSide{}, src.path, to, dest.path, copy);
    });
  }
  result.bytes = bytes.value();
  return result;
}

}  // namespace skiff::engine
