// `skiff run -d`: a container that outlives the command. The command forks
// a monitor (no other program, nothing re-executed), which leaves the
// terminal's session, runs the container as `run` would and stays with it:
// it holds the container's lock (so "running" keeps meaning "a live
// process holds the lock"), writes its output to its log, passes on the
// signals it gets, records the exit, and ends with the container.
#pragma once

#include <optional>
#include <string>

#include "skiff/engine/run_options.hpp"
#include "skiff/store/paths.hpp"

namespace skiff::engine {

struct Detached {
  // In the command: the container runs; its id. Empty when it did not
  // start: then status is the monitor's, which said why on stderr.
  std::string id;
  int status = 0;
  // True in the monitor, once the container has ended: status is its exit
  // status, and the monitor returns it to end.
  bool in_monitor = false;
};

// Must be called while skiff has one thread (it forks).
Detached run_detached(const store::Paths& paths, RunOptions opts);

}  // namespace skiff::engine
