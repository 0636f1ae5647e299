#include "skiff/net/network_helper.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"
#include "skiff/util/split.hpp"

namespace skiff::net {

namespace {

// Where pasta's --dns-forward maps the host's resolver (podman's address).
constexpr const char* kPastaDns = "169.254.1.1";
// slirp4netns's built-in addresses with --configure (10.0.2.0/24).
constexpr const char* kSlirpDns = "10.0.2.3";
constexpr const char* kSlirpHost = "10.0.2.2";

// The fds the helper gets: its user and network namespaces, and the pipe
// it says "ready" on.
// slirp4netns also gets the read end of a pipe only skiff writes to, and
// exits when it closes (--exit-fd): whatever ends skiff, it goes too.
constexpr int kUserFd = 3, kNetFd = 4, kReadyFd = 5, kExitFd = 6;

bool on_path(const char* name) {
  const char* path = getenv("PATH");
  std::string dirs = path && *path ? path : "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
  for (std::string_view dir : split(dirs, ':')) {
    if (dir.empty()) continue;
    std::string full = fmt::format("{}/{}", dir, name);
    if (access(full.c_str(), X_OK) == 0) return true;
  }
  return false;
}

// The host's default IPv4 gateway, from /proc/net/route ("" if none).
std::string default_gateway() {
  std::ifstream in("/proc/net/route");
  std::string iface, dest, gw;
  std::string line;
  std::getline(in, line);  // the header
  while (in >> iface >> dest >> gw) {
    std::getline(in, line);
    if (dest != "00000000") continue;
    in_addr a{};
    a.s_addr = static_cast<in_addr_t>(std::stoul(gw, nullptr, 16));
    char buf[INET_ADDRSTRLEN];
    return inet_ntop(AF_INET, &a, buf, sizeof buf) ? buf : "";
  }
  return "";
}

bool truthy(std::string_view v, std::string_view option) {
  if (v == "true") return true;
  if (v == "false") return false;
  throw Error(fmt::format("slirp4netns option {}={:?}: give true or false", option, std::string(v)));
}

// One request to slirp4netns's API socket, one answer; throws Error with
// slirp4netns's own description of a refusal.
void slirp_request(const std::string& socket_path, const std::string& request) {
  UniqueFd s(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path) throw Error("the slirp4netns API socket's path is too long");
  socket_path.copy(addr.sun_path, sizeof addr.sun_path - 1);
  if (!s || ::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw_errno("connect to slirp4netns's API socket");
  if (write(s.get(), request.data(), request.size()) != static_cast<ssize_t>(request.size()))
    throw_errno("talk to slirp4netns");
  shutdown(s.get(), SHUT_WR);
  std::string answer;
  char buf[1024];
  for (ssize_t n; (n = read(s.get(), buf, sizeof buf)) > 0;) answer.append(buf, static_cast<size_t>(n));
  if (answer.find("\"error\"") != std::string::npos) {
    auto d = answer.find("\"desc\"");
    std::string desc = d == std::string::npos ? answer : answer.substr(d);
    throw Error(fmt::format("slirp4netns refused a port: {}", desc));
  }
}

}  // namespace

const char* helper_name(HelperKind kind) {
  return kind == HelperKind::kPasta ? "pasta" : "slirp4netns";
}

HelperKind default_helper() {
  // slirp4netns first: measured here, Debian 12's pasta took 80 to 150 ms to
  // be ready (slirp4netns: a tenth of that) and forwarded no UDP answers.
  if (on_path("slirp4netns")) return HelperKind::kSlirp4netns;
  if (on_path("pasta")) return HelperKind::kPasta;
  throw Error("the default network needs slirp4netns or pasta, and neither is installed", 0,
              "install the slirp4netns package (sudo apt-get install slirp4netns), or run with --network none or "
              "--network host");
}

HelperOptions parse_helper_options(HelperKind kind, std::string_view text) {
  HelperOptions o;
  o.kind = kind;
  if (!on_path(helper_name(kind)))
    throw Error(fmt::format("--network {0}: {0} is not installed", helper_name(kind)), 0,
                kind == HelperKind::kPasta ? "install the passt package (sudo apt-get install passt)"
                                           : "install the slirp4netns package (sudo apt-get install slirp4netns)");
  if (text.empty()) return o;
  for (std::string_view item : split(text, ',')) {
    if (kind == HelperKind::kPasta) {
      // podman passes pasta's options on as they are.
      std::string arg(item);
      if (arg == "--map-gw") o.allow_host_loopback = true;
      for (const char* owned : {"--netns", "--userns", "--pid", "-P", "-f", "--foreground", "--config-net"})
        if (arg == owned || arg.rfind(std::string(owned) + "=", 0) == 0)
          throw Error(fmt::format("--network pasta: option {} is skiff's to set", arg));
      o.pasta_args.push_back(std::move(arg));
      continue;
    }
    auto eq = item.find('=');
    std::string_view key = item.substr(0, eq), value = eq == std::string_view::npos ? "" : item.substr(eq + 1);
    if (key == "allow_host_loopback") {
      o.allow_host_loopback = truthy(value, key);
    } else if (key == "mtu") {
      o.mtu = std::string(value);
    } else if (key == "cidr") {
      o.cidr = std::string(value);
    } else if (key == "enable_ipv6") {
      o.enable_ipv6 = truthy(value, key);
    } else if (key == "port_handler") {
      if (value != "slirp4netns")
        throw Error(fmt::format("slirp4netns port_handler={:?}: skiff forwards ports with slirp4netns itself",
                                std::string(value)));
    } else {
      throw Error(
          fmt::format("unknown slirp4netns option {:?}: use allow_host_loopback, mtu, cidr, enable_ipv6 or "
                      "port_handler",
                      std::string(item)));
    }
  }
  return o;
}

std::string dns_forwarder(const HelperOptions& o) {
  return o.kind == HelperKind::kPasta ? kPastaDns : kSlirpDns;
}

std::string host_address(const HelperOptions& o) {
  if (!o.allow_host_loopback) return "";
  return o.kind == HelperKind::kPasta ? default_gateway() : kSlirpHost;
}

std::vector<std::string> NetworkHelper::command() const {
  std::vector<std::string> cmd;
  auto proc_fd = [](int fd) { return fmt::format("/proc/self/fd/{}", fd); };
  if (opts_.kind == HelperKind::kPasta) {
    cmd = {"pasta", "--foreground", "--quiet", "--config-net", "--dns-forward", kPastaDns};
    if (!opts_.allow_host_loopback) cmd.push_back("--no-map-gw");
    std::string tcp, udp;
    for (const auto& p : opts_.ports) {
      std::string spec = p.host_ip.empty() ? "" : p.host_ip + "/";
      spec += fmt::format("{}:{}", p.host_port, p.container_port);
      (p.proto == "udp" ? udp : tcp) += (p.proto == "udp" ? udp : tcp).empty() ? spec : "," + spec;
    }
    // Nothing is forwarded unless published: pasta's default would forward
    // every port the container binds.
    for (const auto& [flag, spec] : {std::pair{"-t", tcp}, {"-u", udp}}) {
      if (spec.empty()) {
        cmd.insert(cmd.end(), {flag, "none"});
        continue;
      }
      for (std::string_view one : split(spec, ',')) cmd.insert(cmd.end(), {flag, std::string(one)});
    }
    cmd.insert(cmd.end(), {"-T", "none", "-U", "none"});
    cmd.insert(cmd.end(), opts_.pasta_args.begin(), opts_.pasta_args.end());
    cmd.insert(cmd.end(), {"--userns", proc_fd(kUserFd), "--netns", proc_fd(kNetFd), "--pid", proc_fd(kReadyFd)});
    return cmd;
  }
  cmd = {"slirp4netns",
         "--configure",
         "--mtu=" + opts_.mtu,
         fmt::format("--ready-fd={}", kReadyFd),
         fmt::format("--exit-fd={}", kExitFd),
         "--netns-type=path",
         "--userns-path=" + proc_fd(kUserFd)};
  if (!opts_.allow_host_loopback) cmd.push_back("--disable-host-loopback");
  if (opts_.enable_ipv6) cmd.push_back("--enable-ipv6");
  if (!opts_.cidr.empty()) cmd.push_back("--cidr=" + opts_.cidr);
  if (!opts_.ports.empty()) cmd.push_back("--api-socket=" + opts_.api_socket);
  cmd.insert(cmd.end(), {proc_fd(kNetFd), "tap0"});
  return cmd;
}

void NetworkHelper::connect(int userns_fd, int netns_fd, UniqueFd ready) {
  if (pid_ > 0) throw Error("the network helper is running already");
  std::vector<std::string> cmd = command();
  std::vector<char*> argv;
  for (auto& a : cmd) argv.push_back(a.data());
  argv.push_back(nullptr);
  // slirp4netns with ports says "ready" to skiff, which adds the ports and
  // then passes the word on; any other helper says it to the container.
  UniqueFd own_ready_read, own_ready_write;
  bool relay = opts_.kind == HelperKind::kSlirp4netns && !opts_.ports.empty();
  if (relay) {
    std::tie(own_ready_read, own_ready_write) = make_pipe();
    ::unlink(opts_.api_socket.c_str());
  }
  int ready_fd = relay ? own_ready_write.get() : ready.get();
  UniqueFd exit_read;
  std::tie(exit_read, exit_write_) = make_pipe();
  pid_t parent = getpid();
  // A shim of skiff's own stands between skiff and the helper: the helper
  // loses a death signal when it makes a user namespace for its sandbox (a
  // change of credentials clears it), the shim keeps its own, and ends the
  // helper when skiff dies, however it dies.
  pid_t pid = fork();
  if (pid < 0) throw_errno(fmt::format("start {}", cmd[0]));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
    if (getppid() != parent) _exit(1);
    int from[] = {userns_fd, netns_fd, ready_fd, exit_read.get()};
    int high[4];
    for (int i = 0; i < 4; ++i)
      if ((high[i] = fcntl(from[i], F_DUPFD_CLOEXEC, 10)) < 0) _exit(1);
    for (int i = 0; i < 4; ++i)
      if (dup2(high[i], kUserFd + i) < 0) _exit(1);
    // Nothing else of skiff's stays open here: not its container's lock, nor
    // the pipes whose end tells skiff that a process went.
    syscall(SYS_close_range, kExitFd + 1, ~0U, 0);
    // slirp4netns chats on stderr; pasta --quiet says only what failed.
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
      dup2(null, 0);
      dup2(null, 1);
      if (opts_.kind == HelperKind::kSlirp4netns) dup2(null, 2);
      if (null > 2) close(null);
    }
    setsid();  // a terminal's Ctrl-C is the container's
    // Waited for with sigwait: blocked, and not ignored (an ignored signal
    // is dropped, and whoever ran skiff may have ignored SIGTERM).
    sigset_t waited;
    sigemptyset(&waited);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&waited, sig);
    sigprocmask(SIG_BLOCK, &waited, nullptr);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) signal(sig, SIG_DFL);
    pid_t helper = fork();
    if (helper < 0) _exit(1);
    if (helper == 0) {
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD}) signal(sig, SIG_DFL);
      execvp(argv[0], argv.data());
      _exit(127);
    }
    for (int fd = kUserFd; fd <= kExitFd; ++fd) close(fd);
    for (;;) {
      int sig = 0;
      if (sigwait(&waited, &sig) != 0) continue;
      int status = 0;
      if (sig == SIGCHLD) {
        if (waitpid(helper, &status, WNOHANG) == helper) _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
        continue;
      }
      kill(helper, SIGTERM);
      while (waitpid(helper, &status, 0) < 0 && errno == EINTR) {
      }
      _exit(0);
    }
  }
  pid_ = pid;
  exit_read.reset();
  if (!relay) return;
  own_ready_write.reset();
  try {
    char byte = 0;
    ssize_t n;
    do n = read(own_ready_read.get(), &byte, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1) throw Error("slirp4netns ended before the container's network was ready");
    add_slirp_ports();
  } catch (...) {
    stop();
    throw;
  }
  char go = '1';
  (void)!write(ready.get(), &go, 1);
}

void NetworkHelper::add_slirp_ports() {
  for (const auto& p : opts_.ports)
    slirp_request(opts_.api_socket,
                  fmt::format(R"({{"execute": "add_hostfwd", "arguments": {{"proto": "{}", "host_addr": "{}", )"
                              R"("host_port": {}, "guest_port": {}}}}})",
                              p.proto, p.host_ip.empty() ? "0.0.0.0" : p.host_ip, p.host_port, p.container_port));
}

void NetworkHelper::end() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  pid_ = -1;
  exit_write_.reset();
  if (!opts_.api_socket.empty()) ::unlink(opts_.api_socket.c_str());
}

void NetworkHelper::stop() {
  pid_t pid = pid_;
  end();
  int st;
  while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace skiff::net
