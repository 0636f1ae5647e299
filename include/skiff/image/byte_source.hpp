// A stream of bytes that layer unpacking reads: a file, a blob still being
// downloaded, or a decompressor in front of either.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace skiff::image {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Up to n bytes into buf; 0 at the end. Throws Error on failure.
  virtual size_t read(char* buf, size_t n) = 0;
};

// Where written bytes go: a file, a hash, a compressor in front of either.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual void write(std::string_view data) = 0;
  // Flushes what a transforming sink still holds (a compressor's tail).
  virtual void finish() {}
};

// gzip with isa-l at level 1 (about zlib's level-6 ratio at seven times its
// speed), writing to out. nullptr when libisal.so.2 cannot be loaded.
std::unique_ptr<ByteSink> isal_gzip(ByteSink& out);

// Reads an fd until EOF (the fd stays the caller's).
std::unique_ptr<ByteSource> fd_source(int fd);

// Takes the compression off a layer, once, as its first bytes say: gzip
// (isa-l at 4x zlib's speed where libisal.so.2 loads, else zlib; every
// member's CRC-32 and length checked), zstd or xz (libarchive's filters);
// a plain stream passes unchanged. Refuses a stream whose content is
// compressed again and one that inflates past kMaxInflateRatio
// (layer_limits.hpp).
std::unique_ptr<ByteSource> decompress(std::unique_ptr<ByteSource> src);

// Reads src on a thread of its own, a few megabytes ahead of the reader, so
// that inflating a layer and writing its files use two cores.
std::unique_ptr<ByteSource> read_ahead(std::unique_ptr<ByteSource> src);

}  // namespace skiff::image
