// A detached container's log, in the k8s-file format podman writes: one
// line per line of output, "TIME STREAM F|P TEXT\n", TIME in RFC 3339 with
// nanoseconds (UTC), STREAM stdout or stderr, P for a part of a line whose
// rest follows (the container wrote it without a newline yet), F for the
// last part. stdout and stderr stay apart, and lines keep their times.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/util/unique_fd.hpp"

namespace skiff::runtime {

enum class LogStream { kStdout, kStderr };

// Appends to the log at path. Bounded: once the file holds max_size bytes
// or more, it becomes PATH.1 (replacing an older one) and a new file is
// begun, so the log takes at most about twice max_size. 0: unbounded.
class LogWriter {
 public:
  LogWriter(std::filesystem::path path, uint64_t max_size);
  // data as the container wrote it: cut into lines, each stamped now.
  void write(LogStream stream, std::string_view data);

 private:
  void append(std::string_view record);
  std::filesystem::path path_;
  uint64_t max_size_;
  uint64_t size_ = 0;
  UniqueFd fd_;
};

// A line of the log, its parts joined.
struct LogEntry {
  std::string time;  // as written: RFC 3339, nanoseconds, UTC
  LogStream stream = LogStream::kStdout;
  std::string text;     // with its newline, unless the container wrote none
  int64_t time_ns = 0;  // time, as nanoseconds since the epoch
};

// Reads a log as it grows: the rotated PATH.1 first, then PATH. A part of
// a line whose rest is not written yet is held back until it is, or until
// finish().
class LogReader {
 public:
  explicit LogReader(std::filesystem::path path);
  // The entries written since the last call (all of them, the first time).
  std::vector<LogEntry> read_new();
  // Whatever is held back, for when nothing more will be written.
  std::vector<LogEntry> finish();

 private:
  void take(std::string_view chunk, std::vector<LogEntry>& out);
  std::filesystem::path path_;
  bool started_ = false;
  ino_t inode_ = 0;
  uint64_t offset_ = 0;
  std::string buffer_;                  // a record not ended yet
  std::optional<LogEntry> partial_[2];  // per stream: a line begun, not ended
};

}  // namespace skiff::runtime
