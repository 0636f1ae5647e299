#include "step_fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "skiff/image/digest.hpp"
#include "skiff/image/layer_pack.hpp"
#include "skiff/image/layer_unpack.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

namespace skiff::build {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

bool has_wildcards(std::string_view s) {
  return s.find_first_of("*?[") != std::string_view::npos;
}

bool ignored(const build::DockerIgnore* ignore, const std::string& rel) {
  return ignore && !rel.empty() && ignore->excluded(rel);
}

void hash_tree(image::Sha256& h, int fd, const struct stat& st, const std::string& rel,
               const build::DockerIgnore* ignore) {
  h.update(fmt::format("{}\0{:o}\0", rel, st.st_mode));
  if (S_ISREG(st.st_mode)) {
    h.update(fmt::format("{}\0", st.st_size));
    UniqueFd in(::open(fmt::format("/proc/self/fd/{}", fd).c_str(), O_RDONLY | O_CLOEXEC));
    if (!in) throw_errno(fmt::format("open {}", rel));
    std::vector<char> buf(1 << 20);
    for (;;) {
      ssize_t n = ::read(in.get(), buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw_errno(fmt::format("read {}", rel));
      if (n == 0) break;
      h.update(std::string_view(buf.data(), static_cast<size_t>(n)));
    }
  } else if (S_ISLNK(st.st_mode)) {
    std::vector<char> target(static_cast<size_t>(st.st_size) + 2);
    ssize_t n = readlinkat(fd, "", target.data(), target.size());
    if (n > 0) h.update(std::string_view(target.data(), static_cast<size_t>(n)));
  } else if (S_ISDIR(st.st_mode)) {
    for (const auto& name : sorted_entries(fd)) {
      std::string child = storage::join_relative(rel, name);
      if (ignored(ignore, child) && !ignore->may_contain_exceptions(child)) continue;
      UniqueFd c(openat(fd, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
      if (!c) throw_errno(fmt::format("open {}", child));
      struct stat cst {};
      if (fstatat(c.get(), "", &cst, AT_EMPTY_PATH) != 0) throw_errno(fmt::format("stat {}", child));
      if (ignored(ignore, child) && !S_ISDIR(cst.st_mode)) continue;
      hash_tree(h, c.get(), cst, child, ignore);
    }
  }
  h.update(std::string_view("\n", 1));
}

}  // namespace

void StepDirs::create() const {
  for (const auto& d : {upper(), work(), merged()}) make_dirs(d, 0755);
}

std::vector<std::string> expand_source(int root_fd, const std::string& pattern, const build::DockerIgnore* ignore) {
  std::string rel = storage::relative_in_root(pattern);
  if (!has_wildcards(rel)) {
    UniqueFd fd = storage::open_in_root(root_fd, rel, O_PATH);
    if (!fd || ignored(ignore, rel)) throw Error(fmt::format("{}: no such file or directory", pattern));
    return {rel};
  }
  std::vector<std::string> parts;
  for (size_t pos = 0; pos <= rel.size();) {
    size_t slash = rel.find('/', pos);
    parts.push_back(rel.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos));
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
  std::vector<std::string> found{""};
  for (const auto& part : parts) {
    std::vector<std::string> next;
    for (const auto& base : found) {
      if (!has_wildcards(part)) {
        std::string p = storage::join_relative(base, part);
        if (UniqueFd fd = storage::open_in_root(root_fd, p, O_PATH)) next.push_back(p);
        continue;
      }
      UniqueFd dir = storage::open_in_root(root_fd, base, O_PATH | O_DIRECTORY);
      if (!dir) continue;
      for (const auto& name : sorted_entries(dir.get()))
        if (fnmatch(part.c_str(), name.c_str(), 0) == 0) next.push_back(storage::join_relative(base, name));
    }
    found = std::move(next);
  }
  std::erase_if(found, [&](const std::string& p) { return ignored(ignore, p); });
  if (found.empty()) throw Error(fmt::format("{}: no source files were specified (nothing matches)", pattern));
  return found;
}

std::string hash_sources(int root_fd, const std::vector<std::string>& sources, const build::DockerIgnore* ignore) {
  image::Sha256 h;
  for (const auto& rel : sources) {
    struct stat st {};
    UniqueFd fd = storage::open_source(root_fd, rel, st);
    hash_tree(h, fd.get(), st, rel, ignore);
  }
  return h.finish();
}

fs::path copy_context_source(int context_fd, const std::string& source, const build::DockerIgnore* ignore,
                             const fs::path& dir) {
  std::string rel = storage::relative_in_root(source);
  struct stat st {};
  UniqueFd fd = storage::open_in_root(context_fd, rel, O_PATH);
  if (!fd || fstatat(fd.get(), "", &st, AT_EMPTY_PATH) != 0 ||
      (ignored(ignore, rel) && !(S_ISDIR(st.st_mode) && ignore->may_contain_exceptions(rel))))
    throw Error(fmt::format("{}: no such file or directory in the build context", source.empty() ? "." : source));
  UniqueFd dest = open_or_throw(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  storage::CopyPlan plan;
  plan.filter = ignore;
  plan.sources = {rel};
  plan.dest = "/src";
  plan.dest_is_dir = S_ISDIR(st.st_mode);
  plan.keep_owners = false;
  plan.full_id_map = false;  // owners stay the user's: root in the step
  storage::copy_into_root(dest.get(), context_fd, plan);
  return dir / "src";
}

void commit_step_upper(const StepDirs& dirs, const StepRoot& root, const storage::LayerStore& layers,
                       const std::vector<std::string>& stubs) {
  remove_tree(dirs.work());
  // Mount targets made for the step are not the step's changes.
  auto in_lowers = [&](const std::string& rel) {
    struct stat st {};
    for (const auto& l : root.lowers_top_first)
      if (fstatat(AT_FDCWD, (l / rel).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return true;
    return false;
  };
  std::vector<std::string> sorted = stubs;
  std::sort(sorted.begin(), sorted.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const auto& stub : sorted) {
    std::string rel = storage::relative_in_root(stub);
    fs::path p = dirs.upper() / rel;
    struct stat st {};
    if (fstatat(AT_FDCWD, p.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || in_lowers(rel)) continue;
    if (S_ISREG(st.st_mode) && st.st_size == 0)
      unlinkat(AT_FDCWD, p.c_str(), 0);
    else if (S_ISDIR(st.st_mode))
      rmdir(p.c_str());  // only when empty
  }
  // Parents copied up or made only to hold those targets go too when empty.
  for (const auto& stub : sorted) {
    for (std::string rel = storage::dirname_of(storage::relative_in_root(stub)); !rel.empty();
         rel = storage::dirname_of(rel)) {
      fs::path p = dirs.upper() / rel;
      if (getxattr(p.c_str(), "user.overlay.opaque", nullptr, 0) >= 0) break;
      if (rmdir(p.c_str()) != 0) break;
    }
  }

  image::PackedLayer packed = image::pack_layer_dir(dirs.upper(), dirs.blob(), {});
  json result{{"empty", packed.empty}};
  if (!packed.empty) {
    result["diff_id"] = packed.diff_id;
    result["digest"] = packed.digest;
    result["media_type"] = packed.media_type;
    result["size"] = packed.blob_size;
    result["content_size"] = packed.content_size;
    std::vector<store::FileLock> lock = layers.lock_layers({packed.diff_id});
    fs::path final_dir = layers.layer_dir(packed.diff_id);
    if (access(final_dir.c_str(), F_OK) == 0) {
      remove_tree(dirs.upper());
    } else {
      make_dirs(final_dir.parent_path(), 0700);
      if (rename(dirs.upper().c_str(), final_dir.c_str()) != 0) throw_errno("move the new layer into the store");
    }
  }
  write_file_atomic(dirs.result(), result.dump(), {.mode = 0600, .durable = false});
}

StepLayer read_step_result(const StepDirs& dirs, image::ImageStore& images) {
  json r = json::parse(read_file(dirs.result()));
  StepLayer out;
  if (r.at("empty").get<bool>()) return out;
  LayerRef l;
  l.diff_id = r.at("diff_id").get<std::string>();
  l.digest = r.at("digest").get<std::string>();
  l.media_type = r.at("media_type").get<std::string>();
  l.size = r.at("size").get<uint64_t>();
  out.content_size = r.at("content_size").get<uint64_t>();
  if (!images.has_blob(l.digest)) images.commit_blob_file(dirs.blob(), l.digest);
  out.layer = l;
  return out;
}

}  // namespace skiff::build
