// cp's copies between a root (a plain directory here, standing for a
// container's) and the host: docker's rules on real files, and symlinks in
// the root that point at host paths resolved inside the root.
#include "skiff/storage/cp_transfer.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "skiff/image/tar_writer.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/unique_fd.hpp"

namespace fs = std::filesystem;
using namespace skiff::storage;

namespace {

struct Dirs {
  fs::path base, root, host;
  skiff::UniqueFd root_fd;
  Dirs() {
    std::string tmpl = (fs::temp_directory_path() / "skiff-cp-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    base = tmpl;
    root = base / "root";
    host = base / "host";
    fs::create_directories(root / "etc");
    fs::create_directories(host);
    root_fd.reset(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    REQUIRE(root_fd);
  }
  ~Dirs() {
    std::error_code ec;
    fs::remove_all(base, ec);
  }
  CpSide ctr() const { return {.root = root_fd.get(), .label = "web:"}; }
};

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string message_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const skiff::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("cp_transfer: files and directories in and out") {
  Dirs d;
  write(d.host / "f", "one");
  fs::create_directories(d.host / "dir/sub");
  write(d.host / "dir/sub/g", "two");

  CHECK(cp_copy({}, (d.host / "f").string(), d.ctr(), "/etc", {}) == 3);
  CHECK(read(d.root / "etc/f") == "one");
  cp_copy({}, (d.host / "f").string(), d.ctr(), "/etc/renamed", {});
  CHECK(read(d.root / "etc/renamed") == "one");
  // A directory onto a missing name becomes it; into an existing one keeps its name.
  cp_copy({}, (d.host / "dir").string(), d.ctr(), "/new", {});
  CHECK(read(d.root / "new/sub/g") == "two");
  cp_copy({}, (d.host / "dir").string(), d.ctr(), "/etc", {});
  CHECK(read(d.root / "etc/dir/sub/g") == "two");
  // "/." copies the contents.
  cp_copy({}, (d.host / "dir").string() + "/.", d.ctr(), "/etc", {});
  CHECK(read(d.root / "etc/sub/g") == "two");

  cp_copy(d.ctr(), "/etc/dir", {}, (d.host / "back").string(), {});
  CHECK(read(d.host / "back/sub/g") == "two");
}

TEST_CASE("cp_transfer: symlinks are copied as symlinks, or followed with -L") {
  Dirs d;
  write(d.root / "etc/real", "content");
  fs::create_symlink("real", d.root / "etc/link");
  cp_copy(d.ctr(), "/etc/link", {}, (d.host / "l").string(), {});
  CHECK(fs::is_symlink(d.host / "l"));
  CHECK(fs::read_symlink(d.host / "l") == "real");
  cp_copy(d.ctr(), "/etc/link", {}, d.host.string(), {.follow_link = true});
  CHECK_FALSE(fs::is_symlink(d.host / "link"));
  CHECK(read(d.host / "link") == "content");
}

TEST_CASE("cp_transfer: a symlink in the root to a host path resolves inside the root") {
  Dirs d;
  fs::path canary = d.base / "canary";
  fs::create_directories(canary);
  write(canary / "secret", "host");
  // /etc/x -> the canary's host path, absolute: inside the root it names
  // root/<that path>, which does not exist.
  fs::create_symlink(canary, d.root / "etc/x");
  write(d.host / "f", "one");
  CHECK(message_of([&] { cp_copy({}, (d.host / "f").string(), d.ctr(), "/etc/x/", {}); }) ==
        "no such directory: web:/etc/x/");
  CHECK(message_of([&] { cp_copy({}, (d.host / "f").string(), d.ctr(), "/etc/x/f", {}); }) ==
        "No such container:path: web:/etc/x");
  CHECK(message_of([&] { cp_copy(d.ctr(), "/etc/x/secret", {}, (d.host / "out").string(), {}); }) ==
        "No such container:path: web:/etc/x/secret");
  CHECK_FALSE(fs::exists(d.host / "out"));
  // Made inside the root, the same path is where the copy goes.
  fs::create_directories(d.root / canary.relative_path());
  cp_copy({}, (d.host / "f").string(), d.ctr(), "/etc/x/", {});
  CHECK(read(d.root / canary.relative_path() / "f") == "one");
  CHECK(fs::exists(canary / "secret"));
  CHECK_FALSE(fs::exists(canary / "f"));
  // ".." does not climb out either.
  cp_copy({}, (d.host / "f").string(), d.ctr(), "/../../../../../../../tmp-cp-test", {});
  CHECK(read(d.root / "tmp-cp-test") == "one");
}

TEST_CASE("cp_transfer: docker's errors") {
  Dirs d;
  write(d.host / "f", "one");
  write(d.root / "etc/file", "x");
  fs::create_directories(d.host / "dir");
  CHECK(message_of([&] { cp_copy(d.ctr(), "/nope", {}, d.host.string(), {}); }) == "No such container:path: web:/nope");
  CHECK(message_of([&] { cp_copy({}, (d.host / "f").string(), d.ctr(), "/nope/x", {}); }) ==
        "No such container:path: web:/nope");
  CHECK(message_of([&] { cp_copy({}, (d.host / "nope").string(), d.ctr(), "/", {}); }) ==
        "lstat " + (d.host / "nope").string() + ": no such file or directory");
  CHECK(message_of([&] { cp_copy({}, (d.host / "f").string(), d.ctr(), "/missing/", {}); }) ==
        "no such directory: web:/missing/");
  CHECK(message_of([&] { cp_copy({}, (d.host / "dir").string(), d.ctr(), "/etc/file", {}); }) ==
        "cannot copy a directory to the file web:/etc/file");
  CHECK(message_of([&] { cp_copy(d.ctr(), "/etc/file/", {}, d.host.string(), {}); }) ==
        "web:/etc/file/: not a directory");
  CHECK(message_of([&] { cp_copy(d.ctr(), "/etc/file", {}, (d.host / "nope/x").string(), {}); }) ==
        "lstat " + (d.host / "nope").string() + ": no such file or directory");
}

TEST_CASE("cp_transfer: entries below the destination are never followed") {
  Dirs d;
  fs::path canary = d.base / "canary";
  fs::create_directories(canary);
  write(canary / "secret", "host");
  // The root holds symlinks where the copy puts a directory and a file.
  fs::create_symlink(canary, d.root / "etc/dir");
  fs::create_symlink(canary / "secret", d.root / "etc/secret");
  fs::create_directories(d.host / "dir");
  write(d.host / "dir/f", "one");
  write(d.host / "secret", "replaced");

  CHECK(message_of([&] { cp_copy({}, (d.host / "dir").string(), d.ctr(), "/etc", {}); }) ==
        "cannot overwrite non-directory dir with directory");
  // A file replaces the symlink itself, not what it names.
  cp_copy({}, (d.host / "secret").string(), d.ctr(), "/etc", {});
  CHECK_FALSE(fs::is_symlink(d.root / "etc/secret"));
  CHECK(read(d.root / "etc/secret") == "replaced");
  CHECK(read(canary / "secret") == "host");
  CHECK_FALSE(fs::exists(canary / "f"));
}

TEST_CASE("cp_transfer: a tar in is a tar of files, not a layer; a tar out holds the source under its name") {
  Dirs d;
  write(d.root / "etc/keep", "kept");
  fs::permissions(d.root / "etc", fs::perms(0755));
  std::string tar_bytes;
  skiff::image::TarWriter tar([&](std::string_view b) { tar_bytes.append(b); });
  tar.add({.name = "./", .type = skiff::image::TarEntry::Type::kDir, .mode = 0700});
  tar.add({.name = ".wh.keep", .size = 2});
  tar.data("wh");
  tar.add({.name = ".wh..wh..opq", .size = 0});
  tar.finish();
  skiff::UniqueFd in(memfd_create("tar", MFD_CLOEXEC));
  REQUIRE(in);
  REQUIRE(::write(in.get(), tar_bytes.data(), tar_bytes.size()) == static_cast<ssize_t>(tar_bytes.size()));
  REQUIRE(lseek(in.get(), 0, SEEK_SET) == 0);
  cp_tar_in(in.get(), d.ctr(), "/etc", {});
  CHECK(read(d.root / "etc/keep") == "kept");
  CHECK(read(d.root / "etc/.wh.keep") == "wh");
  CHECK(fs::exists(d.root / "etc/.wh..wh..opq"));
  CHECK((fs::status(d.root / "etc").permissions() & fs::perms::all) == fs::perms(0755));

  skiff::UniqueFd out(memfd_create("out", MFD_CLOEXEC));
  REQUIRE(out);
  CHECK(cp_tar_out(d.ctr(), "/etc/keep", out.get(), {}) == 4);
  struct stat st {};
  REQUIRE(fstat(out.get(), &st) == 0);
  CHECK(st.st_size % 512 == 0);
  char name[100] = {};
  REQUIRE(pread(out.get(), name, sizeof name, 0) == sizeof name);
  CHECK(std::string(name) == "keep");
}
