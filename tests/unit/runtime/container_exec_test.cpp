#include "skiff/runtime/container_exec.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "skiff/runtime/process_ref.hpp"

using skiff::runtime::ContainerJoin;

namespace {

// A child that sleeps until killed.
pid_t sleeping_child() {
  pid_t pid = fork();
  if (pid == 0) {
    pause();
    _exit(0);
  }
  return pid;
}

}  // namespace

TEST_CASE("ContainerJoin: a live child of the given parent is joined") {
  pid_t pid = sleeping_child();
  REQUIRE(pid > 0);
  auto join = ContainerJoin::open(pid, 0, getpid());
  REQUIRE(join);
  auto started = skiff::runtime::process_start_time(pid);
  REQUIRE(started);
  CHECK(ContainerJoin::open(pid, *started, getpid()));
  CHECK(join->pid() == pid);
  CHECK(join->root_fd() >= 0);
  CHECK(join->maps_uid(0));  // the same user namespace as the test's: every id
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

TEST_CASE("ContainerJoin: a pid held by a process of another parent or start time is not the container's") {
  pid_t pid = sleeping_child();
  REQUIRE(pid > 0);
  CHECK_FALSE(ContainerJoin::open(pid, 0, getppid()));
  // Nor one that started at another time than the note says.
  auto started = skiff::runtime::process_start_time(pid);
  REQUIRE(started);
  CHECK_FALSE(ContainerJoin::open(pid, *started + 1, getpid()));
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

TEST_CASE("ContainerJoin: a process that exited is not joined, zombie or reaped") {
  pid_t pid = sleeping_child();
  REQUIRE(pid > 0);
  kill(pid, SIGKILL);
  siginfo_t info{};
  waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT);  // a zombie now
  CHECK_FALSE(ContainerJoin::open(pid, 0, getpid()));
  waitpid(pid, nullptr, 0);
  CHECK_FALSE(ContainerJoin::open(pid, 0, getpid()));
  CHECK_FALSE(ContainerJoin::open(0, 0, getpid()));
}
