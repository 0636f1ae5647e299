// One line of a user namespace's uid_map or gid_map, with the OCI runtime
// spec's field names (linux.uidMappings).
#pragma once

#include <cstdint>

namespace skiff::userns {

struct IdMapping {
  uint32_t containerID = 0;
  uint32_t hostID = 0;
  uint32_t size = 0;
};

}  // namespace skiff::userns
