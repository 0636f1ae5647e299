#include "skiff/userns/id_map.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <optional>
#include <utility>

#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"
#include "skiff/util/split.hpp"

extern char** environ;

namespace skiff::userns {

static std::string join_maps(const std::vector<IdMapping>& maps) {
  std::string s;
  for (const auto& m : maps) s += fmt::format("{}{}:{}:{}", s.empty() ? "" : ",", m.containerID, m.hostID, m.size);
  return s;
}

std::string IdMap::key() const {
  return join_maps(uids) + "/" + join_maps(gids);
}

uint32_t IdMap::uid_count() const {
  uint32_t n = 0;
  for (const auto& m : uids) n = std::max(n, m.containerID + m.size);
  return n;
}

static bool maps(const std::vector<IdMapping>& maps, uint32_t id) {
  for (const auto& m : maps)
    if (id >= m.containerID && id - m.containerID < m.size) return true;
  return false;
}
bool IdMap::maps_uid(uint32_t id) const {
  return maps(uids, id);
}
bool IdMap::maps_gid(uint32_t id) const {
  return maps(gids, id);
}

std::vector<SubRange> parse_subid_file(std::string_view content, std::string_view user, uid_t id) {
  std::vector<SubRange> out;
  std::string id_text = std::to_string(id);
  while (!content.empty()) {
    size_t nl = content.find('\n');
    std::string_view line = content.substr(0, nl);
    content = nl == std::string_view::npos ? std::string_view{} : content.substr(nl + 1);
    if (line.empty() || line[0] == '#') continue;
    size_t c1 = line.find(':');
    size_t c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    std::string_view who = line.substr(0, c1);
    if (who != user && who != id_text) continue;
    SubRange r;
    auto s = line.substr(c1 + 1, c2 - c1 - 1);
    auto c = line.substr(c2 + 1);
    if (std::from_chars(s.data(), s.data() + s.size(), r.start).ec != std::errc{}) continue;
    if (std::from_chars(c.data(), c.data() + c.size(), r.count).ec != std::errc{}) continue;
    if (r.count > 0) out.push_back(r);
  }
  return out;
}

static std::vector<IdMapping> build(uint32_t id, const std::vector<SubRange>& ranges, UsernsMode mode) {
  std::vector<IdMapping> out;
  if (ranges.empty()) {
    uint32_t inside = mode == UsernsMode::kKeepId ? id : 0;
    out.push_back({inside, id, 1});
    return out;
  }
  const SubRange& r = ranges.front();
  if (mode == UsernsMode::kKeepId && id != 0) {
    // The default map puts container id k at start+k-1 and root at id. Layers
    // are unpacked under it, so keep-id must be the same map with only root
    // and id swapped: every other owner in the image stays what it was.
    uint32_t swapped = id <= r.count ? r.start + id - 1 : r.start + r.count - 1;
    out.push_back({0, swapped, 1});
    if (id <= r.count) {
      if (id > 1) out.push_back({1, r.start, id - 1});
      out.push_back({id, id, 1});
      if (r.count > id) out.push_back({id + 1, r.start + id, r.count - id});
    } else {
      if (r.count > 1) out.push_back({1, r.start, r.count - 1});
      out.push_back({id, id, 1});
    }
    return out;
  }
  out.push_back({0, id, 1});
  out.push_back({1, r.start, r.count});
  return out;
}

bool passwd_files_first(std::string_view nsswitch_conf) {
  for (std::string_view line : split(nsswitch_conf, '\n')) {
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string_view::npos || line.compare(start, 7, "passwd:") != 0) continue;
    line.remove_prefix(start + 7);
    size_t word = line.find_first_not_of(" \t");
    if (word == std::string_view::npos) return true;
    line.remove_prefix(word);
    return line.substr(0, line.find_first_of(" \t[#")) == "files";
  }
  return true;
}

std::optional<std::string> name_in_passwd(std::string_view passwd, uid_t uid) {
  std::string wanted = std::to_string(uid);
  for (std::string_view line : split(passwd, '\n')) {
    auto f = split(line, ':');  // name:password:uid:gid:...
    if (f.size() >= 4 && !f[0].empty() && f[2] == wanted) return std::string(f[0]);
  }
  return std::nullopt;
}

namespace {

// The user's name, for /etc/subuid's lines. Where NSS would look in
// /etc/passwd first (Debian's default) and finds the uid there, it is read
// from there directly: the same answer without NSS's set-up and its probes
// for nscd, 40 us of every start. Anything else goes through NSS.
std::string user_name(uid_t uid) {
  if (passwd_files_first(read_file_if_exists("/etc/nsswitch.conf").value_or("")))
    if (auto name = name_in_passwd(read_file_if_exists("/etc/passwd").value_or(""), uid)) return *name;
  char buf[4096];
  struct passwd pw {};
  struct passwd* res = nullptr;
  if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res) return res->pw_name;
  return {};
}

}  // namespace

std::string no_ranges_note(std::string_view consequence) {
  std::string name = user_name(getuid());
  return fmt::format("user {} has no ranges in /etc/subuid and /etc/subgid{}",
                     name.empty() ? std::to_string(getuid()) : name, consequence);
}

IdMap current_id_map(UsernsMode mode) {
  uid_t uid = getuid();
  gid_t gid = getgid();
  std::string name = user_name(uid);
  auto subuid = read_file_if_exists("/etc/subuid").value_or("");
  auto subgid = read_file_if_exists("/etc/subgid").value_or("");
  auto uranges = parse_subid_file(subuid, name, uid);
  auto granges = parse_subid_file(subgid, name, uid);
  // Both files need a range, and the helpers must exist, for a full map.
  bool full = !uranges.empty() && !granges.empty() && access("/usr/bin/newuidmap", X_OK) == 0 &&
              access("/usr/bin/newgidmap", X_OK) == 0;
  if (!full) uranges.clear(), granges.clear();
  IdMap m;
  m.full = full;
  m.uids = build(uid, uranges, mode);
  m.gids = build(gid, granges, mode);
  return m;
}

// fork(), not posix_spawn(): posix_spawn waits (vfork) until the child has
// exec'd, and the exec of a setuid helper takes more than a millisecond, so
// the two helpers would run one after the other. Forked, both exec at once.
static pid_t spawn_helper(const char* helper, pid_t pid, const std::vector<IdMapping>& maps) {
  if (access(helper, X_OK) != 0) throw Error(fmt::format("run {}", helper), errno, "install the uidmap package");
  std::vector<std::string> args{helper, std::to_string(pid)};
  for (const auto& m : maps) {
    args.push_back(std::to_string(m.containerID));
    args.push_back(std::to_string(m.hostID));
    args.push_back(std::to_string(m.size));
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t child = fork();
  if (child < 0) throw_errno(fmt::format("run {}", helper));
  if (child == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(helper, argv.data(), environ);
    _exit(127);
  }
  return child;
}

static void wait_helper(pid_t child, const char* helper) {
  int status = 0;
  while (waitpid(child, &status, 0) < 0)
    if (errno != EINTR) throw_errno(fmt::format("wait for {}", helper));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw Error(fmt::format("{} failed to set up the user namespace's id map", helper), 0,
                "check your ranges in /etc/subuid and /etc/subgid");
}

std::string map_line(const IdMapping& m) {
  return fmt::format("{} {} {}\n", m.containerID, m.hostID, m.size);
}

static void write_proc(pid_t pid, const char* file, std::string_view text) {
  auto path = fmt::format("/proc/{}/{}", pid, file);
  UniqueFd fd = open_or_throw(path, O_WRONLY);
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    throw_errno(fmt::format("write {}", path));
}

PendingIdMap::PendingIdMap(pid_t pid, const IdMap& map) {
  if (map.full) {
    uid_helper_ = spawn_helper("/usr/bin/newuidmap", pid, map.uids);
    try {
      gid_helper_ = spawn_helper("/usr/bin/newgidmap", pid, map.gids);
    } catch (...) {
      int st;
      waitpid(uid_helper_, &st, 0);  // (no destructor for a constructor that throws)
      throw;
    }
    return;
  }
  write_proc(pid, "setgroups", "deny");
  write_proc(pid, "uid_map", map_line(map.uids.front()));
  write_proc(pid, "gid_map", map_line(map.gids.front()));
}

PendingIdMap::~PendingIdMap() {
  int st;
  for (pid_t p : {uid_helper_, gid_helper_})
    if (p > 0)
      while (waitpid(p, &st, 0) < 0 && errno == EINTR) {
      }
}

void PendingIdMap::finish() {
  pid_t u = std::exchange(uid_helper_, -1);
  pid_t g = std::exchange(gid_helper_, -1);
  if (u < 0) return;
  try {
    wait_helper(u, "newuidmap");
  } catch (...) {
    int st;
    waitpid(g, &st, 0);
    throw;
  }
  wait_helper(g, "newgidmap");
}

void apply_id_map(pid_t pid, const IdMap& map) {
  PendingIdMap(pid, map).finish();
}

}  // namespace skiff::userns
