#include "skiff/runtime/capabilities.hpp"

#include <catch2/catch.hpp>
#include <fstream>

using namespace skiff::runtime;

TEST_CASE("the last capability is what the kernel says it is") {
  std::ifstream in("/proc/sys/kernel/cap_last_cap");
  int kernel = -1;
  in >> kernel;
  REQUIRE(kernel > 0);
  CHECK(last_capability() == kernel);
}

TEST_CASE("capability names: with or without CAP_, any case") {
  CHECK(capability_number("CAP_CHOWN") == 0);
  CHECK(capability_number("sys_admin") == 21);
  CHECK(capability_number("Cap_Checkpoint_Restore") == 40);
  CHECK_FALSE(capability_number("CAP_NOPE").has_value());
}
