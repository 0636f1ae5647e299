#include "skiff/store/record.hpp"

#include <fmt/format.h>

#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

namespace skiff::store {

void write_record(const std::filesystem::path& path, const nlohmann::json& j, Durability durability, int indent) {
  write_file_atomic(path, j.dump(indent) + "\n", {.mode = 0600, .durable = durability == Durability::kSynced});
}

std::optional<nlohmann::json> read_record(const std::filesystem::path& path) {
  auto text = read_file_if_exists(path);
  if (!text) return std::nullopt;
  try {
    return nlohmann::json::parse(*text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{} is damaged: {}", path.string(), e.what()));
  }
}

}  // namespace skiff::store
