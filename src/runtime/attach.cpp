#include "skiff/runtime/attach.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "skiff/util/error.hpp"

namespace skiff::runtime {

namespace {

constexpr size_t kHeader = 5;
constexpr uint32_t kMaxFrame = 1 << 20;

// sockaddr_un for dir/attach.sock, named through an fd of dir: a store's
// path may be longer than sun_path's 108 bytes.
sockaddr_un attach_address(int dir_fd) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string path = fmt::format("/proc/self/fd/{}/{}", dir_fd, kAttachSocket);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

}  // namespace

std::string encode_frame(FrameType type, std::string_view payload) {
  std::string out(kHeader, '\0');
  auto n = static_cast<uint32_t>(payload.size());
  out[0] = static_cast<char>(type);
  for (int i = 0; i < 4; ++i) out[1 + static_cast<size_t>(i)] = static_cast<char>((n >> (24 - 8 * i)) & 0xff);
  out.append(payload);
  return out;
}

std::optional<Frame> FrameReader::next() {
  if (buffer_.size() < kHeader) return std::nullopt;
  uint32_t n = 0;
  for (size_t i = 1; i < kHeader; ++i) n = (n << 8) | static_cast<uint8_t>(buffer_[i]);
  if (n > kMaxFrame) throw Error("attach: a frame of more than 1 MiB");
  if (buffer_.size() < kHeader + n) return std::nullopt;
  Frame f{static_cast<FrameType>(static_cast<uint8_t>(buffer_[0])), buffer_.substr(kHeader, n)};
  buffer_.erase(0, kHeader + n);
  return f;
}

UniqueFd listen_attach(const std::filesystem::path& dir) {
  UniqueFd d(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!d) throw_errno(fmt::format("open {}", dir.string()));
  ::unlinkat(d.get(), kAttachSocket, 0);
  UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!s) throw_errno("socket");
  sockaddr_un addr = attach_address(d.get());
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw_errno("bind the attach socket");
  if (::listen(s.get(), 16) != 0) throw_errno("listen on the attach socket");
  return s;
}

UniqueFd connect_attach(const std::filesystem::path& dir) {
  UniqueFd d(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!d) return UniqueFd();
  UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) throw_errno("socket");
  sockaddr_un addr = attach_address(d.get());
  if (::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return UniqueFd();
  return s;
}

}  // namespace skiff::runtime
