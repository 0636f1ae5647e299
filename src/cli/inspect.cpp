// skiff inspect, container inspect and image inspect: docker's JSON of
// containers and images, or each through a --format template.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli_context.hpp"
#include "go_template.hpp"
#include "skiff/engine/container_inspect.hpp"
#include "skiff/image/image_store.hpp"
#include "skiff/image/reference.hpp"
#include "skiff/util/error.hpp"

namespace skiff::cli {

namespace {

// Objects keep docker's order of fields.
using ordered_json = nlohmann::ordered_json;

// "docker.io/library/busybox:latest" -> "busybox:latest", as docker's RepoTags.
std::string familiar_tagged(const std::string& full) {
  size_t colon = full.rfind(':');
  return image::familiar_name(full.substr(0, colon)) + full.substr(colon);
}

ordered_json image_inspect_json(const image::ImageStore& store, const image::ImageRecord& rec) {
  auto content = store.load(rec);
  ordered_json tags = ordered_json::array();
  for (const auto& n : rec.names) tags.push_back(familiar_tagged(n));
  ordered_json digests = ordered_json::array();
  for (const auto& d : rec.repo_digests)
    digests.push_back(image::familiar_name(d.substr(0, d.find('@'))) + d.substr(d.find('@')));
  std::string comment;
  if (auto h = content.config.find("history"); h != content.config.end() && h->is_array() && !h->empty())
    comment = h->back().value("comment", "");
  return ordered_json{{"Id", rec.id},
                      {"RepoTags", tags},
                      {"RepoDigests", digests},
                      {"Parent", ""},
                      {"Comment", comment},
                      {"Created", content.config.value("created", rec.created)},
                      {"Config", content.config.value("config", nlohmann::json::object())},
                      {"Architecture", content.config.value("architecture", "")},
                      {"Os", content.config.value("os", "")},
                      {"Size", rec.size},
                      {"RootFS", {{"Type", "layers"}, {"Layers", content.diff_ids}}},
                      {"Manifest", rec.manifest},
                      {"History", content.config.value("history", nlohmann::json::array())}};
}

// -f: docker's inspect applies the template to each object, one line each;
// "json" prints each object's JSON on a line. Without it, one JSON array
// indented by four spaces. The template is parsed before anything is
// looked up: a mistake in it is said alone.
class InspectPrinter {
 public:
  explicit InspectPrinter(const std::string& format) : format_(format) {
    if (!format_.empty() && format_ != "json") tmpl_.emplace(format_);
  }
  void add(ordered_json object) { found_.push_back(std::move(object)); }
  // Prints what was found; then the errors, on stderr (docker's order).
  void print() const {
    if (format_.empty())
      fmt::print("{}\n", ordered_json(found_).dump(4));
    else
      for (const auto& o : found_) fmt::print("{}\n", tmpl_ ? tmpl_->render(nlohmann::json(o)) : o.dump());
    std::fflush(stdout);
  }

 private:
  std::string format_;
  std::optional<GoTemplate> tmpl_;
  std::vector<ordered_json> found_;
};

// What a name that inspect did not find prints; docker exits 1 after the
// objects it found.
void not_found(CliContext& ctx, const std::string& message) {
  fmt::print(stderr, "Error: {}\n", message);
  ctx.exit_code = 1;
}

void add_format_option(CLI::App* cmd, std::string& format) {
  cmd->add_option("-f,--format", format, "Go template applied to each object, or json")
      ->type_name("TEMPLATE")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}

// Whether an error of ContainerStore::resolve says only that nothing has the name.
bool is_no_such_container(const Error& e) {
  return std::string_view(e.what()).rfind("no such container: ", 0) == 0;
}

void configure_top_inspect(CLI::App* cmd, CliContext& ctx) {
  struct Flags {
    std::string format, type;
    bool size = false;
    std::vector<std::string> names;
  };
  auto f = std::make_shared<Flags>();
  add_format_option(cmd, f->format);
  cmd->add_option("--type", f->type, "only objects of this type: container or image")->type_name("TYPE");
  cmd->add_flag("-s,--size", f->size, "add containers' sizes (SizeRw, SizeRootFs)");
  cmd->add_option("names", f->names, "NAME|ID...")->required();
  cmd->callback([f, &ctx] {
    if (!f->type.empty() && f->type != "container" && f->type != "image")
      throw Error(fmt::format("invalid --type {:?}: skiff inspects containers and images", f->type));
    InspectPrinter out(f->format);
    auto paths = ctx.paths();
    image::ImageStore images(paths);
    std::vector<std::string> errors;
    for (const auto& n : f->names) {
      std::string container_error;
      if (f->type != "image") {
        try {
          out.add(engine::container_inspect_json(engine::read_container_inspect(paths, n, f->size)));
          continue;
        } catch (const Error& e) {
          if (!is_no_such_container(e)) container_error = e.what();
        }
      }
      if (f->type != "container") {
        std::optional<image::ImageRecord> rec;
        try {
          rec = images.find(n);
        } catch (const Error&) {
          // Not an image reference either.
        }
        if (rec) {
          out.add(image_inspect_json(images, *rec));
          continue;
        }
      }
      if (!container_error.empty())
        errors.push_back(container_error);
      else
        errors.push_back(fmt::format("No such {}: {}", f->type.empty() ? "object" : f->type, n));
    }
    out.print();
    for (const auto& e : errors) not_found(ctx, e);
  });
}

void configure_container_inspect(CLI::App* cmd, CliContext& ctx) {
  struct Flags {
    std::string format;
    bool size = false;
    std::vector<std::string> names;
  };
  auto f = std::make_shared<Flags>();
  add_format_option(cmd, f->format);
  cmd->add_flag("-s,--size", f->size, "add the sizes (SizeRw, SizeRootFs)");
  cmd->add_option("containers", f->names, "CONTAINER...")->required();
  cmd->callback([f, &ctx] {
    InspectPrinter out(f->format);
    auto paths = ctx.paths();
    std::vector<std::string> errors;
    for (const auto& n : f->names) {
      try {
        out.add(engine::container_inspect_json(engine::read_container_inspect(paths, n, f->size)));
      } catch (const Error& e) {
        errors.push_back(is_no_such_container(e) ? "No such container: " + n : e.what());
      }
    }
    out.print();
    for (const auto& e : errors) not_found(ctx, e);
  });
}

void configure_image_inspect(CLI::App* cmd, CliContext& ctx) {
  struct Flags {
    std::string format;
    std::vector<std::string> names;
  };
  auto f = std::make_shared<Flags>();
  add_format_option(cmd, f->format);
  cmd->add_option("images", f->names, "IMAGE...")->required();
  cmd->callback([f, &ctx] {
    InspectPrinter out(f->format);
    image::ImageStore store(ctx.paths());
    std::vector<std::string> errors;
    for (const auto& n : f->names) {
      try {
        out.add(image_inspect_json(store, store.resolve(n)));
      } catch (const Error& e) {
        errors.push_back(e.what());
      }
    }
    out.print();
    for (const auto& e : errors) fmt::print(stderr, "skiff: {}\n", e);
    if (!errors.empty()) ctx.exit_code = kExitSkiffError;
  });
}

}  // namespace

void add_inspect_commands(CLI::App& app, CliContext& ctx) {
  configure_top_inspect(app.add_subcommand("inspect", "show containers' and images' details as JSON"), ctx);
  auto group = [&](const std::string& name) -> CLI::App* {
    auto found = app.get_subcommands([&](const CLI::App* s) { return s->get_name() == name; });
    return found.empty() ? nullptr : found.front();
  };
  if (CLI::App* image = group("image"))
    configure_image_inspect(image->add_subcommand("inspect", "show images' details as JSON"), ctx);
  if (CLI::App* container = group("container"))
    configure_container_inspect(container->add_subcommand("inspect", "show containers' details as JSON"), ctx);
}

}  // namespace skiff::cli
