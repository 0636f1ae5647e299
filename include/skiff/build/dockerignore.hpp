// .dockerignore: which files of the build context the build leaves out, with
// docker's rules (moby/patternmatcher, and BuildKit's walk of the context).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "skiff/storage/rootfs_copy.hpp"

namespace skiff::build {

// A list of ignore patterns, matched against slash-separated paths relative
// to the context root. "*" and "?" stop at "/", "**" spans directories,
// "[a-z]" and "\*" are as in Go's filepath.Match; a pattern matching a
// directory excludes all below it; "!pattern" brings paths back, and the
// last pattern that matches decides.
class DockerIgnore : public storage::CopyFilter {
 public:
  DockerIgnore() = default;

  // From patterns already read (COPY --exclude, or read_dockerignore()).
  // Throws Error for a malformed pattern ("[a", "!").
  explicit DockerIgnore(const std::vector<std::string>& patterns);

  // Reads a .dockerignore file: "#" comments at the start of a line, blank
  // lines skipped, patterns trimmed and cleaned ("./a/../b/" -> "b", "/x" ->
  // "x"). file_name is for messages ("app/.dockerignore:3: ...").
  static DockerIgnore parse(std::string_view text, std::string_view file_name = ".dockerignore");

  // Whether path (relative to the context, e.g. "src/main.c") is left out.
  // The context root itself never is.
  bool excluded(std::string_view path) const override;

  // For an excluded directory: whether an exception ("!dir/keep") may bring
  // back something inside it, so that the walk must still descend into it.
  // Errs on the side of yes when an exception has wildcards.
  bool may_contain_exceptions(std::string_view dir) const override;

  // The patterns as cleaned, "!" kept in front of exceptions.
  std::vector<std::string> patterns() const;

  bool empty() const { return patterns_.empty(); }

 private:
  enum class Kind { kExact, kPrefix, kSuffix, kGlob };
  enum class TokenKind { kLiteral, kAnyChar, kStar, kDirs, kRest, kClass };
  struct Token {
    TokenKind kind;
    char32_t ch = 0;                                    // kLiteral
    std::vector<std::pair<char32_t, char32_t>> ranges;  // kClass
    bool negated = false;                               // kClass: [^...]
  };
  struct Pattern {
    std::string text;  // cleaned, without the "!"
    bool exception = false;
    Kind kind = Kind::kExact;
    std::vector<Token> tokens;
    bool matches(std::string_view path) const;
  };

  static Pattern compile(std::string text, bool exception);

  std::vector<Pattern> patterns_;
};

// Reads a .dockerignore into patterns, docker's ignorefile.ReadAll.
std::vector<std::string> read_dockerignore(std::string_view text);

// The ignore files that may apply, best first: <Dockerfile>.dockerignore next
// to the Dockerfile ("app/Dockerfile.dev.dockerignore"), then .dockerignore
// at the context root. The first that exists is the one used. A Dockerfile
// read from stdin ("-") has only the second.
std::vector<std::string> dockerignore_candidates(std::string_view dockerfile_path, std::string_view context_dir);

}  // namespace skiff::build
