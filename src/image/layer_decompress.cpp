// Taking a layer's compression off, once: which one the first bytes say,
// and what comes out counted against what went in (layer_limits.cpp).
#include <archive.h>
#include <archive_entry.h>

#include <cstring>
#include <string>
#include <string_view>

#include "archive_reader.hpp"
#include "gunzip.hpp"
#include "skiff/image/byte_source.hpp"
#include "skiff/image/layer_limits.hpp"
#include "skiff/util/error.hpp"

namespace skiff::image {

namespace {

enum class Compression { kNone, kGzip, kZstd, kXz };

constexpr size_t kMagicBytes = 6;

// The magic numbers: gzip with deflate (RFC 1952), a zstd frame (RFC 8878),
// an xz stream.
Compression compression_of(std::string_view head) {
  auto starts = [&](std::string_view magic) { return head.substr(0, magic.size()) == magic; };
  if (starts(std::string_view("\x1f\x8b\x08", 3))) return Compression::kGzip;
  if (starts(std::string_view("\x28\xb5\x2f\xfd", 4))) return Compression::kZstd;
  if (starts(std::string_view("\xfd"
                              "7zXZ\0",
                              6)))
    return Compression::kXz;
  return Compression::kNone;
}

std::string_view compression_name(Compression c) {
  switch (c) {
    case Compression::kGzip:
      return "gzip";
    case Compression::kZstd:
      return "zstd";
    case Compression::kXz:
      return "xz";
    case Compression::kNone:
      break;
  }
  return "none";
}

// Reads up to n bytes, fewer only at the end of src.
size_t read_full(ByteSource& src, char* buf, size_t n) {
  size_t have = 0;
  while (have < n) {
    size_t got = src.read(buf + have, n - have);
    if (got == 0) break;
    have += got;
  }
  return have;
}

// Replays the bytes read to find the compression, then the rest of the source.
class ReplaySource : public ByteSource {
 public:
  ReplaySource(std::string prefix, std::unique_ptr<ByteSource> rest)
      : prefix_(std::move(prefix)), rest_(std::move(rest)) {}
  size_t read(char* buf, size_t n) override {
    if (pos_ < prefix_.size()) {
      size_t k = std::min(n, prefix_.size() - pos_);
      memcpy(buf, prefix_.data() + pos_, k);
      pos_ += k;
      return k;
    }
    return rest_->read(buf, n);
  }

 private:
  std::string prefix_;
  size_t pos_ = 0;
  std::unique_ptr<ByteSource> rest_;
};

// Counts the compressed bytes a decompressor reads.
class CountingSource : public ByteSource {
 public:
  CountingSource(std::unique_ptr<ByteSource> src, std::shared_ptr<uint64_t> count)
      : src_(std::move(src)), count_(std::move(count)) {}
  size_t read(char* buf, size_t n) override {
    size_t got = src_->read(buf, n);
    *count_ += got;
    return got;
  }

 private:
  std::unique_ptr<ByteSource> src_;
  std::shared_ptr<uint64_t> count_;
};

std::string archive_error(archive* a) {
  const char* e = archive_error_string(a);
  return e ? e : "unknown error";
}

// zstd or xz through libarchive: its filter under the "raw" format gives the
// stream's bytes, which the caller reads as a tar.
class FilterSource : public ByteSource {
 public:
  FilterSource(std::unique_ptr<ByteSource> src, Compression c)
      : src_(std::move(src)), a_(archive_read_new()), buf_(size_t{1} << 20, '\0') {
    if (c == Compression::kZstd)
      archive_read_support_filter_zstd(a_.get());
    else
      archive_read_support_filter_xz(a_.get());
    archive_read_support_format_raw(a_.get());
    if (archive_read_open(a_.get(), this, nullptr, &FilterSource::callback, nullptr) != ARCHIVE_OK)
      throw Error(archive_error(a_.get()));
    // libarchive bids again on what a filter gives: a second filter of the
    // chain (it counts the reader below them too) is a second compression.
    if (archive_filter_count(a_.get()) > 2)
      throw Error(fmt::format("layer is compressed twice ({} inside {})", archive_filter_name(a_.get(), 0),
                              archive_filter_name(a_.get(), 1)));
    archive_entry* entry = nullptr;
    int r = archive_read_next_header(a_.get(), &entry);
    if (r == ARCHIVE_EOF)
      at_end_ = true;
    else if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
      throw Error(archive_error(a_.get()));
  }

  size_t read(char* buf, size_t n) override {
    if (at_end_) return 0;
    la_ssize_t got = archive_read_data(a_.get(), buf, n);
    if (got < 0) throw Error(archive_error(a_.get()));
    return static_cast<size_t>(got);
  }

 private:
  static la_ssize_t callback(archive* a, void* self, const void** out) {
    auto* s = static_cast<FilterSource*>(self);
    try {
      *out = s->buf_.data();
      return static_cast<la_ssize_t>(s->src_->read(s->buf_.data(), s->buf_.size()));
    } catch (const Error& e) {
      archive_set_error(a, EIO, "%s", e.what());
      return -1;
    }
  }

  std::unique_ptr<ByteSource> src_;
  ArchiveReader a_;
  std::string buf_;
  bool at_end_ = false;
};

// What comes out of a decompressor: refused when it is compressed again, or
// when it outgrows what went in past kMaxInflateRatio.
class InflateGuard : public ByteSource {
 public:
  InflateGuard(std::unique_ptr<ByteSource> inflated, std::shared_ptr<const uint64_t> compressed, Compression outer)
      : src_(std::move(inflated)), compressed_(std::move(compressed)), outer_(outer) {}

  size_t read(char* buf, size_t n) override {
    size_t got;
    if (first_) {
      first_ = false;
      got = read_full(*src_, buf, n);
      // libarchive would peel gzip inside gzip too, each ~1000:1: a layer is
      // a tar compressed once, and an archive in it is a file, never unpacked.
      if (Compression inner = compression_of(std::string_view(buf, std::min(got, kMagicBytes)));
          inner != Compression::kNone)
        throw Error(
            fmt::format("layer is compressed twice ({} inside {})", compression_name(inner), compression_name(outer_)));
    } else {
      got = src_->read(buf, n);
    }
    inflated_ += got;
    check_inflate_ratio(*compressed_, inflated_);
    return got;
  }

 private:
  std::unique_ptr<ByteSource> src_;
  std::shared_ptr<const uint64_t> compressed_;
  Compression outer_;
  uint64_t inflated_ = 0;
  bool first_ = true;
};

}  // namespace

std::unique_ptr<ByteSource> decompress(std::unique_ptr<ByteSource> src) {
  std::string head(kMagicBytes, '\0');
  head.resize(read_full(*src, head.data(), head.size()));
  Compression c = compression_of(head);
  auto replay = std::make_unique<ReplaySource>(std::move(head), std::move(src));
  if (c == Compression::kNone) return replay;
  auto compressed = std::make_shared<uint64_t>(0);
  auto counted = std::make_unique<CountingSource>(std::move(replay), compressed);
  std::unique_ptr<ByteSource> inflated;
  if (c == Compression::kGzip)
    inflated = gunzip(std::move(counted));
  else
    inflated = std::make_unique<FilterSource>(std::move(counted), c);
  return std::make_unique<InflateGuard>(std::move(inflated), std::move(compressed), c);
}

}  // namespace skiff::image
