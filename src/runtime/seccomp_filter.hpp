// seccomp filters, compiled with libseccomp before the container's child
// is cloned (the child only installs them).
#pragma once

#include <linux/filter.h>

#include <vector>

namespace skiff::runtime {

// A filter that makes chown and its relatives, the set*id calls, setgroups,
// capset and mknod of device nodes return 0 without doing anything; every
// other call is allowed. For builds in a single-id user namespace, where
// those calls fail and package managers stop on the failure.
std::vector<sock_filter> fake_id_calls_filter();

}  // namespace skiff::runtime
