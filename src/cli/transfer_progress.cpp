#include "transfer_progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

namespace skiff::cli {

namespace {

std::string human_bytes(uint64_t n) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1000 && u < 4) {
    v /= 1000;
    ++u;
  }
  return u == 0 ? fmt::format("{}B", n) : fmt::format("{:.3g}{}", v, units[u]);
}

class PlainProgress : public engine::TransferEvents {
 public:
  explicit PlainProgress(FILE* out) : out_(out) {}
  void message(std::string_view line) override {
    std::lock_guard lock(mu_);
    fmt::print(out_, "{}\n", line);
    fflush(out_);
  }
  void layer_state(std::string_view id, std::string_view state) override {
    std::lock_guard lock(mu_);
    fmt::print(out_, "{}: {}\n", id, state);
    fflush(out_);
  }
  void layer_bytes(std::string_view, uint64_t, uint64_t) override {}

 private:
  FILE* out_;
  std::mutex mu_;
};

// One line per layer, rewritten in place; at most ten redraws a second.
class TerminalProgress : public engine::TransferEvents {
 public:
  explicit TerminalProgress(FILE* out) : out_(out) {}
  void message(std::string_view line) override {
    std::lock_guard lock(mu_);
    // Lines above the block stay; a message after it starts below it.
    fmt::print(out_, "{}\n", line);
    drawn_ = 0;
    layers_.clear();
    fflush(out_);
  }
  void layer_state(std::string_view id, std::string_view state) override {
    std::lock_guard lock(mu_);
    Layer& l = find(id);
    l.text = std::string(state);
    l.bytes_line = false;
    if (state == "Preparing") l.verb = "Pushing";
    redraw();
  }
  void layer_bytes(std::string_view id, uint64_t done, uint64_t total) override {
    std::lock_guard lock(mu_);
    Layer& l = find(id);
    auto now = std::chrono::steady_clock::now();
    if (l.start.time_since_epoch().count() == 0) l.start = now;
    double secs = std::chrono::duration<double>(now - l.start).count();
    std::string rate = secs > 0.2 ? human_bytes(static_cast<uint64_t>(static_cast<double>(done) / secs)) + "/s" : "";
    std::string bar;
    if (total > 0) {
      int width = 30, fill = static_cast<int>(static_cast<double>(done) / static_cast<double>(total) * width);
      if (fill > width) fill = width;
      bar = "[" + std::string(static_cast<size_t>(fill), '=') + (fill < width ? ">" : "") +
            std::string(static_cast<size_t>(width - fill - (fill < width ? 1 : 0)), ' ') + "] ";
    }
    l.text = fmt::format("{} {}{}/{} {}", l.verb, bar, human_bytes(done), total ? human_bytes(total) : "?", rate);
    l.bytes_line = true;
    if (now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    redraw();
  }

 private:
  struct Layer {
    std::string id, text;
    std::string verb = "Downloading";
    bool bytes_line = false;
    std::chrono::steady_clock::time_point start{};
  };
  Layer& find(std::string_view id) {
    for (auto& l : layers_)
      if (l.id == id) return l;
    layers_.push_back({std::string(id), ""});
    return layers_.back();
  }
  void redraw() {
    if (drawn_) fmt::print(out_, "\x1b[{}A", drawn_);
    for (const auto& l : layers_) fmt::print(out_, "\x1b[2K\r{}: {}\n", l.id, l.text);
    drawn_ = layers_.size();
    fflush(out_);
  }

  FILE* out_;
  std::mutex mu_;
  std::vector<Layer> layers_;
  size_t drawn_ = 0;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace

std::unique_ptr<engine::TransferEvents> make_transfer_progress(FILE* out) {
  if (isatty(fileno(out))) return std::make_unique<TerminalProgress>(out);
  return std::make_unique<PlainProgress>(out);
}

}  // namespace skiff::cli
