#include "skiff/engine/image_build.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "build_fs.hpp"
#include "skiff/build/build_args.hpp"
#include "skiff/build/dockerfile.hpp"
#include "skiff/build/dockerignore.hpp"
#include "skiff/engine/container_run.hpp"
#include "skiff/engine/image_commit.hpp"
#include "skiff/engine/image_pull.hpp"
#include "skiff/engine/layer_store.hpp"
#include "skiff/engine/transfer_events.hpp"
#include "skiff/engine/user_lookup.hpp"
#include "skiff/image/digest.hpp"
#include "skiff/image/manifest.hpp"
#include "skiff/image/reference.hpp"
#include "skiff/registry/http.hpp"
#include "skiff/runtime/container_process.hpp"
#include "skiff/runtime/userns.hpp"
#include "skiff/store/file_lock.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"
#include "skiff/util/log.hpp"

namespace skiff::engine {

namespace fs = std::filesystem;
using nlohmann::json;
using Vars = std::map<std::string, std::string, std::less<>>;

namespace {

// The state of a stage after each instruction.
struct StageState {
  std::vector<LayerRef> layers;
  json config;      // the whole image config
  std::string key;  // cache key: everything that made this state
  Vars args;        // ARGs in scope with a value
  uint64_t size = 0;
  std::string created;  // of the newest layer (or the base image)
  bool cmd_set = false;  // CMD given in this stage
};

std::string hash_key(const std::vector<std::string>& parts) {
  std::string all;
  for (const auto& p : parts) all += p + '\0';
  return image::digest_hex(image::sha256_digest(all));
}

json& cfg(StageState& s) {
  if (!s.config.contains("config") || !s.config["config"].is_object()) s.config["config"] = json::object();
  return s.config["config"];
}

std::vector<std::string> env_list(const StageState& s) {
  std::vector<std::string> out;
  if (auto it = s.config.find("config"); it != s.config.end() && it->contains("Env"))
    for (const auto& e : (*it)["Env"])
      if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

std::optional<std::string> env_value(const StageState& s, std::string_view name) {
  for (const auto& e : env_list(s)) {
    size_t eq = e.find('=');
    if (e.compare(0, eq, name) == 0 && eq == name.size()) return e.substr(eq + 1);
  }
  return std::nullopt;
}

void set_env(StageState& s, const std::string& name, const std::string& value) {
  auto env = env_list(s);
  std::string kv = name + "=" + value;
  auto it = std::find_if(env.begin(), env.end(), [&](const std::string& e) { return e.substr(0, e.find('=')) == name; });
  if (it != env.end()) *it = kv;
  else env.push_back(kv);
  cfg(s)["Env"] = env;
}

std::string shell_created_by(const std::vector<std::string>& shell, const std::string& text) {
  std::string out;
  for (const auto& w : shell) out += w + " ";
  return out + text;
}

json exec_or_shell(const build::CommandLine& c, const std::vector<std::string>& shell) {
  if (c.json) return c.args;
  std::vector<std::string> out = shell;
  out.push_back(c.args.empty() ? std::string() : c.args[0]);
  return out;
}

std::vector<std::string> stage_shell(const StageState& s) {
  if (auto it = s.config.find("config"); it != s.config.end() && it->contains("Shell") && (*it)["Shell"].is_array() &&
                                         !(*it)["Shell"].empty())
    return (*it)["Shell"].get<std::vector<std::string>>();
  return {"/bin/sh", "-c"};
}

// Where a RUN step of a user without subordinate ids finds the apt
// configuration skiff gives it (in /dev: never part of a layer).
constexpr std::string_view kAptDir = "/dev/.skiff-apt";

// apt drops to its _apt user and checks that the ids really changed, which a
// single-id map cannot do: a RUN step of a user without subordinate ids gets
// APT_CONFIG naming a file of skiff's that tells apt to stay root. This
// writes that configuration into host_dir, which the step binds read-only at
// kAptDir; own_config is the APT_CONFIG the step would otherwise have
// (absolute), whose file is read first, as apt would have read it.
//
// apt reads the APT_CONFIG file, then the parts (/etc/apt/apt.conf.d/*),
// then the main file (Dir::Etc::main, /etc/apt/apt.conf), and a later value
// wins (apt.conf(5); pkgInitConfig in apt-pkg/init.cc). There is no
// environment variable for -o, so skiff's APT_CONFIG also names skiff's own
// main file: it reads the image's /etc/apt/apt.conf where apt would have,
// and then sets the sandbox user once more, after every part. A user's own
// Dir::Etc::main in own_config is left to stand.
//
// Both the user's file and /etc/apt/apt.conf are read through a directory
// holding one symlink to them, not with #include "FILE": an included file
// that is missing is an error to apt, a dangling link in an included
// directory only a notice (which the Ignore-Files-Silently pattern mutes),
// and a RUN step may create or remove either file before it calls apt.
void write_apt_stay_root(const fs::path& host_dir, const std::optional<std::string>& own_config) {
  auto link = [&](const std::string& target, const fs::path& subdir) {
    make_dirs(host_dir / subdir, 0755);
    fs::path at = host_dir / subdir / "skiff-link.conf";
    if (symlink(target.c_str(), at.c_str()) != 0) throw_errno(fmt::format("symlink {}", at.string()));
  };
  std::string conf = fmt::format(
      "// skiff: the user building has no subordinate ids, so apt stays root in this RUN step.\n"
      "Dir::Ignore-Files-Silently:: \"^skiff-link[.]conf$\";\n"
      "Dir::Etc::main \"{}/main.conf\";\n",
      kAptDir);
  if (own_config) {
    link(*own_config, "own");
    conf += fmt::format("#include \"{}/own/\";\n", kAptDir);
  }
  conf += "APT::Sandbox::User \"root\";\n";
  link("/etc/apt/apt.conf", "main");
  std::string main = fmt::format("#include \"{}/main/\";\nAPT::Sandbox::User \"root\";\n", kAptDir);
  write_file_atomic(host_dir / "apt.conf", conf, {.mode = 0644, .durable = false});
  write_file_atomic(host_dir / "main.conf", main, {.mode = 0644, .durable = false});
}

// Signals that stop a build. They are blocked while it runs and looked at
// between steps (and during RUN, by the wait), so that a stopped build
// still cleans up after itself.
sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&set, sig);
  return set;
}

Error interrupted(int sig) {
  return Error(fmt::format("the build was stopped by signal {}", sig), 0, {}, 128 + sig);
}

// Throws if a stop signal is pending.
void check_stop() {
  sigset_t set = stop_signals();
  timespec zero{0, 0};
  int sig = sigtimedwait(&set, nullptr, &zero);
  if (sig > 0) throw interrupted(sig);
}

int64_t to_ns(std::chrono::nanoseconds d) { return static_cast<int64_t>(d.count()); }

class Builder {
 public:
  Builder(const store::Paths& paths, const BuildOptions& opts)
      : paths_(paths), opts_(opts), images_(paths), map_(runtime::current_id_map()), layers_(paths, map_) {}

  BuildResult run();
  void cleanup() {
    if (work_.empty()) return;
    work_hold_.reset();
    layers_.remove_tree_as_owner(work_);
    work_.clear();
  }

 private:
  const StageState& stage(size_t index);
  void from(StageState& s, const build::Stage& st, size_t index);
  void dispatch(StageState& s, const build::Instruction& raw, size_t stage_index);
  void run_step(StageState& s, const build::Instruction& in, const build::RunInstruction& run);
  void copy_step(StageState& s, const build::Instruction& in, const build::CopyInstruction& copy, size_t stage_index);
  void add_run_mounts(runtime::Spec& spec, const std::vector<build::RunMount>& mounts, const StageState& s,
                      const StepDirs& dirs, std::vector<store::FileLock>& locks);
  void workdir_step(StageState& s, const build::Instruction& in, const std::string& path);
  void add_layer_step(StageState& s, const build::Instruction& in, const std::string& key, const std::string& created_by,
                      const std::function<StepLayer(const StepDirs&)>& make);
  void history(StageState& s, const std::string& created_by, bool empty);
  void trigger_onbuild(StageState& s, size_t stage_index);

  std::optional<size_t> find_stage(std::string_view name, size_t before) const;
  image::ImageContent image_for(const std::string& ref);
  StepRoot step_root(const StageState& s) const;
  StepDirs new_step_dirs();
  build::EnvLookup lookup(const StageState& s) const;
  build::EnvLookup meta_lookup() const;
  std::string where(const build::Instruction& in) const { return fmt::format("{}:{}", df_.file_name, in.line); }
  void say(const std::string& line) const {
    if (!opts_.quiet) {
      fmt::print("{}\n", line);
      fflush(stdout);
    }
  }
  void step_header(const std::string& text) {
    ++step_;
    if (stages_total_ > 1) say(fmt::format("[{}/{}] STEP {}/{}: {}", stage_no_, stages_total_, step_, steps_in_stage_, text));
    else say(fmt::format("STEP {}/{}: {}", step_, steps_in_stage_, text));
  }
  std::optional<std::string> build_arg(std::string_view name) {
    for (const auto& [k, v] : opts_.build_args)
      if (k == name) {
        used_args_.insert(k);
        return v;
      }
    return std::nullopt;
  }
  fs::path cache_file(const std::string& key) const { return paths_.root / "build-cache" / (key + ".json"); }
  std::optional<StepLayer> cached(const std::string& key, std::string& created);
  void remember(const std::string& key, const StepLayer& layer, const std::string& created);
  std::set<size_t> needed_stages(size_t target) const;

  store::Paths paths_;
  const BuildOptions& opts_;
  build::Dockerfile df_;
  image::ImageStore images_;
  runtime::IdMap map_;
  LayerStore layers_;
  StorageInfo storage_;
  build::DockerIgnore ignore_;
  UniqueFd context_fd_;
  fs::path work_;
  UniqueFd work_hold_;
  fs::path empty_dir_;
  int next_step_dir_ = 0;
  Vars meta_args_;
  std::set<std::string, std::less<>> used_args_;
  std::map<size_t, StageState> built_;
  size_t stage_no_ = 0, stages_total_ = 1;
  int step_ = 0, steps_in_stage_ = 0;
  bool noted_single_map_ = false;
};

// The global scope: what FROM lines and ARGs before the first FROM see.
build::EnvLookup Builder::meta_lookup() const {
  return [this](std::string_view n) -> std::optional<std::string> {
    auto it = meta_args_.find(n);
    if (it == meta_args_.end()) return std::nullopt;
    return it->second;
  };
}

build::EnvLookup Builder::lookup(const StageState& s) const {
  return [&s](std::string_view name) -> std::optional<std::string> {
    if (auto v = env_value(s, name)) return v;
    if (auto it = s.args.find(name); it != s.args.end()) return it->second;
    return std::nullopt;
  };
}

std::optional<size_t> Builder::find_stage(std::string_view name, size_t before) const {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  for (size_t i = 0; i < before && i < df_.stages.size(); ++i)
    if (!df_.stages[i].name.empty() && df_.stages[i].name == lower) return i;
  if (!name.empty() && std::all_of(name.begin(), name.end(), ::isdigit)) {
    size_t i = std::stoul(std::string(name));
    if (i < before) return i;
  }
  return std::nullopt;
}

// Stages the target needs: its FROM stage and COPY --from stages, recursively.
std::set<size_t> Builder::needed_stages(size_t target) const {
  std::set<size_t> need;
  std::vector<size_t> todo{target};
  build::EnvLookup meta = meta_lookup();
  while (!todo.empty()) {
    size_t i = todo.back();
    todo.pop_back();
    if (!need.insert(i).second) continue;
    const auto& st = df_.stages[i];
    std::string base = st.base;
    try {
      base = build::expand_word(st.base, meta, {.escape = df_.escape});
    } catch (const Error&) {
    }
    if (auto dep = find_stage(base, i)) todo.push_back(*dep);
    for (const auto& in : st.instructions)
      if (const auto* c = std::get_if<build::CopyInstruction>(&in.body); c && !c->from.empty()) {
        std::string from = c->from;
        try {
          from = build::expand_word(c->from, meta, {.escape = df_.escape});
        } catch (const Error&) {
        }
        if (auto dep = find_stage(from, i)) todo.push_back(*dep);
      }
  }
  return need;
}

image::ImageContent Builder::image_for(const std::string& ref) {
  std::optional<image::ImageRecord> rec;
  if (opts_.pull == "missing" || opts_.pull == "never") rec = images_.find(ref);
  if (!rec) {
    if (opts_.pull == "never") throw Error(fmt::format("no such image: {} (and --pull=never)", ref));
    QuietEvents quiet;
    TransferEvents& events = opts_.pull_events && !opts_.quiet ? *opts_.pull_events : quiet;
    rec = pull_image(paths_, ref, {.jobs = default_transfer_jobs()}, events).record;
  }
  image::ImageContent content = images_.load(*rec);
  layers_.ensure(images_, content);
  return content;
}

StepRoot Builder::step_root(const StageState& s) const {
  StepRoot r;
  r.driver = storage_.driver;
  for (auto it = s.layers.rbegin(); it != s.layers.rend(); ++it) r.lowers_top_first.push_back(layers_.layer_dir(it->diff_id));
  r.lowers_top_first.push_back(empty_dir_);
  return r;
}

StepDirs Builder::new_step_dirs() {
  StepDirs d{work_ / fmt::format("step-{}", ++next_step_dir_)};
  d.create();
  return d;
}

std::optional<StepLayer> Builder::cached(const std::string& key, std::string& created) {
  if (opts_.no_cache) return std::nullopt;
  auto text = read_file_if_exists(cache_file(key));
  if (!text) return std::nullopt;
  try {
    json j = json::parse(*text);
    StepLayer out;
    created = j.value("created", "");
    if (j.contains("layer") && !j["layer"].is_null()) {
      LayerRef l;
      l.diff_id = j["layer"].at("diff_id").get<std::string>();
      l.digest = j["layer"].at("digest").get<std::string>();
      l.media_type = j["layer"].at("media_type").get<std::string>();
      l.size = j["layer"].at("size").get<uint64_t>();
      // Layers and blobs go when no image uses them: then the step runs again.
      if (access(layers_.layer_dir(l.diff_id).c_str(), F_OK) != 0 || !images_.has_blob(l.digest)) return std::nullopt;
      out.layer = l;
      out.content_size = j.value("content_size", uint64_t{0});
    }
    return out;
  } catch (const std::exception&) {
    return std::nullopt;  // a damaged record is a miss
  }
}

void Builder::remember(const std::string& key, const StepLayer& layer, const std::string& created) {
  json j{{"created", created}, {"layer", nullptr}, {"content_size", layer.content_size}};
  if (layer.layer)
    j["layer"] = {{"diff_id", layer.layer->diff_id},
                  {"digest", layer.layer->digest},
                  {"media_type", layer.layer->media_type},
                  {"size", layer.layer->size}};
  make_dirs(cache_file(key).parent_path(), 0700);
  write_file_atomic(cache_file(key), j.dump(), {.mode = 0600, .durable = false});
}

void Builder::history(StageState& s, const std::string& created_by, bool empty) {
  json h{{"created", s.created}, {"created_by", created_by}};
  if (empty) h["empty_layer"] = true;
  if (!s.config.contains("history") || !s.config["history"].is_array()) s.config["history"] = json::array();
  s.config["history"].push_back(h);
}

// A step that may make a layer: from the cache, or by running make.
void Builder::add_layer_step(StageState& s, const build::Instruction& in, const std::string& key,
                             const std::string& created_by, const std::function<StepLayer(const StepDirs&)>& make) {
  std::string created;
  std::optional<StepLayer> result = cached(key, created);
  if (result) {
    say(fmt::format("--> Using cache {}",
                    result->layer ? image::digest_hex(result->layer->diff_id).substr(0, 12) : key.substr(0, 12)));
  } else {
    StepDirs dirs = new_step_dirs();
    try {
      result = make(dirs);
    } catch (const Error& e) {
      throw e.with_context(where(in));
    }
    created = image::rfc3339_now();
    remember(key, *result, created);
    layers_.remove_tree_as_owner(dirs.dir);
    if (result->layer) say(fmt::format("--> {}", image::digest_hex(result->layer->diff_id).substr(0, 12)));
  }
  if (result->layer) {
    s.layers.push_back(*result->layer);
    s.size += result->content_size;
    s.created = created;
  }
  s.key = hash_key({key, result->layer ? result->layer->diff_id : "-"});
  history(s, created_by, !result->layer);
}

void Builder::from(StageState& s, const build::Stage& st, size_t index) {
  build::Instruction fi;
  fi.keyword = "FROM";
  fi.line = st.line;
  fi.text = st.text;
  fi.body = build::FromInstruction{st.base, st.name, st.platform};
  build::EnvLookup meta = meta_lookup();
  build::Instruction ex;
  try {
    ex = build::expand_instruction(fi, meta, df_.escape);
  } catch (const Error& e) {
    throw e.with_context(where(fi));
  }
  const auto& f = std::get<build::FromInstruction>(ex.body);
  if (!f.platform.empty()) {
    image::Platform want = image::parse_platform(f.platform);
    if (want.str() != image::host_platform().str() && want.architecture != image::host_platform().architecture)
      throw Error(fmt::format("{}: FROM --platform={}: only this machine's platform ({}) can be built",
                              where(fi), f.platform, image::host_platform().str()));
  }
  step_header(st.text);
  s.config = json::object();
  if (f.base == "scratch") {
    image::Platform host = image::host_platform();
    s.config = {{"architecture", host.architecture}, {"os", host.os}, {"config", json::object()}};
    if (!host.variant.empty()) s.config["variant"] = host.variant;
    s.key = hash_key({"scratch"});
    s.created = image::rfc3339_now();
    s.config["history"] = json::array();
  } else if (auto dep = find_stage(f.base, index)) {
    const StageState& base = stage(*dep);
    s.layers = base.layers;
    s.config = base.config;
    s.key = base.key;
    s.size = base.size;
    s.created = base.created;
  } else {
    if (find_stage(f.base, df_.stages.size()))
      throw Error(fmt::format("{}: FROM {}: a stage can only use stages defined before it", where(fi), f.base));
    image::ImageContent content;
    try {
      content = image_for(f.base);
    } catch (const Error& e) {
      throw e.with_context(where(fi));
    }
    s.layers = image::image_layers(content);
    s.config = content.config;
    s.key = hash_key({"image", content.record.id});
    s.size = content.record.size;
    s.created = content.config.value("created", image::rfc3339_now());
  }
  s.config.erase("rootfs");
  if (!s.config.contains("history")) s.config["history"] = json::array();
  // The predefined platform args are in the global scope only.
  s.args.clear();
  trigger_onbuild(s, index);
}

void Builder::trigger_onbuild(StageState& s, size_t stage_index) {
  json& c = cfg(s);
  if (!c.contains("OnBuild") || !c["OnBuild"].is_array() || c["OnBuild"].empty()) {
    c.erase("OnBuild");
    return;
  }
  std::vector<std::string> triggers = c["OnBuild"].get<std::vector<std::string>>();
  c.erase("OnBuild");
  std::string text = "FROM scratch\n";
  for (const auto& t : triggers) text += t + "\n";
  build::Dockerfile parsed = build::parse_dockerfile(text, "ONBUILD");
  for (const auto& in : parsed.stages.at(0).instructions) dispatch(s, in, stage_index);
}

const StageState& Builder::stage(size_t index) {
  if (auto it = built_.find(index); it != built_.end()) return it->second;
  const build::Stage& st = df_.stages.at(index);
  ++stage_no_;
  step_ = 0;
  steps_in_stage_ = static_cast<int>(st.instructions.size()) + 1;
  StageState s;
  from(s, st, index);
  for (const auto& in : st.instructions) {
    check_stop();
    step_header(in.text);
    dispatch(s, in, index);
  }
  return built_.emplace(index, std::move(s)).first->second;
}

void Builder::dispatch(StageState& s, const build::Instruction& raw, size_t stage_index) {
  // ARG first: its own value expands with what came before.
  if (std::holds_alternative<build::ArgInstruction>(raw.body)) {
    build::Instruction ex;
    try {
      ex = build::expand_instruction(raw, lookup(s), df_.escape);
    } catch (const Error& e) {
      throw e.with_context(where(raw));
    }
    for (const auto& a : std::get<build::ArgInstruction>(ex.body).args) {
      std::optional<std::string> v = build_arg(a.name);
      if (!v) v = a.value;
      if (!v)
        if (auto it = meta_args_.find(a.name); it != meta_args_.end()) v = it->second;
      if (v) s.args[a.name] = *v;
      else s.args.erase(a.name);
      s.key = hash_key({s.key, "ARG", a.name, v.value_or("\x01unset")});
    }
    return;
  }
  build::Instruction in;
  try {
    in = build::expand_instruction(raw, lookup(s), df_.escape);
  } catch (const Error& e) {
    throw e.with_context(where(raw));
  }
  std::vector<std::string> shell = stage_shell(s);
  auto nop = [&](const std::string& what) {
    s.key = hash_key({s.key, what});
    history(s, what, true);
  };
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, build::RunInstruction>) {
          run_step(s, in, body);
        } else if constexpr (std::is_same_v<T, build::CopyInstruction>) {
          copy_step(s, in, body, stage_index);
        } else if constexpr (std::is_same_v<T, build::WorkdirInstruction>) {
          workdir_step(s, in, body.path);
        } else if constexpr (std::is_same_v<T, build::EnvInstruction>) {
          std::string text;
          for (const auto& kv : body.vars) {
            set_env(s, kv.key, kv.value);
            text += fmt::format(" {}={}", kv.key, kv.value);
          }
          nop("ENV" + text);
        } else if constexpr (std::is_same_v<T, build::LabelInstruction>) {
          std::string text;
          for (const auto& kv : body.labels) {
            cfg(s)["Labels"][kv.key] = kv.value;
            text += fmt::format(" {}={}", kv.key, kv.value);
          }
          nop("LABEL" + text);
        } else if constexpr (std::is_same_v<T, build::ExposeInstruction>) {
          std::string text;
          for (auto port : body.ports) {
            if (port.find('/') == std::string::npos) port += "/tcp";
            cfg(s)["ExposedPorts"][port] = json::object();
            text += " " + port;
          }
          nop("EXPOSE" + text);
        } else if constexpr (std::is_same_v<T, build::VolumeInstruction>) {
          std::string text;
          for (const auto& p : body.paths) {
            if (p.empty()) throw Error(fmt::format("{}: VOLUME specified can not be an empty string", where(in)));
            cfg(s)["Volumes"][p] = json::object();
            text += " " + p;
          }
          nop("VOLUME" + text);
        } else if constexpr (std::is_same_v<T, build::UserInstruction>) {
          cfg(s)["User"] = body.user;
          nop("USER " + body.user);
        } else if constexpr (std::is_same_v<T, build::CmdInstruction>) {
          cfg(s)["Cmd"] = exec_or_shell(body.command, shell);
          s.cmd_set = true;
          nop("CMD " + cfg(s)["Cmd"].dump());
        } else if constexpr (std::is_same_v<T, build::EntrypointInstruction>) {
          json e = exec_or_shell(body.command, shell);
          if (body.command.json && body.command.args.empty()) cfg(s).erase("Entrypoint");
          else cfg(s)["Entrypoint"] = e;
          // A new entrypoint drops the Cmd the base image had for the old one.
          if (!s.cmd_set) cfg(s).erase("Cmd");
          nop("ENTRYPOINT " + e.dump());
        } else if constexpr (std::is_same_v<T, build::ShellInstruction>) {
          cfg(s)["Shell"] = body.shell;
          nop("SHELL " + json(body.shell).dump());
        } else if constexpr (std::is_same_v<T, build::StopSignalInstruction>) {
          cfg(s)["StopSignal"] = body.signal;
          nop("STOPSIGNAL " + body.signal);
        } else if constexpr (std::is_same_v<T, build::HealthcheckInstruction>) {
          json h{{"Test", body.test}};
          if (body.interval.count()) h["Interval"] = to_ns(body.interval);
          if (body.timeout.count()) h["Timeout"] = to_ns(body.timeout);
          if (body.start_period.count()) h["StartPeriod"] = to_ns(body.start_period);
          if (body.start_interval.count()) h["StartInterval"] = to_ns(body.start_interval);
          if (body.retries) h["Retries"] = body.retries;
          cfg(s)["Healthcheck"] = h;
          nop("HEALTHCHECK " + h.dump());
        } else if constexpr (std::is_same_v<T, build::OnbuildInstruction>) {
          cfg(s)["OnBuild"].push_back(body.expression);
          nop("ONBUILD " + body.expression);
        } else if constexpr (std::is_same_v<T, build::MaintainerInstruction>) {
          s.config["author"] = body.maintainer;
          nop("MAINTAINER " + body.maintainer);
        } else if constexpr (std::is_same_v<T, build::FromInstruction>) {
          throw Error(fmt::format("{}: FROM inside a stage", where(in)));
        }
      },
      in.body);
}

void Builder::run_step(StageState& s, const build::Instruction& in, const build::RunInstruction& run) {
  if (run.security != "sandbox")
    throw Error(fmt::format("{}: RUN --security={} is not supported: steps always run sandboxed", where(in), run.security));
  std::vector<std::string> shell = stage_shell(s);
  std::vector<std::string> args;
  std::string line = run.command.args.empty() ? std::string() : run.command.args[0];
  if (run.command.json) {
    args = run.command.args;
  } else {
    std::string script = line;
    if (!run.heredocs.empty()) {
      std::string_view t = line;
      while (!t.empty() && isspace(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
      while (!t.empty() && isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
      if (run.heredocs.size() == 1 && t.starts_with("<<") && t.find(' ') == std::string_view::npos) {
        script = run.heredocs[0].content;  // RUN <<EOF: the document is the script
      } else {
        // The shell reads the documents itself, as written after the line.
        for (const auto& h : run.heredocs) script += "\n" + h.content + h.name;
        script += "\n";
      }
    }
    args = shell;
    args.push_back(script);
  }
  std::string network = run.network == "default" ? opts_.network : run.network;
  if (network != "host" && network != "none")
    throw Error(fmt::format("{}: RUN --network={}: use default, host or none", where(in), network));

  // ARGs are the step's environment, below ENV of the same name.
  std::vector<std::string> arg_env;
  for (const auto& [k, v] : s.args)
    if (!env_value(s, k)) arg_env.push_back(k + "=" + v);
  for (const auto& [k, v] : opts_.build_args)
    if (build::is_proxy_arg(k) && !s.args.count(k)) {
      used_args_.insert(k);
      arg_env.push_back(k + "=" + v);
    }
  std::vector<std::string> key_parts{s.key, "RUN", json(args).dump(), network, json(arg_env).dump()};
  // Bind mounts from the context are part of what the step sees; caches,
  // tmpfs and secrets are not (as in BuildKit).
  for (const auto& m : run.mounts) {
    key_parts.push_back(fmt::format("mount:{}:{}:{}:{}:{}", static_cast<int>(m.type), m.target, m.source, m.from,
                                    m.readonly));
    if (m.type == build::MountType::kBind && m.from.empty()) {
      if (!context_fd_) throw Error(fmt::format("{}: RUN --mount=type=bind needs a build context", where(in)));
      try {
        key_parts.push_back(hash_sources(context_fd_.get(), {relative_in_root(m.source)}, &ignore_));
      } catch (const Error& e) {
        throw e.with_context(fmt::format("{}: RUN --mount source", where(in)));
      }
    }
  }
  std::string key = hash_key(key_parts);
  std::string created_by = "RUN " + (run.command.json ? json(args).dump() : shell_created_by(shell, line));

  add_layer_step(s, in, key, created_by, [&](const StepDirs& dirs) {
    StepRoot root = step_root(s);
    RunOptions ro;
    ro.command = args;
    ro.entrypoint = "";
    ro.env = arg_env;
    ro.network = network;
    ro.remove = true;
    json config = cfg(s);
    std::vector<fs::path> top_first(root.lowers_top_first.begin(), root.lowers_top_first.end());
    SpecInputs si;
    si.image_config = config;
    si.container_id = random_hex(64);
    si.host_network = network == "host";
    si.rootfs = dirs.merged().string();
    si.user = pick_user(ro, config, map_, top_first);
    runtime::RootfsLayers rl;
    rl.driver = storage_.driver;
    rl.layers_dir = paths_.layers().string();
    for (const auto& l : root.lowers_top_first)
      rl.lowerdirs.push_back(rl.driver == Driver::kOverlay && l.parent_path() == paths_.layers() ? l.filename().string()
                                                                                                  : l.string());
    rl.upperdir = dirs.upper().string();
    rl.workdir = dirs.work().string();
    rl.volatile_upper = true;
    si.layers = rl;
    if (!map_.full) {
      // The step's own APT_CONFIG (ENV, else an ARG) stays in the image's
      // config; apt reads it through skiff's, for this step only.
      std::optional<std::string> own = env_value(s, "APT_CONFIG");
      if (auto it = s.args.find("APT_CONFIG"); !own && it != s.args.end()) own = it->second;
      if (own && own->empty()) own.reset();  // apt ignores an empty one
      // apt would take a relative one from its working directory: the step
      // starts in WORKDIR.
      if (own && (*own)[0] != '/') {
        std::string workdir = config.value("WorkingDir", "");
        own = (fs::path(workdir.empty() ? "/" : workdir) / *own).lexically_normal().string();
      }
      write_apt_stay_root(dirs.dir / "apt", own);
      ro.env.push_back(fmt::format("APT_CONFIG={}/apt.conf", kAptDir));
    }
    runtime::Spec spec = build_spec(ro, si);
    if (!map_.full) {
      spec.mounts.push_back({std::string(kAptDir), "bind", (dirs.dir / "apt").string(), {"rbind", "ro"}});
      spec.fake_id_calls = true;
      if (!noted_single_map_ && !opts_.quiet) {
        noted_single_map_ = true;
        std::string user = std::to_string(getuid());
        if (struct passwd* pw = getpwuid(getuid())) user = pw->pw_name;
        note(fmt::format("user {} has no ranges in /etc/subuid: RUN steps see chown and setuid calls succeed "
                         "without effect, and every file the build makes belongs to root",
                         user));
      }
    }
    std::vector<store::FileLock> cache_locks;
    try {
      add_run_mounts(spec, run.mounts, s, dirs, cache_locks);
    } catch (const Error& e) {
      throw e.with_context("RUN --mount");
    }
    std::vector<std::string> stubs;
    for (const auto& m : spec.mounts) stubs.push_back(m.destination);

    // With -q, the step's output is kept and shown only if it fails.
    UniqueFd log, saved_out, saved_err;
    if (opts_.quiet) {
      log = open_or_throw(dirs.dir / "output", O_RDWR | O_CREAT | O_TRUNC, 0600);
      fflush(stdout);
      saved_out = UniqueFd(fcntl(1, F_DUPFD_CLOEXEC, 3));
      saved_err = UniqueFd(fcntl(2, F_DUPFD_CLOEXEC, 3));
      dup2(log.get(), 1);
      dup2(log.get(), 2);
    }
    int code = 0;
    {
      std::optional<runtime::ContainerProcess> proc;
      try {
        proc.emplace(runtime::start_container(spec, map_, false));
      } catch (...) {
        if (saved_out) dup2(saved_out.get(), 1), dup2(saved_err.get(), 2);
        throw;
      }
      if (saved_out) dup2(saved_out.get(), 1), dup2(saved_err.get(), 2);
      code = proc->wait(true);
      if (int sig = proc->interrupted_by()) throw interrupted(sig);
    }
    if (code != 0) {
      if (log) {
        std::string out = read_file(dirs.dir / "output");
        write_all(2, out);
      }
      std::string shown = run.command.json ? json(args).dump() : line;
      throw Error(fmt::format("RUN {}: the command exited with status {}", shown, code), 0, {}, 1);
    }
    runtime::run_in_userns(map_, [&] { commit_step_upper(dirs, root, layers_, stubs); });
    return read_step_result(dirs, images_);
  });
}

// RUN --mount: binds from the context (read-only, or over a throwaway
// overlay when rw), caches kept in the store, tmpfs, and secrets.
void Builder::add_run_mounts(runtime::Spec& spec, const std::vector<build::RunMount>& mounts, const StageState& s,
                             const StepDirs& dirs, std::vector<store::FileLock>& locks) {
  std::vector<runtime::Mount> out;
  int n = 0;
  for (const auto& m : mounts) {
    std::string target = m.target;
    if (m.type == build::MountType::kSecret) {
      std::string id = !m.id.empty() ? m.id : !m.source.empty() ? m.source : fs::path(target).filename().string();
      auto it = std::find_if(opts_.secrets.begin(), opts_.secrets.end(), [&](const auto& p) { return p.first == id; });
      if (it == opts_.secrets.end()) {
        if (m.required) throw Error(fmt::format("secret {:?} is required: give it with --secret id={},src=FILE", id, id));
        continue;
      }
      std::string content;
      if (!it->second.file.empty()) content = read_file(it->second.file);
      else if (const char* v = getenv(it->second.env.c_str())) content = v;
      if (m.env) {
        spec.process.env.push_back(*m.env + "=" + content);
        if (target.empty()) continue;
      }
      if (target.empty()) target = "/run/secrets/" + id;
      fs::path file = dirs.dir / fmt::format("secret-{}", n++);
      write_file_atomic(file, content, {.mode = m.mode.value_or(0400), .durable = false});
      out.push_back({target, "bind", file.string(), {"rbind", "ro"}});
      continue;
    }
    if (target.empty()) throw Error("a mount needs a target");
    if (target[0] != '/') target = s.config.value("config", json::object()).value("WorkingDir", "/") + "/" + target;
    switch (m.type) {
      case build::MountType::kTmpfs: {
        std::vector<std::string> o{"nosuid", "nodev", "mode=1777"};
        if (m.size) o.push_back(fmt::format("size={}", *m.size));
        out.push_back({target, "tmpfs", "tmpfs", o});
        break;
      }
      case build::MountType::kBind: {
        if (!m.from.empty()) throw Error("type=bind with from= is not supported yet: COPY --from the stage instead");
        fs::path src = real_path_in_root(context_fd_.get(), relative_in_root(m.source));
        if (m.readonly) {
          out.push_back({target, "bind", src.string(), {"rbind", "ro"}});
          break;
        }
        // Writes land in a layer of the step's own and are thrown away.
        if (!fs::is_directory(src)) throw Error("a read-write bind mount needs a directory as source");
        fs::path upper = dirs.dir / fmt::format("bind-{}/upper", n), work = dirs.dir / fmt::format("bind-{}/work", n);
        ++n;
        make_dirs(upper, 0755);
        make_dirs(work, 0755);
        if (storage_.driver != Driver::kOverlay) throw Error("a read-write bind mount needs kernel overlay");
        out.push_back({target, "overlay", "overlay",
                       {fmt::format("lowerdir={}:{}", src.string(), empty_dir_.string()),
                        "upperdir=" + upper.string(), "workdir=" + work.string(), "userxattr"}});
        break;
      }
      case build::MountType::kCache: {
        if (!m.from.empty()) throw Error("type=cache with from= is not supported yet");
        std::string id = m.id.empty() ? target : m.id;
        std::string hex = image::digest_hex(image::sha256_digest(id));
        fs::path dir = paths_.root / "build-cache" / "mounts" / hex;
        if (access(dir.c_str(), F_OK) != 0) {
          make_dirs(dir.parent_path(), 0700);
          fs::path tmp = dir.string() + "." + random_hex(8);
          make_dirs(tmp, 0755);
          if (m.mode) chmod(tmp.c_str(), *m.mode);
          if (rename(tmp.c_str(), dir.c_str()) != 0) remove_tree(tmp);  // another build made it first
        }
        // locked: one step at a time; private is treated the same way.
        if (m.sharing && *m.sharing != build::CacheSharing::kShared)
          locks.emplace_back(paths_.locks() / ("cache-" + hex + ".lock"));
        out.push_back({target, "bind", dir.string(), {"rbind"}});
        break;
      }
      case build::MountType::kSsh:
        throw Error("type=ssh is not supported");
      case build::MountType::kSecret:
        break;
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const runtime::Mount& a, const runtime::Mount& b) {
    return std::count(a.destination.begin(), a.destination.end(), '/') <
           std::count(b.destination.begin(), b.destination.end(), '/');
  });
  spec.mounts.insert(spec.mounts.end(), out.begin(), out.end());
}

void Builder::workdir_step(StageState& s, const build::Instruction& in, const std::string& path) {
  std::string dir = path;
  if (dir.empty()) throw Error(fmt::format("{}: WORKDIR needs a path", where(in)));
  if (dir[0] != '/') dir = (fs::path(cfg(s).value("WorkingDir", "/")) / dir).lexically_normal().string();
  dir = build::clean_path(dir);
  cfg(s)["WorkingDir"] = dir;
  std::string key = hash_key({s.key, "WORKDIR", dir});
  add_layer_step(s, in, key, "WORKDIR " + dir, [&](const StepDirs& dirs) {
    StepRoot root = step_root(s);
    runtime::run_in_userns(
        map_,
        [&] {
          mount_step_root(root, dirs.upper(), dirs.work(), dirs.merged());
          {
            UniqueFd r = open_or_throw(dirs.merged(), O_PATH | O_DIRECTORY);
            make_dirs_in_root(r.get(), dir, 0, 0);
          }
          unmount_step_root(dirs.merged());
          commit_step_upper(dirs, root, layers_, {});
        },
        true);
    return read_step_result(dirs, images_);
  });
}

namespace {

bool is_url(std::string_view s) { return s.starts_with("http://") || s.starts_with("https://"); }

// The file name an URL gives: its last path component.
std::string url_file_name(std::string_view url) {
  std::string_view p = url.substr(url.find("://") + 3);
  size_t cut = p.find_first_of("?#");
  p = p.substr(0, cut);
  size_t slash = p.find('/');
  if (slash == std::string_view::npos) return {};
  p = p.substr(slash);
  while (!p.empty() && p.back() == '/') p.remove_suffix(1);
  return std::string(p.substr(p.rfind('/') + 1));
}

std::string download(const std::string& url) {
  auto transport = registry::make_curl_transport({});
  registry::HttpRequest req;
  req.url = url;
  registry::HttpResponse resp = transport->perform(req);
  if (resp.status != 200) throw Error(fmt::format("ADD {}: the server answered HTTP {}", url, resp.status));
  return resp.body;
}

}  // namespace

void Builder::copy_step(StageState& s, const build::Instruction& in, const build::CopyInstruction& c,
                        size_t stage_index) {
  const char* kw = c.add ? "ADD" : "COPY";
  if (c.parents) throw Error(fmt::format("{}: {} --parents is not supported yet", where(in), kw));
  if (c.unpack.has_value() || c.keep_git_dir.has_value())
    throw Error(fmt::format("{}: ADD --unpack and --keep-git-dir are not supported yet", where(in)));

  CopyPlan plan;
  plan.full_id_map = map_.full;
  plan.unpack_archives = c.add && c.from.empty();
  plan.keep_owners = !c.from.empty() && c.chown.empty();
  std::string dest = c.dest;
  bool trailing = !dest.empty() && dest.back() == '/';
  std::string workdir = cfg(s).value("WorkingDir", "/");
  if (dest.empty() || dest[0] != '/') dest = workdir + "/" + dest;
  dest = build::clean_path(dest);
  plan.dest = dest;

  // Owners and modes.
  std::vector<fs::path> top_first;
  for (auto it = s.layers.rbegin(); it != s.layers.rend(); ++it) top_first.push_back(layers_.layer_dir(it->diff_id));
  if (!c.chown.empty()) {
    runtime::User u;
    try {
      u = resolve_user(c.chown, read_from_layers(top_first, "/etc/passwd"), read_from_layers(top_first, "/etc/group"));
    } catch (const Error& e) {
      throw e.with_context(fmt::format("{}: {} --chown", where(in), kw));
    }
    plan.uid = u.uid;
    plan.gid = u.gid;
    if (!map_.maps_uid(u.uid) || !map_.maps_gid(u.gid)) {
      if (map_.full)
        throw Error(fmt::format("{}: --chown={}: {}:{} is outside your /etc/subuid range", where(in), c.chown, u.uid,
                                u.gid));
      plan.uid = plan.gid = 0;  // a single-id map has only root
    }
  }
  if (!c.chmod.empty()) {
    char* end = nullptr;
    unsigned long m = strtoul(c.chmod.c_str(), &end, 8);
    if (*end != '\0' || m > 07777) throw Error(fmt::format("{}: --chmod={}: give the mode in octal, e.g. 0755", where(in), c.chmod));
    plan.chmod = static_cast<mode_t>(m);
  }

  // Sources, and what the cache key takes from them.
  std::vector<std::string> key_parts{s.key, kw, json(c.sources).dump(), dest, c.chown, c.chmod,
                                     trailing ? "/" : ""};
  std::optional<StageState> from_stage;
  std::optional<image::ImageContent> from_image;
  std::vector<std::string> patterns;
  for (const auto& src : c.sources) {
    if (!c.add || !is_url(src)) {
      patterns.push_back(src);
      continue;
    }
    if (!c.from.empty()) throw Error(fmt::format("{}: ADD --from cannot fetch URLs", where(in)));
    std::string body;
    try {
      body = download(src);
    } catch (const Error& e) {
      throw e.with_context(where(in));
    }
    std::string sum = image::sha256_digest(body);
    if (!c.checksum.empty() && c.checksum != sum)
      throw Error(fmt::format("{}: ADD {}: the download has digest {}, not {}", where(in), src, sum, c.checksum));
    std::string name = url_file_name(src);
    if (name.empty() && !trailing) name = fs::path(dest).filename().string();
    if (name.empty()) throw Error(fmt::format("{}: ADD {}: cannot tell a file name from the URL", where(in), src));
    key_parts.push_back(sum);
    plan.inline_files.emplace_back(name, std::move(body));
    plan.inline_modes.push_back(0600);
  }
  if (!c.checksum.empty() && !patterns.empty())
    throw Error(fmt::format("{}: ADD --checksum only checks URLs", where(in)));
  for (const auto& h : c.heredocs) {
    std::string content = h.content;
    if (h.expand) content = build::expand_word(content, lookup(s), {.escape = df_.escape, .quotes_literal = true});
    key_parts.push_back(image::sha256_digest(content));
    plan.inline_files.emplace_back(h.name, std::move(content));
    plan.inline_modes.push_back(0644);
  }

  build::DockerIgnore ignore = ignore_;
  if (!c.excludes.empty()) {
    std::vector<std::string> all = ignore_.patterns();
    all.insert(all.end(), c.excludes.begin(), c.excludes.end());
    ignore = build::DockerIgnore(all);
  }
  if (c.from.empty()) {
    if (!patterns.empty()) {
      if (!context_fd_)
        throw Error(fmt::format("{}: {} from the build context, but there is none (the Dockerfile came from standard input)",
                                where(in), kw));
      try {
        for (const auto& p : patterns) {
          auto found = expand_source(context_fd_.get(), p, &ignore);
          plan.sources.insert(plan.sources.end(), found.begin(), found.end());
        }
        key_parts.push_back(hash_sources(context_fd_.get(), plan.sources, &ignore));
      } catch (const Error& e) {
        throw e.with_context(fmt::format("{}: {}", where(in), kw));
      }
      plan.ignore = &ignore_;
      if (!c.excludes.empty()) plan.ignore = &ignore;
    }
  } else if (auto dep = find_stage(c.from, stage_index)) {
    from_stage = stage(*dep);
    key_parts.push_back("stage:" + from_stage->key);
  } else if (find_stage(c.from, df_.stages.size())) {
    throw Error(fmt::format("{}: {} --from={}: a stage can only copy from stages defined before it", where(in), kw, c.from));
  } else {
    try {
      from_image = image_for(c.from);
    } catch (const Error& e) {
      throw e.with_context(fmt::format("{}: {} --from={}", where(in), kw, c.from));
    }
    key_parts.push_back("image:" + from_image->record.id);
  }
  size_t count = (c.from.empty() ? plan.sources.size() : patterns.size()) + plan.inline_files.size();
  plan.dest_is_dir = trailing;
  if (count > 1 && !trailing)
    throw Error(fmt::format("{}: when using {} with more than one source file, the destination must be a directory "
                            "and end with a /",
                            where(in), kw));

  std::string created_by = fmt::format("{} {}{} {}", kw, c.from.empty() ? "" : "--from=" + c.from + " ",
                                       fmt::join(c.sources, " "), c.dest);
  std::string key = hash_key(key_parts);
  add_layer_step(s, in, key, created_by, [&](const StepDirs& dirs) {
    StepRoot root = step_root(s);
    std::optional<StepRoot> src_root;
    if (from_stage) src_root = step_root(*from_stage);
    if (from_image) {
      StageState tmp;
      tmp.layers = image::image_layers(*from_image);
      src_root = step_root(tmp);
    }
    runtime::run_in_userns(
        map_,
        [&] {
          mount_step_root(root, dirs.upper(), dirs.work(), dirs.merged());
          fs::path src_mount = dirs.dir / "source";
          UniqueFd src;
          if (src_root) {
            make_dirs(src_mount, 0755);
            mount_step_root(*src_root, {}, {}, src_mount);
            src = open_or_throw(src_mount, O_PATH | O_DIRECTORY);
            for (const auto& p : patterns) {
              auto found = expand_source(src.get(), p, nullptr);
              plan.sources.insert(plan.sources.end(), found.begin(), found.end());
            }
            if (plan.sources.size() + plan.inline_files.size() > 1 && !trailing)
              throw Error("when copying more than one file, the destination must be a directory and end with a /");
          } else if (context_fd_) {
            src = UniqueFd(fcntl(context_fd_.get(), F_DUPFD_CLOEXEC, 0));
          }
          {
            UniqueFd r = open_or_throw(dirs.merged(), O_PATH | O_DIRECTORY);
            copy_into_root(r.get(), src.get(), plan);
          }
          src.reset();
          if (src_root) unmount_step_root(src_mount);
          unmount_step_root(dirs.merged());
          commit_step_upper(dirs, root, layers_, {});
        },
        true);
    return read_step_result(dirs, images_);
  });
}

BuildResult Builder::run() {
  df_ = build::parse_dockerfile(opts_.dockerfile_text, opts_.dockerfile_name);
  for (const auto& w : df_.warnings) warn(w);
  if (!df_.syntax.empty() && !opts_.quiet)
    note(fmt::format("{}: the syntax directive ({}) is ignored: skiff builds with its own frontend", df_.file_name,
                     df_.syntax));
  if (df_.stages.empty()) throw Error(fmt::format("{}: no FROM instruction: nothing to build", df_.file_name));
  image::Platform host = image::host_platform();
  if (!opts_.platform.empty()) {
    image::Platform want = image::parse_platform(opts_.platform);
    if (want.os != host.os || want.architecture != host.architecture)
      throw Error(fmt::format("--platform {}: only this machine's platform ({}) can be built", opts_.platform, host.str()));
  }

  // The global scope: the platform args, then the ARGs before the first FROM.
  for (const auto& [k, v] : build::platform_args(host, host)) meta_args_[k] = v;
  for (const auto& raw : df_.meta_args) {
    build::EnvLookup meta = meta_lookup();
    build::Instruction ex;
    try {
      ex = build::expand_instruction(raw, meta, df_.escape);
    } catch (const Error& e) {
      throw e.with_context(where(raw));
    }
    for (const auto& a : std::get<build::ArgInstruction>(ex.body).args) {
      std::optional<std::string> v = build_arg(a.name);
      if (!v) v = a.value;
      if (v) meta_args_[a.name] = *v;
    }
  }

  size_t target = df_.stages.size() - 1;
  if (!opts_.target.empty()) {
    std::string t = opts_.target;
    std::transform(t.begin(), t.end(), t.begin(), ::tolower);
    auto it = std::find_if(df_.stages.begin(), df_.stages.end(), [&](const build::Stage& st) { return st.name == t; });
    if (it == df_.stages.end()) throw Error(fmt::format("target stage {:?} could not be found", opts_.target));
    target = static_cast<size_t>(it - df_.stages.begin());
  }

  store::ensure_dirs(paths_);
  storage_ = layers_.storage();
  if (storage_.driver == Driver::kCopy)
    throw Error("skiff build needs an overlay file system (kernel overlay in a user namespace, or fuse-overlayfs), "
                "and this store uses the copy driver");
  make_dirs(paths_.tmp(), 0700);
  // What killed builds and commits left.
  for (const char* prefix : {"build-", "commit-", "diff-"})
    for (const auto& p : store::abandoned_entries(paths_.tmp(), prefix)) {
      try {
        layers_.remove_tree_as_owner(p);
      } catch (const Error&) {
        // left for the next build or skiff system reset
      }
    }
  work_ = paths_.tmp() / ("build-" + random_hex(12));
  make_dirs(work_, 0700);
  work_hold_ = store::hold_in_progress(work_);
  empty_dir_ = work_ / "empty";
  make_dirs(empty_dir_, 0755);
  if (!opts_.context.empty()) {
    context_fd_ = UniqueFd(::open(opts_.context.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!context_fd_) throw Error(fmt::format("build context {}", opts_.context), errno);
  }
  if (!opts_.ignore_text.empty()) ignore_ = build::DockerIgnore::parse(opts_.ignore_text, opts_.ignore_name);

  std::set<size_t> need = needed_stages(target);
  stages_total_ = need.size();
  for (size_t i : need) stage(i);
  StageState& s = built_.at(target);
  check_stop();

  for (const auto& [k, v] : opts_.labels) cfg(s)["Labels"][k] = v;
  s.config["created"] = s.created;
  image::ImageRecord rec = image::store_image(images_, s.layers, s.config, opts_.tags, s.size);
  std::string hex = image::digest_hex(rec.id);
  say(opts_.commit_name.empty() ? std::string("COMMIT") : fmt::format("COMMIT {}", opts_.commit_name));
  say(fmt::format("--> {}", hex.substr(0, 12)));
  for (const auto& t : opts_.tags) say(fmt::format("Successfully tagged {}", t));

  std::vector<std::string> unused;
  for (const auto& [k, v] : opts_.build_args)
    if (!used_args_.count(k) && !meta_args_.count(k)) unused.push_back(k);
  if (!unused.empty() && !opts_.quiet)
    warn(fmt::format("one or more build args were not consumed: {}", fmt::join(unused, ", ")));
  return {rec.id, opts_.tags};
}

}  // namespace

BuildResult build_image(const store::Paths& paths, const BuildOptions& opts) {
  sigset_t stops = stop_signals(), old;
  sigprocmask(SIG_BLOCK, &stops, &old);
  struct RestoreMask {
    sigset_t mask;
    ~RestoreMask() { sigprocmask(SIG_SETMASK, &mask, nullptr); }
  } restore{old};
  Builder b(paths, opts);
  auto cleanup = [&] {
    // Nothing of a build stays in tmp/, finished or failed.
    b.cleanup();
  };
  try {
    BuildResult r = b.run();
    cleanup();
    return r;
  } catch (...) {
    try {
      cleanup();
    } catch (const Error& e) {
      warn(fmt::format("could not clean up after the build: {}", e.what()));
    }
    throw;
  }
}

}  // namespace skiff::engine
