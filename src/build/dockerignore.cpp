#include "skiff/build/dockerignore.hpp"

#include <algorithm>
#include <optional>

#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

// Patterns behave as in moby/patternmatcher, which turns each into a regular
// expression: "*" is [^/]*, "?" is [^/], "**/" is (.*/)?, a final "**" is
// .*, and a pattern that is only text (or text then "**", or "**" then text)
// is compared as a string, which makes "**foo" match "xfoo" too. Before
// that, Go's filepath.Match checks the syntax, so "[a" or a final "\" are
// errors.
namespace skiff::build {

namespace {

std::u32string decode_utf8(std::string_view s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    if (n == 1 || i + n > s.size()) {
      out.push_back(c);
      ++i;
      continue;
    }
    char32_t cp = c & (0x3f >> (n - 1));
    for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    out.push_back(cp);
    i += n;
  }
  return out;
}

std::string_view trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

[[noreturn]] void syntax_error(std::string_view pattern) {
  throw Error(fmt::format("syntax error in pattern {:?}", pattern));
}

}  // namespace

DockerIgnore::Pattern DockerIgnore::compile(std::string text, bool exception) {
  Pattern p{.text = std::move(text), .exception = exception};
  std::u32string cps = decode_utf8(p.text);
  size_t n = cps.size();
  auto literal = [&](char32_t c) { p.tokens.push_back({.kind = TokenKind::kLiteral, .ch = c}); };
  for (size_t k = 0, step = 0; k < n; ++step) {
    char32_t c = cps[k++];
    if (c == '*') {
      if (k < n && cps[k] == '*') {
        ++k;
        if (k < n && cps[k] == '/') ++k;  // "**/" is "**"
        if (k == n) {
          if (p.kind == Kind::kExact) {
            p.kind = Kind::kPrefix;
          } else {
            p.tokens.push_back({.kind = TokenKind::kRest});
            p.kind = Kind::kGlob;
          }
        } else {
          p.tokens.push_back({.kind = TokenKind::kDirs});
          p.kind = Kind::kGlob;
        }
        if (step == 0) p.kind = Kind::kSuffix;
      } else {
        p.tokens.push_back({.kind = TokenKind::kStar});
        p.kind = Kind::kGlob;
      }
    } else if (c == '?') {
      p.tokens.push_back({.kind = TokenKind::kAnyChar});
      p.kind = Kind::kGlob;
    } else if (c == '\\') {
      if (k == n) syntax_error(p.text);
      literal(cps[k++]);
      p.kind = Kind::kGlob;
    } else if (c == '[') {
      // Go's grammar: '[' ['^'] { char | char '-' char } ']', not empty,
      // where char may be "\x" and is neither '-' nor ']' unescaped.
      Token t{.kind = TokenKind::kClass};
      if (k < n && cps[k] == '^') t.negated = true, ++k;
      auto class_char = [&]() -> char32_t {
        if (k == n || cps[k] == '-' || cps[k] == ']') syntax_error(p.text);
        if (cps[k] == '\\' && ++k == n) syntax_error(p.text);
        char32_t ch = cps[k++];
        if (k == n) syntax_error(p.text);
        return ch;
      };
      for (;;) {
        if (k < n && cps[k] == ']' && !t.ranges.empty()) {
          ++k;
          break;
        }
        char32_t lo = class_char(), hi = lo;
        if (cps[k] == '-') {
          ++k;
          hi = class_char();
          if (hi < lo) syntax_error(p.text);
        }
        t.ranges.emplace_back(lo, hi);
      }
      p.tokens.push_back(std::move(t));
      p.kind = Kind::kGlob;
    } else if (c == ']') {
      literal(c);
      p.kind = Kind::kGlob;
    } else {
      literal(c);
    }
  }
  return p;
}

bool DockerIgnore::Pattern::matches(std::string_view path) const {
  switch (kind) {
    case Kind::kExact:
      return path == text;
    case Kind::kPrefix:
      return path.substr(0, text.size() - 2) == std::string_view(text).substr(0, text.size() - 2);
    case Kind::kSuffix: {
      std::string_view suffix = std::string_view(text).substr(2);
      if (path.size() >= suffix.size() && path.substr(path.size() - suffix.size()) == suffix) return true;
      return !suffix.empty() && suffix[0] == '/' && path == suffix.substr(1);
    }
    case Kind::kGlob:
      break;
  }
  std::u32string s = decode_utf8(path);
  size_t width = s.size() + 1;
  // memo[t * width + i]: 0 unknown, 1 no, 2 yes: tokens from t match s from i.
  std::vector<uint8_t> memo((tokens.size() + 1) * width, 0);
  auto match = [&](auto& self, size_t t, size_t i) -> bool {
    if (t == tokens.size()) return i == s.size();
    uint8_t& m = memo[t * width + i];
    if (m) return m == 2;
    const Token& tok = tokens[t];
    bool ok = false;
    switch (tok.kind) {
      case TokenKind::kLiteral:
        ok = i < s.size() && s[i] == tok.ch && self(self, t + 1, i + 1);
        break;
      case TokenKind::kAnyChar:
        ok = i < s.size() && s[i] != '/' && self(self, t + 1, i + 1);
        break;
      case TokenKind::kClass: {
        bool in = i < s.size() && std::any_of(tok.ranges.begin(), tok.ranges.end(),
                                              [&](auto& r) { return r.first <= s[i] && s[i] <= r.second; });
        ok = i < s.size() && in != tok.negated && self(self, t + 1, i + 1);
        break;
      }
      case TokenKind::kStar:
        for (size_t j = i;; ++j) {
          if (self(self, t + 1, j)) {
            ok = true;
            break;
          }
          if (j == s.size() || s[j] == '/') break;
        }
        break;
      case TokenKind::kDirs:  // (.*/)?
        ok = self(self, t + 1, i);
        for (size_t j = i; !ok && j < s.size(); ++j)
          if (s[j] == '/') ok = self(self, t + 1, j + 1);
        break;
      case TokenKind::kRest:
        for (size_t j = i; !ok && j <= s.size(); ++j) ok = self(self, t + 1, j);
        break;
    }
    m = ok ? 2 : 1;
    return ok;
  };
  return match(match, 0, 0);
}

DockerIgnore::DockerIgnore(const std::vector<std::string>& patterns) {
  for (const auto& raw : patterns) {
    std::string_view t = trim(raw);
    if (t.empty()) continue;
    std::string p = clean_path(t);
    bool exception = p[0] == '!';
    if (exception) {
      if (p.size() == 1) throw Error("illegal exclusion pattern: \"!\"");
      p.erase(0, 1);
    }
    patterns_.push_back(compile(std::move(p), exception));
  }
}

namespace {

// One line of a .dockerignore as a pattern; nullopt for comments and blanks.
std::optional<std::string> ignore_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (!line.empty() && line[0] == '#') return std::nullopt;
  line = trim(line);
  if (line.empty()) return std::nullopt;
  bool invert = line[0] == '!';
  if (invert) line = trim(line.substr(1));
  std::string pattern;
  if (!line.empty()) {
    // Absolute paths are relative to the context: "/x" is "x".
    pattern = clean_path(line);
    if (pattern.size() > 1 && pattern[0] == '/') pattern.erase(0, 1);
  }
  return invert ? "!" + pattern : pattern;
}

// Calls fn(line number, line) for each line, a UTF-8 BOM removed.
template <typename Fn>
void for_each_line(std::string_view text, Fn fn) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  for (int line_no = 1; !text.empty(); ++line_no) {
    size_t nl = text.find('\n');
    fn(line_no, text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  }
}

}  // namespace

std::vector<std::string> read_dockerignore(std::string_view text) {
  std::vector<std::string> out;
  for_each_line(text, [&](int, std::string_view line) {
    if (auto p = ignore_line(line)) out.push_back(std::move(*p));
  });
  return out;
}

DockerIgnore DockerIgnore::parse(std::string_view text, std::string_view file_name) {
  DockerIgnore out;
  for_each_line(text, [&](int line_no, std::string_view line) {
    auto p = ignore_line(line);
    if (!p) return;
    try {
      DockerIgnore one({*p});
      for (auto& pattern : one.patterns_) out.patterns_.push_back(std::move(pattern));
    } catch (const Error& e) {
      throw e.with_context(fmt::format("{}:{}", file_name, line_no));
    }
  });
  return out;
}

bool DockerIgnore::excluded(std::string_view path) const {
  std::string p = clean_path(path);
  while (!p.empty() && p[0] == '/') p.erase(0, 1);
  if (p.empty() || p == ".") return false;
  // Every ancestor directory, shortest first: "a", "a/b" for "a/b/c".
  std::vector<std::string_view> parents;
  for (size_t slash = p.find('/'); slash != std::string::npos; slash = p.find('/', slash + 1))
    parents.push_back(std::string_view(p).substr(0, slash));
  bool matched = false;
  for (const auto& pattern : patterns_) {
    // An exclusion only matters while nothing is excluded, an exception
    // only once something is.
    if (pattern.exception != matched) continue;
    bool m =
        pattern.matches(p) || std::any_of(parents.begin(), parents.end(), [&](auto d) { return pattern.matches(d); });
    if (m) matched = !pattern.exception;
  }
  return matched;
}

bool DockerIgnore::may_contain_exceptions(std::string_view dir) const {
  // BuildKit's walk: an exception with wildcards may match anywhere, so the
  // directory must be walked; otherwise only one that lies under it can.
  auto without_trailing_glob = [](std::string_view t) {
    if (t.size() >= 3 && t.substr(t.size() - 3) == "/**") t.remove_suffix(3);
    if (t.size() >= 2 && t.substr(t.size() - 2) == "/*") t.remove_suffix(2);
    return t;
  };
  bool any = false;
  for (const auto& p : patterns_) {
    if (!p.exception) continue;
    any = true;
    if (without_trailing_glob(p.text).find_first_of("*[]?^\\") != std::string_view::npos) return true;
  }
  if (!any) return false;
  std::string prefix = clean_path(dir) + "/";
  return std::any_of(patterns_.begin(), patterns_.end(), [&](const Pattern& p) {
    return p.exception && (std::string(without_trailing_glob(p.text)) + "/").rfind(prefix, 0) == 0;
  });
}

std::vector<std::string> DockerIgnore::patterns() const {
  std::vector<std::string> out;
  for (const auto& p : patterns_) out.push_back(p.exception ? "!" + p.text : p.text);
  return out;
}

std::vector<std::string> dockerignore_candidates(std::string_view dockerfile_path, std::string_view context_dir) {
  std::vector<std::string> out;
  if (!dockerfile_path.empty() && dockerfile_path != "-") out.push_back(std::string(dockerfile_path) + ".dockerignore");
  std::string root(context_dir.empty() ? "." : context_dir);
  if (root.back() != '/') root += '/';
  out.push_back(root + ".dockerignore");
  return out;
}

}  // namespace skiff::build
