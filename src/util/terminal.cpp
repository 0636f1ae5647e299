#include "skiff/util/terminal.hpp"

#include <fmt/format.h>
#include <termios.h>
#include <unistd.h>

namespace skiff {

std::string prompt_line(const char* label, bool echo) {
  if (!isatty(STDIN_FILENO)) return {};
  fmt::print(stderr, "{}", label);
  termios old{};
  tcgetattr(STDIN_FILENO, &old);
  if (!echo) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  char c;
  while (read(STDIN_FILENO, &c, 1) == 1 && c != '\n') line += c;
  if (!echo) {
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    fmt::print(stderr, "\n");
  }
  return line;
}

}  // namespace skiff
