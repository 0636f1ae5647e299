// Dockerfile instructions that change an image config (import --change, and
// later commit -c and the builder).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace skiff::image {

// Applies one instruction ("CMD [\"sh\"]", "ENV A=1 B=2", "WORKDIR /x", USER,
// ENTRYPOINT, EXPOSE, LABEL, VOLUME, STOPSIGNAL) to config (the image config's
// "config" object). Throws Error for anything else or malformed arguments.
void apply_change(std::string_view instruction, nlohmann::json& config);

// Splits shell-like words: white space separates, quotes group, backslash escapes.
std::vector<std::string> split_words(std::string_view text);

}  // namespace skiff::image
