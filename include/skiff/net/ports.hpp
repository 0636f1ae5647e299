// Published ports (-p, -P): docker's text, and the host's side of them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace skiff::net {

// One container port published on the host. host_port 0: a free port,
// chosen by assign_host_ports.
struct PortMapping {
  std::string host_ip;  // "" for every address
  uint16_t host_port = 0;
  uint16_t container_port = 0;
  std::string proto = "tcp";  // tcp or udp
};

// -p [hostIP:][hostPort:]containerPort[/tcp|udp], ranges on either side
// ("8080-8081:80-81"), IPv6 hosts in brackets. One mapping a port. Throws
// Error (one sentence naming the text) on a bad one.
std::vector<PortMapping> parse_publish(std::string_view text);

// An image's EXPOSE entry ("80/tcp", "53/udp", "8000-8002") for -P: one
// mapping a port, on a free host port. Throws Error on a bad one.
std::vector<PortMapping> exposed_ports(std::string_view text);

// Gives every mapping with host port 0 a free one (the kernel's choice),
// and checks that every other host port can be bound now: throws Error
// naming the first one taken. Two mappings of one host port and protocol
// are refused too.
void assign_host_ports(std::vector<PortMapping>& ports);

// docker's "0.0.0.0:8080->80/tcp" (ps) and "80/tcp -> 0.0.0.0:8080" (port).
std::string ps_text(const std::vector<PortMapping>& ports);
std::string port_line(const PortMapping& p);
// "80/tcp"
std::string container_port_key(const PortMapping& p);

}  // namespace skiff::net
