#include "ps_output.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "skiff/util/error.hpp"

namespace skiff::cli {

namespace {

// Fields split at ASCII blanks only (docker's fieldsASCII: a command's
// arguments may hold other Unicode spaces).
std::vector<std::string> ascii_fields(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  while (i < line.size()) {
    while (i < line.size() && blank(line[i])) ++i;
    size_t start = i;
    while (i < line.size() && !blank(line[i])) ++i;
    if (i > start) out.emplace_back(line.substr(start, i - start));
  }
  return out;
}

}  // namespace

std::vector<std::string> ps_arguments(const std::vector<std::string>& options) {
  std::vector<std::string> args;
  for (const auto& option : options)
    for (auto& word : ascii_fields(option)) args.push_back(std::move(word));
  if (args.empty()) return {"-ef"};
  // "-o comm=PID" (or "comm= PID") would title the command's column PID,
  // and its values would be taken for pids.
  for (size_t i = 0; i < args.size(); ++i) {
    size_t eq = args[i].rfind('=');
    if (eq == std::string::npos) continue;
    std::string key = args[i].substr(0, eq);
    std::string title = args[i].substr(eq + 1);
    if (title.empty() && i + 1 < args.size()) title = args[i + 1];
    std::string_view column = std::string_view(key).substr(key.rfind(',') + 1);  // the column titled
    if (title.rfind("PID", 0) != 0 || column == "pid" || column == "-opid") continue;
    throw Error(
        fmt::format("specifying \"{}={}\" is not allowed: top finds a container's processes by the column "
                    "titled PID",
                    key, title));
  }
  return args;
}

PsTable filter_ps_output(std::string_view output, std::span<const pid_t> pids) {
  PsTable table;
  size_t eol = output.find('\n');
  table.titles = ascii_fields(output.substr(0, eol));
  auto pid_column = std::find(table.titles.begin(), table.titles.end(), "PID");
  if (pid_column == table.titles.end())
    throw Error("ps printed no PID column: top needs it to find the container's processes", 0,
                "with -o, name pid among the columns");
  size_t at = static_cast<size_t>(pid_column - table.titles.begin());
  bool last_kept = false;
  while (eol != std::string_view::npos) {
    size_t start = eol + 1;
    eol = output.find('\n', start);
    std::string_view line = output.substr(start, eol == std::string_view::npos ? eol : eol - start);
    std::vector<std::string> fields = ascii_fields(line);
    if (fields.empty()) continue;
    if (fields.size() <= at) throw Error(fmt::format("ps printed a row without a PID: {:?}", line));
    const std::string& cell = fields[at];
    if (cell == "-") {  // a thread of the process above
      if (!last_kept) continue;
    } else {
      pid_t pid = 0;
      auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), pid);
      if (ec != std::errc() || end != cell.data() + cell.size())
        throw Error(fmt::format("ps printed {:?} where a PID was expected", cell));
      last_kept = std::binary_search(pids.begin(), pids.end(), pid);
      if (!last_kept) continue;
    }
    std::vector<std::string> row(fields.begin(), fields.begin() + std::min(fields.size(), table.titles.size() - 1));
    std::string rest;
    for (size_t i = row.size(); i < fields.size(); ++i) rest += (rest.empty() ? "" : " ") + fields[i];
    row.push_back(std::move(rest));
    row.resize(table.titles.size());
    table.rows.push_back(std::move(row));
  }
  return table;
}

}  // namespace skiff::cli
