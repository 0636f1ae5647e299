// liblzma (xz), opened at first use for libarchive, which is linked
// statically: liblzma.a's start-up code probes the CPU for its CRC-64 with
// cpuid, a trap to the hypervisor on virtual machines (30 us at every skiff
// start), and only an xz tarball needs it. These are the entry points
// libarchive's xz and lzip readers call; each forwards to liblzma.so.5
// (Debian's liblzma5, which every system has).
#include <dlfcn.h>
#include <lzma.h>

#include "skiff/util/log.hpp"

namespace {

struct LzmaLib {
  lzma_ret (*stream_decoder)(lzma_stream*, uint64_t, uint32_t);
  lzma_ret (*alone_decoder)(lzma_stream*, uint64_t);
  lzma_ret (*raw_decoder)(lzma_stream*, const lzma_filter*);
  lzma_ret (*properties_decode)(lzma_filter*, const lzma_allocator*, const uint8_t*, size_t);
  lzma_ret (*code)(lzma_stream*, lzma_action);
  void (*end)(lzma_stream*);
  uint32_t (*crc32)(const uint8_t*, size_t, uint32_t);
};

template <typename F>
bool bind(void* lib, const char* name, F& fn) {
  fn = reinterpret_cast<F>(dlsym(lib, name));
  return fn != nullptr;
}

// Null when liblzma.so.5 cannot be opened (said once).
const LzmaLib* lzma_lib() {
  static const LzmaLib* lib = []() -> const LzmaLib* {
    static LzmaLib l{};
    void* h = dlopen("liblzma.so.5", RTLD_NOW | RTLD_LOCAL);
    if (h && bind(h, "lzma_stream_decoder", l.stream_decoder) && bind(h, "lzma_alone_decoder", l.alone_decoder) &&
        bind(h, "lzma_raw_decoder", l.raw_decoder) && bind(h, "lzma_properties_decode", l.properties_decode) &&
        bind(h, "lzma_code", l.code) && bind(h, "lzma_end", l.end) && bind(h, "lzma_crc32", l.crc32))
      return &l;
    const char* why = dlerror();
    skiff::warn(fmt::format("cannot read xz: liblzma.so.5 (package liblzma5) cannot be loaded: {}",
                            why ? why : "incomplete library"));
    return nullptr;
  }();
  return lib;
}

}  // namespace

extern "C" {

lzma_ret lzma_stream_decoder(lzma_stream* strm, uint64_t memlimit, uint32_t flags) noexcept {
  const LzmaLib* l = lzma_lib();
  return l ? l->stream_decoder(strm, memlimit, flags) : LZMA_PROG_ERROR;
}

lzma_ret lzma_alone_decoder(lzma_stream* strm, uint64_t memlimit) noexcept {
  const LzmaLib* l = lzma_lib();
  return l ? l->alone_decoder(strm, memlimit) : LZMA_PROG_ERROR;
}

lzma_ret lzma_raw_decoder(lzma_stream* strm, const lzma_filter* filters) noexcept {
  const LzmaLib* l = lzma_lib();
  return l ? l->raw_decoder(strm, filters) : LZMA_PROG_ERROR;
}

lzma_ret lzma_properties_decode(lzma_filter* filter, const lzma_allocator* allocator, const uint8_t* props,
                                size_t props_size) noexcept {
  const LzmaLib* l = lzma_lib();
  return l ? l->properties_decode(filter, allocator, props, props_size) : LZMA_PROG_ERROR;
}

lzma_ret lzma_code(lzma_stream* strm, lzma_action action) noexcept {
  const LzmaLib* l = lzma_lib();
  return l ? l->code(strm, action) : LZMA_PROG_ERROR;
}

void lzma_end(lzma_stream* strm) noexcept {
  if (const LzmaLib* l = lzma_lib()) l->end(strm);
}

uint32_t lzma_crc32(const uint8_t* buf, size_t size, uint32_t crc) noexcept {
  const LzmaLib* l = lzma_lib();
  return l ? l->crc32(buf, size, crc) : 0;
}

}  // extern "C"
