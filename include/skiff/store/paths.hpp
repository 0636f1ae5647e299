// Where skiff keeps its state: the persistent root and the volatile runroot.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace skiff::store {

// The two state directories, resolved from flags, environment and XDG
// defaults, and every name skiff gives to what it keeps in them (the on-disk
// layout of docs/ARCHITECTURE.md): no other file spells one.
struct Paths {
  std::filesystem::path root;     // persistent: blobs, layers, images.json, containers
  std::filesystem::path runroot;  // volatile: locks

  // root
  std::filesystem::path blobs() const { return root / "blobs" / "sha256"; }
  std::filesystem::path layers() const { return root / "layers"; }
  // The layer of empty mount points every container has on top.
  std::filesystem::path mount_points_layer() const { return layers() / ".mount-points"; }
  std::filesystem::path containers() const { return root / "containers"; }
  // The name index: containers/.names/<name> -> id.
  std::filesystem::path container_names() const { return containers() / ".names"; }
  // Where each container mounts its root, in its own mount namespace.
  std::filesystem::path container_mount_point() const { return containers() / ".mount-point"; }
  std::filesystem::path tmp() const { return root / "tmp"; }
  std::filesystem::path images_file() const { return root / "images.json"; }
  // The storage driver and the id map the layers were unpacked under.
  std::filesystem::path storage_file() const { return root / "storage.json"; }
  std::filesystem::path build_cache() const { return root / "build-cache"; }
  std::filesystem::path build_cache_record(const std::string& key) const { return build_cache() / (key + ".json"); }
  // RUN --mount=type=cache directories, by their id's digest.
  std::filesystem::path cache_mount(const std::string& hex) const { return build_cache() / "mounts" / hex; }
  // A compiled seccomp program, by the key of its profile and target.
  std::filesystem::path seccomp_program(const std::string& key) const { return root / "seccomp" / (key + ".bpf"); }
  // Present once the user was told that they have no subordinate ranges.
  std::filesystem::path single_id_noted() const { return root / ".single-id-map-noted"; }

  // runroot
  std::filesystem::path locks() const { return runroot / "locks"; }
  std::filesystem::path images_lock() const { return locks() / "images.lock"; }
  std::filesystem::path storage_lock() const { return locks() / "storage.lock"; }
  // Held while an entry of tmp/ is made and locked (see hold_new_entry).
  std::filesystem::path tmp_lock() const { return locks() / "tmp.lock"; }
  std::filesystem::path layer_lock(const std::string& hex) const { return locks() / ("layer-" + hex + ".lock"); }
  std::filesystem::path blob_lock(const std::string& hex) const { return locks() / ("blob-" + hex + ".lock"); }
  std::filesystem::path cache_mount_lock(const std::string& hex) const { return locks() / ("cache-" + hex + ".lock"); }
  // Held by the skiff that runs the container (see ContainerStore).
  std::filesystem::path container_lock(const std::string& id) const { return locks() / ("ctr-" + id + ".lock"); }
  // An empty directory that a container's mount namespace may cover, to
  // build its /dev on ahead (see runtime::NamespacesAhead).
  std::filesystem::path dev_staging() const { return runroot / "dev-ahead"; }

  // What skiff made in root and in runroot, and nothing else: what system
  // reset removes (--root or --runroot may name a directory that holds other
  // files too). The directories themselves are removed when left empty.
  std::vector<std::filesystem::path> root_entries() const;
  std::vector<std::filesystem::path> runroot_entries() const;
};

// --root / --runroot as given on the command line (empty = not given).
struct PathOptions {
  std::string root;
  std::string runroot;
};

// Resolves the paths: flag, then SKIFF_ROOT/SKIFF_RUNROOT, then XDG. Creates nothing.
Paths resolve_paths(const PathOptions& opts);

// Creates root and runroot if missing. A runroot under /tmp is created 0700 and
// checked to be ours and not a symlink, since anyone can create names there.
void ensure_dirs(const Paths& paths);

// The user's home directory ($HOME, else the passwd entry).
std::filesystem::path home_dir();

// $XDG_CONFIG_HOME, else ~/.config: where config.yaml and certs.d live.
std::filesystem::path config_home();

}  // namespace skiff::store
