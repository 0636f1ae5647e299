// Applying layers onto one tree (the copy driver): whiteouts and opaque
// directories delete what earlier layers put there.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>
#include <vector>

#include "skiff/image/layer_unpack.hpp"
#include "skiff/util/file_io.hpp"

namespace fs = std::filesystem;

namespace {

// A ustar archive of (name, content) regular files; a name ending in '/' is
// a directory. Written by hand: the test needs nothing of libarchive's writer.
fs::path make_tar(const fs::path& path, const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string out;
  for (const auto& [name, content] : entries) {
    bool dir = name.back() == '/';
    char h[512] = {};
    snprintf(h, 100, "%s", name.c_str());
    snprintf(h + 100, 8, "%07o", dir ? 0755 : 0644);
    snprintf(h + 108, 8, "%07o", 0);
    snprintf(h + 116, 8, "%07o", 0);
    snprintf(h + 124, 12, "%011o", dir ? 0u : static_cast<unsigned>(content.size()));
    snprintf(h + 136, 12, "%011o", 0);
    h[156] = dir ? '5' : '0';
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (unsigned char c : h) sum += c;
    snprintf(h + 148, 8, "%06o", sum);
    out.append(h, 512);
    if (!dir) {
      out += content;
      out.append((512 - content.size() % 512) % 512, '\0');
    }
  }
  out.append(1024, '\0');
  std::ofstream(path, std::ios::binary) << out;
  return path;
}

void apply(const fs::path& tar, const fs::path& root) {
  skiff::UniqueFd fd = skiff::open_or_throw(tar, O_RDONLY);
  skiff::image::unpack_layer(fd.get(), root, {.keep_owners = false, .overlay_whiteouts = false});
}

}  // namespace

TEST_CASE("layers applied in order: whiteouts and opaque directories delete") {
  fs::path dir = fs::temp_directory_path() / ("skiff-unit-" + skiff::random_hex(8));
  fs::create_directories(dir / "root");
  apply(make_tar(dir / "1.tar", {{"a/", ""}, {"a/old", "1"}, {"a/sub/", ""}, {"gone", "1"}, {"stay", "1"}}),
        dir / "root");
  // The marker comes after a new entry on purpose: order must not matter.
  apply(make_tar(dir / "2.tar", {{"a/", ""}, {"a/new", "2"}, {"a/.wh..wh..opq", ""}, {".wh.gone", ""}}), dir / "root");
  CHECK(fs::exists(dir / "root/a/new"));
  CHECK_FALSE(fs::exists(dir / "root/a/old"));
  CHECK_FALSE(fs::exists(dir / "root/a/sub"));
  CHECK_FALSE(fs::exists(dir / "root/a/.wh..wh..opq"));
  CHECK_FALSE(fs::exists(dir / "root/gone"));
  CHECK_FALSE(fs::exists(dir / "root/.wh.gone"));
  CHECK(fs::exists(dir / "root/stay"));
  // A directory replaced by a file, and a file by a directory, in one layer.
  apply(make_tar(dir / "3.tar", {{"a/new/", ""}, {"a/new/x", "3"}, {"a/z", "3"}, {"stay", "3"}}), dir / "root");
  apply(make_tar(dir / "4.tar", {{"a/", ""}, {"a/new", "4"}, {"a/y", "4"}}), dir / "root");
  CHECK(fs::is_regular_file(dir / "root/a/new"));
  CHECK(fs::exists(dir / "root/a/y"));
  CHECK(fs::exists(dir / "root/a/z"));
  fs::remove_all(dir);
}

TEST_CASE("a whiteout of '.' or '..' is refused, and removes nothing") {
  fs::path dir = fs::temp_directory_path() / ("skiff-unit-" + skiff::random_hex(8));
  fs::create_directories(dir / "root");
  apply(make_tar(dir / "1.tar", {{"o/", ""}, {"o/keep", "1"}}), dir / "root");
  for (const char* name : {"o/.wh...", "o/.wh..", ".wh.."}) {
    CHECK_THROWS_WITH(apply(make_tar(dir / "2.tar", {{"o/", ""}, {name, ""}}), dir / "root"),
                      Catch::Contains("invalid whiteout name"));
    CHECK(fs::exists(dir / "root/o/keep"));
    CHECK(fs::exists(dir / "1.tar"));
  }
  fs::remove_all(dir);
}

TEST_CASE("a damaged header after the first is an error, not an entry without a name") {
  fs::path dir = fs::temp_directory_path() / ("skiff-unit-" + skiff::random_hex(8));
  fs::create_directories(dir / "root");
  fs::path tar = make_tar(dir / "damaged.tar", {{"ok", "fine\n"}, {"next", "data\n"}});
  {
    // The second header's checksum, off by one.
    skiff::UniqueFd fd = skiff::open_or_throw(tar, O_RDWR);
    char sum[8];
    REQUIRE(pread(fd.get(), sum, 6, 1024 + 148) == 6);
    sum[5] = sum[5] == '7' ? '6' : static_cast<char>(sum[5] + 1);
    REQUIRE(pwrite(fd.get(), sum, 6, 1024 + 148) == 6);
  }
  CHECK_THROWS_WITH(apply(tar, dir / "root"), "invalid tar header after entry \"ok\": Damaged tar archive");
  fs::remove_all(dir);
}
