// A detached container's output relay: from its pipes (or terminal) to its
// log and to the clients attached to it; from them, its input.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <charconv>
#include <vector>

#include "process_start.hpp"
#include "skiff/runtime/container_process.hpp"
#include "skiff/util/error.hpp"

namespace skiff::runtime {

namespace {

struct Client {
  UniqueFd fd;
  FrameReader reader;
};

// All of data, or false: a client that does not keep up is let go rather
// than let it stall the container's output (and its log).
bool send_whole(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// "ROWS COLS" -> the terminal's size.
void resize(int terminal, const std::string& text) {
  unsigned rows = 0, cols = 0;
  auto [mid, ec] = std::from_chars(text.data(), text.data() + text.size(), rows);
  if (ec != std::errc() || mid == text.data() + text.size()) return;
  std::from_chars(mid + 1, text.data() + text.size(), cols);
  winsize ws{};
  ws.ws_row = static_cast<unsigned short>(rows);
  ws.ws_col = static_cast<unsigned short>(cols);
  if (ws.ws_row > 0 && ws.ws_col > 0) ioctl(terminal, TIOCSWINSZ, &ws);
}

}  // namespace

int ContainerProcess::wait_logging(UniqueFd out, UniqueFd err, LogWriter& log, const AttachPoint* attach) {
  sigset_t set = forwarded_set();
  UniqueFd sfd(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sfd) throw_errno("signalfd");
  if (pty_) out = std::move(pty_);
  if (attach) {
    // Input for a container that has closed its stdin fails with EPIPE
    // instead (the container's processes start with no signal blocked).
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigprocmask(SIG_BLOCK, &pipe_set, nullptr);
  }
  const bool terminal = out && attach && attach->terminal;
  std::vector<Client> clients;
  // Read until the container's ends are closed (by all its processes) and
  // it has exited; a process it left behind holding them keeps the log open
  // only until the container's PID 1 is gone, whose namespace ends them.
  int status = 0;
  bool exited = false;
  char buf[16384];
  auto broadcast = [&](FrameType type, std::string_view data) {
    if (clients.empty()) return;
    std::string frame = encode_frame(type, data);
    std::erase_if(clients, [&](Client& c) { return !send_whole(c.fd.get(), frame); });
  };
  auto drain = [&](UniqueFd& fd, LogStream stream) {
    ssize_t n = read(fd.get(), buf, sizeof buf);
    if (n > 0) {
      std::string_view data(buf, static_cast<size_t>(n));
      log.write(stream, data);
      broadcast(stream == LogStream::kStderr ? FrameType::kStderr : FrameType::kStdout, data);
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
      fd.reset();  // EOF, or EIO from a terminal whose last process is gone
    }
  };
  // What a client sends: input, its terminal's size, a signal.
  auto serve = [&](Client& c) {
    ssize_t n = read(c.fd.get(), buf, sizeof buf);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) return true;
      return false;
    }
    c.reader.add(std::string_view(buf, static_cast<size_t>(n)));
    try {
      while (auto f = c.reader.next()) {
        int input = terminal ? out.get() : attach->input;
        if (f->type == FrameType::kStdin && input >= 0) {
          std::string_view data = f->payload;
          while (!data.empty()) {
            ssize_t w = write(input, data.data(), data.size());
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) break;  // the container closed its stdin
            data.remove_prefix(static_cast<size_t>(w));
          }
        } else if (f->type == FrameType::kResize && terminal) {
          resize(out.get(), f->payload);
        } else if (f->type == FrameType::kSignal && !exited) {
          int sig = 0;
          std::from_chars(f->payload.data(), f->payload.data() + f->payload.size(), sig);
          if (sig > 0 && sig < NSIG) kill(pid_, sig);
        }
      }
    } catch (const Error&) {
      return false;
    }
    return true;
  };
  while (out || err || !exited) {
    if (!exited && waitpid(pid_, &status, WNOHANG) == pid_) {
      exited = true;
      reaped_ = true;
      // What is still in the pipes is read; nothing more can come once every
      // process of the namespace is gone.
      for (UniqueFd* fd : {&out, &err})
        if (*fd) fcntl(fd->get(), F_SETFL, O_NONBLOCK);
    }
    std::vector<pollfd> fds = {{sfd.get(), POLLIN, 0},
                               {out ? out.get() : -1, POLLIN, 0},
                               {err ? err.get() : -1, POLLIN, 0},
                               {attach && !exited ? attach->listener : -1, POLLIN, 0}};
    for (const auto& c : clients) fds.push_back({c.fd.get(), POLLIN, 0});
    if (poll(fds.data(), fds.size(), exited ? 0 : -1) < 0) {
      if (errno == EINTR) continue;
      throw_errno("poll");
    }
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo si{};
      while (read(sfd.get(), &si, sizeof si) == sizeof si) {
        int sig = static_cast<int>(si.ssi_signo);
        if (sig != SIGCHLD && sig != SIGWINCH && !exited) kill(pid_, sig);
      }
    }
    bool any = false;
    if (out && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      drain(out, LogStream::kStdout);
      any = true;
    }
    if (err && (fds[2].revents & (POLLIN | POLLHUP | POLLERR))) {
      drain(err, LogStream::kStderr);
      any = true;
    }
    // Clients: those that left go; then new ones come.
    std::vector<bool> keep(clients.size(), true);
    for (size_t i = 0; i < clients.size(); ++i)
      if (fds[4 + i].revents & (POLLIN | POLLHUP | POLLERR)) keep[i] = serve(clients[i]);
    for (size_t i = clients.size(); i-- > 0;)
      if (!keep[i]) clients.erase(clients.begin() + static_cast<std::ptrdiff_t>(i));
    if (fds[3].revents & POLLIN) {
      for (int c; (c = accept4(attach->listener, nullptr, nullptr, SOCK_CLOEXEC)) >= 0;) {
        int big = 1 << 20;
        setsockopt(c, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
        clients.push_back({UniqueFd(c), {}});
      }
    }
    if (exited && !any) break;  // nothing left to read now
  }
  broadcast(FrameType::kExit, std::to_string(decode_status(status)));
  return decode_status(status);
}

}  // namespace skiff::runtime
