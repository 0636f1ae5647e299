#include <catch2/catch.hpp>

#include "skiff/engine/container_run.hpp"
#include "skiff/engine/run_options_parse.hpp"
#include "skiff/util/error.hpp"

using namespace skiff::engine;
using nlohmann::json;

TEST_CASE("command: entrypoint + cmd, with docker's overrides") {
  json config{{"Entrypoint", {"/ep"}}, {"Cmd", {"a", "b"}}};
  RunOptions o;
  CHECK(container_args(o, config) == std::vector<std::string>{"/ep", "a", "b"});
  o.command = {"c"};
  CHECK(container_args(o, config) == std::vector<std::string>{"/ep", "c"});
  o.entrypoint = "";
  CHECK(container_args(o, config) == std::vector<std::string>{"c"});
  o.entrypoint = "/other";
  o.command.clear();
  CHECK(container_args(o, config) == std::vector<std::string>{"/other"});
}

TEST_CASE("environment: PATH default, image env, then -e wins") {
  json config{{"Env", {"A=image", "PATH=/img"}}};
  RunOptions o;
  o.env = {"A=flag"};
  o.tty = true;
  auto env = container_env(o, config, "host", "/root");
  CHECK(env == std::vector<std::string>{"PATH=/img", "A=flag", "HOSTNAME=host", "TERM=xterm", "HOME=/root"});
}

TEST_CASE("environment: HOME is the user's home unless the image's Env or -e sets it") {
  RunOptions o;
  CHECK(container_env(o, json::object(), "h", "/nonexistent").back() == "HOME=/nonexistent");
  json config{{"Env", {"HOME=/image"}}};
  CHECK(container_env(o, config, "h", "/nonexistent")[1] == "HOME=/image");
  o.env = {"HOME=/flag"};
  CHECK(container_env(o, config, "h", "/nonexistent")[1] == "HOME=/flag");
}

TEST_CASE("spec: namespaces, mounts in depth order, read-only root") {
  RunOptions o;
  o.network = "none";
  o.read_only = true;
  o.tmpfs = {{"/a/b/c", ""}, {"/a", "size=1m"}};
  SpecInputs in;
  in.container_id = std::string(64, 'c');
  in.rootfs = "/store/c/merged";
  in.image_config = json{{"Cmd", {"sh"}}};
  auto spec = build_spec(o, in);
  CHECK(spec.hostname == "cccccccccccc");
  CHECK(spec.root.readonly);
  bool has_net = false;
  for (auto& ns : spec.linux.namespaces) has_net |= ns.type == "network";
  CHECK(has_net);
  auto a = std::find_if(spec.mounts.begin(), spec.mounts.end(), [](auto& m) { return m.destination == "/a"; });
  auto abc = std::find_if(spec.mounts.begin(), spec.mounts.end(), [](auto& m) { return m.destination == "/a/b/c"; });
  CHECK(a < abc);
  // /etc/hosts and /etc/hostname are made in memory, with the container's name.
  auto hosts = std::find_if(spec.mounts.begin(), spec.mounts.end(), [](auto& m) { return m.destination == "/etc/hosts"; });
  REQUIRE(hosts != spec.mounts.end());
  REQUIRE(hosts->content);
  CHECK_THAT(*hosts->content, Catch::Contains("127.0.0.1\tlocalhost\n"));
  CHECK_THAT(*hosts->content, Catch::EndsWith("127.0.1.1\tcccccccccccc\n"));
  auto name = std::find_if(spec.mounts.begin(), spec.mounts.end(), [](auto& m) { return m.destination == "/etc/hostname"; });
  REQUIRE(name != spec.mounts.end());
  CHECK(name->content == std::optional<std::string>("cccccccccccc\n"));
  o.workdir = "relative";
  CHECK_THROWS_AS(build_spec(o, in), skiff::Error);
}

TEST_CASE("volume and mount syntax") {
  auto v = parse_volume("/tmp:/data:ro");
  CHECK(v.source == "/tmp");
  CHECK(v.target == "/data");
  CHECK(v.readonly);
  CHECK_THROWS_WITH(parse_volume("/no/such/path:/x"), "volume source /no/such/path does not exist");
  CHECK_THROWS_WITH(parse_volume("/tmp"), Catch::Contains("expected HOST-DIR:CONTAINER-DIR"));
  CHECK_THROWS_WITH(parse_volume("/tmp:/x:bogus"), Catch::Contains("unknown option"));
  CHECK_THROWS_WITH(parse_volume("named:/x"), Catch::Contains("named volumes are not supported"));
  RunOptions o;
  parse_mount("type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=700", o);
  REQUIRE(o.tmpfs.size() == 1);
  CHECK(o.tmpfs[0].options == "size=1m,mode=700");
  CHECK_THROWS_WITH(parse_mount("type=volume,target=/x", o), Catch::Contains("not supported"));
  CHECK_THROWS_WITH(parse_mount("type=bind,target=/x", o), Catch::Contains("source is required"));
}

TEST_CASE("-e NAME=VALUE and NAME alone") {
  setenv("SKIFF_UNIT_VAR", "v", 1);
  CHECK(parse_env("SKIFF_UNIT_VAR") == "SKIFF_UNIT_VAR=v");
  CHECK(parse_env("X=1=2") == "X=1=2");
  unsetenv("SKIFF_UNIT_VAR");
  CHECK_FALSE(parse_env("SKIFF_UNIT_VAR").has_value());
  CHECK_THROWS_AS(parse_env("=x"), skiff::Error);
}
