#include "skiff/engine/container_options.hpp"

#include "skiff/engine/run_options_parse.hpp"
#include "skiff/store/record.hpp"
#include "skiff/util/error.hpp"

namespace skiff::engine {

using nlohmann::json;

json run_options_json(const RunOptions& o) {
  json volumes = json::array();
  for (const auto& v : o.volumes)
    volumes.push_back({{"source", v.source}, {"target", v.target}, {"readonly", v.readonly}});
  json tmpfs = json::array();
  for (const auto& t : o.tmpfs) tmpfs.push_back({{"target", t.target}, {"options", t.options}});
  json ulimits = json::array();
  for (const auto& u : o.ulimits) ulimits.push_back({{"type", u.type}, {"soft", u.soft}, {"hard", u.hard}});
  json j{{"image", o.image},
         {"command", o.command},
         {"env", o.env},
         {"volumes", volumes},
         {"tmpfs", tmpfs},
         {"name", o.name},
         {"hostname", o.hostname},
         {"network", network_mode_name(o.network)},
         {"network_options", o.network_options},
         {"ports", ports_json(o.ports)},
         {"publish_all", o.publish_all},
         {"dns", o.dns.servers},
         {"dns_search", o.dns.search},
         {"dns_options", o.dns.options},
         {"add_hosts", o.add_hosts},
         {"userns_keep_id", o.userns == UsernsOption::kKeepId},
         {"remove", o.remove},
         {"interactive", o.interactive},
         {"tty", o.tty},
         {"read_only", o.read_only},
         {"init", o.init},
         {"cap_add", o.cap_add},
         {"cap_drop", o.cap_drop},
         {"privileged", o.privileged},
         {"seccomp", o.seccomp == SeccompMode::kUnconfined ? "unconfined"
                     : o.seccomp == SeccompMode::kProfile  ? "profile"
                                                           : "default"},
         {"seccomp_profile", o.seccomp_profile},
         {"no_new_privileges", o.no_new_privileges},
         {"mask", o.mask},
         {"unmask", o.unmask},
         {"sysctl", o.sysctl},
         {"ulimits", ulimits},
         {"detach", o.detach},
         {"log_max_size", o.log_max_size},
         {"stop_signal", o.stop_signal},
         {"stop_timeout", o.stop_timeout},
         {"labels", o.labels},
         {"restart", restart_kind_name(o.restart.kind)},
         {"restart_max_retries", o.restart.max_retries}};
  if (o.entrypoint) j["entrypoint"] = *o.entrypoint;
  if (o.workdir) j["workdir"] = *o.workdir;
  if (o.user) j["user"] = *o.user;
  return j;
}

json ports_json(const std::vector<net::PortMapping>& ports) {
  json out = json::array();
  for (const auto& p : ports)
    out.push_back(
        {{"host_ip", p.host_ip}, {"host_port", p.host_port}, {"container_port", p.container_port}, {"proto", p.proto}});
  return out;
}

std::vector<net::PortMapping> ports_from_json(const json& j) {
  std::vector<net::PortMapping> out;
  if (!j.is_array()) return out;
  for (const auto& p : j)
    out.push_back({p.value("host_ip", ""), p.value("host_port", uint16_t{0}), p.value("container_port", uint16_t{0}),
                   p.value("proto", "tcp")});
  return out;
}

RunOptions run_options_from_json(const json& j) {
  try {
    RunOptions o;
    o.image = j.at("image").get<std::string>();
    o.command = j.at("command").get<std::vector<std::string>>();
    if (j.contains("entrypoint")) o.entrypoint = j["entrypoint"].get<std::string>();
    if (j.contains("workdir")) o.workdir = j["workdir"].get<std::string>();
    if (j.contains("user")) o.user = j["user"].get<std::string>();
    o.env = j.at("env").get<std::vector<std::string>>();
    for (const auto& v : j.at("volumes"))
      o.volumes.push_back(
          {v.at("source").get<std::string>(), v.at("target").get<std::string>(), v.at("readonly").get<bool>()});
    for (const auto& t : j.at("tmpfs")) o.tmpfs.push_back({t.at("target").get<std::string>(), t.at("options")});
    o.name = j.at("name").get<std::string>();
    o.hostname = j.at("hostname").get<std::string>();
    std::string network = j.at("network").get<std::string>();
    o.network = network == "none"          ? NetworkMode::kNone
                : network == "pasta"       ? NetworkMode::kPasta
                : network == "slirp4netns" ? NetworkMode::kSlirp4netns
                                           : NetworkMode::kHost;
    o.network_options = j.value("network_options", "");
    o.ports = ports_from_json(j.value("ports", json::array()));
    o.publish_all = j.value("publish_all", false);
    o.dns.servers = j.value("dns", std::vector<std::string>{});
    o.dns.search = j.value("dns_search", std::vector<std::string>{});
    o.dns.options = j.value("dns_options", std::vector<std::string>{});
    o.add_hosts = j.value("add_hosts", std::vector<std::string>{});
    o.userns = j.at("userns_keep_id").get<bool>() ? UsernsOption::kKeepId : UsernsOption::kDefault;
    o.remove = j.at("remove").get<bool>();
    o.interactive = j.at("interactive").get<bool>();
    o.tty = j.at("tty").get<bool>();
    o.read_only = j.at("read_only").get<bool>();
    o.init = j.at("init").get<bool>();
    o.cap_add = j.at("cap_add").get<std::vector<std::string>>();
    o.cap_drop = j.at("cap_drop").get<std::vector<std::string>>();
    o.privileged = j.at("privileged").get<bool>();
    std::string seccomp = j.at("seccomp").get<std::string>();
    o.seccomp = seccomp == "unconfined" ? SeccompMode::kUnconfined
                : seccomp == "profile"  ? SeccompMode::kProfile
                                        : SeccompMode::kDefault;
    o.seccomp_profile = j.at("seccomp_profile").get<std::string>();
    o.no_new_privileges = j.at("no_new_privileges").get<bool>();
    o.mask = j.at("mask").get<std::vector<std::string>>();
    o.unmask = j.at("unmask").get<std::vector<std::string>>();
    o.sysctl = j.at("sysctl").get<std::map<std::string, std::string>>();
    for (const auto& u : j.at("ulimits"))
      o.ulimits.push_back(
          {u.at("type").get<std::string>(), u.at("soft").get<uint64_t>(), u.at("hard").get<uint64_t>()});
    o.detach = j.at("detach").get<bool>();
    o.log_max_size = j.at("log_max_size").get<uint64_t>();
    o.stop_signal = j.at("stop_signal").get<int>();
    o.stop_timeout = j.at("stop_timeout").get<int>();
    o.labels = j.at("labels").get<std::map<std::string, std::string>>();
    o.restart = parse_restart_policy(j.at("restart").get<std::string>());
    o.restart.max_retries = j.at("restart_max_retries").get<int>();
    return o;
  } catch (const json::exception& e) {
    throw Error(fmt::format("damaged container options: {}", e.what()));
  }
}

void write_container_options(const std::filesystem::path& container_dir, const RunOptions& opts) {
  store::write_record(container_dir / "options.json", run_options_json(opts), store::Durability::kRenamed);
}

RunOptions read_container_options(const std::filesystem::path& container_dir) {
  auto j = store::read_record(container_dir / "options.json");
  if (!j) throw Error("the container cannot be started again: skiff did not keep how it was made");
  return run_options_from_json(*j);
}

}  // namespace skiff::engine
