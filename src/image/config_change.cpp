#include "skiff/image/config_change.hpp"

#include <cctype>

#include "skiff/util/error.hpp"

namespace skiff::image {

using nlohmann::json;

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quote) {
      if (c == quote)
        quote = 0;
      else if (c == '\\' && quote == '"' && i + 1 < text.size())
        cur.push_back(text[++i]);
      else
        cur.push_back(c);
      continue;
    }
    if (c == '"' || c == '\'') {
      quote = c;
      in_word = true;
    } else if (c == '\\' && i + 1 < text.size()) {
      cur.push_back(text[++i]);
      in_word = true;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      if (in_word) out.push_back(std::move(cur)), cur.clear();
      in_word = false;
    } else {
      cur.push_back(c);
      in_word = true;
    }
  }
  if (quote) throw Error(fmt::format("unterminated quote in {:?}", std::string(text)));
  if (in_word) out.push_back(std::move(cur));
  return out;
}

namespace {

// JSON (exec) form when it parses as an array of strings, else shell form.
json command_form(std::string_view args) {
  if (!args.empty() && args[0] == '[') {
    try {
      json j = json::parse(args);
      if (j.is_array() && std::all_of(j.begin(), j.end(), [](const json& v) { return v.is_string(); })) return j;
    } catch (const json::exception&) {
    }
  }
  return json::array({"/bin/sh", "-c", std::string(args)});
}

// "K=V K2=V2" or the old "K V" form.
std::vector<std::pair<std::string, std::string>> key_values(std::string_view keyword, std::string_view args) {
  std::vector<std::pair<std::string, std::string>> out;
  auto words = split_words(args);
  if (words.empty()) throw Error(fmt::format("{} needs at least one argument", keyword));
  if (words[0].find('=') == std::string::npos) {
    size_t sp = args.find_first_of(" \t");
    if (sp == std::string_view::npos) throw Error(fmt::format("{} {} needs a value", keyword, std::string(args)));
    std::string value(args.substr(args.find_first_not_of(" \t", sp)));
    out.emplace_back(words[0], value);
    return out;
  }
  for (const auto& w : words) {
    size_t eq = w.find('=');
    if (eq == std::string::npos || eq == 0) throw Error(fmt::format("{}: {:?} is not NAME=VALUE", keyword, w));
    out.emplace_back(w.substr(0, eq), w.substr(eq + 1));
  }
  return out;
}

}  // namespace

void apply_change(std::string_view instruction, json& config) {
  std::string_view text = instruction;
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  size_t sp = text.find_first_of(" \t");
  std::string keyword(text.substr(0, sp));
  for (auto& c : keyword) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string_view args = sp == std::string_view::npos ? std::string_view{} : text.substr(sp);
  while (!args.empty() && std::isspace(static_cast<unsigned char>(args.front()))) args.remove_prefix(1);
  if (!config.is_object()) config = json::object();
  try {
    if (keyword == "CMD") {
      config["Cmd"] = command_form(args);
    } else if (keyword == "ENTRYPOINT") {
      config["Entrypoint"] = command_form(args);
    } else if (keyword == "ENV") {
      json env = config.value("Env", json::array());
      for (auto& [k, v] : key_values(keyword, args)) {
        std::string prefix = k + "=";
        bool replaced = false;
        for (auto& e : env)
          if (e.get<std::string>().rfind(prefix, 0) == 0) e = prefix + v, replaced = true;
        if (!replaced) env.push_back(prefix + v);
      }
      config["Env"] = env;
    } else if (keyword == "LABEL") {
      for (auto& [k, v] : key_values(keyword, args)) config["Labels"][k] = v;
    } else if (keyword == "WORKDIR") {
      if (args.empty()) throw Error("WORKDIR needs a path");
      config["WorkingDir"] = std::string(args);
    } else if (keyword == "USER") {
      if (args.empty()) throw Error("USER needs a user");
      config["User"] = std::string(args);
    } else if (keyword == "EXPOSE") {
      for (auto& p : split_words(args))
        config["ExposedPorts"][p.find('/') == std::string::npos ? p + "/tcp" : p] = json::object();
    } else if (keyword == "VOLUME") {
      json list = command_form(args);
      std::vector<std::string> vols =
          list.size() == 3 && list[0] == "/bin/sh" ? split_words(args) : list.get<std::vector<std::string>>();
      for (auto& v : vols) config["Volumes"][v] = json::object();
    } else if (keyword == "STOPSIGNAL") {
      if (args.empty()) throw Error("STOPSIGNAL needs a signal");
      config["StopSignal"] = std::string(args);
    } else {
      throw Error(
          fmt::format("{:?} cannot be used here: use CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, "
                      "STOPSIGNAL or WORKDIR",
                      keyword));
    }
  } catch (const Error& e) {
    throw Error(fmt::format("invalid change {:?}: {}", std::string(instruction), e.what()));
  }
}

}  // namespace skiff::image
