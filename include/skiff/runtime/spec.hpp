// The OCI runtime spec (config.json) as structs: the contract between engine
// and runtime. Field names are the spec's; skiff's own additions are marked.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/userns/id_mapping.hpp"

namespace skiff::runtime {

// A mapping of the spec's linux.uidMappings/gidMappings.
using IdMapping = userns::IdMapping;

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t umask = 022;  // runc's default when the spec gives none
  std::vector<uint32_t> additionalGids;
};

// process.rlimits[]: type is the spec's "RLIMIT_NOFILE", ...; a value of
// kRlimitInfinity (rlimits.hpp) is no limit.
struct POSIXRlimit {
  std::string type;
  uint64_t hard = 0;
  uint64_t soft = 0;
};

struct Process {
  bool terminal = false;
  User user;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd = "/";
  std::vector<std::string> capabilities;  // bounding = effective = permitted (spec has five sets)
  bool noNewPrivileges = false;
  std::vector<POSIXRlimit> rlimits;  // set before exec
};

struct Mount {
  std::string destination;
  std::string type;  // "bind", "proc", "tmpfs", ...
  std::string source;
  std::vector<std::string> options;
  // skiff extension: a file with this content, made in memory (on the
  // container's /dev tmpfs) and bound onto destination; source is unused.
  // /etc/hosts and friends need no file on disk, to write or to remove.
  std::optional<std::string> content;
};

// skiff extension: how to assemble the root filesystem inside the namespace.
struct RootfsLayers {
  enum class Driver { kOverlay, kFuseOverlayfs, kCopy };
  Driver driver = Driver::kOverlay;
  std::string layers_dir;              // lowerdirs are relative to it (keeps the mount data short)
  std::vector<std::string> lowerdirs;  // top layer first, as overlayfs wants
  std::string upperdir;
  std::string workdir;
  bool volatile_upper = false;  // no sync of the upper layer on unmount (--rm)
};

// Kernel overlay's mount data for l: lowerdirs as l names them (relative ones
// are found from l.layers_dir, which must then be the cwd: the data stays
// under the kernel's one-page limit for deep images), read-only without an
// upperdir.
std::string overlay_mount_data(const RootfsLayers& l);
// fuse-overlayfs's -o argument for l.
std::string fuse_overlayfs_options(const RootfsLayers& l);

struct Root {
  std::string path;  // where the rootfs is (mounted)
  bool readonly = false;
  std::optional<RootfsLayers> layers;  // skiff extension
};

// linux.namespaces[].type; the spec's names are namespace_type_name's.
enum class NamespaceType { kPid, kNetwork, kMount, kIpc, kUts, kUser, kCgroup };
const char* namespace_type_name(NamespaceType t);
// "pid", "network", ...; throws Error for another name.
NamespaceType parse_namespace_type(std::string_view name);

struct Namespace {
  NamespaceType type = NamespaceType::kPid;
  std::string path;  // an existing namespace to join, else empty
};

// linux.seccomp, with the spec's names (actions "SCMP_ACT_ALLOW", ...,
// architectures "SCMP_ARCH_X86_64", ..., ops "SCMP_CMP_EQ", ...).
struct SeccompArg {
  uint32_t index = 0;
  uint64_t value = 0;
  uint64_t valueTwo = 0;
  std::string op;
};
struct SeccompSyscall {
  std::vector<std::string> names;
  std::string action;
  std::optional<uint32_t> errnoRet;
  std::vector<SeccompArg> args;  // all must match
};
struct Seccomp {
  std::string defaultAction;
  std::optional<uint32_t> defaultErrnoRet;
  std::vector<std::string> architectures;
  std::vector<std::string> flags;
  std::vector<SeccompSyscall> syscalls;
};

struct Linux {
  std::vector<Namespace> namespaces;
  std::optional<Seccomp> seccomp;
  std::vector<IdMapping> uidMappings;
  std::vector<IdMapping> gidMappings;
  std::vector<std::string> maskedPaths;
  std::vector<std::string> readonlyPaths;
  // Kernel parameters of the container's namespaces ("kernel.shm_rmid_forced"
  // -> "1"), written under the container's /proc/sys once it is mounted.
  std::map<std::string, std::string> sysctl;
};

struct Spec {
  std::string ociVersion = "1.1.0";
  Process process;
  Root root;
  std::string hostname;
  std::vector<Mount> mounts;
  Linux linux;
  bool init = false;  // skiff extension: --init, a reaping, forwarding PID 1
  // skiff extension (runc's --preserve-fds): the caller's fds 3 .. 3+N-1
  // reach the process as the same numbers.
  int preserve_fds = 0;
  // skiff extension: the process's stdout and stderr are these fds of the
  // caller (open when the ContainerStart is made), else the caller's own.
  // Not with a terminal.
  int stdin_fd = -1;  // with keep_stdin unset: the process's stdin instead of /dev/null
  int stdout_fd = -1;
  int stderr_fd = -1;
  // skiff extension: answer the calls that change owners or ids (chown,
  // setuid, setgroups, ...) and device mknod with success, doing nothing. A
  // build step with a single-id map needs it: package managers make such
  // calls and stop when they fail.
  bool fake_id_calls = false;
  // skiff extension: a seccomp program compiled already (the engine keeps
  // the programs of the profiles it uses); it is installed instead of
  // linux.seccomp, which the runtime compiles when this is empty.
  std::vector<sock_filter> seccomp_program;
};

// The defaults docker and podman give every container.
std::vector<std::string> default_capabilities();
std::vector<std::string> default_masked_paths();
std::vector<std::string> default_readonly_paths();

}  // namespace skiff::runtime
