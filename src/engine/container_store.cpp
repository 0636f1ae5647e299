#include "skiff/engine/container_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>

#include "skiff/engine/container_options.hpp"
#include "skiff/runtime/process_ref.hpp"
#include "skiff/store/record.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

namespace skiff::engine {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path ContainerStore::lock_path(const std::string& id) const {
  return paths_.container_lock(id);
}

bool ContainerStore::lock_held(const std::string& id) const {
  // Not FileLock::try_lock, which makes the file: a probe that came after
  // skiff rm removed it would leave it behind, and after a reboot the
  // runroot it would go in is not there.
  UniqueFd fd(::open(lock_path(id).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) {
    if (errno == ENOENT) return false;
    throw_errno(fmt::format("open lock {}", lock_path(id).string()));
  }
  if (flock(fd.get(), LOCK_EX | LOCK_NB) == 0) return false;
  if (errno == EWOULDBLOCK) return true;
  throw_errno(fmt::format("lock {}", lock_path(id).string()));
}

void ContainerStore::ensure_runroot() const {
  if (access(paths_.locks().c_str(), F_OK) != 0) store::ensure_dirs(paths_);
}

store::FileLock ContainerStore::lock(const std::string& id) const {
  ensure_runroot();
  return store::FileLock(lock_path(id));
}

store::FileLock ContainerStore::try_lock(const std::string& id) const {
  ensure_runroot();
  return store::FileLock::try_lock(lock_path(id));
}

bool valid_container_name(std::string_view name) {
  if (name.size() < 2 || name.size() > 128) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  if (!alnum(name[0])) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) { return alnum(c) || c == '_' || c == '.' || c == '-'; });
}

std::string generate_name() {
  static constexpr std::array<const char*, 24> kAdjectives = {
      "brave", "calm",  "clever", "eager",  "fervent", "gentle", "happy",  "jolly",
      "keen",  "kind",  "lucid",  "merry",  "nimble",  "quiet",  "quirky", "serene",
      "sharp", "stoic", "swift",  "tender", "trusty",  "vivid",  "witty",  "zen"};
  static constexpr std::array<const char*, 24> kNouns = {
      "babbage", "bohr",    "curie",    "darwin",   "dijkstra", "euler",    "fermat",  "galois",
      "hopper",  "hypatia", "kepler",   "knuth",    "lovelace", "mccarthy", "noether", "pascal",
      "ritchie", "shannon", "thompson", "torvalds", "turing",   "wozniak",  "yalow",   "wing"};
  std::string hex = random_hex(4);
  unsigned a = static_cast<unsigned>(std::stoul(hex.substr(0, 2), nullptr, 16)) % kAdjectives.size();
  unsigned n = static_cast<unsigned>(std::stoul(hex.substr(2, 2), nullptr, 16)) % kNouns.size();
  return fmt::format("{}_{}", kAdjectives[a], kNouns[n]);
}

const char* container_status_name(ContainerStatus s) {
  switch (s) {
    case ContainerStatus::kCreated:
      return "created";
    case ContainerStatus::kRunning:
      return "running";
    case ContainerStatus::kRestarting:
      return "restarting";
    case ContainerStatus::kExited:
      return "exited";
  }
  return "created";
}

static ContainerStatus status_from(const std::string& name) {
  if (name == "running") return ContainerStatus::kRunning;
  if (name == "exited") return ContainerStatus::kExited;
  if (name == "restarting") return ContainerStatus::kRestarting;
  return ContainerStatus::kCreated;
}

static json state_json(const ContainerState& s) {
  return json{{"status", container_status_name(s.status)},
              {"pid", s.pid},
              {"exit_code", s.exit_code},
              {"started", s.started},
              {"finished", s.finished},
              {"restart_count", s.restart_count}};
}

static ContainerState state_from(const json& j) {
  ContainerState s;
  s.status = status_from(j.value("status", "created"));
  s.pid = j.value("pid", 0);
  s.exit_code = j.value("exit_code", 0);
  s.started = j.value("started", "");
  s.finished = j.value("finished", "");
  s.restart_count = j.value("restart_count", 0);
  return s;
}

static json record_json(const ContainerRecord& r) {
  return json{{"id", r.id},
              {"name", r.name},
              {"image", r.image},
              {"image_id", r.image_id},
              {"command", r.command},
              {"layers", r.layers},
              {"driver", r.driver},
              {"created", r.created},
              {"auto_remove", r.auto_remove},
              {"skiff_pid", r.skiff_pid},
              {"detached", r.detached},
              {"stop_signal", r.stop_signal},
              {"stop_timeout", r.stop_timeout},
              {"labels", r.labels},
              {"restart_policy", r.restart_policy},
              {"network", r.network},
              {"ports", ports_json(r.ports)}};
}

static ContainerRecord record_from(const json& j) {
  ContainerRecord r;
  r.id = j.at("id");
  r.name = j.value("name", "");
  r.image = j.value("image", "");
  r.image_id = j.value("image_id", "");
  r.command = j.value("command", std::vector<std::string>{});
  r.layers = j.value("layers", std::vector<std::string>{});
  r.driver = j.value("driver", "");
  r.created = j.value("created", "");
  r.auto_remove = j.value("auto_remove", false);
  r.skiff_pid = j.value("skiff_pid", 0);
  r.detached = j.value("detached", false);
  r.stop_signal = j.value("stop_signal", 0);
  r.stop_timeout = j.value("stop_timeout", 10);
  r.labels = j.value("labels", std::map<std::string, std::string>{});
  r.restart_policy = j.value("restart_policy", "no");
  r.network = j.value("network", "host");
  if (auto it = j.find("ports"); it != j.end()) r.ports = ports_from_json(*it);
  return r;
}

bool ContainerStore::name_taken(const std::string& name) const {
  struct stat st {};
  return lstat((names_dir() / name).c_str(), &st) == 0;
}

void ContainerStore::check_name_free(const std::string& name) const {
  std::error_code ec;
  fs::path other = fs::read_symlink(names_dir() / name, ec);
  if (!ec && !reclaim_stale_name(name))
    throw Error(fmt::format("the container name {:?} is already in use by container {:?}", "/" + name, other.string()),
                0, "remove that container (skiff rm) or choose another name");
}

bool ContainerStore::reclaim_stale_name(const std::string& name) const {
  std::error_code ec;
  std::string id = fs::read_symlink(names_dir() / name, ec).string();
  if (ec || id.empty() || id.find('/') != std::string::npos || id[0] == '.') return false;
  if (access((dir(id) / "container.json").c_str(), F_OK) == 0 || errno != ENOENT) return false;
  // Whoever reserves a name holds its container's lock until the record is
  // written (and while it runs).
  auto probe = try_lock(id);
  if (!probe.held()) return false;
  std::error_code again;
  if (fs::read_symlink(names_dir() / name, again).string() != id) return false;  // taken meanwhile
  ::unlink((names_dir() / name).c_str());
  ::unlink(lock_path(id).c_str());  // made by the probe, or left by the killed skiff
  return true;
}

void ContainerStore::reserve_name(const std::string& name, const std::string& id) const {
  // symlink() either creates the name or fails: the name index needs no lock.
  fs::path link = names_dir() / name;
  int made = symlink(id.c_str(), link.c_str());
  if (made != 0 && errno == EEXIST) {
    check_name_free(name);  // throws, or frees a stale name
    made = symlink(id.c_str(), link.c_str());
  }
  if (made != 0) {
    if (errno == EEXIST) throw Error(fmt::format("the container name {:?} is already in use", "/" + name));
    throw_errno(fmt::format("reserve container name {}", name));
  }
}

void ContainerStore::create(const ContainerRecord& record, const ContainerState& state) {
  make_dirs(names_dir(), 0700);
  reserve_name(record.name, record.id);
  try {
    if (::mkdir(dir(record.id).c_str(), 0700) != 0 && errno != EEXIST)
      throw_errno(fmt::format("mkdir {}", dir(record.id).string()));
    // Records of containers need not survive a power cut (their processes do
    // not either), so they skip fsync: it costs milliseconds on every run.
    json j = record_json(record);
    j["state"] = state_json(state);
    store::write_record(dir(record.id) / "container.json", j, store::Durability::kRenamed);
  } catch (...) {
    ::unlink((names_dir() / record.name).c_str());
    ::rmdir(dir(record.id).c_str());
    throw;
  }
}

void ContainerStore::rename(const std::string& key, const std::string& new_name) {
  if (!valid_container_name(new_name))
    throw Error(fmt::format("invalid container name {:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", new_name));
  // Renames wait for each other, and each finds its container after the
  // last one is done: of two renames of "a" at once, the second finds no
  // container of that name, as with docker.
  ensure_runroot();
  store::FileLock renaming(paths_.locks() / "rename.lock");
  ContainerView view = resolve(key);
  if (view.record.name == new_name)
    throw Error(fmt::format("renaming a container with the same name as its current name"));
  auto j = store::read_record(dir(view.record.id) / "container.json");
  if (!j) throw Error(fmt::format("no such container: {}", key));
  ContainerRecord r = record_from(*j);
  fs::path link = names_dir() / new_name;
  reserve_name(new_name, r.id);
  std::string old_name = r.name;
  r.name = new_name;
  json updated = record_json(r);
  if (j->contains("state")) updated["state"] = (*j)["state"];
  try {
    store::write_record(dir(r.id) / "container.json", updated, store::Durability::kRenamed);
  } catch (...) {
    ::unlink(link.c_str());
    throw;
  }
  std::error_code ec;
  if (fs::read_symlink(names_dir() / old_name, ec) == r.id) ::unlink((names_dir() / old_name).c_str());
}

void ContainerStore::update(const ContainerRecord& record, const ContainerState& state) {
  json j = record_json(record);
  j["state"] = state_json(state);
  store::write_record(dir(record.id) / "container.json", j, store::Durability::kRenamed);
  // state.json, once there, says more than the record's first state.
  write_state(record.id, state);
}

void ContainerStore::write_state(const std::string& id, const ContainerState& s) {
  store::write_record(dir(id) / "state.json", state_json(s), store::Durability::kRenamed);
}

std::optional<ContainerView> ContainerStore::read(const std::string& id) const {
  ContainerView v;
  try {
    auto j = store::read_record(dir(id) / "container.json");
    if (!j) return std::nullopt;
    v.record = record_from(*j);
    if (j->contains("state")) v.state = state_from(j->at("state"));
    if (auto st = store::read_record(dir(id) / "state.json")) v.state = state_from(*st);
  } catch (const std::exception&) {
    return std::nullopt;  // a record being written or damaged: not listed
  }
  return v;
}

std::optional<ContainerView> ContainerStore::load(const std::string& id) const {
  std::optional<ContainerView> found = read(id);
  if (!found) return std::nullopt;
  ContainerView& v = *found;
  // A running container's skiff holds this lock; flock dies with it.
  v.running = v.state.status != ContainerStatus::kExited && lock_held(id);
  if (v.running && v.state.pid == 0) {
    // "PID START": the container's first process (process_ref.hpp).
    if (auto ref = runtime::ProcessRef::parse(store::FileLock::read_note(lock_path(id)))) {
      v.state.pid = ref->pid;
      v.state.pid_start_time = ref->start_time;
    }
  }
  return found;
}

std::vector<ContainerView> ContainerStore::list() const {
  std::vector<ContainerView> out;
  DIR* d = opendir(paths_.containers().c_str());
  if (!d) return out;
  while (struct dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    if (auto v = load(e->d_name)) out.push_back(std::move(*v));
  }
  closedir(d);
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.record.created > b.record.created; });
  return out;
}

ContainerView ContainerStore::resolve(const std::string& key) const {
  if (!key.empty() && key.find('/') == std::string::npos && key[0] != '.') {
    std::error_code ec;
    auto target = fs::read_symlink(names_dir() / key, ec);
    if (!ec)
      if (auto v = load(target.string())) return *v;
    if (key.size() == 64)
      if (auto v = load(key)) return *v;
  }
  std::optional<ContainerView> match;
  if (!key.empty() && key.find_first_not_of("0123456789abcdef") == std::string::npos) {
    for (auto& v : list()) {
      if (v.record.id.rfind(key, 0) == 0) {
        if (match) throw Error(fmt::format("container id prefix {:?} is ambiguous", key));
        match = std::move(v);
      }
    }
  }
  if (!match) throw Error(fmt::format("no such container: {}", key));
  return *match;
}

void ContainerStore::remove(const ContainerRecord& record, const std::function<void(const fs::path&)>& remover) {
  // Records first, so a half-removed container never shows as whole.
  ::unlink((dir(record.id) / "container.json").c_str());
  remover(dir(record.id));
  std::error_code ec;
  auto target = fs::read_symlink(names_dir() / record.name, ec);
  if (!ec && target == record.id) ::unlink((names_dir() / record.name).c_str());
  ::unlink(lock_path(record.id).c_str());
}

bool ContainerStore::remove_if_left_by_killed_run(const std::string& id,
                                                  const std::function<void(const fs::path&)>& remover) {
  auto lock = try_lock(id);
  if (!lock.held()) return false;  // its skiff runs it (or removes it)
  std::optional<ContainerView> v = read(id);
  if (!v) {
    // Removed meanwhile by whoever held the lock: the probe made the file.
    if (access((dir(id) / "container.json").c_str(), F_OK) != 0 && errno == ENOENT) ::unlink(lock_path(id).c_str());
    return false;
  }
  if (!v->record.auto_remove) return false;
  remove(v->record, remover);
  return true;
}

std::optional<std::string> ContainerStore::id_of_name(const std::string& name) const {
  if (name.empty() || name.find('/') != std::string::npos || name[0] == '.') return std::nullopt;
  std::error_code ec;
  std::string id = fs::read_symlink(names_dir() / name, ec).string();
  if (ec || id.empty() || id.find('/') != std::string::npos || id[0] == '.') return std::nullopt;
  return id;
}

int ContainerStore::remove_abandoned(const std::function<void(const fs::path&)>& remover) const {
  std::vector<std::string> ids;
  if (DIR* d = opendir(paths_.containers().c_str())) {
    while (struct dirent* e = readdir(d)) {
      if (e->d_name[0] == '.' || (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN)) continue;
      if (access((dir(e->d_name) / "container.json").c_str(), F_OK) != 0 && errno == ENOENT)
        ids.emplace_back(e->d_name);
    }
    closedir(d);
  }
  int removed = 0;
  for (const auto& id : ids) {
    // The skiff making or removing it holds this lock from before the
    // directory is made until after it is gone.
    auto probe = try_lock(id);
    if (!probe.held()) continue;
    if (access((dir(id) / "container.json").c_str(), F_OK) == 0 || errno != ENOENT) continue;
    remover(dir(id));
    ::unlink(lock_path(id).c_str());
    ++removed;
  }
  return removed;
}

}  // namespace skiff::engine
