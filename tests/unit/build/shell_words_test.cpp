#include "skiff/build/shell_words.hpp"

#include <catch2/catch.hpp>

#include "skiff/build/build_args.hpp"
#include "skiff/util/error.hpp"

using skiff::build::expand_word;
using skiff::build::expand_words;
using skiff::build::lookup_in;
using skiff::build::WordOptions;
using Words = std::vector<std::string>;

namespace {

const auto kEnv = lookup_in({{"PWD", "/home"}, {"SHELL", "bash"}, {"NULL", ""}, {"KOREAN", "한국어"}});

std::string ex(std::string_view word) {
  return expand_word(word, kEnv);
}

}  // namespace

TEST_CASE("plain words, quotes and escapes") {
  CHECK(ex("hello") == "hello");
  CHECK(ex("he'll'o") == "hello");
  CHECK(ex("he\\'llo") == "he'llo");
  CHECK(ex("abc\\tdef") == "abctdef");
  CHECK(ex("\"abc\\tdef\"") == "abc\\tdef");
  CHECK(ex("\"abc\\\\tdef\"") == "abc\\tdef");
  CHECK(ex("'abc\\tdef'") == "abc\\tdef");
  CHECK(ex("hello\\") == "hello");
  CHECK(ex("hello\\\\") == "hello\\");
  CHECK(ex("\"hel'lo\"") == "hel'lo");
  CHECK(ex("'hello\\'") == "hello\\");
  CHECK(ex("\"''\"") == "''");
  CHECK(ex("'\"hello\"'") == "\"hello\"");
  CHECK(ex("안'녕'하세요") == "안녕하세요");
}

TEST_CASE("unterminated quotes are errors") {
  CHECK_THROWS_WITH(ex("he'llo"),
                    "failed to process \"he'llo\": unexpected end of statement "
                    "while looking for matching single-quote");
  CHECK_THROWS_WITH(ex("\"hello\\\""), Catch::Contains("matching double-quote"));
  CHECK_THROWS_AS(ex("he\\\\'llo"), skiff::Error);
}

TEST_CASE("$v and ${v}") {
  CHECK(ex("he$PWD") == "he/home");
  CHECK(ex("he${PWD}") == "he/home");
  CHECK(ex("he${hi}xx") == "hexx");
  CHECK(ex("$.") == "$.");
  CHECK(ex("he$.x") == "he$.x");
  CHECK(ex("he$pwd.") == "he.");  // names are case-sensitive
  CHECK(ex("$KOREAN") == "한국어");
  CHECK(ex("안녕$KOREAN") == "안녕한국어");
  CHECK(ex("${aaa}}") == "}");
  CHECK(ex("$") == "$");
}

TEST_CASE("escaped dollars stay literal, single quotes stop expansion, double quotes do not") {
  CHECK(ex("he\\$PWD") == "he$PWD");
  CHECK(ex("he\\\\$PWD") == "he\\/home");
  CHECK(ex("\"he\\$PWD\"") == "he$PWD");
  CHECK(ex("\"he\\\\$PWD\"") == "he\\/home");
  CHECK(ex("\\${}") == "${}");
  CHECK(ex("he\\${}xx") == "he${}xx");
  CHECK(ex("'he${XX}'") == "he${XX}");
  CHECK(ex("'$PWD'") == "$PWD");
  CHECK(ex("'\\$PWD'") == "\\$PWD");
  CHECK(ex("\"he${PWD}\"") == "he/home");
  CHECK(ex("\"he'$PWD'\"") == "he'/home'");
}

TEST_CASE("positional and special parameters are never set") {
  for (auto w :
       {"$1", "${1}", "${1:+bbb}", "$999", "$001", "$@", "${@}", "$*", "$#", "$?", "$-", "$$", "$!", "$0", "${0:+bbb}"})
    CHECK(ex(w).empty());
  CHECK(ex("he$1x") == "hex");
  CHECK(ex("${999:-bbb}aaa") == "bbbaaa");
  CHECK(ex("$@@@") == "@@");
  CHECK(ex("${#:-bbb}") == "bbb");
}

TEST_CASE("${v:-w} ${v-w} ${v:+w} ${v+w}") {
  CHECK(ex("he${XXX:-000}xx") == "he000xx");
  CHECK(ex("he${PWD:-000}xx") == "he/homexx");
  CHECK(ex("he${XXX:-$PWD}xx") == "he/homexx");
  CHECK(ex("he${XXX:-${PWD:-yyy}}xx") == "he/homexx");
  CHECK(ex("he${XXX:-${YYY:-yyy}}xx") == "heyyyxx");
  CHECK(ex("${NULL:-word}") == "word");
  CHECK(ex("${NULL-word}") == "");
  CHECK(ex("${XXX-word}") == "word");
  CHECK(ex("he${XXX:+${PWD}}xx") == "hexx");
  CHECK(ex("he${PWD:+${SHELL}}xx") == "hebashxx");
  CHECK(ex("${NULL:+word}") == "");
  CHECK(ex("${NULL+word}") == "word");
  CHECK(ex("${XXX+word}") == "");
  CHECK(ex("he${PWD:+${PWD}:}xx") == "he/home:xx");
  CHECK(ex("he${XXX:-\\$PWD:}xx") == "he$PWD:xx");
  CHECK(ex("he${XXX:-\\${PWD}z}xx") == "he${PWDz}xx");
  CHECK(ex("${aaa:-bbb}}") == "bbb}");
  CHECK(ex("${aaa:-bbb {foo}") == "bbb {foo");
}

TEST_CASE("${v?message} and ${v:?message}") {
  CHECK(ex("he${PWD?}") == "he/home");
  CHECK(ex("he${PWD:?}") == "he/home");
  CHECK(ex("he${NULL?}") == "he");
  CHECK_THROWS_WITH(ex("he${XXX?}"), "failed to process \"he${XXX?}\": XXX: is not allowed to be unset");
  CHECK_THROWS_WITH(ex("${NULL:?}"), Catch::EndsWith("NULL: is not allowed to be empty"));
  CHECK_THROWS_WITH(ex("${XXX:?set XXX first}"), Catch::EndsWith("XXX: set XXX first"));
}

TEST_CASE("bad substitutions") {
  CHECK_THROWS_WITH(ex("${}"), Catch::EndsWith("syntax error: bad substitution"));
  CHECK_THROWS_WITH(ex("he${}xx"), Catch::EndsWith("bad substitution"));
  CHECK_THROWS_WITH(ex("${:}"), Catch::EndsWith("bad substitution"));
  CHECK_THROWS_WITH(ex("${:-bbb}"), Catch::EndsWith("bad substitution"));
  CHECK_THROWS_WITH(ex("${{aaa}"), Catch::EndsWith("bad substitution"));
  CHECK_THROWS_WITH(ex("he${PWD"), Catch::EndsWith("syntax error: missing '}'"));
  CHECK_THROWS_WITH(ex("${aaa:-bbb"), Catch::EndsWith("syntax error: missing '}'"));
  CHECK_THROWS_WITH(ex("${aaa:-bbb ${foo}"), Catch::EndsWith("syntax error: missing '}'"));
  CHECK_THROWS_WITH(ex("he${XXX:YYY}"), Catch::EndsWith("unsupported modifier (:Y) in substitution"));
  CHECK_THROWS_WITH(ex("he${PWD:=000}xx"), Catch::EndsWith("unsupported modifier (:=) in substitution"));
  CHECK_THROWS_WITH(ex("he${.}"), Catch::EndsWith("unsupported modifier (.) in substitution"));
  CHECK_THROWS_WITH(ex("${PWD:#x}"), Catch::EndsWith("unsupported modifier (:#) in substitution"));
}

TEST_CASE("pattern removal and replacement") {
  auto env = lookup_in({{"str", "foobarbaz"}, {"path", "/usr/local/bin/tool.tar.gz"}});
  auto x = [&](std::string_view w) { return expand_word(w, env); };
  CHECK(x("${str#f*b}") == "arbaz");
  CHECK(x("${str##f*b}") == "az");
  CHECK(x("${str%b*}") == "foobar");
  CHECK(x("${str%%b*}") == "foo");
  CHECK(x("${str#zzz}") == "foobarbaz");
  CHECK(x("${path##*/}") == "tool.tar.gz");
  CHECK(x("${path%/*}") == "/usr/local/bin");
  CHECK(x("${path%.*}") == "/usr/local/bin/tool.tar");
  CHECK(x("${path%%.*}") == "/usr/local/bin/tool");
  CHECK(x("${str#?oo}") == "barbaz");
  CHECK(x("${str/ba/fo}") == "fooforbaz");
  CHECK(x("${str//ba/fo}") == "fooforfoz");
  CHECK(x("${str//a/}") == "foobrbz");
  CHECK(x("${str/b*/X}") == "fooX");
  CHECK(x("${str//[/x}") == "foobarbaz");
  CHECK(x("${unset#x}") == "");
  CHECK(x("${str/\\*/x}") == "foobarbaz");
  CHECK_THROWS_WITH(x("${str#\\q}"), Catch::Contains("invalid pattern (\\q) in substitution"));
  CHECK_THROWS_WITH(x("${str/ba}"), Catch::EndsWith("syntax error: missing '/' in ${}"));
}

TEST_CASE("the escape character of the Dockerfile") {
  WordOptions tick{.escape = '`'};
  CHECK(expand_word("c:\\foo\\$PWD", kEnv, tick) == "c:\\foo\\/home");
  CHECK(expand_word("a`$PWD", kEnv, tick) == "a$PWD");
  CHECK(expand_word("\"a`\"b\"", kEnv, tick) == "a\"b");
}

TEST_CASE("words split after expansion, not inside quotes") {
  auto env = lookup_in({{"hi", "hi"}, {"space", "abc  def"}, {"leading", "  ab c"}, {"trailing", "ab c   "}});
  auto w = [&](std::string_view s) { return expand_words(s, env); };
  CHECK(w("hello") == Words{"hello"});
  CHECK(w("hello${hi}bye") == Words{"hellohibye"});
  CHECK(w("hello${space}bye") == Words{"helloabc", "defbye"});
  CHECK(w("hello\"${space}\"bye") == Words{"helloabc  defbye"});
  CHECK(w("hello \"${space}\"bye") == Words{"hello", "abc  defbye"});
  CHECK(w("hello${leading}def") == Words{"hello", "ab", "cdef"});
  CHECK(w("hello\"${leading}\" def") == Words{"hello  ab c", "def"});
  CHECK(w("hello${trailing}d") == Words{"helloab", "c", "d"});
  CHECK(w("hel\"lo${trailing}\"") == Words{"helloab c   "});
  CHECK(w("hello there     ") == Words{"hello", "there"});
  CHECK(w("hello\\ there") == Words{"hello there"});
  CHECK(w("hello\\\" there") == Words{"hello\"", "there"});
  CHECK(w("hello'$there'") == Words{"hello$there"});
  CHECK(w("a \"\" b") == Words{"a", "b"});
  CHECK_THROWS_AS(w("hello\" there"), skiff::Error);
}

TEST_CASE("options: keep quotes, escapes and unset references") {
  WordOptions raw{.keep_quotes = true, .keep_escapes = true, .keep_unset = true};
  CHECK(expand_word("'a b' \"$PWD\" \\x $NOPE ${NOPE:-d}", kEnv, raw) == "'a b' \"/home\" \\x $NOPE ${NOPE:-d}");
  WordOptions literal_quotes{.quotes_literal = true};
  CHECK(expand_word("echo \"$SHELL\" '$PWD'\n", kEnv, literal_quotes) == "echo \"bash\" '/home'\n");
  CHECK(expand_word("x", {}) == "x");
  CHECK(expand_word("$PWD", {}) == "");
}

TEST_CASE("predefined build args") {
  skiff::image::Platform target{.os = "linux", .architecture = "arm", .variant = "v7"};
  skiff::image::Platform build{.os = "linux", .architecture = "amd64"};
  auto args = skiff::build::platform_args(target, build);
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  CHECK(args == Pairs{{"TARGETPLATFORM", "linux/arm/v7"},
                      {"TARGETOS", "linux"},
                      {"TARGETARCH", "arm"},
                      {"TARGETVARIANT", "v7"},
                      {"BUILDPLATFORM", "linux/amd64"},
                      {"BUILDOS", "linux"},
                      {"BUILDARCH", "amd64"},
                      {"BUILDVARIANT", ""}});
  CHECK(skiff::build::is_proxy_arg("HTTP_PROXY"));
  CHECK(skiff::build::is_proxy_arg("no_proxy"));
  CHECK_FALSE(skiff::build::is_proxy_arg("Http_Proxy"));
  CHECK_FALSE(skiff::build::is_proxy_arg("TARGETARCH"));
}
