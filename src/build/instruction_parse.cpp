#include "build/instruction_parse.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>
#include <span>

#include "build/dockerfile_text.hpp"
#include "skiff/util/error.hpp"

// The rules are BuildKit's (frontend/dockerfile/parser and instructions),
// messages included, since people search for them.
namespace skiff::build::detail {

namespace {

constexpr std::array<std::string_view, 18> kInstructions = {
    "ADD",   "ARG",        "CMD",     "COPY", "ENTRYPOINT", "ENV",        "EXPOSE", "FROM",   "HEALTHCHECK",
    "LABEL", "MAINTAINER", "ONBUILD", "RUN",  "SHELL",      "STOPSIGNAL", "USER",   "VOLUME", "WORKDIR",
};

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// "did you mean COPY?" for a name within two edits of a known one, in the
// case the user wrote.
std::string suggestion(std::string_view written, std::span<const std::string_view> known) {
  std::string upper = to_upper(written);
  std::string best;
  size_t best_distance = 3;
  for (auto k : known) {
    size_t d = edit_distance(upper, to_upper(k));
    if (d < best_distance) best = std::string(k), best_distance = d;
  }
  if (best.empty()) return {};
  if (written == to_lower(written)) best = to_lower(best);
  return fmt::format("did you mean {}?", best);
}

// Docker's builder flags: --name=value, --bool[=true|false], repeatable lists.
class FlagSet {
 public:
  enum class Kind { kBool, kString, kList };

  explicit FlagSet(const std::vector<std::string>& args) : args_(args) {}

  void add(std::string name, Kind kind) { kinds_[std::move(name)] = kind; }

  void parse() {
    for (const auto& a : args_) {
      if (a == "--") return;
      auto eq = a.find('=');
      std::string flag = a.substr(0, eq);
      std::string name = flag.substr(2);
      auto kind = kinds_.find(name);
      if (kind == kinds_.end()) {
        std::vector<std::string_view> names;
        for (auto& [n, k] : kinds_) names.push_back(n);
        throw Error(fmt::format("unknown flag: {}", flag), 0, suggestion(name, names));
      }
      if (values_.count(name) && kind->second != Kind::kList)
        throw Error(fmt::format("duplicate flag specified: {}", flag));
      std::string value = eq == std::string::npos ? "" : a.substr(eq + 1);
      auto& slot = values_[name];
      switch (kind->second) {
        case Kind::kBool: {
          if (eq != std::string::npos && value.empty()) throw Error(fmt::format("missing a value on flag: {}", flag));
          std::string v = to_lower(value);
          if (v != "" && v != "true" && v != "false")
            throw Error(fmt::format("expecting boolean value for flag {}, not: {}", flag, value));
          slot.push_back(v == "false" ? "false" : "true");
          break;
        }
        case Kind::kString:
        case Kind::kList:
          if (eq == std::string::npos) throw Error(fmt::format("missing a value on flag: {}", flag));
          slot.push_back(value);
          break;
      }
    }
  }

  bool used(const std::string& name) const { return values_.count(name) > 0; }
  std::string string(const std::string& name, std::string fallback = {}) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second.back();
  }
  std::vector<std::string> list(const std::string& name) const {
    auto it = values_.find(name);
    return it == values_.end() ? std::vector<std::string>{} : it->second;
  }
  bool boolean(const std::string& name) const { return string(name) == "true"; }
  std::optional<bool> optional_boolean(const std::string& name) const {
    if (!used(name)) return std::nullopt;
    return boolean(name);
  }

 private:
  const std::vector<std::string>& args_;
  std::map<std::string, Kind> kinds_;
  std::map<std::string, std::vector<std::string>> values_;
};

// Words of ENV, LABEL and ARG: white space separates unless quoted or
// escaped; quotes and escapes stay, for expand_word to process later.
std::vector<std::string> quoted_words(std::string_view rest, char escape) {
  std::vector<std::string> words;
  std::string buf;
  enum { kSpaces, kWord, kQuote } phase = kSpaces;
  char quote = 0;
  bool blank_ok = false;
  for (size_t pos = 0; pos <= rest.size(); ++pos) {
    bool end = pos == rest.size();
    char ch = end ? 0 : rest[pos];
    if (phase == kSpaces) {
      if (end) break;
      if (is_space(ch)) continue;
      phase = kWord;
    }
    if (end) {
      if (blank_ok || !buf.empty()) words.push_back(buf);
      break;
    }
    if (phase == kWord) {
      if (is_space(ch)) {
        phase = kSpaces;
        if (blank_ok || !buf.empty()) words.push_back(buf);
        buf.clear();
        blank_ok = false;
        continue;
      }
      if (ch == '\'' || ch == '"') {
        quote = ch;
        blank_ok = true;
        phase = kQuote;
      }
      if (ch == escape) {
        if (pos + 1 == rest.size()) continue;  // an escape at the end goes
        buf.push_back(ch);
        ch = rest[++pos];
      }
      buf.push_back(ch);
      continue;
    }
    if (ch == quote) phase = kWord;
    if (ch == escape && quote != '\'') {  // nothing is escaped in single quotes
      if (pos + 1 == rest.size()) {
        phase = kWord;
        continue;
      }
      buf.push_back(ch);
      ch = rest[++pos];
    }
    buf.push_back(ch);
  }
  return words;
}

// Exec form: a JSON array of strings. nullopt when rest is not JSON, which
// makes it shell form; a JSON array holding anything else is an error.
std::optional<std::vector<std::string>> json_array(std::string_view rest) {
  std::string_view text = trim_left(rest);
  if (text.empty() || text[0] != '[') return std::nullopt;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& v : j) {
    if (!v.is_string()) throw Error("when using JSON array syntax, arrays must be comprised of strings only");
    out.push_back(v.get<std::string>());
  }
  return out;
}

CommandLine command_line(std::string_view rest) {
  if (rest.empty()) return {};
  if (auto args = json_array(rest)) return {.args = std::move(*args), .json = true};
  return {.args = {std::string(rest)}, .json = false};
}

// COPY, ADD, VOLUME: a JSON array, or words split at white space.
std::vector<std::string> json_or_words(std::string_view rest, bool* json = nullptr) {
  auto args = json_array(rest);
  if (json) *json = args.has_value();
  return args ? std::move(*args) : split_blanks(rest);
}

[[noreturn]] void need_one(std::string_view keyword) {
  throw Error(fmt::format("{} requires exactly one argument", keyword));
}
[[noreturn]] void need_some(std::string_view keyword) {
  throw Error(fmt::format("{} requires at least one argument", keyword));
}

// ENV and LABEL: "k=v k2=v2", or the legacy "k v" with all of the rest as v.
std::vector<KeyValue> key_values(std::string_view keyword, std::string_view rest, char escape) {
  auto words = quoted_words(rest, escape);
  if (words.empty()) need_some(keyword);
  std::vector<KeyValue> out;
  if (words[0].find('=') == std::string::npos) {
    auto parts = split_blanks(rest, 2);
    if (parts.size() < 2) throw Error(fmt::format("{} must have two arguments", keyword));
    out.push_back({parts[0], parts[1]});
  } else {
    for (const auto& w : words) {
      auto eq = w.find('=');
      if (eq == std::string::npos)
        throw Error(fmt::format("Syntax error - can't find = in {:?}. Must be of the form: name=value", w));
      out.push_back({w.substr(0, eq), w.substr(eq + 1)});
    }
  }
  for (const auto& kv : out)
    if (kv.key.empty()) throw Error(fmt::format("{} names can not be blank", keyword));
  return out;
}

FromInstruction parse_from(const SplitLine& s, FlagSet& flags) {
  flags.add("platform", FlagSet::Kind::kString);
  flags.parse();
  auto args = split_blanks(s.rest);
  if (args.empty()) throw Error("FROM requires at least one argument");
  FromInstruction from{.base = args[0], .platform = flags.string("platform")};
  if (args.size() == 3 && to_lower(args[1]) == "as") {
    from.name = to_lower(args[2]);
    bool valid = std::islower(static_cast<unsigned char>(from.name[0])) &&
                 std::all_of(from.name.begin(), from.name.end(), [](char c) {
                   return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
                          c == '-' || c == '_' || c == '.';
                 });
    if (!valid)
      throw Error(fmt::format("invalid name for build stage: {:?}, name can't start with a number or contain symbols",
                              args[2]));
  } else if (args.size() != 1) {
    throw Error("FROM requires either one or three arguments");
  }
  return from;
}

RunInstruction parse_run(const SplitLine& s, FlagSet& flags, std::vector<Heredoc> heredocs, char escape) {
  flags.add("mount", FlagSet::Kind::kList);
  flags.add("network", FlagSet::Kind::kString);
  flags.add("security", FlagSet::Kind::kString);
  flags.parse();
  RunInstruction run{.command = command_line(s.rest), .heredocs = std::move(heredocs)};
  if (run.command.args.empty()) need_some("RUN");
  run.network = flags.string("network", "default");
  if (run.network != "default" && run.network != "none" && run.network != "host")
    throw Error(fmt::format("invalid network mode {:?}", run.network));
  run.security = flags.string("security", "sandbox");
  if (run.security != "sandbox" && run.security != "insecure")
    throw Error(fmt::format("security {:?} is not valid", run.security));
  for (const auto& m : flags.list("mount")) run.mounts.push_back(parse_run_mount(m, nullptr, escape));
  return run;
}

CopyInstruction parse_copy(const SplitLine& s, FlagSet& flags, bool add, const std::vector<Heredoc>& heredocs) {
  std::string keyword = add ? "ADD" : "COPY";
  for (auto name : {"chown", "chmod"}) flags.add(name, FlagSet::Kind::kString);
  flags.add("link", FlagSet::Kind::kBool);
  flags.add("exclude", FlagSet::Kind::kList);
  if (add) {
    flags.add("checksum", FlagSet::Kind::kString);
    flags.add("keep-git-dir", FlagSet::Kind::kBool);
    flags.add("unpack", FlagSet::Kind::kBool);
  } else {
    flags.add("from", FlagSet::Kind::kString);
    flags.add("parents", FlagSet::Kind::kBool);
  }
  flags.parse();
  bool json = false;
  auto args = json_or_words(s.rest, &json);
  if (args.size() < 2)
    throw Error(
        fmt::format("{} requires at least two arguments, but only one was provided. "
                    "Destination could not be determined",
                    keyword));
  CopyInstruction copy{.add = add,
                       .dest = args.back(),
                       .from = flags.string("from"),
                       .chown = flags.string("chown"),
                       .chmod = flags.string("chmod"),
                       .link = flags.boolean("link"),
                       .parents = flags.boolean("parents"),
                       .excludes = flags.list("exclude"),
                       .checksum = flags.string("checksum"),
                       .keep_git_dir = flags.optional_boolean("keep-git-dir"),
                       .unpack = flags.optional_boolean("unpack")};
  if (!json && parse_heredoc_word(copy.dest))
    throw Error(fmt::format("{} cannot accept a heredoc as a destination", keyword));
  args.pop_back();
  for (auto& src : args) {
    auto doc = json ? std::nullopt : parse_heredoc_word(src);
    if (!doc) {
      copy.sources.push_back(std::move(src));
      continue;
    }
    auto body = std::find_if(heredocs.begin(), heredocs.end(), [&](const Heredoc& h) { return h.name == doc->name; });
    if (body != heredocs.end()) doc->content = body->content;
    copy.heredocs.push_back(std::move(*doc));
  }
  return copy;
}

// Go's time.ParseDuration, as HEALTHCHECK takes it: "30s", "1m30s", "1.5h".
std::chrono::nanoseconds parse_duration(const std::string& flag, const std::string& text) {
  static const std::map<std::string, double, std::less<>> kUnits = {
      {"ns", 1}, {"us", 1e3}, {"\u00b5s", 1e3}, {"\u03bcs", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9},
  };
  auto bad = [&] { return Error(fmt::format("time: invalid duration {:?}", text)); };
  std::string_view s = text;
  double sign = 1;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    if (s[0] == '-') sign = -1;
    s.remove_prefix(1);
  }
  if (s == "0") return std::chrono::nanoseconds(0);
  if (s.empty()) throw bad();
  double total = 0;
  while (!s.empty()) {
    size_t n = 0;
    while (n < s.size() && (std::isdigit(static_cast<unsigned char>(s[n])) || s[n] == '.')) ++n;
    if (n == 0 || s.substr(0, n) == ".") throw bad();
    // "1..2" or 400 digits: Go's time.ParseDuration refuses them too, and
    // std::stod's exceptions are not Errors.
    double number = 0;
    try {
      number = std::stod(std::string(s.substr(0, n)));
    } catch (const std::logic_error&) {
      throw bad();
    }
    s.remove_prefix(n);
    size_t u = 0;
    while (u < s.size() && !std::isdigit(static_cast<unsigned char>(s[u])) && s[u] != '.') ++u;
    auto unit = kUnits.find(s.substr(0, u));
    if (unit == kUnits.end()) throw bad();
    total += number * unit->second;
    s.remove_prefix(u);
  }
  if (total > 9.2e18) throw bad();
  std::chrono::nanoseconds d(static_cast<int64_t>(sign * total));
  if (d != std::chrono::nanoseconds(0) && d < std::chrono::milliseconds(1))
    throw Error(fmt::format("Interval {:?} cannot be less than 1ms", flag));
  return d;
}

HealthcheckInstruction parse_healthcheck(const SplitLine& s, FlagSet& flags) {
  if (s.rest.empty()) need_some("HEALTHCHECK");
  size_t sep = 0;
  while (sep < s.rest.size() && !is_space(s.rest[sep])) ++sep;
  std::string type = to_upper(s.rest.substr(0, sep));
  auto cmd = command_line(trim(std::string_view(s.rest).substr(sep)));
  HealthcheckInstruction hc;
  if (type == "NONE") {
    if (!cmd.args.empty()) throw Error("HEALTHCHECK NONE takes no arguments");
    hc.test = {"NONE"};
    return hc;
  }
  for (auto name : {"interval", "timeout", "start-period", "start-interval", "retries"})
    flags.add(name, FlagSet::Kind::kString);
  flags.parse();
  if (type != "CMD") throw Error(fmt::format("Unknown type {:?} in HEALTHCHECK (try CMD)", type));
  if (cmd.args.empty()) throw Error("Missing command after HEALTHCHECK CMD");
  hc.test = {cmd.json ? "CMD" : "CMD-SHELL"};
  hc.test.insert(hc.test.end(), cmd.args.begin(), cmd.args.end());
  auto duration = [&](const char* name) {
    std::string v = flags.string(name);
    return v.empty() ? std::chrono::nanoseconds(0) : parse_duration(name, v);
  };
  hc.interval = duration("interval");
  hc.timeout = duration("timeout");
  hc.start_period = duration("start-period");
  hc.start_interval = duration("start-interval");
  if (std::string r = flags.string("retries"); !r.empty()) {
    long long n = 0;
    size_t used = 0;
    try {
      n = std::stoll(r, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != r.size() || n > INT32_MAX || n < INT32_MIN)
      throw Error(fmt::format("invalid value {:?} for --retries", r));
    if (n < 0) throw Error(fmt::format("--retries cannot be negative ({})", n));
    hc.retries = static_cast<int>(n);
  }
  return hc;
}

OnbuildInstruction parse_onbuild(const SplitLine& s, const std::vector<Heredoc>& heredocs, char escape) {
  if (s.rest.empty()) need_some("ONBUILD");
  std::string trigger = to_upper(split_command(s.rest, escape).keyword);
  if (trigger == "ONBUILD") throw Error("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  if (trigger == "MAINTAINER" || trigger == "FROM")
    throw Error(fmt::format("{} isn't allowed as an ONBUILD trigger", trigger));
  // The image config keeps the trigger as text, heredoc bodies included.
  std::string expression = s.rest;
  for (const auto& h : heredocs) expression += "\n" + h.content + h.name;
  return {.expression = std::move(expression),
          .trigger = std::make_shared<const Instruction>(parse_instruction(s.rest, heredocs, escape))};
}

InstructionBody parse_body(const std::string& keyword, const SplitLine& s, std::vector<Heredoc> heredocs, char escape) {
  FlagSet flags(s.flags);
  auto no_flags = [&] { flags.parse(); };
  if (keyword == "FROM") return parse_from(s, flags);
  if (keyword == "RUN") return parse_run(s, flags, std::move(heredocs), escape);
  if (keyword == "COPY" || keyword == "ADD") return parse_copy(s, flags, keyword == "ADD", heredocs);
  if (keyword == "HEALTHCHECK") return parse_healthcheck(s, flags);
  no_flags();
  if (keyword == "CMD") return CmdInstruction{command_line(s.rest)};
  if (keyword == "ENTRYPOINT") return EntrypointInstruction{command_line(s.rest)};
  if (keyword == "SHELL") {
    auto cmd = command_line(s.rest);
    if (cmd.args.empty()) need_some("SHELL");
    if (!cmd.json) throw Error("SHELL requires the arguments to be in JSON form");
    return ShellInstruction{std::move(cmd.args)};
  }
  if (keyword == "ENV") return EnvInstruction{key_values(keyword, s.rest, escape)};
  if (keyword == "LABEL") return LabelInstruction{key_values(keyword, s.rest, escape)};
  if (keyword == "ARG") {
    auto words = quoted_words(s.rest, escape);
    if (words.empty()) need_some("ARG");
    ArgInstruction arg;
    for (auto& w : words) {
      auto eq = w.find('=');
      if (eq == 0) throw Error("ARG names can not be blank");
      if (eq == std::string::npos)
        arg.args.push_back({.name = std::move(w)});
      else
        arg.args.push_back({.name = w.substr(0, eq), .value = w.substr(eq + 1)});
    }
    return arg;
  }
  if (keyword == "EXPOSE") {
    if (s.rest.empty()) need_some("EXPOSE");
    return ExposeInstruction{split_blanks(s.rest)};
  }
  if (keyword == "VOLUME") {
    auto paths = json_or_words(s.rest);
    if (paths.empty()) need_some("VOLUME");
    for (auto& p : paths) {
      p = std::string(trim(p));
      if (p.empty()) throw Error("VOLUME specified can not be an empty string");
    }
    return VolumeInstruction{std::move(paths)};
  }
  if (keyword == "ONBUILD") return parse_onbuild(s, heredocs, escape);
  // The rest take the whole line as their one argument.
  if (s.rest.empty()) need_one(keyword);
  if (keyword == "WORKDIR") return WorkdirInstruction{s.rest};
  if (keyword == "USER") return UserInstruction{s.rest};
  if (keyword == "STOPSIGNAL") return StopSignalInstruction{s.rest};
  return MaintainerInstruction{s.rest};
}

}  // namespace

SplitLine split_command(std::string_view line, char escape) {
  line = trim(line);
  size_t end = 0;
  while (end < line.size() && !is_blank(line[end])) ++end;
  SplitLine out{.keyword = std::string(line.substr(0, end))};
  std::string_view rest = line.substr(end);
  // Leading words that start with "--" are flags, up to a lone "--".
  std::string buf;
  enum { kSpaces, kWord, kQuote } phase = kSpaces;
  char quote = 0;
  bool blank_ok = false;
  for (size_t pos = 0; pos <= rest.size(); ++pos) {
    bool at_end = pos == rest.size();
    char ch = at_end ? 0 : rest[pos];
    if (phase == kSpaces) {
      if (at_end) break;
      if (is_space(ch)) continue;
      if (ch != '-' || pos + 1 == rest.size() || rest[pos + 1] != '-') {
        out.rest = std::string(trim(rest.substr(pos)));
        return out;
      }
      phase = kWord;
    }
    if (at_end) {
      if (buf != "--" && (blank_ok || !buf.empty())) out.flags.push_back(buf);
      break;
    }
    if (phase == kWord) {
      if (is_space(ch)) {
        phase = kSpaces;
        if (buf == "--") {
          out.rest = std::string(trim(rest.substr(pos)));
          return out;
        }
        if (blank_ok || !buf.empty()) out.flags.push_back(buf);
        buf.clear();
        blank_ok = false;
        continue;
      }
      if (ch == '\'' || ch == '"') {
        quote = ch;
        blank_ok = true;
        phase = kQuote;
        continue;
      }
    } else if (ch == quote) {
      phase = kWord;
      continue;
    }
    if (ch == escape) {
      if (pos + 1 == rest.size()) {
        phase = kWord;
        continue;
      }
      ch = rest[++pos];
    }
    buf.push_back(ch);
  }
  return out;
}

bool may_have_heredocs(std::string_view line, char escape) {
  auto s = split_command(line, escape);
  std::string keyword = to_upper(s.keyword);
  if (keyword == "ONBUILD") return may_have_heredocs(s.rest, escape);
  if (keyword != "RUN" && keyword != "COPY" && keyword != "ADD") return false;
  try {
    return !json_array(s.rest);
  } catch (const Error&) {
    return false;  // a JSON array, if a wrong one
  }
}

std::optional<Heredoc> parse_heredoc_word(std::string_view word) {
  // ^(\d*)<<(-?)\s*([^<]*)$
  size_t i = 0;
  while (i < word.size() && std::isdigit(static_cast<unsigned char>(word[i]))) ++i;
  if (word.substr(i, 2) != "<<") return std::nullopt;
  Heredoc doc;
  // Go's ParseUint, its error ignored: a number too large is no fd.
  if (i > 0 && i < 10) doc.fd = std::stoi(std::string(word.substr(0, i)));
  i += 2;
  if (i < word.size() && word[i] == '-') doc.chomp = true, ++i;
  while (i < word.size() && is_space(word[i])) ++i;
  std::string_view rest = word.substr(i);
  if (rest.empty() || rest.find('<') != std::string_view::npos) return std::nullopt;
  // Any quoting in the delimiter turns expansion off: compare the quote
  // characters left with quotes processed and with quotes kept.
  WordOptions plain{.keep_unset = true};
  auto words = expand_words(rest, {}, plain);
  if (words.size() != 1) return std::nullopt;
  WordOptions raw = plain;
  raw.keep_quotes = true;
  auto raw_words = expand_words(rest, {}, raw);
  if (raw_words.size() != 1)
    throw Error(fmt::format("internal lexing of heredoc produced inconsistent results: {}", rest));
  auto quotes = [](const std::string& w) {
    return std::count_if(w.begin(), w.end(), [](char c) { return c == '\'' || c == '"'; });
  };
  doc.name = words[0];
  doc.expand = quotes(words[0]) == quotes(raw_words[0]);
  return doc;
}

std::vector<Heredoc> heredocs_in_line(std::string_view line) {
  std::vector<std::string> words;
  try {
    words = expand_words(line, {}, {.keep_quotes = true, .keep_escapes = true, .keep_unset = true});
  } catch (const Error&) {
    return {};  // docker finds no heredocs on a line it cannot split
  }
  std::vector<Heredoc> out;
  for (const auto& w : words)
    if (auto doc = parse_heredoc_word(w)) out.push_back(std::move(*doc));
  return out;
}

Instruction parse_instruction(std::string_view line, std::vector<Heredoc> heredocs, char escape) {
  auto s = split_command(line, escape);
  std::string keyword = to_upper(s.keyword);
  if (std::find(kInstructions.begin(), kInstructions.end(), keyword) == kInstructions.end())
    throw Error(fmt::format("unknown instruction: {}", s.keyword), 0, suggestion(s.keyword, kInstructions));
  Instruction ins{.keyword = keyword, .text = std::string(trim(line)), .flags = s.flags};
  ins.body = parse_body(keyword, s, std::move(heredocs), escape);
  return ins;
}

}  // namespace skiff::build::detail
