#include "skiff/userns/userns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>

#include "skiff/util/error.hpp"

using namespace skiff::userns;

namespace {

bool write_file(const char* path, const char* text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = write(fd, text, strlen(text)) == static_cast<ssize_t>(strlen(text));
  close(fd);
  return ok;
}

}  // namespace

// skiff run joins its container's user namespace for good; cleaning up "in
// the namespace" must then run where skiff is, not fail to enter it again.
TEST_CASE("run_in_existing_userns runs in the namespace it is given, also from inside it") {
  int p[2];
  REQUIRE(pipe(p) == 0);
  pid_t pid = fork();
  if (pid == 0) {  // (no Catch assertion here: the child would report it too)
    // 0: ran from inside; 2: no user namespaces here; 1: failed.
    char uid_line[64], gid_line[64];
    snprintf(uid_line, sizeof uid_line, "0 %d 1\n", static_cast<int>(getuid()));
    snprintf(gid_line, sizeof gid_line, "0 %d 1\n", static_cast<int>(getgid()));
    if (unshare(CLONE_NEWUSER) != 0) _exit(2);
    if (!write_file("/proc/self/setgroups", "deny") || !write_file("/proc/self/uid_map", uid_line) ||
        !write_file("/proc/self/gid_map", gid_line))
      _exit(1);
    int ns = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
    if (ns < 0) _exit(1);
    try {
      run_in_existing_userns(ns, [&] {
        char ok = 'y';
        if (write(p[1], &ok, 1) != 1) throw skiff::Error("write");
      });
    } catch (const std::exception&) {
      _exit(1);
    }
    _exit(0);
  }
  REQUIRE(pid > 0);
  close(p[1]);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 2) {
    close(p[0]);
    WARN("no user namespaces on this host: nothing to check");
    return;
  }
  CHECK(WEXITSTATUS(status) == 0);
  char got = 0;
  CHECK(read(p[0], &got, 1) == 1);
  CHECK(got == 'y');
  close(p[0]);
}
