#include "skiff/engine/user_lookup.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <charconv>

#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"
#include "skiff/util/split.hpp"
#include "skiff/util/unique_fd.hpp"

namespace skiff::engine {

namespace {

// The content of a file opened from whose (the image's, the container's) /rel.
std::optional<std::string> read_opened(const UniqueFd& f, const std::string& rel, std::string_view whose) {
  struct stat st {};
  if (fstat(f.get(), &st) != 0) return std::nullopt;
  if (!S_ISREG(st.st_mode))
    throw Error(fmt::format("the {}'s /{} is not a regular file: it cannot be read", whose, rel));
  if (st.st_size > (16 << 20)) throw Error(fmt::format("the {}'s /{} is larger than 16 MiB", whose, rel));
  std::string out(static_cast<size_t>(st.st_size), '\0');
  ssize_t n = pread(f.get(), out.data(), out.size(), 0);
  if (n < 0) return std::nullopt;
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace

std::optional<std::string> read_from_layers(const std::vector<std::filesystem::path>& layers,
                                            std::string_view path_in_image) {
  std::string rel(path_in_image);
  while (!rel.empty() && rel[0] == '/') rel.erase(0, 1);
  for (const auto& layer : layers) {
    UniqueFd root(::open(layer.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) continue;
    // O_NONBLOCK: a fifo in the image's place must not hang skiff in open().
    int fd = openat2_fd(root.get(), rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    if (fd < 0) {
      if (errno == ELOOP) return std::nullopt;  // a symlink: do not chase it across layers
      // A whiteout (0/0 char device) shows up as ENXIO/ENODEV on open.
      struct stat st {};
      if (fstatat(root.get(), rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISCHR(st.st_mode)) return std::nullopt;
      continue;
    }
    return read_opened(UniqueFd(fd), rel, "image");
  }
  return std::nullopt;
}

std::optional<std::string> read_from_root(int root_fd, std::string_view path) {
  std::string rel(path);
  while (!rel.empty() && rel[0] == '/') rel.erase(0, 1);
  // O_NONBLOCK: a fifo in the file's place must not hang skiff in open().
  int fd = openat2_fd(root_fd, rel, O_RDONLY | O_NONBLOCK, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  if (fd < 0) return std::nullopt;
  return read_opened(UniqueFd(fd), rel, "container");
}

namespace {

std::optional<uint32_t> parse_id(std::string_view s) {
  uint32_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

template <typename Fn>
void each_line(const std::optional<std::string>& text, Fn&& fn) {
  if (!text) return;
  std::string_view rest = *text;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    if (line.empty() || line[0] == '#') continue;
    if (fn(split(line, ':'))) return;
  }
}

}  // namespace

ImageUser resolve_user(std::string_view spec, const std::optional<std::string>& passwd,
                       const std::optional<std::string>& group) {
  ImageUser found_user;
  runtime::User& u = found_user.ids;
  std::string_view user_part = spec.substr(0, spec.find(':'));
  std::optional<std::string_view> group_part;
  if (auto c = spec.find(':'); c != std::string_view::npos) group_part = spec.substr(c + 1);
  if (user_part.empty()) user_part = "0";

  std::string user_name;
  bool found = false;
  auto numeric = parse_id(user_part);
  each_line(passwd, [&](const std::vector<std::string_view>& f) {
    if (f.size() < 4) return false;
    if (numeric ? parse_id(f[2]) == numeric : f[0] == user_part) {
      auto uid = parse_id(f[2]);
      auto gid = parse_id(f[3]);
      if (!uid || !gid) return false;
      u.uid = *uid;
      u.gid = *gid;
      user_name = f[0];
      if (f.size() >= 6 && !f[5].empty()) found_user.home = f[5];
      found = true;
      return true;
    }
    return false;
  });
  if (!found) {
    if (!numeric) throw Error(fmt::format("unable to find user {}: no matching entries in passwd file", user_part));
    u.uid = *numeric;
    u.gid = 0;
  }
  if (group_part) {
    auto gnum = parse_id(*group_part);
    bool gfound = false;
    if (gnum) {
      u.gid = *gnum;
      gfound = true;
    } else {
      each_line(group, [&](const std::vector<std::string_view>& f) {
        if (f.size() >= 3 && f[0] == *group_part) {
          if (auto gid = parse_id(f[2])) u.gid = *gid, gfound = true;
          return true;
        }
        return false;
      });
    }
    if (!gfound) throw Error(fmt::format("unable to find group {}: no matching entries in group file", *group_part));
  } else if (!user_name.empty()) {
    // Supplementary groups: every group that lists the user as a member.
    each_line(group, [&](const std::vector<std::string_view>& f) {
      if (f.size() < 4) return false;
      for (auto m : split(f[3], ','))
        if (m == user_name)
          if (auto gid = parse_id(f[2]); gid && *gid != u.gid) u.additionalGids.push_back(*gid);
      return false;
    });
  }
  return found_user;
}

}  // namespace skiff::engine
