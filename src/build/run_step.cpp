// RUN: a container started through the ordinary runtime path on the
// step's overlay, its RUN --mount mounts, and what a user without
// subordinate ids needs for apt.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "builder.hpp"
#include "skiff/build/build_args.hpp"
#include "skiff/engine/container_run.hpp"
#include "skiff/engine/run_options_parse.hpp"
#include "skiff/image/digest.hpp"
#include "skiff/runtime/container_process.hpp"
#include "skiff/userns/userns.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"
#include "skiff/util/log.hpp"

namespace skiff::build {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string shell_created_by(const std::vector<std::string>& shell, const std::string& text) {
  std::string out;
  for (const auto& w : shell) out += w + " ";
  return out + text;
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

}  // namespace

void Builder::run_step(StageState& s, const build::Instruction& in, const build::RunInstruction& run) {
  if (run.security != "sandbox")
    throw Error(
        fmt::format("{}: RUN --security={} is not supported: steps always run sandboxed", where(in), run.security));
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
  engine::NetworkMode network = opts_.network;
  if (run.network != "default") {
    try {
      network = engine::parse_network_mode(run.network);
    } catch (const Error& e) {
      throw e.with_context(where(in));
    }
  }

  // ARGs are the step's environment, below ENV of the same name.
  std::vector<std::string> arg_env;
  for (const auto& [k, v] : s.args)
    if (!env_value(s, k)) arg_env.push_back(k + "=" + v);
  for (const auto& [k, v] : opts_.build_args)
    if (build::is_proxy_arg(k) && !s.args.count(k)) {
      used_args_.insert(k);
      arg_env.push_back(k + "=" + v);
    }
  std::vector<std::string> key_parts{s.key, "RUN", json(args).dump(), engine::network_mode_name(network),
                                     json(arg_env).dump()};
  // Bind mounts from the context are part of what the step sees; caches,
  // tmpfs and secrets are not (as in BuildKit).
  for (const auto& m : run.mounts) {
    key_parts.push_back(
        fmt::format("mount:{}:{}:{}:{}:{}", static_cast<int>(m.type), m.target, m.source, m.from, m.readonly));
    if (m.type == build::MountType::kBind && m.from.empty()) {
      if (!context_fd_) throw Error(fmt::format("{}: RUN --mount=type=bind needs a build context", where(in)));
      try {
        key_parts.push_back(hash_sources(context_fd_.get(), {storage::relative_in_root(m.source)}, &ignore_));
      } catch (const Error& e) {
        throw e.with_context(fmt::format("{}: RUN --mount source", where(in)));
      }
    }
  }
  std::string key = hash_key(key_parts);
  std::string created_by = "RUN " + (run.command.json ? json(args).dump() : shell_created_by(shell, line));

  add_layer_step(s, in, key, created_by, [&](const StepDirs& dirs) {
    StepRoot root = step_root(s);
    engine::RunOptions ro;
    ro.command = args;
    ro.entrypoint = "";
    ro.env = arg_env;
    ro.network = network;
    ro.remove = true;
    json config = cfg(s);
    std::vector<fs::path> top_first(root.lowers_top_first.begin(), root.lowers_top_first.end());
    engine::SpecInputs si;
    si.image_config = config;
    si.container_id = random_hex(64);
    si.host_network = network == engine::NetworkMode::kHost;
    si.rootfs = dirs.merged().string();
    engine::ImageUser picked = pick_user(ro, config, map_, top_first);
    si.user = picked.ids;
    si.home = picked.home;
    si.layers = root.layers(dirs.upper(), dirs.work(), true);
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
    runtime::Spec spec = engine::build_spec(ro, si);
    engine::apply_seccomp(paths_, ro, spec);
    if (!map_.full) {
      spec.mounts.push_back({std::string(kAptDir), "bind", (dirs.dir / "apt").string(), {"rbind", "ro"}});
      spec.fake_id_calls = true;
      if (!noted_single_map_ && !opts_.quiet) {
        noted_single_map_ = true;
        note(
            userns::no_ranges_note(": RUN steps see chown and setuid calls succeed without effect, and every "
                                   "file the build makes belongs to root"));
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

    // With -q, the step's output is kept and reported only if it fails.
    UniqueFd log;
    if (opts_.quiet) {
      log = open_or_throw(dirs.dir / "output", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      spec.stdout_fd = spec.stderr_fd = log.get();
    }
    int code = 0;
    {
      runtime::ContainerProcess proc = runtime::start_container(spec, map_, false);
      code = proc.wait(true);
      if (int sig = proc.interrupted_by()) throw interrupted(sig);
    }
    if (code != 0) {
      if (log) events_.failed_step_output(read_file(dirs.dir / "output"));
      std::string shown = run.command.json ? json(args).dump() : line;
      throw Error(fmt::format("RUN {}: the command exited with status {}", shown, code), 0, {}, 1);
    }
    userns::run_in_userns(map_, [&] { commit_step_upper(dirs, root, layers_, stubs); });
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
        if (m.required)
          throw Error(fmt::format("secret {:?} is required: give it with --secret id={},src=FILE", id, id));
        continue;
      }
      std::string content;
      if (!it->second.file.empty())
        content = read_file(it->second.file);
      else if (const char* v = getenv(it->second.env.c_str()))
        content = v;
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
        // The step sees a copy of the source taken from the context as the
        // build sees it (.dockerignore applied, symlinks resolved inside the
        // context): never a host path, and nothing of it reaches the host.
        // Writes of a read-write bind land in the copy and go with the step.
        fs::path copy = dirs.dir / fmt::format("bind-{}", n++);
        make_dirs(copy, 0700);
        fs::path src = copy_context_source(context_fd_.get(), m.source, &ignore_, copy);
        if (m.readonly)
          out.push_back({target, "bind", src.string(), {"rbind", "ro"}});
        else
          out.push_back({target, "bind", src.string(), {"rbind"}});
        break;
      }
      case build::MountType::kCache: {
        if (!m.from.empty()) throw Error("type=cache with from= is not supported yet");
        std::string id = m.id.empty() ? target : m.id;
        std::string hex = image::digest_hex(image::sha256_digest(id));
        fs::path dir = paths_.cache_mount(hex);
        if (access(dir.c_str(), F_OK) != 0) {
          make_dirs(dir.parent_path(), 0700);
          fs::path tmp = dir.string() + "." + random_hex(8);
          make_dirs(tmp, 0755);
          if (m.mode) chmod(tmp.c_str(), *m.mode);
          if (rename(tmp.c_str(), dir.c_str()) != 0) remove_tree(tmp);  // another build made it first
        }
        // locked: one step at a time; private is treated the same way.
        if (m.sharing && *m.sharing != build::CacheSharing::kShared) locks.emplace_back(paths_.cache_mount_lock(hex));
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

}  // namespace skiff::build
