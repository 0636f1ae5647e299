#include "skiff/engine/container_attach.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include "skiff/engine/container_config.hpp"
#include "skiff/engine/container_signal.hpp"
#include "skiff/engine/container_store.hpp"
#include "skiff/runtime/attach.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"
#include "skiff/util/split.hpp"

namespace skiff::engine {

namespace {

// The terminal in raw mode while attached to a container's terminal, as
// it was again after.
class RawMode {
 public:
  explicit RawMode(int fd) : fd_(fd) {
    if (tcgetattr(fd, &saved_) != 0) return;
    termios raw = saved_;
    cfmakeraw(&raw);
    active_ = tcsetattr(fd, TCSANOW, &raw) == 0;
  }
  ~RawMode() {
    if (active_) tcsetattr(fd_, TCSANOW, &saved_);
  }
  RawMode(const RawMode&) = delete;
  RawMode& operator=(const RawMode&) = delete;

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

void send_frame(int sock, runtime::FrameType type, std::string_view payload) {
  std::string frame = runtime::encode_frame(type, payload);
  try {
    write_all(sock, frame);
  } catch (const Error&) {
    // The monitor is gone: the read side says how it ended.
  }
}

void send_size(int sock) {
  winsize ws{};
  if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0)
    send_frame(sock, runtime::FrameType::kResize, fmt::format("{} {}", ws.ws_row, ws.ws_col));
}

void write_out(int fd, std::string_view data) {
  try {
    write_all(fd, data);
  } catch (const Error&) {
    // stdout closed: the container goes on.
  }
}

}  // namespace

std::optional<std::string> parse_detach_keys(std::string_view text) {
  std::string keys;
  for (std::string_view item : split(text, ',')) {
    if (item.size() == 1) {
      keys += item[0];
    } else if (item.size() == 6 && item.substr(0, 5) == "ctrl-") {
      char c = item[5];
      if (c >= 'a' && c <= 'z')
        keys += static_cast<char>(c - 'a' + 1);
      else if (c == '@' || c == '[' || c == '\\' || c == ']' || c == '^' || c == '_')
        keys += static_cast<char>(c - '@');
      else
        return std::nullopt;
    } else {
      return std::nullopt;
    }
  }
  if (keys.empty()) return std::nullopt;
  return keys;
}

int attach_container(const store::Paths& paths, const std::string& key, const AttachOptions& opts) {
  auto keys = parse_detach_keys(opts.detach_keys);
  if (!keys) throw Error(fmt::format("invalid detach keys ({}) provided", opts.detach_keys));
  ContainerStore containers(paths);
  ContainerView view = containers.resolve(key);
  if (!view.running) throw Error("you cannot attach to a stopped container, start it first");
  if (!view.record.detached)
    throw Error(fmt::format("container {} was not started with -d: its output goes to the skiff that runs it", key));
  UniqueFd sock = runtime::connect_attach(containers.dir(view.record.id));
  if (!sock) throw Error("you cannot attach to a stopped container, start it first");
  bool terminal = false, open_stdin = false;
  try {
    ContainerConfig c = read_container_config(containers.dir(view.record.id));
    terminal = c.process.terminal;
    open_stdin = c.open_stdin;
  } catch (const Error&) {
    // An older container: output only.
  }
  const bool with_stdin = open_stdin && !opts.no_stdin;
  const bool own_terminal = terminal && with_stdin && isatty(STDIN_FILENO);
  if (terminal && with_stdin && !isatty(STDIN_FILENO)) throw Error("the input device is not a TTY");

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGWINCH);
  if (opts.sig_proxy && !own_terminal)
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) sigaddset(&set, s);
  sigset_t old;
  sigprocmask(SIG_BLOCK, &set, &old);
  UniqueFd sfd(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sfd) throw_errno("signalfd");
  std::optional<RawMode> raw;
  if (own_terminal) {
    raw.emplace(STDIN_FILENO);
    send_size(sock.get());
  }

  runtime::FrameReader reader;
  std::string pending;  // typed bytes that may begin the detach keys
  bool reading_stdin = with_stdin;
  char buf[16384];
  std::optional<int> code;
  bool detached = false;
  while (!code && !detached) {
    pollfd fds[3] = {{sock.get(), POLLIN, 0}, {reading_stdin ? STDIN_FILENO : -1, POLLIN, 0}, {sfd.get(), POLLIN, 0}};
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      throw_errno("poll");
    }
    if (fds[2].revents & POLLIN) {
      signalfd_siginfo si{};
      while (read(sfd.get(), &si, sizeof si) == sizeof si) {
        int sig = static_cast<int>(si.ssi_signo);
        if (sig == SIGWINCH) {
          if (own_terminal) send_size(sock.get());
        } else {
          send_frame(sock.get(), runtime::FrameType::kSignal, std::to_string(sig));
        }
      }
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
      if (n <= 0) {
        if (n == 0 || errno != EINTR) reading_stdin = false;
      } else {
        std::string forward;
        for (ssize_t i = 0; i < n; ++i) {
          pending += buf[i];
          if (keys->compare(0, pending.size(), pending) == 0) {
            if (pending.size() == keys->size()) {
              detached = true;
              break;
            }
            continue;
          }
          forward += pending;
          pending.clear();
        }
        if (!forward.empty()) send_frame(sock.get(), runtime::FrameType::kStdin, forward);
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(sock.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // the monitor ended without a word
      reader.add(std::string_view(buf, static_cast<size_t>(n)));
      while (auto f = reader.next()) {
        if (f->type == runtime::FrameType::kStdout)
          write_out(STDOUT_FILENO, f->payload);
        else if (f->type == runtime::FrameType::kStderr)
          write_out(STDERR_FILENO, f->payload);
        else if (f->type == runtime::FrameType::kExit)
          code = std::atoi(f->payload.c_str());
      }
    }
  }
  raw.reset();
  sigprocmask(SIG_SETMASK, &old, nullptr);
  if (detached) {
    fmt::print(stderr, "read escape sequence\n");
    return kExitDetached;
  }
  if (code) return *code;
  // Its monitor was killed: the exit, as recorded.
  return wait_container(paths, view.record.id);
}

}  // namespace skiff::engine
