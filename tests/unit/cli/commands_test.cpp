#include "cli/commands.hpp"

#include <CLI/CLI.hpp>
#include <catch2/catch.hpp>

using skiff::cli::add_commands;
using skiff::cli::CliContext;

namespace {

// Every flag and subcommand below app, as one sorted description.
std::string shape(const CLI::App* app) {
  std::vector<std::string> parts;
  for (const CLI::Option* o : app->get_options()) parts.push_back(o->get_name());
  for (const CLI::App* s : app->get_subcommands([](const CLI::App*) { return true; }))
    parts.push_back(s->get_name() + "{" + shape(s) + "}");
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (const auto& p : parts) out += p + ";";
  return out;
}

}  // namespace

TEST_CASE("commands: the family a word names defines that word exactly as the whole tree does") {
  CliContext ctx;
  CLI::App all;
  add_commands(all, ctx, "");
  auto top = all.get_subcommands([](const CLI::App*) { return true; });
  REQUIRE(top.size() > 20);
  for (const CLI::App* cmd : top) {
    INFO(cmd->get_name());
    CLI::App lazy;
    add_commands(lazy, ctx, cmd->get_name());
    auto found = lazy.get_subcommands([&](const CLI::App* s) { return s->get_name() == cmd->get_name(); });
    REQUIRE(found.size() == 1);
    CHECK(shape(found.front()) == shape(cmd));
  }
}

TEST_CASE("commands: an unknown or missing word gets every command") {
  CliContext ctx;
  CLI::App all, unknown;
  add_commands(all, ctx, "");
  add_commands(unknown, ctx, "no-such-command");
  CHECK(shape(&unknown) == shape(&all));
}

TEST_CASE("commands: the first word skips skiff's own options and their values") {
  const char* argv[] = {"skiff", "--root", "/r", "--runroot=/x", "run", "--rm", "img"};
  CHECK(skiff::cli::first_command_word(7, const_cast<char**>(argv)) == "run");
  const char* none[] = {"skiff", "--help"};
  CHECK(skiff::cli::first_command_word(2, const_cast<char**>(none)).empty());
}
