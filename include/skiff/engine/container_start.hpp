// skiff create, start and restart: a container made now and started
// later, or started again on the writable layer it had, from the options
// it was made with (container_options.hpp).
#pragma once

#include <string>

#include "skiff/engine/container_detach.hpp"
#include "skiff/engine/run_options.hpp"
#include "skiff/store/paths.hpp"

namespace skiff::engine {

// docker create: the container, made and not started; its id.
std::string create_container(const store::Paths& paths, RunOptions opts);

// docker start: a container that is not running starts, watched by a
// monitor of its own (run -d's), or, with attach, in the foreground with
// its output on this skiff's (then Detached::status is its exit status).
// A running container is left as it is. Must be called while skiff has one
// thread (it forks).
Detached start_container(const store::Paths& paths, const std::string& key, bool attach, bool interactive);

// docker restart: stop (timeout < 0: the container's own), then start.
Detached restart_container(const store::Paths& paths, const std::string& key, int timeout);

}  // namespace skiff::engine
