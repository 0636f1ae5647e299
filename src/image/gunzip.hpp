// Inflating gzip: isa-l where libisal.so.2 loads, zlib otherwise.
#pragma once

#include <memory>

#include "skiff/image/byte_source.hpp"

namespace skiff::image {

// Inflates src, a gzip stream of one or more members, checking every member's
// CRC-32 and length against its trailer. Bytes after the last member that do
// not start another are ignored, as gzip(1) and libarchive do.
std::unique_ptr<ByteSource> gunzip(std::unique_ptr<ByteSource> src);

}  // namespace skiff::image
