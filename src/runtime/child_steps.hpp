// What the child reports when a step before exec fails.
#pragma once

#include <cstdint>

#include "skiff/util/error.hpp"

namespace skiff::runtime {

enum class ChildStep : int32_t {
  kSync = 1,
  kIdMap,
  kNamespaces,
  kMountRootfs,
  kFuseOverlayfs,
  kMountTarget,
  kMount,
  kBind,
  kData,
  kSymlink,
  kMask,
  kReadonlyPath,
  kReadonlyRoot,
  kLoopback,
  kNetwork,
  kHostname,
  kSysctl,
  kRlimit,
  kPivotRoot,
  kTerminal,
  kStdin,
  kWorkdir,
  kWorkdirOutside,
  kPreserveFds,
  kSetgroups,
  kSetgid,
  kSetuid,
  kCapabilities,
  kNoNewPrivs,
  kSeccomp,
  kInit,
  kExec,
};

// One report on the error pipe: which step failed, errno, and for mount steps
// the index of the MountOp.
struct ChildReport {
  ChildStep step;
  int32_t err;
  int32_t index;
};

const char* child_step_text(ChildStep step);

// "create the container's namespaces", with a hint where the kernel refuses
// user namespaces (EPERM, ENOSPC).
Error namespaces_error(int err);

}  // namespace skiff::runtime
