// Entry of the container's first process after clone().
#pragma once

#include "launch_plan.hpp"

namespace skiff::runtime {

// Waits for the id map and its plan (skiff's go on sync_fd says both are
// there: plan points into memory shared with skiff), builds the container's
// filesystem, pivots into it, switches user, and execs the command. Never
// returns.
// unshare_flags are the namespaces it makes itself at once, before it waits:
// the kernel's work for a network namespace (0.4 ms) then overlaps with
// skiff's own.
// With plan_ready (StartMode::kOnLaunch) the plan is complete from the start
// and the child runs in skiff's own memory (skiff sleeps until it execs): it
// writes its own id map and does not wait.
[[noreturn]] void container_child_main(const LaunchPlan* plan, int unshare_flags, int sync_fd, int err_fd,
                                       bool plan_ready);

}  // namespace skiff::runtime
