#include "skiff/engine/container_config.hpp"

#include <catch2/catch.hpp>

#include "skiff/util/error.hpp"

using skiff::engine::container_config_json;
using skiff::engine::parse_container_config;
using skiff::engine::RunOptions;
using skiff::engine::SeccompMode;

namespace {

skiff::runtime::Spec sample_spec() {
  skiff::runtime::Spec spec;
  auto& p = spec.process;
  p.args = {"sh", "-c", "sleep 1"};
  p.env = {"PATH=/bin", "HOME=/root"};
  p.cwd = "/srv";
  p.user = {.uid = 1000, .gid = 1000, .umask = 027, .additionalGids = {50, 60}};
  p.capabilities = {"CAP_CHOWN", "CAP_KILL"};
  p.noNewPrivileges = true;
  p.rlimits = {{.type = "RLIMIT_NOFILE", .hard = 2048, .soft = 1024}};
  return spec;
}

}  // namespace

TEST_CASE("config.json: the process fields under the OCI spec's names, read back the same") {
  RunOptions opts;
  auto j = container_config_json(sample_spec(), opts, true);
  CHECK(j.at("process").at("capabilities").at("effective") == j.at("process").at("capabilities").at("bounding"));
  CHECK(j.at("process").at("user").at("additionalGids") == nlohmann::json::array({50, 60}));
  CHECK(j.at("process").at("noNewPrivileges") == true);
  auto c = parse_container_config(j);
  const auto& p = c.process;
  CHECK(p.env == std::vector<std::string>{"PATH=/bin", "HOME=/root"});
  CHECK(p.cwd == "/srv");
  CHECK(p.user.uid == 1000);
  CHECK(p.user.umask == 027);
  CHECK(p.user.additionalGids == std::vector<uint32_t>{50, 60});
  CHECK(p.capabilities == std::vector<std::string>{"CAP_CHOWN", "CAP_KILL"});
  CHECK(p.noNewPrivileges);
  REQUIRE(p.rlimits.size() == 1);
  CHECK(p.rlimits[0].soft == 1024);
  CHECK(c.seccomp == SeccompMode::kDefault);
  CHECK(c.home_from_user);
}

TEST_CASE("config.json: the seccomp profile the container was started with") {
  RunOptions opts;
  opts.seccomp = SeccompMode::kProfile;
  opts.seccomp_profile = "/etc/profile.json";
  auto c = parse_container_config(container_config_json(sample_spec(), opts, false));
  CHECK(c.seccomp == SeccompMode::kProfile);
  CHECK(c.seccomp_profile == "/etc/profile.json");
  CHECK_FALSE(c.home_from_user);
  opts.privileged = true;
  CHECK(parse_container_config(container_config_json(sample_spec(), opts, false)).seccomp == SeccompMode::kUnconfined);
}

TEST_CASE("config.json: a file of another shape is an Error") {
  CHECK_THROWS_AS(parse_container_config(nlohmann::json::object()), skiff::Error);
  CHECK_THROWS_AS(parse_container_config({{"process", {{"user", "root"}}}}), skiff::Error);
}

TEST_CASE("config.json: what inspect shows of run's flags, read back the same") {
  RunOptions opts;
  auto spec = sample_spec();
  spec.hostname = "box";
  spec.root.readonly = true;
  opts.volumes = {{.source = "/a", .target = "/b", .readonly = true}, {.source = "/c", .target = "/d"}};
  opts.user = "nobody";
  opts.entrypoint = "";
  opts.interactive = true;
  opts.cap_add = {"CAP_NET_ADMIN", "CAP_SYS_TIME"};
  opts.cap_drop = {"ALL"};
  opts.network = skiff::engine::NetworkMode::kNone;
  opts.log_max_size = 4096;
  auto j = container_config_json(spec, opts, false);
  CHECK(j.at("hostname") == "box");
  CHECK(j.at("mounts").at(0).at("options") == nlohmann::json({"rbind", "ro"}));
  auto c = parse_container_config(j);
  CHECK(c.hostname == "box");
  CHECK(c.readonly_rootfs);
  REQUIRE(c.binds.size() == 2);
  CHECK(c.binds[0].source == "/a");
  CHECK(c.binds[0].target == "/b");
  CHECK(c.binds[0].readonly);
  CHECK_FALSE(c.binds[1].readonly);
  CHECK(c.user == "nobody");
  CHECK(c.entrypoint == "");
  CHECK(c.open_stdin);
  CHECK_FALSE(c.privileged);
  CHECK(c.cap_add == std::vector<std::string>{"CAP_NET_ADMIN", "CAP_SYS_TIME"});
  CHECK(c.cap_drop == std::vector<std::string>{"ALL"});
  CHECK(c.network == "none");
  CHECK(c.log_max_size == 4096);
}

TEST_CASE("config.json: one written before inspect's fields leaves them empty") {
  auto j = container_config_json(sample_spec(), RunOptions{}, false);
  j.erase("hostname");
  j.erase("mounts");
  j.erase("root");
  j["annotations"] = {{"io.skiff.seccomp", "default"}};
  auto c = parse_container_config(j);
  CHECK(c.hostname.empty());
  CHECK(c.binds.empty());
  CHECK_FALSE(c.user);
  CHECK_FALSE(c.entrypoint);
  CHECK(c.network.empty());
  CHECK(c.log_max_size == 0);
}
