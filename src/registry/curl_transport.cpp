// HttpTransport over libcurl (dlopen'd, see curl_lib.hpp).
#include <errno.h>
#include <unistd.h>

#include <algorithm>

#include "curl_lib.hpp"
#include "skiff/registry/http.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

namespace skiff::registry {

namespace {

struct Exchange {
  const HttpRequest* req;
  HttpResponse* resp;
  CURL* handle;
  const CurlLib* lib;
  uint64_t received = 0;
  bool aborted = false;
  uint64_t sent = 0;
  bool range_ignored = false;
  bool too_large = false;  // a body to keep in memory passed kMaxMemoryBody
};

// What a response body kept in memory (manifests, tokens, error texts) may
// hold; larger content is streamed through on_body.
constexpr size_t kMaxMemoryBody = size_t{64} << 20;

long current_status(Exchange* ex) {
  long code = 0;
  ex->lib->easy_getinfo(ex->handle, CURLINFO_RESPONSE_CODE, &code);
  return code;
}

size_t on_write(char* data, size_t size, size_t n, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  size_t len = size * n;
  long status = current_status(ex);
  if (ex->req->range_from > 0 && status == 200) {
    // Asked for the rest and got the whole: the caller must start over.
    ex->range_ignored = true;
    return 0;
  }
  if (ex->req->on_body && status >= 200 && status < 300) {
    if (!ex->req->on_body(std::string_view(data, len))) {
      ex->aborted = true;
      return 0;
    }
    ex->received += len;
    if (ex->req->on_progress) ex->req->on_progress(ex->received);
  } else if (ex->resp->body.size() + len <= kMaxMemoryBody) {
    ex->resp->body.append(data, len);
  } else if (status >= 200 && status < 300) {
    // Cut short, the body would be wrong without a word: fail instead.
    ex->too_large = true;
    return 0;
  }
  // An error page past the limit only loses its end: it is read for a message.
  return len;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  std::string_view line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new response (after a redirect or a 100 Continue): start over.
    ex->resp->headers.clear();
    return size * n;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return size * n;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
    value.remove_suffix(1);
  // WWW-Authenticate may come more than once; keep the first Bearer/Basic.
  if (name == "www-authenticate" && ex->resp->headers.count(name)) return size * n;
  ex->resp->headers[name] = std::string(value);
  return size * n;
}

size_t on_read(char* buf, size_t size, size_t n, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  const HttpRequest& req = *ex->req;
  uint64_t left = req.body_length - ex->sent;
  size_t want = std::min<uint64_t>(left, size * n);
  if (want == 0) return 0;
  ssize_t got;
  do got = pread(req.body_fd, buf, want, static_cast<off_t>(req.body_offset + ex->sent));
  while (got < 0 && errno == EINTR);
  if (got <= 0) return CURL_READFUNC_ABORT;
  ex->sent += static_cast<uint64_t>(got);
  if (req.on_progress) req.on_progress(ex->sent);
  return static_cast<size_t>(got);
}

int on_seek(void* user, curl_off_t offset, int origin) {
  // curl rewinds the upload when it must resend it (a redirect, an auth retry).
  auto* ex = static_cast<Exchange*>(user);
  if (origin != SEEK_SET) return CURL_SEEKFUNC_CANTSEEK;
  ex->sent = static_cast<uint64_t>(offset);
  return CURL_SEEKFUNC_OK;
}

class CurlTransport : public HttpTransport {
 public:
  explicit CurlTransport(const TlsOptions& tls) : lib_(curl_lib()), tls_(tls), handle_(lib_.easy_init()) {
    if (!handle_) throw Error("cannot make a libcurl handle");
    // A registry's own CAs are trusted on top of the system's: curl takes
    // one bundle, so the two are joined in memory.
    if (!tls_.ca_files.empty()) {
      for (const char* sys : {"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"})
        if (auto pem = read_file_if_exists(sys)) {
          ca_bundle_.append(*pem).push_back('\n');
          break;
        }
      for (const auto& f : tls_.ca_files) ca_bundle_.append(read_file(f)).push_back('\n');
    }
  }
  ~CurlTransport() override { lib_.easy_cleanup(handle_); }

  HttpResponse perform(const HttpRequest& req) override {
    HttpResponse resp;
    Exchange ex{&req, &resp, handle_, &lib_};
    // Reset keeps the connection cache, so blobs of one pull share a connection.
    lib_.easy_reset(handle_);
    char errbuf[CURL_ERROR_SIZE] = {0};
    auto set = [&](CURLoption opt, auto value) { lib_.easy_setopt(handle_, opt, value); };
    set(CURLOPT_URL, req.url.c_str());
    set(CURLOPT_ERRORBUFFER, errbuf);
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_FOLLOWLOCATION, 1L);
    set(CURLOPT_MAXREDIRS, 10L);
    set(CURLOPT_CONNECTTIMEOUT, 30L);
    // A stalled transfer (under 1 KB/s for 60 s) is an error, not a hang.
    set(CURLOPT_LOW_SPEED_LIMIT, 1024L);
    set(CURLOPT_LOW_SPEED_TIME, 60L);
    set(CURLOPT_USERAGENT, "skiff");
    set(CURLOPT_SSL_VERIFYPEER, tls_.verify ? 1L : 0L);
    set(CURLOPT_SSL_VERIFYHOST, tls_.verify ? 2L : 0L);
    if (!ca_bundle_.empty()) {
      curl_blob blob{ca_bundle_.data(), ca_bundle_.size(), CURL_BLOB_NOCOPY};
      set(CURLOPT_CAINFO_BLOB, &blob);
    }
    if (!tls_.client_cert.empty()) {
      set(CURLOPT_SSLCERT, tls_.client_cert.c_str());
      set(CURLOPT_SSLKEY, tls_.client_key.c_str());
    }
    set(CURLOPT_WRITEFUNCTION, &on_write);
    set(CURLOPT_WRITEDATA, &ex);
    set(CURLOPT_HEADERFUNCTION, &on_header);
    set(CURLOPT_HEADERDATA, &ex);
    if (req.range_from > 0) {
      std::string range = std::to_string(req.range_from) + "-";
      set(CURLOPT_RANGE, range.c_str());
    }
    curl_slist* headers = nullptr;
    for (const auto& h : req.headers) headers = lib_.slist_append(headers, h.c_str());
    if (req.method == "HEAD") {
      set(CURLOPT_NOBODY, 1L);
    } else if (req.method != "GET") {
      set(CURLOPT_CUSTOMREQUEST, req.method.c_str());
      if (req.body_fd >= 0) {
        set(CURLOPT_UPLOAD, 1L);
        set(CURLOPT_READFUNCTION, &on_read);
        set(CURLOPT_READDATA, &ex);
        set(CURLOPT_SEEKFUNCTION, &on_seek);
        set(CURLOPT_SEEKDATA, &ex);
        set(CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(req.body_length));
        // UPLOAD makes curl send PUT; the custom request keeps PATCH a PATCH.
        headers = lib_.slist_append(headers, "Expect:");
      } else {
        set(CURLOPT_POST, 1L);
        set(CURLOPT_POSTFIELDS, req.body.data());
        set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
      }
    }
    set(CURLOPT_HTTPHEADER, headers);
    CURLcode rc = lib_.easy_perform(handle_);
    lib_.slist_free_all(headers);
    if (rc != CURLE_OK && ex.range_ignored) {
      resp.status = 200;
      resp.range_ignored = true;
      return resp;
    }
    if (rc != CURLE_OK) {
      if (ex.aborted) throw Error("transfer stopped");
      if (ex.too_large)
        throw Error(fmt::format("{}: the response is larger than the {} MiB skiff keeps in memory", req.url,
                                kMaxMemoryBody >> 20));
      if (rc == CURLE_PARTIAL_FILE) {
        // The connection closed before the Content-Length the server announced.
        uint64_t got = req.on_body ? ex.received : resp.body.size();
        std::string length = resp.header("content-length");
        throw Error(fmt::format("{}: the server closed the connection after {} of the {} bytes it announced",
                                host_of(req.url), got, length.empty() ? "?" : length));
      }
      long os_errno = 0;
      lib_.easy_getinfo(handle_, CURLINFO_OS_ERRNO, &os_errno);
      throw_transport_error(req.url, rc, os_errno, errbuf);
    }
    lib_.easy_getinfo(handle_, CURLINFO_RESPONSE_CODE, &resp.status);
    return resp;
  }

 private:
  static std::string host_of(const std::string& url) {
    std::string host = url.substr(url.find("://") + 3);
    return host.substr(0, host.find('/'));
  }

  [[noreturn]] void throw_transport_error(const std::string& url, CURLcode rc, long os_errno,
                                          const char* errbuf) const {
    std::string host = host_of(url);
    std::string detail = errbuf[0] ? errbuf : lib_.easy_strerror(rc);
    switch (rc) {
      case CURLE_COULDNT_CONNECT:
        if (os_errno == ECONNREFUSED) throw Error(fmt::format("{}: connection refused", host));
        throw Error(fmt::format("{}: cannot connect: {}", host, detail));
      case CURLE_COULDNT_RESOLVE_HOST:
        throw Error(fmt::format("{}: no such host", host));
      case CURLE_PEER_FAILED_VERIFICATION:
        throw TlsCertificateError(fmt::format("{}: TLS certificate not trusted: {}", host, detail), 0,
                                  "give its CA with --cert-dir, put it in ~/.config/containers/certs.d/" + host +
                                      "/ca.crt, or use --tls-verify=false");
      case CURLE_SSL_CONNECT_ERROR:
      case CURLE_SSL_CERTPROBLEM:
      case CURLE_SSL_CACERT_BADFILE:
        throw Error(fmt::format("{}: TLS handshake failed (certificate or protocol): {}", host, detail), 0,
                    "a registry that speaks plain HTTP needs --tls-verify=false");
      case CURLE_OPERATION_TIMEDOUT:
        throw Error(fmt::format("{}: timed out: {}", host, detail));
      default:
        throw Error(fmt::format("{}: {}", host, detail));
    }
  }

  const CurlLib& lib_;
  TlsOptions tls_;
  CURL* handle_;
  std::string ca_bundle_;
};

}  // namespace

std::unique_ptr<HttpTransport> make_curl_transport(const TlsOptions& tls) {
  return std::make_unique<CurlTransport>(tls);
}

}  // namespace skiff::registry
