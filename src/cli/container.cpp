// skiff ps | container ls, rm | container rm, container prune, and the container group.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "cli_context.hpp"
#include "each_container.hpp"
#include "format_table.hpp"
#include "go_template.hpp"
#include "skiff/engine/container_remove.hpp"
#include "skiff/engine/container_store.hpp"
#include "skiff/image/reference.hpp"
#include "skiff/net/ports.hpp"
#include "skiff/util/error.hpp"

namespace skiff::cli {

void add_container_run(CLI::App& container, CliContext& ctx);
void add_container_exec(CLI::App& container, CliContext& ctx);

namespace {

std::string quote_command(const std::vector<std::string>& args, bool no_trunc) {
  std::string cmd;
  for (const auto& a : args) cmd += (cmd.empty() ? "" : " ") + a;
  if (!no_trunc && cmd.size() > 20) cmd = cmd.substr(0, 19) + "…";
  return "\"" + cmd + "\"";
}

std::string status_text(const engine::ContainerView& v) {
  if (v.running && v.state.status == engine::ContainerStatus::kRestarting)
    return fmt::format("Restarting ({}) {}", v.state.exit_code, ago(v.state.finished));
  if (v.running && v.state.started.empty()) return "Created";
  if (v.running) return "Up " + human_duration(time(nullptr) - parse_rfc3339(v.state.started));
  if (v.state.status == engine::ContainerStatus::kExited)
    return fmt::format("Exited ({}) {}", v.state.exit_code, ago(v.state.finished));
  if (v.state.status == engine::ContainerStatus::kRestarting)  // its monitor was killed
    return fmt::format("Exited ({}) {}", v.state.exit_code, ago(v.state.finished));
  if (v.state.status == engine::ContainerStatus::kRunning) return "Exited (unknown)";  // its skiff was killed
  return "Created";
}

// Whether two image names name the same image: "bb", "bb:latest" and
// "docker.io/library/bb" do.
bool same_image(const std::string& a, const std::string& b) {
  if (a == b) return true;
  try {
    return image::parse_reference(a).str() == image::parse_reference(b).str();
  } catch (const Error&) {
    return false;
  }
}

// "a=1,b=2", as docker's ps shows labels.
std::string labels_text(const std::map<std::string, std::string>& labels) {
  std::string out;
  for (const auto& [k, v] : labels) out += (out.empty() ? "" : ",") + k + "=" + v;
  return out;
}

// ps's row for --format, with docker's field names.
nlohmann::json ps_row(const engine::ContainerView& v, bool no_trunc) {
  std::string command;
  for (const auto& a : v.record.command) command += (command.empty() ? "" : " ") + a;
  const char* state = v.running ? (v.state.status == engine::ContainerStatus::kRestarting ? "restarting"
                                   : v.state.started.empty()                              ? "created"
                                                                                          : "running")
                      : v.state.status == engine::ContainerStatus::kCreated ? "created"
                                                                            : "exited";
  return {{"ID", no_trunc ? v.record.id : v.record.id.substr(0, 12)},
          {"Image", v.record.image},
          {"ImageID", v.record.image_id},
          {"Command", quote_command(v.record.command, no_trunc)},
          {"CreatedAt", v.record.created},
          {"RunningFor", ago(v.record.created)},
          {"Ports", v.running ? net::ps_text(v.record.ports) : ""},
          {"Status", status_text(v)},
          {"State", state},
          {"Names", v.record.name},
          {"Labels", labels_text(v.record.labels)},
          {"Mounts", ""},
          {"Networks", ""},
          {"Size", ""},
          {"Pid", v.running ? v.state.pid : 0},
          {"ExitCode", v.state.exit_code}};
}

// docker ps --filter KEY=VALUE: status, name, id, ancestor, exited, label.
// Filters of one key match when any does; of different keys, when all do.
class PsFilter {
 public:
  explicit PsFilter(const std::vector<std::string>& filters) {
    for (const auto& f : filters) {
      size_t eq = f.find('=');
      std::string key = f.substr(0, eq);
      if (eq == std::string::npos || eq + 1 == f.size())
        throw Error(fmt::format("invalid filter {:?}: expected KEY=VALUE", f));
      static const std::set<std::string> kKeys = {"status", "name", "id", "ancestor", "exited", "label"};
      if (!kKeys.count(key))
        throw Error(fmt::format("invalid filter {:?}", key), 0,
                    "the filters are status, name, id, ancestor, exited and label");
      std::string value = f.substr(eq + 1);
      if (key == "exited" && value.find_first_not_of("0123456789") != std::string::npos)
        throw Error(fmt::format("invalid filter 'exited={}': an exit code is a number", value));
      if (key == "status") {
        static const std::set<std::string> kStatus = {"created", "restarting", "running", "removing",
                                                      "paused",  "exited",     "dead"};
        if (!kStatus.count(value))
          throw Error(fmt::format("invalid filter 'status={}'", value), 0,
                      "a status is created, restarting, running, removing, paused, exited or dead");
      }
      by_key_[key].push_back(value);
    }
  }
  // Whether a filter names a status (then ps shows stopped ones too, as docker).
  bool has(const std::string& key) const { return by_key_.count(key) > 0; }

  bool match(const nlohmann::json& row, const engine::ContainerView& v) const {
    for (const auto& [key, values] : by_key_) {
      bool any = false;
      for (const auto& value : values) {
        if (key == "status")
          any |= row["State"] == value;
        else if (key == "name")
          any |= v.record.name.find(value) != std::string::npos;
        else if (key == "id")
          any |= v.record.id.rfind(value, 0) == 0;
        else if (key == "ancestor")
          any |= same_image(v.record.image, value) || v.record.image_id == value ||
                 (value.size() >= 4 && v.record.image_id.rfind("sha256:" + value, 0) == 0);
        else if (key == "exited")
          any |= row["State"] == "exited" && std::to_string(v.state.exit_code) == value;
        else if (key == "label") {
          // label=KEY or label=KEY=VALUE
          size_t eq = value.find('=');
          auto it = v.record.labels.find(value.substr(0, eq));
          any |= it != v.record.labels.end() && (eq == std::string::npos || it->second == value.substr(eq + 1));
        }
      }
      if (!any) return false;
    }
    return true;
  }

 private:
  std::map<std::string, std::vector<std::string>> by_key_;
};

void configure_ps(CLI::App* cmd, CliContext& ctx) {
  struct Flags {
    bool all = false, quiet = false, no_trunc = false, latest = false;
    int last = -1;
    std::vector<std::string> filters;
    std::string format;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_flag("-a,--all", f->all, "show all containers (default: running only)");
  cmd->add_flag("-q,--quiet", f->quiet, "only show container IDs");
  cmd->add_flag("--no-trunc", f->no_trunc, "do not truncate output");
  cmd->add_option("-f,--filter", f->filters, "filter: status=, name=, id=, ancestor=, exited=, label=")
      ->type_name("KEY=VALUE");
  cmd->add_option("--format", f->format, "Go template, table [TEMPLATE] or json")
      ->type_name("FORMAT")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  cmd->add_option("-n,--last", f->last, "show the N last created containers (all states)")->type_name("N");
  cmd->add_flag("-l,--latest", f->latest, "show the last created container (all states)");
  cmd->callback([f, &ctx] {
    auto paths = ctx.paths();
    PsFilter filter(f->filters);
    std::optional<FormatSpec> format;
    if (!f->format.empty()) {
      format = parse_format(f->format);
      GoTemplate check(format->tmpl);  // a mistake is said before anything, -q or not
    }
    std::vector<engine::ContainerView> views = engine::ContainerStore(paths).list();
    engine::remove_left_by_killed_runs(paths, views);  // --rm was asked of them
    size_t limit = f->latest ? 1 : f->last >= 0 ? static_cast<size_t>(f->last) : SIZE_MAX;
    bool all = f->all || limit != SIZE_MAX || filter.has("status") || filter.has("exited");
    std::vector<nlohmann::json> rows;
    for (const auto& v : views) {  // newest first
      if (rows.size() >= limit) break;
      if (!all && !v.running) continue;
      nlohmann::json row = ps_row(v, f->no_trunc);
      if (!filter.match(row, v)) continue;
      rows.push_back(std::move(row));
    }
    if (f->quiet) {
      for (const auto& r : rows) fmt::print("{}\n", r["ID"].get<std::string>());
      return;
    }
    static const nlohmann::json kHeaders = {
        {"ID", "CONTAINER ID"},      {"Image", "IMAGE"},        {"ImageID", "IMAGE ID"}, {"Command", "COMMAND"},
        {"CreatedAt", "CREATED AT"}, {"RunningFor", "CREATED"}, {"Ports", "PORTS"},      {"Status", "STATUS"},
        {"State", "STATE"},          {"Names", "NAMES"},        {"Labels", "LABELS"},    {"Mounts", "MOUNTS"},
        {"Networks", "NETWORKS"},    {"Size", "SIZE"},          {"Pid", "PID"},          {"ExitCode", "EXIT CODE"}};
    print_formatted(format.value_or(FormatSpec{.kind = FormatSpec::Kind::kTable}), rows, kHeaders,
                    "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}");
  });
}

void configure_rm(CLI::App* cmd, CliContext& ctx) {
  struct Flags {
    bool force = false;
    std::vector<std::string> names;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_flag("-f,--force", f->force, "kill and remove a running container");
  cmd->add_option("containers", f->names, "CONTAINER...")->required();
  cmd->callback([f, &ctx] {
    auto paths = ctx.paths();
    for_each_container(ctx, f->names, [&](const std::string& n) {
      engine::remove_container(paths, n, f->force);
      fmt::print("{}\n", n);
    });
  });
}

void configure_rename(CLI::App* cmd, CliContext& ctx) {
  auto names = std::make_shared<std::vector<std::string>>();
  cmd->add_option("names", *names, "CONTAINER NEW_NAME")->required()->expected(2);
  cmd->callback([names, &ctx] { engine::ContainerStore(ctx.paths()).rename((*names)[0], (*names)[1]); });
}

void configure_prune(CLI::App* cmd, CliContext& ctx) {
  auto force = std::make_shared<bool>(false);
  cmd->add_flag("-f,--force", *force, "do not prompt for confirmation");
  cmd->callback([force, &ctx] {
    if (!*force) {
      fmt::print("WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ");
      std::fflush(stdout);
      char answer[16] = {};
      if (!std::fgets(answer, sizeof answer, stdin) || (answer[0] != 'y' && answer[0] != 'Y')) return;
    }
    engine::PruneResult result = engine::prune_containers(ctx.paths());
    if (!result.removed.empty()) {
      fmt::print("Deleted Containers:\n");
      for (const auto& id : result.removed) fmt::print("{}\n", id);
      fmt::print("\n");
    }
    fmt::print("Total reclaimed space: {}\n", human_size(result.reclaimed));
  });
}

}  // namespace

void add_container_commands(CLI::App& app, CliContext& ctx) {
  configure_ps(app.add_subcommand("ps", "list containers"), ctx);
  configure_rm(app.add_subcommand("rm", "remove containers"), ctx);
  configure_rename(app.add_subcommand("rename", "rename a container"), ctx);
  auto* container = app.add_subcommand("container", "manage containers");
  container->require_subcommand(1);
  configure_ps(container->add_subcommand("ls", "list containers")->alias("list")->alias("ps"), ctx);
  configure_rm(container->add_subcommand("rm", "remove containers"), ctx);
  configure_prune(container->add_subcommand("prune", "remove all stopped containers"), ctx);
  configure_rename(container->add_subcommand("rename", "rename a container"), ctx);
  add_container_run(*container, ctx);
  add_container_lifecycle(*container, ctx);
  add_container_exec(*container, ctx);
}

}  // namespace skiff::cli
