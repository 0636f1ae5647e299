// skiff run [OPTIONS] IMAGE [COMMAND [ARG...]]
#include <CLI/CLI.hpp>

#include "cli_context.hpp"
#include "skiff/engine/container_run.hpp"
#include "skiff/engine/run_options_parse.hpp"
#include "skiff/util/error.hpp"
#include "transfer_progress.hpp"

namespace skiff::cli {

namespace {

struct RunFlags {
  engine::RunOptions opts;
  std::vector<std::string> positional;  // IMAGE COMMAND...
  std::vector<std::string> env, env_files, volumes, mounts, tmpfs;
  std::string entrypoint;
  bool entrypoint_set = false;
  std::string memory, cpus, pids_limit;
};

void configure(CLI::App* run, CliContext& ctx) {
  auto flags = std::make_shared<RunFlags>();
  run->set_help_flag("--help", "show this help");
  run->positionals_at_end();  // everything after IMAGE belongs to the command
  auto& o = flags->opts;
  run->add_flag("--rm", o.remove, "remove the container when it exits");
  run->add_option("-e,--env", flags->env, "set an environment variable (NAME=VALUE, or NAME to pass the host's)")
      ->type_name("NAME[=VALUE]")->allow_extra_args(false);
  run->add_option("--env-file", flags->env_files, "read environment variables from a file")->type_name("FILE")
      ->allow_extra_args(false);
  run->add_option("-w,--workdir", o.workdir, "working directory inside the container")->type_name("DIR");
  run->add_option("-u,--user", o.user, "user[:group] to run as (name or number)")->type_name("USER");
  run->add_option("-v,--volume", flags->volumes, "bind mount HOST-DIR:CONTAINER-DIR[:ro|rw]")->type_name("VOLUME")
      ->allow_extra_args(false);
  run->add_option("--mount", flags->mounts, "type=bind|tmpfs,... mount")->type_name("MOUNT")->allow_extra_args(false);
  run->add_option("--tmpfs", flags->tmpfs, "mount a tmpfs at DIR[:OPTIONS]")->type_name("DIR")->allow_extra_args(false);
  run->add_option("--name", o.name, "name the container");
  run->add_option("-h,--hostname", o.hostname, "the container's host name");
  run->add_option("--entrypoint", flags->entrypoint, "override the image's entrypoint")->type_name("CMD")
      ->each([flags](const std::string&) { flags->entrypoint_set = true; });
  run->add_flag("-i,--interactive", o.interactive, "keep standard input open");
  run->add_flag("-t,--tty", o.tty, "allocate a pseudo-terminal");
  run->add_flag("--read-only", o.read_only, "mount the root file system read-only");
  run->add_option("--network,--net", o.network, "network mode: none or host")->type_name("MODE");
  run->add_flag("--init", o.init, "run an init as PID 1 that forwards signals and reaps zombies");
  run->add_option("--userns", o.userns, "user namespace mode: keep-id")->type_name("MODE");
  run->add_option("-m,--memory", flags->memory, "memory limit (needs cgroup v2 delegation)")->type_name("BYTES");
  run->add_option("--cpus", flags->cpus, "CPU limit (needs cgroup v2 delegation)")->type_name("N");
  run->add_option("--pids-limit", flags->pids_limit, "process limit (needs cgroup v2 delegation)")->type_name("N");
  run->add_option("--pull", o.pull, "pull the image first: missing (default), always or never")
      ->type_name("POLICY");
  run->add_option("image", flags->positional, "IMAGE [COMMAND [ARG...]]")->required()->type_name("IMAGE");

  run->callback([flags, &ctx] {
    auto& f = *flags;
    auto& ro = f.opts;
    for (auto* limit : {&f.memory, &f.cpus, &f.pids_limit})
      if (!limit->empty())
        throw Error("resource limits need cgroup v2 with controllers delegated to your user, which this host "
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
    if (ro.tty && !isatty(STDIN_FILENO) && ro.interactive)
      throw Error("the input device is not a TTY", 0, "drop -t, or run skiff from a terminal");
    if (ro.pull != "missing" && ro.pull != "always" && ro.pull != "never" && ro.pull != "newer")
      throw Error(fmt::format("invalid --pull policy {:?}: use missing, always or never", ro.pull));
    // Progress goes to stderr, so that stdout carries only the command's output.
    auto pull_events = make_transfer_progress(stderr);
    ro.pull_events = pull_events.get();
    ctx.exit_code = engine::run_container(ctx.paths(), ro);
  });
}

}  // namespace

void add_run_command(CLI::App& app, CliContext& ctx) {
  configure(app.add_subcommand("run", "run a command in a new container"), ctx);
}

// `skiff container run` shares the same flags.
void add_container_run(CLI::App& container, CliContext& ctx) {
  configure(container.add_subcommand("run", "run a command in a new container"), ctx);
}

}  // namespace skiff::cli
