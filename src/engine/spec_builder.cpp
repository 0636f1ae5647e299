#include <errno.h>
#include <fnmatch.h>
#include <strings.h>

#include <algorithm>
#include <cstdint>

#include "skiff/engine/container_run.hpp"
#include "skiff/engine/seccomp_profile.hpp"
#include "skiff/runtime/capabilities.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

namespace skiff::engine {

using nlohmann::json;

static std::vector<std::string> strings_of(const json& config, const char* key) {
  std::vector<std::string> out;
  if (auto it = config.find(key); it != config.end() && it->is_array())
    for (const auto& v : *it)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

std::vector<std::string> container_args(const RunOptions& opts, const json& config) {
  std::vector<std::string> entry;
  std::vector<std::string> cmd;
  if (opts.entrypoint) {
    // --entrypoint takes one program; "" clears the image's. The image's Cmd
    // belonged to the old entrypoint, so it goes too (docker does the same).
    if (!opts.entrypoint->empty()) entry.push_back(*opts.entrypoint);
  } else {
    entry = strings_of(config, "Entrypoint");
    cmd = strings_of(config, "Cmd");
  }
  if (!opts.command.empty()) cmd = opts.command;
  entry.insert(entry.end(), cmd.begin(), cmd.end());
  return entry;
}

std::vector<std::string> container_env(const RunOptions& opts, const json& config, const std::string& hostname,
                                       const std::string& home) {
  std::vector<std::string> env;
  auto set = [&](const std::string& kv) {
    std::string name = kv.substr(0, kv.find('='));
    auto it =
        std::find_if(env.begin(), env.end(), [&](const std::string& e) { return e.substr(0, e.find('=')) == name; });
    if (it != env.end())
      *it = kv;
    else
      env.push_back(kv);
  };
  set("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  for (const auto& e : strings_of(config, "Env")) set(e);
  set("HOSTNAME=" + hostname);
  if (opts.tty) set("TERM=xterm");
  if (std::none_of(env.begin(), env.end(), [](auto& e) { return e.rfind("HOME=", 0) == 0; })) set("HOME=" + home);
  for (const auto& e : opts.env) set(e);
  return env;
}

std::vector<runtime::Namespace> container_namespaces(const RunOptions& opts) {
  using runtime::NamespaceType;
  std::vector<runtime::Namespace> ns{{NamespaceType::kUser, ""},
                                     {NamespaceType::kMount, ""},
                                     {NamespaceType::kPid, ""},
                                     {NamespaceType::kIpc, ""},
                                     {NamespaceType::kUts, ""}};
  if (opts.network != NetworkMode::kHost) ns.push_back({NamespaceType::kNetwork, ""});
  return ns;
}

std::vector<std::string> container_capabilities(const RunOptions& opts) {
  if (!opts.privileged && opts.cap_add.empty() && opts.cap_drop.empty()) return runtime::default_capabilities();
  // One bit per capability, in the kernel's numbering (ALL is no name).
  auto bits_of = [](const std::vector<std::string>& names) {
    uint64_t bits = 0;
    for (const auto& n : names)
      if (auto c = runtime::capability_number(n); c && n != "ALL") bits |= uint64_t{1} << *c;
    return bits;
  };
  auto has_all = [](const std::vector<std::string>& names) {
    return std::find(names.begin(), names.end(), "ALL") != names.end();
  };
  uint64_t all = 0;
  for (int c = 0; !runtime::capability_name(c).empty(); ++c) all |= uint64_t{1} << c;
  uint64_t add = bits_of(opts.cap_add), drop = bits_of(opts.cap_drop);
  uint64_t caps = opts.privileged ? all : bits_of(runtime::default_capabilities());
  if (has_all(opts.cap_add))
    caps = all & ~drop;  // docker's order: ALL added wins over ALL dropped
  else if (has_all(opts.cap_drop))
    caps = add;
  else
    caps = (caps & ~drop) | add;
  std::vector<std::string> out;
  for (int c = 0; c < 64; ++c)
    if (caps & (uint64_t{1} << c)) out.push_back(fmt::format("CAP_{}", runtime::capability_name(c)));
  return out;
}

// podman's unmask=: ALL, or paths and globs ('*' stays within a component,
// as Go's filepath.Match has it).
static bool unmasked(const std::string& path, const std::vector<std::string>& unmask) {
  return std::any_of(unmask.begin(), unmask.end(), [&](const std::string& u) {
    return strcasecmp(u.c_str(), "ALL") == 0 || fnmatch(u.c_str(), path.c_str(), FNM_PATHNAME) == 0;
  });
}

runtime::Spec build_spec(const RunOptions& opts, const SpecInputs& in) {
  runtime::Spec spec;
  const json& config = in.image_config;
  spec.hostname = opts.hostname.empty() ? in.container_id.substr(0, 12) : opts.hostname;
  spec.process.args = container_args(opts, config);
  spec.process.env = container_env(opts, config, spec.hostname, in.home);
  spec.process.terminal = opts.tty;
  spec.process.user = in.user;
  spec.process.capabilities = container_capabilities(opts);
  spec.process.noNewPrivileges = opts.no_new_privileges;
  for (const auto& u : opts.ulimits) spec.process.rlimits.push_back({.type = u.type, .hard = u.hard, .soft = u.soft});
  std::string workdir = config.value("WorkingDir", "");
  if (opts.workdir) workdir = *opts.workdir;
  if (workdir.empty()) workdir.assign(1, '/');  // (not = "/": GCC 12 -Wrestrict false positive)
  if (workdir[0] != '/') throw Error(fmt::format("the working directory {:?} is not an absolute path", workdir));
  spec.process.cwd = workdir;

  spec.root.path = in.rootfs;
  spec.root.readonly = opts.read_only;
  spec.root.layers = in.layers;
  spec.init = opts.init;
  spec.preserve_fds = opts.preserve_fds;

  using M = runtime::Mount;
  spec.mounts = {
      M{"/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}},
      M{"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
      M{"/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
      M{"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
      M{"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}},
      M{"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}},
  };
  spec.mounts.push_back(
      M{"/etc/hosts", "bind", "", {"rbind"}, hosts_file(spec.hostname, in.host_network, in.extra_hosts)});
  spec.mounts.push_back(M{"/etc/hostname", "bind", "", {"rbind"}, spec.hostname + "\n"});
  spec.mounts.push_back(M{"/etc/resolv.conf",
                          "bind",
                          "",
                          {"rbind"},
                          in.resolv_conf ? *in.resolv_conf : read_file_if_exists("/etc/resolv.conf").value_or("")});

  // User mounts, parents before children (docker sorts by depth).
  std::vector<M> user;
  for (const auto& v : opts.volumes)
    user.push_back(M{v.target, "bind", v.source,
                     v.readonly ? std::vector<std::string>{"rbind", "ro"} : std::vector<std::string>{"rbind"}});
  for (const auto& t : opts.tmpfs) {
    std::vector<std::string> o{"nosuid", "nodev"};
    bool has_mode = false;
    if (!t.options.empty()) {
      std::string_view rest = t.options;
      for (;;) {
        size_t c = rest.find(',');
        std::string one(rest.substr(0, c));
        if (one.rfind("mode=", 0) == 0) has_mode = true;
        if (!one.empty()) o.push_back(one);
        if (c == std::string_view::npos) break;
        rest.remove_prefix(c + 1);
      }
    }
    if (!has_mode) o.push_back("mode=1777");
    user.push_back(M{t.target, "tmpfs", "tmpfs", o});
  }
  std::stable_sort(user.begin(), user.end(), [](const M& a, const M& b) {
    return std::count(a.destination.begin(), a.destination.end(), '/') <
           std::count(b.destination.begin(), b.destination.end(), '/');
  });
  spec.mounts.insert(spec.mounts.end(), user.begin(), user.end());

  spec.linux.namespaces = container_namespaces(opts);
  // --privileged hides nothing and leaves nothing read-only; unmask= lifts
  // defaults of both kinds, mask= adds to them (podman's rules).
  if (!opts.privileged) {
    spec.linux.maskedPaths = runtime::default_masked_paths();
    spec.linux.readonlyPaths = runtime::default_readonly_paths();
    if (!opts.unmask.empty()) {
      std::erase_if(spec.linux.maskedPaths, [&](const std::string& p) { return unmasked(p, opts.unmask); });
      std::erase_if(spec.linux.readonlyPaths, [&](const std::string& p) { return unmasked(p, opts.unmask); });
    }
  }
  spec.linux.maskedPaths.insert(spec.linux.maskedPaths.end(), opts.mask.begin(), opts.mask.end());
  spec.linux.sysctl = opts.sysctl;
  return spec;
}

void apply_seccomp(const store::Paths& paths, const RunOptions& opts, runtime::Spec& spec) {
  if (opts.privileged || opts.seccomp == SeccompMode::kUnconfined) return;
  std::string file_text;
  std::string_view profile = default_seccomp_profile();
  if (opts.seccomp == SeccompMode::kProfile) {
    auto text = read_file_if_exists(opts.seccomp_profile);
    if (!text) throw Error(fmt::format("seccomp profile {}", opts.seccomp_profile), ENOENT);
    file_text = std::move(*text);
    profile = file_text;
  }
  try {
    spec.seccomp_program = seccomp_program(paths, profile, host_seccomp_target(spec.process.capabilities));
  } catch (const Error& e) {
    if (opts.seccomp == SeccompMode::kProfile)
      throw e.with_context(fmt::format("seccomp profile {}", opts.seccomp_profile));
    throw e.with_context("skiff's default seccomp profile");
  }
}

}  // namespace skiff::engine
