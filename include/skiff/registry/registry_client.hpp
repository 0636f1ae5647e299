// The OCI distribution-spec client: /v2/ ping, Basic and Bearer auth,
// manifests and blobs, uploads. Thread-safe: download threads share one
// client (and its tokens), each with its own transport.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "skiff/registry/auth_file.hpp"
#include "skiff/registry/http.hpp"

namespace skiff::registry {

struct ClientOptions {
  TlsOptions tls;
  bool allow_http = false;                 // --tls-verify=false or an insecure registry
  std::optional<Credentials> credentials;  // none: anonymous
  TransportFactory transport_factory = make_curl_transport;
};

struct ManifestResponse {
  std::string body;
  std::string media_type;  // Content-Type, or the body's mediaType
  std::string digest;      // sha256 of body
};

// A registry sent more of a blob than the size its descriptor gives: a
// retry would get the same, so none is made.
class BlobSizeError : public Error {
 public:
  using Error::Error;
};

// One registry (host[:port]); docker.io is served at registry-1.docker.io.
class RegistryClient {
 public:
  RegistryClient(std::string registry, ClientOptions opts);

  const std::string& registry() const { return registry_; }
  // A transport for the calling thread.
  std::unique_ptr<HttpTransport> new_transport() const { return opts_.transport_factory(opts_.tls); }

  // Checks that the registry answers and, with credentials, that it accepts
  // them (login). Throws "invalid username or password" when it does not.
  void check_login(HttpTransport& t);

  // GET a manifest by tag or digest. A digest reference is verified.
  ManifestResponse get_manifest(HttpTransport& t, const std::string& repo, const std::string& reference);
  // Streams a blob of size bytes (its descriptor's) to sink from offset
  // (Range); the caller verifies the digest and that all came. False when the
  // registry would not resume at offset (start again). Throws BlobSizeError,
  // and stops reading, when the registry sends more than size.
  bool get_blob(HttpTransport& t, const std::string& repo, const std::string& digest, uint64_t size, uint64_t offset,
                const std::function<bool(std::string_view)>& sink, const std::function<void(uint64_t)>& progress);
  bool has_blob(HttpTransport& t, const std::string& repo, const std::string& digest);
  // Asks the registry to link a blob from another repository; true if it did.
  bool mount_blob(HttpTransport& t, const std::string& repo, const std::string& digest, const std::string& from);
  // Uploads size bytes of fd as the blob digest: one PUT, or PATCH chunks of
  // chunk_size when the blob is larger.
  void upload_blob(HttpTransport& t, const std::string& repo, const std::string& digest, int fd, uint64_t size,
                   uint64_t chunk_size, const std::function<void(uint64_t)>& progress);
  // PUT a manifest; returns the digest the registry gives it.
  std::string put_manifest(HttpTransport& t, const std::string& repo, const std::string& reference,
                           const std::string& body, const std::string& media_type);

  // The scope the client asks tokens for: pull, or pull and push.
  void set_push(bool push) { push_ = push; }

 private:
  struct Challenge {
    std::string scheme;  // "basic", "bearer" or "" (no auth)
    std::map<std::string, std::string> params;
  };
  HttpResponse send(HttpTransport& t, HttpRequest req, const std::string& repo, const std::string& extra_scope = {});
  void ping(HttpTransport& t);
  std::string authorization(HttpTransport& t, const std::string& scope, bool refresh);
  std::string url(const std::string& path) const;
  [[noreturn]] void fail(const HttpResponse& resp, const std::string& what, const std::string& repo) const;

  std::string registry_;
  std::string endpoint_host_;
  ClientOptions opts_;
  bool push_ = false;
  std::mutex mu_;
  bool pinged_ = false;
  std::string scheme_ = "https";
  Challenge challenge_;
  std::map<std::string, std::string> tokens_;  // scope -> "Bearer ..."
};

// Runs fn(transport, i, cancel) for i in [0, count) on up to jobs threads,
// each with its own connection. The first failure sets cancel (transfers
// check it and stop) and is rethrown once all threads are done.
void parallel_transfers(const RegistryClient& client, size_t count, int jobs,
                        const std::function<void(HttpTransport&, size_t, const std::atomic<bool>&)>& fn);

// "Bearer realm="x",service="y"" -> scheme "bearer" and its parameters.
std::pair<std::string, std::map<std::string, std::string>> parse_www_authenticate(std::string_view header);

// The message of a registry error body ({"errors":[{"code","message"}]}).
std::string registry_error_message(std::string_view body);

}  // namespace skiff::registry
