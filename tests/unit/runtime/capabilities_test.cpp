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

TEST_CASE("capability numbers to names, and back") {
  CHECK(capability_name(0) == "CHOWN");
  CHECK(capability_name(40) == "CHECKPOINT_RESTORE");
  CHECK(capability_name(41).empty());
  CHECK(capability_name(-1).empty());
  for (int c = 0; !capability_name(c).empty(); ++c) CHECK(capability_number(capability_name(c)) == c);
}
