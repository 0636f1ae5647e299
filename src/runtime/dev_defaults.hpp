// The container's default /dev, as docker and podman make it: a tmpfs with
// the host's device nodes bound in (no mknod without root), the usual
// symlinks, a devpts instance of its own, shm and mqueue. The spec asks for
// the file systems; the plan adds the nodes and links after the tmpfs; a
// helper (NamespacesAhead) may build the whole of it ahead, for the
// container's process to move into place if the plan asks for exactly this.
#pragma once

#include <sys/mount.h>

namespace skiff::runtime::dev_defaults {

// Bound from the host's /dev/NAME onto /dev/NAME.
inline constexpr const char* kNodes[] = {"null", "zero", "full", "random", "urandom", "tty"};

struct Link {
  const char* to;    // what the link says
  const char* name;  // in /dev
};
inline constexpr Link kLinks[] = {{"/proc/self/fd", "fd"},       {"/proc/self/fd/0", "stdin"},
                                  {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
                                  {"pts/ptmx", "ptmx"},          {"/proc/kcore", "core"}};

struct FileSystem {
  const char* name;  // in /dev; "" for /dev itself
  const char* source;
  const char* fstype;
  unsigned long flags;
  const char* data;  // with a single-id map (devpts has no gid=5 then)
};
inline constexpr FileSystem kDev = {"", "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"};
// In the order the spec mounts them, after the nodes and links.
inline constexpr FileSystem kInside[] = {
    {"pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620"},
    {"shm", "shm", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=1777,size=65536k"},
    {"mqueue", "mqueue", "mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV, nullptr},
};

}  // namespace skiff::runtime::dev_defaults
