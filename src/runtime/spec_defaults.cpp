#include <fmt/format.h>

#include "skiff/runtime/spec.hpp"
#include "skiff/util/error.hpp"

namespace skiff::runtime {

namespace {
constexpr std::pair<NamespaceType, const char*> kNamespaceNames[] = {
    {NamespaceType::kPid, "pid"},      {NamespaceType::kNetwork, "network"}, {NamespaceType::kMount, "mount"},
    {NamespaceType::kIpc, "ipc"},      {NamespaceType::kUts, "uts"},         {NamespaceType::kUser, "user"},
    {NamespaceType::kCgroup, "cgroup"}};
}  // namespace

const char* namespace_type_name(NamespaceType t) {
  for (const auto& [type, name] : kNamespaceNames)
    if (type == t) return name;
  return "?";
}

NamespaceType parse_namespace_type(std::string_view name) {
  for (const auto& [type, n] : kNamespaceNames)
    if (name == n) return type;
  throw Error(fmt::format("unknown namespace type {:?}", std::string(name)));
}

// podman's default set (smaller than docker's: no NET_RAW, MKNOD, AUDIT_WRITE).
std::vector<std::string> default_capabilities() {
  return {"CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FOWNER",  "CAP_FSETID", "CAP_KILL",      "CAP_NET_BIND_SERVICE",
          "CAP_SETFCAP", "CAP_SETGID",       "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT"};
}

// As in docker and runc: kernel state a container must not read or change.
std::vector<std::string> default_masked_paths() {
  return {"/proc/acpi",
          "/proc/asound",
          "/proc/kcore",
          "/proc/keys",
          "/proc/latency_stats",
          "/proc/timer_list",
          "/proc/timer_stats",
          "/proc/sched_debug",
          "/proc/scsi",
          "/sys/firmware",
          "/sys/devices/virtual/powercap"};
}

std::vector<std::string> default_readonly_paths() {
  return {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
}

}  // namespace skiff::runtime
