#include "cli/go_template.hpp"

#include <catch2/catch.hpp>

#include "skiff/util/error.hpp"

using namespace skiff::cli;
using json = nlohmann::json;

namespace {

const json kData = json::parse(R"({
  "Id": "abc123", "Name": "/web", "Count": 3, "Ratio": 1.5, "Up": true, "Empty": "",
  "State": {"Status": "running", "Pid": 42, "ExitCode": 0},
  "Config": {"Env": ["A=1", "B=2"], "Labels": {"tier": "front", "app": "shop"}, "Cmd": null},
  "Ports": []
})");

std::string render(std::string_view tmpl, const json& data = kData) {
  return GoTemplate(tmpl).render(data);
}

}  // namespace

TEST_CASE("go template: fields, dot, text around them") {
  CHECK(render("{{.Id}}") == "abc123");
  CHECK(render("id={{.Id}} pid={{.State.Pid}}\n") == "id=abc123 pid=42\n");
  CHECK(render("{{.State.Status}}") == "running");
  CHECK(render("{{.Count}} {{.Ratio}} {{.Up}}") == "3 1.5 true");
  CHECK(render("{{.Missing}}|{{.State.Missing.Deeper}}") == "<no value>|<no value>");
  CHECK(render("{{.Config.Cmd}}") == "<nil>");
  CHECK(render("{{.Config.Env}}") == "[A=1 B=2]");
  CHECK(render("{{.Config.Labels}}") == "map[app:shop tier:front]");
  CHECK(render("{{.}}", json("plain")) == "plain");
  CHECK(render("no actions at all") == "no actions at all");
}

TEST_CASE("go template: json, and docker's string functions") {
  CHECK(render("{{json .State}}") == R"({"ExitCode":0,"Pid":42,"Status":"running"})");
  CHECK(render("{{json .Config.Env}}") == R"(["A=1","B=2"])");
  CHECK(render("{{upper .State.Status}} {{lower \"ABC\"}} {{title \"hello world\"}}") == "RUNNING abc Hello World");
  CHECK(render("{{join .Config.Env \",\"}}") == "A=1,B=2");
  CHECK(render("{{index .Config.Labels \"tier\"}} {{index .Config.Env 1}}") == "front B=2");
  CHECK(render("{{len .Config.Env}} {{len .Id}}") == "2 6");
  CHECK(render("{{printf \"%-8s|%5d|%q\" .Id .Count .Name}}") == "abc123  |    3|\"/web\"");
  CHECK(render("{{.Id | upper}}") == "ABC123");
  CHECK(render("{{truncate .Id 3}}") == "abc");
  CHECK(render("{{split \"a:b:c\" \":\"}}") == "[a b c]");
  CHECK(render("{{(index .Config.Env 0) | lower}}") == "a=1");
}

TEST_CASE("go template: if, else if, else, with, range, comparisons") {
  CHECK(render("{{if .Up}}yes{{else}}no{{end}}") == "yes");
  CHECK(render("{{if .Empty}}yes{{else}}no{{end}}") == "no");
  CHECK(render("{{if eq .State.Status \"exited\"}}x{{else if eq .State.Status \"running\"}}r{{else}}?{{end}}") == "r");
  CHECK(render("{{if and .Up (gt .Count 2)}}big{{end}}") == "big");
  CHECK(render("{{if or .Empty (not .Up)}}a{{else}}b{{end}}") == "b");
  CHECK(render("{{if ne .Count 3}}a{{else}}b{{end}}{{if le .Ratio 1.5}}c{{end}}{{if eq .Count 1 2 3}}d{{end}}") ==
        "bcd");
  CHECK(render("{{with .State}}{{.Status}}/{{.Pid}}{{end}}") == "running/42");
  CHECK(render("{{with .Missing}}x{{else}}none{{end}}") == "none");
  CHECK(render("{{range .Config.Env}}[{{.}}]{{end}}") == "[A=1][B=2]");
  CHECK(render("{{range .Ports}}x{{else}}no ports{{end}}") == "no ports");
  CHECK(render("{{range .Config.Env}}{{$.Id}} {{end}}") == "abc123 abc123 ");
  CHECK(render("{{range .Config.Labels}}{{.}},{{end}}") == "shop,front,");
}

TEST_CASE("go template: trimming and comments") {
  CHECK(render("a  {{- .Id -}}  b") == "aabc123b");
  CHECK(render("{{range .Config.Env -}}\n  {{.}}\n{{- end}}") == "A=1B=2");
  CHECK(render("x{{/* a comment */}}y") == "xy");
}

TEST_CASE("go template: what does not parse, or fails, is one sentence") {
  for (const char* bad :
       {"{{.Id", "{{if .Up}}x", "{{end}}", "{{}}", "{{\"open}}", "{{.Id | }}", "{{(.Id}}", "{{else}}", "{{.Id @}}"}) {
    INFO(bad);
    CHECK_THROWS_AS(GoTemplate(bad), skiff::Error);
  }
  CHECK_THROWS_WITH(render("{{nosuch .Id}}"), Catch::Contains("function \"nosuch\" not defined"));
  CHECK_THROWS_WITH(render("{{join .Id}}"), Catch::Contains("join takes 2 arguments, not 1"));
  CHECK_THROWS_WITH(render("{{lt .Id 3}}"), Catch::Contains("cannot compare"));
}

TEST_CASE("parse_format: table, json, and \\t written as two characters") {
  FormatSpec t = parse_format("table {{.ID}}\\t{{.Names}}");
  CHECK(t.kind == FormatSpec::Kind::kTable);
  CHECK(t.tmpl == "{{.ID}}\t{{.Names}}");
  CHECK(parse_format("json").kind == FormatSpec::Kind::kJson);
  CHECK(parse_format("table").kind == FormatSpec::Kind::kTable);
  CHECK(parse_format("table").tmpl.empty());
  CHECK(parse_format("{{.ID}}").kind == FormatSpec::Kind::kTemplate);
}
