// skiff build, commit, history and diff (and their image/container forms).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli_context.hpp"
#include "format_table.hpp"
#include "go_template.hpp"
#include "skiff/build/build_events.hpp"
#include "skiff/build/dockerignore.hpp"
#include "skiff/build/image_build.hpp"
#include "skiff/engine/image_commit.hpp"
#include "skiff/engine/run_options_parse.hpp"
#include "skiff/engine/transfer_events.hpp"
#include "skiff/image/image_store.hpp"
#include "skiff/image/reference.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"
#include "transfer_progress.hpp"

namespace skiff::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A build's steps as podman prints them, on stdout; with -q nothing but a
// failed RUN step's output (on stderr).
class BuildOutput : public build::BuildEvents {
 public:
  explicit BuildOutput(bool quiet)
      : quiet_(quiet),
        pulls_(quiet ? std::unique_ptr<engine::TransferEvents>(std::make_unique<engine::QuietEvents>())
                     : make_transfer_progress(stdout)) {}
  void step(size_t stage_no, size_t stages, int step, int steps, std::string_view instruction) override {
    if (stages > 1)
      say(fmt::format("[{}/{}] STEP {}/{}: {}", stage_no, stages, step, steps, instruction));
    else
      say(fmt::format("STEP {}/{}: {}", step, steps, instruction));
  }
  void cached(std::string_view short_id) override { say(fmt::format("--> Using cache {}", short_id)); }
  void layer_made(std::string_view short_id) override { say(fmt::format("--> {}", short_id)); }
  void committed(std::string_view name, std::string_view short_id, const std::vector<std::string>& tags) override {
    say(name.empty() ? std::string("COMMIT") : fmt::format("COMMIT {}", name));
    say(fmt::format("--> {}", short_id));
    for (const auto& t : tags) say(fmt::format("Successfully tagged {}", t));
  }
  void failed_step_output(std::string_view output) override { write_all(2, output); }
  engine::TransferEvents& pulls() override { return *pulls_; }

 private:
  void say(const std::string& line) const {
    if (quiet_) return;
    fmt::print("{}\n", line);
    fflush(stdout);
  }
  bool quiet_;
  std::unique_ptr<engine::TransferEvents> pulls_;
};

std::pair<std::string, std::string> key_value(const std::string& text, const char* flag, bool from_env) {
  size_t eq = text.find('=');
  if (eq == 0 || text.empty()) throw Error(fmt::format("{} {:?}: give KEY=VALUE", flag, text));
  if (eq != std::string::npos) return {text.substr(0, eq), text.substr(eq + 1)};
  if (!from_env) return {text, ""};
  const char* v = getenv(text.c_str());
  return {text, v ? v : ""};
}

std::string read_stdin() {
  return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
}

bool looks_like_archive(std::string_view s) {
  return s.starts_with("\x1f\x8b") ||
         s.starts_with(
             "\xfd"
             "7zXZ") ||
         s.starts_with("BZh") || (s.size() >= 262 && s.substr(257, 5) == "ustar");
}

// --secret id=ID,src=FILE (also source=, type=file) or id=ID,env=VAR.
std::pair<std::string, build::BuildOptions::Secret> parse_secret(const std::string& text) {
  std::string id;
  build::BuildOptions::Secret s;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string field = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? text.size() + 1 : comma + 1;
    size_t eq = field.find('=');
    std::string key = field.substr(0, eq), value = eq == std::string::npos ? "" : field.substr(eq + 1);
    if (key == "id")
      id = value;
    else if (key == "src" || key == "source")
      s.file = value;
    else if (key == "env")
      s.env = value;
    else if (key == "type" && (value == "file" || value == "env"))
      continue;
    else
      throw Error(fmt::format("--secret {:?}: unknown field {:?}; use id=ID,src=FILE or id=ID,env=VAR", text, field));
  }
  if (id.empty()) id = !s.file.empty() ? fs::path(s.file).filename().string() : s.env;
  if (id.empty() || (s.file.empty() && s.env.empty())) {
    if (!id.empty() && getenv(id.c_str()))
      s.env = id;
    else
      throw Error(fmt::format("--secret {:?}: give id=ID and src=FILE or env=VAR", text));
  }
  if (!s.file.empty() && access(s.file.c_str(), R_OK) != 0) throw Error(fmt::format("--secret {}", s.file), errno);
  return {id, s};
}

void configure_build(CLI::App* cmd, CliContext& ctx) {
  struct Flags {
    std::vector<std::string> tags, build_args, labels, secrets;
    std::string file, target, iidfile, network = "host", platform, context, pull = "missing";
    bool no_cache = false, quiet = false;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_option("-t,--tag", f->tags, "name the image NAME[:TAG] (repeatable)")->type_name("NAME");
  cmd->add_option("-f,--file", f->file, "the Dockerfile (default CONTEXT/Dockerfile or Containerfile; - for stdin)")
      ->type_name("PATH");
  cmd->add_option("--build-arg", f->build_args, "set a build arg (KEY alone: from the environment)")
      ->type_name("KEY[=VALUE]");
  cmd->add_option("--target", f->target, "build up to this stage")->type_name("STAGE");
  cmd->add_flag("--no-cache", f->no_cache, "run every step, using no cached layer");
  cmd->add_flag("--pull{always}", f->pull, "pull images: missing (default), always (--pull alone), never, newer")
      ->type_name("POLICY");
  cmd->add_option("--secret", f->secrets, "a secret RUN --mount=type=secret can mount")
      ->type_name("id=ID,src=FILE|env=VAR");
  cmd->add_option("--label", f->labels, "add a label to the image")->type_name("KEY=VALUE");
  cmd->add_flag("-q,--quiet", f->quiet, "print only the image ID");
  cmd->add_option("--iidfile", f->iidfile, "write the image ID to FILE")->type_name("FILE");
  cmd->add_option("--network", f->network, "network of RUN steps: host (default) or none")->type_name("MODE");
  cmd->add_option("--platform", f->platform, "the platform to build for (only this machine's)")
      ->type_name("OS/ARCH[/VARIANT]");
  cmd->add_option("context", f->context, "the build context directory, or - (Dockerfile on stdin, no context)")
      ->required()
      ->type_name("CONTEXT|-");
  cmd->callback([f, &ctx] {
    build::BuildOptions opts;
    if (f->network == "default" || f->network == "private" || f->network.empty()) f->network = "host";
    opts.pull = engine::parse_pull_policy(f->pull);
    opts.network = engine::parse_network_mode(f->network);
    opts.no_cache = f->no_cache;
    opts.quiet = f->quiet;
    opts.target = f->target;
    opts.platform = f->platform;
    for (const auto& t : f->tags) opts.tags.push_back(image::parse_reference(t).str());
    if (!f->tags.empty()) opts.commit_name = f->tags[0];
    for (const auto& a : f->build_args) {
      auto kv = key_value(a, "--build-arg", true);
      if (a.find('=') == std::string::npos && !getenv(a.c_str())) continue;  // unset: docker leaves it out
      opts.build_args.push_back(kv);
    }
    for (const auto& l : f->labels) opts.labels.push_back(key_value(l, "--label", false));
    for (const auto& text : f->secrets) opts.secrets.push_back(parse_secret(text));

    std::string dockerfile_path;
    if (f->context == "-") {
      if (f->file == "-") throw Error("the Dockerfile and the context cannot both come from standard input");
      std::string text = read_stdin();
      if (looks_like_archive(text))
        throw Error("a build context archive on standard input is not supported: give a directory");
      if (!f->file.empty()) throw Error("with CONTEXT -, the Dockerfile is standard input: leave out -f");
      opts.dockerfile_text = std::move(text);
      opts.dockerfile_name = "Dockerfile";
    } else {
      struct stat st {};
      if (::stat(f->context.c_str(), &st) != 0) throw Error(fmt::format("build context {}", f->context), errno);
      if (!S_ISDIR(st.st_mode)) throw Error(fmt::format("build context {} is not a directory", f->context));
      opts.context = fs::absolute(f->context).lexically_normal().string();
      if (f->file == "-") {
        opts.dockerfile_text = read_stdin();
        opts.dockerfile_name = "Dockerfile";
      } else {
        if (f->file.empty()) {
          dockerfile_path = (fs::path(opts.context) / "Dockerfile").string();
          if (access(dockerfile_path.c_str(), F_OK) != 0 &&
              access((fs::path(opts.context) / "Containerfile").c_str(), F_OK) == 0)
            dockerfile_path = (fs::path(opts.context) / "Containerfile").string();
        } else {
          dockerfile_path = f->file;
          if (access(dockerfile_path.c_str(), F_OK) != 0 && fs::path(f->file).is_relative() &&
              access((fs::path(opts.context) / f->file).c_str(), F_OK) == 0)
            dockerfile_path = (fs::path(opts.context) / f->file).string();
        }
        auto text = read_file_if_exists(dockerfile_path);
        if (!text) throw Error(fmt::format("no Dockerfile at {}", dockerfile_path), 0, "give one with -f PATH");
        opts.dockerfile_text = std::move(*text);
        opts.dockerfile_name = fs::path(dockerfile_path).filename().string();
      }
      auto candidates = build::dockerignore_candidates(dockerfile_path.empty() ? "-" : dockerfile_path, opts.context);
      candidates.push_back((fs::path(opts.context) / ".containerignore").string());
      for (const auto& c : candidates)
        if (auto text = read_file_if_exists(c)) {
          opts.ignore_text = std::move(*text);
          opts.ignore_name = fs::path(c).filename().string();
          break;
        }
    }
    BuildOutput events(f->quiet);
    build::BuildResult r = build::build_image(ctx.paths(), opts, events);
    if (!f->iidfile.empty()) write_file_atomic(f->iidfile, r.image_id, {.mode = 0644, .durable = false});
    fmt::print("{}\n", r.image_id.substr(7));
  });
}

void configure_commit(CLI::App* cmd, CliContext& ctx) {
  struct Flags {
    std::vector<std::string> changes;
    std::string message, author, container, name;
    bool quiet = false;
    bool pause = true;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_option("-c,--change", f->changes, "apply a Dockerfile instruction (CMD, ENV, WORKDIR, ...)")
      ->type_name("INSTRUCTION");
  cmd->add_option("-m,--message", f->message, "commit message (the history comment)");
  cmd->add_option("-a,--author", f->author, "author of the image");
  cmd->add_flag("-q,--quiet", f->quiet, "print only the image ID");
  cmd->add_flag("-p,--pause", f->pause, "stop a running container while committing (default true; --pause=false)");
  cmd->add_option("container", f->container, "the container")->required()->type_name("CONTAINER");
  cmd->add_option("image", f->name, "name of the new image")->type_name("IMAGE");
  cmd->callback([f, &ctx] {
    engine::CommitOptions opts;
    opts.changes = f->changes;
    opts.message = f->message;
    opts.author = f->author;
    opts.pause = f->pause;
    if (!f->name.empty()) opts.name = image::parse_reference(f->name).str();
    image::ImageRecord rec = engine::commit_container(ctx.paths(), f->container, opts);
    fmt::print("{}\n", rec.id.substr(7));
  });
}

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\t') c = ' ';
  return s;
}

void configure_history(CLI::App* cmd, CliContext& ctx) {
  struct Flags {
    std::string image, format;
    bool no_trunc = false, quiet = false, human = true;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_flag("--no-trunc", f->no_trunc, "do not truncate output");
  cmd->add_flag("-q,--quiet", f->quiet, "only show image IDs");
  cmd->add_option("-H,--human", f->human, "sizes and dates in human units (default true)")->type_name("BOOL");
  cmd->add_option("--format", f->format, "Go template, table [TEMPLATE] or json")
      ->type_name("FORMAT")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  cmd->add_option("image", f->image, "the image")->required()->type_name("IMAGE");
  cmd->callback([f, &ctx] {
    std::optional<FormatSpec> format;
    if (!f->format.empty()) {
      format = parse_format(f->format);
      GoTemplate check(format->tmpl);  // a mistake is said before anything, -q or not
    }
    image::ImageStore images(ctx.paths());
    image::ImageContent content = images.load(images.resolve(f->image));
    json hist = content.config.value("history", json::array());
    const json& layers = content.manifest.at("layers");
    struct Row {
      std::string created, created_by, comment;
      uint64_t size = 0;
    };
    std::vector<Row> rows;
    size_t layer = 0;
    for (const auto& h : hist) {
      Row r{h.value("created", ""), h.value("created_by", ""), h.value("comment", ""), 0};
      if (!h.value("empty_layer", false) && layer < layers.size()) r.size = layers[layer++].value("size", uint64_t{0});
      rows.push_back(r);
    }
    if (rows.empty())
      for (const auto& l : layers)
        rows.push_back({content.config.value("created", ""), "", "", l.value("size", uint64_t{0})});
    std::string id = f->no_trunc ? content.record.id : content.record.id.substr(7, 12);
    if (f->quiet) {
      for (size_t i = 0; i < rows.size(); ++i) fmt::print("{}\n", i == 0 ? id : "<missing>");
      return;
    }
    // docker's fields for --format, newest first as the table.
    std::vector<json> formatted;
    Table table({"IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"});
    for (size_t i = rows.size(); i-- > 0;) {
      const Row& r = rows[i];
      std::string by = one_line(r.created_by);
      if (!f->no_trunc && by.size() > 45) by = by.substr(0, 44) + "…";
      std::string row_id = i + 1 == rows.size() ? id : "<missing>";
      std::string since = f->human ? ago(r.created) : r.created;
      std::string size = f->human ? human_size(r.size) : std::to_string(r.size);
      if (format)
        formatted.push_back({{"ID", row_id},
                             {"CreatedSince", since},
                             {"CreatedAt", r.created},
                             {"CreatedBy", by},
                             {"Size", size},
                             {"Comment", one_line(r.comment)}});
      else
        table.add({row_id, since, by, size, one_line(r.comment)});
    }
    if (!format) {
      table.print();
      return;
    }
    static const json kHeaders = {
        {"ID", "IMAGE"},  {"CreatedSince", "CREATED"}, {"CreatedAt", "CREATED AT"}, {"CreatedBy", "CREATED BY"},
        {"Size", "SIZE"}, {"Comment", "COMMENT"}};
    print_formatted(*format, formatted, kHeaders,
                    "{{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}");
  });
}

void configure_diff(CLI::App* cmd, CliContext& ctx) {
  auto container = std::make_shared<std::string>();
  cmd->add_option("container", *container, "the container")->required()->type_name("CONTAINER");
  cmd->callback([container, &ctx] {
    for (const auto& line : engine::container_changes(ctx.paths(), *container)) fmt::print("{}\n", line);
  });
}

}  // namespace

void add_build_commands(CLI::App& app, CliContext& ctx) {
  configure_build(app.add_subcommand("build", "build an image from a Dockerfile"), ctx);
  configure_commit(app.add_subcommand("commit", "create an image from a container's changes"), ctx);
  configure_history(app.add_subcommand("history", "show the history of an image"), ctx);
  configure_diff(app.add_subcommand("diff", "list the files a container changed"), ctx);
  auto group = [&](const std::string& name) -> CLI::App* {
    auto found = app.get_subcommands([&](const CLI::App* s) { return s->get_name() == name; });
    return found.empty() ? nullptr : found.front();
  };
  if (CLI::App* image = group("image")) {
    configure_build(image->add_subcommand("build", "build an image from a Dockerfile"), ctx);
    configure_history(image->add_subcommand("history", "show the history of an image"), ctx);
  }
  if (CLI::App* container = group("container")) {
    configure_commit(container->add_subcommand("commit", "create an image from a container's changes"), ctx);
    configure_diff(container->add_subcommand("diff", "list the files a container changed"), ctx);
  }
}

}  // namespace skiff::cli
