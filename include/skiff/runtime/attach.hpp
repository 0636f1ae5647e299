// Attaching to a detached container: its monitor listens on a unix socket
// in the container's directory, sends what the container writes to every
// client attached, and passes their input, terminal size and signals on.
//
// Both directions carry frames: one byte of type, four of length (big
// endian), then the payload.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "skiff/util/unique_fd.hpp"

namespace skiff::runtime {

enum class FrameType : uint8_t {
  kStdin = 0,   // client -> monitor: bytes for the container's stdin
  kStdout = 1,  // monitor -> client
  kStderr = 2,  // monitor -> client
  kExit = 3,    // monitor -> client: the exit status, in decimal; the last frame
  kResize = 4,  // client -> monitor: "ROWS COLS" of the client's terminal
  kSignal = 6,  // client -> monitor: a signal number, for the container's process
};

std::string encode_frame(FrameType type, std::string_view payload);

struct Frame {
  FrameType type;
  std::string payload;
};

// Collects bytes as they arrive and cuts them into frames.
class FrameReader {
 public:
  void add(std::string_view bytes) { buffer_.append(bytes); }
  // The next whole frame, if one has arrived. A frame longer than 1 MiB is
  // refused (an Error).
  std::optional<Frame> next();

 private:
  std::string buffer_;
};

// The socket's name in a container's directory.
inline constexpr const char* kAttachSocket = "attach.sock";

// The monitor's listening socket (non-blocking), at dir/attach.sock, made
// anew. Paths of any length work (bound through the directory's fd).
UniqueFd listen_attach(const std::filesystem::path& dir);
// A client's connection to it; empty when nothing listens there (the
// container has no monitor, or it has ended).
UniqueFd connect_attach(const std::filesystem::path& dir);

// What the monitor relays for attached clients (wait_logging).
struct AttachPoint {
  int listener = -1;  // listen_attach's socket
  int input = -1;     // the container's stdin: a pipe's write end, or its terminal
  bool terminal = false;
};

}  // namespace skiff::runtime
