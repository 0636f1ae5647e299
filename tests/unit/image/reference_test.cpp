#include "skiff/image/reference.hpp"

#include <catch2/catch.hpp>

#include "skiff/util/error.hpp"

using skiff::image::parse_reference;

TEST_CASE("short names normalise to docker.io/library with latest") {
  auto r = parse_reference("busybox");
  CHECK(r.str() == "docker.io/library/busybox:latest");
  CHECK(r.familiar_name() == "busybox");
  CHECK(parse_reference("user/app").str() == "docker.io/user/app:latest");
  CHECK(parse_reference("index.docker.io/library/busybox:1").str() == "docker.io/library/busybox:1");
}

TEST_CASE("registry hosts, ports, tags and digests") {
  std::string digest = "sha256:" + std::string(64, 'a');
  auto r = parse_reference("localhost:5000/ns/app:v1@" + digest);
  CHECK(r.domain == "localhost:5000");
  CHECK(r.path == "ns/app");
  CHECK(r.tag == "v1");
  CHECK(r.digest == digest);
  CHECK(r.familiar_name() == "localhost:5000/ns/app");
  auto d = parse_reference("quay.io/x/y@" + digest);
  CHECK(d.tag.empty());
  CHECK(parse_reference("localhost/app").domain == "localhost");
  CHECK(parse_reference("host:5000/app").tag == "latest");
}

TEST_CASE("malformed references are refused") {
  for (const char* bad : {"", "UPPER", "a//b", "app:", "app:-bad", "app@sha256:short", "-app", "a..b", "app/"})
    CHECK_THROWS_AS(parse_reference(bad), skiff::Error);
  CHECK_THROWS_WITH(parse_reference("Busybox"), Catch::Contains("must be lowercase"));
}

TEST_CASE("registry hosts follow distribution's grammar") {
  using skiff::image::is_valid_registry_host;
  for (const char* good : {"localhost", "localhost:5000", "reg.example", "Reg-1.Example.com:443", "127.0.0.1:5000",
                           "[::1]", "[::1]:5000", "[fe80::1]", "a", "a.b"})
    CHECK(is_valid_registry_host(good));
  for (const char* bad : {"", ".", "..", "...", "..:5000", ".reg", "reg.", "a..b", "-reg.io", "reg-.io",
                          "reg.io:", "reg.io:x", "reg.io:5000:1", "reg_x.io", "[]", "[::1", "[::1]x", "[::g]", ":5000"})
    CHECK_FALSE(is_valid_registry_host(bad));
  for (const char* ref : {"../x", "..:5000/x", ".../x", "a..b:5000/x", "-a.io/x", "[::1]x/app"}) {
    INFO(ref);
    CHECK_THROWS_WITH(parse_reference(ref), Catch::Contains("is not a registry host name"));
  }
  CHECK(parse_reference("[::1]:5000/app").domain == "[::1]:5000");
  CHECK(parse_reference("127.0.0.1:5000/app").domain == "127.0.0.1:5000");
}

// Found by tests/fuzz (fuzz_reference): "library/" was dropped from any
// docker.io name, and docker.io/library/a/b showed as a/b, which is
// docker.io/a/b. docker's familiarizeName drops it from one-component names.
TEST_CASE("the familiar form of a library name of two components keeps library/") {
  CHECK(parse_reference("library/a/b").familiar_name() == "library/a/b");
  CHECK(parse_reference(parse_reference("library/a/b").familiar_name()).name() == "docker.io/library/a/b");
  CHECK(skiff::image::familiar_name("docker.io/library/busybox") == "busybox");
  CHECK(skiff::image::familiar_name("docker.io/user/app") == "user/app");
}
