// Unpacked layers on disk, in a store of the test's own: how a rootfs names
// them, their locks, their garbage collection and the sweep of tmp/. The
// directories are plain ones of the caller's: nothing here needs a user
// namespace (the store would only enter one for files it cannot remove).
#include "skiff/storage/layer_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "skiff/storage/rootfs.hpp"
#include "skiff/store/file_lock.hpp"
#include "skiff/userns/id_map.hpp"
#include "temp_store.hpp"

namespace fs = std::filesystem;
using namespace skiff::storage;
using skiff::store::FileLock;

namespace {

// The caller's own id alone: what a user without subordinate ranges has.
skiff::userns::IdMap single_id_map() {
  skiff::userns::IdMap m;
  m.uids = {{.containerID = 0, .hostID = static_cast<uint32_t>(getuid()), .size = 1}};
  m.gids = {{.containerID = 0, .hostID = static_cast<uint32_t>(getgid()), .size = 1}};
  return m;
}

std::string hex(char c) {
  return std::string(64, c);
}
std::string diff_id(char c) {
  return "sha256:" + hex(c);
}

// An unpacked layer: a directory with a file in it.
void make_layer(const skiff::store::Paths& paths, const std::string& name) {
  fs::create_directories(paths.layers() / name / "etc");
  std::ofstream(paths.layers() / name / "etc" / "os-release") << "ID=test\n";
}

// The names in dir, sorted; with_dot: also those starting with "." (the
// store's own, such as tmp/.creating).
std::vector<std::string> names_in(const fs::path& dir, bool with_dot = false) {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir))
    if (with_dot || e.path().filename().string()[0] != '.') out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("rootfs layers: kernel overlay names the store's layers relative to it, others in full") {
  fs::path layers = "/store/layers";
  std::vector<fs::path> lowers{layers / "top", layers / "bottom", "/elsewhere/extra", layers / "nested" / "dir"};
  auto l = rootfs_layers(Driver::kOverlay, layers, lowers, "/store/c/upper", "/store/c/work", true);
  CHECK(l.driver == Driver::kOverlay);
  CHECK(l.layers_dir == "/store/layers");
  CHECK(l.lowerdirs == std::vector<std::string>{"top", "bottom", "/elsewhere/extra", "/store/layers/nested/dir"});
  CHECK(l.upperdir == "/store/c/upper");
  CHECK(l.workdir == "/store/c/work");
  CHECK(l.volatile_upper);

  auto fuse = rootfs_layers(Driver::kFuseOverlayfs, layers, lowers, "/store/c/upper", "/store/c/work");
  CHECK(fuse.driver == Driver::kFuseOverlayfs);
  CHECK(fuse.lowerdirs == std::vector<std::string>{"/store/layers/top", "/store/layers/bottom", "/elsewhere/extra",
                                                   "/store/layers/nested/dir"});
  CHECK_FALSE(fuse.volatile_upper);

  // Read-only: no upper, no work.
  auto ro = rootfs_layers(Driver::kOverlay, layers, {layers / "top"});
  CHECK(ro.lowerdirs == std::vector<std::string>{"top"});
  CHECK(ro.upperdir.empty());
  CHECK(ro.workdir.empty());
  CHECK(skiff::runtime::overlay_mount_data(ro) == "lowerdir=top,userxattr");
}

TEST_CASE("layer store: a layer's directory is named by its digest's hex") {
  TempStore t;
  LayerStore store(t.paths, single_id_map());
  CHECK(store.layer_dir(diff_id('a')) == t.paths.layers() / hex('a'));
  skiff::image::ImageContent content;
  content.diff_ids = {diff_id('a'), diff_id('b')};
  make_layer(t.paths, hex('a'));
  CHECK_FALSE(store.has_all(content));
  make_layer(t.paths, hex('b'));
  CHECK(store.has_all(content));
}

TEST_CASE("layer store: layer locks are taken once each, as files under the run root's locks/") {
  TempStore t;
  LayerStore store(t.paths, single_id_map());
  {
    // A layer listed twice must not wait on its own lock.
    auto locks = store.lock_layers({diff_id('b'), diff_id('a'), diff_id('b')});
    CHECK(locks.size() == 2);
    CHECK(names_in(t.paths.locks()) ==
          std::vector<std::string>{"layer-" + hex('a') + ".lock", "layer-" + hex('b') + ".lock"});
    CHECK_FALSE(FileLock::try_lock(t.paths.layer_lock(hex('a'))).held());
    CHECK_FALSE(FileLock::try_lock(t.paths.layer_lock(hex('b'))).held());
  }
  CHECK(FileLock::try_lock(t.paths.layer_lock(hex('a'))).held());
  CHECK(FileLock::try_lock(t.paths.layer_lock(hex('b'))).held());
  CHECK_THROWS_WITH(store.lock_layers({"sha256:short"}), "invalid digest \"sha256:short\"");
}

TEST_CASE("layer store: garbage collection keeps the layers in use and removes the others") {
  TempStore t;
  LayerStore store(t.paths, single_id_map());
  store.collect_garbage({});  // no layers directory yet: nothing to do
  for (char c : {'a', 'b', 'c'}) make_layer(t.paths, hex(c));
  fs::create_directories(t.paths.mount_points_layer() / "proc");
  fs::create_directories(t.paths.tmp());  // where the layers were unpacked

  store.collect_garbage({diff_id('a'), diff_id('c'), "not a digest"});
  CHECK(names_in(t.paths.layers(), true) == std::vector<std::string>{".mount-points", hex('a'), hex('c')});
  CHECK(fs::exists(t.paths.layers() / hex('a') / "etc" / "os-release"));
  CHECK(names_in(t.paths.tmp()).empty());  // its work directories went too

  // The mount points layer goes with the last image.
  store.collect_garbage({});
  CHECK(names_in(t.paths.layers(), true).empty());
  CHECK(names_in(t.paths.tmp()).empty());
}

// tmp/ is named like something anyone may delete; a store without it
// still collects its garbage.
TEST_CASE("layer store: garbage collection works in a store whose tmp/ is gone") {
  TempStore t;
  LayerStore store(t.paths, single_id_map());
  make_layer(t.paths, hex('a'));
  make_layer(t.paths, hex('b'));
  REQUIRE_FALSE(fs::exists(t.paths.tmp()));
  store.collect_garbage({diff_id('a')});
  CHECK(names_in(t.paths.layers(), true) == std::vector<std::string>{hex('a')});
}

TEST_CASE("layer store: the sweep removes abandoned work in tmp/ and keeps work in progress") {
  TempStore t;
  LayerStore store(t.paths, single_id_map());
  store.sweep_abandoned_work();  // no tmp/ yet
  fs::create_directories(t.paths.tmp() / "layer-1" / "usr" / "bin");
  std::ofstream(t.paths.tmp() / "layer-1" / "usr" / "bin" / "sh") << "#!";
  std::ofstream(t.paths.tmp() / "blob-2") << "partial download";
  // Live work holds its entry with an flock, as the store's makers do.
  fs::path live = t.paths.tmp() / "build-4";
  fs::create_directories(live / "ctx");
  skiff::UniqueFd held(open(live.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  REQUIRE(flock(held.get(), LOCK_EX) == 0);

  store.sweep_abandoned_work();
  CHECK(names_in(t.paths.tmp()) == std::vector<std::string>{live.filename().string()});
  CHECK(fs::exists(live / "ctx"));

  // The same for commands without a layer store; once its maker is gone,
  // the work is abandoned too.
  std::ofstream(t.paths.tmp() / "import-3") << "x";
  sweep_abandoned_work(t.paths);
  CHECK(names_in(t.paths.tmp()) == std::vector<std::string>{live.filename().string()});
  held.reset();
  sweep_abandoned_work(t.paths);
  CHECK(names_in(t.paths.tmp()).empty());
}

TEST_CASE("layer store: the mount points layer is made once, unless an image's /etc is not a directory") {
  TempStore t;
  LayerStore store(t.paths, single_id_map());
  make_layer(t.paths, hex('a'));
  auto made = store.mount_points_layer({t.paths.layers() / hex('a')});
  REQUIRE(made);
  CHECK(*made == t.paths.mount_points_layer());
  CHECK(names_in(*made) == std::vector<std::string>{"dev", "etc", "proc", "sys"});
  CHECK(names_in(*made / "etc") == std::vector<std::string>{"hostname", "hosts", "resolv.conf"});
  CHECK(names_in(t.paths.tmp()).empty());
  CHECK(store.mount_points_layer({t.paths.layers() / hex('a')}) == made);

  // A top layer whose /etc is a symlink would hide the layer's /etc.
  fs::create_directories(t.paths.layers() / hex('b'));
  fs::create_symlink("/usr/etc", t.paths.layers() / hex('b') / "etc");
  CHECK_FALSE(store.mount_points_layer({t.paths.layers() / hex('b'), t.paths.layers() / hex('a')}));
  // Below a directory, it does not matter.
  CHECK(store.mount_points_layer({t.paths.layers() / hex('a'), t.paths.layers() / hex('b')}) == made);
}
