// Entry of the container's first process after clone().
#pragma once

#include "launch_plan.hpp"

namespace skiff::runtime {

// Waits for the id map, builds the container's filesystem, pivots into it,
// switches user, and execs the command. Never returns.
[[noreturn]] void container_child_main(const LaunchPlan& plan, int sync_fd, int err_fd);

}  // namespace skiff::runtime
