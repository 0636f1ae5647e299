#include <catch2/catch.hpp>

#include "skiff/engine/container_run.hpp"
#include "skiff/engine/run_options_parse.hpp"
#include "skiff/runtime/rlimits.hpp"
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
  o.network = NetworkMode::kNone;
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
  for (auto& ns : spec.linux.namespaces) has_net |= ns.type == skiff::runtime::NamespaceType::kNetwork;
  CHECK(has_net);
  auto a = std::find_if(spec.mounts.begin(), spec.mounts.end(), [](auto& m) { return m.destination == "/a"; });
  auto abc = std::find_if(spec.mounts.begin(), spec.mounts.end(), [](auto& m) { return m.destination == "/a/b/c"; });
  CHECK(a < abc);
  // /etc/hosts and /etc/hostname are made in memory, with the container's name.
  auto hosts =
      std::find_if(spec.mounts.begin(), spec.mounts.end(), [](auto& m) { return m.destination == "/etc/hosts"; });
  REQUIRE(hosts != spec.mounts.end());
  REQUIRE(hosts->content);
  CHECK_THAT(*hosts->content, Catch::Contains("127.0.0.1\tlocalhost\n"));
  CHECK_THAT(*hosts->content, Catch::EndsWith("127.0.1.1\tcccccccccccc\n"));
  auto name =
      std::find_if(spec.mounts.begin(), spec.mounts.end(), [](auto& m) { return m.destination == "/etc/hostname"; });
  REQUIRE(name != spec.mounts.end());
  CHECK(name->content == std::optional<std::string>("cccccccccccc\n"));
  o.workdir = "relative";
  CHECK_THROWS_AS(build_spec(o, in), skiff::Error);
}

TEST_CASE("modes are parsed once, with docker's words") {
  CHECK(parse_network_mode("none") == NetworkMode::kNone);
  CHECK(parse_network_mode("host") == NetworkMode::kHost);
  CHECK_THROWS_WITH(parse_network_mode("mynet"), Catch::Contains("network mode \"mynet\" is not supported yet"));
  CHECK(parse_userns("") == UsernsOption::kDefault);
  CHECK(parse_userns("keep-id") == UsernsOption::kKeepId);
  CHECK_THROWS_WITH(parse_userns("host"), Catch::Contains("needs root"));
  CHECK_THROWS_WITH(parse_userns("auto"), Catch::Contains("unknown --userns mode"));
  CHECK(parse_pull_policy("missing") == PullPolicy::kMissing);
  CHECK(parse_pull_policy("true") == PullPolicy::kAlways);
  CHECK(parse_pull_policy("false") == PullPolicy::kMissing);
  CHECK(parse_pull_policy("never") == PullPolicy::kNever);
  CHECK(parse_pull_policy("newer") == PullPolicy::kNewer);
  CHECK_THROWS_WITH(parse_pull_policy("sometimes"), Catch::Contains("invalid --pull policy"));
}

TEST_CASE("volume and mount syntax") {
  auto v = parse_volume("/tmp:/data:ro");
  CHECK(v.source == "/tmp");
  CHECK(v.target == "/data");
  CHECK(v.readonly);
  // Syntax only: whether the source exists is run_container's check.
  CHECK(parse_volume("/no/such/path:/x").source == "/no/such/path");
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

namespace {

SpecInputs busybox_inputs() {
  SpecInputs in;
  in.container_id = std::string(64, 'c');
  in.rootfs = "/store/c/merged";
  in.image_config = json{{"Cmd", {"sh"}}};
  return in;
}

bool has(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

TEST_CASE("--cap-add and --cap-drop names: with or without CAP_, any case, or ALL") {
  CHECK(parse_capability("net_raw") == "CAP_NET_RAW");
  CHECK(parse_capability("Cap_Chown") == "CAP_CHOWN");
  CHECK(parse_capability("all") == "ALL");
  CHECK_THROWS_WITH(parse_capability("foo"), "unknown capability: \"CAP_FOO\"");
  CHECK_THROWS_WITH(parse_capability("CAP_ALL"), "unknown capability: \"CAP_ALL\"");
  CHECK_THROWS_WITH(parse_capability(""), "unknown capability: \"CAP_\"");
}

TEST_CASE("capabilities: podman's default set, then drops and adds in docker's order") {
  RunOptions o;
  CHECK(container_capabilities(o) == skiff::runtime::default_capabilities());
  o.cap_drop = {"ALL"};
  o.cap_add = {"CAP_NET_RAW"};
  CHECK(container_capabilities(o) == std::vector<std::string>{"CAP_NET_RAW"});
  o.cap_add.clear();
  CHECK(container_capabilities(o).empty());
  o.cap_drop = {"CAP_CHOWN", "CAP_KILL"};
  o.cap_add = {"CAP_SYS_ADMIN", "CAP_SETUID"};
  auto caps = container_capabilities(o);
  CHECK(caps.size() == skiff::runtime::default_capabilities().size() - 1);
  CHECK_FALSE(has(caps, "CAP_CHOWN"));
  CHECK_FALSE(has(caps, "CAP_KILL"));
  CHECK(has(caps, "CAP_SYS_ADMIN"));
  CHECK(caps.front() == "CAP_DAC_OVERRIDE");  // the kernel's order
  o.cap_drop = {"CAP_KILL"};
  o.cap_add = {"ALL"};
  caps = container_capabilities(o);
  CHECK(caps.size() == 40);
  CHECK_FALSE(has(caps, "CAP_KILL"));
  CHECK(has(caps, "CAP_CHECKPOINT_RESTORE"));
}

TEST_CASE("--privileged: every capability, no masked or read-only paths; --cap-drop still applies") {
  RunOptions o;
  o.privileged = true;
  auto spec = build_spec(o, busybox_inputs());
  CHECK(spec.process.capabilities.size() == 41);
  CHECK(spec.process.capabilities.front() == "CAP_CHOWN");
  CHECK(spec.process.capabilities.back() == "CAP_CHECKPOINT_RESTORE");
  CHECK(spec.linux.maskedPaths.empty());
  CHECK(spec.linux.readonlyPaths.empty());
  CHECK_FALSE(spec.process.noNewPrivileges);
  o.cap_drop = {"CAP_SYS_ADMIN"};
  CHECK(container_capabilities(o).size() == 40);
  CHECK_FALSE(has(container_capabilities(o), "CAP_SYS_ADMIN"));
}

TEST_CASE("--security-opt: no-new-privileges, mask, unmask, and what is accepted with no effect") {
  RunOptions o;
  parse_security_opt("no-new-privileges", o);
  CHECK(o.no_new_privileges);
  parse_security_opt("no-new-privileges=false", o);
  CHECK_FALSE(o.no_new_privileges);
  parse_security_opt("no-new-privileges=true", o);
  CHECK(o.no_new_privileges);
  for (const char* ignored :
       {"label=disable", "label=type:svirt_apache_t", "apparmor=unconfined", "apparmor=docker-default"})
    parse_security_opt(ignored, o);
  CHECK(o.seccomp == SeccompMode::kDefault);
  parse_security_opt("seccomp=/etc/profile.json", o);
  CHECK(o.seccomp == SeccompMode::kProfile);
  CHECK(o.seccomp_profile == "/etc/profile.json");  // read by run_container, not here
  parse_security_opt("seccomp=unconfined", o);
  CHECK(o.seccomp == SeccompMode::kUnconfined);
  parse_security_opt("mask=/etc/group:/opt", o);
  CHECK(o.mask == std::vector<std::string>{"/etc/group", "/opt"});
  parse_security_opt("unmask=/proc/kcore:/sys/*", o);
  parse_security_opt("systempaths=unconfined", o);
  CHECK(o.unmask == std::vector<std::string>{"/proc/kcore", "/sys/*", "ALL"});

  RunOptions x;
  CHECK_THROWS_WITH(parse_security_opt("bogus", x), "invalid --security-opt: \"bogus\"");
  CHECK_THROWS_WITH(parse_security_opt("bogus=1", x), "invalid --security-opt: \"bogus=1\"");
  CHECK_THROWS_WITH(parse_security_opt("no-new-privileges=maybe", x),
                    "invalid --security-opt: \"no-new-privileges=maybe\"");
  CHECK_THROWS_WITH(parse_security_opt("label", x), "invalid --security-opt: \"label\"");
  CHECK_THROWS_WITH(parse_security_opt("seccomp=", x), "invalid --security-opt: \"seccomp=\"");
  CHECK_THROWS_WITH(parse_security_opt("mask=etc/group", x),
                    "invalid --security-opt \"mask=etc/group\": the paths to mask must be absolute");
  CHECK(x.mask.empty());
  CHECK_FALSE(x.no_new_privileges);
}

TEST_CASE("spec: unmask lifts default masked and read-only paths, mask adds, no_new_privs and preserved fds") {
  RunOptions o;
  auto in = busybox_inputs();
  auto plain = build_spec(o, in);
  CHECK(plain.linux.maskedPaths == skiff::runtime::default_masked_paths());
  CHECK(plain.linux.readonlyPaths == skiff::runtime::default_readonly_paths());
  CHECK(plain.preserve_fds == 0);

  o.unmask = {"/proc/kcore", "/sys/*/powercap"};
  auto spec = build_spec(o, in);
  CHECK_FALSE(has(spec.linux.maskedPaths, "/proc/kcore"));
  CHECK(has(spec.linux.maskedPaths, "/proc/keys"));
  CHECK(has(spec.linux.maskedPaths, "/sys/devices/virtual/powercap"));  // '*' stays within a component
  o.unmask = {"/proc/*"};
  spec = build_spec(o, in);
  CHECK(spec.linux.maskedPaths == std::vector<std::string>{"/sys/firmware", "/sys/devices/virtual/powercap"});
  CHECK(spec.linux.readonlyPaths.empty());
  o.unmask = {"all"};
  o.mask = {"/etc/group"};
  o.no_new_privileges = true;
  o.preserve_fds = 2;
  spec = build_spec(o, in);
  CHECK(spec.linux.maskedPaths == std::vector<std::string>{"/etc/group"});
  CHECK(spec.linux.readonlyPaths.empty());
  CHECK(spec.process.noNewPrivileges);
  CHECK(spec.preserve_fds == 2);
}

TEST_CASE("--preserve-fds N") {
  CHECK(parse_preserve_fds("0") == 0);
  CHECK(parse_preserve_fds("2") == 2);
  for (const char* bad : {"", "-1", "two", "2x", " 2", "99999999999"})
    CHECK_THROWS_WITH(parse_preserve_fds(bad), fmt::format("invalid --preserve-fds \"{}\": expected a number of file "
                                                           "descriptors",
                                                           bad));
}

namespace {
// The message parse_sysctl gives for text, or "accepted".
std::string sysctl_refusal(std::string_view text, NetworkMode network = NetworkMode::kNone) {
  RunOptions o;
  try {
    parse_sysctl(text, network, o);
  } catch (const skiff::Error& e) {
    return e.what();
  }
  return "accepted";
}
}  // namespace

TEST_CASE("--sysctl: namespaced keys only, '/' read as '.', the later value wins") {
  RunOptions o;
  parse_sysctl("kernel.shm_rmid_forced=1", NetworkMode::kNone, o);
  parse_sysctl("kernel/msgmax=65536", NetworkMode::kNone, o);
  parse_sysctl("fs.mqueue.msg_max=20", NetworkMode::kHost, o);
  parse_sysctl("kernel.sem=250 32000 100 128", NetworkMode::kHost, o);
  parse_sysctl("kernel.domainname=example.org", NetworkMode::kHost, o);
  parse_sysctl("net.ipv4.ip_unprivileged_port_start=0", NetworkMode::kNone, o);
  parse_sysctl("net.ipv4.ping_group_range=0 2147483647", NetworkMode::kNone, o);
  parse_sysctl("kernel.shm_rmid_forced=0", NetworkMode::kNone, o);
  CHECK(o.sysctl == std::map<std::string, std::string>{{"fs.mqueue.msg_max", "20"},
                                                       {"kernel.domainname", "example.org"},
                                                       {"kernel.msgmax", "65536"},
                                                       {"kernel.sem", "250 32000 100 128"},
                                                       {"kernel.shm_rmid_forced", "0"},
                                                       {"net.ipv4.ip_unprivileged_port_start", "0"},
                                                       {"net.ipv4.ping_group_range", "0 2147483647"}});
  for (std::string k : {"kernel.msgmnb", "kernel.msgmni", "kernel.shmall", "kernel.shmmax", "kernel.shmmni"})
    CHECK(sysctl_refusal(k + "=1", NetworkMode::kHost) == "accepted");
  // The spec gets them as linux.sysctl.
  SpecInputs in;
  in.container_id = std::string(64, 'c');
  in.image_config = json{{"Cmd", {"sh"}}};
  CHECK(build_spec(o, in).linux.sysctl == o.sysctl);
}

TEST_CASE("--sysctl: the host's keys, net.* with the host's network and kernel.hostname are refused") {
  CHECK(sysctl_refusal("net.ipv4.ip_forward=1", NetworkMode::kHost) ==
        "--sysctl net.ipv4.ip_forward: net.* settings are not allowed with --network host, which shares the host's "
        "network namespace");
  CHECK(sysctl_refusal("kernel.hostname=x") ==
        "--sysctl kernel.hostname is not allowed: set the container's host name with --hostname");
  std::string rest =
      ": not allowed in a container, whose own kernel parameters are kernel.msgmax, kernel.msgmnb, kernel.msgmni, "
      "kernel.sem, kernel.shmall, kernel.shmmax, kernel.shmmni, kernel.shm_rmid_forced, fs.mqueue.*, "
      "kernel.domainname and net.*";
  CHECK(sysctl_refusal("kernel.core_pattern=|/x") == "--sysctl kernel.core_pattern" + rest);
  CHECK(sysctl_refusal("vm.swappiness=10") == "--sysctl vm.swappiness" + rest);
  CHECK(sysctl_refusal("vm/swappiness=10") == "--sysctl vm.swappiness" + rest);
  CHECK(sysctl_refusal("fs.file-max=10") == "--sysctl fs.file-max" + rest);
  CHECK(sysctl_refusal("kernel.msgmax.x=1") == "--sysctl kernel.msgmax.x" + rest);
}

TEST_CASE("--sysctl: every key and value is checked; CVE-2022-0811's second key is refused") {
  CHECK(sysctl_refusal("kernel.shm_rmid_forced=1+kernel.core_pattern=|/x") ==
        "invalid --sysctl \"kernel.shm_rmid_forced=1+kernel.core_pattern=|/x\": the value may not hold '+', '=', a "
        "newline or another control character");
  for (std::string bad :
       std::vector<std::string>{"kernel.shm_rmid_forced=1\nkernel.core_pattern=|/x", "kernel.shm_rmid_forced=1=2",
                                std::string("kernel.shm_rmid_forced=1\0", 25), "kernel.shm_rmid_forced=1\t"})
    CHECK(sysctl_refusal(bad).find("the value may not hold") != std::string::npos);
  std::string key_rule = ": a key is made of a-z, 0-9, '_', '-' and '.' (or '/') between non-empty names";
  for (std::string bad : {"Kernel.shmmax=1", "kernel..shmmax=1", "net/../kernel.core_pattern=1", ".net.x=1", "net.x.=1",
                          "kernel shmmax=1", "net.ipv4.*=1", "kernel.shm\nmax=1"})
    CHECK(sysctl_refusal(bad) == fmt::format("invalid --sysctl {:?}", bad) + key_rule);
  for (std::string bad : {"kernel.shmmax", "=1", "kernel.shmmax=", ""})
    CHECK(sysctl_refusal(bad) == fmt::format("invalid --sysctl {:?}: expected KEY=VALUE", bad));
}

TEST_CASE("--ulimit NAME=SOFT[:HARD]: docker's names, -1 or unlimited, hard is soft when not given") {
  constexpr uint64_t kInf = skiff::runtime::kRlimitInfinity;
  auto u = parse_ulimit("nofile=100:200");
  CHECK(u.type == "RLIMIT_NOFILE");
  CHECK(u.soft == 100);
  CHECK(u.hard == 200);
  u = parse_ulimit("nproc=50");
  CHECK((u.type == "RLIMIT_NPROC" && u.soft == 50 && u.hard == 50));
  u = parse_ulimit("core=-1");
  CHECK((u.type == "RLIMIT_CORE" && u.soft == kInf && u.hard == kInf));
  u = parse_ulimit("memlock=0:unlimited");
  CHECK((u.type == "RLIMIT_MEMLOCK" && u.soft == 0 && u.hard == kInf));
  for (std::string name : {"core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc",
                           "rss", "rtprio", "rttime", "sigpending", "stack"})
    CHECK(skiff::runtime::rlimit_number(parse_ulimit(name + "=1").type).has_value());
  // The spec gets them as process.rlimits.
  RunOptions o;
  o.ulimits = {parse_ulimit("nofile=100:200")};
  SpecInputs in;
  in.container_id = std::string(64, 'c');
  in.image_config = json{{"Cmd", {"sh"}}};
  auto spec = build_spec(o, in);
  REQUIRE(spec.process.rlimits.size() == 1);
  CHECK(spec.process.rlimits[0].type == "RLIMIT_NOFILE");
  CHECK(spec.process.rlimits[0].soft == 100);
  CHECK(spec.process.rlimits[0].hard == 200);
}

TEST_CASE("--ulimit: bad forms, soft above hard, a hard limit above the user's") {
  CHECK_THROWS_WITH(parse_ulimit("nofile=200:100"),
                    "invalid --ulimit \"nofile=200:100\": the soft limit must not be above the hard limit");
  CHECK_THROWS_WITH(parse_ulimit("nofile=unlimited:100"),
                    "invalid --ulimit \"nofile=unlimited:100\": the soft limit must not be above the hard limit");
  CHECK_THROWS_WITH(parse_ulimit("nofile"), "invalid --ulimit \"nofile\": expected NAME=SOFT[:HARD]");
  CHECK_THROWS_WITH(parse_ulimit("nofile="), "invalid --ulimit \"nofile=\": expected NAME=SOFT[:HARD]");
  CHECK_THROWS_WITH(parse_ulimit("as=1"), "invalid --ulimit \"as=1\": unknown limit \"as\"");
  CHECK_THROWS_WITH(parse_ulimit("NOFILE=1"), "invalid --ulimit \"NOFILE=1\": unknown limit \"NOFILE\"");
  for (std::string bad : {"x", "-2", "1k", "", " 1", "18446744073709551616"})
    CHECK_THROWS_WITH(parse_ulimit("nofile=1:" + bad),
                      fmt::format("invalid --ulimit \"nofile=1:{}\": {:?} is not a number, -1 or unlimited", bad, bad));
  auto u = parse_ulimit("nofile=100:2048");
  CHECK_NOTHROW(check_ulimit_allowed("nofile=100:2048", u, 2048));
  CHECK_NOTHROW(check_ulimit_allowed("nofile=100:2048", u, skiff::runtime::kRlimitInfinity));
  CHECK_THROWS_WITH(check_ulimit_allowed("nofile=100:2048", u, 1024),
                    "--ulimit nofile=100:2048: the hard limit 2048 is above your own hard limit of 1024, which only "
                    "root can raise");
  u = parse_ulimit("core=-1");
  CHECK_THROWS_WITH(check_ulimit_allowed("core=-1", u, 0),
                    "--ulimit core=-1: the hard limit unlimited is above your own hard limit of 0, which only root "
                    "can raise");
}
