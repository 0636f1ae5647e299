// The line structure of a Dockerfile, as BuildKit's parser reads it: parser
// directives, comments, continuation lines and heredoc bodies; then the
// instructions are grouped into stages. instruction_parse.cpp knows what the
// instructions mean.
#include <algorithm>
#include <cctype>
#include <set>

#include "build/dockerfile_text.hpp"
#include "build/instruction_parse.hpp"
#include "skiff/build/dockerfile.hpp"
#include "skiff/util/error.hpp"

namespace skiff::build {

namespace {

using detail::trim_left;

// Lines with their line endings, which heredoc bodies keep.
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    size_t n = nl == std::string_view::npos ? text.size() : nl + 1;
    out.push_back(text.substr(0, n));
    text.remove_prefix(n);
  }
  return out;
}

std::string_view trim_newline(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool is_comment(std::string_view line) {
  line = trim_left(line);
  return !line.empty() && line[0] == '#';
}

// A line ending in the escape character (then blanks) continues on the next
// line, unless the escape is itself escaped: "a \\" ends, "a \" goes on.
// Returns the line without it, and whether it continues.
std::pair<std::string_view, bool> cut_continuation(std::string_view line, char escape) {
  size_t end = line.size();
  while (end > 0 && (line[end - 1] == ' ' || line[end - 1] == '\t')) --end;
  if (end == 0 || line[end - 1] != escape) return {line, false};
  if (end >= 2 && line[end - 2] == escape) return {line, false};
  return {line.substr(0, end - 1), true};
}

// Parser directives: "# escape=`", "# syntax=...", "# check=..." at the very
// top of the file. The first line that is not one ends them, and an empty
// line or an ordinary comment is such a line.
class Directives {
 public:
  // Returns whether line (without leading white space) was a directive.
  bool take(std::string_view line) {
    if (done_) return false;
    if (line.empty() || line[0] != '#') return done_ = true, false;
    line = trim_left(line.substr(1));
    size_t n = 0;
    while (n < line.size() && std::isalnum(static_cast<unsigned char>(line[n]))) ++n;
    if (n == 0 || !std::isalpha(static_cast<unsigned char>(line[0]))) return done_ = true, false;
    std::string key = detail::to_lower(line.substr(0, n));
    std::string_view rest = trim_left(line.substr(n));
    if (rest.empty() || rest[0] != '=') return done_ = true, false;
    std::string_view value = detail::trim(rest.substr(1));
    if (value.empty() || (key != "escape" && key != "syntax" && key != "check")) return done_ = true, false;
    if (!seen_.insert(key).second) throw Error(fmt::format("only one {} parser directive can be used", key));
    if (key == "escape") {
      if (value != "`" && value != "\\")
        throw Error(fmt::format("invalid escape token '{}' does not match ` or \\", value));
      escape = value[0];
    } else if (key == "syntax") {
      syntax = std::string(value);
    }
    return true;
  }

  char escape = '\\';
  std::string syntax;

 private:
  bool done_ = false;
  std::set<std::string> seen_;
};

class Parser {
 public:
  Parser(std::string_view text, std::string_view file_name) : lines_(split_lines(text)), file_(file_name) {
    if (!lines_.empty() && lines_[0].substr(0, 3) == "\xEF\xBB\xBF") lines_[0].remove_prefix(3);
  }

  Dockerfile run() {
    Dockerfile df{.file_name = std::string(file_)};
    while (next_ < lines_.size()) {
      int start = line_no_ + 1;
      try {
        if (auto ins = next_instruction()) place(df, std::move(*ins));
      } catch (const Error& e) {
        throw e.with_context(fmt::format("{}:{}", file_, start));
      }
    }
    if (df.stages.empty()) throw Error(fmt::format("{}: no build stage", file_));
    df.escape = directives_.escape;
    df.syntax = directives_.syntax;
    df.warnings = std::move(warnings_);
    return df;
  }

 private:
  std::string_view take_line() {
    ++line_no_;
    return lines_[next_++];
  }

  // The instruction starting at the next line; nullopt for a line with
  // none (empty, a comment, a directive).
  std::optional<Instruction> next_instruction() {
    int start = line_no_ + 1;
    std::string_view line = trim_left(trim_newline(take_line()));
    directives_.take(line);
    if (is_comment(line)) line = {};
    char escape = directives_.escape;
    auto [text, more] = cut_continuation(line, escape);
    if (!more && text.empty()) return std::nullopt;

    // Continuation lines keep their leading white space; comment lines and
    // empty lines inside are dropped, as docker does.
    std::string joined(text);
    bool empty_continuation = false;
    while (more && next_ < lines_.size()) {
      std::string_view l = trim_newline(take_line());
      if (is_comment(l)) continue;
      if (trim_left(l).empty()) {
        empty_continuation = true;
        continue;
      }
      auto [t, m] = cut_continuation(l, escape);
      joined += t;
      more = m;
    }
    if (empty_continuation)
      warnings_.push_back(
          fmt::format("{}:{}: empty continuation line (future docker releases will refuse it)", file_, start));

    std::vector<Heredoc> heredocs;
    if (joined.find("<<") != std::string::npos && detail::may_have_heredocs(joined, escape)) {
      heredocs = detail::heredocs_in_line(joined);
      for (auto& h : heredocs) read_body(h);
    }
    Instruction ins = detail::parse_instruction(joined, std::move(heredocs), escape);
    ins.line = start;
    if (ins.keyword == "MAINTAINER")
      warnings_.push_back(fmt::format("{}:{}: MAINTAINER is deprecated, use LABEL instead", file_, start));
    return ins;
  }

  // The lines up to the delimiter; <<- strips leading tabs from each, the
  // delimiter's included.
  void read_body(Heredoc& h) {
    std::string content;
    for (;;) {
      if (next_ == lines_.size()) throw Error(fmt::format("unterminated heredoc {}", h.name));
      std::string_view raw = take_line();
      std::string_view end = trim_newline(raw);
      if (h.chomp) end.remove_prefix(std::min(end.find_first_not_of('\t'), end.size()));
      if (end == h.name) break;
      content += raw;
    }
    if (h.chomp) {
      std::string stripped;
      bool at_line_start = true;
      for (char c : content) {
        if (at_line_start && c == '\t') continue;
        at_line_start = c == '\n';
        stripped.push_back(c);
      }
      content = std::move(stripped);
    }
    h.content = std::move(content);
  }

  void place(Dockerfile& df, Instruction ins) {
    if (auto* from = std::get_if<FromInstruction>(&ins.body)) {
      if (!from->name.empty())
        for (const auto& s : df.stages)
          if (s.name == from->name)
            throw Error(fmt::format("duplicate stage name {:?}, stage names should be unique", from->name));
      df.stages.push_back(
          {.base = from->base, .name = from->name, .platform = from->platform, .line = ins.line, .text = ins.text});
    } else if (!df.stages.empty()) {
      df.stages.back().instructions.push_back(std::move(ins));
    } else if (ins.keyword == "ARG") {
      df.meta_args.push_back(std::move(ins));
    } else {
      throw Error(fmt::format("no FROM before {}", ins.keyword));
    }
  }

  std::vector<std::string_view> lines_;
  std::string_view file_;
  size_t next_ = 0;
  int line_no_ = 0;
  Directives directives_;
  std::vector<std::string> warnings_;
};

}  // namespace

Dockerfile parse_dockerfile(std::string_view text, std::string_view file_name) {
  return Parser(text, file_name).run();
}

}  // namespace skiff::build
