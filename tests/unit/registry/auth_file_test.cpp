// Registry credentials in auth.json, docker's config.json and credential
// helpers, each test in a temporary directory with the environment pointed
// at it.
#include "skiff/registry/auth_file.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

using namespace skiff::registry;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Sets (or, with nullopt, unsets) environment variables for one test case
// and puts the old values back after it.
class EnvGuard {
 public:
  void set(const std::string& name, const std::optional<std::string>& value) {
    if (!saved_.count(name)) {
      const char* old = getenv(name.c_str());
      saved_[name] = old ? std::optional<std::string>(old) : std::nullopt;
    }
    if (value)
      setenv(name.c_str(), value->c_str(), 1);
    else
      unsetenv(name.c_str());
  }
  ~EnvGuard() {
    for (const auto& [name, value] : saved_) {
      if (value)
        setenv(name.c_str(), value->c_str(), 1);
      else
        unsetenv(name.c_str());
    }
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("skiff-unit-" + skiff::random_hex(8));
  TempDir() { fs::create_directories(path); }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// A test case sees only the files it makes: no auth file, no docker config.
struct Isolated {
  TempDir dir;
  EnvGuard env;
  Isolated() {
    env.set("REGISTRY_AUTH_FILE", (dir.path / "auth.json").string());
    env.set("DOCKER_CONFIG", (dir.path / "docker").string());
    env.set("XDG_RUNTIME_DIR", (dir.path / "run").string());
    env.set("HOME", (dir.path / "home").string());
  }
};

void write_text(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

json read_json(const fs::path& path) {
  return json::parse(skiff::read_file(path));
}

bool same(const std::optional<Credentials>& c, const std::string& user, const std::string& pass) {
  return c && c->username == user && c->password == pass;
}

}  // namespace

TEST_CASE("auth: base64 of user:pass both ways") {
  CHECK(encode_auth({"user", "pass"}) == "dXNlcjpwYXNz");
  CHECK(same(decode_auth("dXNlcjpwYXNz"), "user", "pass"));
  // Every padding length, a password with colons, and UTF-8.
  for (const Credentials& c :
       {Credentials{"u", "p"}, Credentials{"us", "p"}, Credentials{"use", "p"}, Credentials{"robot$ci", "p:a:ss:"},
        Credentials{"jürgen", "pässwörd"}, Credentials{"user", ""}}) {
    INFO(c.username << ":" << c.password);
    std::string b64 = encode_auth(c);
    CHECK(b64.size() % 4 == 0);
    CHECK(same(decode_auth(b64), c.username, c.password));
  }
}

TEST_CASE("auth: what is not base64 of user:pass") {
  CHECK_FALSE(decode_auth(""));
  CHECK_FALSE(decode_auth("abc"));
  CHECK_FALSE(decode_auth("!!!!"));
  CHECK_FALSE(decode_auth("dXNlcg=="));  // "user", no colon
}

TEST_CASE("auth: registry hosts normalise to their key") {
  CHECK(normalize_auth_host("https://index.docker.io/v1/") == "docker.io");
  CHECK(normalize_auth_host("index.docker.io") == "docker.io");
  CHECK(normalize_auth_host("registry-1.docker.io") == "docker.io");
  CHECK(normalize_auth_host("registry.hub.docker.com") == "docker.io");
  CHECK(normalize_auth_host("docker.io") == "docker.io");
  CHECK(normalize_auth_host("host:5000/path") == "host:5000");
  CHECK(normalize_auth_host("http://host:5000/v2/") == "host:5000");
  CHECK(normalize_auth_host("quay.io") == "quay.io");
}

TEST_CASE("auth: where the auth file is") {
  Isolated iso;
  CHECK(auth_file_path("/some/where.json") == fs::path("/some/where.json"));
  CHECK(auth_file_path("") == iso.dir.path / "auth.json");
  iso.env.set("REGISTRY_AUTH_FILE", std::nullopt);
  CHECK(auth_file_path("") == iso.dir.path / "run" / "containers" / "auth.json");
  iso.env.set("XDG_RUNTIME_DIR", std::nullopt);
  CHECK(auth_file_path("") == iso.dir.path / "home" / ".config" / "containers" / "auth.json");
}

TEST_CASE("auth: store, look up and erase with --authfile") {
  Isolated iso;
  fs::path file = iso.dir.path / "new" / "dir" / "auth.json";
  std::string flag = file.string();
  CHECK_FALSE(lookup_credentials(flag, "reg.example:5000"));
  CHECK_FALSE(erase_credentials(flag, "reg.example:5000"));
  CHECK_FALSE(fs::exists(file));

  store_credentials(flag, "reg.example:5000", {"user", "p:ss"});
  store_credentials(flag, "https://index.docker.io/v1/", {"hub", "secret"});
  struct stat st {};
  REQUIRE(stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  json j = read_json(file);
  CHECK(j == json{{"auths",
                   {{"reg.example:5000", {{"auth", encode_auth({"user", "p:ss"})}}},
                    {"docker.io", {{"auth", encode_auth({"hub", "secret"})}}}}}});

  CHECK(same(lookup_credentials(flag, "reg.example:5000"), "user", "p:ss"));
  CHECK(same(lookup_credentials(flag, "reg.example:5000/team/app"), "user", "p:ss"));
  CHECK(same(lookup_credentials(flag, "registry-1.docker.io"), "hub", "secret"));
  CHECK_FALSE(lookup_credentials(flag, "reg.example"));

  // Logging in again replaces the entry.
  store_credentials(flag, "reg.example:5000", {"user", "new"});
  CHECK(same(lookup_credentials(flag, "reg.example:5000"), "user", "new"));

  CHECK(erase_credentials(flag, "reg.example:5000"));
  CHECK_FALSE(erase_credentials(flag, "reg.example:5000"));
  CHECK_FALSE(lookup_credentials(flag, "reg.example:5000"));
  CHECK(same(lookup_credentials(flag, "docker.io"), "hub", "secret"));

  erase_all_credentials(flag);
  CHECK_FALSE(lookup_credentials(flag, "docker.io"));
  CHECK(read_json(file) == json{{"auths", json::object()}});
}

TEST_CASE("auth: the file keeps what else it holds, and becomes 0600") {
  Isolated iso;
  fs::path file = iso.dir.path / "auth.json";
  write_text(file, R"({"auths":{"other.example":{"auth":"b3RoZXI6cHc="}},"HttpHeaders":{"X-Meta":"1"}})");
  chmod(file.c_str(), 0644);
  store_credentials(file.string(), "reg.example", {"user", "pass"});
  struct stat st {};
  REQUIRE(stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  json j = read_json(file);
  CHECK(j["HttpHeaders"] == json{{"X-Meta", "1"}});
  CHECK(j["auths"]["other.example"]["auth"] == "b3RoZXI6cHc=");
  CHECK(same(lookup_credentials(file.string(), "other.example"), "other", "pw"));
  CHECK(same(lookup_credentials(file.string(), "reg.example"), "user", "pass"));
}

TEST_CASE("auth: entries with username and password, and broken files") {
  Isolated iso;
  fs::path file = iso.dir.path / "auth.json";
  write_text(file, R"({"auths":{"reg.example":{"username":"u","password":"p"}}})");
  CHECK(same(lookup_credentials(file.string(), "reg.example"), "u", "p"));
  write_text(file, "  \n");
  CHECK_FALSE(lookup_credentials(file.string(), "reg.example"));
  write_text(file, "{not json");
  CHECK_THROWS_WITH(lookup_credentials(file.string(), "reg.example"), Catch::Contains("is not valid JSON"));
  write_text(file, "[]");
  CHECK_THROWS_WITH(lookup_credentials(file.string(), "reg.example"), Catch::Contains("is not valid JSON"));
}

TEST_CASE("auth: docker's config.json is the fallback") {
  Isolated iso;
  write_text(iso.dir.path / "docker" / "config.json",
             json{{"auths",
                   {{"https://index.docker.io/v1/", {{"auth", encode_auth({"hub", "h"})}}},
                    {"reg.example", {{"auth", encode_auth({"docker", "d"})}}}}}}
                 .dump());
  CHECK(same(lookup_credentials("", "docker.io"), "hub", "h"));
  CHECK(same(lookup_credentials("", "reg.example"), "docker", "d"));
  // The auth file ($REGISTRY_AUTH_FILE) comes first.
  store_credentials("", "reg.example", {"podman", "p"});
  CHECK(fs::exists(iso.dir.path / "auth.json"));
  CHECK(same(lookup_credentials("", "reg.example"), "podman", "p"));
  CHECK(same(lookup_credentials("", "docker.io"), "hub", "h"));
  // Told which file to use, nothing else is read.
  fs::path other = iso.dir.path / "other.json";
  CHECK_FALSE(lookup_credentials(other.string(), "docker.io"));
  // Without DOCKER_CONFIG, ~/.docker/config.json.
  iso.env.set("DOCKER_CONFIG", std::nullopt);
  CHECK_FALSE(lookup_credentials("", "docker.io"));
  fs::create_directories(iso.dir.path / "home");
  fs::rename(iso.dir.path / "docker", iso.dir.path / "home" / ".docker");
  CHECK(same(lookup_credentials("", "docker.io"), "hub", "h"));
}

TEST_CASE("auth: credential helpers") {
  Isolated iso;
  fs::path bin = iso.dir.path / "bin";
  fs::path helper = bin / "docker-credential-fake";
  // get answers for h:5000 only; store and erase leave what they were given
  // next to the script.
  write_text(helper, R"(#!/bin/sh
dir=$(dirname "$0")
input=$(cat)
case "$1" in
get)
  if [ "$input" = "h:5000" ]; then
    echo '{"ServerURL":"h","Username":"u","Secret":"s"}'
    exit 0
  fi
  echo "credentials not found in native keychain"
  exit 1 ;;
store) printf '%s' "$input" > "$dir/stored" ;;
erase) printf '%s' "$input" > "$dir/erased" ;;
*) exit 2 ;;
esac
)");
  fs::permissions(helper, fs::perms::owner_all);
  const char* path = getenv("PATH");
  iso.env.set("PATH", bin.string() + ":" + (path ? path : "/usr/bin:/bin"));

  fs::path file = iso.dir.path / "auth.json";
  write_text(file, R"({"credHelpers":{"h:5000":"fake"},"auths":{"plain.example":{"auth":"cDpx"}}})");
  std::string flag = file.string();
  CHECK(same(lookup_credentials(flag, "h:5000"), "u", "s"));
  CHECK(same(lookup_credentials(flag, "https://h:5000/v2/"), "u", "s"));
  // Hosts without a helper still come from the file.
  CHECK(same(lookup_credentials(flag, "plain.example"), "p", "q"));

  store_credentials(flag, "h:5000", {"new", "secret"});
  REQUIRE(fs::exists(bin / "stored"));
  CHECK(read_json(bin / "stored") == json{{"ServerURL", "h:5000"}, {"Username", "new"}, {"Secret", "secret"}});
  // The secret went to the helper, not into the file.
  CHECK(skiff::read_file(file).find(encode_auth({"new", "secret"})) == std::string::npos);

  CHECK(erase_credentials(flag, "h:5000"));
  CHECK(skiff::read_file(bin / "erased") == "h:5000");

  SECTION("credsStore serves every host, and not found is no error") {
    write_text(file, R"({"credsStore":"fake"})");
    CHECK(same(lookup_credentials(flag, "h:5000"), "u", "s"));
    CHECK_FALSE(lookup_credentials(flag, "elsewhere.example"));
  }
}
