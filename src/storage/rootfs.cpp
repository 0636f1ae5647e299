#include "skiff/storage/rootfs.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "skiff/util/error.hpp"
#include "skiff/util/unique_fd.hpp"

namespace skiff::storage {

namespace fs = std::filesystem;

runtime::RootfsLayers rootfs_layers(Driver driver, const fs::path& layers_dir,
                                    const std::vector<fs::path>& lowers_top_first, const fs::path& upper,
                                    const fs::path& work, bool volatile_upper) {
  runtime::RootfsLayers l;
  l.driver = driver;
  l.layers_dir = layers_dir.string();
  // An image may hold the same layer twice (two steps that made the same
  // files); overlay refuses a lowerdir given twice (ELOOP). The upper copy
  // shows everything the lower one would, so the lower one goes.
  std::vector<fs::path> seen;
  for (const auto& p : lowers_top_first) {
    if (std::find(seen.begin(), seen.end(), p) != seen.end()) continue;
    seen.push_back(p);
    l.lowerdirs.push_back(driver == Driver::kOverlay && p.parent_path() == layers_dir ? p.filename().string()
                                                                                      : p.string());
  }
  l.upperdir = upper.string();
  l.workdir = work.string();
  l.volatile_upper = volatile_upper;
  return l;
}

void mount_rootfs(const runtime::RootfsLayers& l, const fs::path& target) {
  if (l.driver == Driver::kOverlay) {
    // Relative lowerdirs are found from the layers directory (which a store
    // with no layer yet, as FROM scratch has, does not have).
    bool relative = std::any_of(l.lowerdirs.begin(), l.lowerdirs.end(), [](auto& d) { return d[0] != '/'; });
    UniqueFd cwd(open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (relative && chdir(l.layers_dir.c_str()) != 0) throw_errno("chdir to the layers");
    int r = mount("overlay", target.c_str(), "overlay", l.upperdir.empty() ? MS_RDONLY : 0,
                  runtime::overlay_mount_data(l).c_str());
    int err = errno;
    if (cwd) (void)!fchdir(cwd.get());
    if (r != 0) throw Error(fmt::format("mount an overlay at {}", target.string()), err);
    return;
  }
  if (l.driver != Driver::kFuseOverlayfs)
    throw Error("skiff build needs an overlay file system: kernel overlay or fuse-overlayfs");
  std::string opts = runtime::fuse_overlayfs_options(l);
  pid_t pid = fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) {
    execlp("fuse-overlayfs", "fuse-overlayfs", "-o", opts.c_str(), target.c_str(), nullptr);
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw Error(fmt::format("fuse-overlayfs could not mount a root file system at {}", target.string()));
}

void unmount_rootfs(const fs::path& target) {
  if (umount2(target.c_str(), 0) != 0 && umount2(target.c_str(), MNT_DETACH) != 0)
    throw_errno(fmt::format("unmount {}", target.string()));
}

}  // namespace skiff::storage
