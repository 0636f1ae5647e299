// A store (root and runroot) in a fresh temporary directory, removed at the
// end of the test: the unit tests of the stores share it.
#pragma once

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <system_error>

#include "skiff/store/paths.hpp"

struct TempStore {
  std::filesystem::path dir;
  skiff::store::Paths paths;
  // with_dirs: root and runroot are made (store::ensure_dirs), else only named.
  explicit TempStore(bool with_dirs = true) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "skiff-unit-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    dir = tmpl;
    paths = {.root = dir / "root", .runroot = dir / "run"};
    if (with_dirs) skiff::store::ensure_dirs(paths);
  }
  ~TempStore() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};
