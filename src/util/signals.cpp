#include "skiff/util/signals.hpp"

#include <signal.h>

#include <cctype>
#include <charconv>
#include <string>
#include <tuple>

namespace skiff {

namespace {

struct Named {
  std::string_view name;  // without SIG
  int number;
};

constexpr Named kSignals[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},       {"QUIT", SIGQUIT},     {"ILL", SIGILL},   {"TRAP", SIGTRAP},
    {"ABRT", SIGABRT}, {"IOT", SIGIOT},       {"BUS", SIGBUS},       {"FPE", SIGFPE},   {"KILL", SIGKILL},
    {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},     {"USR2", SIGUSR2},     {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},
    {"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},     {"CLD", SIGCHLD},  {"CONT", SIGCONT},
    {"STOP", SIGSTOP}, {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN},     {"TTOU", SIGTTOU}, {"URG", SIGURG},
    {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},     {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH},
    {"IO", SIGIO},     {"POLL", SIGPOLL},     {"PWR", SIGPWR},       {"SYS", SIGSYS},
};

std::optional<int> number(std::string_view s) {
  int n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return n;
}

}  // namespace

std::optional<int> parse_signal(std::string_view text) {
  if (auto n = number(text)) {
    if (*n >= 1 && *n <= SIGRTMAX) return n;
    return std::nullopt;
  }
  std::string upper;
  for (char c : text) upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  std::string_view name = upper;
  if (name.substr(0, 3) == "SIG") name.remove_prefix(3);
  for (const Named& s : kSignals)
    if (s.name == name) return s.number;
  for (auto [prefix, base, sign] :
       {std::tuple{std::string_view("RTMIN"), SIGRTMIN, 1}, std::tuple{std::string_view("RTMAX"), SIGRTMAX, -1}}) {
    if (name.substr(0, prefix.size()) != prefix) continue;
    std::string_view rest = name.substr(prefix.size());
    if (rest.empty()) return base;
    if ((rest[0] != '+' && rest[0] != '-') || (rest[0] == '+') != (sign > 0)) return std::nullopt;
    auto n = number(rest.substr(1));
    if (!n || *n < 0) return std::nullopt;
    int sig = base + sign * *n;
    if (sig >= SIGRTMIN && sig <= SIGRTMAX) return sig;
    return std::nullopt;
  }
  return std::nullopt;
}

std::string signal_name(int sig) {
  for (const Named& s : kSignals)
    if (s.number == sig) return "SIG" + std::string(s.name);
  if (sig >= SIGRTMIN && sig <= SIGRTMAX) return "SIGRTMIN+" + std::to_string(sig - SIGRTMIN);
  return std::to_string(sig);
}

}  // namespace skiff
