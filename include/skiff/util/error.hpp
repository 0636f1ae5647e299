// skiff::Error: the one exception type, caught once in main.
#pragma once

#include <fmt/format.h>

#include <cerrno>
#include <stdexcept>
#include <string>

namespace skiff {

// docker's convention: 125 when skiff itself fails.
inline constexpr int kExitSkiffError = 125;
inline constexpr int kExitCannotInvoke = 126;
inline constexpr int kExitNotFound = 127;

// What failed, why (errno if any), what to do about it, and the exit code.
class Error : public std::runtime_error {
 public:
  explicit Error(std::string message, int err = 0, std::string hint = {}, int exit_code = kExitSkiffError)
      : std::runtime_error(err ? fmt::format("{}: {}", message, errno_text(err)) : message),
        err_(err),
        hint_(std::move(hint)),
        exit_code_(exit_code) {}

  int err() const { return err_; }
  const std::string& hint() const { return hint_; }
  int exit_code() const { return exit_code_; }

  // Adds context in front: "pulling layer x: <old message>".
  Error with_context(std::string_view context) const {
    Error e(fmt::format("{}: {}", context, what()), 0, hint_, exit_code_);
    e.err_ = err_;
    return e;
  }

  static std::string errno_text(int err);

 private:
  int err_;
  std::string hint_;
  int exit_code_;
};

// Throws Error(message, errno) built from the current errno.
[[noreturn]] inline void throw_errno(std::string message) {
  throw Error(std::move(message), errno);
}

}  // namespace skiff
