#include "skiff/net/dns.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>

#include "skiff/util/error.hpp"
#include "skiff/util/split.hpp"

namespace skiff::net {

namespace {

bool is_loopback(const std::string& ip) {
  in_addr a4{};
  if (inet_pton(AF_INET, ip.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
  in6_addr a6{};
  return inet_pton(AF_INET6, ip.c_str(), &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

std::string first_word(const std::string& line) {
  auto start = line.find_first_not_of(" \t");
  if (start == std::string::npos) return "";
  auto end = line.find_first_of(" \t", start);
  return line.substr(start, end == std::string::npos ? end : end - start);
}

std::string rest_after_word(const std::string& line) {
  std::string w = first_word(line);
  auto pos = line.find(w) + w.size();
  auto start = line.find_first_not_of(" \t", pos);
  return start == std::string::npos ? "" : line.substr(start);
}

}  // namespace

bool is_ip_address(const std::string& text) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

std::string resolv_conf(const std::string& host_text, const std::string& forwarder, const DnsOptions& dns) {
  std::vector<std::string> servers, search, options, other;
  bool forwarder_added = false;
  for (std::string_view view : split(host_text, '\n')) {
    std::string line(view);
    std::string word = first_word(line);
    if (word == "nameserver") {
      std::string ip = first_word(rest_after_word(line));
      if (!is_loopback(ip)) {
        servers.push_back(ip);
      } else if (!forwarder.empty() && !forwarder_added) {
        servers.push_back(forwarder);
        forwarder_added = true;
      }
    } else if (word == "search" || word == "domain") {
      search = {rest_after_word(line)};
    } else if (word == "options") {
      options.push_back(rest_after_word(line));
    } else if (!word.empty() && word[0] != '#' && word[0] != ';') {
      other.push_back(line);
    }
  }
  if (servers.empty() && !forwarder.empty()) servers.push_back(forwarder);
  if (!dns.servers.empty()) servers = dns.servers;
  if (!dns.search.empty()) {
    search.clear();
    for (const auto& s : dns.search)
      if (s != ".") search.push_back(s);
  }
  if (!dns.options.empty()) options = dns.options;
  std::string out;
  for (const auto& l : other) out += l + "\n";
  if (!search.empty()) {
    out += "search";
    for (const auto& s : search) out += " " + s;
    out += "\n";
  }
  for (const auto& s : servers) out += "nameserver " + s + "\n";
  if (!options.empty()) {
    out += "options";
    for (const auto& o : options) out += " " + o;
    out += "\n";
  }
  return out;
}

std::pair<std::string, std::string> parse_add_host(const std::string& text) {
  // docker: NAME:IP, also NAME=IP; an IPv6 address may be bracketed.
  auto sep = text.find_first_of(":=");
  std::string name = sep == std::string::npos ? "" : text.substr(0, sep);
  std::string ip = sep == std::string::npos ? "" : text.substr(sep + 1);
  if (ip.size() > 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  if (name.empty() || ip.empty() || (ip != "host-gateway" && !is_ip_address(ip)))
    throw Error(fmt::format("invalid --add-host {:?}: give NAME:IP, e.g. db:192.0.2.10 or gw:host-gateway", text));
  return {name, ip};
}

}  // namespace skiff::net
