#include "skiff/userns/id_map.hpp"

#include <catch2/catch.hpp>

using namespace skiff::userns;

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

TEST_CASE("the user's name from /etc/passwd where NSS would read it first") {
  CHECK(passwd_files_first("# comment\npasswd:         files systemd\ngroup: files\n"));
  CHECK(passwd_files_first("passwd: files\n"));
  CHECK(passwd_files_first("group: sss files\n"));  // no passwd line: glibc's default
  CHECK(passwd_files_first(""));
  CHECK_FALSE(passwd_files_first("passwd: sss files\n"));
  CHECK_FALSE(passwd_files_first("  passwd:compat\n"));
  CHECK_FALSE(passwd_files_first("passwd: [NOTFOUND=return] files\n"));
  std::string passwd =
      "root:x:0:0:root:/root:/bin/bash\nbroken\n:x:7:7::/:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n"
      "alias:x:1000:1000::/home/alice:/bin/sh\nbob:x:10001:10001::/home/bob:/bin/sh";
  CHECK(name_in_passwd(passwd, 0) == "root");
  CHECK(name_in_passwd(passwd, 1000) == "alice");        // the first line with the uid, as NSS's files
  CHECK(name_in_passwd(passwd, 10001) == "bob");         // last line without a newline
  CHECK_FALSE(name_in_passwd(passwd, 100).has_value());  // not "10001"'s prefix
  CHECK_FALSE(name_in_passwd(passwd, 7).has_value());    // an empty name is no answer
}
