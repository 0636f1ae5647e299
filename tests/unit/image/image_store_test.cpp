// The image store, in a store of the test's own: blobs by digest, and the
// image records of images.json with their names.
#include "skiff/image/image_store.hpp"

#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"
#include "temp_store.hpp"

namespace fs = std::filesystem;
using namespace skiff::image;
using nlohmann::json;

namespace {

std::string diff_id(char c) {
  return "sha256:" + std::string(64, c);
}

// An image of the given layers (each a blob of its own), stored under names.
ImageRecord stored_image(ImageStore& images, const std::vector<char>& layers, const std::vector<std::string>& names,
                         std::string_view variant = "") {
  std::vector<LayerRef> refs;
  for (char c : layers) {
    std::string blob = "layer " + std::string(1, c);
    refs.push_back({.diff_id = diff_id(c), .digest = images.put_blob(blob), .media_type = "", .size = blob.size()});
  }
  json config{{"architecture", "amd64"},
              {"os", "linux"},
              {"config", {{"Cmd", {"sh"}}}},
              {"created", "2024-05-01T10:00:00Z"},
              {"variant", variant}};
  return store_image(images, refs, config, names, 1000);
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

TEST_CASE("image store: blobs are stored and read back by digest") {
  TempStore t(false);
  ImageStore images(t.paths);
  std::string hello = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
  CHECK_FALSE(images.has_blob(hello));
  CHECK(images.put_blob("hello") == hello);
  CHECK(images.put_blob("hello") == hello);  // again: the same blob
  CHECK(images.has_blob(hello));
  CHECK(images.blob_path(hello) == t.paths.blobs() / hello.substr(7));
  CHECK(images.read_blob(hello) == "hello");

  // A file written aside (a download) moves into place under its digest.
  fs::path tmp = t.dir / "download";
  std::ofstream(tmp) << "world";
  std::string world = "sha256:486ea46224d1bb4fb680f34f7c9ad96a8f24ec88be73ea8e5a6c65260e9cb8a7";
  images.commit_blob_file(tmp, world);
  CHECK_FALSE(fs::exists(tmp));
  CHECK(images.read_blob(world) == "world");

  std::string missing = "sha256:" + std::string(64, '0');
  CHECK_THROWS_WITH(images.read_blob(missing), "blob " + missing + " is missing from the store");
}

TEST_CASE("image store: a stored image is found by name, by ID and by ID prefix") {
  TempStore t(false);
  ImageStore images(t.paths);
  CHECK(images.list().empty());  // no images.json yet
  ImageRecord r = stored_image(images, {'a', 'b'}, {"docker.io/library/alpine:latest"});
  REQUIRE(images.list().size() == 1);
  CHECK(images.list()[0].id == r.id);
  CHECK(images.list()[0].names == std::vector<std::string>{"docker.io/library/alpine:latest"});
  CHECK(images.list()[0].created == "2024-05-01T10:00:00Z");
  CHECK(images.list()[0].size == 1000);

  CHECK(images.resolve("alpine").id == r.id);
  CHECK(images.resolve("alpine:latest").id == r.id);
  CHECK(images.resolve("docker.io/library/alpine").id == r.id);
  CHECK(images.resolve(r.id).id == r.id);
  CHECK(images.resolve(r.id.substr(7)).id == r.id);
  CHECK(images.resolve(r.id.substr(7, 12)).id == r.id);
  CHECK(images.resolve("alpine@" + r.manifest).id == r.id);
  CHECK_FALSE(images.find("alpine:3"));
  CHECK_THROWS_WITH(images.resolve("alpine:3"), "no such image: alpine:3");

  ImageContent c = images.load(r);
  CHECK(c.diff_ids == std::vector<std::string>{diff_id('a'), diff_id('b')});
  CHECK(c.config.at("os") == "linux");
  auto layers = image_layers(c);
  REQUIRE(layers.size() == 2);
  CHECK(layers[0].diff_id == diff_id('a'));
  CHECK(images.read_blob(layers[1].digest) == "layer b");
}

TEST_CASE("image store: tags move between images; untag says when an image has no name left") {
  TempStore t(false);
  ImageStore images(t.paths);
  ImageRecord one = stored_image(images, {'a'}, {"docker.io/library/app:1"}, "one");
  ImageRecord two = stored_image(images, {'b'}, {"docker.io/library/app:2"}, "two");
  REQUIRE(one.id != two.id);

  images.tag(one.id, "docker.io/library/app:latest");
  CHECK(images.resolve("app").id == one.id);
  // A name is one image's: tagging another takes it away.
  images.tag(two.id, "docker.io/library/app:latest");
  CHECK(images.resolve("app").id == two.id);
  CHECK(images.resolve("app:1").names == std::vector<std::string>{"docker.io/library/app:1"});
  CHECK_THROWS_WITH(images.tag("sha256:" + std::string(64, '0'), "docker.io/library/x:1"),
                    "no such image: sha256:" + std::string(64, '0'));

  CHECK_FALSE(images.untag("docker.io/library/app:latest"));  // two keeps app:2
  CHECK_FALSE(images.find("app"));
  auto orphan = images.untag("docker.io/library/app:2");
  REQUIRE(orphan);
  CHECK(orphan->id == two.id);
  CHECK(orphan->names.empty());
  CHECK(images.resolve(two.id).id == two.id);  // still there, by ID
  CHECK_THROWS_WITH(images.untag("docker.io/library/app:2"), "no such image: docker.io/library/app:2");
}

TEST_CASE("image store: the layers in use are every stored image's, and go with the image") {
  TempStore t(false);
  ImageStore images(t.paths);
  CHECK(images.layers_in_use().empty());
  ImageRecord one = stored_image(images, {'a', 'b'}, {"docker.io/library/one:latest"});
  ImageRecord two = stored_image(images, {'a', 'c'}, {"docker.io/library/two:latest"});
  CHECK(sorted(images.layers_in_use()) ==
        std::vector<std::string>{diff_id('a'), diff_id('a'), diff_id('b'), diff_id('c')});

  ImageContent two_content = images.load(two);
  images.remove(two.id);
  CHECK(images.layers_in_use() == std::vector<std::string>{diff_id('a'), diff_id('b')});
  CHECK_THROWS_WITH(images.resolve("two"), "no such image: two");
  // Its own blobs went; the layer it shared stayed.
  auto layers = image_layers(two_content);
  CHECK(images.has_blob(layers[0].digest));
  CHECK_FALSE(images.has_blob(layers[1].digest));
  CHECK_FALSE(images.has_blob(two.id));
  CHECK_FALSE(images.has_blob(two.manifest));
  CHECK(images.has_blob(one.id));
}

TEST_CASE("image store: a damaged images.json is an error that names the file") {
  TempStore t(false);
  ImageStore images(t.paths);
  fs::create_directories(t.paths.root);
  std::string file = t.paths.images_file().string();

  std::ofstream(file, std::ios::trunc) << "{\"images\": [";
  CHECK_THROWS_AS(images.list(), skiff::Error);
  CHECK_THROWS_WITH(images.list(), Catch::StartsWith(file + " is damaged: "));
  CHECK_THROWS_WITH(images.find("alpine"), Catch::StartsWith(file + " is damaged: "));
  CHECK_THROWS_WITH(images.layers_in_use(), Catch::StartsWith(file + " is damaged: "));

  // JSON, but not the shape skiff writes.
  std::ofstream(file, std::ios::trunc) << "{\"images\": [{\"id\": 7}]}";
  CHECK_THROWS_WITH(images.list(), Catch::StartsWith(file + " is damaged: "));
  std::ofstream(file, std::ios::trunc) << "[]";
  CHECK_THROWS_WITH(images.list(), Catch::StartsWith(file + " is damaged: "));
}
