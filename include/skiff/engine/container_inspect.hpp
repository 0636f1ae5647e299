// docker's inspect of a container: its JSON object, in docker's field names,
// from what skiff keeps of it (the record, the state, config.json and its
// image's config). What skiff keeps nowhere gets docker's empty value.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "skiff/engine/container_config.hpp"
#include "skiff/engine/container_store.hpp"
#include "skiff/store/paths.hpp"

namespace skiff::engine {

// What a container's inspect is made of.
struct ContainerInspectData {
  ContainerView view;
  std::optional<ContainerConfig> config;  // none until its command was started
  nlohmann::json image_config;            // the image config's "config" ({} when the image is gone)
  std::string log_path;                   // a detached container's log, else empty
  std::optional<uint64_t> size_rw;        // -s: bytes in its writable layer
  std::optional<uint64_t> size_root_fs;   // -s: those and its image's
};

// docker's "0001-01-01T00:00:00Z": a time that has not come yet.
inline constexpr const char* kZeroTime = "0001-01-01T00:00:00Z";

// The object docker inspect prints for a container, its fields in docker's order.
nlohmann::ordered_json container_inspect_json(const ContainerInspectData& data);

// Finds the container (name, id or id prefix) and reads what its inspect
// needs; with size, also adds up its writable layer. Throws Error "no such
// container: X" as ContainerStore::resolve does.
ContainerInspectData read_container_inspect(const store::Paths& paths, const std::string& name, bool size);

}  // namespace skiff::engine
