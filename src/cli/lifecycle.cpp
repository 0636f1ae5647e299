// skiff start, restart, attach, stop, kill, wait and logs (and their `container`
// forms): the commands for containers that run detached.
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <deque>

#include "cli_context.hpp"
#include "each_container.hpp"
#include "skiff/engine/container_attach.hpp"
#include "skiff/engine/container_signal.hpp"
#include "skiff/engine/container_start.hpp"
#include "skiff/engine/container_store.hpp"
#include "skiff/engine/run_options_parse.hpp"
#include "skiff/runtime/container_log.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/signals.hpp"
#include "skiff/util/time.hpp"

namespace skiff::cli {

namespace {

int signal_or_throw(const std::string& text) {
  auto sig = parse_signal(text);
  if (!sig) throw Error(fmt::format("invalid signal {:?}: not a signal name or number", text));
  return *sig;
}

// start and restart: each container named, in order, as for_each_container
// does; but start forks a monitor per container, and a monitor that has
// run its container ends here (an error in it is its own, not this loop's).
template <typename Fn>
void start_each(CliContext& ctx, const std::vector<std::string>& names, Fn start) {
  const pid_t command = getpid();
  for (const auto& n : names) {
    try {
      engine::Detached d = start(n);
      if (d.in_monitor) {
        ctx.exit_code = d.status;
        return;
      }
      if (d.id.empty()) {
        ctx.exit_code = kExitSkiffError;  // the monitor said why
        continue;
      }
      fmt::print("{}\n", n);
      std::fflush(stdout);
    } catch (const Error& e) {
      if (getpid() != command) throw;
      std::fflush(stdout);
      fmt::print(stderr, "skiff: {}\n", e.what());
      ctx.exit_code = kExitSkiffError;
    }
  }
}

void configure_start(CLI::App* cmd, CliContext& ctx) {
  struct Flags {
    bool attach = false, interactive = false;
    std::vector<std::string> names;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_flag("-a,--attach", f->attach, "attach to the container's output and wait for it to exit");
  cmd->add_flag("-i,--interactive", f->interactive, "attach the container's standard input");
  cmd->add_option("containers", f->names, "CONTAINER...")->required();
  cmd->callback([f, &ctx] {
    auto paths = ctx.paths();
    if (f->attach || f->interactive) {
      if (f->names.size() > 1) throw Error("you cannot start and attach multiple containers at once");
      engine::Detached d = engine::start_container(paths, f->names[0], /*attach=*/true, f->interactive);
      if (!d.in_monitor && d.status == 0 && d.id.empty()) return;
      ctx.exit_code = d.status;
      return;
    }
    start_each(ctx, f->names, [&](const std::string& n) {
      return engine::start_container(paths, n, /*attach=*/false, /*interactive=*/false);
    });
  });
}

void configure_restart(CLI::App* cmd, CliContext& ctx) {
  struct Flags {
    std::string time;
    std::vector<std::string> names;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_option("-t,--time", f->time, "seconds to wait for it to stop before killing it (default: its stop timeout)");
  cmd->add_option("containers", f->names, "CONTAINER...")->required();
  cmd->callback([f, &ctx] {
    int timeout = f->time.empty() ? -1 : engine::parse_stop_timeout(f->time);
    auto paths = ctx.paths();
    start_each(ctx, f->names, [&](const std::string& n) { return engine::restart_container(paths, n, timeout); });
  });
}

void configure_attach(CLI::App* cmd, CliContext& ctx) {
  struct Flags {
    engine::AttachOptions opts;
    std::string sig_proxy = "true";
    std::string name;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_option("--detach-keys", f->opts.detach_keys,
                  "keys that detach, leaving the container running (default ctrl-p,ctrl-q)")
      ->type_name("KEYS");
  cmd->add_flag("--no-stdin", f->opts.no_stdin, "do not attach standard input");
  cmd->add_option("--sig-proxy", f->sig_proxy, "pass the signals skiff gets to the container (default true)")
      ->type_name("BOOL")
      ->expected(0, 1)
      ->default_str("true");
  cmd->add_option("container", f->name, "CONTAINER")->required();
  cmd->callback([f, &ctx] {
    if (f->sig_proxy != "true" && f->sig_proxy != "false" && !f->sig_proxy.empty())
      throw Error(fmt::format("invalid --sig-proxy {:?}: true or false", f->sig_proxy));
    f->opts.sig_proxy = f->sig_proxy != "false";
    ctx.exit_code = engine::attach_container(ctx.paths(), f->name, f->opts);
  });
}

void configure_stop(CLI::App* cmd, CliContext& ctx) {
  struct Flags {
    std::string time, signal;
    std::vector<std::string> names;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_option("-t,--time", f->time, "seconds to wait before killing the container (default: its stop timeout, 10)");
  cmd->add_option("-s,--signal", f->signal, "signal to send first (default: its stop signal, SIGTERM)");
  cmd->add_option("containers", f->names, "CONTAINER...")->required();
  cmd->callback([f, &ctx] {
    int timeout = f->time.empty() ? -1 : engine::parse_stop_timeout(f->time);
    int sig = f->signal.empty() ? 0 : signal_or_throw(f->signal);
    auto paths = ctx.paths();
    for_each_container(ctx, f->names, [&](const std::string& n) {
      engine::stop_container(paths, n, sig, timeout);
      fmt::print("{}\n", n);
    });
  });
}

void configure_kill(CLI::App* cmd, CliContext& ctx) {
  struct Flags {
    std::string signal = "KILL";
    std::vector<std::string> names;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_option("-s,--signal", f->signal, "signal to send (default KILL)");
  cmd->add_option("containers", f->names, "CONTAINER...")->required();
  cmd->callback([f, &ctx] {
    int sig = signal_or_throw(f->signal);
    auto paths = ctx.paths();
    for_each_container(ctx, f->names, [&](const std::string& n) {
      engine::kill_container(paths, n, sig);
      fmt::print("{}\n", n);
    });
  });
}

void configure_wait(CLI::App* cmd, CliContext& ctx) {
  auto names = std::make_shared<std::vector<std::string>>();
  cmd->add_option("containers", *names, "CONTAINER...")->required();
  cmd->callback([names, &ctx] {
    auto paths = ctx.paths();
    for_each_container(ctx, *names,
                       [&](const std::string& n) { fmt::print("{}\n", engine::wait_container(paths, n)); });
  });
}

struct LogsFlags {
  bool follow = false, timestamps = false;
  std::string tail = "all", since, until;
  std::string name;
};

class LogPrinter {
 public:
  LogPrinter(const LogsFlags& f, int64_t since, int64_t until) : f_(f), since_(since), until_(until) {}
  void print(const runtime::LogEntry& e) {
    if (e.time_ns < since_ || (until_ > 0 && e.time_ns > until_)) return;
    FILE* to = e.stream == runtime::LogStream::kStdout ? stdout : stderr;
    if (f_.timestamps) fmt::print(to, "{} ", e.time);
    std::fwrite(e.text.data(), 1, e.text.size(), to);
  }
  void print_all(const std::vector<runtime::LogEntry>& entries) {
    for (const auto& e : entries) print(e);
    std::fflush(stdout);
    std::fflush(stderr);
  }

 private:
  const LogsFlags& f_;
  int64_t since_, until_;
};

void show_logs(const LogsFlags& f, CliContext& ctx) {
  auto paths = ctx.paths();
  engine::ContainerStore containers(paths);
  engine::ContainerView view = containers.resolve(f.name);
  if (!view.record.detached)
    throw Error(
        fmt::format("container {} was not run detached: its output went to the terminal that ran it, "
                    "and skiff kept no log of it",
                    f.name));
  int64_t now = now_ns();
  auto time_point = [&](const std::string& text, const char* flag) -> int64_t {
    if (text.empty()) return 0;
    auto t = parse_time_point_ns(text, now);
    if (!t)
      throw Error(
          fmt::format("invalid {} {:?}: expected a time (2026-12-07T10:00:00Z), a Unix time or a "
                      "duration (10m, 1h30m)",
                      flag, text));
    return *t;
  };
  int64_t since = time_point(f.since, "--since");
  int64_t until = time_point(f.until, "--until");
  long tail = -1;
  if (f.tail != "all" && f.tail != "-1") {
    char* end = nullptr;
    tail = std::strtol(f.tail.c_str(), &end, 10);
    if (f.tail.empty() || *end || tail < 0)
      throw Error(fmt::format("invalid --tail {:?}: expected a number of lines or all", f.tail));
  }
  // Followed: watched from before the first read, so nothing written
  // between the two is missed.
  UniqueFd watch;
  UniqueFd runner;
  if (f.follow) {
    watch.reset(inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (!watch) throw_errno("inotify_init1");
    inotify_add_watch(watch.get(), containers.dir(view.record.id).c_str(), IN_MODIFY | IN_CREATE | IN_MOVED_TO);
    runner = engine::open_runner(containers, view);
  }
  runtime::LogReader reader(containers.log_path(view.record.id));
  LogPrinter printer(f, since, until);
  std::vector<runtime::LogEntry> first = runner ? reader.read_new() : reader.finish();
  if (tail >= 0 && first.size() > static_cast<size_t>(tail)) first.erase(first.begin(), first.end() - tail);
  printer.print_all(first);
  while (runner) {
    pollfd fds[2] = {{watch.get(), POLLIN, 0}, {runner.get(), POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      throw_errno("poll");
    }
    char events[4096];
    while (read(watch.get(), events, sizeof events) > 0) {
    }
    if (fds[1].revents & POLLIN) break;  // its monitor is gone: nothing more will be written
    printer.print_all(reader.read_new());
  }
  if (f.follow) printer.print_all(reader.finish());
}

void configure_logs(CLI::App* cmd, CliContext& ctx) {
  auto f = std::make_shared<LogsFlags>();
  cmd->add_flag("-f,--follow", f->follow, "follow the log until the container exits");
  cmd->add_flag("-t,--timestamps", f->timestamps, "show each line's time");
  cmd->add_option("-n,--tail", f->tail, "lines to show from the end (default all)");
  cmd->add_option("--since", f->since, "show lines since a time or a duration ago (10m)");
  cmd->add_option("--until", f->until, "show lines until a time or a duration ago");
  cmd->add_option("container", f->name, "CONTAINER")->required();
  cmd->callback([f, &ctx] { show_logs(*f, ctx); });
}

void add_lifecycle(CLI::App& app, CliContext& ctx) {
  configure_start(app.add_subcommand("start", "start stopped or created containers"), ctx);
  configure_restart(app.add_subcommand("restart", "restart containers"), ctx);
  configure_attach(app.add_subcommand("attach", "attach to a detached container's input and output"), ctx);
  configure_stop(app.add_subcommand("stop", "stop running containers"), ctx);
  configure_kill(app.add_subcommand("kill", "send a signal to running containers"), ctx);
  configure_wait(app.add_subcommand("wait", "wait for containers to exit and print their exit codes"), ctx);
  configure_logs(app.add_subcommand("logs", "show a detached container's output"), ctx);
}

}  // namespace

void add_lifecycle_commands(CLI::App& app, CliContext& ctx) {
  add_lifecycle(app, ctx);
}

void add_container_lifecycle(CLI::App& container, CliContext& ctx) {
  add_lifecycle(container, ctx);
}

}  // namespace skiff::cli
