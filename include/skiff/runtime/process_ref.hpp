// A process named so that a reused pid is never taken for it: its pid and
// its start time (field 22 of /proc/PID/stat, in clock ticks since boot).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "skiff/util/unique_fd.hpp"

namespace skiff::runtime {

struct ProcessRef {
  pid_t pid = 0;
  uint64_t start_time = 0;

  // "PID START", as records keep it.
  std::string text() const;
  static std::optional<ProcessRef> parse(std::string_view text);
  bool operator==(const ProcessRef&) const = default;
};

// pid's start time; nullopt when there is no such process.
std::optional<uint64_t> process_start_time(pid_t pid);
// The process as it is now.
std::optional<ProcessRef> process_ref(pid_t pid);

// A pidfd of the process ref names, if it still lives: the fd keeps
// naming it whatever happens to the pid. Empty when it is gone (or a
// process that is not it has the pid now).
UniqueFd open_process(const ProcessRef& ref);

// Sends sig through a pidfd. False when the process is gone (ESRCH).
bool signal_process(int pidfd, int sig);
// Waits for the process of a pidfd to end, at most timeout_ms (-1:
// forever). True when it has.
bool wait_process_exit(int pidfd, int timeout_ms);

}  // namespace skiff::runtime
