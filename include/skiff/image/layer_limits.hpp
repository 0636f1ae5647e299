// What a layer may cost the store: how far its stream may inflate, and the
// free space it must leave. The defence against decompression bombs; why
// these rules and not a fixed cap is said in layer_limits.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

namespace skiff::image {

// Above deflate's own ceiling (about 1032:1): no gzip layer ever reaches it.
inline constexpr uint64_t kMaxInflateRatio = 1100;
// The ratio is judged only once this much has come out.
inline constexpr uint64_t kInflateRatioFloor = uint64_t{256} << 20;

// Throws when `inflated` bytes out of `compressed` exceed kMaxInflateRatio
// (past kInflateRatioFloor).
void check_inflate_ratio(uint64_t compressed, uint64_t inflated);

// The free space of the file system a layer is written to, looked at as the
// layer grows: refuses it before it would leave less than a margin free.
class SpaceBudget {
 public:
  // Free and total bytes of the file system of an fd (fstatvfs; a seam for tests).
  struct Space {
    uint64_t available = 0;  // what an unprivileged writer may still use
    uint64_t size = 0;
  };
  using Probe = std::function<Space(int fd)>;

  explicit SpaceBudget(int fd, Probe probe = statvfs_space);

  // Before writing a file of `size` bytes: throws when it cannot fit.
  void reserve(uint64_t size);
  // After writing n bytes: every kRecheck bytes, looks at the file system again.
  void wrote(uint64_t n);

  // What is kept free: 2% of the file system, at most 1 GiB.
  static uint64_t margin(const Space& s);
  static Space statvfs_space(int fd);

 private:
  static constexpr uint64_t kRecheck = uint64_t{64} << 20;
  [[noreturn]] void refuse(const Space& s, uint64_t more) const;

  int fd_;
  Probe probe_;
  uint64_t since_check_ = 0;
};

}  // namespace skiff::image
