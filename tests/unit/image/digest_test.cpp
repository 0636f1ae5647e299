#include "skiff/image/digest.hpp"

#include <catch2/catch.hpp>

using namespace skiff::image;

TEST_CASE("sha256 of known inputs") {
  CHECK(sha256_digest("") == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 h;
  h.update("ab");
  h.update("c");
  CHECK(h.finish() == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("digest validation") {
  CHECK(is_valid_digest("sha256:" + std::string(64, 'f')));
  CHECK_FALSE(is_valid_digest("sha256:" + std::string(64, 'F')));
  CHECK_FALSE(is_valid_digest("sha512:" + std::string(64, 'f')));
  CHECK_FALSE(is_valid_digest("sha256:abc"));
}
