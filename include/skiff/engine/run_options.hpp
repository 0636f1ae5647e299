// What `skiff run` was asked for, as plain data (parsed from flags by cli/).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "skiff/net/dns.hpp"
#include "skiff/net/ports.hpp"

namespace skiff::engine {

class TransferEvents;

struct VolumeOption {
  std::string source;  // host path (absolute)
  std::string target;  // container path (absolute)
  bool readonly = false;
};

struct TmpfsOption {
  std::string target;
  std::string options;  // mount data, e.g. "size=64m,mode=1777"
};

// --ulimit NAME=SOFT[:HARD]: type is the spec's ("RLIMIT_NOFILE"); no limit
// is runtime::kRlimitInfinity.
struct UlimitOption {
  std::string type;
  uint64_t soft = 0;
  uint64_t hard = 0;
};

// --network: a network namespace of the container's own connected to the
// outside by slirp4netns or pasta (the default: slirp4netns when installed),
// none (loopback only), or host (the host's).
enum class NetworkMode { kHost, kNone, kPasta, kSlirp4netns };
inline const char* network_mode_name(NetworkMode m) {
  switch (m) {
    case NetworkMode::kNone:
      return "none";
    case NetworkMode::kPasta:
      return "pasta";
    case NetworkMode::kSlirp4netns:
      return "slirp4netns";
    case NetworkMode::kHost:
      break;
  }
  return "host";
}
inline bool has_network_helper(NetworkMode m) {
  return m == NetworkMode::kPasta || m == NetworkMode::kSlirp4netns;
}
// --userns: "" (the caller's map: root inside is the caller) or keep-id.
enum class UsernsOption { kDefault, kKeepId };
// --pull: missing (pull only when the store lacks the image), always or
// newer (pull first; an unchanged image only costs its manifest), never.
enum class PullPolicy { kMissing, kAlways, kNever, kNewer };

// --security-opt seccomp=: skiff's default profile, none, or a file's.
enum class SeccompMode { kDefault, kUnconfined, kProfile };

// --restart: what a container's monitor does when the container exits.
// no: nothing; on-failure[:N]: start it again after a non-zero exit (at most
// N times when N > 0); always and unless-stopped: start it again, unless
// stop or kill ended it (they differ only across a reboot of docker's
// daemon; skiff has none, and starts nothing at boot).
enum class RestartKind { kNo, kOnFailure, kAlways, kUnlessStopped };
struct RestartPolicy {
  RestartKind kind = RestartKind::kNo;
  int max_retries = 0;  // on-failure:N; 0 for no limit
};
// "no", "on-failure", "always", "unless-stopped" (docker's RestartPolicy.Name).
const char* restart_kind_name(RestartKind k);

// A detached container's log is rotated past this size (one older file kept).
constexpr uint64_t kDefaultLogMaxSize = 10 << 20;

struct RunOptions {
  std::string image;
  std::vector<std::string> command;  // replaces the image's Cmd when non-empty
  std::optional<std::string> entrypoint;
  std::vector<std::string> env;  // NAME=VALUE, in order, after --env-file
  std::optional<std::string> workdir;
  std::optional<std::string> user;
  std::vector<VolumeOption> volumes;
  std::vector<TmpfsOption> tmpfs;
  std::string name;
  std::string hostname;
  NetworkMode network = NetworkMode::kHost;
  std::string network_options;          // after "pasta:" or "slirp4netns:"
  std::vector<net::PortMapping> ports;  // -p (host port 0: a free one)
  bool publish_all = false;             // -P: the image's EXPOSE ports, on free host ports
  net::DnsOptions dns;                  // --dns, --dns-search, --dns-option
  std::vector<std::string> add_hosts;   // --add-host NAME:IP, checked
  UsernsOption userns = UsernsOption::kDefault;
  bool remove = false;
  bool interactive = false;
  bool tty = false;
  bool read_only = false;
  bool init = false;
  // Security (docker's --cap-add, --cap-drop, --privileged, --security-opt).
  // Capabilities are CAP_ names or ALL, checked and upper-cased.
  std::vector<std::string> cap_add;
  std::vector<std::string> cap_drop;
  bool privileged = false;  // every capability, no seccomp, no masked or read-only paths
  SeccompMode seccomp = SeccompMode::kDefault;
  std::string seccomp_profile;  // kProfile: the profile's file
  bool no_new_privileges = false;
  std::vector<std::string> mask;    // paths masked besides the defaults (absolute)
  std::vector<std::string> unmask;  // default paths not masked: globs, or ALL
  // --sysctl: namespaced kernel parameters, checked ("kernel.shm_rmid_forced" -> "1").
  std::map<std::string, std::string> sysctl;
  std::vector<UlimitOption> ulimits;  // --ulimit, one per type (a later one replaces)
  // --preserve-fds: the caller's fds 3 .. 3+N-1 enter the container as they are.
  int preserve_fds = 0;
  // -d: the container outlives the command, watched by a monitor that
  // keeps its log (see container_detach.hpp).
  bool detach = false;
  uint64_t log_max_size = 0;                  // --log-opt max-size: bytes, 0 for skiff's default
  int stop_signal = 0;                        // --stop-signal, else the image's StopSignal, else SIGTERM
  int stop_timeout = -1;                      // --stop-timeout: seconds; -1 for docker's 10
  std::map<std::string, std::string> labels;  // --label, --label-file: over the image's
  std::string cidfile;                        // --cidfile: the id is written there (a new file)
  RestartPolicy restart;                      // --restart
  // Set by run_detached for the monitor: where it says the container started (its id).
  int started_fd = -1;
  // skiff create: the container is made (record, writable layer, saved
  // options) but not started.
  bool create_only = false;
  // skiff start: the id of the container made before, started again on its
  // writable layer (the other fields are its saved options).
  std::string existing_id;
  PullPolicy pull = PullPolicy::kMissing;
  // Where a pull reports its progress; without one it reports nothing.
  TransferEvents* pull_events = nullptr;
};

}  // namespace skiff::engine
