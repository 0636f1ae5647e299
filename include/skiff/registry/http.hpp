// HTTP for the registry client, behind a small interface so the protocol
// logic above it can be unit-tested with a scripted transport.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/util/error.hpp"

namespace skiff::registry {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;                  // sent for PUT/POST/PATCH when body_fd < 0
  int body_fd = -1;                  // else the body is read from here...
  uint64_t body_offset = 0;          // ...from this offset
  uint64_t body_length = 0;          // ...this many bytes
  uint64_t range_from = 0;           // > 0: ask for the rest from this offset
  // Receives the body of a 2xx response as it streams; return false to abort.
  // Without it the body is collected in HttpResponse::body.
  std::function<bool(std::string_view)> on_body;
  // Called now and then while the body streams: bytes so far (of this request).
  std::function<void(uint64_t)> on_progress;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;                            // unless on_body took it (error bodies always land here)
  bool range_ignored = false;                  // asked for range_from on, got the whole blob: nothing was passed on
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// The server speaks TLS but its certificate is not trusted. Unlike a
// handshake that fails because the server speaks plain HTTP, this must never
// lead to a plain-HTTP retry.
class TlsCertificateError : public Error {
 public:
  using Error::Error;
};

struct TlsOptions {
  bool verify = true;
  std::vector<std::string> ca_files;  // extra trusted CAs (PEM)
  std::string client_cert, client_key;
};

// One connection's worth of HTTP: a transport is used by one thread at a time.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Performs the request, following redirects. Throws Error when no HTTP
  // answer came (connection refused, TLS failure, reset); any status returns.
  virtual HttpResponse perform(const HttpRequest& req) = 0;
};

// Makes transports (one per download thread).
using TransportFactory = std::function<std::unique_ptr<HttpTransport>(const TlsOptions&)>;

// libcurl, loaded at first use.
std::unique_ptr<HttpTransport> make_curl_transport(const TlsOptions& tls);

}  // namespace skiff::registry
