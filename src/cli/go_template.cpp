#include "go_template.hpp"

#include <algorithm>
#include <cctype>
#include <variant>
#include <vector>

#include "format_table.hpp"
#include "skiff/util/error.hpp"

namespace skiff::cli {

using json = nlohmann::json;

// The tree's parts, named outside an anonymous namespace: GoTemplate::Node
// holds them, and a unity build would see a type of internal linkage there.
namespace go_template_tree {

// ------------------------------------------------------------ the tree ----

struct Pipeline;

struct Arg {
  enum class Kind { kField, kLiteral, kFunction, kPipeline };
  Kind kind = Kind::kLiteral;
  bool from_root = false;           // kField: $.A rather than .A
  std::vector<std::string> path;    // kField: .A.B is {"A", "B"}; . is {}
  json literal;                     // kLiteral
  std::string name;                 // kFunction
  std::shared_ptr<Pipeline> inner;  // kPipeline: ( ... )
};

struct Command {
  std::vector<Arg> args;
};

struct Pipeline {
  std::vector<Command> commands;
};

}  // namespace go_template_tree

using go_template_tree::Arg;
using go_template_tree::Command;
using go_template_tree::Pipeline;

struct GoTemplate::Node {
  enum class Kind { kList, kText, kAction, kIf, kRange, kWith };
  Kind kind = Kind::kList;
  std::string text;                           // kText
  std::vector<Pipeline> conditions;           // kAction: one; kIf: one per branch; kRange, kWith: one
  std::vector<std::unique_ptr<Node>> bodies;  // kList: children; kIf: one per condition; kRange, kWith: one
  std::unique_ptr<Node> otherwise;            // else
};

namespace {

using Node = GoTemplate::Node;

[[noreturn]] void bad(std::string_view tmpl, const std::string& why) {
  throw Error(fmt::format("invalid format {:?}: {}", std::string(tmpl), why));
}

// ------------------------------------------------------------- lexing ----

struct Token {
  enum class Kind { kField, kWord, kString, kNumber, kOpen, kClose, kPipe, kEnd };
  Kind kind = Kind::kEnd;
  std::string text;
};

std::vector<Token> lex_action(std::string_view s, std::string_view tmpl) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '(') {
      out.push_back({Token::Kind::kOpen, "("});
      ++i;
    } else if (c == ')') {
      out.push_back({Token::Kind::kClose, ")"});
      ++i;
    } else if (c == '|') {
      out.push_back({Token::Kind::kPipe, "|"});
      ++i;
    } else if (c == '"' || c == '`') {
      std::string text;
      size_t j = i + 1;
      for (; j < s.size() && s[j] != c; ++j) {
        if (c == '"' && s[j] == '\\' && j + 1 < s.size()) {
          char e = s[++j];
          text.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e);
        } else {
          text.push_back(s[j]);
        }
      }
      if (j >= s.size()) bad(tmpl, "a string is not closed");
      out.push_back({Token::Kind::kString, text});
      i = j + 1;
    } else if (c == '.' || c == '$') {
      size_t j = i + 1;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_' || s[j] == '.')) ++j;
      out.push_back({Token::Kind::kField, std::string(s.substr(i, j - i))});
      i = j;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '-' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      size_t j = i + 1;
      while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.')) ++j;
      out.push_back({Token::Kind::kNumber, std::string(s.substr(i, j - i))});
      i = j;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i + 1;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
      out.push_back({Token::Kind::kWord, std::string(s.substr(i, j - i))});
      i = j;
    } else {
      bad(tmpl, fmt::format("unexpected {:?} in {{{{{}}}}}", std::string(1, c), std::string(s)));
    }
  }
  return out;
}

// ------------------------------------------------------------ parsing ----

class Parser {
 public:
  explicit Parser(std::string_view tmpl) : tmpl_(tmpl) {}

  std::unique_ptr<Node> parse() {
    auto root = std::make_unique<Node>();
    std::string end = parse_list(*root);
    if (!end.empty()) bad(tmpl_, fmt::format("{{{{{}}}}} with no {{{{if}}}}, {{{{range}}}} or {{{{with}}}}", end));
    return root;
  }

 private:
  // Fills list until the end of the text or an {{end}}/{{else ...}}, whose
  // words it returns (empty at the end of the text).
  std::string parse_list(Node& list) {
    while (pos_ < tmpl_.size()) {
      size_t open = tmpl_.find("{{", pos_);
      std::string text(tmpl_.substr(pos_, open == std::string_view::npos ? std::string_view::npos : open - pos_));
      if (trim_next_) {
        text.erase(0, text.find_first_not_of(" \t\r\n") == std::string::npos ? text.size()
                                                                             : text.find_first_not_of(" \t\r\n"));
        trim_next_ = false;
      }
      if (open == std::string_view::npos) {
        add_text(list, text);
        pos_ = tmpl_.size();
        break;
      }
      size_t close = tmpl_.find("}}", open + 2);
      if (close == std::string_view::npos) bad(tmpl_, "an action {{ is not closed with }}");
      std::string_view inner = tmpl_.substr(open + 2, close - open - 2);
      if (inner.size() >= 2 && inner[0] == '-' && std::isspace(static_cast<unsigned char>(inner[1]))) {
        inner.remove_prefix(2);
        text.erase(text.find_last_not_of(" \t\r\n") == std::string::npos ? 0 : text.find_last_not_of(" \t\r\n") + 1);
      }
      add_text(list, text);
      if (inner.size() >= 2 && inner.back() == '-' &&
          std::isspace(static_cast<unsigned char>(inner[inner.size() - 2]))) {
        inner.remove_suffix(2);
        trim_next_ = true;
      }
      pos_ = close + 2;
      std::string_view trimmed = inner;
      while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front()))) trimmed.remove_prefix(1);
      if (trimmed.substr(0, 2) == "/*") continue;  // a comment
      std::vector<Token> tokens = lex_action(inner, tmpl_);
      if (tokens.empty()) bad(tmpl_, "an empty action {{}}");
      const std::string& word = tokens[0].kind == Token::Kind::kWord ? tokens[0].text : std::string();
      if (word == "end" || word == "else") return std::string(trimmed);
      if (word == "if" || word == "range" || word == "with") {
        list.bodies.push_back(parse_block(word, tokens));
        continue;
      }
      auto action = std::make_unique<Node>();
      action->kind = Node::Kind::kAction;
      size_t at = 0;
      action->conditions.push_back(parse_pipeline(tokens, at));
      list.bodies.push_back(std::move(action));
    }
    return {};
  }

  void add_text(Node& list, const std::string& text) {
    if (text.empty()) return;
    auto node = std::make_unique<Node>();
    node->kind = Node::Kind::kText;
    node->text = text;
    list.bodies.push_back(std::move(node));
  }

  std::unique_ptr<Node> parse_block(const std::string& word, const std::vector<Token>& tokens) {
    auto node = std::make_unique<Node>();
    node->kind = word == "if" ? Node::Kind::kIf : word == "range" ? Node::Kind::kRange : Node::Kind::kWith;
    size_t at = 1;
    node->conditions.push_back(parse_pipeline(tokens, at));
    for (;;) {
      auto body = std::make_unique<Node>();
      std::string end = parse_list(*body);
      node->bodies.push_back(std::move(body));
      if (end.empty()) bad(tmpl_, fmt::format("{{{{{}}}}} has no {{{{end}}}}", word));
      if (end == "end") return node;
      // {{else}} or, in an if, {{else if PIPELINE}}.
      std::vector<Token> t = lex_action(end, tmpl_);
      if (t.size() > 1 && node->kind == Node::Kind::kIf && t[1].kind == Token::Kind::kWord && t[1].text == "if") {
        size_t p = 2;
        node->conditions.push_back(parse_pipeline(t, p));
        continue;
      }
      if (t.size() != 1) bad(tmpl_, fmt::format("unexpected {{{{{}}}}}", end));
      node->otherwise = std::make_unique<Node>();
      std::string after = parse_list(*node->otherwise);
      if (after != "end") bad(tmpl_, fmt::format("{{{{{}}}}} has no {{{{end}}}}", word));
      return node;
    }
  }

  Pipeline parse_pipeline(const std::vector<Token>& t, size_t& at, bool nested = false) {
    Pipeline p;
    Command cmd;
    for (; at < t.size(); ++at) {
      const Token& tok = t[at];
      if (tok.kind == Token::Kind::kClose) {
        if (!nested) bad(tmpl_, "a ) with no (");
        break;
      }
      if (tok.kind == Token::Kind::kPipe) {
        if (cmd.args.empty()) bad(tmpl_, "a | with nothing before it");
        p.commands.push_back(std::move(cmd));
        cmd = Command();
        continue;
      }
      Arg a;
      switch (tok.kind) {
        case Token::Kind::kField: {
          a.kind = Arg::Kind::kField;
          std::string_view f = tok.text;
          if (f[0] == '$') {
            a.from_root = true;
            f.remove_prefix(1);
          }
          while (!f.empty()) {
            if (f[0] != '.') bad(tmpl_, fmt::format("{:?} is not a field", tok.text));
            f.remove_prefix(1);
            size_t dot = f.find('.');
            std::string name(f.substr(0, dot));
            if (name.empty()) {
              if (!f.empty()) bad(tmpl_, fmt::format("{:?} is not a field", tok.text));
              break;
            }
            a.path.push_back(name);
            f.remove_prefix(dot == std::string_view::npos ? f.size() : dot);
          }
          break;
        }
        case Token::Kind::kString:
          a.literal = tok.text;
          break;
        case Token::Kind::kNumber:
          a.literal = tok.text.find('.') != std::string::npos ? json(std::stod(tok.text)) : json(std::stoll(tok.text));
          break;
        case Token::Kind::kWord:
          if (tok.text == "true" || tok.text == "false") {
            a.literal = tok.text == "true";
          } else if (tok.text == "nil") {
            a.literal = nullptr;
          } else {
            a.kind = Arg::Kind::kFunction;
            a.name = tok.text;
          }
          break;
        case Token::Kind::kOpen: {
          ++at;
          a.kind = Arg::Kind::kPipeline;
          a.inner = std::make_shared<Pipeline>(parse_pipeline(t, at, true));
          if (at >= t.size()) bad(tmpl_, "a ( with no )");
          break;
        }
        default:
          break;
      }
      cmd.args.push_back(std::move(a));
    }
    if (cmd.args.empty()) bad(tmpl_, "an action with nothing to do");
    p.commands.push_back(std::move(cmd));
    return p;
  }

  std::string_view tmpl_;
  size_t pos_ = 0;
  bool trim_next_ = false;
};

// ---------------------------------------------------------- evaluation ----

const json kNoValue = json(json::value_t::discarded);

bool truthy(const json& v) {
  if (v.is_discarded() || v.is_null()) return false;
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>() != 0;
  if (v.is_string()) return !v.get_ref<const std::string&>().empty();
  if (v.is_array() || v.is_object()) return !v.empty();
  return true;
}

// Go's %v of a decoded JSON value.
std::string to_text(const json& v) {
  if (v.is_discarded()) return "<no value>";
  if (v.is_null()) return "<nil>";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (d == static_cast<double>(static_cast<int64_t>(d)) && std::abs(d) < 1e21)
      return std::to_string(static_cast<int64_t>(d));
    return fmt::format("{}", d);
  }
  std::string out;
  if (v.is_array()) {
    out = "[";
    for (const auto& e : v) out += (out.size() > 1 ? " " : "") + to_text(e);
    return out + "]";
  }
  out = "map[";
  bool first = true;
  for (const auto& [k, e] : v.items()) {  // nlohmann keeps objects sorted, as Go prints maps
    out += (first ? "" : " ") + k + ":" + to_text(e);
    first = false;
  }
  return out + "]";
}

int compare(const json& a, const json& b, const std::string& fn) {
  if (a.is_number() && b.is_number()) {
    double x = a.get<double>(), y = b.get<double>();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) return a.get<std::string>().compare(b.get<std::string>());
  if (fn == "eq" || fn == "ne") return a == b ? 0 : 1;
  throw Error(fmt::format("{}: cannot compare {} with {}", fn, a.type_name(), b.type_name()));
}

std::string go_printf(const std::string& format, const std::vector<json>& args) {
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      out.push_back(format[i]);
      continue;
    }
    size_t j = i + 1;
    bool left = false;
    if (j < format.size() && format[j] == '-') {
      left = true;
      ++j;
    }
    size_t width = 0;
    while (j < format.size() && std::isdigit(static_cast<unsigned char>(format[j])))
      width = width * 10 + (format[j++] - '0');
    if (j >= format.size()) {
      out += format.substr(i);
      break;
    }
    char verb = format[j];
    i = j;
    if (verb == '%') {
      out.push_back('%');
      continue;
    }
    if (next >= args.size()) {
      out += fmt::format("%!{}(MISSING)", verb);
      continue;
    }
    const json& a = args[next++];
    std::string s = verb == 'q' ? json(to_text(a)).dump() : to_text(a);
    if (s.size() < width) s = left ? s + std::string(width - s.size(), ' ') : std::string(width - s.size(), ' ') + s;
    out += s;
  }
  return out;
}

class Evaluator {
 public:
  explicit Evaluator(const json& root) : root_(root) {}

  void run(const Node& n, const json& dot, std::string& out) const {
    switch (n.kind) {
      case Node::Kind::kList:
        for (const auto& child : n.bodies) run(*child, dot, out);
        break;
      case Node::Kind::kText:
        out += n.text;
        break;
      case Node::Kind::kAction:
        out += to_text(eval(n.conditions[0], dot));
        break;
      case Node::Kind::kIf:
        for (size_t i = 0; i < n.conditions.size(); ++i)
          if (truthy(eval(n.conditions[i], dot))) return run(*n.bodies[i], dot, out);
        if (n.otherwise) run(*n.otherwise, dot, out);
        break;
      case Node::Kind::kWith: {
        json v = eval(n.conditions[0], dot);
        if (truthy(v))
          run(*n.bodies[0], v, out);
        else if (n.otherwise)
          run(*n.otherwise, dot, out);
        break;
      }
      case Node::Kind::kRange: {
        json v = eval(n.conditions[0], dot);
        bool any = false;
        if (v.is_array() || v.is_object())
          for (const auto& e : v) {
            any = true;
            run(*n.bodies[0], e, out);
          }
        else if (truthy(v))
          throw Error(fmt::format("range cannot go over {}", to_text(v)));
        if (!any && n.otherwise) run(*n.otherwise, dot, out);
        break;
      }
    }
  }

 private:
  json eval(const Pipeline& p, const json& dot) const {
    json piped = kNoValue;
    bool has_piped = false;
    for (const Command& c : p.commands) {
      piped = eval_command(c, dot, has_piped ? &piped : nullptr);
      has_piped = true;
    }
    return piped;
  }

  json eval_arg(const Arg& a, const json& dot) const {
    switch (a.kind) {
      case Arg::Kind::kLiteral:
        return a.literal;
      case Arg::Kind::kPipeline:
        return eval(*a.inner, dot);
      case Arg::Kind::kFunction:
        return call(a.name, {});
      case Arg::Kind::kField: {
        const json* v = a.from_root ? &root_ : &dot;
        for (const auto& name : a.path) {
          if (!v->is_object()) return kNoValue;
          auto it = v->find(name);
          if (it == v->end()) return kNoValue;
          v = &*it;
        }
        return *v;
      }
    }
    return kNoValue;
  }

  json eval_command(const Command& c, const json& dot, const json* piped) const {
    const Arg& first = c.args[0];
    if (first.kind != Arg::Kind::kFunction) {
      if (c.args.size() > 1 || piped) throw Error(fmt::format("{} is not a function", to_text(eval_arg(first, dot))));
      return eval_arg(first, dot);
    }
    std::vector<json> args;
    for (size_t i = 1; i < c.args.size(); ++i) args.push_back(eval_arg(c.args[i], dot));
    if (piped) args.push_back(*piped);
    return call(first.name, args);
  }

  static json call(const std::string& fn, const std::vector<json>& args) {
    auto need = [&](size_t n) {
      if (args.size() != n)
        throw Error(fmt::format("{} takes {} argument{}, not {}", fn, n, n == 1 ? "" : "s", args.size()));
    };
    auto text = [&](size_t i) { return to_text(args[i]); };
    if (fn == "json") {
      need(1);
      return args[0].is_discarded() ? json("null") : json(args[0].dump());
    }
    if (fn == "lower" || fn == "upper" || fn == "title") {
      need(1);
      std::string s = text(0);
      bool start = true;
      for (char& ch : s) {
        unsigned char u = static_cast<unsigned char>(ch);
        if (fn == "lower") ch = static_cast<char>(std::tolower(u));
        if (fn == "upper") ch = static_cast<char>(std::toupper(u));
        if (fn == "title" && start) ch = static_cast<char>(std::toupper(u));
        start = std::isspace(u);
      }
      return s;
    }
    if (fn == "join") {
      need(2);
      std::string out;
      if (args[0].is_array())
        for (size_t i = 0; i < args[0].size(); ++i) out += (i ? text(1) : "") + to_text(args[0][i]);
      else
        out = text(0);
      return out;
    }
    if (fn == "split") {
      need(2);
      json out = json::array();
      std::string s = text(0), sep = text(1);
      if (sep.empty()) {
        for (char ch : s) out.push_back(std::string(1, ch));
        return out;
      }
      size_t start = 0;
      for (size_t at; (at = s.find(sep, start)) != std::string::npos; start = at + sep.size())
        out.push_back(s.substr(start, at - start));
      out.push_back(s.substr(start));
      return out;
    }
    if (fn == "len") {
      need(1);
      if (args[0].is_string()) return args[0].get<std::string>().size();
      if (args[0].is_array() || args[0].is_object()) return args[0].size();
      throw Error(fmt::format("len of {}", to_text(args[0])));
    }
    if (fn == "index") {
      if (args.empty()) need(2);
      json v = args[0];
      for (size_t i = 1; i < args.size(); ++i) {
        if (v.is_array() && args[i].is_number_integer()) {
          int64_t k = args[i].get<int64_t>();
          if (k < 0 || static_cast<size_t>(k) >= v.size()) throw Error(fmt::format("index {} out of range", k));
          v = v[static_cast<size_t>(k)];
        } else if (v.is_object() && v.contains(to_text(args[i]))) {
          v = v[to_text(args[i])];
        } else {
          v = kNoValue;
        }
      }
      return v;
    }
    if (fn == "printf") {
      if (args.empty()) need(1);
      return go_printf(text(0), std::vector<json>(args.begin() + 1, args.end()));
    }
    if (fn == "print" || fn == "println") {
      std::string out;
      for (size_t i = 0; i < args.size(); ++i) out += (i && fn == "println" ? " " : "") + text(i);
      return fn == "println" ? out + "\n" : out;
    }
    if (fn == "truncate") {
      need(2);
      std::string s = text(0);
      size_t n = args[1].is_number() ? args[1].get<size_t>() : s.size();
      return s.substr(0, std::min(n, s.size()));
    }
    if (fn == "pad") {
      need(3);
      return std::string(args[1].is_number() ? args[1].get<size_t>() : 0, ' ') + text(0) +
             std::string(args[2].is_number() ? args[2].get<size_t>() : 0, ' ');
    }
    if (fn == "not") {
      need(1);
      return !truthy(args[0]);
    }
    if (fn == "and" || fn == "or") {
      if (args.empty()) need(2);
      for (const auto& a : args)
        if (truthy(a) != (fn == "and")) return a;
      return args.back();
    }
    if (fn == "eq") {
      if (args.size() < 2) need(2);
      for (size_t i = 1; i < args.size(); ++i)
        if (compare(args[0], args[i], fn) == 0) return true;
      return false;
    }
    if (fn == "ne" || fn == "lt" || fn == "le" || fn == "gt" || fn == "ge") {
      need(2);
      int c = compare(args[0], args[1], fn);
      if (fn == "ne") return c != 0;
      if (fn == "lt") return c < 0;
      if (fn == "le") return c <= 0;
      if (fn == "gt") return c > 0;
      return c >= 0;
    }
    throw Error(fmt::format("function {:?} not defined", fn));
  }

  const json& root_;
};

}  // namespace

GoTemplate::GoTemplate(std::string_view text) : text_(text) {
  root_ = Parser(text_).parse();
}
GoTemplate::~GoTemplate() = default;
GoTemplate::GoTemplate(GoTemplate&&) noexcept = default;
GoTemplate& GoTemplate::operator=(GoTemplate&&) noexcept = default;

std::string GoTemplate::render(const json& data) const {
  std::string out;
  try {
    Evaluator(data).run(*root_, data, out);
  } catch (const Error& e) {
    throw Error(fmt::format("template {:?}: {}", text_, e.what()));
  }
  return out;
}

FormatSpec parse_format(std::string_view format) {
  FormatSpec spec;
  if (format == "json") {
    spec.kind = FormatSpec::Kind::kJson;
    return spec;
  }
  if (format == "table" || format.substr(0, 6) == "table ") {
    spec.kind = FormatSpec::Kind::kTable;
    format.remove_prefix(std::min<size_t>(6, format.size()));
  }
  spec.tmpl = std::string(format);
  // docker reads the two-character "\t" and "\n" of a shell's single quotes as a tab and a newline.
  for (auto [from, to] : {std::pair{"\\t", "\t"}, std::pair{"\\n", "\n"}})
    for (size_t at; (at = spec.tmpl.find(from)) != std::string::npos;) spec.tmpl.replace(at, 2, to);
  return spec;
}

void print_formatted(const FormatSpec& spec, const std::vector<json>& rows, const json& headers,
                     std::string_view default_table) {
  if (spec.kind == FormatSpec::Kind::kJson) {
    for (const auto& r : rows) fmt::print("{}\n", r.dump());
    return;
  }
  GoTemplate tmpl(spec.kind == FormatSpec::Kind::kTable && spec.tmpl.empty() ? default_table : spec.tmpl);
  if (spec.kind == FormatSpec::Kind::kTemplate) {
    for (const auto& r : rows) fmt::print("{}\n", tmpl.render(r));
    return;
  }
  auto cells = [](const std::string& line) {
    std::vector<std::string> out;
    size_t start = 0;
    for (size_t tab; (tab = line.find('\t', start)) != std::string::npos; start = tab + 1)
      out.push_back(line.substr(start, tab - start));
    out.push_back(line.substr(start));
    return out;
  };
  Table table(cells(tmpl.render(headers)));
  for (const auto& r : rows) table.add(cells(tmpl.render(r)));
  table.print();
}

}  // namespace skiff::cli
