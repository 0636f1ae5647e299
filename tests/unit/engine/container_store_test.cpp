// Containers as records on disk, in a store of the test's own: what create
// writes is what resolve and list read back, a name is taken once, and a
// container runs exactly while someone holds its lock.
#include "skiff/engine/container_store.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "skiff/store/file_lock.hpp"
#include "skiff/store/paths.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"
#include "temp_store.hpp"

namespace fs = std::filesystem;
using namespace skiff::engine;
using skiff::store::FileLock;

namespace {

ContainerRecord record(char id_digit, std::string name, std::string created = "2024-05-01T10:00:00Z") {
  return {.id = std::string(64, id_digit),
          .name = std::move(name),
          .image = "busybox",
          .image_id = "sha256:" + std::string(64, 'f'),
          .command = {"sh", "-c", "sleep 1"},
          .layers = {"sha256:" + std::string(64, '1'), "sha256:" + std::string(64, '2')},
          .driver = "overlay",
          .created = std::move(created),
          .auto_remove = true,
          .skiff_pid = 4242};
}

void remove_dir(const fs::path& dir) {
  fs::remove_all(dir);
}

}  // namespace

TEST_CASE("container store: a record written is read back, by name, full id and id prefix") {
  TempStore t;
  ContainerStore store(t.paths);
  ContainerRecord r = record('a', "web");
  store.create(r, {.status = ContainerStatus::kCreated});
  CHECK(fs::is_regular_file(store.dir(r.id) / "container.json"));

  ContainerView v = store.resolve("web");
  CHECK(v.record.id == r.id);
  CHECK(v.record.name == "web");
  CHECK(v.record.image == "busybox");
  CHECK(v.record.image_id == r.image_id);
  CHECK(v.record.command == r.command);
  CHECK(v.record.layers == r.layers);
  CHECK(v.record.driver == "overlay");
  CHECK(v.record.created == "2024-05-01T10:00:00Z");
  CHECK(v.record.auto_remove);
  CHECK(v.record.skiff_pid == 4242);
  CHECK(v.state.status == ContainerStatus::kCreated);
  CHECK_FALSE(v.running);

  CHECK(store.resolve(r.id).record.name == "web");
  CHECK(store.resolve("aaaaaaaaaaaa").record.name == "web");
  CHECK(store.id_of_name("web") == r.id);
  CHECK(store.name_taken("web"));
  CHECK_FALSE(store.name_taken("db"));
  CHECK_THROWS_WITH(store.resolve("db"), "no such container: db");
  CHECK_THROWS_WITH(store.resolve("bbbb"), "no such container: bbbb");
}

TEST_CASE("container store: an id prefix two containers share is ambiguous") {
  TempStore t;
  ContainerStore store(t.paths);
  ContainerRecord one = record('a', "one");
  ContainerRecord two = record('a', "two");
  two.id.back() = 'b';
  store.create(one, {});
  store.create(two, {});
  CHECK_THROWS_WITH(store.resolve("aaaa"), "container id prefix \"aaaa\" is ambiguous");
  CHECK(store.resolve(two.id).record.name == "two");
}

TEST_CASE("container store: a name is reserved once") {
  TempStore t;
  ContainerStore store(t.paths);
  ContainerRecord first = record('a', "web");
  store.create(first, {});
  ContainerRecord second = record('b', "web");
  std::string in_use = "the container name \"/web\" is already in use by container \"" + first.id + "\"";
  CHECK_THROWS_WITH(store.create(second, {}), in_use);
  CHECK_FALSE(fs::exists(store.dir(second.id)));
  CHECK(store.resolve("web").record.id == first.id);
  CHECK_THROWS_WITH(store.check_name_free("web"), in_use);
  CHECK_NOTHROW(store.check_name_free("other"));
}

TEST_CASE("container store: a name whose reserver died before writing the record is taken over") {
  TempStore t;
  ContainerStore store(t.paths);
  std::string dead_id(64, 'd');
  fs::create_directories(t.paths.container_names());
  fs::create_directory_symlink(dead_id, t.paths.container_names() / "web");
  {
    // While the reserver lives (holds the lock), the name stays its.
    FileLock alive(store.lock_path(dead_id));
    CHECK_FALSE(store.reclaim_stale_name("web"));
    CHECK_THROWS_WITH(store.create(record('b', "web"), {}), Catch::Contains("is already in use"));
  }
  store.create(record('b', "web"), {});
  CHECK(store.id_of_name("web") == std::string(64, 'b'));
}

TEST_CASE("container store: the state written is the state read back") {
  TempStore t;
  ContainerStore store(t.paths);
  ContainerRecord r = record('c', "job");
  store.create(r, {.status = ContainerStatus::kRunning, .pid = 77, .started = "2024-05-01T10:00:01Z"});
  CHECK(store.resolve("job").state.status == ContainerStatus::kRunning);
  CHECK(store.resolve("job").state.pid == 77);

  store.write_state(r.id, {.status = ContainerStatus::kExited,
                           .pid = 0,
                           .exit_code = 3,
                           .started = "2024-05-01T10:00:01Z",
                           .finished = "2024-05-01T10:00:09Z"});
  ContainerState s = store.resolve("job").state;
  CHECK(s.status == ContainerStatus::kExited);
  CHECK(s.exit_code == 3);
  CHECK(s.started == "2024-05-01T10:00:01Z");
  CHECK(s.finished == "2024-05-01T10:00:09Z");
  CHECK_THAT(skiff::read_file(store.dir(r.id) / "state.json"), Catch::Contains("\"status\":\"exited\""));
  CHECK(std::string(container_status_name(ContainerStatus::kCreated)) == "created");
  CHECK(std::string(container_status_name(ContainerStatus::kRunning)) == "running");
  CHECK(std::string(container_status_name(ContainerStatus::kExited)) == "exited");
}

TEST_CASE("container store: list shows the newest first and skips a damaged record") {
  TempStore t;
  ContainerStore store(t.paths);
  store.create(record('a', "old", "2024-01-01T00:00:00Z"), {});
  store.create(record('b', "new", "2024-02-01T00:00:00Z"), {});
  store.create(record('c', "broken", "2024-03-01T00:00:00Z"), {});
  auto names = [&] {
    std::vector<std::string> out;
    for (const auto& v : store.list()) out.push_back(v.record.name);
    return out;
  };
  CHECK(names() == std::vector<std::string>{"broken", "new", "old"});
  std::ofstream(store.dir(std::string(64, 'c')) / "container.json", std::ios::trunc) << "{\"id\": ";
  CHECK(names() == std::vector<std::string>{"new", "old"});
  CHECK_THROWS_WITH(store.resolve("broken"), "no such container: broken");
}

TEST_CASE("container store: running only while a skiff holds the container's lock") {
  TempStore t;
  ContainerStore store(t.paths);
  ContainerRecord r = record('e', "svc");
  store.create(r, {.status = ContainerStatus::kRunning});
  CHECK_FALSE(store.resolve("svc").running);
  {
    FileLock lock(store.lock_path(r.id));
    lock.write_note("4321 987654\n");
    ContainerView v = store.resolve("svc");
    CHECK(v.running);
    CHECK(v.state.pid == 4321);  // state.json had none: the lock's note says it
    CHECK(v.state.pid_start_time == 987654);
    REQUIRE(store.list().size() == 1);
    CHECK(store.list()[0].running);
  }
  CHECK_FALSE(store.resolve("svc").running);
  // Exited is exited, whoever holds the lock (its skiff is cleaning up).
  store.write_state(r.id, {.status = ContainerStatus::kExited});
  FileLock lock(store.lock_path(r.id));
  CHECK_FALSE(store.resolve("svc").running);
}

TEST_CASE("container store: a runroot emptied by a reboot: not running, and locks can be taken again") {
  TempStore t;
  ContainerStore store(t.paths);
  ContainerRecord r = record('f', "booted");
  r.auto_remove = false;
  store.create(r, {.status = ContainerStatus::kRunning});
  fs::remove_all(t.paths.runroot);
  ContainerView v = store.resolve("booted");
  CHECK_FALSE(v.running);
  REQUIRE(store.list().size() == 1);
  CHECK_FALSE(fs::exists(t.paths.runroot));  // looking made nothing
  CHECK(store.try_lock(r.id).held());
  CHECK(fs::is_directory(t.paths.locks()));
}

TEST_CASE("container store: looking at a container makes no lock file") {
  TempStore t;
  ContainerStore store(t.paths);
  ContainerRecord r = record('d', "looked");
  store.create(r, {.status = ContainerStatus::kRunning});
  CHECK_FALSE(store.lock_held(r.id));
  CHECK_FALSE(store.resolve("looked").running);
  CHECK(store.list().size() == 1);
  CHECK_FALSE(fs::exists(store.lock_path(r.id)));
}

TEST_CASE("container store: remove drops the record and the name; what a killed skiff left is swept") {
  TempStore t;
  ContainerStore store(t.paths);
  ContainerRecord r = record('a', "gone");
  store.create(r, {});
  store.remove(r, remove_dir);
  CHECK_FALSE(fs::exists(store.dir(r.id)));
  CHECK_FALSE(store.name_taken("gone"));
  CHECK_THROWS_WITH(store.resolve(r.id), "no such container: " + r.id);

  // Directories with no record: one nobody holds goes, one being made stays.
  std::string left(64, 'b'), making(64, 'c');
  fs::create_directories(store.dir(left) / "upper");
  fs::create_directories(store.dir(making));
  FileLock maker(store.lock_path(making));
  CHECK(store.remove_abandoned(remove_dir) == 1);
  CHECK_FALSE(fs::exists(store.dir(left)));
  CHECK(fs::exists(store.dir(making)));
}

TEST_CASE("container store: a run --rm whose skiff was killed is removed by whoever meets it") {
  TempStore t;
  ContainerStore store(t.paths);
  ContainerRecord rm = record('a', "rm");
  ContainerRecord kept = record('b', "kept");
  kept.auto_remove = false;
  store.create(rm, {});
  store.create(kept, {});
  {
    FileLock running(store.lock_path(rm.id));
    CHECK_FALSE(store.remove_if_left_by_killed_run(rm.id, remove_dir));
  }
  CHECK_FALSE(store.remove_if_left_by_killed_run(kept.id, remove_dir));
  CHECK(store.remove_if_left_by_killed_run(rm.id, remove_dir));
  CHECK_FALSE(fs::exists(store.dir(rm.id)));
  CHECK_FALSE(store.name_taken("rm"));
  CHECK(store.resolve("kept").record.id == kept.id);
}

TEST_CASE("container names: docker's rule") {
  CHECK(valid_container_name("web"));
  CHECK(valid_container_name("a1_b.c-d"));
  CHECK_FALSE(valid_container_name("a"));
  CHECK_FALSE(valid_container_name("-web"));
  CHECK_FALSE(valid_container_name("we/b"));
  CHECK_FALSE(valid_container_name(std::string(129, 'a')));
  CHECK(valid_container_name(generate_name()));
}
