// Packing a layer directory into a tar and unpacking it again gives the
// same tree; whiteouts and opaque marks become their OCI names and back.
#include "skiff/image/layer_pack.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "skiff/image/layer_unpack.hpp"
#include "skiff/image/tar_writer.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

namespace fs = std::filesystem;
using namespace skiff;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/skiff-pack-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { remove_tree(path); }
};

void write(const fs::path& p, const std::string& content, mode_t mode = 0644) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
  chmod(p.c_str(), mode);
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void unpack(const fs::path& blob, const fs::path& target, bool overlay) {
  fs::create_directories(target);
  UniqueFd fd = open_or_throw(blob, O_RDONLY);
  image::unpack_layer(fd.get(), target, {.keep_owners = false, .overlay_whiteouts = overlay});
}

}  // namespace

TEST_CASE("a packed directory unpacks to the same files, links and modes") {
  TempDir t;
  fs::path src = t.path / "src";
  std::string long_name(120, 'n');
  std::string deep = "a/" + std::string(150, 'b') + "/" + std::string(90, 'c') + "/" + std::string(60, 'd');
  write(src / "etc/hello", "hello\n");
  write(src / "bin/tool", std::string(3 << 20, 'x'), 0755);
  write(src / long_name, "long");
  write(src / deep, "deep");
  fs::create_symlink("../etc/hello", src / "bin/link");
  fs::create_hard_link(src / "etc/hello", src / "etc/hello2");
  fs::create_directories(src / "empty");
  chmod((src / "empty").c_str(), 0700);

  image::PackedLayer p = image::pack_layer_dir(src, t.path / "blob", {});
  REQUIRE_FALSE(p.empty);
  CHECK(p.diff_id.starts_with("sha256:"));
  CHECK(p.content_size == 6 + (3 << 20) + 4 + 4 + 0);  // the hard link's content is not repeated

  fs::path out = t.path / "out";
  unpack(t.path / "blob", out, true);
  CHECK(read(out / "etc/hello") == "hello\n");
  // (Not decomposed: Catch would print both 3 MB strings into the TAP log.)
  CHECK((read(out / "bin/tool") == std::string(3 << 20, 'x')));
  CHECK(read(out / long_name) == "long");
  CHECK(read(out / deep) == "deep");
  CHECK(fs::read_symlink(out / "bin/link") == "../etc/hello");
  struct stat a {
  }, b{};
  REQUIRE(stat((out / "etc/hello").c_str(), &a) == 0);
  REQUIRE(stat((out / "etc/hello2").c_str(), &b) == 0);
  CHECK(a.st_ino == b.st_ino);
  REQUIRE(stat((out / "bin/tool").c_str(), &a) == 0);
  CHECK((a.st_mode & 07777) == 0755);
  REQUIRE(stat((out / "empty").c_str(), &a) == 0);
  CHECK((a.st_mode & 07777) == 0700);
}

TEST_CASE("the same tree packs to the same digest, and an empty one to nothing") {
  TempDir t;
  write(t.path / "src/x/y", "y");
  write(t.path / "src/a", "a");
  image::PackedLayer one = image::pack_layer_dir(t.path / "src", t.path / "b1", {});
  image::PackedLayer two = image::pack_layer_dir(t.path / "src", t.path / "b2", {});
  CHECK(one.diff_id == two.diff_id);
  CHECK(one.digest == two.digest);
  CHECK(read(t.path / "b1") == read(t.path / "b2"));

  fs::create_directories(t.path / "none");
  image::PackedLayer empty = image::pack_layer_dir(t.path / "none", t.path / "b3", {});
  CHECK(empty.empty);
  CHECK_FALSE(fs::exists(t.path / "b3"));
}

TEST_CASE("without compression the blob is the tar itself") {
  TempDir t;
  write(t.path / "src/f", "data");
  image::PackedLayer p = image::pack_layer_dir(t.path / "src", t.path / "blob", {.compress = false});
  CHECK(p.digest == p.diff_id);
  CHECK(p.media_type == "application/vnd.oci.image.layer.v1.tar");
}

TEST_CASE("overlay whiteouts and opaque directories become OCI whiteouts") {
  TempDir t;
  fs::path src = t.path / "src";
  fs::create_directories(src / "dir");
  write(src / "dir/new", "new");
  // Catch2 v2 has no SKIP: without CAP_MKNOD or user xattrs there is nothing to check.
  if (mknod((src / "gone").c_str(), S_IFCHR | 0, makedev(0, 0)) != 0) return;
  if (setxattr((src / "dir").c_str(), "user.overlay.opaque", "y", 1, 0) != 0) return;
  setxattr((src / "dir").c_str(), "user.overlay.origin", "x", 1, 0);

  image::PackedLayer p = image::pack_layer_dir(src, t.path / "blob", {});
  // Overlay's bookkeeping is dropped from the directory, its opaque mark stays.
  CHECK(getxattr((src / "dir").c_str(), "user.overlay.origin", nullptr, 0) < 0);
  CHECK(getxattr((src / "dir").c_str(), "user.overlay.opaque", nullptr, 0) == 1);

  // Applied onto a tree that had the deleted file and old directory content.
  fs::path root = t.path / "root";
  write(root / "gone", "old");
  write(root / "dir/old", "old");
  unpack(t.path / "blob", root, false);
  CHECK_FALSE(fs::exists(root / "gone"));
  CHECK_FALSE(fs::exists(root / "dir/old"));
  CHECK(read(root / "dir/new") == "new");
}

TEST_CASE("the tar writer refuses content that does not match its header") {
  std::string out;
  image::TarWriter w([&](std::string_view d) { out += d; });
  image::TarEntry e;
  e.name = "f";
  e.size = 3;
  w.add(e);
  CHECK_THROWS(w.data("four"));
  w.data("abc");
  w.finish();
  CHECK(out.size() % 512 == 0);
  CHECK(out.size() == 512 + 512 + 1024);
}

TEST_CASE("a directory swapped for a symlink while the layer is packed cannot bring host files in") {
  // skiff commit of a running container: the container may turn a directory
  // of its upper layer into a symlink to a host path between the walk and
  // the read of a file below it.
  TempDir t;
  fs::path src = t.path / "upper";
  write(src / "x/d/key.txt", "from the layer\n");
  write(src / "z", "last\n");
  write(t.path / "host/key.txt", "host secret\n");
  image::PackOptions po;
  po.skip = [&](const std::string& rel) {
    if (rel == "z") {  // the walk is past x/d: swap it now
      fs::rename(src / "x/d", src / "x/d.old");
      fs::create_directory_symlink(t.path / "host", src / "x/d");
    }
    return false;
  };
  po.compress = false;
  bool refused = false;
  try {
    image::pack_layer_dir(src, t.path / "blob", po);
  } catch (const Error& e) {
    refused = true;
    CHECK_THAT(e.what(), Catch::Contains("x/d"));
  }
  if (!refused) CHECK(read(t.path / "blob").find("host secret") == std::string::npos);
  CHECK(refused);
}

TEST_CASE("a fifo put in a file's place does not hang the packer") {
  TempDir t;
  fs::path src = t.path / "upper";
  write(src / "a/file", "content\n");
  write(src / "b", "last\n");
  image::PackOptions po;
  po.skip = [&](const std::string& rel) {
    if (rel == "b") {
      fs::remove(src / "a/file");
      REQUIRE(mkfifo((src / "a/file").c_str(), 0644) == 0);
    }
    return false;
  };
  CHECK_THROWS_WITH(image::pack_layer_dir(src, t.path / "blob", po), Catch::Contains("a/file changed"));
}
