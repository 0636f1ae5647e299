#include "skiff/image/layer_unpack.hpp"

#include <catch2/catch.hpp>

#include "skiff/util/error.hpp"

using skiff::image::sanitize_entry_path;

TEST_CASE("entry names become clean relative paths") {
  CHECK(sanitize_entry_path("./etc/passwd") == "etc/passwd");
  CHECK(sanitize_entry_path("etc//x/./y") == "etc/x/y");
  CHECK(sanitize_entry_path("./") == "");
  CHECK(sanitize_entry_path("a/b/") == "a/b");
}

TEST_CASE("entry names that leave the layer are refused") {
  CHECK_THROWS_WITH(sanitize_entry_path("../etc/passwd"), Catch::Contains("leaves the layer"));
  CHECK_THROWS_WITH(sanitize_entry_path("a/../../b"), Catch::Contains("leaves the layer"));
  CHECK_THROWS_WITH(sanitize_entry_path("/etc/passwd"), Catch::Contains("absolute path"));
}
