#include "cli/format_table.hpp"

#include <catch2/catch.hpp>

using namespace skiff::cli;

TEST_CASE("human durations as docker prints them") {
  CHECK(human_duration(0) == "Less than a second");
  CHECK(human_duration(5) == "5 seconds");
  CHECK(human_duration(90) == "About a minute");
  CHECK(human_duration(3600 * 3) == "3 hours");
  CHECK(human_duration(86400 * 3) == "3 days");
  CHECK(human_duration(86400 * 20) == "2 weeks");
  CHECK(human_duration(86400 * 90) == "3 months");
}

TEST_CASE("human sizes are decimal with three significant digits") {
  CHECK(human_size(512) == "512B");
  CHECK(human_size(4260000) == "4.26MB");
  CHECK(human_size(1234) == "1.23kB");
}

TEST_CASE("RFC 3339 times") {
  CHECK(parse_rfc3339("1970-01-01T00:01:00.5Z") == 60);
  CHECK(parse_rfc3339("garbage") == 0);
}
