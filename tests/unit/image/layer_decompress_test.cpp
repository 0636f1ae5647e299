// Taking a layer's compression off: gzip trailers checked, compression
// taken off once, and streams that inflate like bombs refused.
#include <zlib.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <string>

#include "skiff/image/byte_source.hpp"
#include "skiff/image/layer_limits.hpp"
#include "skiff/util/error.hpp"

using skiff::image::ByteSource;
using skiff::image::decompress;

namespace {

class StringSource : public ByteSource {
 public:
  explicit StringSource(std::string data) : data_(std::move(data)) {}
  size_t read(char* buf, size_t n) override {
    size_t k = std::min(n, data_.size() - pos_);
    memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::string data_;
  size_t pos_ = 0;
};

// One gzip member of data (zlib, windowBits 16 + 15: with the gzip wrapper).
std::string gzip(const std::string& data) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, data.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// Everything src gives.
std::string read_all(std::string input) {
  auto src = decompress(std::make_unique<StringSource>(std::move(input)));
  std::string out, buf(1 << 16, '\0');
  while (size_t n = src->read(buf.data(), buf.size())) out.append(buf.data(), n);
  return out;
}

// A zstd frame that inflates to `zeros` zero bytes after `head`: one raw
// block, then RLE blocks of 128 KiB, 4 bytes each (RFC 8878, 3.1.1.2).
std::string zstd_zeros(const std::string& head, uint64_t zeros) {
  std::string out("\x28\xb5\x2f\xfd\x00\x58", 6);  // no content size; a 2 MiB window
  auto block = [&](bool last, unsigned type, uint32_t size) {
    uint32_t v = (size << 3) | (type << 1) | (last ? 1 : 0);
    out.append({static_cast<char>(v & 0xff), static_cast<char>((v >> 8) & 0xff), static_cast<char>(v >> 16)});
  };
  block(zeros == 0, 0, static_cast<uint32_t>(head.size()));
  out += head;
  while (zeros > 0) {
    uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(zeros, 128 << 10));
    zeros -= n;
    block(zeros == 0, 1, n);
    out.push_back('\0');
  }
  return out;
}

}  // namespace

TEST_CASE("a plain stream passes unchanged, a gzip one is inflated, every member of it") {
  CHECK(read_all("plain tar bytes") == "plain tar bytes");
  CHECK(read_all(gzip("hello")) == "hello");
  CHECK(read_all(gzip("one ") + gzip("two")) == "one two");
  // What follows the last member and starts no other is ignored, as gzip(1) does.
  CHECK(read_all(gzip("tail") + std::string(100, '\0')) == "tail");
}

TEST_CASE("a gzip member whose trailer's CRC-32 or length is wrong is damage") {
  std::string gz = gzip(std::string(5000, 'x'));
  std::string bad_crc = gz, bad_size = gz;
  bad_crc[gz.size() - 8] ^= 1;
  bad_size[gz.size() - 1] ^= 1;
  CHECK_THROWS_WITH(read_all(bad_crc), "gzip member 1 is damaged: its CRC-32 or length does not match its data");
  CHECK_THROWS_WITH(read_all(bad_size), "gzip member 1 is damaged: its CRC-32 or length does not match its data");
  CHECK_THROWS_WITH(read_all(gzip("fine") + bad_crc),
                    "gzip member 2 is damaged: its CRC-32 or length does not match its data");
  CHECK_THROWS_WITH(read_all(gz.substr(0, gz.size() - 4)), Catch::Contains("truncated"));
}

TEST_CASE("compression is taken off once: a compressed stream inside is refused, not inflated") {
  CHECK_THROWS_WITH(read_all(gzip(gzip("tar"))), "layer is compressed twice (gzip inside gzip)");
  CHECK_THROWS_WITH(read_all(gzip(zstd_zeros("x", 10))), "layer is compressed twice (zstd inside gzip)");
  CHECK_THROWS_WITH(read_all(zstd_zeros(gzip("tar"), 0)), "layer is compressed twice (gzip inside zstd)");
}

TEST_CASE("a stream that inflates past 1100:1 beyond 256 MiB is refused as a bomb") {
  using skiff::image::check_inflate_ratio;
  CHECK_NOTHROW(check_inflate_ratio(1, 256 << 20));         // under the floor, any ratio
  CHECK_NOTHROW(check_inflate_ratio(1 << 20, 1ull << 30));  // 1024:1, gzip's own ceiling
  CHECK_THROWS_WITH(check_inflate_ratio(100 << 10, 1ull << 30),
                    "layer inflates more than 1100:1 (1.0 GiB from 100 KiB): refused as a decompression bomb");
  // 33 KiB of zstd that would inflate to 1 GiB stops at 256 MiB.
  auto src = decompress(std::make_unique<StringSource>(zstd_zeros("head", uint64_t{1} << 30)));
  std::string buf(1 << 20, '\0');
  uint64_t total = 0;
  CHECK_THROWS_WITH(
      [&] {
        while (size_t n = src->read(buf.data(), buf.size())) total += n;
      }(),
      Catch::StartsWith("layer inflates more than 1100:1 (257.0 MiB from 33 KiB)"));
  CHECK(total <= (uint64_t{257} << 20));
}
