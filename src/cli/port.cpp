// skiff port: a container's published ports, as docker prints them.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli_context.hpp"
#include "skiff/engine/container_store.hpp"
#include "skiff/net/ports.hpp"
#include "skiff/util/error.hpp"

namespace skiff::cli {

namespace {

void configure_port(CLI::App* cmd, CliContext& ctx) {
  auto name = std::make_shared<std::string>();
  auto wanted = std::make_shared<std::string>();
  cmd->add_option("container", *name, "CONTAINER")->required();
  cmd->add_option("port", *wanted, "PRIVATE_PORT[/PROTO]");
  cmd->callback([name, wanted, &ctx] {
    engine::ContainerStore containers(ctx.paths());
    engine::ContainerView v = containers.resolve(*name);
    // docker lists nothing for a container that does not run.
    const std::vector<net::PortMapping> none;
    const auto& ports = v.running ? v.record.ports : none;
    if (wanted->empty()) {
      for (const auto& p : ports) fmt::print("{}\n", net::port_line(p));
      return;
    }
    std::string key = wanted->find('/') == std::string::npos ? *wanted + "/tcp" : *wanted;
    bool found = false;
    for (const auto& p : ports) {
      if (net::container_port_key(p) != key) continue;
      std::string line = net::port_line(p);
      fmt::print("{}\n", line.substr(line.find("-> ") + 3));
      found = true;
    }
    if (!found) throw Error(fmt::format("No public port '{}' published for {}", key, *name), 0, "", 1);
  });
}

}  // namespace

void add_port_commands(CLI::App& app, CliContext& ctx) {
  configure_port(app.add_subcommand("port", "list a container's published ports"), ctx);
  auto found = app.get_subcommands([](const CLI::App* s) { return s->get_name() == "container"; });
  if (!found.empty()) configure_port(found.front()->add_subcommand("port", "list a container's published ports"), ctx);
}

}  // namespace skiff::cli
