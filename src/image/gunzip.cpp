// gzip with isa-l's igzip, opened with dlopen: Debian ships no static
// libisal, and only layers need it. zlib inflates where isa-l is missing.
#include "gunzip.hpp"

#include <dlfcn.h>
#include <isa-l/igzip_lib.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "skiff/image/byte_source.hpp"
#include "skiff/util/error.hpp"

namespace skiff::image {

namespace {

class FdSource : public ByteSource {
 public:
  explicit FdSource(int fd) : fd_(fd) {}
  size_t read(char* buf, size_t n) override {
    for (;;) {
      ssize_t got = ::read(fd_, buf, n);
      if (got >= 0) return static_cast<size_t>(got);
      if (errno != EINTR) throw_errno("read layer");
    }
  }

 private:
  int fd_;
};

struct Isal {
  void (*inflate_init)(inflate_state*) = nullptr;
  void (*inflate_reset)(inflate_state*) = nullptr;
  int (*inflate)(inflate_state*) = nullptr;
  void (*deflate_init)(isal_zstream*) = nullptr;
  int (*deflate)(isal_zstream*) = nullptr;
  bool ok() const { return inflate_init && inflate_reset && inflate; }
  bool can_deflate() const { return deflate_init && deflate; }
};

const Isal& isal() {
  static std::once_flag once;
  static Isal lib;
  std::call_once(once, [] {
    void* h = dlopen("libisal.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!h) return;
    lib.inflate_init = reinterpret_cast<void (*)(inflate_state*)>(dlsym(h, "isal_inflate_init"));
    lib.inflate_reset = reinterpret_cast<void (*)(inflate_state*)>(dlsym(h, "isal_inflate_reset"));
    lib.inflate = reinterpret_cast<int (*)(inflate_state*)>(dlsym(h, "isal_inflate"));
    lib.deflate_init = reinterpret_cast<void (*)(isal_zstream*)>(dlsym(h, "isal_deflate_init"));
    lib.deflate = reinterpret_cast<int (*)(isal_zstream*)>(dlsym(h, "isal_deflate"));
  });
  return lib;
}

// Every gzip member ends with the CRC-32 and the length (mod 2^32) of its
// data; both back-ends check them, and a mismatch is damage: an import has
// no digest to compare the inflated stream with, so the CRC is its only check.
Error damaged_member(unsigned member) {
  return Error(fmt::format("gzip member {} is damaged: its CRC-32 or length does not match its data", member));
}

class IsalGunzip : public ByteSource {
 public:
  explicit IsalGunzip(std::unique_ptr<ByteSource> src) : src_(std::move(src)), in_(1 << 20) {
    state_ = std::make_unique<inflate_state>();
    isal().inflate_init(state_.get());
    // ISAL_GZIP: isa-l parses the header, computes the CRC-32 as it inflates
    // and checks it and the length against the trailer (no second pass).
    state_->crc_flag = ISAL_GZIP;
  }
  size_t read(char* buf, size_t n) override {
    if (n > UINT32_MAX) n = UINT32_MAX;
    inflate_state& s = *state_;
    for (;;) {
      if (s.block_state == ISAL_BLOCK_FINISH) {
        // A gzip file may hold several members one after the other.
        if (s.avail_in == 0 && !fill()) return 0;
        // Only another gzip member may follow; padding after the last ends it.
        if (s.avail_in == 0 || s.next_in[0] != 0x1f) return 0;
        uint8_t* next = s.next_in;
        uint32_t avail = s.avail_in;
        isal().inflate_reset(&s);
        s.crc_flag = ISAL_GZIP;
        s.next_in = next;
        s.avail_in = avail;
        ++member_;
      }
      if (s.avail_in == 0 && !eof_) fill();
      s.next_out = reinterpret_cast<uint8_t*>(buf);
      s.avail_out = static_cast<uint32_t>(n);
      int rc = isal().inflate(&s);
      if (rc == ISAL_INCORRECT_CHECKSUM) throw damaged_member(member_);
      if (rc != ISAL_DECOMP_OK) throw Error(fmt::format("layer is not valid gzip (isa-l error {})", rc));
      size_t produced = n - s.avail_out;
      if (produced > 0) return produced;
      if (s.block_state == ISAL_BLOCK_FINISH) continue;
      if (eof_ && s.avail_in == 0) throw Error("layer is truncated: the gzip stream ends early");
    }
  }

 private:
  bool fill() {
    if (eof_) return false;
    size_t got = src_->read(reinterpret_cast<char*>(in_.data()), in_.size());
    if (got == 0) {
      eof_ = true;
      return false;
    }
    state_->next_in = in_.data();
    state_->avail_in = static_cast<uint32_t>(got);
    return true;
  }

  std::unique_ptr<ByteSource> src_;
  std::vector<uint8_t> in_;
  std::unique_ptr<inflate_state> state_;
  bool eof_ = false;
  unsigned member_ = 1;
};

// zlib where isa-l is not installed: a quarter of the speed, the same checks
// (windowBits 16 + 15: a gzip wrapper, its trailer verified).
class ZlibGunzip : public ByteSource {
 public:
  explicit ZlibGunzip(std::unique_ptr<ByteSource> src) : src_(std::move(src)), in_(1 << 20) {
    if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK) throw Error("gzip: zlib cannot start");
  }
  ~ZlibGunzip() override { inflateEnd(&z_); }
  size_t read(char* buf, size_t n) override {
    if (n > UINT32_MAX) n = UINT32_MAX;
    for (;;) {
      if (member_done_) {
        if (z_.avail_in == 0 && !fill()) return 0;
        if (z_.next_in[0] != 0x1f) return 0;  // padding after the last member
        inflateReset(&z_);
        member_done_ = false;
        ++member_;
      }
      if (z_.avail_in == 0 && !eof_) fill();
      z_.next_out = reinterpret_cast<Bytef*>(buf);
      z_.avail_out = static_cast<uInt>(n);
      int rc = inflate(&z_, Z_NO_FLUSH);
      size_t produced = n - z_.avail_out;
      if (rc == Z_STREAM_END) {
        member_done_ = true;
      } else if (rc == Z_DATA_ERROR) {
        std::string_view msg = z_.msg ? z_.msg : "";
        if (msg == "incorrect data check" || msg == "incorrect length check") throw damaged_member(member_);
        throw Error(fmt::format("layer is not valid gzip ({})", msg));
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        throw Error(fmt::format("layer is not valid gzip (zlib error {})", rc));
      }
      if (produced > 0) return produced;
      if (!member_done_ && eof_ && z_.avail_in == 0) throw Error("layer is truncated: the gzip stream ends early");
    }
  }

 private:
  bool fill() {
    if (eof_) return false;
    size_t got = src_->read(reinterpret_cast<char*>(in_.data()), in_.size());
    if (got == 0) {
      eof_ = true;
      return false;
    }
    z_.next_in = in_.data();
    z_.avail_in = static_cast<uInt>(got);
    return true;
  }

  std::unique_ptr<ByteSource> src_;
  std::vector<uint8_t> in_;
  z_stream z_{};
  bool eof_ = false;
  bool member_done_ = false;
  unsigned member_ = 1;
};

class IsalGzip : public ByteSink {
 public:
  explicit IsalGzip(ByteSink& out) : out_(out), level_buf_(ISAL_DEF_LVL1_DEFAULT), buf_(1 << 20) {
    s_ = std::make_unique<isal_zstream>();
    isal().deflate_init(s_.get());
    s_->level = 1;
    s_->level_buf = level_buf_.data();
    s_->level_buf_size = static_cast<uint32_t>(level_buf_.size());
    s_->gzip_flag = IGZIP_GZIP;
    s_->flush = NO_FLUSH;
  }
  void write(std::string_view data) override {
    while (!data.empty()) {
      size_t n = std::min<size_t>(data.size(), UINT32_MAX);
      s_->next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(data.data()));
      s_->avail_in = static_cast<uint32_t>(n);
      while (s_->avail_in > 0) run();
      data.remove_prefix(n);
    }
  }
  void finish() override {
    s_->end_of_stream = 1;
    s_->next_in = nullptr;
    s_->avail_in = 0;
    while (s_->internal_state.state != ZSTATE_END) run();
    out_.finish();
  }

 private:
  void run() {
    s_->next_out = buf_.data();
    s_->avail_out = static_cast<uint32_t>(buf_.size());
    if (int rc = isal().deflate(s_.get()); rc != COMP_OK) throw Error(fmt::format("gzip failed (isa-l error {})", rc));
    if (size_t k = buf_.size() - s_->avail_out) out_.write(std::string_view(reinterpret_cast<char*>(buf_.data()), k));
  }
  ByteSink& out_;
  std::vector<uint8_t> level_buf_;
  std::vector<uint8_t> buf_;
  std::unique_ptr<isal_zstream> s_;
};

class ReadAhead : public ByteSource {
 public:
  explicit ReadAhead(std::unique_ptr<ByteSource> src) : src_(std::move(src)) {
    for (auto& b : bufs_) {
      b.data.resize(kBufSize);
      free_.push_back(&b);
    }
    worker_ = std::thread([this] { produce(); });
  }
  ~ReadAhead() override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }

  size_t read(char* out, size_t n) override {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !full_.empty(); });
    Buf* b = full_.front();
    if (b->len == 0) {  // the end, or the producer's failure
      if (error_) std::rethrow_exception(error_);
      return 0;
    }
    lock.unlock();
    size_t k = std::min(n, b->len - b->pos);
    memcpy(out, b->data.data() + b->pos, k);
    b->pos += k;
    if (b->pos == b->len) {
      lock.lock();
      full_.pop_front();
      free_.push_back(b);
      cv_.notify_all();
    }
    return k;
  }

 private:
  static constexpr size_t kBufSize = 1 << 20;
  struct Buf {
    std::vector<char> data;
    size_t len = 0, pos = 0;
  };

  void produce() {
    for (;;) {
      Buf* b;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stop_ || !free_.empty(); });
        if (stop_) return;
        b = free_.front();
        free_.pop_front();
      }
      b->len = b->pos = 0;
      try {
        while (b->len < kBufSize) {
          size_t got = src_->read(b->data.data() + b->len, kBufSize - b->len);
          if (got == 0) break;
          b->len += got;
        }
      } catch (...) {
        std::lock_guard lock(mu_);
        error_ = std::current_exception();
        b->len = 0;
      }
      std::lock_guard lock(mu_);
      bool last = b->len == 0;
      full_.push_back(b);
      cv_.notify_all();
      if (last) return;
    }
  }

  std::unique_ptr<ByteSource> src_;
  std::array<Buf, 4> bufs_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Buf*> free_, full_;
  bool stop_ = false;
  std::exception_ptr error_;
  std::thread worker_;
};

}  // namespace

std::unique_ptr<ByteSource> read_ahead(std::unique_ptr<ByteSource> src) {
  return std::make_unique<ReadAhead>(std::move(src));
}

std::unique_ptr<ByteSource> fd_source(int fd) {
  return std::make_unique<FdSource>(fd);
}

std::unique_ptr<ByteSource> gunzip(std::unique_ptr<ByteSource> src) {
  if (isal().ok()) return std::make_unique<IsalGunzip>(std::move(src));
  return std::make_unique<ZlibGunzip>(std::move(src));
}

std::unique_ptr<ByteSink> isal_gzip(ByteSink& out) {
  if (!isal().can_deflate()) return nullptr;
  return std::make_unique<IsalGzip>(out);
}

}  // namespace skiff::image
