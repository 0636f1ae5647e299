// attach's pieces: the frames between a monitor and its clients, and the
// detach keys.
#include "skiff/engine/container_attach.hpp"

#include <catch2/catch.hpp>

#include "skiff/runtime/attach.hpp"
#include "skiff/util/error.hpp"

using namespace skiff::runtime;
using skiff::engine::parse_detach_keys;

TEST_CASE("attach frames: cut where they end, however the bytes arrive") {
  std::string bytes = encode_frame(FrameType::kStdout, "hello") + encode_frame(FrameType::kStderr, "") +
                      encode_frame(FrameType::kExit, "137");
  CHECK(bytes.size() == 5 + 5 + 5 + 0 + 5 + 3);
  FrameReader r;
  std::vector<Frame> got;
  for (char c : bytes) {  // one byte at a time
    r.add(std::string_view(&c, 1));
    while (auto f = r.next()) got.push_back(*f);
  }
  REQUIRE(got.size() == 3);
  CHECK(got[0].type == FrameType::kStdout);
  CHECK(got[0].payload == "hello");
  CHECK(got[1].type == FrameType::kStderr);
  CHECK(got[1].payload.empty());
  CHECK(got[2].type == FrameType::kExit);
  CHECK(got[2].payload == "137");
  CHECK_FALSE(r.next());

  std::string big(70000, 'x');
  FrameReader r2;
  r2.add(encode_frame(FrameType::kStdin, big));
  auto f = r2.next();
  REQUIRE(f);
  CHECK(f->payload.size() == 70000);
}

TEST_CASE("attach frames: a length past 1 MiB is refused, not waited for") {
  FrameReader r;
  r.add(std::string("\x01\x7f\xff\xff\xff", 5));
  CHECK_THROWS_AS(r.next(), skiff::Error);
}

TEST_CASE("--detach-keys: docker's spelling") {
  CHECK(parse_detach_keys("ctrl-p,ctrl-q") == std::optional<std::string>("\x10\x11"));
  CHECK(parse_detach_keys("ctrl-a") == std::optional<std::string>("\x01"));
  CHECK(parse_detach_keys("ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_") ==
        std::optional<std::string>(std::string("\x00\x1b\x1c\x1d\x1e\x1f", 6)));
  CHECK(parse_detach_keys("a,ctrl-x,q") == std::optional<std::string>("a\x18q"));
  for (const char* bad : {"", "ctrl-9", "ctrl-", "ctrl-P", "ab", "ctrl-p,,ctrl-q", "alt-x"}) {
    INFO(bad);
    CHECK_FALSE(parse_detach_keys(bad));
  }
}
