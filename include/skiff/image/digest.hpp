// sha256 digests in the OCI form "sha256:<64 hex>".
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace skiff::image {

// Incremental sha256 (OpenSSL, which uses the CPU's SHA extensions).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  void update(std::string_view data);
  // "sha256:<hex>"; the hasher is spent afterwards.
  std::string finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// sha256 on a thread of its own, so that hashing a stream costs its reader
// no time. Each update() hands over a view that must stay valid until
// wait_for(its number) returns.
class BackgroundSha256 {
 public:
  BackgroundSha256();
  ~BackgroundSha256();
  BackgroundSha256(const BackgroundSha256&) = delete;
  BackgroundSha256& operator=(const BackgroundSha256&) = delete;
  // Queues data; returns its number (1, 2, ...).
  uint64_t update(std::string_view data);
  // Waits until update number n has been hashed.
  void wait_for(uint64_t n);
  // Waits for everything queued; "sha256:<hex>".
  std::string finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Digest of a whole buffer.
std::string sha256_digest(std::string_view data);

// True for "sha256:" followed by 64 lowercase hex digits.
bool is_valid_digest(std::string_view digest);

// The hex part of "sha256:<hex>"; throws on a malformed digest.
std::string digest_hex(std::string_view digest);

}  // namespace skiff::image
