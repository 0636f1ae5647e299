#include "skiff/build/dockerignore.hpp"

#include <catch2/catch.hpp>

#include "skiff/util/error.hpp"

using skiff::build::DockerIgnore;
using skiff::build::dockerignore_candidates;
using skiff::build::read_dockerignore;
using Strings = std::vector<std::string>;

namespace {

bool excluded(std::string pattern, std::string_view path) {
  return DockerIgnore(Strings{std::move(pattern)}).excluded(path);
}

}  // namespace

TEST_CASE("reading a .dockerignore: comments, blanks, cleaning") {
  std::string text =
      "\xEF\xBB\xBF# comment\n"
      "\n"
      "  node_modules/  \n"
      "/build\n"
      "./a/../b//c/\n"
      " # not a comment: it is not at the start\n"
      "!/build/keep\n"
      "! spaced \r\n"
      "/\n"
      "*.log";
  CHECK(read_dockerignore(text) == Strings{"node_modules", "build", "b/c", "# not a comment: it is not at the start",
                                           "!build/keep", "!spaced", "/", "*.log"});
  CHECK(read_dockerignore("").empty());
  CHECK(read_dockerignore("!\n") == Strings{"!"});
}

TEST_CASE("docker's pattern table") {
  struct Case {
    const char* pattern;
    const char* path;
    bool excluded;
  };
  // From moby/patternmatcher's tests.
  const Case cases[] = {
      {"*", "fileutils.go", true},
      {"*.go", "fileutils.go", true},
      {"**", "file", true},
      {"**", "file/", true},
      {"**/", "file", true},
      {"**", "dir/file", true},
      {"**/", "dir/file/", true},
      {"**/**", "dir/file", true},
      {"dir/**", "dir/file", true},
      {"dir/**", "dir/dir2/file", true},
      {"**/dir", "dir", true},
      {"**/dir", "dir/file", true},
      {"**/dir2/*", "dir/dir2/file", true},
      {"**/dir2/**", "dir/dir2/dir3/file", true},
      {"**file", "file", true},
      {"**file", "dir/file", true},
      {"**/file", "dir/file", true},
      {"**file", "dir/dir/file", true},
      {"**/file", "dir/dir/file", true},
      {"**/file*", "dir/dir/file", true},
      {"**/file*", "dir/dir/file.txt", true},
      {"**/file*txt", "dir/dir/file.txt", true},
      {"**/file*.txt", "dir/dir/file.txt", true},
      {"**/file*.txt*", "dir/dir/file.txt", true},
      {"**/**/*.txt", "dir/dir/file.txt", true},
      {"**/**/*.txt2", "dir/dir/file.txt", false},
      {"**/*.txt", "file.txt", true},
      {"**/**/*.txt", "file.txt", true},
      {"a**/*.txt", "a/file.txt", true},
      {"a**/*.txt", "a/dir/file.txt", true},
      {"a**/*.txt", "a/dir/dir/file.txt", true},
      {"a/*.txt", "a/dir/file.txt", false},
      {"a/*.txt", "a/file.txt", true},
      {"a/*.txt**", "a/file.txt", true},
      {"a[b-d]e", "ae", false},
      {"a[b-d]e", "ace", true},
      {"a[b-d]e", "aae", false},
      {"a[^b-d]e", "aze", true},
      {"a[^b-d]e", "ace", false},
      {".*", ".foo", true},
      {".*", "foo", false},
      {"abc.def", "abcdef", false},
      {"abc.def", "abc.def", true},
      {"abc.def", "abcZdef", false},
      {"abc?def", "abcZdef", true},
      {"abc?def", "abcdef", false},
      {"abc?def", "abc/def", false},
      {"a\\\\", "a\\", true},
      {"a\\*b", "a*b", true},
      {"a\\*b", "axb", false},
      {"**/foo/bar", "foo/bar", true},
      {"**/foo/bar", "dir/foo/bar", true},
      {"**/foo/bar", "dir/dir2/foo/bar", true},
      {"abc/**", "abc", false},
      {"abc/**", "abc/def", true},
      {"abc/**", "abc/def/ghi", true},
      {"**/.foo", ".foo", true},
      {"**/.foo", "bar.foo", false},
      {"a(b)c/def", "a(b)c/def", true},
      {"a(b)c/def", "a(b)c/xyz", false},
      {"a.|)$(}+{bc", "a.|)$(}+{bc", true},
      {"dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true},
      // A directory excludes what is inside it.
      {"docs", "docs/README.md", true},
      {"docs/", "docs/sub/README.md", true},
      {"*/tmp", "a/tmp/x", true},
      {"*/tmp", "a/b/tmp", false},
      {"[a-c]/x", "b/x/y", true},
      {"é?", "éa", true},
      {"?", "é", true},
      {"x", ".", false},
      {"*", "", false},
  };
  for (const auto& c : cases) {
    INFO("pattern " << c.pattern << ", path " << c.path);
    CHECK(excluded(c.pattern, c.path) == c.excluded);
  }
}

TEST_CASE("exceptions: the last matching pattern wins") {
  CHECK_FALSE(DockerIgnore(Strings{"*.go", "!fileutils.go"}).excluded("fileutils.go"));
  CHECK(DockerIgnore(Strings{"!fileutils.go", "*.go"}).excluded("fileutils.go"));
  CHECK_FALSE(DockerIgnore(Strings{"docs", "!docs/README.md"}).excluded("docs/README.md"));
  CHECK_FALSE(DockerIgnore(Strings{"docs/", "!docs/README.md"}).excluded("docs/README.md"));
  CHECK_FALSE(DockerIgnore(Strings{"docs/*", "!docs/README.md"}).excluded("docs/README.md"));
  CHECK(DockerIgnore(Strings{"docs", "!docs/README.md"}).excluded("docs/other.md"));
  CHECK(DockerIgnore(Strings{"docs", "!docs/README.md"}).excluded("docs"));
  DockerIgnore web(Strings{"**", "!util/docker/web", "util/docker/web/foo"});
  CHECK(web.excluded("util/docker/web/foo"));
  CHECK_FALSE(web.excluded("util/docker/web/bar"));
  CHECK(web.excluded("util/other"));
  CHECK_FALSE(DockerIgnore(Strings{"**", "!dist/*.whl"}).excluded("dist/a-1.0-py3-none-any.whl"));
  CHECK_FALSE(DockerIgnore{}.excluded("anything"));
}

TEST_CASE("paths are taken relative to the context root") {
  DockerIgnore ig = DockerIgnore::parse("/secret\nbuild/\n");
  CHECK(ig.excluded("secret"));
  CHECK(ig.excluded("/secret"));
  CHECK(ig.excluded("./build/out.o"));
  CHECK(ig.excluded("src/../secret"));
  CHECK_FALSE(ig.excluded("src/secret"));
  CHECK_FALSE(ig.excluded("."));
  CHECK(ig.patterns() == Strings{"secret", "build"});
}

TEST_CASE("excluded directories that must still be walked") {
  DockerIgnore ig(Strings{"node_modules", "build", "!build/keep/me.txt", "!logs/**"});
  CHECK(ig.excluded("build"));
  CHECK(ig.may_contain_exceptions("build"));
  CHECK(ig.may_contain_exceptions("build/keep"));
  CHECK_FALSE(ig.excluded("build/keep/me.txt"));
  CHECK_FALSE(ig.may_contain_exceptions("node_modules"));
  CHECK_FALSE(ig.may_contain_exceptions("build/other"));
  CHECK(ig.may_contain_exceptions("logs"));
  CHECK_FALSE(ig.may_contain_exceptions("buil"));

  // An exception with wildcards may match anywhere: walk everything.
  DockerIgnore wild(Strings{"vendor", "!**/*.go"});
  CHECK(wild.may_contain_exceptions("vendor"));
  CHECK_FALSE(wild.excluded("vendor/a/b.go"));
  CHECK(wild.excluded("vendor/a/b.c"));

  CHECK_FALSE(DockerIgnore(Strings{"a", "b"}).may_contain_exceptions("a"));
}

TEST_CASE("malformed patterns are errors with their line") {
  CHECK_THROWS_WITH(DockerIgnore::parse("ok\n# fine\n[a\n"), ".dockerignore:3: syntax error in pattern \"[a\"");
  CHECK_THROWS_WITH(DockerIgnore::parse("x\n!\n", "app/Dockerfile.dockerignore"),
                    "app/Dockerfile.dockerignore:2: illegal exclusion pattern: \"!\"");
  for (const char* bad : {"[", "[]", "a[]b", "a\\", "[a-]", "[-a]", "[z-a]", "[^]"}) {
    INFO(bad);
    CHECK_THROWS_AS(DockerIgnore(Strings{bad}), skiff::Error);
  }
  CHECK_NOTHROW(DockerIgnore(Strings{"[\\]]", "a]", "[a-c\\-]"}));
  CHECK(excluded("[\\]]", "]"));
  CHECK(excluded("x[a-c\\-]", "x-"));
}

TEST_CASE("which ignore file applies") {
  CHECK(dockerignore_candidates("app/Dockerfile.dev", "app") ==
        Strings{"app/Dockerfile.dev.dockerignore", "app/.dockerignore"});
  CHECK(dockerignore_candidates("Dockerfile", "") == Strings{"Dockerfile.dockerignore", "./.dockerignore"});
  CHECK(dockerignore_candidates("-", "/src/ctx/") == Strings{"/src/ctx/.dockerignore"});
}
