#include "curl_lib.hpp"

#include <dlfcn.h>

#include <mutex>

#include "skiff/util/error.hpp"

namespace skiff::registry {

namespace {

template <typename Fn>
void bind(void* lib, Fn& fn, const char* name) {
  void* sym = dlsym(lib, name);
  if (!sym) throw Error(fmt::format("libcurl has no {}: {}", name, dlerror()));
  fn = reinterpret_cast<Fn>(sym);
}

CurlLib load() {
  void* lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
  if (!lib)
    throw Error(fmt::format("cannot load libcurl: {}", dlerror()), 0, "install it (Debian: apt-get install libcurl4)");
  CurlLib c{};
  bind(lib, c.easy_init, "curl_easy_init");
  bind(lib, c.easy_setopt, "curl_easy_setopt");
  bind(lib, c.easy_perform, "curl_easy_perform");
  bind(lib, c.easy_getinfo, "curl_easy_getinfo");
  bind(lib, c.easy_cleanup, "curl_easy_cleanup");
  bind(lib, c.easy_reset, "curl_easy_reset");
  bind(lib, c.easy_strerror, "curl_easy_strerror");
  bind(lib, c.slist_append, "curl_slist_append");
  bind(lib, c.slist_free_all, "curl_slist_free_all");
  // curl_global_init is not thread-safe: run it here, once, before any
  // download thread makes a handle.
  CURLcode (*global_init)(long) = nullptr;
  bind(lib, global_init, "curl_global_init");
  if (global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw Error("cannot initialise libcurl");
  return c;
}

}  // namespace

const CurlLib& curl_lib() {
  static std::once_flag once;
  static CurlLib lib;
  std::call_once(once, [] { lib = load(); });
  return lib;
}

}  // namespace skiff::registry
