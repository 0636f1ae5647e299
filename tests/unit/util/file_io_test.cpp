#include "skiff/util/file_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>

namespace fs = std::filesystem;
using skiff::clean_path;
using skiff::make_dirs;
using skiff::remove_tree;

namespace {

fs::path temp_dir() {
  std::string tmpl = (fs::temp_directory_path() / "skiff-file-io-XXXXXX").string();
  REQUIRE(mkdtemp(tmpl.data()) != nullptr);
  return tmpl;
}

void touch(const fs::path& p) {
  ::close(::open(p.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
}

}  // namespace

TEST_CASE("remove_tree removes what overlay and containers leave: unreadable, read-only and nested dirs") {
  fs::path top = temp_dir();
  fs::path c = top / "container";
  make_dirs(c / "upper" / "etc" / "deep", 0755);
  touch(c / "upper" / "etc" / "deep" / "file");
  make_dirs(c / "work" / "work", 0755);
  make_dirs(c / "work" / "incompat" / "volatile", 0755);
  touch(c / "work" / "incompat" / "volatile" / "dirty");
  ::chmod((c / "work" / "incompat" / "volatile").c_str(), 0);  // overlay makes these 0000
  ::chmod((c / "work" / "incompat").c_str(), 0);
  ::chmod((c / "work" / "work").c_str(), 0);
  make_dirs(c / "upper" / "ro", 0755);
  touch(c / "upper" / "ro" / "kept");
  ::chmod((c / "upper" / "ro").c_str(), 0555);  // a read-only directory made in the container
  touch(c / "container.json");
  CHECK(remove_tree(c));
  CHECK_FALSE(fs::exists(c));
  CHECK(fs::exists(top));
  fs::remove(top);
}

TEST_CASE("remove_tree removes a symlink, never what it points to") {
  fs::path top = temp_dir();
  make_dirs(top / "outside", 0755);
  touch(top / "outside" / "precious");
  make_dirs(top / "tree", 0755);
  fs::create_directory_symlink(top / "outside", top / "tree" / "link");
  CHECK(remove_tree(top / "tree"));
  CHECK(fs::exists(top / "outside" / "precious"));
  CHECK(remove_tree(top));
  CHECK_FALSE(fs::exists(top));
}

TEST_CASE("remove_tree: a missing path is fine, a file goes, an empty directory goes") {
  fs::path top = temp_dir();
  CHECK(remove_tree(top / "missing"));
  touch(top / "f");
  CHECK(remove_tree(top / "f"));
  CHECK_FALSE(fs::exists(top / "f"));
  make_dirs(top / "empty", 0700);
  CHECK(remove_tree(top / "empty"));
  CHECK(remove_tree(top));
}

TEST_CASE("make_dirs gives the exact mode, whatever the umask") {
  fs::path top = temp_dir();
  mode_t old = ::umask(077);
  make_dirs(top / "a" / "b", 0755);
  ::umask(old);
  struct stat st {};
  REQUIRE(::stat((top / "a" / "b").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0755);
  CHECK(remove_tree(top));
}

TEST_CASE("clean_path is Go's path.Clean") {
  CHECK(clean_path("") == ".");
  CHECK(clean_path("a//b/./c/..") == "a/b");
  CHECK(clean_path("/../x") == "/x");
  CHECK(clean_path("../../x/") == "../../x");
  CHECK(clean_path("a/../..") == "..");
  CHECK(clean_path("/") == "/");
  CHECK(clean_path("./") == ".");
}
