// A layer may not fill the store's file system: SpaceBudget's rule, with the
// file system's free space given by the test.
#include "skiff/image/layer_limits.hpp"

#include <catch2/catch.hpp>

#include "skiff/util/error.hpp"

using skiff::image::SpaceBudget;

namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kGiB = uint64_t{1} << 30;

}  // namespace

TEST_CASE("the margin kept free is 2% of the file system, at most 1 GiB") {
  CHECK(SpaceBudget::margin({.available = 0, .size = 10 * kGiB}) == 10 * kGiB / 50);
  CHECK(SpaceBudget::margin({.available = 0, .size = 500 * kGiB}) == kGiB);
}

TEST_CASE("a file that cannot fit is refused before it is written") {
  int probes = 0;
  SpaceBudget budget(-1, [&](int) {
    ++probes;
    return SpaceBudget::Space{.available = 3 * kGiB, .size = 100 * kGiB};
  });
  budget.reserve(10 * kMiB);  // small files cost no look
  CHECK(probes == 0);
  CHECK_NOTHROW(budget.reserve(2 * kGiB));
  CHECK_THROWS_WITH(budget.reserve(2 * kGiB + 512 * kMiB),
                    "layer would not fit in the store: a file of 2.5 GiB (3.0 GiB free, 1.0 GiB kept free)");
  CHECK(probes == 2);
}

TEST_CASE("what is written is checked every 64 MiB: the layer stops at the margin") {
  uint64_t available = 2 * kGiB;
  int probes = 0;
  SpaceBudget budget(-1, [&](int) {
    ++probes;
    return SpaceBudget::Space{.available = available, .size = 100 * kGiB};
  });
  auto write = [&](uint64_t n) {
    available -= n;
    budget.wrote(n);
  };
  for (int i = 0; i < 15; ++i) write(64 * kMiB);  // 960 MiB: 1088 MiB left
  CHECK(probes == 15);
  write(32 * kMiB);
  CHECK(probes == 15);
  write(32 * kMiB);  // 1 GiB left: just the margin
  CHECK(probes == 16);
  CHECK_THROWS_WITH(write(64 * kMiB), "layer would not fit in the store (960.0 MiB free, 1.0 GiB kept free)");
}
