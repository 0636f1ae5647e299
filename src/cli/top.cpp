// skiff top, pause and unpause (and their `container` forms).
#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cli_context.hpp"
#include "each_container.hpp"
#include "format_table.hpp"
#include "ps_output.hpp"
#include "skiff/engine/container_pause.hpp"
#include "skiff/engine/container_top.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/unique_fd.hpp"

extern char** environ;

namespace skiff::cli {

namespace {

// What one run of ps gave.
struct PsRun {
  int status = 0;  // its exit status; 127 when it could not be started
  std::string out;
  std::string first_error_line;  // of its stderr
};

// Reads fd to its end.
std::string read_to_end(int fd) {
  std::string text;
  char buf[16384];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  return text;
}

// Runs the host's ps with args, its stdout through a pipe and its stderr
// into a memory file (read once it has exited: no pipe to fill while
// skiff reads the other). Throws when there is no ps.
PsRun run_ps(const std::vector<std::string>& args) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) throw_errno("pipe");
  UniqueFd out_r(out[0]), out_w(out[1]);
  UniqueFd err(memfd_create("ps-stderr", MFD_CLOEXEC));
  if (!err) throw_errno("memfd_create");
  std::vector<char*> argv{const_cast<char*>("ps")};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out_w.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&fa, err.get(), STDERR_FILENO);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, "ps", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc == ENOENT) throw Error("top runs the host's ps, which is not installed (Debian's package procps)");
  if (rc != 0) throw Error("cannot run ps", rc);
  out_w.reset();
  PsRun run;
  run.out = read_to_end(out_r.get());
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  lseek(err.get(), 0, SEEK_SET);
  std::string text = read_to_end(err.get());
  run.first_error_line = text.substr(0, text.find('\n'));
  return run;
}

void configure_top(CLI::App* cmd, CliContext& ctx) {
  auto words = std::make_shared<std::vector<std::string>>();
  cmd->set_help_flag("--help", "show this help");
  cmd->positionals_at_end();  // everything after CONTAINER goes to ps
  cmd->add_option("container", *words, "CONTAINER [ps OPTIONS]")->required()->type_name("CONTAINER");
  cmd->callback([words, &ctx] {
    std::vector<std::string> args = ps_arguments({words->begin() + 1, words->end()});
    std::vector<pid_t> pids = engine::container_pids(ctx.paths(), words->front());
    // As docker: ps is asked for the container's processes only (-q), and
    // asked again without -q when its options refuse it (f, forest).
    std::string quick = "-q";
    for (pid_t p : pids) quick += fmt::format("{}{}", quick.size() > 2 ? "," : "", p);
    std::vector<std::string> with_quick = args;
    with_quick.push_back(quick);
    PsRun run = run_ps(with_quick);
    if (run.status != 0) run = run_ps(args);
    if (run.status != 0)
      throw Error(run.first_error_line.empty() ? fmt::format("ps exited with status {}", run.status)
                                               : fmt::format("ps: {}", run.first_error_line));
    PsTable found = filter_ps_output(run.out, pids);
    Table table(found.titles);
    table.set_min_width(20);  // docker's top: a tabwriter of minimum width 20
    for (auto& row : found.rows) table.add(std::move(row));
    table.print();
  });
}

// pause and unpause: fn for each container named.
void configure_pause(CLI::App* cmd, CliContext& ctx, void (*fn)(const store::Paths&, const std::string&)) {
  auto names = std::make_shared<std::vector<std::string>>();
  cmd->add_option("containers", *names, "CONTAINER...")->required();
  cmd->callback([names, fn, &ctx] {
    auto paths = ctx.paths();
    for_each_container(ctx, *names, [&](const std::string& n) {
      fn(paths, n);
      fmt::print("{}\n", n);
    });
  });
}

void add_top_family(CLI::App& app, CliContext& ctx) {
  configure_top(app.add_subcommand("top", "show the processes of a running container"), ctx);
  configure_pause(app.add_subcommand("pause", "pause the processes of running containers (not supported)"), ctx,
                  engine::pause_container);
  configure_pause(app.add_subcommand("unpause", "resume the processes of paused containers (not supported)"), ctx,
                  engine::unpause_container);
}

}  // namespace

void add_top_commands(CLI::App& app, CliContext& ctx) {
  add_top_family(app, ctx);
  auto found = app.get_subcommands([](const CLI::App* s) { return s->get_name() == "container"; });
  if (!found.empty()) add_top_family(*found.front(), ctx);
}

}  // namespace skiff::cli
