// Why these limits. Real layers reach many GiB (CUDA, ML models), so a fixed
// cap on what a layer inflates to would refuse images docker and podman run;
// neither containerd nor containers/storage has one. What a bomb costs is
// the store's disk, so that is what is bounded: a layer is refused, with its
// work removed, before it leaves less than a margin free (2% of the file
// system, at most 1 GiB), whatever its ratio; a file whose declared size
// cannot fit is refused before a byte of it is written. On top of that, a
// ratio no real layer needs: gzip (deflate) cannot inflate more than about
// 1032:1, so kMaxInflateRatio sits above it and no gzip layer is ever
// refused by it; xz and zstd can reach 7000:1 and 32000:1 on zeros, and a
// stream that does, past 256 MiB, is a bomb, not a layer (a layer that is
// one huge zero-filled file, the only real case, compresses as gzip). It
// makes a bomb fail fast and the same way on any disk. And compression is
// taken off once (layer_decompress.cpp): gzip inside gzip would multiply
// the ratio again, and a layer is a tar, compressed once.
#include "skiff/image/layer_limits.hpp"

#include <sys/statvfs.h>

#include <algorithm>
#include <string>

#include "skiff/util/error.hpp"

namespace skiff::image {

namespace {

std::string binary_size(uint64_t n) {
  if (n >= (uint64_t{1} << 30)) return fmt::format("{:.1f} GiB", static_cast<double>(n) / (1 << 30));
  if (n >= (uint64_t{1} << 20)) return fmt::format("{:.1f} MiB", static_cast<double>(n) / (1 << 20));
  return fmt::format("{} KiB", (n + 1023) / 1024);
}

}  // namespace

void check_inflate_ratio(uint64_t compressed, uint64_t inflated) {
  if (inflated <= kInflateRatioFloor || inflated / kMaxInflateRatio <= compressed) return;
  throw Error(fmt::format("layer inflates more than {}:1 ({} from {}): refused as a decompression bomb",
                          kMaxInflateRatio, binary_size(inflated), binary_size(compressed)));
}

SpaceBudget::SpaceBudget(int fd, Probe probe) : fd_(fd), probe_(std::move(probe)) {}

SpaceBudget::Space SpaceBudget::statvfs_space(int fd) {
  struct statvfs st {};
  if (fstatvfs(fd, &st) != 0) throw_errno("statvfs");
  return {.available = static_cast<uint64_t>(st.f_bavail) * st.f_frsize,
          .size = static_cast<uint64_t>(st.f_blocks) * st.f_frsize};
}

uint64_t SpaceBudget::margin(const Space& s) {
  return std::min(s.size / 50, uint64_t{1} << 30);
}

void SpaceBudget::reserve(uint64_t size) {
  // Small files are counted by wrote(): a look at the file system each costs a system call.
  if (size < kRecheck) return;
  Space s = probe_(fd_);
  if (s.available < margin(s) + size) refuse(s, size);
}

void SpaceBudget::wrote(uint64_t n) {
  since_check_ += n;
  if (since_check_ < kRecheck) return;
  since_check_ = 0;
  Space s = probe_(fd_);
  if (s.available < margin(s)) refuse(s, 0);
}

void SpaceBudget::refuse(const Space& s, uint64_t more) const {
  std::string free = fmt::format("{} free, {} kept free", binary_size(s.available), binary_size(margin(s)));
  if (more) throw Error(fmt::format("layer would not fit in the store: a file of {} ({})", binary_size(more), free));
  throw Error(fmt::format("layer would not fit in the store ({})", free));
}

}  // namespace skiff::image
