// containers/<id>/options.json: what `run` or `create` was asked for, so
// that `start` and `restart` can make the same container again, and a
// --restart policy's monitor can run it again.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>

#include "skiff/engine/run_options.hpp"

namespace skiff::engine {

// Published ports as options.json and container.json keep them.
nlohmann::json ports_json(const std::vector<net::PortMapping>& ports);
std::vector<net::PortMapping> ports_from_json(const nlohmann::json& j);

// The options as JSON, without what belongs to one command (--cidfile,
// --pull, --preserve-fds, the fds and progress of this skiff).
nlohmann::json run_options_json(const RunOptions& opts);
// Their inverse; throws Error for a file that is not such a record.
RunOptions run_options_from_json(const nlohmann::json& j);

// Writes container_dir/options.json (atomically).
void write_container_options(const std::filesystem::path& container_dir, const RunOptions& opts);
// Reads it; throws Error when there is none (a container of an older skiff,
// or a `run --rm`'s, which cannot be started again).
RunOptions read_container_options(const std::filesystem::path& container_dir);

}  // namespace skiff::engine
