#include "skiff/engine/container_inspect.hpp"

#include <catch2/catch.hpp>

using json = nlohmann::ordered_json;
using skiff::engine::container_config_json;
using skiff::engine::container_inspect_json;
using skiff::engine::ContainerInspectData;
using skiff::engine::ContainerStatus;
using skiff::engine::parse_container_config;
using skiff::engine::RunOptions;

namespace {

ContainerInspectData sample(ContainerStatus status, bool running) {
  ContainerInspectData d;
  auto& r = d.view.record;
  r.id = std::string(64, 'a');
  r.name = "web";
  r.image = "bb";
  r.image_id = "sha256:" + std::string(64, 'b');
  r.command = {"/entry.sh", "sh", "-c", "true"};
  r.driver = "overlay";
  r.created = "2026-01-02T03:04:05Z";
  r.labels = {{"a", "1"}};
  d.view.state.status = status;
  d.view.state.started = r.created;
  d.view.state.pid = 42;
  d.view.running = running;
  d.image_config = nlohmann::json{{"Entrypoint", {"/entry.sh"}}, {"User", "nobody"}, {"Cmd", {"sh"}}};
  return d;
}

// A config.json as run writes it, read back.
skiff::engine::ContainerConfig config_of(const RunOptions& opts) {
  skiff::runtime::Spec spec;
  spec.hostname = "aaaaaaaaaaaa";
  spec.process.env = {"PATH=/bin", "A=1"};
  spec.process.cwd = "/srv";
  spec.process.terminal = true;
  spec.root.readonly = opts.read_only;
  return parse_container_config(container_config_json(spec, opts, false));
}

}  // namespace

TEST_CASE("inspect: a running container in docker's shape") {
  ContainerInspectData d = sample(ContainerStatus::kRunning, true);
  RunOptions opts;
  opts.volumes = {{.source = "/data", .target = "/d", .readonly = true}};
  opts.interactive = true;
  opts.cap_add = {"CAP_NET_ADMIN"};
  opts.log_max_size = 1000;
  d.config = config_of(opts);
  json j = container_inspect_json(d);
  CHECK(j["Id"] == d.view.record.id);
  CHECK(j["Name"] == "/web");
  CHECK(j["Path"] == "/entry.sh");
  CHECK(j["Args"] == json({"sh", "-c", "true"}));
  CHECK(j["Image"] == d.view.record.image_id);
  CHECK(j["State"]["Status"] == "running");
  CHECK(j["State"]["Running"] == true);
  CHECK(j["State"]["Pid"] == 42);
  CHECK(j["State"]["StartedAt"] == "2026-01-02T03:04:05Z");
  CHECK(j["State"]["FinishedAt"] == "0001-01-01T00:00:00Z");
  CHECK(j["Config"]["Image"] == "bb");
  CHECK(j["Config"]["Hostname"] == "aaaaaaaaaaaa");
  CHECK(j["Config"]["Env"] == json({"PATH=/bin", "A=1"}));
  CHECK(j["Config"]["WorkingDir"] == "/srv");
  CHECK(j["Config"]["Entrypoint"] == json({"/entry.sh"}));
  CHECK(j["Config"]["Cmd"] == json({"sh", "-c", "true"}));
  CHECK(j["Config"]["User"] == "nobody");  // the image's: no -u
  CHECK(j["Config"]["Labels"] == json({{"a", "1"}}));
  CHECK(j["Config"]["Tty"] == true);
  CHECK(j["Config"]["OpenStdin"] == true);
  CHECK_FALSE(j["Config"].contains("StopSignal"));
  CHECK(j["HostConfig"]["RestartPolicy"] == json({{"Name", "no"}, {"MaximumRetryCount", 0}}));
  CHECK(j["HostConfig"]["CapAdd"] == json({"CAP_NET_ADMIN"}));
  CHECK(j["HostConfig"]["CapDrop"].is_null());
  CHECK(j["HostConfig"]["NetworkMode"] == "host");
  CHECK(j["HostConfig"]["LogConfig"] == json({{"Type", "k8s-file"}, {"Config", {{"max-size", "1000"}}}}));
  CHECK(j["HostConfig"]["Binds"] == json({"/data:/d:ro"}));
  REQUIRE(j["Mounts"].size() == 1);
  CHECK(j["Mounts"][0] == json({{"Type", "bind"},
                                {"Source", "/data"},
                                {"Destination", "/d"},
                                {"Mode", "ro"},
                                {"RW", false},
                                {"Propagation", ""}}));
  CHECK(j["NetworkSettings"]["Ports"] == json::object());
  CHECK_FALSE(j.contains("SizeRw"));
}

TEST_CASE("inspect: the fields in docker's order") {
  json j = container_inspect_json(sample(ContainerStatus::kRunning, true));
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"Id", "Created", "Path", "Args", "State", "Image", "LogPath", "Name",
                                         "RestartCount", "Driver", "Platform", "HostConfig", "Mounts", "Config",
                                         "NetworkSettings"});
  CHECK(j["State"].begin().key() == "Status");
}

TEST_CASE("inspect: an exited container keeps its code and end; its pid is gone") {
  ContainerInspectData d = sample(ContainerStatus::kExited, false);
  d.view.state.exit_code = 3;
  d.view.state.finished = "2026-01-02T03:04:09Z";
  d.view.record.stop_signal = 15;
  json j = container_inspect_json(d);
  CHECK(j["State"]["Status"] == "exited");
  CHECK(j["State"]["Running"] == false);
  CHECK(j["State"]["Pid"] == 0);
  CHECK(j["State"]["ExitCode"] == 3);
  CHECK(j["State"]["FinishedAt"] == "2026-01-02T03:04:09Z");
  CHECK(j["Config"]["StopSignal"] == "SIGTERM");
  CHECK(j["Config"]["Env"].is_null());  // no config.json: nothing invented
}

TEST_CASE("inspect: a record that says running with nobody holding its lock is exited") {
  ContainerInspectData d = sample(ContainerStatus::kRunning, false);
  json j = container_inspect_json(d);
  CHECK(j["State"]["Status"] == "exited");
  CHECK(j["State"]["Pid"] == 0);
  CHECK(j["State"]["FinishedAt"] == "0001-01-01T00:00:00Z");
  CHECK_FALSE(j["State"]["Error"].get<std::string>().empty());
}

TEST_CASE("inspect: a created container has not started") {
  ContainerInspectData d = sample(ContainerStatus::kCreated, false);
  d.view.state.started.clear();
  json j = container_inspect_json(d);
  CHECK(j["State"]["Status"] == "created");
  CHECK(j["State"]["StartedAt"] == "0001-01-01T00:00:00Z");
}

TEST_CASE("inspect: --entrypoint and -u as given; -s's sizes") {
  ContainerInspectData d = sample(ContainerStatus::kRunning, true);
  RunOptions opts;
  opts.entrypoint = "";
  opts.user = "1000:1000";
  opts.privileged = true;
  d.config = config_of(opts);
  d.view.record.command = {"echo", "hi"};
  d.size_rw = 10;
  d.size_root_fs = 110;
  json j = container_inspect_json(d);
  CHECK(j["Config"]["Entrypoint"].is_null());
  CHECK(j["Config"]["Cmd"] == json({"echo", "hi"}));
  CHECK(j["Config"]["User"] == "1000:1000");
  CHECK(j["HostConfig"]["Privileged"] == true);
  CHECK(j["HostConfig"]["SecurityOpt"].is_null());  // --privileged's unconfined seccomp is not an opt
  CHECK(j["SizeRw"] == 10);
  CHECK(j["SizeRootFs"] == 110);
}
