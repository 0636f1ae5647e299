// The registry client's protocol logic, driven through a scripted transport:
// each step names the request it expects and the answer it gives.
#include "skiff/registry/registry_client.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cctype>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "skiff/image/digest.hpp"
#include "skiff/image/manifest.hpp"
#include "skiff/registry/registry_options.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/unique_fd.hpp"

using namespace skiff::registry;
using skiff::image::sha256_digest;

namespace {

const std::string kDigestA = "sha256:" + std::string(64, 'a');
const std::string kDigestB = "sha256:" + std::string(64, 'b');
// base64("user:pass")
const std::string kBasicUserPass = "Basic dXNlcjpwYXNz";

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string percent_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// "scheme://host/path?b=2&a=1" -> the part before '?' and the decoded query
// parameters, sorted ("a=1&b=2"), so that URLs compare the same whatever
// their encoding and order.
std::pair<std::string, std::string> split_url(const std::string& url) {
  auto q = url.find('?');
  std::multimap<std::string, std::string> params;
  if (q != std::string::npos) {
    std::string query = url.substr(q + 1);
    for (size_t start = 0; start <= query.size();) {
      size_t end = query.find('&', start);
      if (end == std::string::npos) end = query.size();
      std::string kv = query.substr(start, end - start);
      if (!kv.empty()) {
        auto eq = kv.find('=');
        params.emplace(percent_decode(kv.substr(0, eq)),
                       eq == std::string::npos ? "" : percent_decode(kv.substr(eq + 1)));
      }
      start = end + 1;
    }
  }
  std::string canonical;
  for (const auto& [k, v] : params) canonical += (canonical.empty() ? "" : "&") + k + "=" + v;
  return {url.substr(0, q), canonical};
}

// The value of header name in "Name: value" lines, or nullptr.
const std::string* find_header(const std::vector<std::string>& headers, const std::string& name, std::string& value) {
  for (const auto& h : headers) {
    auto colon = h.find(':');
    if (colon == std::string::npos || lower(h.substr(0, colon)) != lower(name)) continue;
    value = h.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    return &h;
  }
  return nullptr;
}

struct Step {
  std::string method;
  std::string url;
  std::map<std::string, std::string> headers;  // must be sent with these values
  std::vector<std::string> absent;             // must not be sent
  long status = 200;
  std::map<std::string, std::string> response_headers;
  std::string body;                 // the response body...
  std::vector<std::string> chunks;  // ...or, for a 2xx with on_body, these pieces of it
  std::optional<std::string> sent;  // the request body it must carry
  bool range_ignored = false;       // the whole blob came back for a range
  bool throw_error = false;         // no HTTP answer: throws skiff::Error
  bool throw_tls = false;           // the certificate is not trusted
};

struct Seen {
  std::string method, url;
  std::vector<std::string> headers;
  uint64_t range_from = 0;
  std::string body;
};

// Checks every request against the next step of its script. A request the
// script does not expect ends the test case: the exception is none of the
// types the client catches.
class ScriptedTransport : public HttpTransport {
 public:
  explicit ScriptedTransport(std::vector<Step> script) : script_(script.begin(), script.end()) {}

  HttpResponse perform(const HttpRequest& req) override {
    Seen seen{req.method, req.url, req.headers, req.range_from, req.body};
    if (req.body_fd >= 0) {
      seen.body.resize(req.body_length);
      ssize_t n = pread(req.body_fd, seen.body.data(), req.body_length, static_cast<off_t>(req.body_offset));
      seen.body.resize(n < 0 ? 0 : static_cast<size_t>(n));
    }
    log.push_back(seen);
    if (script_.empty()) {
      FAIL_CHECK("unexpected request " << req.method << " " << req.url);
      throw std::logic_error("the script has ended");
    }
    Step step = std::move(script_.front());
    script_.pop_front();
    INFO("request " << log.size() << ": " << req.method << " " << req.url);
    CHECK(req.method == step.method);
    auto [got_base, got_query] = split_url(req.url);
    auto [want_base, want_query] = split_url(step.url);
    CHECK(got_base == want_base);
    CHECK(got_query == want_query);
    for (const auto& [name, want] : step.headers) {
      std::string value;
      INFO("header " << name);
      REQUIRE(find_header(req.headers, name, value));
      CHECK(value == want);
    }
    for (const auto& name : step.absent) {
      std::string value;
      INFO("header " << name << " must not be sent");
      CHECK_FALSE(find_header(req.headers, name, value));
    }
    if (step.sent) CHECK(seen.body == *step.sent);
    if (step.throw_tls) throw TlsCertificateError("certificate verify failed");
    if (step.throw_error) throw skiff::Error("connection failed");
    HttpResponse resp;
    resp.status = step.status;
    resp.range_ignored = step.range_ignored;
    for (const auto& [k, v] : step.response_headers) resp.headers[lower(k)] = v;
    bool ok = step.status >= 200 && step.status < 300;
    if (ok && req.on_body && !step.chunks.empty()) {
      uint64_t done = 0;
      for (const auto& c : step.chunks) {
        if (!req.on_body(c)) break;
        done += c.size();
        if (req.on_progress) req.on_progress(done);
      }
    } else {
      resp.body = step.body;
      for (const auto& c : step.chunks) resp.body += c;
    }
    return resp;
  }

  size_t remaining() const { return script_.size(); }
  std::vector<Seen> log;

 private:
  std::deque<Step> script_;
};

// The transports the client makes all play the same script.
class Proxy : public HttpTransport {
 public:
  explicit Proxy(std::shared_ptr<ScriptedTransport> s) : s_(std::move(s)) {}
  HttpResponse perform(const HttpRequest& req) override { return s_->perform(req); }

 private:
  std::shared_ptr<ScriptedTransport> s_;
};

ClientOptions options_for(const std::shared_ptr<ScriptedTransport>& script,
                          std::optional<Credentials> creds = std::nullopt) {
  ClientOptions opts;
  opts.credentials = std::move(creds);
  opts.transport_factory = [script](const TlsOptions&) { return std::make_unique<Proxy>(script); };
  return opts;
}

const std::string kRegistry = "reg.example";
const std::string kBase = "https://reg.example";
const std::string kBearerChallenge = R"(Bearer realm="https://auth.example/token",service="reg.example")";

Step ping_open() {
  return {.method = "GET", .url = kBase + "/v2/", .absent = {"Authorization"}};
}

Step ping_challenge(const std::string& challenge) {
  return {.method = "GET",
          .url = kBase + "/v2/",
          .absent = {"Authorization"},
          .status = 401,
          .response_headers = {{"WWW-Authenticate", challenge}},
          .body = R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})"};
}

Step token(const std::string& scope, const std::string& answer, std::optional<Credentials> creds = std::nullopt) {
  std::string url = "https://auth.example/token?service=reg.example&scope=" + scope;
  Step s{.method = "GET", .url = url, .body = answer};
  if (creds) {
    s.url += "&account=" + creds->username;
    s.headers["Authorization"] = "Basic " + encode_auth(*creds);
  } else {
    s.absent.push_back("Authorization");
  }
  return s;
}

Step blob_get(const std::string& repo, const std::string& digest, const std::string& auth,
              std::vector<std::string> chunks) {
  Step s{.method = "GET", .url = kBase + "/v2/" + repo + "/blobs/" + digest, .chunks = std::move(chunks)};
  if (auth.empty())
    s.absent.push_back("Authorization");
  else
    s.headers["Authorization"] = auth;
  return s;
}

std::string fetch_blob(RegistryClient& client, HttpTransport& t, const std::string& repo, const std::string& digest,
                       uint64_t offset = 0, uint64_t size = 1000) {
  std::string got;
  client.get_blob(
      t, repo, digest, size, offset,
      [&](std::string_view piece) {
        got += piece;
        return true;
      },
      nullptr);
  return got;
}

// An in-memory file for upload bodies.
skiff::UniqueFd memory_file(const std::string& content) {
  skiff::UniqueFd fd(memfd_create("skiff-unit", MFD_CLOEXEC));
  REQUIRE(fd.get() >= 0);
  REQUIRE(write(fd.get(), content.data(), content.size()) == static_cast<ssize_t>(content.size()));
  return fd;
}

}  // namespace

TEST_CASE("WWW-Authenticate: schemes and parameters") {
  auto [scheme, params] = parse_www_authenticate(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull,push")");
  CHECK(scheme == "bearer");
  CHECK(params.size() == 3);
  CHECK(params["realm"] == "https://auth.docker.io/token");
  CHECK(params["service"] == "registry.docker.io");
  CHECK(params["scope"] == "repository:library/busybox:pull,push");

  auto [s2, p2] = parse_www_authenticate(R"(Basic realm="Registry Realm")");
  CHECK(s2 == "basic");
  CHECK(p2 == std::map<std::string, std::string>{{"realm", "Registry Realm"}});

  auto [s3, p3] = parse_www_authenticate("BEARER Realm=https://a.example/token,service=reg, scope=x");
  CHECK(s3 == "bearer");
  CHECK(p3["realm"] == "https://a.example/token");
  CHECK(p3["service"] == "reg");
  CHECK(p3["scope"] == "x");

  auto [s4, p4] = parse_www_authenticate(R"(bAsIc realm="a \"quoted\" realm, with a comma", charset="UTF-8")");
  CHECK(s4 == "basic");
  CHECK(p4["realm"] == R"(a "quoted" realm, with a comma)");
  CHECK(p4["charset"] == "UTF-8");

  auto [s5, p5] = parse_www_authenticate("Basic");
  CHECK(s5 == "basic");
  CHECK(p5.empty());
}

TEST_CASE("registry error bodies") {
  CHECK(registry_error_message(R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]})") ==
        "manifest unknown");
  CHECK(registry_error_message(R"({"errors":[{"code":"NAME_UNKNOWN"}]})") == "name_unknown");
  CHECK(registry_error_message("<html>502 Bad Gateway</html>").empty());
  CHECK(registry_error_message("").empty());
  CHECK(registry_error_message(R"({"errors":[]})").empty());
  CHECK(registry_error_message(R"({"errors":"oops"})").empty());
  CHECK(registry_error_message(R"({"errors":["oops"]})").empty());
  CHECK(registry_error_message("[1,2]").empty());
}

TEST_CASE("an open registry gets no Authorization") {
  std::string body = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"})";
  auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
      ping_open(),
      {.method = "GET",
       .url = kBase + "/v2/team/app/manifests/v1",
       .headers = {{"Accept", skiff::image::manifest_accept_header()}},
       .absent = {"Authorization"},
       .response_headers = {{"Content-Type", "application/vnd.oci.image.manifest.v1+json; charset=utf-8"}},
       .body = body},
      blob_get("team/app", kDigestA, "", {"he", "llo"}),
  });
  RegistryClient client(kRegistry, options_for(script));
  auto t = client.new_transport();
  auto m = client.get_manifest(*t, "team/app", "v1");
  CHECK(m.body == body);
  CHECK(m.media_type == "application/vnd.oci.image.manifest.v1+json");
  CHECK(m.digest == sha256_digest(body));
  CHECK(fetch_blob(client, *t, "team/app", kDigestA) == "hello");
  CHECK(script->remaining() == 0);
}

TEST_CASE("docker.io is served at registry-1.docker.io") {
  auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
      {.method = "GET", .url = "https://registry-1.docker.io/v2/"},
      {.method = "HEAD", .url = "https://registry-1.docker.io/v2/library/busybox/blobs/" + kDigestA},
      {.method = "HEAD", .url = "https://registry-1.docker.io/v2/library/busybox/blobs/" + kDigestB, .status = 404},
  });
  RegistryClient client("docker.io", options_for(script));
  auto t = client.new_transport();
  CHECK(client.has_blob(*t, "library/busybox", kDigestA));
  CHECK_FALSE(client.has_blob(*t, "library/busybox", kDigestB));
  CHECK(script->remaining() == 0);
}

TEST_CASE("Basic challenge: user:pass in base64 on every request") {
  Credentials creds{"user", "pass"};
  REQUIRE("Basic " + encode_auth(creds) == kBasicUserPass);
  auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
      ping_challenge(R"(Basic realm="Registry Realm")"),
      blob_get("app", kDigestA, kBasicUserPass, {"a"}),
      blob_get("app", kDigestB, kBasicUserPass, {"b"}),
  });
  RegistryClient client(kRegistry, options_for(script, creds));
  auto t = client.new_transport();
  CHECK(fetch_blob(client, *t, "app", kDigestA) == "a");
  CHECK(fetch_blob(client, *t, "app", kDigestB) == "b");
  CHECK(script->remaining() == 0);
}

TEST_CASE("Basic challenge without credentials: authentication required") {
  auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
      ping_challenge(R"(Basic realm="Registry Realm")"),
      {.method = "GET", .url = kBase + "/v2/app/manifests/latest", .absent = {"Authorization"}, .status = 401},
  });
  RegistryClient client(kRegistry, options_for(script));
  auto t = client.new_transport();
  CHECK_THROWS_WITH(client.get_manifest(*t, "app", "latest"),
                    Catch::Contains("authentication required: skiff login reg.example"));
  CHECK(script->remaining() == 0);
}

TEST_CASE("Bearer: one anonymous token serves every request for the repository") {
  auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
      ping_challenge(kBearerChallenge),
      token("repository:team/app:pull", R"({"token":"T1","expires_in":300})"),
      blob_get("team/app", kDigestA, "Bearer T1", {"aa", "a"}),
      blob_get("team/app", kDigestB, "Bearer T1", {"bbb"}),
      blob_get("team/app", kDigestA, "Bearer T1", {"aaa"}),
  });
  RegistryClient client(kRegistry, options_for(script));
  auto t = client.new_transport();
  CHECK(fetch_blob(client, *t, "team/app", kDigestA) == "aaa");
  CHECK(fetch_blob(client, *t, "team/app", kDigestB) == "bbb");
  CHECK(fetch_blob(client, *t, "team/app", kDigestA) == "aaa");
  CHECK(script->remaining() == 0);
  size_t token_requests = 0;
  for (const auto& s : script->log) token_requests += s.url.rfind("https://auth.example/", 0) == 0;
  CHECK(token_requests == 1);
}

TEST_CASE("Bearer: another repository gets its own token") {
  auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
      ping_challenge(kBearerChallenge),
      token("repository:one:pull", R"({"token":"T1"})"),
      blob_get("one", kDigestA, "Bearer T1", {"1"}),
      token("repository:two:pull", R"({"token":"T2"})"),
      blob_get("two", kDigestA, "Bearer T2", {"2"}),
      blob_get("one", kDigestB, "Bearer T1", {"1"}),
  });
  RegistryClient client(kRegistry, options_for(script));
  auto t = client.new_transport();
  CHECK(fetch_blob(client, *t, "one", kDigestA) == "1");
  CHECK(fetch_blob(client, *t, "two", kDigestA) == "2");
  CHECK(fetch_blob(client, *t, "one", kDigestB) == "1");
  CHECK(script->remaining() == 0);
}

TEST_CASE("Bearer with credentials: account and Basic auth at the token service") {
  Credentials creds{"user", "pass"};
  auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
      ping_challenge(kBearerChallenge),
      token("repository:team/app:pull", R"({"access_token":"A1"})", creds),
      blob_get("team/app", kDigestA, "Bearer A1", {"x"}),
      blob_get("team/app", kDigestB, "Bearer A1", {"y"}),
  });
  RegistryClient client(kRegistry, options_for(script, creds));
  auto t = client.new_transport();
  CHECK(fetch_blob(client, *t, "team/app", kDigestA) == "x");
  CHECK(fetch_blob(client, *t, "team/app", kDigestB) == "y");
  CHECK(script->remaining() == 0);
}

TEST_CASE("Bearer: a realm with a query string keeps it") {
  auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
      ping_challenge(R"(Bearer realm="https://auth.example/token?tenant=7",service="reg.example")"),
      {.method = "GET",
       .url = "https://auth.example/token?tenant=7&service=reg.example&scope=repository:app:pull",
       .body = R"({"token":"T"})"},
      blob_get("app", kDigestA, "Bearer T", {"z"}),
  });
  RegistryClient client(kRegistry, options_for(script));
  auto t = client.new_transport();
  CHECK(fetch_blob(client, *t, "app", kDigestA) == "z");
  CHECK(script->remaining() == 0);
}

TEST_CASE("Bearer: a 401 refreshes the token once and retries") {
  auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
      ping_challenge(kBearerChallenge),
      token("repository:app:pull", R"({"token":"OLD"})"),
      blob_get("app", kDigestA, "Bearer OLD", {"1"}),
      {.method = "GET",
       .url = kBase + "/v2/app/blobs/" + kDigestB,
       .headers = {{"Authorization", "Bearer OLD"}},
       .status = 401},
      token("repository:app:pull", R"({"token":"NEW"})"),
      blob_get("app", kDigestB, "Bearer NEW", {"2"}),
      // The refreshed token is the one kept.
      blob_get("app", kDigestA, "Bearer NEW", {"3"}),
  });
  RegistryClient client(kRegistry, options_for(script));
  auto t = client.new_transport();
  CHECK(fetch_blob(client, *t, "app", kDigestA) == "1");
  CHECK(fetch_blob(client, *t, "app", kDigestB) == "2");
  CHECK(fetch_blob(client, *t, "app", kDigestA) == "3");
  CHECK(script->remaining() == 0);
}

TEST_CASE("Bearer: a second 401 is not retried again") {
  auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
      ping_challenge(kBearerChallenge),
      token("repository:app:pull", R"({"token":"T1"})"),
      {.method = "GET",
       .url = kBase + "/v2/app/manifests/latest",
       .headers = {{"Authorization", "Bearer T1"}},
       .status = 401},
      token("repository:app:pull", R"({"token":"T2"})"),
      {.method = "GET",
       .url = kBase + "/v2/app/manifests/latest",
       .headers = {{"Authorization", "Bearer T2"}},
       .status = 401},
  });
  RegistryClient client(kRegistry, options_for(script));
  auto t = client.new_transport();
  CHECK_THROWS_WITH(client.get_manifest(*t, "app", "latest"),
                    Catch::Contains("authentication required: skiff login reg.example"));
  CHECK(script->remaining() == 0);
}

TEST_CASE("Bearer: the token service refuses") {
  SECTION("wrong credentials") {
    Credentials creds{"user", "wrong"};
    auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
        ping_challenge(kBearerChallenge),
        [&] {
          Step s = token("repository:app:pull", "", creds);
          s.status = 401;
          return s;
        }(),
    });
    RegistryClient client(kRegistry, options_for(script, creds));
    auto t = client.new_transport();
    CHECK_THROWS_WITH(client.get_manifest(*t, "app", "latest"), Catch::Contains("invalid username or password"));
    CHECK(script->remaining() == 0);
  }
  SECTION("no credentials") {
    auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
        ping_challenge(kBearerChallenge),
        [&] {
          Step s = token("repository:private/app:pull", "");
          s.status = 401;
          return s;
        }(),
    });
    RegistryClient client(kRegistry, options_for(script));
    auto t = client.new_transport();
    CHECK_THROWS_WITH(client.get_manifest(*t, "private/app", "latest"),
                      Catch::Contains("authentication required: skiff login reg.example"));
    CHECK(script->remaining() == 0);
  }
  SECTION("no token in the answer") {
    auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
        ping_challenge(kBearerChallenge),
        token("repository:app:pull", R"({"nothing":"here"})"),
    });
    RegistryClient client(kRegistry, options_for(script));
    auto t = client.new_transport();
    CHECK_THROWS_WITH(client.get_manifest(*t, "app", "latest"), Catch::Contains("gave no token"));
  }
}

TEST_CASE("login checks the credentials") {
  Credentials creds{"user", "pass"};
  SECTION("Basic: accepted") {
    auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
        ping_challenge(R"(Basic realm="r")"),
        {.method = "GET", .url = kBase + "/v2/", .headers = {{"Authorization", kBasicUserPass}}},
    });
    RegistryClient client(kRegistry, options_for(script, creds));
    auto t = client.new_transport();
    CHECK_NOTHROW(client.check_login(*t));
    CHECK(script->remaining() == 0);
  }
  SECTION("Basic: refused") {
    auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
        ping_challenge(R"(Basic realm="r")"),
        {.method = "GET", .url = kBase + "/v2/", .headers = {{"Authorization", kBasicUserPass}}, .status = 401},
    });
    RegistryClient client(kRegistry, options_for(script, creds));
    auto t = client.new_transport();
    CHECK_THROWS_WITH(client.check_login(*t), Catch::Contains("invalid username or password"));
  }
  SECTION("Bearer: a token is asked for") {
    auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
        ping_challenge(kBearerChallenge),
        {.method = "GET",
         .url = "https://auth.example/token?service=reg.example&account=user",
         .headers = {{"Authorization", kBasicUserPass}},
         .body = R"({"token":"T"})"},
    });
    RegistryClient client(kRegistry, options_for(script, creds));
    auto t = client.new_transport();
    CHECK_NOTHROW(client.check_login(*t));
    CHECK(script->remaining() == 0);
  }
}

TEST_CASE("manifest errors") {
  SECTION("404 with the registry's message") {
    auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
        ping_open(),
        {.method = "GET",
         .url = kBase + "/v2/app/manifests/nope",
         .status = 404,
         .body = R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]})"},
    });
    RegistryClient client(kRegistry, options_for(script));
    auto t = client.new_transport();
    CHECK_THROWS_WITH(client.get_manifest(*t, "app", "nope"), Catch::Contains("manifest unknown"));
  }
  SECTION("404 with no body") {
    auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
        ping_open(),
        {.method = "GET", .url = kBase + "/v2/app/manifests/nope", .status = 404},
    });
    RegistryClient client(kRegistry, options_for(script));
    auto t = client.new_transport();
    CHECK_THROWS_WITH(client.get_manifest(*t, "app", "nope"), Catch::Contains("manifest unknown"));
  }
  SECTION("a registry that does not answer /v2/") {
    auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
        {.method = "GET", .url = kBase + "/v2/", .status = 404},
    });
    RegistryClient client(kRegistry, options_for(script));
    auto t = client.new_transport();
    CHECK_THROWS_WITH(client.get_manifest(*t, "app", "latest"), Catch::Contains("does not answer as a registry"));
  }
  SECTION("an unknown authentication scheme") {
    auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{ping_challenge("Negotiate")});
    RegistryClient client(kRegistry, options_for(script));
    auto t = client.new_transport();
    CHECK_THROWS_WITH(client.get_manifest(*t, "app", "latest"),
                      Catch::Contains("unsupported authentication scheme 'negotiate'"));
  }
}

TEST_CASE("a manifest asked for by digest is verified") {
  std::string body = R"({"schemaVersion":2})";
  std::string good = sha256_digest(body);
  auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
      ping_open(),
      {.method = "GET", .url = kBase + "/v2/app/manifests/" + good, .body = body},
      {.method = "GET", .url = kBase + "/v2/app/manifests/" + kDigestA, .body = body},
  });
  RegistryClient client(kRegistry, options_for(script));
  auto t = client.new_transport();
  CHECK(client.get_manifest(*t, "app", good).digest == good);
  CHECK_THROWS_WITH(client.get_manifest(*t, "app", kDigestA), Catch::Contains("digest mismatch"));
  CHECK(script->remaining() == 0);
}

TEST_CASE("blob downloads resume with a range") {
  auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
      ping_open(),
      {.method = "GET", .url = kBase + "/v2/app/blobs/" + kDigestA, .status = 206, .chunks = {"rest"}},
      {.method = "GET", .url = kBase + "/v2/app/blobs/" + kDigestA, .range_ignored = true},
      {.method = "GET",
       .url = kBase + "/v2/app/blobs/" + kDigestA,
       .status = 404,
       .body = R"({"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]})"},
  });
  RegistryClient client(kRegistry, options_for(script));
  auto t = client.new_transport();
  CHECK(fetch_blob(client, *t, "app", kDigestA, 100) == "rest");
  CHECK(script->log.back().range_from == 100);
  // The registry would not resume: the caller must start again.
  CHECK_FALSE(client.get_blob(
      *t, "app", kDigestA, 1000, 100, [](std::string_view) { return true; }, nullptr));
  CHECK(script->log.back().range_from == 100);
  CHECK_THROWS_WITH(fetch_blob(client, *t, "app", kDigestA), Catch::Contains("blob unknown to registry"));
  CHECK(script->remaining() == 0);
}

TEST_CASE("a blob is read no further than the size its manifest gives") {
  auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
      ping_open(),
      blob_get("app", kDigestA, "", {"1234", "56"}),
      blob_get("app", kDigestA, "", {"1234", "567", "890"}),
      {.method = "GET", .url = kBase + "/v2/app/blobs/" + kDigestA, .status = 206, .chunks = {"56", "7"}},
  });
  RegistryClient client(kRegistry, options_for(script));
  auto t = client.new_transport();
  CHECK(fetch_blob(client, *t, "app", kDigestA, 0, 6) == "123456");
  // One byte too many: refused, and the sink never sees it.
  std::string got;
  auto sink = [&](std::string_view piece) {
    got += piece;
    return true;
  };
  CHECK_THROWS_WITH(client.get_blob(*t, "app", kDigestA, 6, 0, sink, nullptr),
                    "reg.example/app: blob " + kDigestA + " is larger than the 6 bytes its manifest gives");
  CHECK(got == "1234");
  // A resumed download counts from where it resumed.
  got.clear();
  CHECK_THROWS_AS(client.get_blob(*t, "app", kDigestA, 6, 4, sink, nullptr), BlobSizeError);
  CHECK(got == "56");
  CHECK(script->remaining() == 0);
}

TEST_CASE("push asks for pull,push") {
  auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
      ping_challenge(kBearerChallenge),
      token("repository:team/app:pull,push", R"({"token":"P"})"),
      {.method = "HEAD",
       .url = kBase + "/v2/team/app/blobs/" + kDigestA,
       .headers = {{"Authorization", "Bearer P"}},
       .status = 404},
  });
  RegistryClient client(kRegistry, options_for(script));
  client.set_push(true);
  auto t = client.new_transport();
  CHECK_FALSE(client.has_blob(*t, "team/app", kDigestA));
  CHECK(script->remaining() == 0);
}

TEST_CASE("cross-repository blob mounts") {
  SECTION("mounted") {
    auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
        ping_challenge(kBearerChallenge),
        {.method = "GET",
         .url = "https://auth.example/token?service=reg.example&scope=repository:team/app:pull,push"
                "&scope=repository:other/base:pull",
         .body = R"({"token":"M"})"},
        {.method = "POST",
         .url = kBase + "/v2/team/app/blobs/uploads/?mount=" + kDigestA + "&from=other/base",
         .headers = {{"Authorization", "Bearer M"}},
         .status = 201,
         .response_headers = {{"Location", "/v2/team/app/blobs/" + kDigestA}}},
    });
    RegistryClient client(kRegistry, options_for(script));
    client.set_push(true);
    auto t = client.new_transport();
    CHECK(client.mount_blob(*t, "team/app", kDigestA, "other/base"));
    CHECK(script->remaining() == 0);
  }
  SECTION("an upload opened instead is cancelled") {
    auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
        ping_open(),
        {.method = "POST",
         .url = kBase + "/v2/app/blobs/uploads/?mount=" + kDigestA + "&from=base",
         .status = 202,
         .response_headers = {{"Location", "/v2/app/blobs/uploads/u1"}}},
        {.method = "DELETE", .url = kBase + "/v2/app/blobs/uploads/u1", .status = 204},
    });
    RegistryClient client(kRegistry, options_for(script));
    client.set_push(true);
    auto t = client.new_transport();
    CHECK_FALSE(client.mount_blob(*t, "app", kDigestA, "base"));
    CHECK(script->remaining() == 0);
  }
}

TEST_CASE("blob uploads") {
  std::string data = "0123456789";
  std::string digest = sha256_digest(data);
  auto fd = memory_file(data);
  SECTION("in one PUT") {
    auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
        ping_open(),
        {.method = "POST",
         .url = kBase + "/v2/app/blobs/uploads/",
         .status = 202,
         .response_headers = {{"Location", "https://upload.example/v2/app/blobs/uploads/u1"}}},
        {.method = "PUT",
         .url = "https://upload.example/v2/app/blobs/uploads/u1?digest=" + digest,
         .headers = {{"Content-Type", "application/octet-stream"}},
         .status = 201,
         .sent = data},
    });
    RegistryClient client(kRegistry, options_for(script));
    auto t = client.new_transport();
    client.upload_blob(*t, "app", digest, fd.get(), data.size(), 0, nullptr);
    CHECK(script->remaining() == 0);
  }
  SECTION("in PATCH chunks, then a PUT") {
    auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
        ping_open(),
        {.method = "POST",
         .url = kBase + "/v2/app/blobs/uploads/",
         .status = 202,
         .response_headers = {{"Location", "/v2/app/blobs/uploads/u1?_state=s0"}}},
        {.method = "PATCH",
         .url = kBase + "/v2/app/blobs/uploads/u1?_state=s0",
         .headers = {{"Content-Range", "0-3"}, {"Content-Type", "application/octet-stream"}},
         .status = 202,
         .response_headers = {{"Location", "/v2/app/blobs/uploads/u1?_state=s1"}},
         .sent = "0123"},
        {.method = "PATCH",
         .url = kBase + "/v2/app/blobs/uploads/u1?_state=s1",
         .headers = {{"Content-Range", "4-7"}},
         .status = 202,
         .response_headers = {{"Location", "/v2/app/blobs/uploads/u1?_state=s2"}},
         .sent = "4567"},
        {.method = "PATCH",
         .url = kBase + "/v2/app/blobs/uploads/u1?_state=s2",
         .headers = {{"Content-Range", "8-9"}},
         .status = 202,
         .response_headers = {{"Location", "/v2/app/blobs/uploads/u1?_state=s3"}},
         .sent = "89"},
        {.method = "PUT",
         .url = kBase + "/v2/app/blobs/uploads/u1?_state=s3&digest=" + digest,
         .status = 201,
         .sent = ""},
    });
    RegistryClient client(kRegistry, options_for(script));
    auto t = client.new_transport();
    client.upload_blob(*t, "app", digest, fd.get(), data.size(), 4, nullptr);
    CHECK(script->remaining() == 0);
    std::vector<std::string> methods;
    for (const auto& s : script->log) methods.push_back(s.method);
    CHECK(methods == std::vector<std::string>{"GET", "POST", "PATCH", "PATCH", "PATCH", "PUT"});
  }
  SECTION("a refused upload") {
    auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
        ping_open(),
        {.method = "POST",
         .url = kBase + "/v2/app/blobs/uploads/",
         .status = 403,
         .body = R"({"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]})"},
    });
    RegistryClient client(kRegistry, options_for(script));
    auto t = client.new_transport();
    CHECK_THROWS_WITH(client.upload_blob(*t, "app", digest, fd.get(), data.size(), 0, nullptr),
                      Catch::Contains("requested access to the resource is denied"));
  }
  SECTION("no upload location") {
    auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
        ping_open(),
        {.method = "POST", .url = kBase + "/v2/app/blobs/uploads/", .status = 202},
    });
    RegistryClient client(kRegistry, options_for(script));
    auto t = client.new_transport();
    CHECK_THROWS_WITH(client.upload_blob(*t, "app", digest, fd.get(), data.size(), 0, nullptr),
                      Catch::Contains("no upload location"));
  }
}

TEST_CASE("manifests are put with their media type") {
  std::string body = R"({"schemaVersion":2})";
  auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
      ping_open(),
      {.method = "PUT",
       .url = kBase + "/v2/app/manifests/v1",
       .headers = {{"Content-Type", std::string(skiff::image::kOciManifest)}},
       .status = 201,
       .response_headers = {{"Docker-Content-Digest", kDigestB}},
       .sent = body},
      {.method = "PUT", .url = kBase + "/v2/app/manifests/v2", .status = 201, .sent = body},
  });
  RegistryClient client(kRegistry, options_for(script));
  auto t = client.new_transport();
  CHECK(client.put_manifest(*t, "app", "v1", body, std::string(skiff::image::kOciManifest)) == kDigestB);
  CHECK(client.put_manifest(*t, "app", "v2", body, std::string(skiff::image::kOciManifest)) == sha256_digest(body));
  CHECK(script->remaining() == 0);
}

TEST_CASE("loopback registries fall back to plain HTTP") {
  auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
      {.method = "GET", .url = "https://127.0.0.1:5000/v2/", .throw_error = true},
      {.method = "GET", .url = "http://127.0.0.1:5000/v2/"},
      {.method = "HEAD", .url = "http://127.0.0.1:5000/v2/app/blobs/" + kDigestA},
      {.method = "HEAD", .url = "http://127.0.0.1:5000/v2/app/blobs/" + kDigestB},
  });
  RegistryClient client("127.0.0.1:5000", options_for(script));
  auto t = client.new_transport();
  CHECK(client.has_blob(*t, "app", kDigestA));
  CHECK(client.has_blob(*t, "app", kDigestB));
  CHECK(script->remaining() == 0);
}

TEST_CASE("no plain HTTP for other registries, nor after a certificate error") {
  SECTION("a remote registry") {
    auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
        {.method = "GET", .url = kBase + "/v2/", .throw_error = true},
    });
    RegistryClient client(kRegistry, options_for(script));
    auto t = client.new_transport();
    CHECK_THROWS_AS(client.has_blob(*t, "app", kDigestA), skiff::Error);
    CHECK(script->log.size() == 1);
  }
  SECTION("a remote registry marked insecure may") {
    auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
        {.method = "GET", .url = kBase + "/v2/", .throw_error = true},
        {.method = "GET", .url = "http://reg.example/v2/"},
        {.method = "HEAD", .url = "http://reg.example/v2/app/blobs/" + kDigestA},
    });
    auto opts = options_for(script);
    opts.allow_http = true;
    RegistryClient client(kRegistry, opts);
    auto t = client.new_transport();
    CHECK(client.has_blob(*t, "app", kDigestA));
    CHECK(script->remaining() == 0);
  }
  SECTION("an untrusted certificate on loopback") {
    auto script = std::make_shared<ScriptedTransport>(std::vector<Step>{
        {.method = "GET", .url = "https://localhost:5000/v2/", .throw_tls = true},
    });
    RegistryClient client("localhost:5000", options_for(script));
    auto t = client.new_transport();
    CHECK_THROWS_AS(client.has_blob(*t, "app", kDigestA), TlsCertificateError);
    CHECK(script->log.size() == 1);
  }
}

TEST_CASE("parallel transfers: each thread its own transport, first error rethrown") {
  std::atomic<int> made{0};
  ClientOptions opts;
  opts.transport_factory = [&](const TlsOptions&) {
    ++made;
    return std::make_unique<Proxy>(std::make_shared<ScriptedTransport>(std::vector<Step>{}));
  };
  RegistryClient client(kRegistry, opts);
  std::atomic<int> done{0};
  parallel_transfers(client, 10, 3, [&](HttpTransport&, size_t, const std::atomic<bool>&) { ++done; });
  CHECK(done == 10);
  CHECK(made == 3);
  CHECK_THROWS_WITH(parallel_transfers(client, 5, 2,
                                       [&](HttpTransport&, size_t i, const std::atomic<bool>&) {
                                         if (i == 2) throw skiff::Error("layer 2 failed");
                                       }),
                    "layer 2 failed");
}

TEST_CASE("registry options: short names get the default registry") {
  RegistriesConfig config;
  config.default_registry = "reg.example:5000";
  CHECK(with_default_registry("app", config) == "reg.example:5000/app");
  CHECK(with_default_registry("app:1.0", config) == "reg.example:5000/app:1.0");
  CHECK(with_default_registry("team/app", config) == "reg.example:5000/team/app");
  CHECK(with_default_registry("quay.io/x/y", config) == "quay.io/x/y");
  CHECK(with_default_registry("localhost/x", config) == "localhost/x");
  CHECK(with_default_registry("host:5000/x", config) == "host:5000/x");
  CHECK(with_default_registry("team/app", RegistriesConfig{}) == "team/app");
}

TEST_CASE("registry options: a host that is not one is refused before certs.d is read") {
  for (const char* bad : {"..", "...", "..:5000", ".", "a/../b"})
    CHECK_THROWS_WITH(client_options(bad, RegistryFlags{}, RegistriesConfig{}),
                      Catch::Contains("is not a registry host name"));
}

TEST_CASE("registry options: --creds") {
  auto c = parse_creds("user:pass");
  CHECK(c.username == "user");
  CHECK(c.password == "pass");
  auto colons = parse_creds("robot$ci:p:a:ss");
  CHECK(colons.username == "robot$ci");
  CHECK(colons.password == "p:a:ss");
  CHECK(parse_creds("user:").password.empty());
  CHECK_THROWS_WITH(parse_creds(""), Catch::Contains("expected USER[:PASSWORD]"));
  CHECK_THROWS_WITH(parse_creds(":pass"), Catch::Contains("expected USER[:PASSWORD]"));
}
