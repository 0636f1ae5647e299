// One logical Dockerfile line into a typed Instruction: the half of the
// Dockerfile parser that knows the instructions. dockerfile_parser.cpp does
// the lines (directives, continuations, heredoc bodies) and the stages.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/build/dockerfile.hpp"

namespace skiff::build::detail {

// "COPY --from=x a b" -> {"COPY", {"--from=x"}, "a b"}: the keyword as
// written, the leading --flags (quotes and escapes removed), the rest trimmed.
struct SplitLine {
  std::string keyword;
  std::vector<std::string> flags;
  std::string rest;
};
SplitLine split_command(std::string_view line, char escape);

// Whether the instruction on line can carry heredocs: RUN, COPY and ADD in
// shell form, and ONBUILD of one of them.
bool may_have_heredocs(std::string_view line, char escape);

// The heredocs a line opens (<<EOF, <<-"EOF", 3<<EOF), in order, bodies empty.
std::vector<Heredoc> heredocs_in_line(std::string_view line);

// One word as a heredoc opener: "<<EOF" -> EOF; nullopt for anything else.
std::optional<Heredoc> parse_heredoc_word(std::string_view word);

// Parses a logical line (continuations joined) whose heredocs were read.
// Throws Error without a location; the caller puts "file:line: " in front.
Instruction parse_instruction(std::string_view line, std::vector<Heredoc> heredocs, char escape);

}  // namespace skiff::build::detail
