#include "cli/run_flags.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <stdlib.h>

#include <CLI/CLI.hpp>
#include <catch2/catch.hpp>

using skiff::cli::CliContext;
using skiff::cli::RunFlags;

namespace {

struct Parsed {
  RunFlags flags;
  CliContext ctx;
};

std::vector<char*> argv_of(std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return argv;
}

// As main() parses with CLI11, without running anything.
std::optional<Parsed> by_cli11(std::vector<std::string> args) {
  Parsed p;
  CLI::App app;
  app.require_subcommand(1);
  app.fallthrough();
  skiff::cli::add_global_options(app, p.ctx);
  skiff::cli::add_run_flags(app.add_subcommand("run"), p.flags);
  skiff::cli::add_run_flags(app.add_subcommand("container")->add_subcommand("run"), p.flags);
  auto argv = argv_of(args);
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::Error&) {
    return std::nullopt;
  }
  return p;
}

std::optional<Parsed> by_fast_path(std::vector<std::string> args) {
  Parsed p;
  auto argv = argv_of(args);
  auto flags = skiff::cli::parse_run_fast(static_cast<int>(argv.size()), argv.data(), p.ctx);
  if (!flags) return std::nullopt;
  p.flags = std::move(*flags);
  return p;
}

std::string describe(const Parsed& p) {
  const RunFlags& f = p.flags;
  const auto& o = f.opts;
  auto list = [](const std::vector<std::string>& v) {
    std::string s = "[";
    for (const auto& x : v) s += "<" + x + ">";
    return s + "]";
  };
  auto opt = [](const std::optional<std::string>& v) { return v ? "<" + *v + ">" : std::string("unset"); };
  return fmt::format(
      "rm={} i={} t={} ro={} init={} name=<{}> host=<{}> net=<{}> userns=<{}> pull=<{}> w={} u={} env={} "
      "env_files={} v={} mount={} tmpfs={} entrypoint=<{}>{} m=<{}> cpus=<{}> pids=<{}> cap_add={} cap_drop={} "
      "privileged={} security_opt={} sysctl={} ulimit={} preserve_fds=<{}> pos={} root=<{}> runroot=<{}>",
      o.remove, o.interactive, o.tty, o.read_only, o.init, o.name, o.hostname, f.network, f.userns, f.pull,
      opt(o.workdir), opt(o.user), list(f.env), list(f.env_files), list(f.volumes), list(f.mounts), list(f.tmpfs),
      f.entrypoint, f.entrypoint_set, f.memory, f.cpus, f.pids_limit, list(f.cap_add), list(f.cap_drop), o.privileged,
      list(f.security_opts), list(f.sysctls), list(f.ulimits), f.preserve_fds, list(f.positional), p.ctx.root,
      p.ctx.runroot);
}

}  // namespace

TEST_CASE("run flags: the fast path reads the usual command lines exactly as CLI11 does") {
  unsetenv("SKIFF_ROOT");
  unsetenv("SKIFF_RUNROOT");
  const std::vector<std::vector<std::string>> lines = {
      {"skiff", "run", "--rm", "--network", "none", "bb", "true"},
      {"skiff", "run", "-it", "--rm", "img", "sh"},
      {"skiff", "run", "-ti", "img"},
      {"skiff", "run", "--name", "web", "-e",  "A=1", "-e",      "B", "--env", "C=3", "--env-file",
       "f",     "-w",  "/srv",   "-u",  "app", "img", "./serve", "x", "-y",    "--z"},
      {"skiff", "run", "--rm", "-v", "/a:/b:ro", "--volume=/c:/d", "--mount", "type=tmpfs,target=/t", "--tmpfs",
       "/x:size=1m", "img"},
      {"skiff", "run", "--entrypoint", "", "img"},
      {"skiff", "run", "--entrypoint=sh", "img", "-c", "echo hi"},
      {"skiff", "run", "-w", "", "-u", "", "img"},
      {"skiff", "run", "--net=host", "--userns", "keep-id", "--pull", "never", "--read-only", "--init", "img"},
      {"skiff", "run", "-m", "1g", "--cpus", "2", "--pids-limit", "10", "img"},
      {"skiff", "--root", "/r", "--runroot=/rr", "run", "img"},
      {"skiff", "--root=/r", "run", "img"},
      {"skiff", "container", "run", "--rm", "img", "true"},
      {"skiff", "run", "-h", "myhost", "img"},
      {"skiff", "run", "--hostname=other.example", "img"},
      {"skiff", "run", "-eA=1", "-w/tmp", "img"},
      {"skiff", "run", "--name", "", "img"},
      {"skiff", "run", "img", "--", "x"},
      {"skiff", "run", "--rm", "--rm", "-i", "-i", "img"},
      {"skiff", "run", "--network", "none", "localhost:5000/team/app:v1@sha256:abc", "echo", "--rm"},
      {"skiff", "run", "--cap-drop", "ALL", "--cap-add", "net_raw", "--cap-add=CAP_SYS_ADMIN", "img"},
      {"skiff", "run", "--cap-drop=chown", "--cap-drop", "KILL", "--rm", "img", "id"},
      {"skiff", "run", "--privileged", "-it", "img"},
      {"skiff", "run", "--security-opt", "no-new-privileges", "--security-opt=label=disable", "--security-opt",
       "mask=/a:/b", "--security-opt", "unmask=ALL", "--security-opt=seccomp=unconfined", "img"},
      {"skiff", "run", "--preserve-fds", "2", "img", "cat", "/proc/self/fd/3"},
      {"skiff", "run", "--preserve-fds=0", "--privileged", "--cap-drop", "all", "img"},
      {"skiff", "run", "--network", "none", "--sysctl", "kernel.shm_rmid_forced=1", "--sysctl=net.ipv4.ip_forward=1",
       "--ulimit", "nofile=100:200", "--ulimit=core=-1", "img"},
      {"skiff", "run", "--sysctl", "kernel.shm_rmid_forced=1+kernel.core_pattern=|/x", "--ulimit", "nproc=unlimited",
       "img"},
  };
  for (const auto& line : lines) {
    INFO(fmt::format("{}", fmt::join(line, " ")));
    auto slow = by_cli11(line);
    auto fast = by_fast_path(line);
    REQUIRE(slow);
    REQUIRE(fast);
    CHECK(describe(*fast) == describe(*slow));
  }
}

TEST_CASE("run flags: the fast path reads SKIFF_ROOT and SKIFF_RUNROOT as CLI11 does") {
  setenv("SKIFF_ROOT", "/env-root", 1);
  setenv("SKIFF_RUNROOT", "", 1);
  for (std::vector<std::string> line : {std::vector<std::string>{"skiff", "run", "img"},
                                        std::vector<std::string>{"skiff", "--root", "/flag", "run", "img"}}) {
    auto slow = by_cli11(line);
    auto fast = by_fast_path(line);
    REQUIRE(slow);
    REQUIRE(fast);
    CHECK(describe(*fast) == describe(*slow));
  }
  unsetenv("SKIFF_ROOT");
  unsetenv("SKIFF_RUNROOT");
}

TEST_CASE("run flags: anything else is left to CLI11") {
  const std::vector<std::vector<std::string>> lines = {
      {"skiff", "run", "--help"},
      {"skiff", "run"},
      {"skiff", "run", "--rm"},
      {"skiff", "run", "--name", "a", "--name", "b", "img"},
      {"skiff", "run", "--bogus", "img"},
      {"skiff", "run", "--", "img"},
      {"skiff", "run", "--rm=false", "img"},
      {"skiff", "run", "-e=A", "img"},
      {"skiff", "run", "-x", "img"},
      {"skiff", "run", "--name", "-x", "img"},
      {"skiff", "run", "-ih", "host", "img"},
      {"skiff", "run", "-h", "myhost", "--hostname=other.example", "img"},
      {"skiff", "run", "-e"},
      {"skiff", "run", "--preserve-fds", "1", "--preserve-fds", "2", "img"},
      {"skiff", "run", "--privileged=true", "img"},
      {"skiff", "run", "--cap-add", "img"},
      {"skiff", "run", "--root", "/x", "img"},
      {"skiff", "--root", "/r", "--root", "/s", "run", "img"},
      {"skiff", "--version"},
      {"skiff", "images"},
      {"skiff", "container", "ls"},
      {"skiff"},
  };
  for (const auto& line : lines) {
    INFO(fmt::format("{}", fmt::join(line, " ")));
    CHECK_FALSE(by_fast_path(line));
  }
}
