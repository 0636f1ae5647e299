#include "skiff/registry/registry_client.hpp"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "skiff/image/digest.hpp"
#include "skiff/image/manifest.hpp"
#include "skiff/util/error.hpp"

namespace skiff::registry {

using nlohmann::json;

namespace {

std::string url_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// Loopback registries are trusted over plain HTTP, as docker does.
bool is_loopback(std::string_view host) {
  if (host.substr(0, 5) == "[::1]") return host.size() == 5 || host[5] == ':';
  std::string_view h = host.substr(0, host.find(':'));
  return h == "localhost" || h.rfind("127.", 0) == 0;
}

}  // namespace

std::pair<std::string, std::map<std::string, std::string>> parse_www_authenticate(std::string_view header) {
  std::map<std::string, std::string> params;
  size_t sp = header.find(' ');
  std::string scheme(header.substr(0, sp));
  for (auto& c : scheme) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  if (sp == std::string_view::npos) return {scheme, params};
  std::string_view rest = header.substr(sp + 1);
  while (!rest.empty()) {
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == ',')) rest.remove_prefix(1);
    size_t eq = rest.find('=');
    if (eq == std::string_view::npos) break;
    std::string key(rest.substr(0, eq));
    for (auto& c : key) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
    rest.remove_prefix(eq + 1);
    std::string value;
    if (!rest.empty() && rest.front() == '"') {
      rest.remove_prefix(1);
      while (!rest.empty() && rest.front() != '"') {
        if (rest.front() == '\\' && rest.size() > 1) rest.remove_prefix(1);
        value += rest.front();
        rest.remove_prefix(1);
      }
      if (!rest.empty()) rest.remove_prefix(1);
    } else {
      size_t end = rest.find(',');
      value = std::string(rest.substr(0, end));
      rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
    }
    params[key] = value;
  }
  return {scheme, params};
}

std::string registry_error_message(std::string_view body) {
  try {
    json j = json::parse(body);
    const json& errors = j.at("errors");
    if (errors.is_array() && !errors.empty()) {
      std::string msg = errors[0].value("message", "");
      if (msg.empty()) msg = errors[0].value("code", "");
      for (auto& c : msg) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
      return msg;
    }
  } catch (const json::exception&) {
  }
  return {};
}

RegistryClient::RegistryClient(std::string registry, ClientOptions opts)
    : registry_(std::move(registry)), opts_(std::move(opts)) {
  endpoint_host_ = registry_ == "docker.io" ? "registry-1.docker.io" : registry_;
  if (is_loopback(registry_)) opts_.allow_http = true;
}

std::string RegistryClient::url(const std::string& path) const {
  return scheme_ + "://" + endpoint_host_ + path;
}

void RegistryClient::ping(HttpTransport& t) {
  std::lock_guard lock(mu_);
  if (pinged_) return;
  HttpResponse resp;
  try {
    resp = t.perform({.url = url("/v2/")});
  } catch (const TlsCertificateError&) {
    throw;
  } catch (const Error&) {
    if (!opts_.allow_http || scheme_ != "https") throw;
    // An insecure registry may speak plain HTTP: fall back, as docker does.
    scheme_ = "http";
    resp = t.perform({.url = url("/v2/")});
  }
  if (resp.status == 401) {
    auto [scheme, params] = parse_www_authenticate(resp.header("www-authenticate"));
    challenge_ = {scheme, params};
    if (scheme != "basic" && scheme != "bearer")
      throw Error(fmt::format("{}: unsupported authentication scheme '{}'", registry_, scheme));
  } else if (resp.status < 200 || resp.status >= 300) {
    throw Error(fmt::format("{}: does not answer as a registry (GET /v2/: HTTP {})", registry_, resp.status));
  }
  pinged_ = true;
}

std::string RegistryClient::authorization(HttpTransport& t, const std::string& scope, bool refresh) {
  std::lock_guard lock(mu_);
  const auto& creds = opts_.credentials;
  if (challenge_.scheme == "basic") return creds ? "Basic " + encode_auth(*creds) : "";
  if (challenge_.scheme != "bearer") return "";
  if (!refresh)
    if (auto it = tokens_.find(scope); it != tokens_.end()) return it->second;
  const std::string& realm = challenge_.params["realm"];
  if (realm.empty()) throw Error(fmt::format("{}: its Bearer challenge names no realm", registry_));
  std::string token_url = realm + (realm.find('?') == std::string::npos ? "?" : "&");
  token_url += "service=" + url_encode(challenge_.params["service"]);
  // Several scopes (a push that mounts from another repository) are
  // separate scope parameters.
  for (size_t start = 0; start < scope.size();) {
    size_t end = scope.find(' ', start);
    if (end == std::string::npos) end = scope.size();
    token_url += "&scope=" + url_encode(scope.substr(start, end - start));
    start = end + 1;
  }
  HttpRequest req{.url = token_url};
  if (creds) {
    token_url += "&account=" + url_encode(creds->username);
    req.url = token_url;
    req.headers.push_back("Authorization: Basic " + encode_auth(*creds));
  }
  HttpResponse resp = t.perform(req);
  if (resp.status == 401 || resp.status == 403) {
    if (creds) throw Error(fmt::format("{}: invalid username or password", registry_));
    throw Error(fmt::format("{}: authentication required: skiff login {}", registry_, registry_));
  }
  if (resp.status != 200)
    throw Error(fmt::format("{}: the token service at {} answered HTTP {}", registry_, realm, resp.status));
  std::string token;
  try {
    json j = json::parse(resp.body);
    token = j.value("token", "");
    if (token.empty()) token = j.value("access_token", "");
  } catch (const json::exception&) {
  }
  if (token.empty()) throw Error(fmt::format("{}: the token service at {} gave no token", registry_, realm));
  return tokens_[scope] = "Bearer " + token;
}

HttpResponse RegistryClient::send(HttpTransport& t, HttpRequest req, const std::string& repo,
                                  const std::string& extra_scope) {
  ping(t);
  // Paths become URLs only now: the ping decides between https and http.
  if (!req.url.empty() && req.url[0] == '/') req.url = url(req.url);
  std::string scope;
  if (!repo.empty()) scope = "repository:" + repo + (push_ ? ":pull,push" : ":pull");
  if (!extra_scope.empty()) scope += (scope.empty() ? "" : " ") + extra_scope;
  std::vector<std::string> base_headers = req.headers;
  for (bool refresh : {false, true}) {
    std::string auth = authorization(t, scope, refresh);
    req.headers = base_headers;
    if (!auth.empty()) req.headers.push_back("Authorization: " + auth);
    HttpResponse resp = t.perform(req);
    // A 401 with a token in hand: it expired or lacks a scope; ask once more.
    if (resp.status == 401 && !refresh && challenge_.scheme == "bearer") continue;
    return resp;
  }
  return {};  // not reached
}

void RegistryClient::fail(const HttpResponse& resp, const std::string& what, const std::string& repo) const {
  std::string where = registry_ + "/" + repo;
  if (resp.status == 401) {
    if (opts_.credentials)
      throw Error(fmt::format("{} {}: access denied (HTTP 401)", what, where), 0,
                  fmt::format("check the credentials for {} (skiff login {})", registry_, registry_));
    throw Error(fmt::format("{} {}: authentication required: skiff login {}", what, where, registry_));
  }
  std::string msg = registry_error_message(resp.body);
  if (resp.status == 403) msg = msg.empty() ? "access denied" : msg;
  if (msg.empty()) msg = resp.status == 404 ? "not found" : "unexpected answer";
  throw Error(fmt::format("{} {}: {} (HTTP {})", what, where, msg, resp.status));
}

void RegistryClient::check_login(HttpTransport& t) {
  ping(t);
  if (challenge_.scheme == "bearer") {
    authorization(t, "", true);
    return;
  }
  HttpRequest req{.url = url("/v2/")};
  std::string auth = authorization(t, "", false);
  if (!auth.empty()) req.headers.push_back("Authorization: " + auth);
  HttpResponse resp = t.perform(req);
  if (resp.status == 401) throw Error(fmt::format("{}: invalid username or password", registry_));
  if (resp.status != 200) fail(resp, "logging in to", "v2");
}

ManifestResponse RegistryClient::get_manifest(HttpTransport& t, const std::string& repo, const std::string& reference) {
  HttpRequest req{.url = fmt::format("/v2/{}/manifests/{}", repo, reference)};
  req.headers.push_back("Accept: " + image::manifest_accept_header());
  HttpResponse resp = send(t, req, repo);
  if (resp.status != 200) {
    if (resp.status == 404) {
      std::string msg = registry_error_message(resp.body);
      throw Error(
          fmt::format("{}/{}:{}: {} (HTTP 404)", registry_, repo, reference, msg.empty() ? "manifest unknown" : msg));
    }
    fail(resp, "reading manifest of", repo + ":" + reference);
  }
  ManifestResponse m{std::move(resp.body), resp.header("content-type"), ""};
  m.media_type = m.media_type.substr(0, m.media_type.find(';'));
  m.digest = image::sha256_digest(m.body);
  if (reference.rfind("sha256:", 0) == 0 && m.digest != reference)
    throw Error(fmt::format("{}/{}@{}: digest mismatch: the registry sent a manifest with digest {}", registry_, repo,
                            reference, m.digest));
  return m;
}

bool RegistryClient::get_blob(HttpTransport& t, const std::string& repo, const std::string& digest, uint64_t size,
                              uint64_t offset, const std::function<bool(std::string_view)>& sink,
                              const std::function<void(uint64_t)>& progress) {
  HttpRequest req{.url = fmt::format("/v2/{}/blobs/{}", repo, digest), .range_from = offset};
  // The descriptor's size bounds what is read: a registry that sends more
  // (by mistake or to fill the disk) is cut off at the first byte too many.
  uint64_t at = offset;
  bool too_large = false;
  req.on_body = [&](std::string_view data) {
    if (data.size() > size - std::min(at, size)) {
      too_large = true;
      return false;
    }
    at += data.size();
    return sink(data);
  };
  req.on_progress = progress;
  auto refuse = [&] {
    return BlobSizeError(
        fmt::format("{}/{}: blob {} is larger than the {} bytes its manifest gives", registry_, repo, digest, size));
  };
  HttpResponse resp;
  try {
    resp = send(t, req, repo);
  } catch (const Error&) {
    if (too_large) throw refuse();
    throw;
  }
  if (too_large) throw refuse();
  if (resp.range_ignored) return false;
  if (resp.status != 200 && resp.status != 206) fail(resp, "fetching blob " + digest.substr(7, 12) + " of", repo);
  return true;
}

bool RegistryClient::has_blob(HttpTransport& t, const std::string& repo, const std::string& digest) {
  HttpResponse resp = send(t, {.method = "HEAD", .url = fmt::format("/v2/{}/blobs/{}", repo, digest)}, repo);
  if (resp.status == 200) return true;
  if (resp.status == 404) return false;
  fail(resp, "checking blob " + digest.substr(7, 12) + " in", repo);
}

bool RegistryClient::mount_blob(HttpTransport& t, const std::string& repo, const std::string& digest,
                                const std::string& from) {
  HttpRequest req{.method = "POST",
                  .url = fmt::format("/v2/{}/blobs/uploads/?mount={}&from={}", repo, digest, url_encode(from))};
  HttpResponse resp = send(t, req, repo, "repository:" + from + ":pull");
  if (resp.status == 201) return true;
  if (resp.status == 202) {
    // The registry opened an upload instead of mounting: give it back.
    std::string loc = resp.header("location");
    if (!loc.empty()) send(t, {.method = "DELETE", .url = loc}, repo);
  }
  return false;
}

void RegistryClient::upload_blob(HttpTransport& t, const std::string& repo, const std::string& digest, int fd,
                                 uint64_t size, uint64_t chunk_size, const std::function<void(uint64_t)>& progress) {
  std::string what = "uploading blob " + digest.substr(7, 12) + " to";
  HttpResponse resp = send(t, {.method = "POST", .url = fmt::format("/v2/{}/blobs/uploads/", repo)}, repo);
  if (resp.status != 202) fail(resp, what, repo);
  auto location = [&](const HttpResponse& r) {
    std::string loc = r.header("location");
    if (loc.empty()) throw Error(fmt::format("{} {}/{}: the registry gave no upload location", what, registry_, repo));
    return loc;
  };
  std::string loc = location(resp);
  auto with_digest = [&](const std::string& l) {
    return l + (l.find('?') == std::string::npos ? "?" : "&") + "digest=" + url_encode(digest);
  };
  if (chunk_size == 0 || size <= chunk_size) {
    HttpRequest put{.method = "PUT", .url = with_digest(loc), .body_fd = fd, .body_offset = 0, .body_length = size};
    put.headers = {"Content-Type: application/octet-stream"};
    put.on_progress = progress;
    resp = send(t, put, repo);
    if (resp.status != 201) fail(resp, what, repo);
    return;
  }
  for (uint64_t off = 0; off < size; off += chunk_size) {
    uint64_t n = std::min(chunk_size, size - off);
    HttpRequest patch{.method = "PATCH", .url = loc, .body_fd = fd, .body_offset = off, .body_length = n};
    patch.headers = {"Content-Type: application/octet-stream", fmt::format("Content-Range: {}-{}", off, off + n - 1)};
    if (progress) patch.on_progress = [&, off](uint64_t done) { progress(off + done); };
    resp = send(t, patch, repo);
    if (resp.status != 202) fail(resp, what, repo);
    loc = location(resp);
  }
  resp = send(t, {.method = "PUT", .url = with_digest(loc)}, repo);
  if (resp.status != 201) fail(resp, what, repo);
}

std::string RegistryClient::put_manifest(HttpTransport& t, const std::string& repo, const std::string& reference,
                                         const std::string& body, const std::string& media_type) {
  HttpRequest req{.method = "PUT", .url = fmt::format("/v2/{}/manifests/{}", repo, reference), .body = body};
  req.headers = {"Content-Type: " + media_type};
  HttpResponse resp = send(t, req, repo);
  if (resp.status != 201 && resp.status != 200) fail(resp, "putting manifest to", repo + ":" + reference);
  std::string digest = resp.header("docker-content-digest");
  return digest.empty() ? image::sha256_digest(body) : digest;
}

void parallel_transfers(const RegistryClient& client, size_t count, int jobs,
                        const std::function<void(HttpTransport&, size_t, const std::atomic<bool>&)>& fn) {
  std::atomic<size_t> next{0};
  std::atomic<bool> cancel{false};
  std::mutex mu;
  std::exception_ptr first_error;
  auto worker = [&] {
    try {
      auto t = client.new_transport();
      for (size_t i; !cancel && (i = next++) < count;) fn(*t, i, cancel);
    } catch (...) {
      std::lock_guard lock(mu);
      if (!first_error) first_error = std::current_exception();
      cancel = true;
    }
  };
  size_t n = std::min<size_t>(static_cast<size_t>(std::max(jobs, 1)), count);
  std::vector<std::thread> threads;
  for (size_t i = 1; i < n; ++i) threads.emplace_back(worker);
  if (n > 0) worker();
  for (auto& th : threads) th.join();
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace skiff::registry
