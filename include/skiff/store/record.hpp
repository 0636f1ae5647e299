// skiff's JSON records on disk (images.json, storage.json, container.json,
// state.json, build-cache/<key>.json): each is replaced whole or not at all.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

namespace skiff::store {

enum class Durability {
  kSynced,   // fsynced before the rename: survives a power cut (images.json, storage.json)
  kRenamed,  // renamed into place only: a container or a cache entry does not outlive a power cut either
};

// Writes j to path (mode 0600) through a temporary file renamed over it.
void write_record(const std::filesystem::path& path, const nlohmann::json& j, Durability durability, int indent = -1);

// The record at path; nullopt when there is none. Throws Error naming the
// file when it is not JSON.
std::optional<nlohmann::json> read_record(const std::filesystem::path& path);

}  // namespace skiff::store
