#include "skiff/runtime/container_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"
#include "skiff/util/time.hpp"

namespace skiff::runtime {

namespace fs = std::filesystem;

namespace {

const char* stream_name(LogStream s) {
  return s == LogStream::kStdout ? "stdout" : "stderr";
}

fs::path rotated(const fs::path& path) {
  return path.string() + ".1";
}

}  // namespace

LogWriter::LogWriter(fs::path path, uint64_t max_size) : path_(std::move(path)), max_size_(max_size) {
  fd_ = open_or_throw(path_, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  struct stat st {};
  if (fstat(fd_.get(), &st) == 0) size_ = static_cast<uint64_t>(st.st_size);
}

void LogWriter::append(std::string_view record) {
  if (max_size_ > 0 && size_ > 0 && size_ + record.size() > max_size_) {
    // Rotated by rename: a reader holding the old file reads it to its end.
    if (rename(path_.c_str(), rotated(path_).c_str()) == 0) {
      fd_ = open_or_throw(path_, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC | O_CLOEXEC, 0600);
      size_ = 0;
    }
  }
  // A full disk loses log lines, never the container: the write is tried once.
  ssize_t n = ::write(fd_.get(), record.data(), record.size());
  if (n > 0) size_ += static_cast<uint64_t>(n);
}

void LogWriter::write(LogStream stream, std::string_view data) {
  std::string stamp = rfc3339_nano(now_ns());
  while (!data.empty()) {
    size_t nl = data.find('\n');
    bool full = nl != std::string_view::npos;
    std::string_view line = data.substr(0, full ? nl : data.size());
    std::string record;
    record.reserve(stamp.size() + line.size() + 12);
    record.append(stamp).append(" ").append(stream_name(stream)).append(full ? " F " : " P ").append(line);
    record.push_back('\n');
    append(record);
    data.remove_prefix(full ? nl + 1 : data.size());
  }
}

LogReader::LogReader(fs::path path) : path_(std::move(path)) {}

void LogReader::take(std::string_view chunk, std::vector<LogEntry>& out) {
  buffer_.append(chunk);
  size_t start = 0;
  for (size_t nl; (nl = buffer_.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::string_view rec(buffer_.data() + start, nl - start);
    // TIME STREAM F|P TEXT
    size_t a = rec.find(' ');
    size_t b = a == std::string_view::npos ? a : rec.find(' ', a + 1);
    if (b == std::string_view::npos || b + 2 > rec.size()) continue;  // not a record: skipped
    std::string_view time = rec.substr(0, a);
    std::string_view stream = rec.substr(a + 1, b - a - 1);
    bool partial = rec[b + 1] == 'P';
    std::string_view text = b + 3 <= rec.size() ? rec.substr(b + 3) : std::string_view();
    LogStream s = stream == "stderr" ? LogStream::kStderr : LogStream::kStdout;
    std::optional<LogEntry>& entry = partial_[static_cast<int>(s)];
    if (!entry) {
      entry.emplace();
      entry->time = std::string(time);
      entry->time_ns = parse_rfc3339_ns(time).value_or(0);
      entry->stream = s;
    }
    entry->text.append(text);
    if (!partial) {
      entry->text.push_back('\n');
      out.push_back(std::move(*entry));
      entry.reset();
    }
  }
  buffer_.erase(0, start);
}

std::vector<LogEntry> LogReader::read_new() {
  std::vector<LogEntry> out;
  auto read_from = [&](const fs::path& p, uint64_t offset) -> std::pair<ino_t, uint64_t> {
    UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return {0, 0};
    struct stat st {};
    fstat(fd.get(), &st);
    if (static_cast<uint64_t>(st.st_size) < offset) offset = 0;  // begun anew
    char buf[65536];
    for (;;) {
      ssize_t n = pread(fd.get(), buf, sizeof buf, static_cast<off_t>(offset));
      if (n <= 0) break;
      offset += static_cast<uint64_t>(n);
      take(std::string_view(buf, static_cast<size_t>(n)), out);
    }
    return {st.st_ino, offset};
  };
  struct stat now {};
  bool exists = stat(path_.c_str(), &now) == 0;
  if (!started_) {
    started_ = true;
    read_from(rotated(path_), 0);
  } else if (exists && now.st_ino != inode_ && inode_ != 0) {
    // Rotated since the last read: the rest of the file read before is PATH.1 now.
    struct stat old {};
    if (stat(rotated(path_).c_str(), &old) == 0 && old.st_ino == inode_) read_from(rotated(path_), offset_);
    offset_ = 0;
  }
  if (exists) std::tie(inode_, offset_) = read_from(path_, now.st_ino == inode_ ? offset_ : 0);
  return out;
}

std::vector<LogEntry> LogReader::finish() {
  std::vector<LogEntry> out = read_new();
  for (auto& entry : partial_)
    if (entry) {
      out.push_back(std::move(*entry));
      entry.reset();
    }
  return out;
}

}  // namespace skiff::runtime
