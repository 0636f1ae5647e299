// skiff images | image ls, tag, rmi | image rm, import.
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <nlohmann/json.hpp>

#include "cli_context.hpp"
#include "format_table.hpp"
#include "go_template.hpp"
#include "skiff/engine/image_remove.hpp"
#include "skiff/image/config_change.hpp"
#include "skiff/image/image_import.hpp"
#include "skiff/image/image_store.hpp"
#include "skiff/image/reference.hpp"
#include "skiff/storage/layer_store.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

namespace skiff::cli {

using nlohmann::json;

namespace {

std::pair<std::string, std::string> split_name(const std::string& full) {
  size_t colon = full.rfind(':');
  return {image::familiar_name(full.substr(0, colon)), full.substr(colon + 1)};
}

void configure_images(CLI::App* cmd, CliContext& ctx) {
  struct Flags {
    bool all = false, quiet = false, digests = false, no_trunc = false;
    std::string filter, format;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_flag("-a,--all", f->all, "show all images (the default; kept for docker compatibility)");
  cmd->add_option("--format", f->format, "Go template, table [TEMPLATE] or json")
      ->type_name("FORMAT")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  cmd->add_flag("-q,--quiet", f->quiet, "only show image IDs");
  cmd->add_flag("--digests", f->digests, "show digests");
  cmd->add_flag("--no-trunc", f->no_trunc, "do not truncate output");
  cmd->add_option("reference", f->filter, "only images of this REPOSITORY[:TAG]");
  cmd->callback([f, &ctx] {
    image::ImageStore store(ctx.paths());
    auto records = store.list();
    std::sort(records.begin(), records.end(), [](auto& a, auto& b) { return a.created > b.created; });
    std::optional<image::Reference> filter;
    if (!f->filter.empty()) filter = image::parse_reference_no_default_tag(f->filter);
    auto short_id = [&](const std::string& id) { return f->no_trunc ? id : id.substr(7, 12); };
    if (!f->format.empty()) GoTemplate check(parse_format(f->format).tmpl);  // said before anything, -q or not
    if (f->quiet) {
      std::vector<std::string> seen;
      for (const auto& r : records) {
        if (filter && std::none_of(r.names.begin(), r.names.end(), [&](auto& n) {
              return n.rfind(filter->name() + ":", 0) == 0 && (filter->tag.empty() || n == filter->str());
            }))
          continue;
        if (std::find(seen.begin(), seen.end(), r.id) != seen.end()) continue;
        seen.push_back(r.id);
        fmt::print("{}\n", short_id(r.id));
      }
      return;
    }
    std::vector<json> rows;
    for (const auto& r : records) {
      std::vector<std::string> names = r.names;
      // An image pulled by digest has no tag: docker lists it as REPO <none>.
      if (names.empty())
        for (const auto& d : r.repo_digests) names.push_back(d.substr(0, d.find('@')) + ":<none>");
      if (names.empty()) {
        if (filter) continue;
        names.push_back("<none>:<none>");
      }
      for (const auto& n : names) {
        auto [repo, tag] =
            n == "<none>:<none>" ? std::pair<std::string, std::string>{"<none>", "<none>"} : split_name(n);
        if (filter && (n.rfind(filter->name() + ":", 0) != 0 || (!filter->tag.empty() && n != filter->str()))) continue;
        std::string digest = "<none>";
        for (const auto& d : r.repo_digests)
          if (d.rfind(n.substr(0, n.rfind(':')) + "@", 0) == 0) digest = d.substr(d.find('@') + 1);
        rows.push_back({{"Repository", repo},
                        {"Tag", tag},
                        {"Digest", digest},
                        {"ID", short_id(r.id)},
                        {"CreatedSince", ago(r.created)},
                        {"CreatedAt", r.created},
                        {"Size", human_size(r.size)}});
      }
    }
    static const json kHeaders = {{"Repository", "REPOSITORY"},
                                  {"Tag", "TAG"},
                                  {"Digest", "DIGEST"},
                                  {"ID", "IMAGE ID"},
                                  {"CreatedSince", "CREATED"},
                                  {"CreatedAt", "CREATED AT"},
                                  {"Size", "SIZE"}};
    print_formatted(f->format.empty() ? FormatSpec{.kind = FormatSpec::Kind::kTable} : parse_format(f->format), rows,
                    kHeaders,
                    f->digests ? "{{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
                               : "{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}");
  });
}

void configure_tag(CLI::App* cmd, CliContext& ctx) {
  auto args = std::make_shared<std::vector<std::string>>();
  cmd->add_option("names", *args, "SOURCE TARGET")->required()->expected(2);
  cmd->callback([args, &ctx] {
    image::ImageStore store(ctx.paths());
    auto rec = store.resolve((*args)[0]);
    auto target = image::parse_reference((*args)[1]);
    if (!target.digest.empty()) throw Error(fmt::format("cannot tag with a digest: {}", (*args)[1]));
    store.tag(rec.id, target.str());
  });
}

void configure_rmi(CLI::App* cmd, CliContext& ctx) {
  struct Flags {
    bool force = false;
    std::vector<std::string> images;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_flag("-f,--force", f->force,
                "untag images that containers use (kept while they exist), and remove every name of an image given "
                "by ID");
  cmd->add_option("images", f->images, "IMAGE...")->required();
  cmd->callback([f, &ctx] {
    auto paths = ctx.paths();
    int failures = 0;
    for (const auto& o : engine::remove_images(paths, f->images, f->force)) {
      if (!o.error.empty()) {
        fmt::print(stderr, "skiff: {}\n", o.error);
        ++failures;
        continue;
      }
      for (const auto& n : o.done.untagged) {
        auto [repo, tag] = split_name(n);
        fmt::print("Untagged: {}:{}\n", repo, tag);
      }
      if (!o.done.deleted.empty()) fmt::print("Deleted: {}\n", o.done.deleted);
    }
    if (failures) ctx.exit_code = kExitSkiffError;
  });
}

void configure_import(CLI::App* cmd, CliContext& ctx) {
  struct Flags {
    std::vector<std::string> changes;
    std::string message;
    std::string file;
    std::string name;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_option("-c,--change", f->changes, "apply a Dockerfile instruction (CMD, ENV, WORKDIR, ...)")
      ->type_name("INSTRUCTION")
      ->allow_extra_args(false);
  cmd->add_option("-m,--message", f->message, "commit message for the imported image");
  cmd->add_option("file", f->file, "tarball to import, or - for standard input")->required()->type_name("FILE|-");
  cmd->add_option("reference", f->name, "REPOSITORY[:TAG]");
  cmd->callback([f, &ctx] {
    image::ImportOptions opts;
    for (const auto& c : f->changes) image::apply_change(c, opts.config);
    opts.message = f->message;
    if (!f->name.empty()) {
      auto ref = image::parse_reference(f->name);
      if (!ref.digest.empty()) throw Error(fmt::format("cannot import with a digest: {}", f->name));
      opts.names.push_back(ref.str());
    }
    if (f->file.find("://") != std::string::npos)
      throw Error(fmt::format("importing from a URL is not supported: download {} first", f->file));
    UniqueFd fd;
    if (f->file == "-") {
      fd.reset(fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0));
    } else {
      int raw = ::open(f->file.c_str(), O_RDONLY | O_CLOEXEC);
      if (raw < 0) throw Error(fmt::format("open {}", f->file), errno);
      fd.reset(raw);
    }
    auto paths = ctx.paths();
    store::ensure_dirs(paths);
    storage::sweep_abandoned_work(paths);  // an import killed before left its copy in tmp/
    image::ImageStore store(paths);
    auto rec = image::import_tarball(store, paths, fd.get(), opts);
    fmt::print("{}\n", rec.id);
  });
}

}  // namespace

void add_image_commands(CLI::App& app, CliContext& ctx) {
  configure_images(app.add_subcommand("images", "list images"), ctx);
  configure_tag(app.add_subcommand("tag", "give an image another name"), ctx);
  configure_rmi(app.add_subcommand("rmi", "remove images"), ctx);
  configure_import(app.add_subcommand("import", "create an image from a tarball"), ctx);

  auto* image = app.add_subcommand("image", "manage images");
  image->require_subcommand(1);
  configure_images(image->add_subcommand("ls", "list images")->alias("list"), ctx);
  configure_tag(image->add_subcommand("tag", "give an image another name"), ctx);
  configure_rmi(image->add_subcommand("rm", "remove images"), ctx);
  configure_import(image->add_subcommand("import", "create an image from a tarball"), ctx);
  add_image_registry_commands(*image, ctx);
}

}  // namespace skiff::cli
