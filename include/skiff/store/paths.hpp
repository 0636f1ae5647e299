// Where skiff keeps its state: the persistent root and the volatile runroot.
#pragma once

#include <filesystem>
#include <string>

namespace skiff::store {

// The two state directories, resolved from flags, environment and XDG defaults.
struct Paths {
  std::filesystem::path root;     // persistent: blobs, layers, images.json, containers
  std::filesystem::path runroot;  // volatile: locks

  std::filesystem::path blobs() const { return root / "blobs" / "sha256"; }
  std::filesystem::path layers() const { return root / "layers"; }
  std::filesystem::path containers() const { return root / "containers"; }
  std::filesystem::path tmp() const { return root / "tmp"; }
  std::filesystem::path images_file() const { return root / "images.json"; }
  std::filesystem::path containers_file() const { return root / "containers.json"; }
  std::filesystem::path locks() const { return runroot / "locks"; }
  // An empty directory that a container's mount namespace may cover, to
  // build its /dev on ahead (see runtime::NamespacesAhead).
  std::filesystem::path dev_staging() const { return runroot / "dev-ahead"; }
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
