#include "skiff/runtime/process_ref.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>

#include "skiff/util/error.hpp"

namespace skiff::runtime {

std::string ProcessRef::text() const {
  return fmt::format("{} {}", pid, start_time);
}

std::optional<ProcessRef> ProcessRef::parse(std::string_view text) {
  ProcessRef ref;
  const char* p = text.data();
  const char* end = p + text.size();
  auto [after_pid, ec] = std::from_chars(p, end, ref.pid);
  if (ec != std::errc() || ref.pid <= 0 || after_pid == end || *after_pid != ' ') return std::nullopt;
  auto [after_start, ec2] = std::from_chars(after_pid + 1, end, ref.start_time);
  if (ec2 != std::errc()) return std::nullopt;
  return ref;
}

std::optional<uint64_t> process_start_time(pid_t pid) {
  char path[32];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buf[1024];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return std::nullopt;
  buf[n] = 0;
  // The command name, field 2, may hold spaces and parentheses: fields
  // are counted from the last ')'.
  std::string_view s(buf, static_cast<size_t>(n));
  size_t at = s.rfind(')');
  if (at == std::string_view::npos) return std::nullopt;
  // After ')' come fields 3 (state) onwards; the start time is field 22.
  int field = 2;
  size_t i = at + 1;
  while (i < s.size() && field < 22) {
    if (s[i] == ' ') ++field;
    ++i;
  }
  uint64_t start = 0;
  auto [end, ec] = std::from_chars(s.data() + i, s.data() + s.size(), start);
  if (ec != std::errc()) return std::nullopt;
  return start;
}

std::optional<ProcessRef> process_ref(pid_t pid) {
  auto start = process_start_time(pid);
  if (!start) return std::nullopt;
  return ProcessRef{pid, *start};
}

UniqueFd open_process(const ProcessRef& ref) {
  if (ref.pid <= 0) return UniqueFd();
  UniqueFd fd(static_cast<int>(syscall(SYS_pidfd_open, ref.pid, 0)));
  if (!fd) {
    if (errno == ESRCH) return UniqueFd();
    throw_errno("pidfd_open");
  }
  // The pidfd names whatever had the pid when it was opened: that is the
  // process only if its start time is still ref's now (had it ended and
  // the pid been reused, the new process would start later).
  auto start = process_start_time(ref.pid);
  if (!start || *start != ref.start_time) return UniqueFd();
  return fd;
}

bool signal_process(int pidfd, int sig) {
  if (syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) == 0) return true;
  if (errno == ESRCH) return false;
  throw_errno("pidfd_send_signal");
}

bool wait_process_exit(int pidfd, int timeout_ms) {
  pollfd p{pidfd, POLLIN, 0};
  for (;;) {
    int r = poll(&p, 1, timeout_ms);
    if (r >= 0) return r > 0;
    if (errno != EINTR) throw_errno("poll");
  }
}

}  // namespace skiff::runtime
