#include "skiff/engine/run_options_parse.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

#include "skiff/net/network_helper.hpp"
#include "skiff/runtime/capabilities.hpp"
#include "skiff/runtime/rlimits.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"
#include "skiff/util/split.hpp"

namespace skiff::engine {

static void check_target(std::string_view target, std::string_view what) {
  if (target.empty() || target[0] != '/')
    throw Error(fmt::format("invalid {} {:?}: the container path must be absolute", what, std::string(target)));
  if (target == "/") throw Error(fmt::format("invalid {}: cannot mount over the container's root", what));
}

static void check_source(const std::string& source) {
  if (source.empty() || source[0] != '/')
    throw Error(fmt::format(
        "invalid volume source {:?}: named volumes are not supported yet; give an absolute host path", source));
}

NetworkMode parse_network_mode(std::string_view text, std::string* options) {
  if (text == "host") return NetworkMode::kHost;
  if (text == "none") return NetworkMode::kNone;
  auto colon = text.find(':');
  std::string_view kind = text.substr(0, colon);
  std::string_view rest = colon == std::string_view::npos ? "" : text.substr(colon + 1);
  std::optional<net::HelperKind> helper;
  if (kind == "pasta") helper = net::HelperKind::kPasta;
  if (kind == "slirp4netns") helper = net::HelperKind::kSlirp4netns;
  // docker's and podman's names for the default network.
  if (text.empty() || text == "private" || text == "bridge" || text == "default") helper = net::default_helper();
  if (!helper)
    throw Error(
        fmt::format("network mode {:?} is not supported yet: use pasta, slirp4netns, none or host", std::string(text)));
  net::parse_helper_options(*helper, rest);  // checked now: one sentence before anything starts
  if (options) *options = std::string(rest);
  return *helper == net::HelperKind::kPasta ? NetworkMode::kPasta : NetworkMode::kSlirp4netns;
}

void check_network_flags(RunOptions& opts, const std::vector<std::string>& add_hosts) {
  if ((!opts.ports.empty() || opts.publish_all) && !has_network_helper(opts.network))
    throw Error(fmt::format("-p and -P need a network of the container's own, not --network {}",
                            network_mode_name(opts.network)));
  for (const auto& server : opts.dns.servers)
    if (!net::is_ip_address(server)) throw Error(fmt::format("invalid --dns {:?}: not an IP address", server));
  for (const auto& text : add_hosts) {
    auto [name, ip] = net::parse_add_host(text);
    opts.add_hosts.push_back(name + ":" + ip);
  }
}

UsernsOption parse_userns(std::string_view text) {
  if (text.empty()) return UsernsOption::kDefault;
  if (text == "keep-id") return UsernsOption::kKeepId;
  if (text == "host") throw Error("--userns=host needs root: rootless containers always run in a user namespace");
  throw Error(fmt::format("unknown --userns mode {:?}: use keep-id", std::string(text)));
}

PullPolicy parse_pull_policy(std::string_view text) {
  if (text == "missing" || text == "false") return PullPolicy::kMissing;
  if (text == "always" || text == "true") return PullPolicy::kAlways;
  if (text == "never") return PullPolicy::kNever;
  if (text == "newer") return PullPolicy::kNewer;
  throw Error(fmt::format("invalid --pull policy {:?}: use missing, always, never or newer", std::string(text)));
}

VolumeOption parse_volume(std::string_view text) {
  auto parts = split(text, ':');
  if (parts.size() < 2 || parts.size() > 3)
    throw Error(fmt::format("invalid volume {:?}: expected HOST-DIR:CONTAINER-DIR[:ro|rw]", std::string(text)));
  VolumeOption v{std::string(parts[0]), std::string(parts[1]), false};
  if (parts.size() == 3) {
    for (auto opt : split(parts[2], ',')) {
      if (opt == "ro")
        v.readonly = true;
      else if (opt == "rw")
        v.readonly = false;
      else if (opt == "z" || opt == "Z" || opt == "rprivate" || opt == "private" || opt == "rslave" || opt == "slave")
        continue;
      else
        throw Error(fmt::format("invalid volume {:?}: unknown option {:?}", std::string(text), std::string(opt)));
    }
  }
  check_target(v.target, "volume");
  check_source(v.source);
  return v;
}

TmpfsOption parse_tmpfs(std::string_view text) {
  size_t colon = text.find(':');
  TmpfsOption t{std::string(text.substr(0, colon)),
                colon == std::string_view::npos ? "" : std::string(text.substr(colon + 1))};
  check_target(t.target, "tmpfs");
  return t;
}

void parse_mount(std::string_view text, RunOptions& out) {
  std::string type, source, target, size, mode;
  bool readonly = false;
  for (auto field : split(text, ',')) {
    size_t eq = field.find('=');
    std::string_view key = field.substr(0, eq);
    std::string value = eq == std::string_view::npos ? "" : std::string(field.substr(eq + 1));
    if (key == "type")
      type = value;
    else if (key == "source" || key == "src")
      source = value;
    else if (key == "target" || key == "dst" || key == "destination")
      target = value;
    else if (key == "readonly" || key == "ro")
      readonly = value.empty() || value == "true" || value == "1";
    else if (key == "tmpfs-size")
      size = value;
    else if (key == "tmpfs-mode")
      mode = value;
    else if (key == "bind-propagation" || key == "consistency")
      continue;
    else
      throw Error(fmt::format("invalid mount {:?}: unknown key {:?}", std::string(text), std::string(key)));
  }
  if (target.empty()) throw Error(fmt::format("invalid mount {:?}: target is required", std::string(text)));
  if (type == "bind") {
    if (source.empty()) throw Error(fmt::format("invalid mount {:?}: source is required", std::string(text)));
    check_target(target, "mount");
    check_source(source);
    out.volumes.push_back({source, target, readonly});
  } else if (type == "tmpfs") {
    check_target(target, "mount");
    std::string opts;
    if (!size.empty()) opts += "size=" + size;
    if (!mode.empty()) opts += (opts.empty() ? "" : ",") + ("mode=" + mode);
    if (readonly) opts += (opts.empty() ? "" : ",") + std::string("ro");
    out.tmpfs.push_back({target, opts});
  } else if (type.empty()) {
    throw Error(fmt::format("invalid mount {:?}: type is required (bind or tmpfs)", std::string(text)));
  } else {
    throw Error(fmt::format("invalid mount {:?}: type {:?} is not supported (bind or tmpfs)", std::string(text), type));
  }
}

std::string parse_capability(std::string_view name) {
  std::string upper;
  for (char c : name) upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (upper == "ALL") return upper;
  if (upper.rfind("CAP_", 0) != 0) upper.insert(0, "CAP_");
  // docker's words, with the name as docker shows it.
  if (!runtime::capability_number(upper)) throw Error(fmt::format("unknown capability: {:?}", upper));
  return upper;
}

// Go's strconv.ParseBool, which docker and podman use for option values.
static std::optional<bool> parse_go_bool(std::string_view v) {
  for (std::string_view t : {"1", "t", "T", "TRUE", "true", "True"})
    if (v == t) return true;
  for (std::string_view f : {"0", "f", "F", "FALSE", "false", "False"})
    if (v == f) return false;
  return std::nullopt;
}

void parse_security_opt(std::string_view text, RunOptions& out) {
  auto invalid = [&] {
    // docker's message for an option it does not know or a value it cannot read.
    return Error(fmt::format("invalid --security-opt: {:?}", std::string(text)), 0,
                 "the options are no-new-privileges[=true|false], mask=PATH[:PATH...], unmask=PATH[:PATH...]|ALL, "
                 "systempaths=unconfined, seccomp=unconfined|PROFILE.json, label=..., apparmor=...");
  };
  size_t eq = text.find('=');
  std::string_view key = text.substr(0, eq);
  if (eq == std::string_view::npos) {
    if (key != "no-new-privileges") throw invalid();
    out.no_new_privileges = true;
    return;
  }
  std::string_view value = text.substr(eq + 1);
  if (key == "no-new-privileges") {
    auto on = parse_go_bool(value);
    if (!on) throw invalid();
    out.no_new_privileges = *on;
  } else if (key == "label" || key == "apparmor") {
    // skiff labels nothing for SELinux and loads no AppArmor profile: as
    // podman does where neither is in use, the value is accepted and has no
    // effect.
    if (value.empty()) throw invalid();
  } else if (key == "seccomp") {
    if (value.empty()) throw invalid();
    if (value == "unconfined") {
      out.seccomp = SeccompMode::kUnconfined;
    } else {
      out.seccomp = SeccompMode::kProfile;
      out.seccomp_profile = std::string(value);  // read by run_container, before anything is made
    }
  } else if (key == "mask") {
    for (auto path : split(value, ':')) {
      if (path.empty() || path[0] != '/')
        throw Error(fmt::format("invalid --security-opt {:?}: the paths to mask must be absolute", std::string(text)));
      out.mask.emplace_back(path);
    }
  } else if (key == "unmask") {
    if (value.empty()) throw invalid();
    for (auto path : split(value, ':'))
      if (!path.empty()) out.unmask.emplace_back(path);
  } else if (key == "systempaths") {
    if (value != "unconfined") throw invalid();
    out.unmask.emplace_back("ALL");  // docker's spelling of podman's unmask=ALL
  } else {
    throw invalid();
  }
}

void parse_sysctl(std::string_view text, NetworkMode network, RunOptions& out) {
  size_t eq = text.find('=');
  if (eq == 0 || eq == std::string_view::npos || eq + 1 == text.size())
    throw Error(fmt::format("invalid --sysctl {:?}: expected KEY=VALUE", std::string(text)));
  std::string key(text.substr(0, eq));
  std::string_view value = text.substr(eq + 1);
  std::replace(key.begin(), key.end(), '/', '.');  // net/ipv4/ip_forward is net.ipv4.ip_forward
  bool key_ok = key.front() != '.' && key.back() != '.' && key.find("..") == std::string::npos &&
                std::all_of(key.begin(), key.end(), [](char c) {
                  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
                });
  if (!key_ok)
    throw Error(
        fmt::format("invalid --sysctl {:?}: a key is made of a-z, 0-9, '_', '-' and '.' (or '/') between "
                    "non-empty names",
                    std::string(text)));
  // CVE-2022-0811: CRI-O handed "key=value+key=value" to a helper that split
  // it at '+', so --sysctl 'kernel.shm_rmid_forced=1+kernel.core_pattern=|/x'
  // set the host's core_pattern. skiff writes each value whole to its own
  // file, and also refuses any value that could read as a second setting.
  bool value_ok = std::none_of(value.begin(), value.end(), [](char c) {
    return c == '+' || c == '=' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
  if (!value_ok)
    throw Error(
        fmt::format("invalid --sysctl {:?}: the value may not hold '+', '=', a newline or another control "
                    "character",
                    std::string(text)));
  // docker's and podman's list: the kernel parameters of the namespaces a
  // container has of its own (ipc, uts, network). Any other is the host's.
  static constexpr std::string_view kIpcKeys[] = {"kernel.msgmax", "kernel.msgmnb",         "kernel.msgmni",
                                                  "kernel.sem",    "kernel.shmall",         "kernel.shmmax",
                                                  "kernel.shmmni", "kernel.shm_rmid_forced"};
  bool ipc =
      std::find(std::begin(kIpcKeys), std::end(kIpcKeys), key) != std::end(kIpcKeys) || key.rfind("fs.mqueue.", 0) == 0;
  if (key == "kernel.hostname")
    throw Error("--sysctl kernel.hostname is not allowed: set the container's host name with --hostname");
  if (key.rfind("net.", 0) == 0) {
    if (network == NetworkMode::kHost)
      throw Error(
          fmt::format("--sysctl {}: net.* settings are not allowed with --network host, which shares the "
                      "host's network namespace",
                      key));
  } else if (!ipc && key != "kernel.domainname") {
    throw Error(
        fmt::format("--sysctl {}: not allowed in a container, whose own kernel parameters are kernel.msgmax, "
                    "kernel.msgmnb, kernel.msgmni, kernel.sem, kernel.shmall, kernel.shmmax, kernel.shmmni, "
                    "kernel.shm_rmid_forced, fs.mqueue.*, kernel.domainname and net.*",
                    key));
  }
  out.sysctl[key] = std::string(value);
}

UlimitOption parse_ulimit(std::string_view text) {
  // docker's names (Go's units.ParseUlimit): RLIMIT_AS is not among them.
  static constexpr std::string_view kNames[] = {"core",    "cpu",      "data",   "fsize",      "locks",
                                                "memlock", "msgqueue", "nice",   "nofile",     "nproc",
                                                "rss",     "rtprio",   "rttime", "sigpending", "stack"};
  size_t eq = text.find('=');
  if (eq == 0 || eq == std::string_view::npos || eq + 1 == text.size())
    throw Error(fmt::format("invalid --ulimit {:?}: expected NAME=SOFT[:HARD]", std::string(text)));
  std::string_view name = text.substr(0, eq);
  if (std::find(std::begin(kNames), std::end(kNames), name) == std::end(kNames))
    throw Error(fmt::format("invalid --ulimit {:?}: unknown limit {:?}", std::string(text), std::string(name)), 0,
                "the limits are core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, "
                "rtprio, rttime, sigpending and stack");
  auto number = [&](std::string_view v) -> uint64_t {
    if (v == "unlimited" || v == "-1") return runtime::kRlimitInfinity;
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size() || n == runtime::kRlimitInfinity)
      throw Error(fmt::format("invalid --ulimit {:?}: {:?} is not a number, -1 or unlimited", std::string(text),
                              std::string(v)));
    return n;
  };
  std::string_view values = text.substr(eq + 1);
  size_t colon = values.find(':');
  UlimitOption u;
  u.type = "RLIMIT_";
  for (char c : name) u.type.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  u.soft = number(values.substr(0, colon));
  u.hard = colon == std::string_view::npos ? u.soft : number(values.substr(colon + 1));
  if (u.soft > u.hard)
    throw Error(
        fmt::format("invalid --ulimit {:?}: the soft limit must not be above the hard limit", std::string(text)));
  return u;
}

static std::string limit_text(uint64_t v) {
  return v == runtime::kRlimitInfinity ? "unlimited" : std::to_string(v);
}

void check_ulimit_allowed(std::string_view text, const UlimitOption& u, uint64_t current_hard) {
  if (u.hard <= current_hard) return;
  throw Error(
      fmt::format("--ulimit {}: the hard limit {} is above your own hard limit of {}, which only root "
                  "can raise",
                  std::string(text), limit_text(u.hard), limit_text(current_hard)));
}

int parse_stop_timeout(std::string_view text) {
  int n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || n < 0)
    throw Error(fmt::format("invalid stop timeout {:?}: expected whole seconds, 0 or more", std::string(text)));
  return n;
}

std::optional<uint64_t> parse_size(std::string_view text) {
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc()) return std::nullopt;
  std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  if (unit.size() == 2 && (unit[1] == 'b' || unit[1] == 'B')) unit.remove_suffix(1);
  int shift = 0;
  if (unit.empty() || unit == "b" || unit == "B")
    shift = 0;
  else if (unit == "k" || unit == "K")
    shift = 10;
  else if (unit == "m" || unit == "M")
    shift = 20;
  else if (unit == "g" || unit == "G")
    shift = 30;
  else
    return std::nullopt;
  if (shift > 0 && n > (UINT64_MAX >> shift)) return std::nullopt;
  return n << shift;
}

uint64_t parse_log_opt(std::string_view text) {
  size_t eq = text.find('=');
  std::string_view key = text.substr(0, eq);
  if (key != "max-size" || eq == std::string_view::npos)
    throw Error(fmt::format("invalid --log-opt {:?}: skiff's log takes max-size=SIZE", std::string(text)));
  auto size = parse_size(text.substr(eq + 1));
  if (!size || *size == 0)
    throw Error(
        fmt::format("invalid --log-opt {:?}: the size is bytes, or a number with k, m or g", std::string(text)));
  return *size;
}

const char* restart_kind_name(RestartKind k) {
  switch (k) {
    case RestartKind::kNo:
      return "no";
    case RestartKind::kOnFailure:
      return "on-failure";
    case RestartKind::kAlways:
      return "always";
    case RestartKind::kUnlessStopped:
      return "unless-stopped";
  }
  return "no";
}

RestartPolicy parse_restart_policy(std::string_view text) {
  size_t colon = text.find(':');
  std::string_view name = text.substr(0, colon);
  RestartPolicy p;
  bool known = false;
  for (RestartKind k : {RestartKind::kNo, RestartKind::kOnFailure, RestartKind::kAlways, RestartKind::kUnlessStopped})
    if (name == restart_kind_name(k)) {
      p.kind = k;
      known = true;
    }
  if (!known)
    throw Error(
        fmt::format("invalid restart policy: unknown policy {:?}; use one of 'no', 'always', 'on-failure', "
                    "or 'unless-stopped'",
                    std::string(name)));
  if (colon == std::string_view::npos) return p;
  std::string_view count = text.substr(colon + 1);
  if (p.kind != RestartKind::kOnFailure)
    throw Error("invalid restart policy: maximum retry count can only be used with 'on-failure'");
  auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), p.max_retries);
  if (ec != std::errc() || end != count.data() + count.size() || count.empty() || p.max_retries < 0)
    throw Error(fmt::format("invalid restart policy: maximum retry count {:?} is not a whole number of 0 or more",
                            std::string(count)));
  return p;
}

int parse_preserve_fds(std::string_view text) {
  // No more than the kernel's ceiling on open files (fs.nr_open, 2^20 by default).
  constexpr int kMaxFds = 1 << 20;
  int n = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < 0 || n > kMaxFds)
    throw Error(fmt::format("invalid --preserve-fds {:?}: expected a number of file descriptors", std::string(text)));
  return n;
}

static bool valid_env_name(std::string_view name) {
  return !name.empty() && name.find('\0') == std::string_view::npos;
}

std::optional<std::string> parse_env(std::string_view text) {
  size_t eq = text.find('=');
  std::string_view name = text.substr(0, eq);
  if (!valid_env_name(name)) throw Error(fmt::format("invalid environment variable {:?}", std::string(text)));
  if (eq != std::string_view::npos) return std::string(text);
  const char* host = getenv(std::string(name).c_str());
  if (!host) return std::nullopt;
  return fmt::format("{}={}", name, host);
}

void parse_label(std::string_view text, std::map<std::string, std::string>& out) {
  size_t eq = text.find('=');
  std::string key(text.substr(0, eq));
  if (key.empty() || key.find_first_of(" \t\n") != std::string::npos)
    throw Error(fmt::format("invalid label {:?}: expected KEY=VALUE with a key of no white space", std::string(text)));
  out[key] = eq == std::string_view::npos ? std::string() : std::string(text.substr(eq + 1));
}

void read_label_file(const std::string& path, std::map<std::string, std::string>& out) {
  std::string text;
  try {
    text = read_file(path);
  } catch (const Error& e) {
    throw Error(fmt::format("label file: {}", e.what()));
  }
  for (std::string_view rest = text; !rest.empty();) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    parse_label(line, out);
  }
}

void read_env_file(const std::string& path, std::vector<std::string>& out) {
  std::string text;
  try {
    text = read_file(path);
  } catch (const Error& e) {
    throw Error(fmt::format("env file: {}", e.what()));
  }
  std::string_view rest = text;
  int lineno = 0;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    ++lineno;
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    if (line.find_first_of(" \t") < line.find('='))
      throw Error(fmt::format("{}:{}: variable name {:?} has white space", path, lineno, std::string(line)));
    try {
      if (auto e = parse_env(line)) out.push_back(*e);
    } catch (const Error& e) {
      throw Error(fmt::format("{}:{}: {}", path, lineno, e.what()));
    }
  }
}

}  // namespace skiff::engine
