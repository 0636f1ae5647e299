// skiff build as a whole: the Dockerfile parsed, the global scope, the
// target, the work dir in tmp/, the stages built and the image stored; and
// the signals that stop a build.
#include "skiff/build/image_build.hpp"

#include <fcntl.h>
#include <signal.h>

#include <algorithm>
#include <cctype>

#include "builder.hpp"
#include "skiff/build/build_args.hpp"
#include "skiff/build/dockerfile.hpp"
#include "skiff/build/dockerignore.hpp"
#include "skiff/image/digest.hpp"
#include "skiff/image/image_store.hpp"
#include "skiff/image/manifest.hpp"
#include "skiff/store/file_lock.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"
#include "skiff/util/log.hpp"

namespace skiff::build {

namespace {

// Signals that stop a build. They are blocked while it runs and looked at
// between steps (and during RUN, by the wait), so that a stopped build
// still cleans up after itself.
sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&set, sig);
  return set;
}

}  // namespace

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
      throw Error(
          fmt::format("--platform {}: only this machine's platform ({}) can be built", opts_.platform, host.str()));
  }

  // The global scope: the platform args, then the ARGs before the first FROM.
  for (const auto& [k, v] : build::platform_args(host, host)) meta_args_[k] = v;
  for (const auto& raw : df_.meta_args) {
    build::Instruction ex = expand(raw, meta_lookup());
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
  if (storage_.driver == storage::Driver::kCopy)
    throw Error(
        "skiff build needs an overlay file system (kernel overlay in a user namespace, or fuse-overlayfs), "
        "and this store uses the copy driver");
  make_dirs(paths_.tmp(), 0700);
  layers_.sweep_abandoned_work();  // what killed skiffs left
  store::HeldEntry work = store::hold_new_entry(paths_, "build", 0700);
  work_ = work.path;
  work_hold_ = std::move(work.fd);
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
  events_.committed(opts_.commit_name, hex.substr(0, 12), opts_.tags);

  std::vector<std::string> unused;
  for (const auto& [k, v] : opts_.build_args)
    if (!used_args_.count(k) && !meta_args_.count(k)) unused.push_back(k);
  if (!unused.empty() && !opts_.quiet)
    warn(fmt::format("one or more build args were not consumed: {}", fmt::join(unused, ", ")));
  return {rec.id, opts_.tags};
}

BuildResult build_image(const store::Paths& paths, const BuildOptions& opts, BuildEvents& events) {
  sigset_t stops = stop_signals(), old;
  sigprocmask(SIG_BLOCK, &stops, &old);
  struct RestoreMask {
    sigset_t mask;
    ~RestoreMask() { sigprocmask(SIG_SETMASK, &mask, nullptr); }
  } restore{old};
  Builder b(paths, opts, events);
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

}  // namespace skiff::build
