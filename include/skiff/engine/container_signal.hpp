// Signals to running containers, and waiting for them: kill, stop, wait.
// A container's first process is named by its pid and start time
// (process_ref.hpp), so a pid the kernel gave to another process since
// is never signalled.
#pragma once

#include <optional>
#include <string>

#include "skiff/engine/container_store.hpp"
#include "skiff/store/paths.hpp"
#include "skiff/util/unique_fd.hpp"

namespace skiff::engine {

// Sends sig to the container's first process. Throws Error when it is not
// running.
void kill_container(const store::Paths& paths, const std::string& key, int sig);

// docker stop: the container's stop signal (sig, when not 0), then SIGKILL
// after timeout seconds (timeout < 0: the container's own); returns once
// it has exited and its skiff has recorded it. A container that is not
// running is left as it is.
void stop_container(const store::Paths& paths, const std::string& key, int sig, int timeout);

// Waits until the container is not running; its exit code.
int wait_container(const store::Paths& paths, const std::string& key);

// SIGKILL to a running container's first process or, while it is still
// being made or between two runs of a --restart policy (no process), to the
// skiff running it; a restart policy ends. Nothing when it is not running.
// Returns at once: wait_until_recorded waits for the end.
void kill_now(const ContainerStore& containers, const ContainerView& view);

// A pidfd of the skiff that runs a container (for -d, its monitor), which
// becomes readable when it ends; empty when nobody runs it.
UniqueFd open_runner(const ContainerStore& containers, const ContainerView& view);

// Blocks until nobody runs the container of id: its skiff has recorded how
// it ended (it holds the lock until then). The exit code that skiff left in
// the lock's note, if it got that far.
std::optional<int> wait_until_recorded(const ContainerStore& containers, const std::string& id);

}  // namespace skiff::engine
