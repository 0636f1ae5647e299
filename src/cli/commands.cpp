#include "cli/commands.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>

namespace skiff::cli {

namespace {

using AddFamily = void (*)(CLI::App&, CliContext&);

// The top-level words each family of commands defines. Families are added
// in this order; build adds its image and container subcommands to those
// groups when they are there.
struct Family {
  AddFamily add;
  std::initializer_list<std::string_view> words;
};

const std::array<Family, 13> kFamilies{{
    {add_run_command, {"run", "create"}},
    {add_exec_command, {"exec"}},
    {add_image_commands, {"images", "tag", "rmi", "import", "image"}},
    {add_container_commands, {"ps", "rm", "rename", "container"}},
    {add_lifecycle_commands, {"start", "restart", "attach", "stop", "kill", "wait", "logs"}},
    {add_system_commands, {"info", "version", "unshare", "system"}},
    {add_registry_commands, {"pull", "push", "login", "logout"}},
    {add_build_commands, {"build", "commit", "history", "diff", "image", "container"}},
    {add_inspect_commands, {"inspect", "image", "container"}},
    {add_top_commands, {"top", "pause", "unpause", "container"}},
    {add_port_commands, {"port", "container"}},
    {add_cp_commands, {"cp", "container"}},
    {add_archive_commands, {"save", "load", "export", "image", "container"}},
}};

}  // namespace

std::string first_command_word(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--root" || a == "--runroot") {
      ++i;
      continue;
    }
    if (!a.empty() && a[0] != '-') return std::string(a);
  }
  return {};
}

void add_commands(CLI::App& app, CliContext& ctx, std::string_view word) {
  bool known = std::any_of(kFamilies.begin(), kFamilies.end(), [&](const Family& f) {
    return std::find(f.words.begin(), f.words.end(), word) != f.words.end();
  });
  for (const auto& f : kFamilies)
    if (!known || std::find(f.words.begin(), f.words.end(), word) != f.words.end()) f.add(app, ctx);
}

}  // namespace skiff::cli
