// What starting a process in a container shares between run's first process
// (ContainerStart) and exec's (container_exec.cpp): the signals skiff
// forwards, the terminal's master handed over, and the child's report.
#pragma once

#include <signal.h>

#include <optional>

#include "child_steps.hpp"
#include "launch_plan.hpp"
#include "skiff/util/unique_fd.hpp"

namespace skiff::runtime {

// The signals skiff blocks while it starts a process and then forwards to it.
sigset_t forwarded_set();

// docker's exit status for a wait status: the code, or 128 + the signal.
int decode_status(int status);

// An fd sent over sock with SCM_RIGHTS (the terminal's master); invalid if none came.
UniqueFd receive_fd(int sock);

// The child's report on the error pipe, if it wrote one (EOF: it exec'd).
std::optional<ChildReport> read_report(int err_fd);

// The Error for a failed step (126 or 127 for the command, as docker's).
[[noreturn]] void throw_child_failure(const ChildReport& r, const LaunchPlan& plan);

}  // namespace skiff::runtime
