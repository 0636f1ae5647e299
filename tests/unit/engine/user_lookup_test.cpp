#include "skiff/engine/user_lookup.hpp"

#include <catch2/catch.hpp>

#include "skiff/util/error.hpp"

using skiff::engine::resolve_user;

static const std::string kPasswd = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n";
static const std::string kGroup = "root:x:0:\napp:x:1000:\nstaff:x:50:app,other\nwheel:x:10:other\n";

TEST_CASE("users by name get their group and supplementary groups") {
  auto u = resolve_user("app", kPasswd, kGroup).ids;
  CHECK(u.uid == 1000);
  CHECK(u.gid == 1000);
  CHECK(u.additionalGids == std::vector<uint32_t>{50});
}

TEST_CASE("numeric users, and explicit groups") {
  auto u = resolve_user("4242", kPasswd, kGroup).ids;
  CHECK(u.uid == 4242);
  CHECK(u.gid == 0);
  auto g = resolve_user("app:staff", kPasswd, kGroup).ids;
  CHECK(g.gid == 50);
  CHECK(g.additionalGids.empty());
  CHECK(resolve_user("1000:7", std::nullopt, std::nullopt).ids.gid == 7);
}

TEST_CASE("home: the passwd entry's, else / as docker gives") {
  CHECK(resolve_user("app", kPasswd, kGroup).home == "/home/app");
  CHECK(resolve_user("0", kPasswd, kGroup).home == "/root");
  CHECK(resolve_user("4242", kPasswd, kGroup).home == "/");
  CHECK(resolve_user("1000:7", std::nullopt, std::nullopt).home == "/");
}

TEST_CASE("unknown users and groups are errors in docker's words") {
  CHECK_THROWS_WITH(resolve_user("ghost", kPasswd, kGroup),
                    "unable to find user ghost: no matching entries in passwd file");
  CHECK_THROWS_WITH(resolve_user("app:ghosts", kPasswd, kGroup),
                    "unable to find group ghosts: no matching entries in group file");
}
