// skiff cp | container cp [OPTIONS] SRC DEST: one side CONTAINER:PATH, the
// other a host path or "-" (a tar stream).
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cli_context.hpp"
#include "format_table.hpp"
#include "skiff/engine/container_copy.hpp"
#include "skiff/util/error.hpp"

namespace skiff::cli {

namespace {

struct CpFlags {
  engine::CopyOptions opts;
  std::vector<std::string> positional;
  bool quiet = false;
};

void configure_cp(CLI::App* cmd, CliContext& ctx) {
  auto f = std::make_shared<CpFlags>();
  cmd->set_help_flag("--help", "show this help");
  cmd->add_flag("-a,--archive", f->opts.archive, "keep the source's owners (uid and gid) in the container");
  cmd->add_flag("-L,--follow-link", f->opts.follow_link, "follow a symlink given as source");
  cmd->add_flag("-q,--quiet", f->quiet, "do not print what was copied (it is printed only to a terminal)");
  cmd->add_option("paths", f->positional, "SRC_PATH DEST_PATH")->required()->type_name("PATH");
  cmd->callback([f, &ctx] {
    if (f->positional.size() != 2)
      throw Error("cp needs a source and a destination", 0,
                  "skiff cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-, or SRC_PATH|- CONTAINER:DEST_PATH");
    f->opts.src = f->positional[0];
    f->opts.dest = f->positional[1];
    engine::CopyResult r = engine::copy_files(ctx.paths(), f->opts);
    // As docker: a line for whoever watches a terminal, none in scripts.
    if (!f->quiet && !r.dest.empty() && isatty(STDERR_FILENO))
      fmt::print(stderr, "Successfully copied {} to {}\n", human_size(r.bytes), r.dest);
  });
}

}  // namespace

void add_cp_commands(CLI::App& app, CliContext& ctx) {
  configure_cp(app.add_subcommand("cp", "copy files between a container and the host"), ctx);
  auto found = app.get_subcommands([](const CLI::App* s) { return s->get_name() == "container"; });
  if (!found.empty())
    configure_cp(found.front()->add_subcommand("cp", "copy files between a container and the host"), ctx);
}

}  // namespace skiff::cli
