// Containers as records on disk: containers/<id>/container.json (what it is,
// and the state it was made in), state.json (what happened, once it has
// exited), and the name index. While a container runs, its skiff holds
// locks/ctr-<id>.lock, which says the pid of the container's process.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "skiff/net/ports.hpp"
#include "skiff/store/file_lock.hpp"
#include "skiff/store/paths.hpp"

namespace skiff::engine {

struct ContainerRecord {
  std::string id;  // 64 hex
  std::string name;
  std::string image;     // as given ("busybox")
  std::string image_id;  // sha256:...
  std::vector<std::string> command;
  std::vector<std::string> layers;  // diff_ids, bottom first, for layer GC
  std::string driver;               // overlay | fuse-overlayfs | copy
  std::string created;
  bool auto_remove = false;
  pid_t skiff_pid = 0;                        // the skiff that runs it (holds its lock): for -d, its monitor
  bool detached = false;                      // run -d: its output is in its log
  int stop_signal = 0;                        // what stop sends first (0: SIGTERM)
  int stop_timeout = 10;                      // seconds stop waits before SIGKILL
  std::map<std::string, std::string> labels;  // the image's, then --label's
  std::string restart_policy = "no";          // --restart as given: "no", "on-failure:3", ...
  std::string network = "host";               // its network mode (pasta, slirp4netns, none, host)
  std::vector<net::PortMapping> ports;        // published, host ports as bound
};

// What state.json says (docker's State.Status words on disk).
// kRestarting: its monitor waits to start it again (--restart).
enum class ContainerStatus { kCreated, kRunning, kRestarting, kExited };
const char* container_status_name(ContainerStatus s);

struct ContainerState {
  ContainerStatus status = ContainerStatus::kCreated;
  pid_t pid = 0;
  uint64_t pid_start_time = 0;  // with pid: the process it names (process_ref.hpp)
  int exit_code = 0;
  std::string started;
  std::string finished;
  int restart_count = 0;  // how often its monitor started it again
};

// What ps shows: the record, the state, and whether it really runs.
struct ContainerView {
  ContainerRecord record;
  ContainerState state;
  bool running = false;  // a skiff holds its lock
};

class ContainerStore {
 public:
  explicit ContainerStore(const store::Paths& paths) : paths_(paths) {}

  std::filesystem::path dir(const std::string& id) const { return paths_.containers() / id; }
  std::filesystem::path lock_path(const std::string& id) const;
  // A detached container's log (container_log.hpp).
  std::filesystem::path log_path(const std::string& id) const { return dir(id) / "ctr.log"; }

  // Whether a skiff holds the container's lock: it runs (or is being made
  // or removed). Makes no lock file: where there is none, nobody holds it.
  bool lock_held(const std::string& id) const;
  // The container's lock, waited for, or tried (held() says if it was
  // got). A runroot that is gone (a reboot empties it) is made again first.
  store::FileLock lock(const std::string& id) const;
  store::FileLock try_lock(const std::string& id) const;

  // Reserves the name (atomically: two runs with one --name cannot both win),
  // makes the directory (if it is not there yet) and writes the record with
  // its first state.
  void create(const ContainerRecord& record, const ContainerState& state);
  // Throws the error create() would give if the name is in use now.
  void check_name_free(const std::string& name) const;
  // Frees name when it is stale: its container has no record and no skiff
  // holds its lock (the skiff that reserved it was killed before it wrote
  // the record). True when it did.
  bool reclaim_stale_name(const std::string& name) const;
  // Writes state.json: what happened to the container (it exited).
  void write_state(const std::string& id, const ContainerState& state);
  // Rewrites container.json for a container started again (skiff start):
  // the name stays reserved as it is.
  void update(const ContainerRecord& record, const ContainerState& state);
  std::vector<ContainerView> list() const;
  // By full id, unique id prefix, or name; throws "no such container: X".
  ContainerView resolve(const std::string& id_or_name) const;
  // Removes the record and name. remover deletes the directory (it may need
  // the user namespace); it is given the directory.
  void remove(const ContainerRecord& record, const std::function<void(const std::filesystem::path&)>& remover);
  // Removes what skiffs that were killed left: the directories of
  // containers with no record whose lock nobody holds (killed before the
  // record was written, or while removing one). remover as for remove().
  // Returns how many went.
  int remove_abandoned(const std::function<void(const std::filesystem::path&)>& remover) const;

  // Removes the container when a `run --rm` whose skiff was killed left it:
  // its record asks for removal and nobody holds its lock (that skiff would
  // have removed it; with no daemon, whoever meets it next does). Holds the
  // lock meanwhile. False when it is not, or no longer, such a container.
  // remover as for remove().
  bool remove_if_left_by_killed_run(const std::string& id,
                                    const std::function<void(const std::filesystem::path&)>& remover);
  // docker rename: the container's name becomes new_name, which must be
  // free (taken atomically, as create does); the old name is freed.
  void rename(const std::string& key, const std::string& new_name);
  // The id of the container a name stands for, if any.
  std::optional<std::string> id_of_name(const std::string& name) const;

  // Names and ids currently used; for generated names.
  bool name_taken(const std::string& name) const;

 private:
  std::filesystem::path names_dir() const { return paths_.container_names(); }
  // Makes the runroot again when it is gone, before a lock is taken in it.
  void ensure_runroot() const;
  // Takes name for id in the name index (atomically), freeing it first if
  // it is stale; throws when it is in use.
  void reserve_name(const std::string& name, const std::string& id) const;
  // The record and state, without asking whether it runs.
  std::optional<ContainerView> read(const std::string& id) const;
  std::optional<ContainerView> load(const std::string& id) const;
  store::Paths paths_;
};

// docker's rule: [a-zA-Z0-9][a-zA-Z0-9_.-]+
bool valid_container_name(std::string_view name);
// "adjective_noun" as docker makes them.
std::string generate_name();

}  // namespace skiff::engine
