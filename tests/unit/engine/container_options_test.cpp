// What `start` makes a container again from: the saved run options, and
// --restart's syntax.
#include "skiff/engine/container_options.hpp"

#include <catch2/catch.hpp>

#include "skiff/engine/run_options_parse.hpp"
#include "skiff/util/error.hpp"

using namespace skiff::engine;

TEST_CASE("container options: every field a later start needs survives the round trip") {
  RunOptions o;
  o.image = "bb";
  o.command = {"sh", "-c", "echo hi"};
  o.entrypoint = "/bin/env";
  o.env = {"A=1", "B="};
  o.workdir = "/srv";
  o.user = "1000:1000";
  o.volumes = {{"/data", "/mnt", true}};
  o.tmpfs = {{"/tmp", "size=1m"}};
  o.name = "web";
  o.hostname = "h";
  o.network = NetworkMode::kNone;
  o.userns = UsernsOption::kKeepId;
  o.interactive = o.tty = o.read_only = o.init = o.privileged = o.no_new_privileges = true;
  o.cap_add = {"CAP_NET_ADMIN"};
  o.cap_drop = {"ALL"};
  o.seccomp = SeccompMode::kProfile;
  o.seccomp_profile = "/p.json";
  o.mask = {"/secret"};
  o.unmask = {"ALL"};
  o.sysctl = {{"kernel.shm_rmid_forced", "1"}};
  o.ulimits = {{"RLIMIT_NOFILE", 10, 20}};
  o.detach = true;
  o.log_max_size = 4096;
  o.stop_signal = 2;
  o.stop_timeout = 3;
  o.labels = {{"a", "b"}};
  o.restart = {RestartKind::kOnFailure, 5};
  RunOptions back = run_options_from_json(run_options_json(o));
  CHECK(run_options_json(back) == run_options_json(o));
  CHECK(back.entrypoint == o.entrypoint);
  CHECK(back.user == o.user);
  CHECK(back.network == NetworkMode::kNone);
  CHECK(back.seccomp == SeccompMode::kProfile);
  CHECK(back.restart.kind == RestartKind::kOnFailure);
  CHECK(back.restart.max_retries == 5);
  CHECK(back.ulimits.at(0).hard == 20);

  RunOptions plain;
  plain.image = "bb";
  RunOptions plain_back = run_options_from_json(run_options_json(plain));
  CHECK_FALSE(plain_back.entrypoint);
  CHECK_FALSE(plain_back.workdir);
  CHECK(plain_back.stop_timeout == -1);
}

TEST_CASE("container options: a damaged file is one error, not a crash") {
  CHECK_THROWS_AS(run_options_from_json(nlohmann::json::object()), skiff::Error);
  auto j = run_options_json(RunOptions{});
  j["env"] = 5;
  CHECK_THROWS_AS(run_options_from_json(j), skiff::Error);
}

TEST_CASE("--restart: docker's policies and counts") {
  CHECK(parse_restart_policy("no").kind == RestartKind::kNo);
  CHECK(parse_restart_policy("always").kind == RestartKind::kAlways);
  CHECK(parse_restart_policy("unless-stopped").kind == RestartKind::kUnlessStopped);
  auto p = parse_restart_policy("on-failure");
  CHECK(p.kind == RestartKind::kOnFailure);
  CHECK(p.max_retries == 0);
  CHECK(parse_restart_policy("on-failure:3").max_retries == 3);
  for (const char* bad :
       {"", "bogus", "always:3", "no:1", "on-failure:", "on-failure:x", "on-failure:-1", "on-failure:3x", "Always"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_restart_policy(bad), skiff::Error);
  }
}
