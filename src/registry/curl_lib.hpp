// libcurl, opened at first use. Linking it would cost every skiff command
// ~11 ms of start-up (it drags in TLS, HTTP/2, IDN and LDAP libraries), and
// only the registry commands need it.
#pragma once

#include <curl/curl.h>

namespace skiff::registry {

// The libcurl entry points skiff uses, resolved with dlsym.
struct CurlLib {
  CURL* (*easy_init)();
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
  CURLcode (*easy_perform)(CURL*);
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
  void (*easy_cleanup)(CURL*);
  void (*easy_reset)(CURL*);
  const char* (*easy_strerror)(CURLcode);
  curl_slist* (*slist_append)(curl_slist*, const char*);
  void (*slist_free_all)(curl_slist*);
};

// Loads libcurl.so.4 once (thread-safe); throws Error if it is not installed.
const CurlLib& curl_lib();

}  // namespace skiff::registry
