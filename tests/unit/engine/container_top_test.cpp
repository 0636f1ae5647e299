// Finding a container's processes: by the inode of their pid namespace,
// from a first process named by its pid and start time.
#include "skiff/engine/container_top.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "skiff/engine/container_store.hpp"
#include "skiff/runtime/process_ref.hpp"
#include "skiff/store/file_lock.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/unique_fd.hpp"
#include "temp_store.hpp"

namespace fs = std::filesystem;
using namespace skiff::engine;
using skiff::store::FileLock;

namespace {

ContainerRecord record(std::string name) {
  return {.id = std::string(64, 'a'), .name = std::move(name), .image = "busybox", .driver = "overlay"};
}

// Runs a process that is PID 1 of a new pid namespace (in a new user
// namespace) with one child; kills them at the end.
struct NamespacedProcesses {
  pid_t outer = -1;  // ours: the process that made the namespaces
  pid_t first = -1;  // PID 1 in them, as the host numbers it

  NamespacedProcesses() {
    int fds[2];
    REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
    skiff::UniqueFd from_child(fds[0]), to_parent(fds[1]);
    std::fflush(stdout);  // the child must not write what the test printed
    outer = fork();
    if (outer == 0) {  // the child: no test macros here, they would report twice
      if (unshare(CLONE_NEWUSER | CLONE_NEWPID) != 0) _exit(1);
      pid_t init = fork();
      if (init == 0) {
        if (fork() == 0)
          for (;;) pause();
        for (;;) pause();
      }
      (void)!write(to_parent.get(), &init, sizeof init);
      waitpid(init, nullptr, 0);
      _exit(0);
    }
    REQUIRE(outer > 0);
    to_parent.reset();
    if (read(from_child.get(), &first, sizeof first) != sizeof first) first = -1;
  }
  ~NamespacedProcesses() {
    if (first > 0) kill(first, SIGKILL);  // PID 1: the namespace goes with it
    if (outer > 0) waitpid(outer, nullptr, 0);
  }
};

}  // namespace

TEST_CASE("container top: a process's pid namespace, and the processes in one") {
  auto own = pid_namespace_of(getpid());
  REQUIRE(own);
  CHECK(pid_namespace_of(getppid()) == own);
  CHECK_FALSE(pid_namespace_of(0x3fffffff));  // above any pid_max
  auto pids = pids_in_namespace(*own);
  CHECK(std::find(pids.begin(), pids.end(), getpid()) != pids.end());
  CHECK(std::is_sorted(pids.begin(), pids.end()));
}

TEST_CASE("container top: only numbered entries of proc whose namespace is the one asked for") {
  TempStore t(false);
  fs::path proc = t.dir / "proc";
  for (const char* name : {"12", "34", "56", "self", "7x"}) fs::create_directories(proc / name / "ns");
  fs::create_symlink("/proc/self/ns/pid", proc / "12" / "ns" / "pid");
  fs::create_symlink("/proc/self/ns/mnt", proc / "34" / "ns" / "pid");  // another namespace
  fs::create_symlink("/proc/self/ns/pid", proc / "7x" / "ns" / "pid");  // not a pid
  fs::create_symlink("/proc/self/ns/pid", proc / "self" / "ns" / "pid");
  // 56 has no ns/pid: gone, or a zombie
  auto ns = pid_namespace_of(getpid());
  REQUIRE(ns);
  CHECK(pids_in_namespace(*ns, proc) == std::vector<pid_t>{12});
}

TEST_CASE("container top: a container that is not running, or whose pid is another process's now") {
  TempStore t;
  ContainerStore store(t.paths);
  ContainerRecord r = record("svc");
  store.create(r, {.status = ContainerStatus::kRunning});
  CHECK_THROWS_WITH(container_pids(t.paths, "nope"), "no such container: nope");
  CHECK_THROWS_WITH(container_pids(t.paths, "svc"), "container svc is not running");
  FileLock lock(store.lock_path(r.id));
  auto self = skiff::runtime::process_ref(getpid());
  REQUIRE(self);
  // The note's pid is ours, its start time is not: another process has the pid.
  lock.write_note(fmt::format("{} {}\n", getpid(), self->start_time + 1));
  CHECK_THROWS_WITH(container_pids(t.paths, "svc"), "container svc is not running");
  // Ours, and in skiff's own pid namespace: its processes are not told apart.
  lock.replace_note(self->text() + "\n");
  CHECK_THROWS_WITH(container_pids(t.paths, "svc"), Catch::Contains("shares skiff's pid namespace"));
}

TEST_CASE("container top: every process of the container's pid namespace, none of the host's") {
  NamespacedProcesses p;
  if (p.first <= 0) {
    WARN("no user namespace here: nothing to check");
    return;
  }
  TempStore t;
  ContainerStore store(t.paths);
  ContainerRecord r = record("ns");
  store.create(r, {.status = ContainerStatus::kRunning});
  FileLock lock(store.lock_path(r.id));
  auto ref = skiff::runtime::process_ref(p.first);
  REQUIRE(ref);
  lock.write_note(ref->text() + "\n");
  std::vector<pid_t> pids;
  for (int i = 0; i < 1000 && pids.size() < 2; ++i) {  // until PID 1's child is there
    pids = container_pids(t.paths, "ns");
    if (pids.size() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  REQUIRE(pids.size() == 2);
  CHECK(std::find(pids.begin(), pids.end(), p.first) != pids.end());
  CHECK(std::find(pids.begin(), pids.end(), getpid()) == pids.end());
  CHECK(std::find(pids.begin(), pids.end(), p.outer) == pids.end());
}
