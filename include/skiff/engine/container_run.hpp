// `skiff run`: image + options -> runtime spec -> a container that runs.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>

#include "skiff/engine/run_options.hpp"
#include "skiff/engine/user_lookup.hpp"
#include "skiff/runtime/spec.hpp"
#include "skiff/store/paths.hpp"
#include "skiff/userns/id_map.hpp"

namespace skiff::engine {

// Everything the spec builder needs besides the options.
struct SpecInputs {
  nlohmann::json image_config;  // the image config's "config" object
  std::string container_id;
  bool host_network = false;  // /etc/hosts starts with the host's
  // /etc/resolv.conf's text (else the host's file as it is), and the
  // entries /etc/hosts gets besides localhost and the hostname.
  std::optional<std::string> resolv_conf;
  std::vector<std::pair<std::string, std::string>> extra_hosts;  // {name, ip}
  std::string rootfs;                                            // where the root filesystem gets mounted
  std::optional<runtime::RootfsLayers> layers;
  runtime::User user;
  std::string home = "/root";  // HOME unless the image's Env or -e sets it
};

// The OCI spec for a container. It reads the host's /etc/resolv.conf (and
// /etc/hosts for --network host), nothing else.
runtime::Spec build_spec(const RunOptions& opts, const SpecInputs& in);

// The seccomp program of opts (skiff's default profile unless
// seccomp=unconfined or --privileged; seccomp=FILE's profile) for spec's
// capabilities, from the store's cache or compiled into it; set on spec.
// Throws Error naming a profile file that cannot be read or used.
void apply_seccomp(const store::Paths& paths, const RunOptions& opts, runtime::Spec& spec);

// The namespaces a container gets: user, mount, pid, ipc, uts, and network
// unless --network host.
std::vector<runtime::Namespace> container_namespaces(const RunOptions& opts);

// The capabilities a container's process gets: podman's default set, or
// all of them for --privileged, then --cap-drop and --cap-add as docker
// applies them (ALL in --cap-add: all but the dropped; ALL in --cap-drop:
// only the added). CAP_ names in the kernel's order.
std::vector<std::string> container_capabilities(const RunOptions& opts);

// The command a container runs: entrypoint + cmd, with docker's override rules.
std::vector<std::string> container_args(const RunOptions& opts, const nlohmann::json& image_config);

// The environment: default PATH, image Env, HOSTNAME, TERM for -t, HOME
// (the user's home unless the image's Env has one), then -e.
std::vector<std::string> container_env(const RunOptions& opts, const nlohmann::json& image_config,
                                       const std::string& hostname, const std::string& home);

// What a container's /etc/hosts says: localhost, the host's entries with
// --network host, and the container's own name.
std::string hosts_file(const std::string& hostname, bool host_network,
                       const std::vector<std::pair<std::string, std::string>>& extra = {});

// The container's user: --user, else the image's User (looked up in the
// image's /etc/passwd and /etc/group, which give its home too); it must
// exist in map.
ImageUser pick_user(const RunOptions& opts, const nlohmann::json& config, const userns::IdMap& map,
                    const std::vector<std::filesystem::path>& layers_top_first);

// Runs the container in the foreground; returns docker's exit status.
// With opts.create_only it makes the container without starting it
// (returns 0, the container's id in *id); with opts.existing_id it starts
// that container again. With a --restart policy it starts the container
// again as the policy says before it returns.
int run_container(const store::Paths& paths, const RunOptions& opts, std::string* id = nullptr);

}  // namespace skiff::engine
