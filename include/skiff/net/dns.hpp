// A container's /etc/resolv.conf and /etc/hosts.
#pragma once

#include <string>
#include <vector>

namespace skiff::net {

struct DnsOptions {
  std::vector<std::string> servers;  // --dns
  std::vector<std::string> search;   // --dns-search ("." for none)
  std::vector<std::string> options;  // --dns-option
};

// resolv.conf from the host's text: its nameservers, except loopback ones
// (a resolver on the host's 127.0.0.53 is unreachable from the container's
// own network), which become forwarder (the network helper's DNS address;
// empty: dropped); then --dns, --dns-search and --dns-option replace the
// host's lines of that kind, as docker's do.
std::string resolv_conf(const std::string& host_text, const std::string& forwarder, const DnsOptions& dns);

// --add-host NAME:IP (IPv6 in brackets or bare), checked: {name, ip}.
// Throws Error on a bad one.
std::pair<std::string, std::string> parse_add_host(const std::string& text);

// Whether text is an IPv4 or IPv6 address.
bool is_ip_address(const std::string& text);

}  // namespace skiff::net
