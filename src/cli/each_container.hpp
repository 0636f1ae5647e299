// The loop of the commands that take CONTAINER... (rm, stop, kill, wait).
#pragma once

#include <fmt/format.h>

#include <cstdio>
#include <string>
#include <vector>

#include "cli/cli_context.hpp"
#include "skiff/util/error.hpp"

namespace skiff::cli {

// Runs fn for each container named, as docker does: an error is said for
// that container, after what was printed already, and the others still go;
// any error makes the exit 125.
template <typename Fn>
void for_each_container(CliContext& ctx, const std::vector<std::string>& names, Fn fn) {
  for (const auto& n : names) {
    try {
      fn(n);
    } catch (const Error& e) {
      std::fflush(stdout);
      fmt::print(stderr, "skiff: {}\n", e.what());
      ctx.exit_code = kExitSkiffError;
    }
  }
}

}  // namespace skiff::cli
