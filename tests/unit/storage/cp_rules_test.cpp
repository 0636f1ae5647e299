// docker cp's path rules: trailing "/" and "/.", and where a source lands.
#include "skiff/storage/cp_rules.hpp"

#include <catch2/catch.hpp>

using namespace skiff::storage;

TEST_CASE("cp_rules: a path's trailing slash and dot") {
  CpPath p = parse_cp_path("/etc/");
  CHECK(p.path == "/etc");
  CHECK(p.name == "etc");
  CHECK(p.trailing_slash);
  CHECK_FALSE(p.contents_only);

  p = parse_cp_path("/etc/.");
  CHECK(p.path == "/etc");
  CHECK(p.trailing_slash);
  CHECK(p.contents_only);

  p = parse_cp_path("dir/file");
  CHECK(p.path == "dir/file");
  CHECK(p.name == "file");
  CHECK_FALSE(p.trailing_slash);

  p = parse_cp_path(".");
  CHECK(p.contents_only);
  CHECK(p.name.empty());

  p = parse_cp_path("/");
  CHECK(p.path == "/");
  CHECK(p.name.empty());
  CHECK_FALSE(p.trailing_slash);

  CHECK(parse_cp_path("a/..").name.empty());
  CHECK(parse_cp_path("/a//b/../c").path == "/a/c");
}

TEST_CASE("cp_rules: a file goes into a directory, onto a file, or to a new name") {
  CpSourceInfo file{.is_dir = false};
  CpTarget t = cp_target(parse_cp_path("/etc/hosts"), file, parse_cp_path("/tmp"), {.exists = true, .is_dir = true});
  CHECK(t.refusal == CpRefusal::kNone);
  CHECK(t.in_dest);
  CHECK(t.name == "hosts");

  t = cp_target(parse_cp_path("/etc/hosts"), file, parse_cp_path("/tmp/x"), {.exists = true, .is_dir = false});
  CHECK(t.refusal == CpRefusal::kNone);
  CHECK_FALSE(t.in_dest);
  CHECK(t.name == "x");

  t = cp_target(parse_cp_path("/etc/hosts"), file, parse_cp_path("/tmp/new"), {});
  CHECK(t.refusal == CpRefusal::kNone);
  CHECK_FALSE(t.in_dest);
  CHECK(t.name == "new");
}

TEST_CASE("cp_rules: what docker refuses") {
  CpSourceInfo file{.is_dir = false}, dir{.is_dir = true};
  CHECK(cp_target(parse_cp_path("/etc/hosts"), file, parse_cp_path("/tmp/new/"), {}).refusal ==
        CpRefusal::kNoSuchDirectory);
  CHECK(
      cp_target(parse_cp_path("/etc/hosts/"), file, parse_cp_path("/tmp"), {.exists = true, .is_dir = true}).refusal ==
      CpRefusal::kSourceNotDir);
  CHECK(cp_target(parse_cp_path("/etc"), dir, parse_cp_path("/tmp/file"), {.exists = true, .is_dir = false}).refusal ==
        CpRefusal::kDirOntoFile);
  CHECK(cp_target(parse_cp_path("/etc/hosts"), file, parse_cp_path("/tmp/file/"), {.exists = true, .is_dir = false})
            .refusal == CpRefusal::kDestNotDir);
}

TEST_CASE("cp_rules: a directory is made, copied under its name, or its contents with /.") {
  CpSourceInfo dir{.is_dir = true};
  CpDestInfo existing{.exists = true, .is_dir = true};
  CpTarget t = cp_target(parse_cp_path("/etc"), dir, parse_cp_path("/tmp/new"), {});
  CHECK_FALSE(t.in_dest);
  CHECK(t.name == "new");
  // A trailing slash on a missing destination makes it, for a directory.
  t = cp_target(parse_cp_path("/etc"), dir, parse_cp_path("/tmp/new/"), {});
  CHECK(t.refusal == CpRefusal::kNone);
  CHECK(t.name == "new");
  t = cp_target(parse_cp_path("/etc"), dir, parse_cp_path("/tmp"), existing);
  CHECK(t.in_dest);
  CHECK(t.name == "etc");
  t = cp_target(parse_cp_path("/etc/."), dir, parse_cp_path("/tmp"), existing);
  CHECK(t.in_dest);
  CHECK(t.name.empty());
  t = cp_target(parse_cp_path("/etc/."), dir, parse_cp_path("/tmp/new"), {});
  CHECK_FALSE(t.in_dest);
  CHECK(t.name == "new");
  // The root of a container into a directory: its contents.
  t = cp_target(parse_cp_path("/"), dir, parse_cp_path("/tmp"), existing);
  CHECK(t.in_dest);
  CHECK(t.name.empty());
}

TEST_CASE("cp_rules: CONTAINER:PATH or a host path") {
  CpArg a = split_cp_arg("web:/etc/hosts");
  CHECK(a.container == "web");
  CHECK(a.path == "/etc/hosts");
  a = split_cp_arg("/tmp/a:b");
  CHECK(a.container.empty());
  CHECK(a.path == "/tmp/a:b");
  a = split_cp_arg("./a:b");
  CHECK(a.container.empty());
  CHECK(a.path == "./a:b");
  a = split_cp_arg("file");
  CHECK(a.container.empty());
  CHECK(a.path == "file");
  a = split_cp_arg("web:");
  CHECK(a.container == "web");
  CHECK(a.path.empty());
}
