// Docker's variable substitution and word splitting on Dockerfile words
// (ENV, LABEL, COPY, WORKDIR...), with the rules of BuildKit's shell lexer.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skiff::build {

// Looks a variable up in the scope of one build step (the ARGs and ENVs so
// far); nullopt when it is not set. An empty function means nothing is set.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// How a word is processed. The defaults are what instructions get.
struct WordOptions {
  char escape = '\\';           // the Dockerfile's escape character (# escape=)
  bool keep_quotes = false;     // quote characters stay in the result
  bool keep_escapes = false;    // escape characters stay in the result
  bool keep_unset = false;      // references to unset variables stay as written
  bool quotes_literal = false;  // ' and " are ordinary characters (heredoc bodies)
};

// The word with quotes removed, escapes applied and variables substituted:
// $v ${v} ${v:-w} ${v-w} ${v:+w} ${v+w} ${v:?msg} ${v?msg} ${v#p} ${v##p}
// ${v%p} ${v%%p} ${v/p/r} ${v//p/r}. Single quotes stop substitution, double
// quotes do not. Throws Error on bad syntax and for ${v?} of an unset v.
std::string expand_word(std::string_view word, const EnvLookup& env, const WordOptions& options = {});

// The same, split into words at white space that was neither quoted nor
// escaped; white space inside a variable's value splits too (EXPOSE $PORTS).
std::vector<std::string> expand_words(std::string_view word, const EnvLookup& env, const WordOptions& options = {});

// A lookup over a fixed set of variables.
EnvLookup lookup_in(std::map<std::string, std::string, std::less<>> vars);

}  // namespace skiff::build
