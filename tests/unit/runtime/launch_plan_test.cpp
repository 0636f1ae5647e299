// A runtime::Spec turned into the plain data the forked child acts on: clone
// flags, the rootfs's overlay options, the mounts in the order the child
// makes them, and the process's settings.
#include "runtime/launch_plan.hpp"

#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <memory_resource>
#include <string>
#include <vector>

#include "skiff/runtime/rlimits.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

namespace fs = std::filesystem;
using namespace skiff::runtime;
using Kind = MountOp::Kind;

namespace {

// A plan's C string, printable when Catch shows a failed comparison.
std::string text(const char* s) {
  return s ? s : "<null>";
}

// The smallest spec fill_launch_plan accepts: a command.
Spec minimal_spec() {
  Spec spec;
  spec.root.path = "/run/c/rootfs";
  spec.process.args = {"sh", "-c", "true"};
  return spec;
}

struct Plan {
  LaunchPlan plan{std::pmr::new_delete_resource()};
  explicit Plan(const Spec& spec, bool full_id_map = false) { fill_launch_plan(plan, spec, full_id_map, false); }
};

RootfsLayers three_layers() {
  RootfsLayers l;
  l.layers_dir = "/store/layers";
  l.lowerdirs = {"top", "mid", "/elsewhere/bottom"};
  l.upperdir = "/store/c/upper";
  l.workdir = "/store/c/work";
  return l;
}

}  // namespace

TEST_CASE("clone flags: user and mount always, one flag per namespace asked for") {
  CHECK(namespace_clone_flags({}) == (CLONE_NEWUSER | CLONE_NEWNS));
  CHECK(namespace_clone_flags({{NamespaceType::kUser}, {NamespaceType::kMount}}) == (CLONE_NEWUSER | CLONE_NEWNS));
  CHECK(namespace_clone_flags({{NamespaceType::kPid}, {NamespaceType::kNetwork}}) ==
        (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET));
  CHECK(namespace_clone_flags({{NamespaceType::kIpc}, {NamespaceType::kUts}, {NamespaceType::kCgroup}}) ==
        (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP));
}

TEST_CASE("clone flags: joining an existing namespace is refused, naming its type") {
  CHECK_THROWS_WITH(namespace_clone_flags({{NamespaceType::kPid}, {NamespaceType::kNetwork, "/proc/1/ns/net"}}),
                    "joining an existing network namespace is not supported yet");
  Spec spec = minimal_spec();
  spec.linux.namespaces = {{NamespaceType::kIpc, "/proc/1/ns/ipc"}};
  LaunchPlan plan(std::pmr::new_delete_resource());
  CHECK_THROWS_WITH(fill_launch_plan(plan, spec, false, false),
                    "joining an existing ipc namespace is not supported yet");
}

TEST_CASE("overlay mount data: lowerdirs as given, upper and work, userxattr, volatile only with an upper") {
  RootfsLayers l = three_layers();
  CHECK(overlay_mount_data(l) ==
        "lowerdir=top:mid:/elsewhere/bottom,upperdir=/store/c/upper,workdir=/store/c/work,userxattr");
  l.volatile_upper = true;
  CHECK(overlay_mount_data(l) ==
        "lowerdir=top:mid:/elsewhere/bottom,upperdir=/store/c/upper,workdir=/store/c/work,userxattr,volatile");
  // Read-only: no upper layer, so nothing to skip the sync of.
  l.upperdir.clear();
  l.workdir.clear();
  CHECK(overlay_mount_data(l) == "lowerdir=top:mid:/elsewhere/bottom,userxattr");
}

TEST_CASE("fuse-overlayfs options: the same directories, no kernel-only options") {
  RootfsLayers l = three_layers();
  l.volatile_upper = true;
  CHECK(fuse_overlayfs_options(l) ==
        "lowerdir=top:mid:/elsewhere/bottom,upperdir=/store/c/upper,workdir=/store/c/work");
  l.upperdir.clear();
  l.workdir.clear();
  CHECK(fuse_overlayfs_options(l) == "lowerdir=top:mid:/elsewhere/bottom");
}

TEST_CASE("plan: the rootfs and how its layers are mounted, per driver") {
  Spec spec = minimal_spec();
  spec.root.readonly = true;
  {
    Plan p(spec);
    CHECK(text(p.plan.rootfs) == "/run/c/rootfs");
    CHECK(p.plan.readonly_root);
    CHECK_FALSE(p.plan.has_layers);
    CHECK(p.plan.overlay_data == nullptr);
    CHECK(p.plan.fuse_argv == nullptr);
  }
  spec.root.readonly = false;
  spec.root.layers = three_layers();
  {
    Plan p(spec);
    CHECK_FALSE(p.plan.readonly_root);
    CHECK(p.plan.has_layers);
    CHECK(p.plan.driver == RootfsLayers::Driver::kOverlay);
    CHECK(text(p.plan.layers_dir) == "/store/layers");
    CHECK(text(p.plan.overlay_data) == overlay_mount_data(*spec.root.layers));
    CHECK(p.plan.fuse_argv == nullptr);
  }
  spec.root.layers->driver = RootfsLayers::Driver::kFuseOverlayfs;
  {
    Plan p(spec);
    CHECK(p.plan.driver == RootfsLayers::Driver::kFuseOverlayfs);
    CHECK(p.plan.overlay_data == nullptr);
    REQUIRE(p.plan.fuse_argv != nullptr);
    CHECK(text(p.plan.fuse_argv[0]) == "fuse-overlayfs");
    CHECK(text(p.plan.fuse_argv[1]) == "-o");
    CHECK(text(p.plan.fuse_argv[2]) == fuse_overlayfs_options(*spec.root.layers));
    CHECK(text(p.plan.fuse_argv[3]) == "/run/c/rootfs");
    CHECK(p.plan.fuse_argv[4] == nullptr);
  }
  spec.root.layers->driver = RootfsLayers::Driver::kCopy;
  {
    Plan p(spec);
    CHECK(p.plan.has_layers);
    CHECK(p.plan.overlay_data == nullptr);
    CHECK(p.plan.fuse_argv == nullptr);
  }
}

TEST_CASE("plan: mounts in the spec's order, as mounts, binds (recursive or not, read-only) and masks") {
  fs::path dir = fs::temp_directory_path() / ("skiff-unit-" + skiff::random_hex(8));
  fs::create_directories(dir / "data");
  std::ofstream(dir / "file") << "x";
  Spec spec = minimal_spec();
  spec.mounts = {
      {"/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}},
      {"/tmp", "tmpfs", "tmpfs", {"nosuid", "size=1m", "mode=1777", "rprivate"}},
      {"/data", "bind", (dir / "data").string(), {"ro"}},
      {"/etc/one", "none", (dir / "file").string(), {"bind"}},
      {"/etc/tree", "none", (dir / "data").string(), {"rbind", "ro", "rw"}},
  };
  spec.linux.maskedPaths = {"/proc/kcore"};
  spec.linux.readonlyPaths = {"/proc/sys"};
  Plan p(spec);
  const auto& m = p.plan.mounts;
  REQUIRE(m.size() == 7);

  CHECK(m[0].kind == Kind::kMount);
  CHECK(text(m[0].target) == "/proc");
  CHECK(text(m[0].source) == "proc");
  CHECK(text(m[0].fstype) == "proc");
  CHECK(m[0].flags == (MS_NOSUID | MS_NOEXEC | MS_NODEV));
  CHECK(m[0].data == nullptr);

  // Options the kernel takes as data go there, in order; propagation ones are dropped.
  CHECK(m[1].kind == Kind::kMount);
  CHECK(text(m[1].target) == "/tmp");
  CHECK(m[1].flags == MS_NOSUID);
  CHECK(text(m[1].data) == "size=1m,mode=1777");

  // type "bind" is a recursive bind whatever its options say.
  CHECK(m[2].kind == Kind::kBind);
  CHECK(text(m[2].source) == (dir / "data").string());
  CHECK(text(m[2].target) == "/data");
  CHECK(m[2].recursive);
  CHECK(m[2].readonly);
  CHECK_FALSE(m[2].file);

  CHECK(m[3].kind == Kind::kBind);
  CHECK(text(m[3].target) == "/etc/one");
  CHECK_FALSE(m[3].recursive);
  CHECK_FALSE(m[3].readonly);
  CHECK(m[3].file);

  // The last of ro and rw wins.
  CHECK(m[4].kind == Kind::kBind);
  CHECK(m[4].recursive);
  CHECK_FALSE(m[4].readonly);

  CHECK(m[5].kind == Kind::kMask);
  CHECK(text(m[5].target) == "/proc/kcore");
  CHECK(m[6].kind == Kind::kReadonly);
  CHECK(text(m[6].target) == "/proc/sys");
  fs::remove_all(dir);
}

TEST_CASE("plan: a tmpfs on /dev brings the host's device nodes and the usual links, then files made in memory") {
  Spec spec = minimal_spec();
  spec.mounts = {
      {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
      {"/etc/hostname", "bind", "", {"rbind", "ro"}, "box\n"},
  };
  Plan p(spec);
  const auto& m = p.plan.mounts;
  REQUIRE(m.size() == 14);  // the tmpfs, 6 nodes, 6 links, the file
  CHECK(m[0].kind == Kind::kMount);
  CHECK(text(m[0].target) == "/dev");
  CHECK(m[0].flags == (MS_NOSUID | MS_STRICTATIME));
  CHECK(m[1].kind == Kind::kBind);
  CHECK(text(m[1].source) == "/dev/null");
  CHECK(text(m[1].target) == "/dev/null");
  CHECK(m[1].file);
  CHECK_FALSE(m[1].recursive);
  CHECK(m[7].kind == Kind::kSymlink);
  CHECK(text(m[7].source) == "/proc/self/fd");
  CHECK(text(m[7].target) == "/dev/fd");
  CHECK(m[13].kind == Kind::kData);
  CHECK(text(m[13].target) == "/etc/hostname");
  CHECK(std::string(m[13].source, m[13].data_size) == "box\n");
  CHECK(m[13].file);
  CHECK(m[13].readonly);
}

TEST_CASE("plan: a file made in memory needs the /dev tmpfs first; destinations must be absolute") {
  Spec spec = minimal_spec();
  spec.mounts = {{"/etc/hosts", "bind", "", {"rbind"}, "127.0.0.1 localhost\n"}};
  LaunchPlan plan(std::pmr::new_delete_resource());
  CHECK_THROWS_WITH(fill_launch_plan(plan, spec, false, false),
                    "mount of /etc/hosts: a file made in memory needs a tmpfs on /dev before it");
  spec.mounts = {{"etc/hosts", "tmpfs", "tmpfs", {}}};
  LaunchPlan relative(std::pmr::new_delete_resource());
  CHECK_THROWS_WITH(fill_launch_plan(relative, spec, false, false),
                    "mount destination \"etc/hosts\" is not an absolute path");
}

TEST_CASE("plan: devpts loses its gid option with a single-id map (there is no group 5 inside)") {
  Spec spec = minimal_spec();
  spec.mounts = {{"/dev/pts", "devpts", "devpts", {"nosuid", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}};
  Plan single(spec, false);
  REQUIRE(single.plan.mounts.size() == 1);
  CHECK(text(single.plan.mounts[0].data) == "newinstance,ptmxmode=0666,mode=0620");
  Plan full(spec, true);
  REQUIRE(full.plan.mounts.size() == 1);
  CHECK(text(full.plan.mounts[0].data) == "newinstance,ptmxmode=0666,mode=0620,gid=5");
}

TEST_CASE("plan: sysfs waits until just before the first mount or mask below /sys") {
  Spec spec = minimal_spec();
  spec.mounts = {
      {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}},
      {"/tmp", "tmpfs", "tmpfs", {}},
  };
  spec.linux.maskedPaths = {"/sys/firmware", "/proc/kcore"};
  Plan p(spec);
  const auto& m = p.plan.mounts;
  REQUIRE(m.size() == 4);
  CHECK(text(m[0].target) == "/tmp");
  CHECK(text(m[1].target) == "/proc/kcore");
  CHECK(text(m[2].target) == "/sys");
  CHECK(m[2].kind == Kind::kMount);
  CHECK(m[2].bind_fallback);
  CHECK(m[2].flags == (MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY));
  CHECK(text(m[3].target) == "/sys/firmware");
  CHECK(m[3].kind == Kind::kMask);
}

TEST_CASE("plan: the process's command, environment, user and capabilities") {
  Spec spec = minimal_spec();
  spec.hostname = "box";
  spec.process.env = {"A=1", "PATH=/opt/bin:/bin"};
  spec.process.cwd = "/work";
  spec.process.user = {.uid = 1000, .gid = 100, .umask = 01027, .additionalGids = {10, 20}};
  spec.process.capabilities = {"CAP_CHOWN", "kill"};
  spec.process.noNewPrivileges = true;
  spec.init = true;
  Plan p(spec, true);
  CHECK(text(p.plan.hostname) == "box");
  REQUIRE(p.plan.argv != nullptr);
  CHECK(text(p.plan.argv[0]) == "sh");
  CHECK(text(p.plan.argv[2]) == "true");
  CHECK(p.plan.argv[3] == nullptr);
  CHECK(text(p.plan.envp[1]) == "PATH=/opt/bin:/bin");
  CHECK(p.plan.envp[2] == nullptr);
  CHECK(text(p.plan.path_env) == "/opt/bin:/bin");
  CHECK(text(p.plan.cwd) == "/work");
  CHECK(p.plan.uid == 1000);
  CHECK(p.plan.gid == 100);
  CHECK(p.plan.umask == 027);
  CHECK(std::vector<gid_t>(p.plan.groups.begin(), p.plan.groups.end()) == std::vector<gid_t>{10, 20});
  CHECK(p.plan.setgroups_allowed);
  CHECK(p.plan.capabilities == ((uint64_t{1} << 0) | (uint64_t{1} << 5)));  // CHOWN, KILL
  CHECK(p.plan.no_new_privs);
  CHECK(p.plan.init);
  CHECK_FALSE(Plan(minimal_spec(), false).plan.setgroups_allowed);
  CHECK(text(Plan(minimal_spec()).plan.path_env) == "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");

  spec.process.capabilities = {"CAP_FLY"};
  LaunchPlan bad_cap(std::pmr::new_delete_resource());
  CHECK_THROWS_WITH(fill_launch_plan(bad_cap, spec, true, false), "unknown capability \"CAP_FLY\"");
  spec.process.args.clear();
  LaunchPlan no_args(std::pmr::new_delete_resource());
  CHECK_THROWS_WITH(fill_launch_plan(no_args, spec, true, false),
                    "no command given and the image has no CMD or ENTRYPOINT");
}

TEST_CASE("plan: preserved fds counted, a negative count refused; stdout and stderr fds passed through") {
  Spec spec = minimal_spec();
  {
    Plan p(spec);
    CHECK(p.plan.preserve_fds == 0);
    CHECK(p.plan.stdout_fd == -1);
    CHECK(p.plan.stderr_fd == -1);
  }
  spec.preserve_fds = 2;
  spec.stdout_fd = 7;
  spec.stderr_fd = 9;
  {
    Plan p(spec);
    CHECK(p.plan.preserve_fds == 2);
    CHECK(p.plan.stdout_fd == 7);
    CHECK(p.plan.stderr_fd == 9);
  }
  spec.preserve_fds = -1;
  LaunchPlan plan(std::pmr::new_delete_resource());
  CHECK_THROWS_AS(fill_launch_plan(plan, spec, false, false), skiff::Error);
  LaunchPlan again(std::pmr::new_delete_resource());
  CHECK_THROWS_WITH(fill_launch_plan(again, spec, false, false), "invalid number of file descriptors to preserve: -1");
}

TEST_CASE("plan: sysctls written right after the container's /proc, keys as paths below it; rlimits by number") {
  Spec spec = minimal_spec();
  spec.mounts = {Mount{"/dev", "tmpfs", "tmpfs", {}}, Mount{"/proc", "proc", "proc", {"nosuid"}}};
  spec.linux.readonlyPaths = {"/proc/sys"};
  spec.linux.sysctl = {{"kernel.shm_rmid_forced", "1"}, {"net.ipv4.ip_unprivileged_port_start", "0"}};
  spec.process.rlimits = {{.type = "RLIMIT_NOFILE", .hard = 200, .soft = 100},
                          {.type = "RLIMIT_CORE", .hard = kRlimitInfinity, .soft = 0}};
  Plan p(spec);
  REQUIRE(p.plan.sysctl_after >= 0);
  const MountOp& proc = p.plan.mounts[static_cast<size_t>(p.plan.sysctl_after)];
  CHECK(proc.kind == Kind::kMount);
  CHECK(text(proc.fstype) == "proc");
  CHECK(text(proc.target) == "/proc");
  // Before the read-only /proc/sys, which comes after every mount.
  CHECK(p.plan.mounts.back().kind == Kind::kReadonly);
  CHECK(p.plan.sysctl_after < static_cast<int>(p.plan.mounts.size()) - 1);
  REQUIRE(p.plan.sysctls.size() == 2);
  CHECK(text(p.plan.sysctls[0].key) == "kernel.shm_rmid_forced");
  CHECK(text(p.plan.sysctls[0].path) == "sys/kernel/shm_rmid_forced");
  CHECK(text(p.plan.sysctls[0].value) == "1");
  CHECK_FALSE(p.plan.sysctls[0].net);
  CHECK(text(p.plan.sysctls[1].path) == "sys/net/ipv4/ip_unprivileged_port_start");
  CHECK(p.plan.sysctls[1].net);
  REQUIRE(p.plan.rlimits.size() == 2);
  CHECK(text(p.plan.rlimits[0].type) == "RLIMIT_NOFILE");
  CHECK(p.plan.rlimits[0].resource == RLIMIT_NOFILE);
  CHECK(p.plan.rlimits[0].soft == 100);
  CHECK(p.plan.rlimits[0].hard == 200);
  CHECK(p.plan.rlimits[1].resource == RLIMIT_CORE);
  CHECK(p.plan.rlimits[1].hard == RLIM_INFINITY);

  // Without sysctls or rlimits, nothing.
  Plan none(minimal_spec());
  CHECK(none.plan.sysctl_after == -1);
  CHECK(none.plan.sysctls.empty());
  CHECK(none.plan.rlimits.empty());
}

TEST_CASE("plan: a sysctl needs a /proc, a key that stays below /proc/sys and a one-line value; rlimits are checked") {
  auto refused = [](const Spec& spec) {
    LaunchPlan plan(std::pmr::new_delete_resource());
    try {
      fill_launch_plan(plan, spec, false, false);
    } catch (const skiff::Error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  Spec spec = minimal_spec();
  spec.linux.sysctl = {{"kernel.shm_rmid_forced", "1"}};
  CHECK(refused(spec) == "linux.sysctl needs the container's /proc: the spec mounts no proc there");
  spec.mounts = {Mount{"/proc", "proc", "proc", {}}};
  CHECK(refused(spec) == "accepted");
  for (std::string key : {"kernel/../../x", "../etc", "kernel..x", ".kernel", "Kernel.X", "kernel.x/"}) {
    spec.linux.sysctl = {{key, "1"}};
    CHECK(refused(spec) == fmt::format("invalid sysctl name {:?}", key));
  }
  spec.linux.sysctl = {{"kernel.shm_rmid_forced", "1\nkernel.core_pattern=|/x"}};
  CHECK(refused(spec) == "invalid value for sysctl kernel.shm_rmid_forced: it must be one line");
  spec.linux.sysctl.clear();
  spec.process.rlimits = {{.type = "RLIMIT_FLY", .hard = 1, .soft = 1}};
  CHECK(refused(spec) == "unknown rlimit type \"RLIMIT_FLY\"");
  spec.process.rlimits = {{.type = "RLIMIT_NOFILE", .hard = 1, .soft = 2}};
  CHECK(refused(spec) == "rlimit RLIMIT_NOFILE: the soft limit 2 is above the hard limit 1");
}
