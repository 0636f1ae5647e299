// skiff exec | container exec [OPTIONS] CONTAINER COMMAND [ARG...]
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cli_context.hpp"
#include "skiff/engine/container_exec.hpp"
#include "skiff/engine/run_options_parse.hpp"
#include "skiff/util/error.hpp"

namespace skiff::cli {

namespace {

struct ExecFlags {
  engine::ExecOptions opts;
  std::vector<std::string> env, env_files, positional;
};

void configure_exec(CLI::App* cmd, CliContext& ctx) {
  auto f = std::make_shared<ExecFlags>();
  cmd->set_help_flag("--help", "show this help");
  cmd->positionals_at_end();  // everything after CONTAINER belongs to the command
  cmd->add_flag("-i,--interactive", f->opts.interactive, "keep standard input open");
  cmd->add_flag("-t,--tty", f->opts.tty, "allocate a terminal");
  cmd->add_flag("-d,--detach", f->opts.detach, "run the command in the background");
  cmd->add_option("-e,--env", f->env, "set an environment variable (NAME=VALUE, or NAME to pass the host's)")
      ->allow_extra_args(false)
      ->type_name("NAME[=VALUE]");
  cmd->add_option("--env-file", f->env_files, "read environment variables from a file")
      ->allow_extra_args(false)
      ->type_name("FILE");
  cmd->add_option("-u,--user", f->opts.user, "user[:group] to run as (name or number)")->type_name("USER");
  cmd->add_option("-w,--workdir", f->opts.workdir, "working directory inside the container")->type_name("DIR");
  cmd->add_flag("--privileged", f->opts.privileged, "give the command every capability and no seccomp filter");
  cmd->add_option("container", f->positional, "CONTAINER COMMAND [ARG...]")->required()->type_name("CONTAINER");
  cmd->callback([f, &ctx] {
    if (f->positional.size() < 2)
      throw Error("exec needs a container and a command", 0, "skiff exec [OPTIONS] CONTAINER COMMAND [ARG...]");
    engine::ExecOptions& o = f->opts;
    o.container = f->positional.front();
    o.args.assign(f->positional.begin() + 1, f->positional.end());
    for (const auto& file : f->env_files) engine::read_env_file(file, o.env);
    for (const auto& e : f->env)
      if (auto v = engine::parse_env(e)) o.env.push_back(*v);
    if (o.tty && o.interactive && !o.detach && !isatty(STDIN_FILENO))
      throw Error("the input device is not a TTY", 0, "drop -t, or run skiff from a terminal");
    ctx.exit_code = engine::exec_in_container(ctx.paths(), o);
  });
}

}  // namespace

void add_exec_command(CLI::App& app, CliContext& ctx) {
  configure_exec(app.add_subcommand("exec", "run a command in a running container"), ctx);
}

void add_container_exec(CLI::App& container, CliContext& ctx) {
  configure_exec(container.add_subcommand("exec", "run a command in a running container"), ctx);
}

}  // namespace skiff::cli
