#include "skiff/build/shell_words.hpp"

#include <cctype>
#include <cstring>

#include "skiff/util/error.hpp"

// The behaviour follows BuildKit's frontend/dockerfile/shell lexer, quirks
// included, because Dockerfiles are written against it: "\t" outside quotes
// is "t", inside double quotes a backslash only escapes " $ and itself, an
// escape at the very end of a word disappears, $1 and $@ are always unset.
namespace skiff::build {

namespace {

constexpr int kEnd = -1;

bool is_space(int c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool is_digit(int c) {
  return c >= '0' && c <= '9';
}

// Bytes of the UTF-8 character starting at s[i] (1 for anything malformed).
size_t char_len(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
  return i + n <= s.size() ? n : 1;
}

// A shell pattern of ${v#p}, ${v%p} and ${v/p/r}: * any string, ? one
// character, \* \? \\ literal ones.
class ShellPattern {
 public:
  explicit ShellPattern(std::string_view pattern) {
    for (size_t i = 0; i < pattern.size();) {
      char c = pattern[i];
      if (c == '*' || c == '?') {
        tokens_.push_back({c == '*' ? Kind::kStar : Kind::kOne, {}});
        ++i;
        continue;
      }
      if (c == '\\') {
        // "\}" and "\/" were escapes for the ${} syntax, not for the pattern.
        if (i + 1 < pattern.size() && (pattern[i + 1] == '}' || pattern[i + 1] == '/')) {
          ++i;
          continue;
        }
        if (i + 1 >= pattern.size() || std::strchr("*?\\", pattern[i + 1]) == nullptr) {
          throw Error(fmt::format("invalid pattern ({}) in substitution: invalid escape '\\{}'", pattern,
                                  i + 1 < pattern.size() ? pattern.substr(i + 1, 1) : ""));
        }
        ++i;
      }
      size_t n = char_len(pattern, i);
      tokens_.push_back({Kind::kLiteral, std::string(pattern.substr(i, n))});
      i += n;
    }
  }

  // ends[j] is true when the pattern matches s[start, j).
  std::vector<bool> ends(std::string_view s, size_t start) const {
    std::vector<bool> out(s.size() + 1, false);
    std::vector<bool> states(tokens_.size() + 1, false);
    states[0] = true;
    close(states);
    out[start] = states.back();
    for (size_t j = start; j < s.size();) {
      size_t n = char_len(s, j);
      std::string_view ch = s.substr(j, n);
      std::vector<bool> next(tokens_.size() + 1, false);
      for (size_t t = 0; t < tokens_.size(); ++t) {
        if (!states[t]) continue;
        const Token& tok = tokens_[t];
        if (tok.kind == Kind::kStar)
          next[t] = true;
        else if (tok.kind == Kind::kOne || tok.text == ch)
          next[t + 1] = true;
      }
      close(next);
      states = std::move(next);
      j += n;
      out[j] = states.back();
    }
    return out;
  }

 private:
  enum class Kind { kLiteral, kOne, kStar };
  struct Token {
    Kind kind;
    std::string text;
  };

  // A star may match nothing.
  void close(std::vector<bool>& states) const {
    for (size_t t = 0; t < tokens_.size(); ++t)
      if (states[t] && tokens_[t].kind == Kind::kStar) states[t + 1] = true;
  }

  std::vector<Token> tokens_;
};

// ${v#p} ${v##p}: the shortest (longest) match at the start removed.
std::string trim_prefix(const std::string& value, const ShellPattern& p, bool longest) {
  auto ends = p.ends(value, 0);
  std::optional<size_t> cut;
  for (size_t j = 0; j <= value.size(); ++j) {
    if (!ends[j]) continue;
    cut = j;
    if (!longest) break;
  }
  return cut ? value.substr(*cut) : value;
}

// ${v%p} ${v%%p}: the shortest (longest) match at the end removed.
std::string trim_suffix(const std::string& value, const ShellPattern& p, bool longest) {
  std::optional<size_t> cut;
  for (size_t i = 0; i <= value.size(); i = i < value.size() ? i + char_len(value, i) : i + 1) {
    if (!p.ends(value, i).back()) continue;
    cut = i;
    if (longest) break;
  }
  return cut ? value.substr(0, *cut) : value;
}

// ${v/p/r} ${v//p/r}: leftmost, longest matches replaced.
std::string replace(const std::string& value, const ShellPattern& p, const std::string& with, bool all) {
  std::string out;
  size_t i = 0;
  std::optional<size_t> last_end;
  bool replaced = false;
  while (i <= value.size()) {
    if (!replaced || all) {
      auto ends = p.ends(value, i);
      std::optional<size_t> end;
      for (size_t j = value.size() + 1; j-- > i;)
        if (ends[j]) {
          end = j;
          break;
        }
      // An empty match right after a match is no match (as Go's ReplaceAll).
      if (end && !(*end == i && last_end == i)) {
        out += with;
        replaced = true;
        last_end = *end;
        if (*end > i) {
          i = *end;
          continue;
        }
      }
    }
    if (i == value.size()) break;
    size_t n = char_len(value, i);
    out += value.substr(i, n);
    i += n;
  }
  return out;
}

// One pass over a word; nested ${...} words are processed by recursion.
class Lexer {
 public:
  struct Result {
    std::string word;
    std::vector<std::string> words;
  };

  Lexer(std::string_view text, const EnvLookup& env, const WordOptions& options)
      : text_(text), env_(env), opt_(options) {}

  Result run() { return until(kEnd, opt_.keep_escapes); }

 private:
  // Words being collected: white space splits unless quoted or escaped.
  struct Words {
    std::string buf;
    std::vector<std::string> done;
    bool in_word = false;

    void add_char(int c) {
      if (!is_space(c)) return add_raw(c);
      if (in_word && !buf.empty()) {
        done.push_back(std::move(buf));
        buf.clear();
        in_word = false;
      }
    }
    void add_raw(int c) {
      buf.push_back(static_cast<char>(c));
      in_word = true;
    }
    void add_string(std::string_view s) {
      for (char c : s) add_char(static_cast<unsigned char>(c));
    }
    void add_raw_string(std::string_view s) {
      buf += s;
      in_word = true;
    }
    std::vector<std::string> finish() {
      if (!buf.empty()) done.push_back(std::move(buf));
      buf.clear();
      return std::move(done);
    }
  };

  int peek() const { return pos_ < text_.size() ? static_cast<unsigned char>(text_[pos_]) : kEnd; }
  int next() { return pos_ < text_.size() ? static_cast<unsigned char>(text_[pos_++]) : kEnd; }
  bool is_escape(int c) const { return c == static_cast<unsigned char>(opt_.escape); }

  std::optional<std::string> lookup(const std::string& name) const {
    if (!env_) return std::nullopt;
    return env_(name);
  }

  // Processes up to stop (consumed) or the end of the text.
  Result until(int stop, bool raw_escapes) {
    bool saved = raw_escapes_;
    raw_escapes_ = raw_escapes;
    std::string result;
    Words words;
    while (peek() != kEnd) {
      int c = peek();
      if (stop != kEnd && c == stop) {
        next();
        raw_escapes_ = saved;
        return {std::move(result), words.finish()};
      }
      if (c == '$') {
        std::string v = dollar();
        result += v;
        words.add_string(v);
        continue;
      }
      if (c == '<') {
        std::string v = maybe_heredoc();
        result += v;
        words.add_raw_string(v);
        continue;
      }
      if (!opt_.quotes_literal && (c == '\'' || c == '"')) {
        std::string v = c == '\'' ? single_quoted() : double_quoted();
        result += v;
        words.add_raw_string(v);
        continue;
      }
      next();
      if (is_escape(c)) {
        if (raw_escapes_) {
          words.add_raw(c);
          result.push_back(static_cast<char>(c));
        }
        if (peek() == kEnd) break;  // an escape at the very end is dropped
        c = next();
        words.add_raw(c);
      } else {
        words.add_char(c);
      }
      result.push_back(static_cast<char>(c));
    }
    raw_escapes_ = saved;
    if (stop != kEnd)
      throw Error(fmt::format("unexpected end of statement while looking for matching {}", static_cast<char>(stop)));
    return {std::move(result), words.finish()};
  }

  std::string single_quoted() {
    std::string out;
    int c = next();
    if (opt_.keep_quotes) out.push_back(static_cast<char>(c));
    for (;;) {
      c = next();
      if (c == kEnd) throw Error("unexpected end of statement while looking for matching single-quote");
      if (c == '\'') {
        if (opt_.keep_quotes) out.push_back('\'');
        return out;
      }
      out.push_back(static_cast<char>(c));
    }
  }

  std::string double_quoted() {
    std::string out;
    int c = next();
    if (opt_.keep_quotes) out.push_back(static_cast<char>(c));
    for (;;) {
      c = peek();
      if (c == kEnd) throw Error("unexpected end of statement while looking for matching double-quote");
      if (c == '"') {
        next();
        if (opt_.keep_quotes) out.push_back('"');
        return out;
      }
      if (c == '$') {
        out += dollar();
        continue;
      }
      c = next();
      if (is_escape(c)) {
        if (raw_escapes_) out.push_back(static_cast<char>(c));
        int d = peek();
        if (d == kEnd) continue;
        // Only " $ and the escape itself can be escaped; "\t" stays "\t".
        if (d == '"' || d == '$' || is_escape(d)) c = next();
      }
      out.push_back(static_cast<char>(c));
    }
  }

  // "<<" and the blanks after it stay together, so "<< EOF" is one word.
  std::string maybe_heredoc() {
    next();
    if (peek() != '<') return "<";
    next();
    std::string out = "<<";
    while (peek() == ' ' || peek() == '\t' || peek() == '\r') out.push_back(static_cast<char>(next()));
    return out;
  }

  // A variable name; positional ($1, $001) and special ($@ $# $? ...)
  // parameters are names too, never set.
  std::string name() {
    std::string n;
    int c = peek();
    if (is_digit(c)) {
      while (is_digit(peek())) n.push_back(static_cast<char>(next()));
      return n;
    }
    if (c != kEnd && std::strchr("@*#?-$!", c) != nullptr) {
      next();
      return std::string(1, static_cast<char>(c));
    }
    while ((c = peek()) != kEnd && (c >= 0x80 || std::isalnum(c) || c == '_'))  // non-ASCII letters count as letters
      n.push_back(static_cast<char>(next()));
    return n;
  }

  std::string stop_at_brace(bool raw_escapes) {
    try {
      return until('}', raw_escapes).word;
    } catch (const Error&) {
      if (peek() == kEnd) throw Error("syntax error: missing '}'");
      throw;
    }
  }

  std::string dollar() {
    next();
    if (peek() != '{') {
      std::string n = name();
      if (n.empty()) return "$";
      auto v = lookup(n);
      if (!v && opt_.keep_unset) return "$" + n;
      return v.value_or("");
    }
    next();
    int c = peek();
    if (c == kEnd) throw Error("syntax error: missing '}'");
    if (c == '{' || c == '}' || c == ':') throw Error("syntax error: bad substitution");
    std::string n = name();
    c = next();
    if (c == kEnd) throw Error("syntax error: missing '}'");
    if (c == '}') {
      auto v = lookup(n);
      if (!v && opt_.keep_unset) return "${" + n + "}";
      return v.value_or("");
    }
    if (c == '/') return substitute(n);

    std::string modifier(1, static_cast<char>(c));
    bool null_is_unset = false;
    if (c == ':') {
      null_is_unset = true;
      c = next();
      if (c == kEnd) throw Error("syntax error: missing '}'");
      modifier.push_back(static_cast<char>(c));
    } else if (std::strchr("+-?#%", c) == nullptr) {
      throw Error(fmt::format("unsupported modifier ({}) in substitution", modifier));
    }
    bool pattern = c == '#' || c == '%';
    if (null_is_unset && pattern) throw Error(fmt::format("unsupported modifier ({}) in substitution", modifier));
    std::string word = stop_at_brace(pattern);

    auto v = lookup(n);
    if (!v && opt_.keep_unset) return "${" + n + modifier + word + "}";
    bool empty = !v || (null_is_unset && v->empty());
    switch (c) {
      case '-':
        return empty ? word : *v;
      case '+':
        return empty ? "" : word;
      case '?':
        if (!v) throw Error(fmt::format("{}: {}", n, word.empty() ? "is not allowed to be unset" : word));
        if (empty) throw Error(fmt::format("{}: {}", n, word.empty() ? "is not allowed to be empty" : word));
        return *v;
      case '#':
      case '%': {
        bool longest = !word.empty() && word[0] == c;
        if (longest) word.erase(0, 1);
        ShellPattern p(word);
        return c == '#' ? trim_prefix(v.value_or(""), p, longest) : trim_suffix(v.value_or(""), p, longest);
      }
      default:
        throw Error(fmt::format("unsupported modifier ({}) in substitution", modifier));
    }
  }

  // ${v/pattern/replacement}, ${v//pattern/replacement}
  std::string substitute(const std::string& n) {
    bool all = peek() == '/';
    if (all) next();
    std::string pattern;
    try {
      pattern = until('/', true).word;
    } catch (const Error&) {
      if (peek() == kEnd) throw Error("syntax error: missing '/' in ${}");
      throw;
    }
    std::string with = stop_at_brace(true);
    auto v = lookup(n);
    if (!v && opt_.keep_unset) return fmt::format("${{{}/{}/{}}}", n, pattern, with);
    return replace(v.value_or(""), ShellPattern(pattern), with, all);
  }

  std::string_view text_;
  size_t pos_ = 0;
  const EnvLookup& env_;
  WordOptions opt_;
  bool raw_escapes_ = false;
};

Lexer::Result process(std::string_view word, const EnvLookup& env, const WordOptions& options) {
  try {
    return Lexer(word, env, options).run();
  } catch (const Error& e) {
    throw Error(fmt::format("failed to process {:?}: {}", word, e.what()));
  }
}

}  // namespace

std::string expand_word(std::string_view word, const EnvLookup& env, const WordOptions& options) {
  return process(word, env, options).word;
}

std::vector<std::string> expand_words(std::string_view word, const EnvLookup& env, const WordOptions& options) {
  return process(word, env, options).words;
}

EnvLookup lookup_in(std::map<std::string, std::string, std::less<>> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace skiff::build
