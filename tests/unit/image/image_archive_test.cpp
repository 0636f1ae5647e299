// Image archives: what their metadata says (plan_archive), and archives
// written from a store read back (write_image_archive, read_archive).
#include "skiff/image/image_archive.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "skiff/image/archive_read.hpp"
#include "skiff/image/archive_write.hpp"
#include "skiff/image/digest.hpp"
#include "skiff/image/tar_writer.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"
#include "temp_store.hpp"

namespace fs = std::filesystem;
using namespace skiff::image;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {

// Entries made from text, as read_archive would have copied them.
struct Entries {
  TempStore tmp{false};
  ArchiveEntries entries;
  int n = 0;
  void add(const std::string& name, const std::string& content) {
    fs::create_directories(tmp.dir);
    fs::path file = tmp.dir / ("f" + std::to_string(++n));
    skiff::write_file_atomic(file, content, {.mode = 0600, .durable = false});
    entries[name] = {file, sha256_digest(content), content.size()};
  }
  // Adds content as blobs/sha256/<its digest>; returns the digest.
  std::string blob(const std::string& content) {
    std::string d = sha256_digest(content);
    add(blob_entry_name(d), content);
    return d;
  }
};

std::string config_of(int layers) {
  json diff_ids = json::array();
  for (int i = 0; i < layers; ++i) diff_ids.push_back("sha256:" + std::string(64, static_cast<char>('a' + i)));
  return json{{"architecture", "amd64"}, {"os", "linux"}, {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}}
      .dump();
}

}  // namespace

TEST_CASE("image_archive: format names and blob entry names") {
  CHECK(parse_archive_format("docker-archive") == ArchiveFormat::kDockerArchive);
  CHECK(parse_archive_format("oci-archive") == ArchiveFormat::kOciArchive);
  CHECK(parse_archive_format("oci-dir") == ArchiveFormat::kOciDir);
  CHECK_THROWS_WITH(parse_archive_format("tarball"),
                    "unknown archive format \"tarball\": use docker-archive, oci-archive or oci-dir");
  std::string d = "sha256:" + std::string(64, 'e');
  CHECK(blob_entry_name(d) == "blobs/sha256/" + std::string(64, 'e'));
  CHECK(digest_of_blob_entry(blob_entry_name(d)) == d);
  CHECK(digest_of_blob_entry("blobs/sha256/xyz").empty());
  CHECK(digest_of_blob_entry("manifest.json").empty());
}

TEST_CASE("image_archive: a docker manifest.json gives its images, names normalised") {
  Entries e;
  std::string config = config_of(2);
  std::string cd = e.blob(config);
  json manifest = json::array({{{"Config", blob_entry_name(cd)},
                                {"RepoTags", {"bb:latest", "quay.io/x/y:1"}},
                                {"Layers", {"l1/layer.tar", "./l2/layer.tar"}}}});
  e.add("manifest.json", manifest.dump());
  ArchivePlan plan = plan_archive(e.entries);
  REQUIRE(plan.missing.empty());
  REQUIRE(plan.images.size() == 1);
  const ArchivedImage& img = plan.images[0];
  CHECK(img.config == config);
  CHECK(img.config_digest == cd);
  CHECK(img.manifest.empty());
  CHECK(img.names == std::vector<std::string>{"docker.io/library/bb:latest", "quay.io/x/y:1"});
  REQUIRE(img.layers.size() == 2);
  CHECK(img.layers[0].entry == "l1/layer.tar");
  CHECK(img.layers[1].entry == "l2/layer.tar");
  CHECK(img.layers[1].diff_id == "sha256:" + std::string(64, 'b'));
}

TEST_CASE("image_archive: what manifest.json needs and does not have yet is missing") {
  Entries e;
  CHECK(plan_archive(e.entries).missing == std::vector<std::string>{"manifest.json"});
  json manifest = json::array({{{"Config", "cfg.json"}, {"RepoTags", nullptr}, {"Layers", json::array()}}});
  e.add("manifest.json", manifest.dump());
  ArchivePlan plan = plan_archive(e.entries);
  CHECK(plan.missing == std::vector<std::string>{"cfg.json"});
  CHECK(plan.images.empty());
}

TEST_CASE("image_archive: a manifest.json that lies or leaves the archive is refused") {
  Entries e;
  std::string cd = e.blob(config_of(1));
  SECTION("a layer path with ..") {
    e.add("manifest.json", json::array({{{"Config", blob_entry_name(cd)}, {"Layers", {"../../etc/passwd"}}}}).dump());
    CHECK_THROWS_WITH(plan_archive(e.entries),
                      Contains("the archive's manifest.json is malformed") && Contains("leaves the layer"));
  }
  SECTION("more layers than diff_ids") {
    e.add("manifest.json", json::array({{{"Config", blob_entry_name(cd)}, {"Layers", {"a", "b"}}}}).dump());
    CHECK_THROWS_WITH(plan_archive(e.entries), Contains("it has 1 diff_ids for 2 layers"));
  }
  SECTION("a config named after another digest") {
    std::string other(64, '0');
    e.add(other + ".json", config_of(0));
    e.add("manifest.json", json::array({{{"Config", other + ".json"}, {"Layers", json::array()}}}).dump());
    CHECK_THROWS_WITH(plan_archive(e.entries), Contains("does not match its digest"));
  }
  SECTION("a tag with a digest") {
    e.add(
        "manifest.json",
        json::array(
            {{{"Config", blob_entry_name(cd)}, {"RepoTags", {"bb@sha256:" + std::string(64, 'a')}}, {"Layers", {"a"}}}})
            .dump());
    CHECK_THROWS_WITH(plan_archive(e.entries), Contains("has a digest, not a tag"));
  }
  SECTION("not JSON") {
    e.add("manifest.json", "[{");
    CHECK_THROWS_WITH(plan_archive(e.entries), Contains("the archive's manifest.json is malformed"));
  }
}

TEST_CASE("image_archive: an OCI index leads to manifests, configs and names") {
  Entries e;
  std::string config = config_of(1);
  std::string cd = e.blob(config);
  std::string layer_digest = "sha256:" + std::string(64, '7');
  json manifest{
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
      {"config", {{"mediaType", "application/vnd.oci.image.config.v1+json"}, {"digest", cd}, {"size", config.size()}}},
      {"layers",
       {{{"mediaType", "application/vnd.oci.image.layer.v1.tar"}, {"digest", layer_digest}, {"size", 1234}}}}};
  std::string mtext = manifest.dump();
  std::string md = e.blob(mtext);
  auto desc = [&](json annotations) {
    json d{{"mediaType", "application/vnd.oci.image.manifest.v1+json"}, {"digest", md}, {"size", mtext.size()}};
    if (!annotations.is_null()) d["annotations"] = annotations;
    return d;
  };
  json index{{"schemaVersion", 2},
             {"manifests",
              {desc({{"org.opencontainers.image.ref.name", "localhost:5000/app:v1"}}),
               desc({{"org.opencontainers.image.ref.name", "latest"}, {"io.containerd.image.name", "app:v2"}}),
               desc({{"org.opencontainers.image.ref.name", "latest"}})}}};
  e.add("index.json", index.dump());
  ArchivePlan plan = plan_archive(e.entries);
  REQUIRE(plan.missing.empty());
  REQUIRE(plan.images.size() == 1);  // one config: the three entries are one image
  const ArchivedImage& img = plan.images[0];
  CHECK(img.manifest == mtext);
  CHECK(img.manifest_digest == md);
  CHECK(img.config_digest == cd);
  CHECK(img.names == std::vector<std::string>{"localhost:5000/app:v1", "docker.io/library/app:v2"});
  REQUIRE(img.layers.size() == 1);
  CHECK(img.layers[0].entry == blob_entry_name(layer_digest));
  CHECK(img.layers[0].size == 1234);
}

TEST_CASE("image_archive: an OCI blob of another size than its descriptor says is refused") {
  Entries e;
  std::string config = config_of(0);
  std::string cd = e.blob(config);
  json manifest{{"schemaVersion", 2},
                {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                {"config", {{"digest", cd}, {"size", config.size() + 1}}},
                {"layers", json::array()}};
  std::string md = e.blob(manifest.dump());
  e.add("index.json", json{{"manifests", {{{"digest", md}, {"size", manifest.dump().size()}}}}}.dump());
  CHECK_THROWS_WITH(plan_archive(e.entries), Contains("has " + std::to_string(config.size()) + " bytes"));
}

TEST_CASE("image_archive: a blob whose content is not its digest is refused") {
  Entries e;
  std::string wrong = "sha256:" + std::string(64, '1');
  e.add(blob_entry_name(wrong), "something else");
  e.add("index.json", json{{"manifests", {{{"digest", wrong}, {"size", 14}}}}}.dump());
  CHECK_THROWS_WITH(plan_archive(e.entries), Contains("does not match its digest"));
}

TEST_CASE("image_archive: a saved store reads back as the same images, in both archive formats") {
  TempStore ts;
  ImageStore store(ts.paths);
  std::string layer = "not really a tar, but a blob";
  std::string ld = store.put_blob(layer);
  ImageRecord rec = store_image(
      store, {{"sha256:" + std::string(64, 'c'), ld, "application/vnd.oci.image.layer.v1.tar", layer.size()}},
      json{{"architecture", "amd64"}, {"os", "linux"}}, {"docker.io/library/bb:latest"}, 0);
  for (ArchiveFormat format : {ArchiveFormat::kDockerArchive, ArchiveFormat::kOciArchive}) {
    fs::path tar = ts.dir / "a.tar";
    {
      skiff::UniqueFd out = skiff::open_or_throw(tar, O_WRONLY | O_CREAT | O_TRUNC, 0600);
      write_image_archive(store, {{rec, rec.names}}, format, out.get());
    }
    fs::path work = ts.dir / "work";
    fs::remove_all(work);
    fs::create_directories(work);
    ArchiveEntries entries;
    std::vector<std::string> seen;
    skiff::UniqueFd in = skiff::open_or_throw(tar, O_RDONLY);
    read_archive(in.get(), work, entries, {.done = [&](const std::string& n) { seen.push_back(n); }});
    // The metadata comes first, the layer last.
    REQUIRE(!seen.empty());
    CHECK(seen.front() == (format == ArchiveFormat::kDockerArchive ? "manifest.json" : "oci-layout"));
    CHECK(seen.back() == blob_entry_name(ld));
    ArchivePlan plan = plan_archive(entries);
    REQUIRE(plan.missing.empty());
    REQUIRE(plan.images.size() == 1);
    CHECK(plan.images[0].config_digest == rec.id);
    CHECK(plan.images[0].names == rec.names);
    REQUIRE(plan.images[0].layers.size() == 1);
    CHECK(entries.at(plan.images[0].layers[0].entry).digest == ld);
  }
}

TEST_CASE("image_archive: read_archive refuses links and names that leave the archive") {
  TempStore ts;
  fs::path tar = ts.dir / "bad.tar";
  auto write_tar = [&](TarEntry e) {
    std::string bytes;
    TarWriter w([&](std::string_view d) { bytes.append(d); });
    w.add(e);
    if (e.type == TarEntry::Type::kFile) w.data(std::string(e.size, 'x'));
    w.finish();
    skiff::write_file_atomic(tar, bytes, {.mode = 0600, .durable = false});
  };
  auto read = [&] {
    fs::path work = ts.dir / "work";
    fs::remove_all(work);
    fs::create_directories(work);
    ArchiveEntries entries;
    skiff::UniqueFd in = skiff::open_or_throw(tar, O_RDONLY);
    read_archive(in.get(), work, entries, {});
  };
  write_tar({.name = "blobs/sha256/x", .type = TarEntry::Type::kSymlink, .linkname = "/etc/passwd"});
  CHECK_THROWS_WITH(read(),
                    "archive entry \"blobs/sha256/x\" is a symbolic link that leads out of the archive: refused");
  write_tar({.name = "a/layer.tar", .type = TarEntry::Type::kSymlink, .linkname = "../../x"});
  CHECK_THROWS_WITH(read(), "archive entry \"a/layer.tar\" is a symbolic link that leads out of the archive: refused");
  write_tar({.name = "../x", .size = 1});
  CHECK_THROWS_WITH(read(), "archive entry \"../x\" leaves the archive: refused");
  write_tar({.name = "dev", .type = TarEntry::Type::kChar});
  CHECK_THROWS_WITH(read(), "archive entry \"dev\" is a device: refused");
  write_tar({.name = blob_entry_name("sha256:" + std::string(64, 'a')), .size = 3});
  CHECK_THROWS_WITH(read(), Contains("does not match its digest"));
}

TEST_CASE("image_archive: a symbolic link inside the archive is another name of its target") {
  TempStore ts;
  fs::path tar = ts.dir / "legacy.tar";
  std::string bytes;
  TarWriter w([&](std::string_view d) { bytes.append(d); });
  // podman's docker-archive: the layer under its diff_id, linked from <id>/layer.tar.
  w.add({.name = "abc/layer.tar", .type = TarEntry::Type::kSymlink, .linkname = "../layer0.tar"});
  w.add({.name = "layer0.tar", .size = 5});
  w.data("hello");
  w.add({.name = "blobs/sha256/" + std::string(64, 'a'),
         .type = TarEntry::Type::kSymlink,
         .linkname = "../../layer0.tar"});
  w.finish();
  skiff::write_file_atomic(tar, bytes, {.mode = 0600, .durable = false});
  fs::path work = ts.dir / "work";
  fs::create_directories(work);
  ArchiveEntries entries;
  std::vector<std::string> done;
  skiff::UniqueFd in = skiff::open_or_throw(tar, O_RDONLY);
  // The last link is named after a digest its target does not have.
  CHECK_THROWS_WITH(read_archive(in.get(), work, entries, {.done = [&](const std::string& n) { done.push_back(n); }}),
                    Contains("does not match its digest"));
  REQUIRE(entries.count("abc/layer.tar") == 1);
  CHECK(entries.at("abc/layer.tar").digest == sha256_digest("hello"));
  CHECK(entries.at("abc/layer.tar").file == entries.at("layer0.tar").file);
  CHECK(done == std::vector<std::string>{"layer0.tar", "abc/layer.tar"});
}

TEST_CASE("image_archive: an image stored with Docker's manifest goes into an OCI layout with OCI media types") {
  TempStore ts;
  ImageStore store(ts.paths);
  std::string layer = "gzip layer bytes";
  std::string ld = store.put_blob(layer);
  std::string config =
      json{{"architecture", "amd64"}, {"os", "linux"}, {"rootfs", {{"type", "layers"}, {"diff_ids", {ld}}}}}.dump();
  std::string cd = store.put_blob(config);
  json docker{
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.docker.distribution.manifest.v2+json"},
      {"config",
       {{"mediaType", "application/vnd.docker.container.image.v1+json"}, {"digest", cd}, {"size", config.size()}}},
      {"layers",
       {{{"mediaType", "application/vnd.docker.image.rootfs.diff.tar.gzip"}, {"digest", ld}, {"size", layer.size()}}}}};
  ImageRecord rec{.id = cd, .manifest = store.put_blob(docker.dump()), .names = {"docker.io/library/d:1"}};
  store.add(rec);
  fs::path tar = ts.dir / "o.tar";
  {
    skiff::UniqueFd out = skiff::open_or_throw(tar, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    write_image_archive(store, {{rec, rec.names}}, ArchiveFormat::kOciArchive, out.get());
  }
  fs::path work = ts.dir / "work";
  fs::create_directories(work);
  ArchiveEntries entries;
  skiff::UniqueFd in = skiff::open_or_throw(tar, O_RDONLY);
  read_archive(in.get(), work, entries, {});
  ArchivePlan plan = plan_archive(entries);
  REQUIRE(plan.images.size() == 1);
  json m = json::parse(plan.images[0].manifest);
  CHECK(m["mediaType"] == "application/vnd.oci.image.manifest.v1+json");
  CHECK(m["config"]["mediaType"] == "application/vnd.oci.image.config.v1+json");
  CHECK(m["layers"][0]["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip");
  CHECK(m["layers"][0]["digest"] == ld);
  CHECK(plan.images[0].config_digest == cd);
  CHECK(plan.images[0].manifest_digest != rec.manifest);
}
