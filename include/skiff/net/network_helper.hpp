// The helper that connects a container's own network namespace to the
// outside without root: pasta (package passt) or slirp4netns, started by
// skiff for that container and ended with it. No daemon.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "skiff/net/ports.hpp"
#include "skiff/runtime/container_process.hpp"

namespace skiff::net {

enum class HelperKind { kPasta, kSlirp4netns };
const char* helper_name(HelperKind kind);

struct HelperOptions {
  HelperKind kind = HelperKind::kPasta;
  // pasta[:OPTIONS]: pasta's own options, passed on (podman's way).
  std::vector<std::string> pasta_args;
  // slirp4netns:allow_host_loopback=true, or pasta's --map-gw: the host's
  // loopback is reachable from the container (at host_address()).
  bool allow_host_loopback = false;
  // slirp4netns's mtu=, cidr=, enable_ipv6=.
  std::string mtu = "65520";
  std::string cidr;
  bool enable_ipv6 = false;
  std::vector<PortMapping> ports;
  // slirp4netns with ports: where its API socket goes (a short path).
  std::string api_socket;
};

// The options after "pasta:" or "slirp4netns:" (podman's spelling). Throws
// Error on an unknown or bad one.
HelperOptions parse_helper_options(HelperKind kind, std::string_view text);

// The default network's helper: slirp4netns when installed, else pasta.
// Throws Error saying which package to install when neither is.
HelperKind default_helper();

// The address the container's resolv.conf names for the helper's DNS
// forwarder, and the host's address from the container ("" where the host
// is not reachable).
std::string dns_forwarder(const HelperOptions& o);
std::string host_address(const HelperOptions& o);

class NetworkHelper final : public runtime::NetworkSetup {
 public:
  explicit NetworkHelper(HelperOptions o) : opts_(std::move(o)) {}
  NetworkHelper(const NetworkHelper&) = delete;
  NetworkHelper& operator=(const NetworkHelper&) = delete;
  ~NetworkHelper() override { stop(); }

  void connect(int userns_fd, int netns_fd, UniqueFd ready) override;
  // Ends the helper (SIGTERM, then reaped); nothing if none runs.
  void stop();
  // Ends the helper without waiting for it (the kernel's tear-down of its
  // tap device takes tens of milliseconds): for the last end of a skiff
  // that exits next, whose exit reaps it.
  void end();
  pid_t pid() const { return pid_; }

 private:
  std::vector<std::string> command() const;
  void add_slirp_ports();
  HelperOptions opts_;
  pid_t pid_ = -1;
  UniqueFd exit_write_;  // slirp4netns's --exit-fd: it exits when this closes
};

}  // namespace skiff::net
