#include "skiff/storage/rootfs_copy.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "skiff/image/layer_unpack.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

namespace skiff::storage {

namespace fs = std::filesystem;

namespace {

bool excluded(const CopyFilter* filter, const std::string& rel) {
  return filter && !rel.empty() && filter->excluded(rel);
}

void copy_data(int in, int out, uint64_t size, const std::string& what) {
  uint64_t left = size;
  while (left > 0) {
    ssize_t n = sendfile(out, in, nullptr, std::min<uint64_t>(left, 1 << 30));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno(fmt::format("copy {}", what));
    if (n == 0) break;  // the source shrank
    left -= static_cast<uint64_t>(n);
  }
}

void set_times(int fd, const char* name, const struct timespec& mtime, int flags) {
  struct timespec ts[2] = {mtime, mtime};
  utimensat(fd, name, ts, flags);
}

struct Copier {
  const CopyPlan& plan;
  int src_root;
  int dest_root;

  mode_t mode_of(const struct stat& st) const {
    if (plan.chmod) return *plan.chmod;
    return st.st_mode & 07777;
  }

  void own(int dirfd, const char* name, int flags, const struct stat* src = nullptr) const {
    uid_t uid = plan.keep_owners && src ? src->st_uid : plan.uid;
    gid_t gid = plan.keep_owners && src ? src->st_gid : plan.gid;
    if (fchownat(dirfd, name, uid, gid, flags) != 0 && plan.full_id_map)
      throw_errno(fmt::format("chown {}:{}", uid, gid));
  }

  // Removes what stands at name unless it is a directory and want_dir.
  void clear(int dirfd, const std::string& name, bool want_dir) const {
    struct stat st {};
    if (fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return;
    if (S_ISDIR(st.st_mode)) {
      if (want_dir) return;
      throw Error(fmt::format("cannot copy a file over the directory {}", name));
    }
    if (unlinkat(dirfd, name.c_str(), 0) != 0) throw_errno(fmt::format("replace {}", name));
  }

  // Copies the open source (fd of any type, O_PATH) to name in dirfd.
  void entry(int src, const struct stat& st, int dirfd, const std::string& name, const std::string& rel) const {
    if (S_ISDIR(st.st_mode)) {
      clear(dirfd, name, true);
      if (mkdirat(dirfd, name.c_str(), 0700) != 0 && errno != EEXIST) throw_errno(fmt::format("mkdir {}", name));
      UniqueFd sub(openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub) throw_errno(fmt::format("open {}", name));
      tree(src, sub.get(), rel);
      own(sub.get(), "", AT_EMPTY_PATH, &st);
      if (fchmod(sub.get(), mode_of(st)) != 0) throw_errno(fmt::format("chmod {}", name));
      set_times(sub.get(), "", st.st_mtim, AT_EMPTY_PATH);
    } else if (S_ISREG(st.st_mode)) {
      clear(dirfd, name, false);
      UniqueFd in(openat(src, "", O_RDONLY | O_CLOEXEC));
      if (!in) {
        // An O_PATH fd reopens through /proc.
        std::string proc = fmt::format("/proc/self/fd/{}", src);
        in = UniqueFd(::open(proc.c_str(), O_RDONLY | O_CLOEXEC));
      }
      if (!in) throw_errno(fmt::format("open {}", rel));
      UniqueFd out(openat(dirfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (!out) throw_errno(fmt::format("create {}", name));
      copy_data(in.get(), out.get(), static_cast<uint64_t>(st.st_size), rel);
      own(out.get(), "", AT_EMPTY_PATH, &st);
      if (fchmod(out.get(), mode_of(st)) != 0) throw_errno(fmt::format("chmod {}", name));
      set_times(out.get(), "", st.st_mtim, AT_EMPTY_PATH);
    } else if (S_ISLNK(st.st_mode)) {
      clear(dirfd, name, false);
      std::vector<char> target(static_cast<size_t>(st.st_size) + 2);
      ssize_t n = readlinkat(src, "", target.data(), target.size());
      if (n < 0) throw_errno(fmt::format("read symlink {}", rel));
      std::string t(target.data(), static_cast<size_t>(n));
      if (symlinkat(t.c_str(), dirfd, name.c_str()) != 0) throw_errno(fmt::format("symlink {}", name));
      own(dirfd, name.c_str(), AT_SYMLINK_NOFOLLOW, &st);
      set_times(dirfd, name.c_str(), st.st_mtim, AT_SYMLINK_NOFOLLOW);
    } else if (S_ISFIFO(st.st_mode)) {
      clear(dirfd, name, false);
      if (mkfifoat(dirfd, name.c_str(), mode_of(st)) != 0) throw_errno(fmt::format("mkfifo {}", name));
      own(dirfd, name.c_str(), AT_SYMLINK_NOFOLLOW, &st);
    }
    // Sockets and device nodes are left out, as docker does for the context.
  }

  void tree(int src_dir, int dest_dir, const std::string& rel) const {
    for (const auto& name : sorted_entries(src_dir)) {
      std::string child = join_relative(rel, name);
      if (excluded(plan.filter, child) && !(plan.filter->may_contain_exceptions(child))) continue;
      UniqueFd fd(openat(src_dir, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
      if (!fd) throw_errno(fmt::format("open {}", child));
      struct stat st {};
      if (fstatat(fd.get(), "", &st, AT_EMPTY_PATH) != 0) throw_errno(fmt::format("stat {}", child));
      if (excluded(plan.filter, child) && !S_ISDIR(st.st_mode)) continue;
      entry(fd.get(), st, dest_dir, name, child);
    }
  }
};

// Opens (creating as needed) directory path in root; returns its fd.
UniqueFd mkdir_p(int root, std::string rel, uint32_t uid, uint32_t gid, const struct timespec& mtime, bool full_map) {
  UniqueFd dir = open_in_root(root, "", O_PATH | O_DIRECTORY);
  std::string done;
  size_t pos = 0;
  int links = 0;
  while (pos < rel.size()) {
    size_t slash = rel.find('/', pos);
    std::string name = rel.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
    pos = slash == std::string::npos ? rel.size() : slash + 1;
    if (name.empty()) continue;
    std::string parent = done;
    done = join_relative(done, name);
    UniqueFd next = open_in_root(root, done, O_PATH | O_DIRECTORY);
    if (!next && errno == ENOENT) {
      struct stat st {};
      if (fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
        // A symlink to a directory not made yet: make its target, which is
        // resolved inside the root like everything else.
        if (++links > 40) throw Error(fmt::format("/{}", done), ELOOP);
        std::vector<char> target(static_cast<size_t>(st.st_size) + 2);
        ssize_t n = readlinkat(dir.get(), name.c_str(), target.data(), target.size());
        if (n <= 0) throw_errno(fmt::format("read symlink /{}", done));
        std::string t(target.data(), static_cast<size_t>(n));
        std::string rest = pos < rel.size() ? rel.substr(pos) : std::string();
        rel = relative_in_root(t[0] == '/' ? t : "/" + parent + "/" + t);
        if (!rest.empty()) rel = join_relative(rel, rest);
        dir = open_in_root(root, "", O_PATH | O_DIRECTORY);
        done.clear();
        pos = 0;
        continue;
      }
      if (mkdirat(dir.get(), name.c_str(), 0755) == 0) {
        if (fchownat(dir.get(), name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0 && full_map)
          throw_errno(fmt::format("chown /{}", done));
        set_times(dir.get(), name.c_str(), mtime, AT_SYMLINK_NOFOLLOW);
      } else if (errno != EEXIST) {
        throw_errno(fmt::format("mkdir /{}", done));
      }
      next = open_in_root(root, done, O_PATH | O_DIRECTORY);
    }
    if (!next) {
      if (errno == ENOTDIR) throw Error(fmt::format("/{} is not a directory", done));
      throw_errno(fmt::format("open /{}", done));
    }
    dir = std::move(next);
  }
  return dir;
}

// The parents of rel that exist, with their times, to put back after
// entries were made in them (so the same COPY makes the same layer).
struct ParentTimes {
  std::vector<std::pair<std::string, struct timespec>> saved;
  void remember(int root, const std::string& rel) {
    std::string p;
    size_t pos = 0;
    for (;;) {
      UniqueFd fd = open_in_root(root, p, O_PATH | O_DIRECTORY);
      if (!fd) break;
      struct stat st {};
      if (fstatat(fd.get(), "", &st, AT_EMPTY_PATH) != 0) break;
      saved.emplace_back(p, st.st_mtim);
      if (pos >= rel.size()) break;
      size_t slash = rel.find('/', pos);
      p = rel.substr(0, slash);
      if (slash == std::string::npos)
        pos = rel.size();
      else
        pos = slash + 1;
    }
  }
  void restore(int root) const {
    for (const auto& [p, t] : saved) {
      if (p.empty()) continue;  // the root is not part of a layer
      UniqueFd fd = open_in_root(root, p, O_RDONLY | O_DIRECTORY);
      if (fd) set_times(fd.get(), "", t, AT_EMPTY_PATH);
    }
  }
};

bool looks_like_archive(int fd) {
  unsigned char m[512];
  ssize_t n = pread(fd, m, sizeof m, 0);
  if (n < 6) return false;
  if (m[0] == 0x1f && m[1] == 0x8b) return true;                                              // gzip
  if (m[0] == 0xfd && m[1] == '7' && m[2] == 'z' && m[3] == 'X' && m[4] == 'Z') return true;  // xz
  if (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) return true;              // zstd
  if (m[0] == 'B' && m[1] == 'Z' && m[2] == 'h') return true;                                 // bzip2
  return n == 512 && memcmp(m + 257, "ustar", 5) == 0;                                        // tar
}

}  // namespace

UniqueFd open_in_root(int root, const std::string& path, uint64_t flags) {
  return UniqueFd(openat2_fd(root, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS));
}

std::string join_relative(const std::string& a, const std::string& b) {
  return a.empty() ? b : a + "/" + b;
}

std::string dirname_of(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? std::string() : rel.substr(0, slash);
}

std::string basename_of(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? rel : rel.substr(slash + 1);
}

UniqueFd open_source(int root, const std::string& rel, struct stat& st) {
  UniqueFd fd = open_in_root(root, rel, O_PATH);
  if (!fd) throw Error(fmt::format("{}: {}", rel.empty() ? "." : rel, strerror(errno)));
  if (fstatat(fd.get(), "", &st, AT_EMPTY_PATH) != 0) throw_errno(fmt::format("stat {}", rel));
  return fd;
}

std::string relative_in_root(std::string_view path) {
  std::string clean = clean_path(std::string("/") + std::string(path));
  return clean == "/" ? std::string() : clean.substr(1);
}

fs::path real_path_in_root(int root_fd, const std::string& rel) {
  UniqueFd fd = open_in_root(root_fd, rel, O_PATH);
  if (!fd) throw Error(fmt::format("{}: {}", rel.empty() ? "." : rel, strerror(errno)));
  return fs::read_symlink(fmt::format("/proc/self/fd/{}", fd.get()));
}

void make_dirs_in_root(int dest_root, const std::string& path, uint32_t uid, uint32_t gid) {
  std::string rel = relative_in_root(path);
  ParentTimes times;
  times.remember(dest_root, dirname_of(rel));
  mkdir_p(dest_root, rel, uid, gid, {0, 0}, true);
  times.restore(dest_root);
}

void copy_into_root(int dest_root, int src_root, const CopyPlan& plan) {
  Copier copier{plan, src_root, dest_root};
  std::string dest = relative_in_root(plan.dest);
  // The newest source time stamps the directories the copy creates.
  struct timespec newest {
    0, 0
  };
  std::vector<std::pair<UniqueFd, struct stat>> opened;
  for (const auto& rel : plan.sources) {
    struct stat st {};
    UniqueFd fd = open_source(src_root, rel, st);
    if (st.st_mtim.tv_sec > newest.tv_sec) newest = st.st_mtim;
    opened.emplace_back(std::move(fd), st);
  }

  bool into_dir = plan.dest_is_dir || plan.sources.size() + plan.inline_files.size() > 1;
  if (!into_dir) {
    UniqueFd existing = open_in_root(dest_root, dest, O_PATH | O_DIRECTORY);
    into_dir = static_cast<bool>(existing) || dest.empty();
  }
  // A single directory source is copied into dest, which is then a directory.
  if (!into_dir && plan.sources.size() == 1 && S_ISDIR(opened[0].second.st_mode)) into_dir = true;

  ParentTimes times;
  times.remember(dest_root, into_dir ? dest : dirname_of(dest));
  std::string dir_rel = into_dir ? dest : dirname_of(dest);
  UniqueFd dir = mkdir_p(dest_root, dir_rel, plan.uid, plan.gid, newest, plan.full_id_map);
  // Writes go through a real (not O_PATH) descriptor of the directory.
  UniqueFd wdir(openat(dir.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!wdir) throw_errno(fmt::format("open /{}", dir_rel));

  for (size_t i = 0; i < plan.sources.size(); ++i) {
    const std::string& rel = plan.sources[i];
    auto& [fd, st] = opened[i];
    if (S_ISDIR(st.st_mode)) {
      copier.tree(fd.get(), wdir.get(), rel);
      continue;
    }
    std::string name = into_dir ? basename_of(rel) : basename_of(dest);
    if (plan.unpack_archives && S_ISREG(st.st_mode)) {
      UniqueFd in(::open(fmt::format("/proc/self/fd/{}", fd.get()).c_str(), O_RDONLY | O_CLOEXEC));
      if (in && looks_like_archive(in.get())) {
        if (!into_dir) throw Error(fmt::format("ADD of an archive needs a directory as destination, not /{}", dest));
        image::unpack_layer(in.get(), fmt::format("/proc/self/fd/{}", wdir.get()),
                            {.keep_owners = plan.full_id_map, .overlay_whiteouts = false});
        continue;
      }
    }
    copier.entry(fd.get(), st, wdir.get(), name, rel);
  }
  for (const InlineFile& f : plan.inline_files) {
    std::string target = into_dir ? f.name : basename_of(dest);
    copier.clear(wdir.get(), target, false);
    UniqueFd out(openat(wdir.get(), target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!out) throw_errno(fmt::format("create {}", target));
    if (f.file.empty()) {
      write_all(out.get(), f.content);
    } else {
      UniqueFd in = open_or_throw(f.file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      struct stat st {};
      if (fstat(in.get(), &st) != 0) throw_errno(fmt::format("stat {}", f.file.string()));
      copy_data(in.get(), out.get(), static_cast<uint64_t>(st.st_size), f.name);
    }
    copier.own(out.get(), "", AT_EMPTY_PATH);
    if (fchmod(out.get(), plan.chmod.value_or(f.mode)) != 0) throw_errno(fmt::format("chmod {}", target));
  }
  times.restore(dest_root);
}

}  // namespace skiff::storage
