// The caller's id mapping: the subordinate ranges of /etc/subuid and
// /etc/subgid when there are some, else the caller's single id.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "skiff/userns/id_mapping.hpp"

namespace skiff::userns {

// What a user namespace of this user maps.
struct IdMap {
  std::vector<IdMapping> uids;
  std::vector<IdMapping> gids;
  bool full = false;  // subordinate ranges through newuidmap/newgidmap

  // "0:1000:1,1:100000:65536/0:1000:1,1:100000:65536", recorded by the store.
  std::string key() const;
  // Highest container id + 1 (how many ids are mapped).
  uint32_t uid_count() const;
  bool maps_uid(uint32_t id) const;
  bool maps_gid(uint32_t id) const;
};

// A range from /etc/subuid or /etc/subgid.
struct SubRange {
  uint32_t start = 0;
  uint32_t count = 0;
};

// Parses lines "name-or-id:start:count"; the first range of this user wins.
std::vector<SubRange> parse_subid_file(std::string_view content, std::string_view user, uid_t id);

// Whether nsswitch.conf's passwd line names "files" first (glibc's default
// when there is none), and the first name /etc/passwd gives uid: how the
// user's name is found without NSS where NSS would answer the same.
bool passwd_files_first(std::string_view nsswitch_conf);
std::optional<std::string> name_in_passwd(std::string_view passwd, uid_t uid);

enum class UsernsMode { kDefault, kKeepId };

// The map for the current user: root inside = the caller.
IdMap current_id_map(UsernsMode mode = UsernsMode::kDefault);

// "user NAME has no ranges in /etc/subuid and /etc/subgid" + consequence:
// what a user with a single-id map is told once, by run and by build.
std::string no_ranges_note(std::string_view consequence);

// The line of /proc/PID/uid_map or gid_map for one mapping ("0 1000 1\n").
std::string map_line(const IdMapping& m);

// pid's id map being written: setgroups=deny and the single-id maps are
// written at once; for a full map newuidmap and newgidmap start, side by
// side, and the caller can do other work until finish().
class PendingIdMap {
 public:
  PendingIdMap(pid_t pid, const IdMap& map);
  PendingIdMap(const PendingIdMap&) = delete;
  PendingIdMap& operator=(const PendingIdMap&) = delete;
  ~PendingIdMap();  // waits for helpers still running (a failure is then ignored)
  // Waits for the helpers; throws Error when one failed.
  void finish();

 private:
  pid_t uid_helper_ = -1;
  pid_t gid_helper_ = -1;
};

// Writes pid's maps and waits until they are in place.
void apply_id_map(pid_t pid, const IdMap& map);

}  // namespace skiff::userns
