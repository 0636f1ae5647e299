#include "skiff/image/digest.hpp"

#include <openssl/evp.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "skiff/util/error.hpp"

#ifdef SKIFF_LAZY_OPENSSL_CPUID
// The call in libcrypto's .init code (and OpenSSL's own, at its first
// initialisation) comes here; the real one runs once skiff hashes.
namespace {
bool g_hashing = false;
}
extern "C" void __real_OPENSSL_cpuid_setup();
extern "C" void __wrap_OPENSSL_cpuid_setup() {
  if (g_hashing) __real_OPENSSL_cpuid_setup();
}
#endif

namespace skiff::image {

namespace {

// OpenSSL's CPU features (SHA extensions, AVX2), found at the first hash
// instead of at every start (see meson.build).
void find_cpu_features() {
#ifdef SKIFF_LAZY_OPENSSL_CPUID
  static const bool found = [] {
    g_hashing = true;
    __real_OPENSSL_cpuid_setup();  // once: it keeps count itself
    return true;
  }();
  (void)found;
#endif
}

}  // namespace

struct Sha256::State {
  EVP_MD_CTX* ctx = nullptr;
  ~State() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : state_(std::make_unique<State>()) {
  find_cpu_features();
  state_->ctx = EVP_MD_CTX_new();
  if (!state_->ctx || EVP_DigestInit_ex(state_->ctx, EVP_sha256(), nullptr) != 1)
    throw Error("sha256: cannot initialise OpenSSL digest");
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(std::string_view data) {
  EVP_DigestUpdate(state_->ctx, data.data(), data.size());
}

std::string Sha256::finish() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(state_->ctx, md, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

std::string sha256_digest(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.finish();
}

bool is_valid_digest(std::string_view digest) {
  if (digest.size() != 71 || digest.substr(0, 7) != "sha256:") return false;
  for (char c : digest.substr(7))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string digest_hex(std::string_view digest) {
  if (!is_valid_digest(digest)) throw Error(fmt::format("invalid digest {:?}", std::string(digest)));
  return std::string(digest.substr(7));
}

struct BackgroundSha256::State {
  Sha256 hasher;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string_view> queue;
  uint64_t queued = 0, hashed = 0;
  bool closing = false;
  std::thread worker;
};

BackgroundSha256::BackgroundSha256() : state_(std::make_unique<State>()) {
  State* st = state_.get();
  st->worker = std::thread([st] {
    std::unique_lock lock(st->mu);
    for (;;) {
      st->cv.wait(lock, [st] { return st->closing || !st->queue.empty(); });
      if (st->queue.empty()) return;
      std::string_view data = st->queue.front();
      lock.unlock();
      st->hasher.update(data);
      lock.lock();
      st->queue.pop_front();
      ++st->hashed;
      st->cv.notify_all();
    }
  });
}

BackgroundSha256::~BackgroundSha256() {
  {
    std::lock_guard lock(state_->mu);
    state_->closing = true;
  }
  state_->cv.notify_all();
  state_->worker.join();
}

uint64_t BackgroundSha256::update(std::string_view data) {
  std::lock_guard lock(state_->mu);
  state_->queue.push_back(data);
  state_->cv.notify_all();
  return ++state_->queued;
}

void BackgroundSha256::wait_for(uint64_t n) {
  std::unique_lock lock(state_->mu);
  state_->cv.wait(lock, [&] { return state_->hashed >= n; });
}

std::string BackgroundSha256::finish() {
  wait_for(state_->queued);
  return state_->hasher.finish();
}

}  // namespace skiff::image
