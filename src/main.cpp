// argv -> command. Errors are caught here, once: "skiff: <what>: <why>", the
// hint, and docker's exit code.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <ios>

#include "cli/commands.hpp"
#include "cli/run_flags.hpp"
#include "skiff/util/error.hpp"
#include "skiff_version.h"

// The standard streams (std::cout, std::cin...) are made at their first
// need instead of at every start. Every translation unit that includes
// <iostream> (CLI11's, yaml-cpp's) holds a std::ios_base::Init object whose
// constructor, the first time, builds the eight standard streams and the
// classic locale's facets: 60 us and 0.8 MB at every skiff start, for
// commands that mostly never use them. The link wraps that constructor and
// destructor (-Wl,--wrap, see src/meson.build): they do nothing until
// make_iostreams() has made the streams, which the commands built with CLI11
// do first. The streams are synchronised with stdio, so exit() flushes what
// they wrote.
namespace {
bool g_iostreams = false;
alignas(std::ios_base::Init) unsigned char g_iostreams_init[sizeof(std::ios_base::Init)];
}  // namespace

extern "C" void __real__ZNSt8ios_base4InitC1Ev(void* self);
extern "C" void __wrap__ZNSt8ios_base4InitC1Ev(void* self) {
  if (g_iostreams) __real__ZNSt8ios_base4InitC1Ev(self);
}
extern "C" void __wrap__ZNSt8ios_base4InitD1Ev(void*) {}  // the streams stay until exit

namespace {

void make_iostreams() {
  if (g_iostreams) return;
  g_iostreams = true;
  __real__ZNSt8ios_base4InitC1Ev(g_iostreams_init);
}

// "skiff image ls" for the deepest subcommand the parser reached.
std::string command_path(const CLI::App& app) {
  std::string path = app.get_name();
  const CLI::App* cur = &app;
  for (;;) {
    auto subs = cur->get_subcommands();
    if (subs.empty()) break;
    cur = subs.back();
    path += " " + cur->get_name();
  }
  return path;
}

// An error message on stderr. A stderr that cannot be written (closed, a
// full disk) loses the message, not the exit code: fmt's exception would
// otherwise leave the handler and abort skiff.
template <typename... Args>
void print_error(fmt::format_string<Args...> format, Args&&... args) {
  try {
    fmt::print(stderr, format, std::forward<Args>(args)...);
  } catch (const std::exception&) {
  }
}

int report_parse_error(const CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
  std::string what = e.what();
  if (app.get_subcommands().empty()) {
    std::string word = skiff::cli::first_command_word(argc, argv);
    if (!word.empty()) {
      print_error("skiff: '{}' is not a skiff command.\nSee 'skiff --help'.\n", word);
      return skiff::kExitSkiffError;
    }
  }
  if (dynamic_cast<const CLI::ExtrasError*>(&e)) {
    // CLI11: "The following arguments were not expected: --foo"
    auto colon = what.find(": ");
    std::string extra = colon == std::string::npos ? what : what.substr(colon + 2);
    what = extra.rfind('-', 0) == 0 ? "unknown flag: " + extra.substr(0, extra.find(' '))
                                    : "unexpected argument: " + extra;
  }
  print_error("skiff: {}\nSee '{} --help'.\n", what, command_path(app));
  return skiff::kExitSkiffError;
}

// Runs fn, turning skiff's errors into a message and docker's exit code.
template <typename Fn>
int reporting_errors(Fn&& fn) {
  try {
    return fn();
  } catch (const skiff::Error& e) {
    fflush(stdout);
    print_error("skiff: {}\n", e.what());
    if (!e.hint().empty()) print_error("hint: {}\n", e.hint());
    return e.exit_code();
  } catch (const std::exception& e) {
    fflush(stdout);
    print_error("skiff: {}\n", e.what());
    return skiff::kExitSkiffError;
  }
}

}  // namespace

int main(int argc, char** argv) {
  skiff::cli::CliContext ctx;
  // The usual `skiff run` goes straight to work (see cli/run_flags.hpp).
  if (auto flags = skiff::cli::parse_run_fast(argc, argv, ctx))
    return reporting_errors([&] { return skiff::cli::run_from_flags(*flags, ctx); });

  make_iostreams();  // CLI11 prints help with them, and commands may read std::cin
  CLI::App app{"skiff: build, ship and run containers as an ordinary user, with no daemon", "skiff"};
  app.require_subcommand(1);
  app.fallthrough();
  app.set_version_flag("-v,--version", std::string("skiff version ") + SKIFF_VERSION);
  skiff::cli::add_global_options(app, ctx);
  skiff::cli::add_commands(app, ctx, skiff::cli::first_command_word(argc, argv));

  return reporting_errors([&] {
    try {
      app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
      return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
      return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
      return app.exit(e);
    } catch (const CLI::ParseError& e) {
      return report_parse_error(app, e, argc, argv);
    }
    return ctx.exit_code;
  });
}
