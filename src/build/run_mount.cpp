// RUN --mount=type=...,target=...: BuildKit's keys, defaults and messages.
#include <cstring>

#include "build/dockerfile_text.hpp"
#include "skiff/build/dockerfile.hpp"
#include "skiff/util/error.hpp"

namespace skiff::build {

namespace {

using detail::to_lower;

// The value is one CSV record: fields split at commas, a field in double
// quotes may hold commas, "" is a quote inside one.
std::vector<std::string> csv_fields(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  for (;;) {
    std::string field;
    if (i < s.size() && s[i] == '"') {
      ++i;
      for (;;) {
        if (i >= s.size()) throw Error("failed to parse csv mounts: extraneous or missing \" in quoted-field");
        if (s[i] == '"') {
          if (i + 1 < s.size() && s[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field.push_back(s[i++]);
      }
      if (i < s.size() && s[i] != ',')
        throw Error("failed to parse csv mounts: extraneous or missing \" in quoted-field");
    } else {
      size_t comma = s.find(',', i);
      field = std::string(s.substr(i, comma == std::string_view::npos ? comma : comma - i));
      if (field.find('"') != std::string::npos) throw Error("failed to parse csv mounts: bare \" in non-quoted-field");
      i = comma == std::string_view::npos ? s.size() : comma;
    }
    out.push_back(std::move(field));
    if (i >= s.size()) break;
    ++i;  // the comma
  }
  return out;
}

// Go's strconv.ParseBool.
std::optional<bool> parse_bool(std::string_view v) {
  for (auto t : {"1", "t", "T", "TRUE", "true", "True"})
    if (v == t) return true;
  for (auto f : {"0", "f", "F", "FALSE", "false", "False"})
    if (v == f) return false;
  return std::nullopt;
}

std::optional<uint64_t> parse_unsigned(std::string_view v, int base, uint64_t max) {
  if (v.empty()) return std::nullopt;
  uint64_t n = 0;
  for (char c : v) {
    int d = c >= '0' && c <= '9' ? c - '0' : base;
    if (d >= base) return std::nullopt;
    n = n * base + d;
    if (n > max) return std::nullopt;
  }
  return n;
}

// docker's units.RAMInBytes: "64m", "1.5g", "512kb", "2KiB", "100" (bytes);
// k, m, g, t, p are powers of 1024.
std::optional<uint64_t> ram_in_bytes(std::string_view v) {
  size_t n = 0;
  while (n < v.size() && ((v[n] >= '0' && v[n] <= '9') || v[n] == '.')) ++n;
  if (n == 0 || v[0] == '.') return std::nullopt;
  double number = std::stod(std::string(v.substr(0, n)));
  std::string unit = to_lower(v.substr(n));
  if (!unit.empty() && unit[0] == ' ') unit.erase(0, 1);
  static const std::string kPowers = "kmgtp";
  size_t power = 0;
  if (!unit.empty() && kPowers.find(unit[0]) != std::string::npos) {
    power = kPowers.find(unit[0]) + 1;
    unit.erase(0, 1);
  }
  if (!unit.empty() && unit[0] == 'i') unit.erase(0, 1);
  if (unit == "b") unit.clear();
  if (!unit.empty()) return std::nullopt;
  for (size_t p = 0; p < power; ++p) number *= 1024;
  if (number >= 1.8e19) return std::nullopt;
  return static_cast<uint64_t>(number);
}

const char* type_name(MountType t) {
  switch (t) {
    case MountType::kBind:
      return "bind";
    case MountType::kCache:
      return "cache";
    case MountType::kTmpfs:
      return "tmpfs";
    case MountType::kSecret:
      return "secret";
    case MountType::kSsh:
      return "ssh";
  }
  return "bind";
}

}  // namespace

RunMount parse_run_mount(std::string_view spec, const EnvLookup* env, char escape) {
  RunMount m;
  bool readonly_given = false;
  bool deferred = false;  // a value with a variable, checked when expanded
  for (const auto& field : csv_fields(spec)) {
    auto eq = field.find('=');
    std::string key = to_lower(field.substr(0, eq));
    if (eq == std::string::npos) {
      if (key == "readonly" || key == "ro" || key == "readwrite" || key == "rw") {
        m.readonly = key == "readonly" || key == "ro";
        readonly_given = true;
      } else if (key == "required") {
        if (m.type != MountType::kSecret && m.type != MountType::kSsh)
          throw Error(fmt::format("unexpected key '{}' for mount type '{}'", key, type_name(m.type)));
        m.required = true;
      } else {
        throw Error(fmt::format("invalid field '{}' must be a key=value pair", field));
      }
      continue;
    }
    std::string value = field.substr(eq + 1);
    if (env) {
      value = expand_word(value, *env, {.escape = escape});
    } else if (size_t dollar = value.find('$'); dollar != std::string::npos) {
      if (key == "from" && dollar + 1 != value.size())
        throw Error(fmt::format("'{}' doesn't support variable expansion, define alias stage instead", key));
      if (key != "from") {
        deferred = true;
        if (key == "target" || key == "dst" || key == "destination")
          m.target = value;
        else if (key == "source" || key == "src")
          m.source = value;
        else if (key == "id")
          m.id = value;
        continue;
      }
    }
    auto bad_value = [&] { return Error(fmt::format("invalid value for {}: {}", key, value)); };
    auto not_for_type = [&] {
      return Error(fmt::format("unexpected key '{}' for mount type '{}'", key, type_name(m.type)));
    };
    if (key == "type") {
      std::string t = to_lower(value);
      if (t == "bind")
        m.type = MountType::kBind;
      else if (t == "cache")
        m.type = MountType::kCache;
      else if (t == "tmpfs")
        m.type = MountType::kTmpfs;
      else if (t == "secret")
        m.type = MountType::kSecret;
      else if (t == "ssh")
        m.type = MountType::kSsh;
      else
        throw Error(fmt::format("unsupported mount type {:?}", value));
    } else if (key == "from") {
      m.from = value;
    } else if (key == "source" || key == "src") {
      m.source = value;
    } else if (key == "target" || key == "dst" || key == "destination") {
      m.target = value;
    } else if (key == "readonly" || key == "ro" || key == "readwrite" || key == "rw") {
      auto b = parse_bool(value);
      if (!b) throw bad_value();
      m.readonly = (key == "readonly" || key == "ro") ? *b : !*b;
      readonly_given = true;
    } else if (key == "required") {
      if (m.type != MountType::kSecret && m.type != MountType::kSsh) throw not_for_type();
      auto b = parse_bool(value);
      if (!b) throw bad_value();
      m.required = *b;
    } else if (key == "size") {
      if (m.type != MountType::kTmpfs) throw not_for_type();
      m.size = ram_in_bytes(value);
      if (!m.size) throw bad_value();
    } else if (key == "id") {
      m.id = value;
    } else if (key == "sharing") {
      std::string s = to_lower(value);
      if (s == "shared")
        m.sharing = CacheSharing::kShared;
      else if (s == "private")
        m.sharing = CacheSharing::kPrivate;
      else if (s == "locked")
        m.sharing = CacheSharing::kLocked;
      else
        throw Error(fmt::format("unsupported sharing value {:?}", value));
    } else if (key == "mode" || key == "uid" || key == "gid") {
      auto n = parse_unsigned(value, key == "mode" ? 8 : 10, UINT32_MAX);
      if (!n) throw Error(fmt::format("invalid value {} for {}", value, key));
      (key == "mode" ? m.mode : key == "uid" ? m.uid : m.gid) = static_cast<uint32_t>(*n);
    } else if (key == "env") {
      m.env = value;
    } else {
      throw Error(fmt::format("unexpected key '{}' in '{}'", key, field));
    }
  }

  if (!readonly_given) m.readonly = m.type != MountType::kCache && m.type != MountType::kTmpfs;
  if (deferred) return m;
  bool file_info = m.type == MountType::kSecret || m.type == MountType::kSsh || m.type == MountType::kCache;
  if (!file_info) {
    for (auto [name, set] :
         {std::pair{"mode", m.mode.has_value()}, {"uid", m.uid.has_value()}, {"gid", m.gid.has_value()}})
      if (set) throw Error(fmt::format("{} not allowed for {:?} type mounts", name, type_name(m.type)));
  }
  if (m.type == MountType::kSecret) {
    if (!m.from.empty()) throw Error("secret mount should not have a from");
    if (m.sharing) throw Error("secret mount should not define sharing");
    if (m.source.empty() && m.target.empty() && m.id.empty())
      throw Error("invalid secret mount. one of source, target required");
    if (!m.source.empty() && !m.id.empty()) throw Error("both source and id can't be set");
  }
  if (m.sharing && m.type != MountType::kCache)
    throw Error(fmt::format("invalid cache sharing set for {} mount", type_name(m.type)));
  return m;
}

}  // namespace skiff::build
