// COPY, ADD and WORKDIR: the layer steps skiff carries out itself, with
// build_fs.cpp's code in a user and mount namespace over the step's overlay.
#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <exception>

#include "builder.hpp"
#include "skiff/engine/user_lookup.hpp"
#include "skiff/image/digest.hpp"
#include "skiff/image/image_store.hpp"
#include "skiff/registry/http.hpp"
#include "skiff/userns/userns.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

namespace skiff::build {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

bool is_url(std::string_view s) {
  return s.starts_with("http://") || s.starts_with("https://");
}

// The file name an URL gives: its last path component.
std::string url_file_name(std::string_view url) {
  std::string_view p = url.substr(url.find("://") + 3);
  size_t cut = p.find_first_of("?#");
  p = p.substr(0, cut);
  size_t slash = p.find('/');
  if (slash == std::string_view::npos) return {};
  p = p.substr(slash);
  while (!p.empty() && p.back() == '/') p.remove_suffix(1);
  return std::string(p.substr(p.rfind('/') + 1));
}

// Streams url's body into file (created; a download may be of any size, so
// it is never held in memory) and returns its digest. A body that ends short
// of the Content-Length the server gave fails: a cut-off file must not
// become a layer.
std::string download(const std::string& url, const fs::path& file) {
  UniqueFd out = open_or_throw(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  image::Sha256 hasher;
  uint64_t got = 0;
  std::exception_ptr write_error;  // nothing may be thrown through libcurl
  registry::HttpRequest req;
  req.url = url;
  req.on_body = [&](std::string_view data) {
    try {
      write_all(out.get(), data);
    } catch (...) {
      write_error = std::current_exception();
      return false;
    }
    hasher.update(data);
    got += data.size();
    return true;
  };
  registry::HttpResponse resp;
  try {
    resp = registry::make_curl_transport({})->perform(req);
  } catch (const Error& e) {
    if (write_error) std::rethrow_exception(write_error);
    throw e.with_context("ADD " + url);
  }
  if (resp.status != 200) throw Error(fmt::format("ADD {}: the server answered HTTP {}", url, resp.status));
  std::string length = resp.header("content-length");
  uint64_t announced = 0;
  if (!length.empty() &&
      (std::from_chars(length.data(), length.data() + length.size(), announced).ec != std::errc() || announced != got))
    throw Error(fmt::format("ADD {}: the download has {} bytes, but the server announced {}", url, got, length));
  return hasher.finish();
}

}  // namespace

void Builder::copy_step(StageState& s, const build::Instruction& in, const build::CopyInstruction& c,
                        size_t stage_index) {
  const char* kw = c.add ? "ADD" : "COPY";
  if (c.parents) throw Error(fmt::format("{}: {} --parents is not supported yet", where(in), kw));
  if (c.unpack.has_value() || c.keep_git_dir.has_value())
    throw Error(fmt::format("{}: ADD --unpack and --keep-git-dir are not supported yet", where(in)));

  storage::CopyPlan plan;
  plan.full_id_map = map_.full;
  plan.unpack_archives = c.add && c.from.empty();
  plan.keep_owners = !c.from.empty() && c.chown.empty();
  std::string dest = c.dest;
  bool trailing = !dest.empty() && dest.back() == '/';
  std::string workdir = cfg(s).value("WorkingDir", "/");
  if (dest.empty() || dest[0] != '/') dest = workdir + "/" + dest;
  dest = clean_path(dest);
  plan.dest = dest;

  // Owners and modes.
  std::vector<fs::path> top_first;
  for (auto it = s.layers.rbegin(); it != s.layers.rend(); ++it) top_first.push_back(layers_.layer_dir(it->diff_id));
  if (!c.chown.empty()) {
    runtime::User u;
    try {
      u = engine::resolve_user(c.chown, engine::read_from_layers(top_first, "/etc/passwd"),
                               engine::read_from_layers(top_first, "/etc/group"))
              .ids;
    } catch (const Error& e) {
      throw e.with_context(fmt::format("{}: {} --chown", where(in), kw));
    }
    plan.uid = u.uid;
    plan.gid = u.gid;
    if (!map_.maps_uid(u.uid) || !map_.maps_gid(u.gid)) {
      if (map_.full)
        throw Error(
            fmt::format("{}: --chown={}: {}:{} is outside your /etc/subuid range", where(in), c.chown, u.uid, u.gid));
      plan.uid = plan.gid = 0;  // a single-id map has only root
    }
  }
  if (!c.chmod.empty()) {
    char* end = nullptr;
    unsigned long m = strtoul(c.chmod.c_str(), &end, 8);
    if (*end != '\0' || m > 07777)
      throw Error(fmt::format("{}: --chmod={}: give the mode in octal, e.g. 0755", where(in), c.chmod));
    plan.chmod = static_cast<mode_t>(m);
  }

  // Sources, and what the cache key takes from them.
  std::vector<std::string> key_parts{s.key, kw, json(c.sources).dump(), dest, c.chown, c.chmod, trailing ? "/" : ""};
  std::optional<StageState> from_stage;
  std::optional<image::ImageContent> from_image;
  std::vector<std::string> patterns;
  // ADD URL downloads, gone when the step is done.
  struct RemoveFiles {
    std::vector<fs::path> files;
    ~RemoveFiles() {
      for (const auto& f : files) ::unlink(f.c_str());
    }
  } remove_downloads;
  std::vector<fs::path>& downloads = remove_downloads.files;
  for (const auto& src : c.sources) {
    if (!c.add || !is_url(src)) {
      patterns.push_back(src);
      continue;
    }
    if (!c.from.empty()) throw Error(fmt::format("{}: ADD --from cannot fetch URLs", where(in)));
    // In the build's work dir, removed with it (or after the step, below).
    fs::path file = work_ / fmt::format("download-{}", random_hex(8));
    downloads.push_back(file);
    std::string sum;
    try {
      sum = download(src, file);
    } catch (const Error& e) {
      throw e.with_context(where(in));
    }
    if (!c.checksum.empty() && c.checksum != sum)
      throw Error(fmt::format("{}: ADD {}: the download has digest {}, not {}", where(in), src, sum, c.checksum));
    std::string name = url_file_name(src);
    if (name.empty() && !trailing) name = fs::path(dest).filename().string();
    if (name.empty()) throw Error(fmt::format("{}: ADD {}: cannot tell a file name from the URL", where(in), src));
    key_parts.push_back(sum);
    plan.inline_files.push_back({.name = name, .file = file, .mode = 0600});
  }
  if (!c.checksum.empty() && !patterns.empty())
    throw Error(fmt::format("{}: ADD --checksum only checks URLs", where(in)));
  for (const auto& h : c.heredocs) {
    std::string content = h.content;
    if (h.expand) content = build::expand_word(content, lookup(s), {.escape = df_.escape, .quotes_literal = true});
    key_parts.push_back(image::sha256_digest(content));
    plan.inline_files.push_back({.name = h.name, .content = std::move(content), .mode = 0644});
  }

  build::DockerIgnore ignore = ignore_;
  if (!c.excludes.empty()) {
    std::vector<std::string> all = ignore_.patterns();
    all.insert(all.end(), c.excludes.begin(), c.excludes.end());
    ignore = build::DockerIgnore(all);
  }
  if (c.from.empty()) {
    if (!patterns.empty()) {
      if (!context_fd_)
        throw Error(
            fmt::format("{}: {} from the build context, but there is none (the Dockerfile came from standard input)",
                        where(in), kw));
      try {
        for (const auto& p : patterns) {
          auto found = expand_source(context_fd_.get(), p, &ignore);
          plan.sources.insert(plan.sources.end(), found.begin(), found.end());
        }
        key_parts.push_back(hash_sources(context_fd_.get(), plan.sources, &ignore));
      } catch (const Error& e) {
        throw e.with_context(fmt::format("{}: {}", where(in), kw));
      }
      plan.filter = &ignore_;
      if (!c.excludes.empty()) plan.filter = &ignore;
    }
  } else if (auto dep = find_stage(c.from, stage_index)) {
    from_stage = stage(*dep);
    key_parts.push_back("stage:" + from_stage->key);
  } else if (find_stage(c.from, df_.stages.size())) {
    throw Error(
        fmt::format("{}: {} --from={}: a stage can only copy from stages defined before it", where(in), kw, c.from));
  } else {
    try {
      from_image = image_for(c.from);
    } catch (const Error& e) {
      throw e.with_context(fmt::format("{}: {} --from={}", where(in), kw, c.from));
    }
    key_parts.push_back("image:" + from_image->record.id);
  }
  size_t count = (c.from.empty() ? plan.sources.size() : patterns.size()) + plan.inline_files.size();
  plan.dest_is_dir = trailing;
  if (count > 1 && !trailing)
    throw Error(
        fmt::format("{}: when using {} with more than one source file, the destination must be a directory "
                    "and end with a /",
                    where(in), kw));

  std::string created_by =
      fmt::format("{} {}{} {}", kw, c.from.empty() ? "" : "--from=" + c.from + " ", fmt::join(c.sources, " "), c.dest);
  std::string key = hash_key(key_parts);
  add_layer_step(s, in, key, created_by, [&](const StepDirs& dirs) {
    StepRoot root = step_root(s);
    std::optional<StepRoot> src_root;
    if (from_stage) src_root = step_root(*from_stage);
    if (from_image) {
      StageState tmp;
      tmp.layers = image::image_layers(*from_image);
      src_root = step_root(tmp);
    }
    userns::run_in_userns(
        map_,
        [&] {
          storage::mount_rootfs(root.layers(dirs.upper(), dirs.work()), dirs.merged());
          fs::path src_mount = dirs.dir / "source";
          UniqueFd src;
          if (src_root) {
            make_dirs(src_mount, 0755);
            storage::mount_rootfs(src_root->layers(), src_mount);
            src = open_or_throw(src_mount, O_PATH | O_DIRECTORY);
            for (const auto& p : patterns) {
              auto found = expand_source(src.get(), p, nullptr);
              plan.sources.insert(plan.sources.end(), found.begin(), found.end());
            }
            if (plan.sources.size() + plan.inline_files.size() > 1 && !trailing)
              throw Error("when copying more than one file, the destination must be a directory and end with a /");
          } else if (context_fd_) {
            src = UniqueFd(fcntl(context_fd_.get(), F_DUPFD_CLOEXEC, 0));
          }
          {
            UniqueFd r = open_or_throw(dirs.merged(), O_PATH | O_DIRECTORY);
            storage::copy_into_root(r.get(), src.get(), plan);
          }
          src.reset();
          if (src_root) storage::unmount_rootfs(src_mount);
          storage::unmount_rootfs(dirs.merged());
          commit_step_upper(dirs, root, layers_, {});
        },
        true);
    return read_step_result(dirs, images_);
  });
}

void Builder::workdir_step(StageState& s, const build::Instruction& in, const std::string& path) {
  std::string dir = path;
  if (dir.empty()) throw Error(fmt::format("{}: WORKDIR needs a path", where(in)));
  if (dir[0] != '/') dir = (fs::path(cfg(s).value("WorkingDir", "/")) / dir).lexically_normal().string();
  dir = clean_path(dir);
  cfg(s)["WorkingDir"] = dir;
  std::string key = hash_key({s.key, "WORKDIR", dir});
  add_layer_step(s, in, key, "WORKDIR " + dir, [&](const StepDirs& dirs) {
    StepRoot root = step_root(s);
    userns::run_in_userns(
        map_,
        [&] {
          storage::mount_rootfs(root.layers(dirs.upper(), dirs.work()), dirs.merged());
          {
            UniqueFd r = open_or_throw(dirs.merged(), O_PATH | O_DIRECTORY);
            storage::make_dirs_in_root(r.get(), dir, 0, 0);
          }
          storage::unmount_rootfs(dirs.merged());
          commit_step_upper(dirs, root, layers_, {});
        },
        true);
    return read_step_result(dirs, images_);
  });
}

}  // namespace skiff::build
