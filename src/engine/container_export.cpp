#include "skiff/engine/container_export.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skiff/engine/container_store.hpp"
#include "skiff/image/layer_pack.hpp"
#include "skiff/storage/layer_store.hpp"
#include "skiff/storage/rootfs.hpp"
#include "skiff/store/file_lock.hpp"
#include "skiff/userns/userns.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

namespace skiff::engine {

namespace fs = std::filesystem;

void export_container(const store::Paths& paths, const std::string& container, int out) {
  ContainerStore containers(paths);
  ContainerView view = containers.resolve(container);
  userns::IdMap map = userns::current_id_map();
  storage::LayerStore layers(paths, map);
  fs::path dir = containers.dir(view.record.id);
  bool copy = view.record.driver == "copy";
  fs::path own = dir / (copy ? "rootfs" : "upper");
  if (access(own.c_str(), F_OK) != 0)
    throw Error(fmt::format("container {} is still being created: it has no root file system yet", view.record.name));
  std::vector<fs::path> lowers_top_first{own};
  for (auto it = view.record.layers.rbegin(); it != view.record.layers.rend(); ++it)
    lowers_top_first.push_back(layers.layer_dir(*it));
  storage::Driver driver = storage::Driver::kCopy;
  if (!copy) {
    driver = layers.storage().driver;
    if (driver == storage::Driver::kCopy) driver = storage::Driver::kOverlay;  // the container was made with one
  }

  make_dirs(paths.tmp(), 0700);
  layers.sweep_abandoned_work();
  store::HeldEntry work = store::hold_new_entry(paths, "export", 0700);
  fs::path merged = work.path / "merged";
  make_dirs(merged, 0700);
  // The tar goes straight to out: the child reopens it through its own fd
  // table, a copy of skiff's. Reopened, a file is written from its start:
  // one that already holds something (>>) gets the tar through a file here.
  struct stat st {};
  if (fstat(out, &st) != 0) throw_errno("stat the output");
  bool direct = !S_ISREG(st.st_mode) || (st.st_size == 0 && lseek(out, 0, SEEK_CUR) == 0);
  std::string target = direct ? fmt::format("/proc/self/fd/{}", out) : (work.path / "rootfs.tar").string();
  try {
    // Owners are only real inside the user namespace, and the container's
    // layers (overlay whiteouts, files of subordinate ids) only read right
    // through an overlay mounted there: a read-only one, with the
    // container's own layer as its top lower layer.
    userns::run_in_userns(
        map,
        [&] {
          fs::path root = own;
          if (!copy) {
            storage::mount_rootfs(storage::rootfs_layers(driver, paths.layers(), lowers_top_first), merged);
            root = merged;
          }
          image::PackOptions po;
          po.compress = false;
          po.sync = false;
          image::pack_layer_dir(root, target, po);
        },
        true);
  } catch (const Error& e) {
    work.fd.reset();
    remove_tree(work.path);
    throw e.with_context(fmt::format("export {}", view.record.name));
  }
  if (!direct) {
    UniqueFd tar = open_or_throw(work.path / "rootfs.tar", O_RDONLY);
    std::string buf(1 << 20, '\0');
    for (;;) {
      ssize_t n = ::read(tar.get(), buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw_errno("read the exported tar");
      if (n == 0) break;
      write_all(out, std::string_view(buf.data(), static_cast<size_t>(n)));
    }
  }
  work.fd.reset();
  remove_tree(work.path);
}

}  // namespace skiff::engine
