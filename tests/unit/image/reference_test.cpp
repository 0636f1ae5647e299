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
