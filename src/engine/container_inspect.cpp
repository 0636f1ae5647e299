#include "skiff/engine/container_inspect.hpp"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include "skiff/image/image_store.hpp"
#include "skiff/net/ports.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/signals.hpp"

namespace skiff::engine {

namespace {

// Objects keep docker's order of fields (Go's struct order), for the reader.
using ordered_json = nlohmann::ordered_json;

// A list as docker's inspect gives it: null when empty (Go's nil slice).
ordered_json list_or_null(const std::vector<std::string>& items) {
  return items.empty() ? ordered_json(nullptr) : ordered_json(items);
}

// The strings of an array in the image's config (Entrypoint, Cmd).
std::vector<std::string> image_strings(const nlohmann::json& config, const char* key) {
  std::vector<std::string> out;
  auto it = config.find(key);
  if (it != config.end() && it->is_array())
    for (const auto& s : *it)
      if (s.is_string()) out.push_back(s.get<std::string>());
  return out;
}

// State.Status as docker says it. Running means a skiff holds the lock; a
// record that says running while nobody holds it was left by a skiff that
// was killed: exited.
std::string inspect_status(const ContainerView& v) {
  if (v.running && v.state.status == ContainerStatus::kRestarting) return "restarting";
  if (v.running) return v.state.started.empty() ? "created" : "running";
  if (v.state.status == ContainerStatus::kCreated) return "created";
  return "exited";
}

ordered_json inspect_state(const ContainerView& v) {
  std::string status = inspect_status(v);
  bool exited = status == "exited";
  bool killed_skiff = exited && v.state.status == ContainerStatus::kRunning;
  bool restarting = status == "restarting";
  return {{"Status", status},
          {"Running", status == "running"},
          {"Paused", false},
          {"Restarting", restarting},
          {"OOMKilled", false},
          {"Dead", false},
          {"Pid", status == "running" ? v.state.pid : 0},
          {"ExitCode", exited || restarting ? v.state.exit_code : 0},
          {"Error", killed_skiff ? "the skiff that ran it was killed: its exit status is unknown" : ""},
          {"StartedAt", status != "created" && !v.state.started.empty() ? v.state.started : kZeroTime},
          {"FinishedAt", (exited || restarting) && !v.state.finished.empty() ? v.state.finished : kZeroTime}};
}

// Config.Entrypoint and Config.Cmd: --entrypoint as given, else the
// image's; Cmd is what of the command follows the entrypoint.
std::pair<ordered_json, ordered_json> entrypoint_and_cmd(const ContainerInspectData& d) {
  std::vector<std::string> entry;
  if (d.config && d.config->entrypoint) {
    if (!d.config->entrypoint->empty()) entry.push_back(*d.config->entrypoint);
  } else {
    entry = image_strings(d.image_config, "Entrypoint");
  }
  const std::vector<std::string>& args = d.view.record.command;
  std::vector<std::string> cmd = args;
  if (args.size() >= entry.size() && std::equal(entry.begin(), entry.end(), args.begin()))
    cmd.assign(args.begin() + static_cast<std::ptrdiff_t>(entry.size()), args.end());
  return {list_or_null(entry), list_or_null(cmd)};
}

ordered_json inspect_config(const ContainerInspectData& d) {
  const ContainerRecord& r = d.view.record;
  auto [entrypoint, cmd] = entrypoint_and_cmd(d);
  std::string user = d.config && d.config->user ? *d.config->user : d.image_config.value("User", "");
  std::string workdir = d.config ? d.config->process.cwd : d.image_config.value("WorkingDir", "");
  ordered_json c = {{"Hostname", d.config ? d.config->hostname : ""},
                    {"Domainname", ""},
                    {"User", user},
                    {"AttachStdin", d.config && d.config->open_stdin && !r.detached},
                    {"AttachStdout", !r.detached},
                    {"AttachStderr", !r.detached},
                    {"Tty", d.config && d.config->process.terminal},
                    {"OpenStdin", d.config && d.config->open_stdin},
                    {"StdinOnce", false},
                    {"Env", d.config ? list_or_null(d.config->process.env) : ordered_json(nullptr)},
                    {"Cmd", cmd},
                    {"Image", r.image},
                    {"Volumes", nullptr},
                    {"WorkingDir", workdir},
                    {"Entrypoint", entrypoint},
                    {"OnBuild", nullptr},
                    {"Labels", r.labels}};
  if (r.stop_signal != 0) c["StopSignal"] = signal_name(r.stop_signal);
  return c;
}

std::vector<std::string> inspect_security_opts(const ContainerConfig& c) {
  std::vector<std::string> out;
  if (!c.privileged && c.seccomp == SeccompMode::kUnconfined) out.push_back("seccomp=unconfined");
  if (c.seccomp == SeccompMode::kProfile) out.push_back("seccomp=" + c.seccomp_profile);
  if (c.process.noNewPrivileges) out.push_back("no-new-privileges");
  return out;
}

// "on-failure:3" -> {"Name": "on-failure", "MaximumRetryCount": 3}
ordered_json restart_policy_json(const std::string& policy) {
  size_t colon = policy.find(':');
  int count = colon == std::string::npos ? 0 : std::atoi(policy.c_str() + colon + 1);
  return {{"Name", policy.empty() ? "no" : policy.substr(0, colon)}, {"MaximumRetryCount", count}};
}

ordered_json inspect_host_config(const ContainerInspectData& d) {
  const ContainerConfig* c = d.config ? &*d.config : nullptr;
  std::vector<std::string> binds;
  if (c)
    for (const auto& b : c->binds) binds.push_back(b.source + ":" + b.target + (b.readonly ? ":ro" : ""));
  ordered_json log_options = ordered_json::object();
  if (c && c->log_max_size) log_options["max-size"] = std::to_string(c->log_max_size);
  return {{"Binds", list_or_null(binds)},
          {"LogConfig", {{"Type", "k8s-file"}, {"Config", std::move(log_options)}}},
          {"NetworkMode", c ? c->network : ""},
          {"RestartPolicy", restart_policy_json(d.view.record.restart_policy)},
          {"AutoRemove", d.view.record.auto_remove},
          {"CapAdd", c ? list_or_null(c->cap_add) : ordered_json(nullptr)},
          {"CapDrop", c ? list_or_null(c->cap_drop) : ordered_json(nullptr)},
          {"Privileged", c && c->privileged},
          {"ReadonlyRootfs", c && c->readonly_rootfs},
          {"SecurityOpt", c ? list_or_null(inspect_security_opts(*c)) : ordered_json(nullptr)}};
}

ordered_json inspect_mounts(const ContainerInspectData& d) {
  ordered_json mounts = ordered_json::array();
  if (!d.config) return mounts;
  for (const auto& b : d.config->binds)
    mounts.push_back({{"Type", "bind"},
                      {"Source", b.source},
                      {"Destination", b.target},
                      {"Mode", b.readonly ? "ro" : ""},
                      {"RW", !b.readonly},
                      {"Propagation", ""}});
  return mounts;
}

// Bytes of the regular files under dir, as du counts apparent sizes; what
// cannot be read (a directory of mode 0 owned by a subordinate id) counts 0.
uint64_t upper_size(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  uint64_t total = 0;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    struct stat st {};
    if (lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) total += static_cast<uint64_t>(st.st_size);
  }
  return total;
}

}  // namespace

ordered_json container_inspect_json(const ContainerInspectData& d) {
  const ContainerRecord& r = d.view.record;
  ordered_json out = {
      {"Id", r.id},
      {"Created", r.created},
      {"Path", r.command.empty() ? "" : r.command.front()},
      {"Args", r.command.size() > 1 ? ordered_json(std::vector<std::string>(r.command.begin() + 1, r.command.end()))
                                    : ordered_json::array()},
      {"State", inspect_state(d.view)},
      {"Image", r.image_id},
      {"LogPath", d.log_path},
      {"Name", "/" + r.name},
      {"RestartCount", d.view.state.restart_count},
      {"Driver", r.driver},
      {"Platform", "linux"},
      {"HostConfig", inspect_host_config(d)}};
  if (d.size_rw) out["SizeRw"] = *d.size_rw;
  if (d.size_root_fs) out["SizeRootFs"] = *d.size_root_fs;
  out["Mounts"] = inspect_mounts(d);
  out["Config"] = inspect_config(d);
  // docker's shape: "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}],
  // while it runs.
  ordered_json ports = ordered_json::object();
  if (d.view.running)
    for (const auto& p : r.ports)
      ports[net::container_port_key(p)].push_back(
          {{"HostIp", p.host_ip.empty() ? "0.0.0.0" : p.host_ip}, {"HostPort", std::to_string(p.host_port)}});
  out["NetworkSettings"] = {{"Ports", std::move(ports)}};
  return out;
}

ContainerInspectData read_container_inspect(const store::Paths& paths, const std::string& name, bool size) {
  ContainerStore containers(paths);
  ContainerInspectData d{.view = containers.resolve(name), .image_config = nlohmann::json::object()};
  const ContainerRecord& r = d.view.record;
  std::filesystem::path dir = containers.dir(r.id);
  try {
    d.config = read_container_config(dir);
  } catch (const Error&) {
    // Not started yet, or by a skiff that did not keep config.json.
  }
  uint64_t image_size = 0;
  try {
    image::ImageStore images(paths);
    if (auto rec = images.find(r.image_id)) {
      d.image_config = images.load(*rec).config.value("config", nlohmann::json::object());
      image_size = rec->size;
    }
  } catch (const Error&) {
    // The image was removed (rmi -f) while the container kept it.
  }
  if (r.detached) d.log_path = containers.log_path(r.id).string();
  if (size) {
    d.size_rw = upper_size(dir / "upper");
    d.size_root_fs = *d.size_rw + image_size;
  }
  return d;
}

}  // namespace skiff::engine
