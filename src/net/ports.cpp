#include "skiff/net/ports.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <set>
#include <tuple>

#include "skiff/net/dns.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/unique_fd.hpp"

namespace skiff::net {

namespace {

struct PortRange {
  uint32_t first = 0, last = 0;  // 0-0: none given
};

bool parse_port_number(std::string_view text, uint32_t& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out >= 1 && out <= 65535;
}

// "80" or "8000-8002".
bool parse_range(std::string_view text, PortRange& out) {
  auto dash = text.find('-');
  if (dash == std::string_view::npos) {
    if (!parse_port_number(text, out.first)) return false;
    out.last = out.first;
    return true;
  }
  return parse_port_number(text.substr(0, dash), out.first) && parse_port_number(text.substr(dash + 1), out.last) &&
         out.first <= out.last;
}

// Binds host_ip:port (0: any free one) for proto; returns the socket, or an
// invalid one with errno set.
UniqueFd bind_port(const PortMapping& p, uint16_t port) {
  bool v6 = p.host_ip.find(':') != std::string::npos;
  int type = p.proto == "udp" ? SOCK_DGRAM : SOCK_STREAM;
  UniqueFd s(socket(v6 ? AF_INET6 : AF_INET, type | SOCK_CLOEXEC, 0));
  if (!s) return s;
  int r;
  if (v6) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    inet_pton(AF_INET6, p.host_ip.c_str(), &a.sin6_addr);
    r = bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
  } else {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    if (!p.host_ip.empty()) inet_pton(AF_INET, p.host_ip.c_str(), &a.sin_addr);
    r = bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  if (r != 0) return UniqueFd();
  return s;
}

uint16_t bound_port(int fd) {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return 0;
  return a.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&a)->sin6_port)
                                 : ntohs(reinterpret_cast<sockaddr_in*>(&a)->sin_port);
}

std::string host_text(const PortMapping& p) {
  std::string ip = p.host_ip.empty() ? "0.0.0.0" : p.host_ip;
  if (ip.find(':') != std::string::npos) ip = "[" + ip + "]";
  return fmt::format("{}:{}", ip, p.host_port);
}

}  // namespace

std::vector<PortMapping> parse_publish(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Error(fmt::format("invalid -p {:?}: {}", std::string(text), why), 0,
                 "give [hostIP:][hostPort:]containerPort[/tcp|udp], e.g. 8080:80 or 127.0.0.1:8080:80/tcp");
  };
  std::string_view rest = text;
  std::string proto = "tcp";
  if (auto slash = rest.rfind('/'); slash != std::string_view::npos) {
    proto = std::string(rest.substr(slash + 1));
    rest = rest.substr(0, slash);
    if (proto != "tcp" && proto != "udp") throw bad("the protocol must be tcp or udp");
  }
  std::string ip;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':')
      throw bad("an IPv6 address in brackets must be followed by ':'");
    ip = std::string(rest.substr(1, close - 1));
    rest = rest.substr(close + 2);
  }
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    auto colon = rest.find(':', start);
    parts.push_back(rest.substr(start, colon == std::string_view::npos ? colon : colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  if (!ip.empty() && parts.size() != 2) throw bad("give hostPort:containerPort after the address");
  if (parts.size() > 3) throw bad("too many ':'");
  std::string_view host_part, container_part = parts.back();
  if (parts.size() == 3) {
    ip = std::string(parts[0]);
    host_part = parts[1];
  } else if (parts.size() == 2) {
    host_part = parts[0];
  }
  if (!ip.empty() && !is_ip_address(ip)) throw bad(fmt::format("{:?} is not an IP address", ip));
  PortRange host, container;
  if (!parse_range(container_part, container))
    throw bad("the container port must be a number from 1 to 65535, or a range");
  if (!host_part.empty() && !parse_range(host_part, host))
    throw bad("the host port must be a number from 1 to 65535, or a range");
  uint32_t count = container.last - container.first + 1;
  if (host.first != 0 && host.last - host.first + 1 != count) {
    // docker: a host range for a single container port means "any one of them".
    if (count != 1) throw bad("the host and container ranges differ in length");
    host.last = host.first;
  }
  std::vector<PortMapping> out;
  for (uint32_t i = 0; i < count; ++i)
    out.push_back({ip, static_cast<uint16_t>(host.first == 0 ? 0 : host.first + i),
                   static_cast<uint16_t>(container.first + i), proto});
  return out;
}

std::vector<PortMapping> exposed_ports(std::string_view text) {
  std::string_view rest = text;
  std::string proto = "tcp";
  if (auto slash = rest.rfind('/'); slash != std::string_view::npos) {
    proto = std::string(rest.substr(slash + 1));
    rest = rest.substr(0, slash);
  }
  PortRange r;
  if ((proto != "tcp" && proto != "udp") || !parse_range(rest, r))
    throw Error(fmt::format("the image exposes {:?}, which is not a port", std::string(text)));
  std::vector<PortMapping> out;
  for (uint32_t port = r.first; port <= r.last; ++port) out.push_back({"", 0, static_cast<uint16_t>(port), proto});
  return out;
}

void assign_host_ports(std::vector<PortMapping>& ports) {
  std::set<std::tuple<std::string, uint16_t, std::string>> seen;
  for (auto& p : ports) {
    UniqueFd s = bind_port(p, p.host_port);
    if (!s) {
      int err = errno;
      if (p.host_port == 0)
        throw Error(
            fmt::format("no free port on {} for {}", p.host_ip.empty() ? "the host" : p.host_ip, container_port_key(p)),
            err);
      throw Error(fmt::format("cannot publish {}/{} on the host: {}", host_text(p), p.proto,
                              err == EADDRINUSE ? "the port is already in use"
                              : err == EACCES ? "ports below 1024 need privileges (net.ipv4.ip_unprivileged_port_start)"
                              : err == EADDRNOTAVAIL ? "the host has no such address"
                                                     : Error::errno_text(err)));
    }
    if (p.host_port == 0) p.host_port = bound_port(s.get());
    if (!seen.emplace(p.host_ip, p.host_port, p.proto).second)
      throw Error(fmt::format("host port {}/{} is published twice", host_text(p), p.proto));
  }
}

std::string container_port_key(const PortMapping& p) {
  return fmt::format("{}/{}", p.container_port, p.proto);
}

std::string port_line(const PortMapping& p) {
  return fmt::format("{} -> {}", container_port_key(p), host_text(p));
}

std::string ps_text(const std::vector<PortMapping>& ports) {
  std::string out;
  for (const auto& p : ports) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{}->{}", host_text(p), container_port_key(p));
  }
  return out;
}

}  // namespace skiff::net
