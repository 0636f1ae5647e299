#include "skiff/runtime/capabilities.hpp"

#include <sys/prctl.h>

#include <array>
#include <cctype>
#include <string>

namespace skiff::runtime {

static constexpr std::array<std::string_view, 41> kNames = {"CHOWN",
                                                            "DAC_OVERRIDE",
                                                            "DAC_READ_SEARCH",
                                                            "FOWNER",
                                                            "FSETID",
                                                            "KILL",
                                                            "SETGID",
                                                            "SETUID",
                                                            "SETPCAP",
                                                            "LINUX_IMMUTABLE",
                                                            "NET_BIND_SERVICE",
                                                            "NET_BROADCAST",
                                                            "NET_ADMIN",
                                                            "NET_RAW",
                                                            "IPC_LOCK",
                                                            "IPC_OWNER",
                                                            "SYS_MODULE",
                                                            "SYS_RAWIO",
                                                            "SYS_CHROOT",
                                                            "SYS_PTRACE",
                                                            "SYS_PACCT",
                                                            "SYS_ADMIN",
                                                            "SYS_BOOT",
                                                            "SYS_NICE",
                                                            "SYS_RESOURCE",
                                                            "SYS_TIME",
                                                            "SYS_TTY_CONFIG",
                                                            "MKNOD",
                                                            "LEASE",
                                                            "AUDIT_WRITE",
                                                            "AUDIT_CONTROL",
                                                            "SETFCAP",
                                                            "MAC_OVERRIDE",
                                                            "MAC_ADMIN",
                                                            "SYSLOG",
                                                            "WAKE_ALARM",
                                                            "BLOCK_SUSPEND",
                                                            "AUDIT_READ",
                                                            "PERFMON",
                                                            "BPF",
                                                            "CHECKPOINT_RESTORE"};

std::optional<int> capability_number(std::string_view name) {
  std::string upper;
  for (char c : name) upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  std::string_view n = upper;
  if (n.substr(0, 4) == "CAP_") n.remove_prefix(4);
  for (size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i] == n) return static_cast<int>(i);
  return std::nullopt;
}

std::string_view capability_name(int number) {
  if (number < 0 || static_cast<size_t>(number) >= kNames.size()) return {};
  return kNames[static_cast<size_t>(number)];
}

int last_capability() {
  // Asked of the bounding set (EINVAL past the last capability): a few
  // system calls cost less than opening /proc/sys/kernel/cap_last_cap.
  static int last = [] {
    auto known = [](int cap) { return prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; };
    int cap = static_cast<int>(kNames.size()) - 1;
    if (known(cap)) {
      while (cap < 63 && known(cap + 1)) ++cap;
    } else {
      while (cap > 0 && !known(cap)) --cap;
    }
    return cap;
  }();
  return last;
}

}  // namespace skiff::runtime
