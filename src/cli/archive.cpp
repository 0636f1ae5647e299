// skiff save | image save, load | image load, export | container export.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cli_context.hpp"
#include "skiff/engine/container_export.hpp"
#include "skiff/engine/image_load.hpp"
#include "skiff/engine/image_save.hpp"
#include "skiff/image/image_archive.hpp"
#include "skiff/image/reference.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"
#include "skiff/util/unique_fd.hpp"

namespace skiff::cli {

namespace fs = std::filesystem;

namespace {

// Where an archive goes: -o FILE, else standard output unless it is a
// terminal. A file is written beside its name and renamed over it when
// whole, so a failed save leaves no half archive under that name.
class ArchiveOutput {
 public:
  ArchiveOutput(const std::string& path, std::string_view verb) : path_(path) {
    if (path_.empty() || path_ == "-") {
      if (isatty(STDOUT_FILENO))
        throw Error(fmt::format("cowardly refusing to {} to a terminal: use the -o flag or redirect", verb));
      fd_.reset(fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 0));
      return;
    }
    struct stat st {};
    // A device or a pipe (/dev/null, a fifo) is written as it is.
    if (stat(path_.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
      if (S_ISDIR(st.st_mode)) throw Error(fmt::format("{} is a directory", path_));
      fd_ = open_or_throw(path_, O_WRONLY);
      return;
    }
    fs::path p(path_);
    tmp_ = (p.parent_path().empty() ? fs::path(".") : p.parent_path()) /
           fmt::format(".{}.skiff-{}", p.filename().string(), getpid());
    int raw = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (raw < 0) {
      int err = errno;
      tmp_.clear();
      throw Error(fmt::format("create {}", path_), err);
    }
    fd_.reset(raw);
  }
  ~ArchiveOutput() {
    if (!tmp_.empty()) ::unlink(tmp_.c_str());
  }
  int fd() const { return fd_.get(); }
  void commit() {
    if (tmp_.empty()) return;
    // Not fsynced: the file is the user's, as cp's or docker save's is, not
    // the store's; the rename only keeps a half archive from its name.
    if (::rename(tmp_.c_str(), path_.c_str()) != 0) throw_errno(fmt::format("write {}", path_));
    tmp_.clear();
  }

 private:
  std::string path_;
  fs::path tmp_;
  UniqueFd fd_;
};

void configure_save(CLI::App* cmd, CliContext& ctx) {
  struct Flags {
    std::string output, format = "docker-archive";
    bool compress = false;
    std::vector<std::string> images;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_option("-o,--output", f->output, "write to FILE (a directory for oci-dir), not standard output")
      ->type_name("FILE");
  cmd->add_option("--format", f->format, "docker-archive (the default), oci-archive or oci-dir")->type_name("FORMAT");
  cmd->add_flag("--compress", f->compress, "oci-dir: gzip the layers stored uncompressed");
  cmd->add_option("images", f->images, "IMAGE...")->required();
  cmd->callback([f, &ctx] {
    engine::SaveOptions opts{.format = image::parse_archive_format(f->format), .compress = f->compress};
    auto paths = ctx.paths();
    if (opts.format == image::ArchiveFormat::kOciDir) {
      if (f->output.empty() || f->output == "-") throw Error("--format oci-dir writes a directory: name it with -o");
      engine::save_images(paths, f->images, opts, -1, f->output);
      return;
    }
    ArchiveOutput out(f->output, "save");
    engine::save_images(paths, f->images, opts, out.fd(), {});
    out.commit();
  });
}

void configure_load(CLI::App* cmd, CliContext& ctx) {
  struct Flags {
    std::string input;
    bool quiet = false;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_option("-i,--input", f->input, "read from FILE (or an OCI layout directory), not standard input")
      ->type_name("FILE");
  cmd->add_flag("-q,--quiet", f->quiet, "accepted for docker compatibility: load prints only the images it loaded");
  cmd->callback([f, &ctx] {
    engine::LoadSource source;
    UniqueFd fd;
    if (f->input.empty() || f->input == "-") {
      if (isatty(STDIN_FILENO))
        throw Error("cannot read an archive from a terminal: use the -i flag or redirect standard input");
      fd.reset(fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0));
    } else {
      struct stat st {};
      if (stat(f->input.c_str(), &st) != 0) throw_errno(fmt::format("open {}", f->input));
      if (S_ISDIR(st.st_mode))
        source.dir = f->input;
      else
        fd = open_or_throw(f->input, O_RDONLY);
    }
    source.fd = fd.get();
    for (const auto& img : engine::load_images(ctx.paths(), source)) {
      if (img.names.empty()) fmt::print("Loaded image ID: {}\n", img.id);
      for (const auto& n : img.names) {
        image::Reference r = image::parse_reference(n);
        fmt::print("Loaded image: {}:{}\n", r.familiar_name(), r.tag);
      }
    }
  });
}

void configure_export(CLI::App* cmd, CliContext& ctx) {
  struct Flags {
    std::string output, container;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_option("-o,--output", f->output, "write to FILE, not standard output")->type_name("FILE");
  cmd->add_option("container", f->container, "CONTAINER")->required();
  cmd->callback([f, &ctx] {
    ArchiveOutput out(f->output, "export");
    engine::export_container(ctx.paths(), f->container, out.fd());
    out.commit();
  });
}

}  // namespace

void add_archive_commands(CLI::App& app, CliContext& ctx) {
  configure_save(app.add_subcommand("save", "write images to an archive"), ctx);
  configure_load(app.add_subcommand("load", "read images from an archive"), ctx);
  configure_export(app.add_subcommand("export", "write a container's file system as a tar"), ctx);
  auto group = [&](const std::string& name) -> CLI::App* {
    auto found = app.get_subcommands([&](const CLI::App* s) { return s->get_name() == name; });
    return found.empty() ? nullptr : found.front();
  };
  if (CLI::App* image = group("image")) {
    configure_save(image->add_subcommand("save", "write images to an archive"), ctx);
    configure_load(image->add_subcommand("load", "read images from an archive"), ctx);
  }
  if (CLI::App* container = group("container"))
    configure_export(container->add_subcommand("export", "write a container's file system as a tar"), ctx);
}

}  // namespace skiff::cli
