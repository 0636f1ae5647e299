#include "skiff/runtime/id_map.hpp"

#include <catch2/catch.hpp>

using namespace skiff::runtime;

TEST_CASE("subordinate id files: by name or uid, first range wins, junk skipped") {
  std::string text = "# comment\nother:1:2\nalice:100000:65536\nalice:200000:10\n1001:300000:5\nbad line\n";
  auto r = parse_subid_file(text, "alice", 1000);
  REQUIRE(r.size() == 2);
  CHECK(r[0].start == 100000);
  CHECK(r[0].count == 65536);
  auto by_uid = parse_subid_file(text, "bob", 1001);
  REQUIRE(by_uid.size() == 1);
  CHECK(by_uid[0].start == 300000);
  CHECK(parse_subid_file(text, "nobody", 5).empty());
}

TEST_CASE("id map keys and membership") {
  IdMap m;
  m.uids = {{0, 1000, 1}, {1, 100000, 65536}};
  m.gids = {{0, 1000, 1}};
  CHECK(m.key() == "0:1000:1,1:100000:65536/0:1000:1");
  CHECK(m.uid_count() == 65537);
  CHECK(m.maps_uid(0));
  CHECK(m.maps_uid(65536));
  CHECK_FALSE(m.maps_uid(65537));
  CHECK_FALSE(m.maps_gid(1));
}
