#include "skiff/image/manifest.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "skiff/util/error.hpp"

using namespace skiff::image;
using nlohmann::json;

namespace {

json descriptor(const std::string& digest_char, json platform) {
  return {{"mediaType", kOciManifest},
          {"digest", "sha256:" + std::string(64, digest_char[0])},
          {"size", 500},
          {"platform", std::move(platform)}};
}

// A docker manifest list as docker buildx pushes it, attestations included.
json sample_index() {
  return {{"schemaVersion", 2},
          {"mediaType", kDockerManifestList},
          {"manifests",
           {descriptor("a", {{"os", "linux"}, {"architecture", "amd64"}}),
            descriptor("b", {{"os", "linux"}, {"architecture", "arm"}, {"variant", "v6"}}),
            descriptor("c", {{"os", "linux"}, {"architecture", "arm"}, {"variant", "v7"}}),
            descriptor("d", {{"os", "linux"}, {"architecture", "arm64"}}),
            descriptor("e", {{"os", "linux"}, {"architecture", "arm64"}, {"variant", "v8"}}),
            descriptor("f", {{"os", "unknown"}, {"architecture", "unknown"}}),
            descriptor("g", {{"os", "windows"}, {"architecture", "amd64"}})}}};
}

char picked(const json& d) {
  return d.at("digest").get<std::string>().back();
}

}  // namespace

TEST_CASE("manifest kinds by Content-Type") {
  json empty = json::object();
  CHECK(manifest_kind(kOciManifest, empty) == ManifestKind::kImage);
  CHECK(manifest_kind(kDockerManifest, empty) == ManifestKind::kImage);
  CHECK(manifest_kind(kOciIndex, empty) == ManifestKind::kIndex);
  CHECK(manifest_kind(kDockerManifestList, empty) == ManifestKind::kIndex);
  CHECK(manifest_kind(kDockerSchema1, empty) == ManifestKind::kSchema1);
  CHECK(manifest_kind(kDockerSchema1Signed, empty) == ManifestKind::kSchema1);
  CHECK(manifest_kind("application/octet-stream", empty) == ManifestKind::kUnknown);
  // The header wins over the body.
  CHECK(manifest_kind(kOciIndex, json{{"mediaType", kOciManifest}}) == ManifestKind::kIndex);
}

TEST_CASE("manifest kinds by mediaType when the header says nothing") {
  for (std::string_view ct : {"", "application/json", "text/plain"}) {
    INFO("Content-Type: " << ct);
    CHECK(manifest_kind(ct, json{{"mediaType", kOciManifest}}) == ManifestKind::kImage);
    CHECK(manifest_kind(ct, json{{"mediaType", kDockerManifest}}) == ManifestKind::kImage);
    CHECK(manifest_kind(ct, json{{"mediaType", kOciIndex}}) == ManifestKind::kIndex);
    CHECK(manifest_kind(ct, json{{"mediaType", kDockerManifestList}}) == ManifestKind::kIndex);
    CHECK(manifest_kind(ct, json{{"mediaType", kDockerSchema1}}) == ManifestKind::kSchema1);
    CHECK(manifest_kind(ct, json{{"mediaType", kDockerSchema1Signed}}) == ManifestKind::kSchema1);
  }
}

TEST_CASE("manifest kinds by shape when there is no mediaType") {
  CHECK(manifest_kind("", json{{"schemaVersion", 1}, {"name", "app"}, {"fsLayers", json::array()}}) ==
        ManifestKind::kSchema1);
  CHECK(manifest_kind("application/json", json{{"schemaVersion", 2}, {"manifests", json::array()}}) ==
        ManifestKind::kIndex);
  CHECK(manifest_kind("", json{{"schemaVersion", 2}, {"config", json::object()}, {"layers", json::array()}}) ==
        ManifestKind::kImage);
  CHECK(manifest_kind("", json{{"schemaVersion", 2}, {"layers", json::array()}}) == ManifestKind::kUnknown);
  CHECK(manifest_kind("", json{{"schemaVersion", 2}}) == ManifestKind::kUnknown);
  CHECK(manifest_kind("", json::array()) == ManifestKind::kUnknown);
  CHECK(manifest_kind("", json("text")) == ManifestKind::kUnknown);
}

TEST_CASE("the Accept header names every kind") {
  std::string accept = manifest_accept_header();
  for (std::string_view t : {kOciManifest, kOciIndex, kDockerManifest, kDockerManifestList, kDockerSchema1Signed})
    CHECK(accept.find(t) != std::string::npos);
}

TEST_CASE("platforms from text") {
  auto p = parse_platform("linux/amd64");
  CHECK(p.os == "linux");
  CHECK(p.architecture == "amd64");
  CHECK(p.variant.empty());
  CHECK(p.str() == "linux/amd64");
  auto v = parse_platform("linux/arm64/v8");
  CHECK(v.architecture == "arm64");
  CHECK(v.variant == "v8");
  CHECK(v.str() == "linux/arm64/v8");
  CHECK(parse_platform("windows/amd64").os == "windows");
  for (const char* bad : {"", "linux", "amd64", "linux/", "/amd64", "linux//v7", "linux/arm/v7/x"}) {
    INFO("'" << bad << "'");
    CHECK_THROWS_WITH(parse_platform(bad), Catch::Contains("invalid platform") && Catch::Contains("OS/ARCH"));
  }
}

TEST_CASE("this machine's platform") {
  Platform p = host_platform();
  CHECK(p.os == "linux");
  CHECK_FALSE(p.architecture.empty());
  CHECK(p.architecture == host_architecture());
  CHECK(p.architecture != "x86_64");
  CHECK(p.architecture != "aarch64");
}

TEST_CASE("choosing a platform from an index") {
  json index = sample_index();
  CHECK(picked(select_platform(index, parse_platform("linux/amd64"), "app")) == 'a');
  CHECK(picked(select_platform(index, parse_platform("linux/arm/v7"), "app")) == 'c');
  CHECK(picked(select_platform(index, parse_platform("linux/arm/v6"), "app")) == 'b');
  CHECK(picked(select_platform(index, parse_platform("windows/amd64"), "app")) == 'g');
  // arm64 with no variant asked: the v8 entry, wherever it is in the list.
  CHECK(picked(select_platform(index, parse_platform("linux/arm64"), "app")) == 'e');
  CHECK(picked(select_platform(index, parse_platform("linux/arm64/v8"), "app")) == 'e');
  json reversed = index;
  std::swap(reversed["manifests"][3], reversed["manifests"][4]);
  CHECK(picked(select_platform(reversed, parse_platform("linux/arm64"), "app")) == 'e');
  // arm with no variant asked is arm/v7.
  CHECK(picked(select_platform(index, parse_platform("linux/arm"), "app")) == 'c');
}

TEST_CASE("entries without a variant have the implied one: arm64/v8, arm/v7") {
  // As containerd reads them: many indexes leave the variant out.
  json index = {{"manifests",
                 {descriptor("a", {{"os", "linux"}, {"architecture", "amd64"}}),
                  descriptor("d", {{"os", "linux"}, {"architecture", "arm64"}})}}};
  CHECK(picked(select_platform(index, parse_platform("linux/arm64"), "app")) == 'd');
  CHECK(picked(select_platform(index, parse_platform("linux/arm64/v8"), "app")) == 'd');
  CHECK_THROWS_WITH(select_platform(index, parse_platform("linux/arm64/v9"), "app"),
                    Catch::Contains("no image for linux/arm64/v9"));
  json arm = {{"manifests",
               {descriptor("b", {{"os", "linux"}, {"architecture", "arm"}, {"variant", "v6"}}),
                descriptor("c", {{"os", "linux"}, {"architecture", "arm"}})}}};
  CHECK(picked(select_platform(arm, parse_platform("linux/arm/v7"), "app")) == 'c');
  CHECK(picked(select_platform(arm, parse_platform("linux/arm/v6"), "app")) == 'b');
  CHECK(picked(select_platform(arm, parse_platform("linux/arm"), "app")) == 'c');
  // No variant asked, none that fits the implied one: any of the architecture.
  json v6 = {{"manifests", {descriptor("b", {{"os", "linux"}, {"architecture", "arm"}, {"variant", "v6"}})}}};
  CHECK(picked(select_platform(v6, parse_platform("linux/arm"), "app")) == 'b');
}

TEST_CASE("entries without a platform, and attestations, are skipped") {
  json index = {{"manifests",
                 {{{"mediaType", kOciManifest}, {"digest", "sha256:" + std::string(64, '0')}},
                  descriptor("f", {{"os", "unknown"}, {"architecture", "unknown"}}),
                  descriptor("a", {{"os", "linux"}, {"architecture", "amd64"}})}}};
  CHECK(picked(select_platform(index, parse_platform("linux/amd64"), "app")) == 'a');
  CHECK_THROWS_WITH(select_platform(index, parse_platform("unknown/unknown"), "app"),
                    Catch::Contains("(the index has: linux/amd64)"));
}

TEST_CASE("no image for the platform: the error lists what there is") {
  json index = sample_index();
  try {
    select_platform(index, parse_platform("linux/s390x"), "quay.io/x/y:1");
    FAIL("no error");
  } catch (const skiff::Error& e) {
    std::string msg = e.what();
    CHECK_THAT(msg, Catch::StartsWith("quay.io/x/y:1: no image for linux/s390x"));
    CHECK_THAT(msg, Catch::Contains("linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64, linux/arm64/v8, "
                                    "windows/amd64"));
    CHECK_THAT(msg, !Catch::Contains("unknown"));
    CHECK_THAT(e.hint(), Catch::Contains("--platform"));
  }
  CHECK_THROWS_WITH(select_platform(index, parse_platform("linux/arm/v5"), "app"),
                    Catch::Contains("no image for linux/arm/v5"));
  CHECK_THROWS_WITH(select_platform(json{{"manifests", json::array()}}, parse_platform("linux/amd64"), "app"),
                    Catch::Contains("(the index has: none)"));
}

TEST_CASE("manifest blobs: every descriptor needs a sha256 digest and a size") {
  std::string a = "sha256:" + std::string(64, 'a'), b = "sha256:" + std::string(64, 'b');
  json m = {{"schemaVersion", 2},
            {"mediaType", kOciManifest},
            {"config", {{"mediaType", "application/vnd.oci.image.config.v1+json"}, {"digest", a}, {"size", 1234}}},
            {"layers", {{{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"}, {"digest", b}, {"size", 0}}}}};
  ManifestBlobs blobs = manifest_blobs(m);
  CHECK(blobs.config.digest == a);
  CHECK(blobs.config.size == 1234);
  REQUIRE(blobs.layers.size() == 1);
  CHECK(blobs.layers[0].digest == b);
  CHECK(blobs.layers[0].size == 0);
  CHECK(blobs.layers[0].media_type == "application/vnd.oci.image.layer.v1.tar+gzip");

  json no_layer_size = m;
  no_layer_size["layers"][0].erase("size");
  CHECK_THROWS_WITH(manifest_blobs(no_layer_size),
                    "the manifest gives no size for layer 1 (" + b + "); the OCI image spec requires one");
  json no_config_size = m;
  no_config_size["config"].erase("size");
  CHECK_THROWS_WITH(manifest_blobs(no_config_size), Catch::Contains("no size for the config"));
  for (json bad_size : {json(-1), json(1.5), json("12"), json(nullptr)}) {
    json m2 = m;
    m2["layers"][0]["size"] = bad_size;
    INFO(bad_size.dump());
    CHECK_THROWS_WITH(manifest_blobs(m2), Catch::Contains("a size that is not a byte count"));
  }
  json md5 = m;
  md5["layers"][0]["digest"] = "md5:abc";
  CHECK_THROWS_WITH(manifest_blobs(md5), Catch::Contains("layer 1 with an unsupported digest"));
  json no_digest = m;
  no_digest["config"].erase("digest");
  CHECK_THROWS_WITH(manifest_blobs(no_digest), Catch::Contains("the config has no digest"));
  CHECK_THROWS_AS(manifest_blobs(json{{"config", m["config"]}}), skiff::Error);
}

// Found by tests/fuzz (fuzz_manifest): an index without "manifests", or with
// a platform that is not an object, threw nlohmann's exceptions ("key
// 'manifests' not found"), which name neither the image nor the problem.
TEST_CASE("a malformed index is an Error naming the image") {
  auto platform = parse_platform("linux/amd64");
  CHECK_THROWS_WITH(
      select_platform(json::parse(R"({"mediaType":"application/vnd.oci.image.index.v1+json"})"), platform, "app"),
      "app: malformed index: it has no list of manifests");
  CHECK_THROWS_WITH(select_platform(json::parse(R"({"manifests":{"a":1}})"), platform, "app"),
                    "app: malformed index: it has no list of manifests");
  CHECK_THROWS_WITH(select_platform(json::parse(R"({"manifests":[7]})"), platform, "app"),
                    "app: malformed index: an entry of its manifests is not a descriptor object");
  CHECK_THROWS_WITH(select_platform(json::parse(R"({"manifests":[{"platform":"linux/amd64"}]})"), platform, "app"),
                    "app: malformed index: an entry's platform is not an object");
  CHECK_THROWS_WITH(
      select_platform(json::parse(R"({"manifests":[{"platform":{"os":"linux","architecture":5}}]})"), platform, "app"),
      "app: malformed index: a platform's architecture is not a string");
  CHECK_THROWS_WITH(
      select_platform(json::parse(R"({"manifests":[{"platform":{"os":"linux","architecture":"amd64"}}]})"), platform,
                      "app"),
      "app: malformed index: the entry for linux/amd64 has no digest");
}

// Found by tests/fuzz (fuzz_manifest): a mediaType or schemaVersion of
// another JSON type threw nlohmann's type_error out of manifest_kind.
TEST_CASE("fields of the wrong type make a manifest's kind unknown, not an exception") {
  CHECK(manifest_kind("", json::parse(R"({"schemaVersion":[1],"mediaType":7})")) == ManifestKind::kUnknown);
  CHECK(manifest_kind("", json::parse(R"({"schemaVersion":"1","manifests":[]})")) == ManifestKind::kIndex);
  CHECK(manifest_kind("", json::parse(R"({"schemaVersion":1.0})")) == ManifestKind::kSchema1);
  CHECK(manifest_kind("application/json", json::parse("[1]")) == ManifestKind::kUnknown);
}
