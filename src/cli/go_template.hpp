// docker's --format: Go's text/template over a JSON value, as docker and
// podman apply it to inspect, ps, images and the rest. The part of the
// language people write: {{.Field.Sub}}, {{.}}, pipelines with |, {{if}}
// {{else if}} {{else}} {{end}}, {{range}} (with {{else}}), {{with}},
// comparisons (eq ne lt le gt ge) and and/or/not, string and number
// literals, {{- and -}} trimming, and docker's functions json, lower,
// upper, title, join, split, index, len, printf, println, truncate, pad.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace skiff::cli {

class GoTemplate {
 public:
  // Throws Error in one sentence ("invalid format ...: ...") for a template
  // that does not parse.
  explicit GoTemplate(std::string_view text);
  ~GoTemplate();
  GoTemplate(GoTemplate&&) noexcept;
  GoTemplate& operator=(GoTemplate&&) noexcept;

  // The template applied to data. Throws Error for what fails while it
  // runs (a function given the wrong arguments).
  std::string render(const nlohmann::json& data) const;

  struct Node;

 private:
  std::unique_ptr<Node> root_;
  std::string text_;
};

// What docker's --format takes besides a template: "table" and "table
// TEMPLATE" (a header row, columns aligned), "json" (one JSON object per
// line). For a table, header is the template applied to the column names.
struct FormatSpec {
  enum class Kind { kTemplate, kTable, kJson };
  Kind kind = Kind::kTemplate;
  std::string tmpl;  // kTemplate, kTable: the template without "table "
};
FormatSpec parse_format(std::string_view format);

// Prints rows as --format asks: each row through the template, one line
// each; a table with the header row the template makes of headers (the
// column name of each field), columns aligned; or JSON lines. A table with
// no template is default's.
void print_formatted(const FormatSpec& spec, const std::vector<nlohmann::json>& rows, const nlohmann::json& headers,
                     std::string_view default_table);

}  // namespace skiff::cli
