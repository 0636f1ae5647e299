#include "launch_plan.hpp"

#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>

#include "dev_defaults.hpp"
#include "seccomp_filter.hpp"
#include "skiff/runtime/capabilities.hpp"
#include "skiff/runtime/rlimits.hpp"
#include "skiff/runtime/seccomp.hpp"
#include "skiff/util/error.hpp"

namespace skiff::runtime {

char* const* LaunchPlan::keep_argv(const std::vector<std::string>& v) {
  auto& out = vectors.emplace_back();
  for (const auto& s : v) out.push_back(const_cast<char*>(keep(s)));
  out.push_back(nullptr);
  return out.data();
}

namespace {

struct ParsedOptions {
  unsigned long flags = 0;
  std::string data;
  bool bind = false;
  bool recursive = false;
  bool readonly = false;
};

ParsedOptions parse_options(const std::vector<std::string>& options) {
  ParsedOptions p;
  for (const auto& o : options) {
    if (o == "ro")
      p.readonly = true, p.flags |= MS_RDONLY;
    else if (o == "rw")
      p.readonly = false, p.flags &= ~static_cast<unsigned long>(MS_RDONLY);
    else if (o == "nosuid")
      p.flags |= MS_NOSUID;
    else if (o == "nodev")
      p.flags |= MS_NODEV;
    else if (o == "noexec")
      p.flags |= MS_NOEXEC;
    else if (o == "strictatime")
      p.flags |= MS_STRICTATIME;
    else if (o == "relatime")
      p.flags |= MS_RELATIME;
    else if (o == "bind")
      p.bind = true;
    else if (o == "rbind")
      p.bind = true, p.recursive = true;
    else if (o == "private" || o == "rprivate" || o == "slave" || o == "rslave" || o == "shared" || o == "rshared" ||
             o == "suid" || o == "dev" || o == "exec" || o == "z" || o == "Z")
      continue;
    else
      p.data += (p.data.empty() ? "" : ",") + o;
  }
  return p;
}

void add_default_devices(LaunchPlan& plan) {
  // Without root, device nodes cannot be made: bind the host's.
  for (const char* dev : dev_defaults::kNodes) {
    MountOp op;
    op.kind = MountOp::Kind::kBind;
    op.source = plan.keep(std::string("/dev/") + dev);
    op.target = op.source;
    op.file = true;
    op.recursive = false;
    plan.mounts.push_back(op);
  }
  for (const auto& link : dev_defaults::kLinks) {
    MountOp op;
    op.kind = MountOp::Kind::kSymlink;
    op.source = link.to;
    op.target = plan.keep(std::string("/dev/") + link.name);
    plan.mounts.push_back(op);
  }
}

bool same_text(const char* a, const char* b) {
  return (a == nullptr || b == nullptr) ? a == b : strcmp(a, b) == 0;
}

// Whether path is /dev/NAME (/dev for an empty name).
bool is_dev_path(const char* path, const char* name) {
  if (path == nullptr || strncmp(path, "/dev", 4) != 0) return false;
  return *name == '\0' ? path[4] == '\0' : path[4] == '/' && strcmp(path + 5, name) == 0;
}

bool is_fs(const MountOp& op, const dev_defaults::FileSystem& fs) {
  return op.kind == MountOp::Kind::kMount && is_dev_path(op.target, fs.name) && same_text(op.source, fs.source) &&
         same_text(op.fstype, fs.fstype) && op.flags == fs.flags && same_text(op.data, fs.data);
}

}  // namespace

std::optional<std::pair<int, int>> default_dev_range(const LaunchPlan& plan) {
  using namespace dev_defaults;
  const auto& m = plan.mounts;
  constexpr size_t kNodeCount = sizeof kNodes / sizeof kNodes[0];
  constexpr size_t kLinkCount = sizeof kLinks / sizeof kLinks[0];
  constexpr size_t kInsideCount = sizeof kInside / sizeof kInside[0];
  constexpr size_t kCount = 1 + kNodeCount + kLinkCount + kInsideCount;
  for (size_t first = 0; first + kCount <= m.size(); ++first) {
    if (!is_fs(m[first], kDev)) continue;
    size_t i = first + 1;
    bool same = true;
    for (const char* node : kNodes) {
      const MountOp& op = m[i++];
      same = same && op.kind == MountOp::Kind::kBind && is_dev_path(op.source, node) && is_dev_path(op.target, node) &&
             op.file && !op.recursive && !op.readonly;
    }
    for (const auto& link : kLinks) {
      const MountOp& op = m[i++];
      same = same && op.kind == MountOp::Kind::kSymlink && same_text(op.source, link.to) &&
             is_dev_path(op.target, link.name);
    }
    for (const auto& fs : kInside) same = same && is_fs(m[i++], fs);
    if (same) return std::pair{static_cast<int>(first), static_cast<int>(first + kCount - 1)};
    return std::nullopt;  // only the first /dev counts
  }
  return std::nullopt;
}

int namespace_clone_flags(const std::vector<Namespace>& namespaces) {
  int flags = CLONE_NEWUSER | CLONE_NEWNS;
  for (const auto& ns : namespaces) {
    if (!ns.path.empty())
      throw Error(fmt::format("joining an existing {} namespace is not supported yet", namespace_type_name(ns.type)));
    switch (ns.type) {
      case NamespaceType::kPid:
        flags |= CLONE_NEWPID;
        break;
      case NamespaceType::kNetwork:
        flags |= CLONE_NEWNET;
        break;
      case NamespaceType::kIpc:
        flags |= CLONE_NEWIPC;
        break;
      case NamespaceType::kUts:
        flags |= CLONE_NEWUTS;
        break;
      case NamespaceType::kCgroup:
        flags |= CLONE_NEWCGROUP;
        break;
      case NamespaceType::kMount:
      case NamespaceType::kUser:
        break;  // always made
    }
  }
  return flags;
}

static std::string overlay_dirs(const RootfsLayers& l) {
  std::string data = "lowerdir=";
  for (size_t i = 0; i < l.lowerdirs.size(); ++i) data += (i ? ":" : "") + l.lowerdirs[i];
  if (!l.upperdir.empty()) data += ",upperdir=" + l.upperdir + ",workdir=" + l.workdir;
  return data;
}

std::string overlay_mount_data(const RootfsLayers& l) {
  return overlay_dirs(l) + ",userxattr" + (l.volatile_upper && !l.upperdir.empty() ? ",volatile" : "");
}

std::string fuse_overlayfs_options(const RootfsLayers& l) {
  return overlay_dirs(l);
}

// linux.sysctl into plan.sysctls, written after the container's /proc mount.
// The engine checks keys and values against docker's rules; this checks
// again what the child relies on: a key that names a file below /proc/sys
// and nothing else, a value of one line.
static void plan_sysctls(LaunchPlan& plan, const Spec& spec) {
  if (spec.linux.sysctl.empty()) return;
  for (size_t i = 0; i < plan.mounts.size(); ++i) {
    const MountOp& op = plan.mounts[i];
    if (op.kind == MountOp::Kind::kMount && same_text(op.fstype, "proc") && same_text(op.target, "/proc"))
      plan.sysctl_after = static_cast<int>(i);
  }
  if (plan.sysctl_after < 0) throw Error("linux.sysctl needs the container's /proc: the spec mounts no proc there");
  for (const auto& [key, value] : spec.linux.sysctl) {
    bool key_ok = !key.empty() && key.front() != '.' && key.back() != '.' && key.find("..") == std::string::npos &&
                  std::all_of(key.begin(), key.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
                  });
    if (!key_ok) throw Error(fmt::format("invalid sysctl name {:?}", key));
    if (value.find_first_of(std::string_view("\n\0", 2)) != std::string::npos)
      throw Error(fmt::format("invalid value for sysctl {}: it must be one line", key));
    std::string path = "sys/" + key;
    std::replace(path.begin(), path.end(), '.', '/');
    plan.sysctls.push_back(SysctlOp{
        .key = plan.keep(key), .path = plan.keep(path), .value = plan.keep(value), .net = key.rfind("net.", 0) == 0});
  }
}

void fill_launch_plan(LaunchPlan& plan, const Spec& spec, bool full_id_map, bool keep_stdin) {
  plan.clone_flags = namespace_clone_flags(spec.linux.namespaces);
  plan.rootfs = plan.keep(spec.root.path);
  plan.readonly_root = spec.root.readonly;
  if (spec.root.layers) {
    const auto& l = *spec.root.layers;
    plan.has_layers = true;
    plan.driver = l.driver;
    plan.layers_dir = plan.keep(l.layers_dir);
    // The child chdirs to layers_dir before it mounts.
    if (l.driver == RootfsLayers::Driver::kOverlay)
      plan.overlay_data = plan.keep(overlay_mount_data(l));
    else if (l.driver == RootfsLayers::Driver::kFuseOverlayfs)
      plan.fuse_argv = plan.keep_argv({"fuse-overlayfs", "-o", fuse_overlayfs_options(l), spec.root.path});
  }
  if (!spec.hostname.empty()) plan.hostname = plan.keep(spec.hostname);

  bool dev_seen = false;
  bool dev_tmpfs = false;  // the last mount on /dev is a tmpfs
  // sysfs waits for the network namespace, which a thread of the child makes
  // meanwhile: it goes as late as it can, just before the first mount on or
  // below its target (the masks and read-only paths elsewhere, /proc's,
  // come before it: they are independent of each other).
  std::optional<MountOp> sysfs;
  auto below_sysfs = [&](std::string_view path) {
    if (!sysfs) return false;
    std::string_view t = sysfs->target;
    return path.rfind(t, 0) == 0 && (path.size() == t.size() || path[t.size()] == '/');
  };
  auto flush_sysfs = [&] {
    if (sysfs) plan.mounts.push_back(*std::exchange(sysfs, std::nullopt));
  };
  for (const auto& m : spec.mounts) {
    if (m.destination.empty() || m.destination[0] != '/')
      throw Error(fmt::format("mount destination {:?} is not an absolute path", m.destination));
    if (below_sysfs(m.destination)) flush_sysfs();
    ParsedOptions o = parse_options(m.options);
    MountOp op;
    op.target = plan.keep(m.destination);
    if (m.content) {
      // The file is made on the container's /dev tmpfs, which must be there first.
      if (!dev_tmpfs)
        throw Error(fmt::format("mount of {}: a file made in memory needs a tmpfs on /dev before it", m.destination));
      op.kind = MountOp::Kind::kData;
      op.source = plan.keep(*m.content);
      op.data_size = m.content->size();
      op.file = true;
      op.readonly = o.readonly;
    } else if (m.type == "bind" || o.bind) {
      op.kind = MountOp::Kind::kBind;
      op.source = plan.keep(m.source);
      op.readonly = o.readonly;
      op.recursive = o.recursive || m.type == "bind";
      struct stat st {};
      op.file = ::stat(m.source.c_str(), &st) == 0 && !S_ISDIR(st.st_mode);
    } else {
      op.kind = MountOp::Kind::kMount;
      op.source = plan.keep(m.source.empty() ? m.type : m.source);
      op.fstype = plan.keep(m.type);
      op.flags = o.flags;
      std::string data = o.data;
      // A devpts gid option names group 5 inside; with a single-id map there is
      // no such group and the mount would fail.
      if (m.type == "devpts" && !full_id_map) {
        std::string kept;
        for (size_t pos = 0; pos <= data.size();) {
          size_t comma = data.find(',', pos);
          std::string opt = data.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
          if (opt.rfind("gid=", 0) != 0 && !opt.empty()) kept += (kept.empty() ? "" : ",") + opt;
          if (comma == std::string::npos) break;
          pos = comma + 1;
        }
        data = kept;
      }
      op.data = data.empty() ? nullptr : plan.keep(data);
      op.bind_fallback = m.type == "sysfs";
    }
    if (op.kind == MountOp::Kind::kMount && m.type == "sysfs" && !sysfs) {
      sysfs = op;
      continue;
    }
    plan.mounts.push_back(op);
    if (m.destination == "/dev") dev_tmpfs = m.type == "tmpfs" && !m.content;
    if (m.destination == "/dev" && !dev_seen) {
      dev_seen = true;
      add_default_devices(plan);
    }
  }
  std::vector<MountOp> hiding;  // masked, then read-only paths
  for (const auto& p : spec.linux.maskedPaths) {
    MountOp op;
    op.kind = MountOp::Kind::kMask;
    op.target = plan.keep(p);
    hiding.push_back(op);
  }
  for (const auto& p : spec.linux.readonlyPaths) {
    MountOp op;
    op.kind = MountOp::Kind::kReadonly;
    op.target = plan.keep(p);
    hiding.push_back(op);
  }
  std::stable_partition(hiding.begin(), hiding.end(), [&](const MountOp& op) { return !below_sysfs(op.target); });
  for (const auto& op : hiding) {
    if (below_sysfs(op.target)) flush_sysfs();
    plan.mounts.push_back(op);
  }
  flush_sysfs();
  plan_sysctls(plan, spec);
  fill_process_plan(plan, spec, full_id_map, keep_stdin);
}

void fill_process_plan(LaunchPlan& plan, const Spec& spec, bool setgroups_allowed, bool keep_stdin) {
  const auto& proc = spec.process;
  if (proc.args.empty())
    throw Error("no command given and the image has no CMD or ENTRYPOINT", 0, "give a command after the image name");
  plan.argv = plan.keep_argv(proc.args);
  plan.envp = plan.keep_argv(proc.env);
  plan.path_env = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const auto& e : proc.env)
    if (e.rfind("PATH=", 0) == 0) plan.path_env = plan.keep(e.substr(5));
  plan.cwd = plan.keep(proc.cwd.empty() ? "/" : proc.cwd);
  plan.uid = proc.user.uid;
  plan.gid = proc.user.gid;
  plan.umask = static_cast<mode_t>(proc.user.umask & 0777);
  plan.groups.assign(proc.user.additionalGids.begin(), proc.user.additionalGids.end());
  plan.setgroups_allowed = setgroups_allowed;
  for (const auto& r : proc.rlimits) {
    auto number = rlimit_number(r.type);
    if (!number) throw Error(fmt::format("unknown rlimit type {:?}", r.type));
    if (r.soft > r.hard)
      throw Error(fmt::format("rlimit {}: the soft limit {} is above the hard limit {}", r.type, r.soft, r.hard));
    plan.rlimits.push_back(RlimitOp{.type = plan.keep(r.type), .resource = *number, .soft = r.soft, .hard = r.hard});
  }
  plan.last_cap = last_capability();
  for (const auto& c : proc.capabilities) {
    auto n = capability_number(c);
    if (!n) throw Error(fmt::format("unknown capability {:?}", c));
    if (*n <= plan.last_cap) plan.capabilities |= uint64_t{1} << *n;
  }
  plan.no_new_privs = proc.noNewPrivileges;
  plan.terminal = proc.terminal;
  plan.keep_stdin = keep_stdin;
  plan.init = spec.init;
  if (spec.preserve_fds < 0)
    throw Error(fmt::format("invalid number of file descriptors to preserve: {}", spec.preserve_fds));
  plan.preserve_fds = spec.preserve_fds;
  plan.stdin_fd = spec.stdin_fd;
  plan.stdout_fd = spec.stdout_fd;
  plan.stderr_fd = spec.stderr_fd;
  // Asked here, in skiff, while the child makes its namespaces: 64 calls
  // the child need not make on its way to exec.
  sigemptyset(&plan.ignored_signals);
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction old {};
    if (sig != SIGKILL && sig != SIGSTOP && sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN)
      sigaddset(&plan.ignored_signals, sig);
  }
  if (!spec.seccomp_program.empty()) {
    plan.seccomp.assign(spec.seccomp_program.begin(), spec.seccomp_program.end());
  } else if (spec.linux.seccomp) {
    auto program = compile_seccomp(*spec.linux.seccomp);
    plan.seccomp.assign(program.begin(), program.end());
  }
  if (spec.fake_id_calls) {
    auto filter = fake_id_calls_filter();
    plan.seccomp_fake_ids.assign(filter.begin(), filter.end());
  }
}

}  // namespace skiff::runtime
