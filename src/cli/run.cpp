// skiff run [OPTIONS] IMAGE [COMMAND [ARG...]], and skiff create (the same
// flags; the container is made, not started).
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <string_view>

#include "cli/run_flags.hpp"
#include "skiff/engine/container_detach.hpp"
#include "skiff/engine/container_run.hpp"
#include "skiff/engine/container_start.hpp"
#include "skiff/engine/run_options_parse.hpp"
#include "skiff/runtime/rlimits.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/signals.hpp"
#include "transfer_progress.hpp"

namespace skiff::cli {

namespace {

// One flag of run: its names as CLI11 spells them, and where its value goes
// (exactly one of flag, value, optional, list).
struct FlagDef {
  const char* names;
  const char* help;
  const char* type = nullptr;
  bool& (*flag)(RunFlags&) = nullptr;
  std::string& (*value)(RunFlags&) = nullptr;
  std::optional<std::string>& (*optional)(RunFlags&) = nullptr;
  std::vector<std::string>& (*list)(RunFlags&) = nullptr;  // one value per occurrence
  void (*seen)(RunFlags&) = nullptr;                       // after each value
};

using F = RunFlags&;
const FlagDef kRunFlags[] = {
    {.names = "--rm", .help = "remove the container when it exits", .flag = [](F f) -> bool& { return f.opts.remove; }},
    {.names = "-d,--detach",
     .help = "run the container in the background and print its ID",
     .flag = [](F f) -> bool& { return f.opts.detach; }},
    {.names = "-l,--label",
     .help = "set a label on the container (KEY=VALUE)",
     .type = "KEY=VALUE",
     .list = [](F f) -> std::vector<std::string>& { return f.labels; }},
    {.names = "--label-file",
     .help = "read labels from a file of KEY=VALUE lines",
     .type = "FILE",
     .list = [](F f) -> std::vector<std::string>& { return f.label_files; }},
    {.names = "--cidfile",
     .help = "write the container's ID to a new file",
     .type = "FILE",
     .value = [](F f) -> std::string& { return f.opts.cidfile; }},
    {.names = "--restart",
     .help = "restart policy: no, on-failure[:N], always or unless-stopped",
     .type = "POLICY",
     .value = [](F f) -> std::string& { return f.restart; }},
    {.names = "--stop-signal",
     .help = "signal that stop sends first (default: the image's STOPSIGNAL, else SIGTERM)",
     .type = "SIGNAL",
     .value = [](F f) -> std::string& { return f.stop_signal; }},
    {.names = "--stop-timeout",
     .help = "seconds stop waits before SIGKILL (default 10)",
     .type = "SECONDS",
     .value = [](F f) -> std::string& { return f.stop_timeout; }},
    {.names = "--log-opt",
     .help = "log option of a detached container: max-size=SIZE (default 10m)",
     .type = "OPT",
     .list = [](F f) -> std::vector<std::string>& { return f.log_opts; }},
    {.names = "-e,--env",
     .help = "set an environment variable (NAME=VALUE, or NAME to pass the host's)",
     .type = "NAME[=VALUE]",
     .list = [](F f) -> std::vector<std::string>& { return f.env; }},
    {.names = "--env-file",
     .help = "read environment variables from a file",
     .type = "FILE",
     .list = [](F f) -> std::vector<std::string>& { return f.env_files; }},
    {.names = "-w,--workdir",
     .help = "working directory inside the container",
     .type = "DIR",
     .optional = [](F f) -> std::optional<std::string>& { return f.opts.workdir; }},
    {.names = "-u,--user",
     .help = "user[:group] to run as (name or number)",
     .type = "USER",
     .optional = [](F f) -> std::optional<std::string>& { return f.opts.user; }},
    {.names = "-v,--volume",
     .help = "bind mount HOST-DIR:CONTAINER-DIR[:ro|rw]",
     .type = "VOLUME",
     .list = [](F f) -> std::vector<std::string>& { return f.volumes; }},
    {.names = "--mount",
     .help = "type=bind|tmpfs,... mount",
     .type = "MOUNT",
     .list = [](F f) -> std::vector<std::string>& { return f.mounts; }},
    {.names = "--tmpfs",
     .help = "mount a tmpfs at DIR[:OPTIONS]",
     .type = "DIR",
     .list = [](F f) -> std::vector<std::string>& { return f.tmpfs; }},
    {.names = "--name", .help = "name the container", .value = [](F f) -> std::string& { return f.opts.name; }},
    {.names = "-h,--hostname",
     .help = "the container's host name",
     .value = [](F f) -> std::string& { return f.opts.hostname; }},
    {.names = "--entrypoint",
     .help = "override the image's entrypoint",
     .type = "CMD",
     .value = [](F f) -> std::string& { return f.entrypoint; },
     .seen = [](F f) { f.entrypoint_set = true; }},
    {.names = "-i,--interactive",
     .help = "keep standard input open",
     .flag = [](F f) -> bool& { return f.opts.interactive; }},
    {.names = "-t,--tty", .help = "allocate a pseudo-terminal", .flag = [](F f) -> bool& { return f.opts.tty; }},
    {.names = "--read-only",
     .help = "mount the root file system read-only",
     .flag = [](F f) -> bool& { return f.opts.read_only; }},
    {.names = "--network,--net",
     .help = "network: slirp4netns[:OPTIONS] (the default), pasta[:OPTIONS], none or host",
     .type = "MODE",
     .value = [](F f) -> std::string& { return f.network; }},
    {.names = "-p,--publish",
     .help = "publish a container port on the host: [hostIP:][hostPort:]containerPort[/tcp|udp]",
     .type = "PORT",
     .list = [](F f) -> std::vector<std::string>& { return f.publish; }},
    {.names = "-P,--publish-all",
     .help = "publish every port the image exposes on a free host port",
     .flag = [](F f) -> bool& { return f.opts.publish_all; }},
    {.names = "--dns",
     .help = "a DNS server for the container's resolv.conf",
     .type = "IP",
     .list = [](F f) -> std::vector<std::string>& { return f.opts.dns.servers; }},
    {.names = "--dns-search",
     .help = "a DNS search domain (. for none)",
     .type = "DOMAIN",
     .list = [](F f) -> std::vector<std::string>& { return f.opts.dns.search; }},
    {.names = "--dns-option",
     .help = "a resolv.conf option (ndots:2, ...)",
     .type = "OPT",
     .list = [](F f) -> std::vector<std::string>& { return f.opts.dns.options; }},
    {.names = "--add-host",
     .help = "add NAME:IP (or NAME:host-gateway) to /etc/hosts",
     .type = "NAME:IP",
     .list = [](F f) -> std::vector<std::string>& { return f.add_hosts; }},
    {.names = "--init",
     .help = "run an init as PID 1 that forwards signals and reaps zombies",
     .flag = [](F f) -> bool& { return f.opts.init; }},
    {.names = "--cap-add",
     .help = "add a capability (CAP_NAME, NAME or ALL)",
     .type = "CAP",
     .list = [](F f) -> std::vector<std::string>& { return f.cap_add; }},
    {.names = "--cap-drop",
     .help = "drop a capability (CAP_NAME, NAME or ALL)",
     .type = "CAP",
     .list = [](F f) -> std::vector<std::string>& { return f.cap_drop; }},
    {.names = "--privileged",
     .help = "every capability of the user namespace, no masked or read-only paths",
     .flag = [](F f) -> bool& { return f.opts.privileged; }},
    {.names = "--security-opt",
     .help = "no-new-privileges, mask=PATHS, unmask=PATHS|ALL, seccomp=unconfined, ...",
     .type = "OPT",
     .list = [](F f) -> std::vector<std::string>& { return f.security_opts; }},
    {.names = "--sysctl",
     .help = "set a namespaced kernel parameter (kernel.shm_rmid_forced=1, net.ipv4.ip_forward=1, ...)",
     .type = "KEY=VALUE",
     .list = [](F f) -> std::vector<std::string>& { return f.sysctls; }},
    {.names = "--ulimit",
     .help = "set a resource limit (nofile=1024:2048; -1 or unlimited for none)",
     .type = "NAME=SOFT[:HARD]",
     .list = [](F f) -> std::vector<std::string>& { return f.ulimits; }},
    {.names = "--preserve-fds",
     .help = "pass the caller's file descriptors 3 to 3+N-1 to the container",
     .type = "N",
     .value = [](F f) -> std::string& { return f.preserve_fds; }},
    {.names = "--userns",
     .help = "user namespace mode: keep-id",
     .type = "MODE",
     .value = [](F f) -> std::string& { return f.userns; }},
    {.names = "-m,--memory",
     .help = "memory limit (needs cgroup v2 delegation)",
     .type = "BYTES",
     .value = [](F f) -> std::string& { return f.memory; }},
    {.names = "--cpus",
     .help = "CPU limit (needs cgroup v2 delegation)",
     .type = "N",
     .value = [](F f) -> std::string& { return f.cpus; }},
    {.names = "--pids-limit",
     .help = "process limit (needs cgroup v2 delegation)",
     .type = "N",
     .value = [](F f) -> std::string& { return f.pids_limit; }},
    {.names = "--pull",
     .help = "pull the image first: missing (default), always or never",
     .type = "POLICY",
     .value = [](F f) -> std::string& { return f.pull; }},
};

void configure(CLI::App* run, CliContext& ctx, bool create = false) {
  auto flags = std::make_shared<RunFlags>();
  add_run_flags(run, *flags);
  flags->create = create;
  run->callback([flags, &ctx] { ctx.exit_code = run_from_flags(*flags, ctx); });
}

// The flag argv names ("--env", "-e"), or nullptr.
const FlagDef* find_flag(std::string_view name) {
  for (const auto& def : kRunFlags) {
    std::string_view names = def.names;
    while (!names.empty()) {
      size_t comma = names.find(',');
      if (names.substr(0, comma) == name) return &def;
      if (comma == std::string_view::npos) break;
      names.remove_prefix(comma + 1);
    }
  }
  return nullptr;
}

// Stores one value; false where CLI11 would complain or decide otherwise
// (a second value for a single-valued flag).
bool store(const FlagDef& def, RunFlags& f, std::string_view v, std::vector<const FlagDef*>& given) {
  if (!def.list) {
    if (std::find(given.begin(), given.end(), &def) != given.end()) return false;
    given.push_back(&def);
  }
  if (def.list)
    def.list(f).emplace_back(v);
  else if (def.value)
    def.value(f).assign(v);
  else
    def.optional(f).emplace(v);
  if (def.seen) def.seen(f);
  return true;
}

// podman's check, in its words: every fd --preserve-fds passes on must come
// from the caller. An fd skiff opened itself is close-on-exec (all of its
// fds are), which an fd inherited across exec cannot be.
void check_inherited_fds(int n) {
  for (int fd = 3; fd < 3 + n; ++fd) {
    int flags = fcntl(fd, F_GETFD);
    if (flags < 0 || (flags & FD_CLOEXEC) != 0)
      throw Error(
          fmt::format("file descriptor {} is not available - the preserve-fds option requires that file "
                      "descriptors must be passed",
                      fd));
  }
}

}  // namespace

void add_run_flags(CLI::App* run, RunFlags& flags) {
  run->set_help_flag("--help", "show this help");
  run->positionals_at_end();  // everything after IMAGE belongs to the command
  for (const auto& def : kRunFlags) {
    CLI::Option* o;
    if (def.flag) {
      o = run->add_flag(def.names, def.flag(flags), def.help);
    } else if (def.list) {
      o = run->add_option(def.names, def.list(flags), def.help)->allow_extra_args(false);
    } else if (def.value) {
      o = run->add_option(def.names, def.value(flags), def.help);
    } else {
      o = run->add_option(def.names, def.optional(flags), def.help);
    }
    if (def.type) o->type_name(def.type);
    if (def.seen) o->each([&flags, seen = def.seen](const std::string&) { seen(flags); });
  }
  run->add_option("image", flags.positional, "IMAGE [COMMAND [ARG...]]")->required()->type_name("IMAGE");
}

void add_global_options(CLI::App& app, CliContext& ctx) {
  app.add_option("--root", ctx.root, "persistent storage (default $XDG_DATA_HOME/skiff)")
      ->envname("SKIFF_ROOT")
      ->type_name("DIR");
  app.add_option("--runroot", ctx.runroot, "volatile state: locks (default $XDG_RUNTIME_DIR/skiff)")
      ->envname("SKIFF_RUNROOT")
      ->type_name("DIR");
}

std::optional<RunFlags> parse_run_fast(int argc, char** argv, CliContext& ctx) {
  CliContext c;
  bool root_given = false, runroot_given = false;
  int i = 1;
  // skiff's own options, then the command.
  for (;; ++i) {
    if (i >= argc) return std::nullopt;
    std::string_view a = argv[i];
    bool root = a == "--root" || a.rfind("--root=", 0) == 0;
    bool runroot = a == "--runroot" || a.rfind("--runroot=", 0) == 0;
    if (!root && !runroot) break;
    if ((root && root_given) || (runroot && runroot_given)) return std::nullopt;
    std::string_view v;
    if (size_t eq = a.find('='); eq != std::string_view::npos) {
      v = a.substr(eq + 1);
    } else {
      if (i + 1 >= argc || argv[i + 1][0] == '-') return std::nullopt;
      v = argv[++i];
    }
    (root ? c.root : c.runroot).assign(v);
    (root ? root_given : runroot_given) = true;
  }
  std::string_view word = argv[i];
  if (word == "container" && i + 1 < argc && std::string_view(argv[i + 1]) == "run")
    ++i;
  else if (word != "run")
    return std::nullopt;
  ++i;

  RunFlags f;
  std::vector<const FlagDef*> given;
  for (; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a.size() < 2 || a[0] != '-') break;  // IMAGE
    if (a == "--") return std::nullopt;
    if (a[1] == '-') {
      size_t eq = a.find('=');
      const FlagDef* def = find_flag(a.substr(0, eq));
      if (!def) return std::nullopt;
      if (def->flag) {
        if (eq != std::string_view::npos) return std::nullopt;
        def->flag(f) = true;
        continue;
      }
      std::string_view v;
      if (eq != std::string_view::npos) {
        v = a.substr(eq + 1);
      } else {
        if (i + 1 >= argc || argv[i + 1][0] == '-') return std::nullopt;
        v = argv[++i];
      }
      if (!store(*def, f, v, given)) return std::nullopt;
      continue;
    }
    // -x, -xy (flags together), -x VALUE, -xVALUE
    const FlagDef* def = find_flag(a.substr(0, 2));
    if (!def) return std::nullopt;
    if (def->flag) {
      for (char letter : a.substr(1)) {
        char name[3] = {'-', letter, '\0'};
        const FlagDef* d = find_flag(name);
        if (!d || !d->flag) return std::nullopt;
        d->flag(f) = true;
      }
      continue;
    }
    std::string_view v;
    if (a.size() > 2) {
      v = a.substr(2);
      if (v[0] == '=') return std::nullopt;
    } else {
      if (i + 1 >= argc || argv[i + 1][0] == '-') return std::nullopt;
      v = argv[++i];
    }
    if (!store(*def, f, v, given)) return std::nullopt;
  }
  if (i >= argc) return std::nullopt;  // no IMAGE: CLI11 says so
  f.positional.assign(argv + i, argv + argc);
  // CLI11 reads an environment variable for an option not given.
  for (auto [given_flag, value, env] :
       {std::tuple{root_given, &c.root, "SKIFF_ROOT"}, std::tuple{runroot_given, &c.runroot, "SKIFF_RUNROOT"}}) {
    if (given_flag) continue;
    if (const char* e = getenv(env); e && *e) value->assign(e);
  }
  ctx.root = std::move(c.root);
  ctx.runroot = std::move(c.runroot);
  return f;
}

int run_from_flags(RunFlags& f, CliContext& ctx) {
  auto& ro = f.opts;
  for (auto* limit : {&f.memory, &f.cpus, &f.pids_limit})
    if (!limit->empty() && access("/sys/fs/cgroup/cgroup.subtree_control", W_OK) == 0)
      throw Error("skiff does not set resource limits (--memory, --cpus, --pids-limit) yet");
    else if (!limit->empty())
      throw Error(
          "resource limits need cgroup v2 with controllers delegated to your user, which this host "
          "does not provide",
          0, "ask the administrator to enable cgroup v2 delegation (systemd user slices)");
  ro.image = f.positional.front();
  ro.command.assign(f.positional.begin() + 1, f.positional.end());
  if (f.entrypoint_set) ro.entrypoint = f.entrypoint;
  for (const auto& file : f.env_files) engine::read_env_file(file, ro.env);
  for (const auto& e : f.env)
    if (auto v = engine::parse_env(e)) ro.env.push_back(*v);
  for (const auto& v : f.volumes) ro.volumes.push_back(engine::parse_volume(v));
  for (const auto& m : f.mounts) engine::parse_mount(m, ro);
  for (const auto& t : f.tmpfs) ro.tmpfs.push_back(engine::parse_tmpfs(t));
  for (const auto& c : f.cap_add) ro.cap_add.push_back(engine::parse_capability(c));
  for (const auto& c : f.cap_drop) ro.cap_drop.push_back(engine::parse_capability(c));
  for (const auto& o : f.security_opts) engine::parse_security_opt(o, ro);
  ro.network = engine::parse_network_mode(f.network, &ro.network_options);
  for (const auto& p : f.publish) {
    auto ports = net::parse_publish(p);
    ro.ports.insert(ro.ports.end(), ports.begin(), ports.end());
  }
  engine::check_network_flags(ro, f.add_hosts);
  for (const auto& s : f.sysctls) engine::parse_sysctl(s, ro.network, ro);
  for (const auto& text : f.ulimits) {
    auto u = engine::parse_ulimit(text);
    // The container's process starts with skiff's limits, and raising a
    // hard one needs CAP_SYS_RESOURCE in the host's user namespace: said
    // here, before anything of the container is made.
    rlimit own{};
    if (getrlimit(static_cast<__rlimit_resource_t>(*runtime::rlimit_number(u.type)), &own) == 0)
      engine::check_ulimit_allowed(text, u, own.rlim_max);
    std::erase_if(ro.ulimits, [&](const engine::UlimitOption& o) { return o.type == u.type; });
    ro.ulimits.push_back(std::move(u));
  }
  if (!f.preserve_fds.empty()) {
    ro.preserve_fds = engine::parse_preserve_fds(f.preserve_fds);
    check_inherited_fds(ro.preserve_fds);
  }
  if (ro.tty && !isatty(STDIN_FILENO) && ro.interactive && !ro.detach && !f.create)
    throw Error("the input device is not a TTY", 0, "drop -t, or run skiff from a terminal");
  ro.userns = engine::parse_userns(f.userns);
  ro.pull = engine::parse_pull_policy(f.pull);
  if (!f.stop_signal.empty()) {
    auto sig = parse_signal(f.stop_signal);
    if (!sig) throw Error(fmt::format("invalid --stop-signal {:?}: not a signal name or number", f.stop_signal));
    ro.stop_signal = *sig;
  }
  if (!f.stop_timeout.empty()) ro.stop_timeout = engine::parse_stop_timeout(f.stop_timeout);
  for (const auto& o : f.log_opts) ro.log_max_size = engine::parse_log_opt(o);
  for (const auto& file : f.label_files) engine::read_label_file(file, ro.labels);
  for (const auto& l : f.labels) engine::parse_label(l, ro.labels);
  if (!f.restart.empty()) ro.restart = engine::parse_restart_policy(f.restart);
  if (f.create) {
    auto pull_events = make_transfer_progress(stderr);
    ro.pull_events = pull_events.get();
    fmt::print("{}\n", engine::create_container(ctx.paths(), ro));
    return 0;
  }
  if (ro.detach) {
    engine::Detached d = engine::run_detached(ctx.paths(), ro);
    if (!d.in_monitor && !d.id.empty()) fmt::print("{}\n", d.id);
    return d.status;
  }
  // Progress goes to stderr, so that stdout carries only the command's output.
  auto pull_events = make_transfer_progress(stderr);
  ro.pull_events = pull_events.get();
  return engine::run_container(ctx.paths(), ro);
}

void add_run_command(CLI::App& app, CliContext& ctx) {
  configure(app.add_subcommand("run", "run a command in a new container"), ctx);
  configure(app.add_subcommand("create", "create a new container without starting it"), ctx, /*create=*/true);
}

// `skiff container run` and `container create` share the same flags.
void add_container_run(CLI::App& container, CliContext& ctx) {
  configure(container.add_subcommand("run", "run a command in a new container"), ctx);
  configure(container.add_subcommand("create", "create a new container without starting it"), ctx, /*create=*/true);
}

}  // namespace skiff::cli
