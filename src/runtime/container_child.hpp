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

// The last steps of the process, standing in the container's root (its
// namespaces joined): the terminal or standard input, umask, every other fd
// closed, the working directory entered inside the root, limits, seccomp,
// capabilities, user and groups, exec. The container's first process and
// skiff exec's share them. Never returns; failures go to err_fd as
// {step, errno}, 'R' to sync_fd just before exec.
[[noreturn]] void become_command(const LaunchPlan& plan, int sync_fd, int err_fd);

}  // namespace skiff::runtime
