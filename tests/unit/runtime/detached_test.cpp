// What a detached container's monitor and the commands that reach it rely
// on: the log (container_log) and naming a process safely (process_ref).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "skiff/runtime/container_log.hpp"
#include "skiff/runtime/process_ref.hpp"
#include "skiff/util/file_io.hpp"

namespace fs = std::filesystem;
using namespace skiff::runtime;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "skiff-detached-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() { fs::remove_all(path); }
};

std::string texts(const std::vector<LogEntry>& entries, LogStream stream) {
  std::string out;
  for (const auto& e : entries)
    if (e.stream == stream) out += e.text;
  return out;
}

}  // namespace

TEST_CASE("container log: lines keep their stream, parts of a line are joined per stream") {
  TempDir t;
  fs::path log = t.path / "ctr.log";
  LogWriter w(log, 0);
  w.write(LogStream::kStdout, "one\ntw");
  w.write(LogStream::kStderr, "err\n");
  w.write(LogStream::kStdout, "o\nthree");
  LogReader r(log);
  std::vector<LogEntry> got = r.read_new();
  CHECK(texts(got, LogStream::kStdout) == "one\ntwo\n");  // "three" waits for its end
  CHECK(texts(got, LogStream::kStderr) == "err\n");
  REQUIRE(got.size() == 3);
  CHECK(got[0].time_ns > 0);
  CHECK(got[0].time.size() == 30);  // 2026-12-07T19:00:00.123456789Z
  w.write(LogStream::kStdout, " and more\n");
  got = r.read_new();
  REQUIRE(got.size() == 1);
  CHECK(got[0].text == "three and more\n");
  w.write(LogStream::kStdout, "no newline");
  got = r.finish();
  REQUIRE(got.size() == 1);
  CHECK(got[0].text == "no newline");
}

TEST_CASE("container log: rotated past max_size, one older file kept, a reader misses nothing") {
  TempDir t;
  fs::path log = t.path / "ctr.log";
  LogWriter w(log, 200);
  LogReader follower(log);
  std::string all;
  std::string seen;
  for (int i = 0; i < 30; ++i) {
    std::string line = "line " + std::to_string(i) + "\n";
    all += line;
    w.write(LogStream::kStdout, line);
    if (i % 2 == 0) seen += texts(follower.read_new(), LogStream::kStdout);
    CHECK(fs::file_size(log) <= 200);
  }
  seen += texts(follower.finish(), LogStream::kStdout);
  CHECK(fs::exists(t.path / "ctr.log.1"));
  CHECK(fs::file_size(t.path / "ctr.log.1") <= 200);
  CHECK(seen == all);  // followed across rotations
  // A reader that comes later has the last two files' worth, in order.
  std::string late = texts(LogReader(log).finish(), LogStream::kStdout);
  CHECK(all.size() > late.size());
  CHECK(all.compare(all.size() - late.size(), late.size(), late) == 0);
}

TEST_CASE("container log: lines that are not records are skipped") {
  TempDir t;
  fs::path log = t.path / "ctr.log";
  skiff::write_file_atomic(log, "garbage\n2026-12-07T19:00:00.000000000Z stdout F ok\n\n");
  std::vector<LogEntry> got = LogReader(log).finish();
  REQUIRE(got.size() == 1);
  CHECK(got[0].text == "ok\n");
}

TEST_CASE("process ref: text round trip, bad text refused") {
  ProcessRef ref{1234, 56789};
  CHECK(ProcessRef::parse(ref.text()) == std::optional<ProcessRef>(ref));
  CHECK(ProcessRef::parse("1234 56789\n")->start_time == 56789);
  for (const char* bad : {"", "1234", "x 1", "-5 1", "0 1", "12 x"}) {
    INFO(bad);
    CHECK_FALSE(ProcessRef::parse(bad));
  }
}

TEST_CASE("process ref: a pidfd only for the process itself, never for a reused pid") {
  pid_t child = fork();
  if (child == 0) {  // (no Catch assertion here: the child would report it too)
    pause();
    _exit(0);
  }
  REQUIRE(child > 0);
  auto ref = process_ref(child);
  REQUIRE(ref);
  CHECK(ref->start_time == process_start_time(child));
  skiff::UniqueFd fd = open_process(*ref);
  REQUIRE(fd);
  // Another start time is another process that had the pid.
  CHECK_FALSE(open_process({child, ref->start_time + 1}));
  CHECK_FALSE(wait_process_exit(fd.get(), 0));
  CHECK(signal_process(fd.get(), SIGKILL));
  CHECK(wait_process_exit(fd.get(), -1));
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WTERMSIG(status) == SIGKILL);
  CHECK_FALSE(signal_process(fd.get(), SIGKILL));  // gone: false, no throw
  CHECK_FALSE(open_process(*ref));
  CHECK_FALSE(process_start_time(child));
}
