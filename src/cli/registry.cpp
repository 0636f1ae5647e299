// skiff pull, push, login, logout (and image pull, image push).
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cli_context.hpp"
#include "skiff/engine/image_pull.hpp"
#include "skiff/engine/image_push.hpp"
#include "skiff/image/manifest.hpp"
#include "skiff/registry/auth_file.hpp"
#include "skiff/registry/registry_client.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"
#include "skiff/util/terminal.hpp"
#include "transfer_progress.hpp"

namespace skiff::cli {

namespace {

// The connection flags pull, push and login share.
struct RegistryFlagSet {
  registry::RegistryFlags flags;
  bool tls_verify = true;
  CLI::Option* tls_opt = nullptr;

  void add_to(CLI::App* cmd, bool with_creds = true) {
    tls_opt = cmd->add_flag("--tls-verify", tls_verify,
                            "verify the registry's TLS certificate (=false also allows plain HTTP)");
    cmd->add_option("--cert-dir", flags.cert_dir, "CA certificates (*.crt) and client certificate (*.cert, *.key)")
        ->type_name("DIR");
    cmd->add_option("--authfile", flags.authfile, "credentials file (default $XDG_RUNTIME_DIR/containers/auth.json)")
        ->type_name("FILE");
    if (with_creds)
      cmd->add_option("--creds", flags.creds, "credentials for the registry")->type_name("USER[:PASSWORD]");
  }
  registry::RegistryFlags get() {
    registry::RegistryFlags out = flags;
    if (tls_opt->count()) out.tls_verify = tls_verify;
    return out;
  }
};

void configure_pull(CLI::App* cmd, CliContext& ctx) {
  struct Flags {
    RegistryFlagSet reg;
    std::string platform, ref;
    bool quiet = false;
  };
  auto f = std::make_shared<Flags>();
  f->reg.add_to(cmd);
  cmd->add_option("--platform", f->platform, "pull the image for this platform")->type_name("OS/ARCH[/VARIANT]");
  cmd->add_flag("-q,--quiet", f->quiet, "print only the image ID");
  cmd->add_option("image", f->ref, "NAME[:TAG|@DIGEST]")->required()->type_name("IMAGE");
  cmd->callback([f, &ctx] {
    engine::PullOptions opts{.flags = f->reg.get(), .jobs = engine::default_transfer_jobs()};
    if (!f->platform.empty()) opts.platform = image::parse_platform(f->platform);
    std::unique_ptr<engine::TransferEvents> events =
        f->quiet ? std::make_unique<engine::QuietEvents>() : make_transfer_progress(stdout);
    auto result = engine::pull_image(ctx.paths(), f->ref, opts, *events);
    if (f->quiet)
      fmt::print("{}\n", result.record.id.substr(7));
    else
      fmt::print("{}\n", result.reference);
  });
}

void configure_push(CLI::App* cmd, CliContext& ctx) {
  struct Flags {
    RegistryFlagSet reg;
    std::string image, dest, digestfile;
    bool quiet = false;
  };
  auto f = std::make_shared<Flags>();
  f->reg.add_to(cmd);
  cmd->add_flag("-q,--quiet", f->quiet, "print nothing but errors");
  cmd->add_option("--digestfile", f->digestfile, "write the pushed manifest's digest to FILE")->type_name("FILE");
  cmd->add_option("image", f->image, "the image to push")->required()->type_name("IMAGE");
  cmd->add_option("destination", f->dest, "where to push it (default: the image's name)")
      ->type_name("[docker://]HOST/NAME[:TAG]");
  cmd->callback([f, &ctx] {
    engine::PushOptions opts{.flags = f->reg.get(), .jobs = engine::default_transfer_jobs()};
    if (const char* c = getenv("SKIFF_PUSH_CHUNK_SIZE"); c && *c) opts.chunk_size = std::stoull(c);
    std::unique_ptr<engine::TransferEvents> events =
        f->quiet ? std::make_unique<engine::QuietEvents>() : make_transfer_progress(stdout);
    auto result = engine::push_image(ctx.paths(), f->image, f->dest, opts, *events);
    if (!f->digestfile.empty()) write_file_atomic(f->digestfile, result.digest, {.mode = 0644, .durable = false});
  });
}

void configure_login(CLI::App* cmd, CliContext&) {
  struct Flags {
    RegistryFlagSet reg;
    std::string username, password, host;
    bool password_stdin = false;
  };
  auto f = std::make_shared<Flags>();
  f->reg.add_to(cmd, false);
  cmd->add_option("-u,--username", f->username, "user name")->type_name("USER");
  cmd->add_option("-p,--password", f->password, "password (prefer --password-stdin)")->type_name("PASSWORD");
  cmd->add_flag("--password-stdin", f->password_stdin, "read the password from standard input");
  cmd->add_option("registry", f->host, "the registry (default docker.io)")->type_name("REGISTRY");
  cmd->callback([f] {
    std::string host = registry::normalize_auth_host(f->host.empty() ? "docker.io" : f->host);
    if (f->password_stdin && !f->password.empty())
      throw Error("--password and --password-stdin cannot be used together");
    registry::Credentials creds{f->username, f->password};
    if (!f->password.empty())
      fmt::print(stderr, "WARNING! Using --password on the command line is insecure. Use --password-stdin.\n");
    if (creds.username.empty()) creds.username = prompt_line("Username: ", true);
    if (creds.username.empty()) throw Error("no user name given: use -u USER");
    if (f->password_stdin) {
      std::string all;
      char buf[4096];
      for (ssize_t n; (n = read(STDIN_FILENO, buf, sizeof buf)) > 0;) all.append(buf, static_cast<size_t>(n));
      while (!all.empty() && (all.back() == '\n' || all.back() == '\r')) all.pop_back();
      creds.password = all;
    }
    if (creds.password.empty() && !f->password_stdin) creds.password = prompt_line("Password: ", false);
    if (creds.password.empty()) throw Error("no password given: use --password-stdin or -p");
    registry::RegistryFlags flags = f->reg.get();
    registry::ClientOptions opts = registry::client_options(host, flags, registry::load_registries_config());
    opts.credentials = creds;
    registry::RegistryClient client(host, opts);
    auto t = client.new_transport();
    try {
      client.check_login(*t);
    } catch (const Error& e) {
      throw e.with_context("logging in");
    }
    registry::store_credentials(flags.authfile, host, creds);
    fmt::print("Login Succeeded!\n");
  });
}

void configure_logout(CLI::App* cmd, CliContext&) {
  struct Flags {
    std::string authfile, host;
    bool all = false;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_option("--authfile", f->authfile, "credentials file")->type_name("FILE");
  cmd->add_flag("-a,--all", f->all, "remove the credentials of every registry");
  cmd->add_option("registry", f->host, "the registry (default docker.io)")->type_name("REGISTRY");
  cmd->callback([f] {
    if (f->all) {
      registry::erase_all_credentials(f->authfile);
      fmt::print("Removed login credentials for all registries\n");
      return;
    }
    std::string host = registry::normalize_auth_host(f->host.empty() ? "docker.io" : f->host);
    if (!registry::erase_credentials(f->authfile, host)) throw Error(fmt::format("not logged in to {}", host));
    fmt::print("Removed login credentials for {}\n", host);
  });
}

}  // namespace

void add_registry_commands(CLI::App& app, CliContext& ctx) {
  configure_pull(app.add_subcommand("pull", "pull an image from a registry"), ctx);
  configure_push(app.add_subcommand("push", "push an image to a registry"), ctx);
  configure_login(app.add_subcommand("login", "log in to a registry"), ctx);
  configure_logout(app.add_subcommand("logout", "log out of a registry"), ctx);
}

void add_image_registry_commands(CLI::App& image, CliContext& ctx) {
  configure_pull(image.add_subcommand("pull", "pull an image from a registry"), ctx);
  configure_push(image.add_subcommand("push", "push an image to a registry"), ctx);
}

}  // namespace skiff::cli
