// Stages: FROM, each instruction in its step's scope, the metadata
// instructions (which change the image config), ONBUILD triggers, and which
// stages a target needs.
#include <algorithm>
#include <cctype>

#include "builder.hpp"
#include "skiff/build/dockerfile.hpp"
#include "skiff/engine/image_pull.hpp"
#include "skiff/engine/transfer_events.hpp"
#include "skiff/image/digest.hpp"
#include "skiff/image/image_store.hpp"
#include "skiff/image/manifest.hpp"
#include "skiff/util/error.hpp"

namespace skiff::build {

using nlohmann::json;

namespace {

std::vector<std::string> env_list(const StageState& s) {
  std::vector<std::string> out;
  if (auto it = s.config.find("config"); it != s.config.end() && it->contains("Env"))
    for (const auto& e : (*it)["Env"])
      if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

void set_env(StageState& s, const std::string& name, const std::string& value) {
  auto env = env_list(s);
  std::string kv = name + "=" + value;
  auto it =
      std::find_if(env.begin(), env.end(), [&](const std::string& e) { return e.substr(0, e.find('=')) == name; });
  if (it != env.end())
    *it = kv;
  else
    env.push_back(kv);
  cfg(s)["Env"] = env;
}

json exec_or_shell(const build::CommandLine& c, const std::vector<std::string>& shell) {
  if (c.json) return c.args;
  std::vector<std::string> out = shell;
  out.push_back(c.args.empty() ? std::string() : c.args[0]);
  return out;
}

int64_t to_ns(std::chrono::nanoseconds d) {
  return static_cast<int64_t>(d.count());
}

}  // namespace

json& cfg(StageState& s) {
  if (!s.config.contains("config") || !s.config["config"].is_object()) s.config["config"] = json::object();
  return s.config["config"];
}

std::optional<std::string> env_value(const StageState& s, std::string_view name) {
  for (const auto& e : env_list(s)) {
    size_t eq = e.find('=');
    if (e.compare(0, eq, name) == 0 && eq == name.size()) return e.substr(eq + 1);
  }
  return std::nullopt;
}

std::vector<std::string> stage_shell(const StageState& s) {
  if (auto it = s.config.find("config");
      it != s.config.end() && it->contains("Shell") && (*it)["Shell"].is_array() && !(*it)["Shell"].empty())
    return (*it)["Shell"].get<std::vector<std::string>>();
  return {"/bin/sh", "-c"};
}

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
  std::vector<size_t> pending{target};
  build::EnvLookup meta = meta_lookup();
  while (!pending.empty()) {
    size_t i = pending.back();
    pending.pop_back();
    if (!need.insert(i).second) continue;
    const auto& st = df_.stages[i];
    std::string base = st.base;
    try {
      base = build::expand_word(st.base, meta, {.escape = df_.escape});
    } catch (const Error&) {
    }
    if (auto dep = find_stage(base, i)) pending.push_back(*dep);
    for (const auto& in : st.instructions)
      if (const auto* c = std::get_if<build::CopyInstruction>(&in.body); c && !c->from.empty()) {
        std::string from = c->from;
        try {
          from = build::expand_word(c->from, meta, {.escape = df_.escape});
        } catch (const Error&) {
        }
        if (auto dep = find_stage(from, i)) pending.push_back(*dep);
      }
  }
  return need;
}

image::ImageContent Builder::image_for(const std::string& ref) {
  std::optional<image::ImageRecord> rec;
  if (opts_.pull == engine::PullPolicy::kMissing || opts_.pull == engine::PullPolicy::kNever) rec = images_.find(ref);
  if (!rec) {
    if (opts_.pull == engine::PullPolicy::kNever) throw Error(fmt::format("no such image: {} (and --pull=never)", ref));
    rec = engine::pull_image(paths_, ref, {.jobs = engine::default_transfer_jobs()}, events_.pulls()).record;
  }
  image::ImageContent content = images_.load(*rec);
  layers_.ensure(images_, content);
  return content;
}

StepRoot Builder::step_root(const StageState& s) const {
  StepRoot r;
  r.driver = storage_.driver;
  r.layers_dir = paths_.layers();
  for (auto it = s.layers.rbegin(); it != s.layers.rend(); ++it)
    r.lowers_top_first.push_back(layers_.layer_dir(it->diff_id));
  r.lowers_top_first.push_back(empty_dir_);
  return r;
}

void Builder::history(StageState& s, const std::string& created_by, bool empty) {
  json h{{"created", s.created}, {"created_by", created_by}};
  if (empty) h["empty_layer"] = true;
  if (!s.config.contains("history") || !s.config["history"].is_array()) s.config["history"] = json::array();
  s.config["history"].push_back(h);
}

void Builder::from(StageState& s, const build::Stage& st, size_t index) {
  build::Instruction fi;
  fi.keyword = "FROM";
  fi.line = st.line;
  fi.text = st.text;
  fi.body = build::FromInstruction{st.base, st.name, st.platform};
  build::Instruction ex = expand(fi, meta_lookup());
  const auto& f = std::get<build::FromInstruction>(ex.body);
  if (!f.platform.empty()) {
    image::Platform want = image::parse_platform(f.platform);
    if (want.str() != image::host_platform().str() && want.architecture != image::host_platform().architecture)
      throw Error(fmt::format("{}: FROM --platform={}: only this machine's platform ({}) can be built", where(fi),
                              f.platform, image::host_platform().str()));
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
    build::Instruction ex = expand(raw, lookup(s));
    for (const auto& a : std::get<build::ArgInstruction>(ex.body).args) {
      std::optional<std::string> v = build_arg(a.name);
      if (!v) v = a.value;
      if (!v)
        if (auto it = meta_args_.find(a.name); it != meta_args_.end()) v = it->second;
      if (v)
        s.args[a.name] = *v;
      else
        s.args.erase(a.name);
      s.key = hash_key({s.key, "ARG", a.name, v.value_or("\x01unset")});
    }
    return;
  }
  build::Instruction in = expand(raw, lookup(s));
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
          if (body.command.json && body.command.args.empty())
            cfg(s).erase("Entrypoint");
          else
            cfg(s)["Entrypoint"] = e;
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

}  // namespace skiff::build
