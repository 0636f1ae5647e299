#include "skiff/store/paths.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

namespace skiff::store {

namespace fs = std::filesystem;

std::vector<fs::path> Paths::root_entries() const {
  return {containers(),  layers(),       root / "blobs",    build_cache(),   tmp(),
          images_file(), storage_file(), single_id_noted(), root / "seccomp"};
}

std::vector<fs::path> Paths::runroot_entries() const {
  return {locks(), dev_staging()};
}

static std::string env_or_empty(const char* name) {
  const char* v = getenv(name);
  return v ? v : "";
}

fs::path home_dir() {
  std::string home = env_or_empty("HOME");
  if (!home.empty()) return home;
  if (struct passwd* pw = getpwuid(getuid()); pw && pw->pw_dir) return pw->pw_dir;
  throw Error("cannot find the home directory: HOME is unset and there is no passwd entry", 0,
              "set HOME or use --root");
}

fs::path config_home() {
  if (auto x = env_or_empty("XDG_CONFIG_HOME"); !x.empty()) return x;
  return home_dir() / ".config";
}

Paths resolve_paths(const PathOptions& opts) {
  Paths p;
  if (!opts.root.empty()) {
    p.root = opts.root;
  } else if (auto env = env_or_empty("SKIFF_ROOT"); !env.empty()) {
    p.root = env;
  } else if (auto xdg = env_or_empty("XDG_DATA_HOME"); !xdg.empty() && xdg[0] == '/') {
    p.root = fs::path(xdg) / "skiff";
  } else {
    p.root = home_dir() / ".local" / "share" / "skiff";
  }
  if (!opts.runroot.empty()) {
    p.runroot = opts.runroot;
  } else if (auto env = env_or_empty("SKIFF_RUNROOT"); !env.empty()) {
    p.runroot = env;
  } else if (auto xdg = env_or_empty("XDG_RUNTIME_DIR");
             !xdg.empty() && xdg[0] == '/' && access(xdg.c_str(), W_OK) == 0) {
    p.runroot = fs::path(xdg) / "skiff";
  } else {
    p.runroot = fmt::format("/tmp/skiff-run-{}", getuid());
  }
  p.root = fs::absolute(p.root).lexically_normal();
  p.runroot = fs::absolute(p.runroot).lexically_normal();
  return p;
}

// The runroot may sit in a world-writable place: make it 0700 and make sure
// nobody planted it (a symlink or someone else's directory would let them
// swap our locks).
static void ensure_private_dir(const fs::path& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    if (errno == ENOENT) {
      make_dirs(dir.parent_path(), 0700);
      if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) throw_errno(fmt::format("mkdir {}", dir.string()));
    } else {
      throw_errno(fmt::format("mkdir {}", dir.string()));
    }
  }
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) throw_errno(fmt::format("stat {}", dir.string()));
  if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid())
    throw Error(fmt::format("{} is not a directory owned by you", dir.string()), 0,
                "remove it or choose another place with --runroot");
  if ((st.st_mode & 077) != 0 && ::chmod(dir.c_str(), 0700) != 0) throw_errno(fmt::format("chmod {}", dir.string()));
}

void ensure_dirs(const Paths& paths) {
  make_dirs(paths.root, 0700);
  ensure_private_dir(paths.runroot);
  make_dirs(paths.locks(), 0700);
  make_dirs(paths.dev_staging(), 0700);
}

}  // namespace skiff::store
